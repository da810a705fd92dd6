#include "ui/LongSpinBox.h"

#include <QLineEdit>

#include <algorithm>

LongSpinBox::LongSpinBox(QWidget* parent) : QAbstractSpinBox(parent) {
    lineEdit()->setText(QString::number(m_value));
    connect(this, &QAbstractSpinBox::editingFinished, this, &LongSpinBox::commitText);
    connect(lineEdit(), &QLineEdit::textChanged, this, [this](const QString& text) {
        bool ok = false;
        const qint64 v = text.trimmed().toLongLong(&ok);
        if (ok && v >= m_minimum && v <= m_maximum && v != m_value) {
            m_value = v;
            emit valueChanged(v);
        }
    });
}

void LongSpinBox::setRange(qint64 minimum, qint64 maximum) {
    m_minimum = minimum;
    m_maximum = std::max(minimum, maximum);
    setValue(std::clamp(m_value, m_minimum, m_maximum));
    updateGeometry();
}

void LongSpinBox::setValue(qint64 value) {
    value = std::clamp(value, m_minimum, m_maximum);
    lineEdit()->setText(QString::number(value));
    if (value == m_value) return;
    m_value = value;
    emit valueChanged(value);
}

QValidator::State LongSpinBox::validate(QString& input, int& pos) const {
    Q_UNUSED(pos);
    const QString t = input.trimmed();
    if (t.isEmpty() || (t == QLatin1String("-") && m_minimum < 0)) return QValidator::Intermediate;
    bool ok = false;
    const qint64 v = t.toLongLong(&ok);
    if (!ok) return QValidator::Invalid;
    if (v > m_maximum && v > 0) return QValidator::Invalid;
    if (v < m_minimum) return v < 0 && m_minimum >= 0 ? QValidator::Invalid : QValidator::Intermediate;
    return QValidator::Acceptable;
}

void LongSpinBox::fixup(QString& input) const { input = QString::number(m_value); }

void LongSpinBox::commitText() {
    bool ok = false;
    const qint64 v = lineEdit()->text().trimmed().toLongLong(&ok);
    setValue(ok ? v : m_value);
}

void LongSpinBox::stepBy(int steps) {
    commitText();
    const qint64 target = m_value + steps;
    setValue(steps > 0 && target < m_value ? m_maximum : target);  // no wrap-around at the top
    selectAll();
}

QAbstractSpinBox::StepEnabled LongSpinBox::stepEnabled() const {
    StepEnabled e = StepNone;
    if (m_value > m_minimum) e |= StepDownEnabled;
    if (m_value < m_maximum) e |= StepUpEnabled;
    return e;
}

QSize LongSpinBox::sizeHint() const {
    QSize hint = QAbstractSpinBox::sizeHint();
    const int digits = std::max(QString::number(m_minimum).size(), std::min<qsizetype>(QString::number(m_maximum).size(), 14));
    hint.setWidth(std::max(hint.width(), fontMetrics().horizontalAdvance(QString(digits + 1, '9')) + 40));
    return hint;
}
