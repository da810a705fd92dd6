#include "ui/ScientificSpinBox.h"

#include <QLineEdit>
#include <QLocale>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>

ScientificSpinBox::ScientificSpinBox(QWidget* parent) : QDoubleSpinBox(parent) {
    setDecimals(15);  // the value is kept to 1e-15; the text shows what matters
    setKeyboardTracking(true);
}

QValidator::State ScientificSpinBox::validate(QString& input, int& pos) const {
    Q_UNUSED(pos);
    const QString t = input.trimmed();
    if (t.isEmpty()) return QValidator::Intermediate;
    static const QRegularExpression partial(QStringLiteral(R"(^[+-]?(\d+\.?\d*|\.\d*)?([eE][+-]?\d*)?$)"));
    if (!partial.match(t).hasMatch()) return QValidator::Invalid;
    bool ok = false;
    const double v = QLocale::c().toDouble(t, &ok);
    if (!ok) return QValidator::Intermediate;  // "1e", "-", "."
    if (v < minimum() || v > maximum()) return QValidator::Intermediate;
    return QValidator::Acceptable;
}

double ScientificSpinBox::valueFromText(const QString& text) const { return QLocale::c().toDouble(text.trimmed()); }

QString ScientificSpinBox::textFromValue(double value) const { return QString::number(value, 'g', 10); }

QSize ScientificSpinBox::sizeHint() const {
    QSize hint = QDoubleSpinBox::sizeHint();
    hint.setWidth(std::max(hint.width(), fontMetrics().horizontalAdvance(QStringLiteral("0.000000001")) + 40));
    return hint;
}

QSize ScientificSpinBox::minimumSizeHint() const {
    QSize hint = QDoubleSpinBox::minimumSizeHint();
    hint.setWidth(std::max(hint.width(), fontMetrics().horizontalAdvance(QStringLiteral("0.0001")) + 40));
    return hint;
}

void ScientificSpinBox::fixup(QString& input) const { input = textFromValue(value()); }

void ScientificSpinBox::stepBy(int steps) {
    double v = value();
    for (int i = 0; i < std::abs(steps); ++i) {
        const bool up = steps > 0;
        if (v == 0) {
            v = up ? std::min(maximum(), maximum() >= 1 ? 0.01 : maximum() / 100) : 0;
            continue;
        }
        const double magnitude = std::abs(v);
        double decade = std::pow(10.0, std::floor(std::log10(magnitude) + 1e-9));
        // Stepping down from an exact power of ten goes to the next decade: 1e-3 -> 9e-4.
        if (!up && std::abs(magnitude - decade) < decade * 1e-9) decade /= 10;
        v += (up == (v > 0) ? decade : -decade);
        v = std::round(v / decade) * decade;  // keep 3e-4, not 3.0000000000000003e-4
    }
    setValue(std::clamp(v, minimum(), maximum()));
    selectAll();
}
