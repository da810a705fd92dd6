// LongSpinBox: a spin box for 64-bit integers (QSpinBox stops at 2^31-1; training settings such as
// max_steps and seed go beyond). Text outside [minimum, maximum] is not accepted.
#pragma once

#include <QAbstractSpinBox>

class LongSpinBox : public QAbstractSpinBox {
    Q_OBJECT
public:
    explicit LongSpinBox(QWidget* parent = nullptr);

    qint64 value() const { return m_value; }
    qint64 minimum() const { return m_minimum; }
    qint64 maximum() const { return m_maximum; }
    void setRange(qint64 minimum, qint64 maximum);

    QValidator::State validate(QString& input, int& pos) const override;
    void fixup(QString& input) const override;
    void stepBy(int steps) override;
    QSize sizeHint() const override;

public slots:
    void setValue(qint64 value);

signals:
    void valueChanged(qint64 value);

protected:
    StepEnabled stepEnabled() const override;

private:
    void commitText();

    qint64 m_value = 0;
    qint64 m_minimum = 0;
    qint64 m_maximum = 99;
};
