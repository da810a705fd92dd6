// ScientificSpinBox: a double spin box that shows and accepts scientific notation (1e-5, 3e-4) and steps
// by the value's own decade (3e-4 -> 4e-4, 1e-3 -> 2e-3), for learning rates, epsilons and the like.
#pragma once

#include <QDoubleSpinBox>

class ScientificSpinBox : public QDoubleSpinBox {
    Q_OBJECT
public:
    explicit ScientificSpinBox(QWidget* parent = nullptr);

    QValidator::State validate(QString& input, int& pos) const override;
    double valueFromText(const QString& text) const override;
    QString textFromValue(double value) const override;
    void fixup(QString& input) const override;
    void stepBy(int steps) override;
    // Wide enough for values such as 0.000000001 and 1e-08.
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
};
