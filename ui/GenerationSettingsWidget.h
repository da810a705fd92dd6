// GenerationSettingsWidget: the generation settings of the Compare and Evaluate pages, edited in place
// (max_new_tokens, num_beams, no_repeat_ngram_size, repetition_penalty), each named as Hugging Face names it.
#pragma once

#include "ui/SystemSpec.h"

#include <QWidget>

class QDoubleSpinBox;
class QSpinBox;

class GenerationSettingsWidget : public QWidget {
    Q_OBJECT
public:
    // `prefix` keeps object names unique when two pages each hold one ("compare" -> "compareMaxNewTokensSpin").
    explicit GenerationSettingsWidget(const QString& prefix, QWidget* parent = nullptr);

    GenerationSettings settings() const;
    void setSettings(const GenerationSettings& settings);

signals:
    void changed();

private:
    QSpinBox* m_maxNewTokens = nullptr;
    QSpinBox* m_numBeams = nullptr;
    QSpinBox* m_noRepeat = nullptr;
    QDoubleSpinBox* m_repetitionPenalty = nullptr;
};
