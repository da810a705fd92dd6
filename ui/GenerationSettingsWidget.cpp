#include "ui/GenerationSettingsWidget.h"

#include "ui/Accessible.h"

#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>

namespace {
QByteArray controlName(const QString& prefix, const char* name) { return (prefix + QString::fromLatin1(name)).toLatin1(); }
}  // namespace

GenerationSettingsWidget::GenerationSettingsWidget(const QString& prefix, QWidget* parent) : QWidget(parent) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto add = [&](const QString& text, QWidget* field) {
        auto* label = new QLabel(text, this);
        label->setBuddy(field);
        layout->addWidget(label);
        layout->addWidget(field);
    };
    m_maxNewTokens = new QSpinBox(this);
    m_maxNewTokens->setRange(1, 2048);
    Accessible::describe(m_maxNewTokens, controlName(prefix, "MaxNewTokensSpin").constData(), tr("max_new_tokens"),
                         tr("max_new_tokens: the most tokens a summary may have (the lab uses 200)"));
    add(tr("max_new_to&kens"), m_maxNewTokens);
    m_numBeams = new QSpinBox(this);
    m_numBeams->setRange(1, 16);
    Accessible::describe(m_numBeams, controlName(prefix, "NumBeamsSpin").constData(), tr("num_beams"),
                         tr("num_beams: 1 is greedy search; more keeps that many hypotheses (beam search)"));
    add(tr("num_&beams"), m_numBeams);
    m_noRepeat = new QSpinBox(this);
    m_noRepeat->setRange(0, 10);
    m_noRepeat->setSpecialValueText(tr("off"));
    Accessible::describe(m_noRepeat, controlName(prefix, "NoRepeatNgramSpin").constData(), tr("no_repeat_ngram_size"),
                         tr("no_repeat_ngram_size: forbid repeating any n-gram of this size (0 = off)"));
    add(tr("no_repeat_ngram_si&ze"), m_noRepeat);
    m_repetitionPenalty = new QDoubleSpinBox(this);
    m_repetitionPenalty->setRange(0.5, 5.0);
    m_repetitionPenalty->setSingleStep(0.05);
    m_repetitionPenalty->setDecimals(2);
    Accessible::describe(m_repetitionPenalty, controlName(prefix, "RepetitionPenaltySpin").constData(), tr("repetition_penalty"),
                         tr("repetition_penalty: above 1 discourages tokens already generated (1 = off)"));
    add(tr("repetition_pena&lty"), m_repetitionPenalty);
    layout->addStretch(1);
    setSettings(GenerationSettings{});
    for (QSpinBox* spin : {m_maxNewTokens, m_numBeams, m_noRepeat}) connect(spin, &QSpinBox::valueChanged, this, &GenerationSettingsWidget::changed);
    connect(m_repetitionPenalty, &QDoubleSpinBox::valueChanged, this, &GenerationSettingsWidget::changed);
}

GenerationSettings GenerationSettingsWidget::settings() const {
    GenerationSettings s;
    s.maxNewTokens = m_maxNewTokens->value();
    s.numBeams = m_numBeams->value();
    s.noRepeatNgramSize = m_noRepeat->value();
    s.repetitionPenalty = m_repetitionPenalty->value();
    return s;
}

void GenerationSettingsWidget::setSettings(const GenerationSettings& s) {
    m_maxNewTokens->setValue(s.maxNewTokens);
    m_numBeams->setValue(s.numBeams);
    m_noRepeat->setValue(s.noRepeatNgramSize);
    m_repetitionPenalty->setValue(s.repetitionPenalty);
}
