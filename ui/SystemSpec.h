// SystemSpec: one system of the Compare and Evaluate pages -- a registered model, optionally with a LoRA
// adapter on top -- and GenerationSettings, the generation parameters those pages let the user edit, as plain
// Qt values that travel to the workers by value.
#pragma once

#include <QMetaType>
#include <QString>
#include <QVector>

struct SystemSpec {
    QString label;       // what the page shows: "original (tiny-flan)"
    QString column;      // the results-CSV system name without "_summaries": "original_model"
    QString modelDir;    // the (base) model folder, with its tokenizer
    QString adapterDir;  // a PEFT adapter folder, or empty

    bool isValid() const { return !modelDir.isEmpty(); }
    bool operator==(const SystemSpec& o) const {
        return label == o.label && column == o.column && modelDir == o.modelDir && adapterDir == o.adapterDir;
    }
};
Q_DECLARE_METATYPE(SystemSpec)

// The generation settings the lab varies (Hugging Face names); the lab generates with max_new_tokens=200.
struct GenerationSettings {
    int maxNewTokens = 200;         // max_new_tokens
    int numBeams = 1;               // num_beams: 1 = greedy search
    int noRepeatNgramSize = 0;      // no_repeat_ngram_size: 0 = off
    double repetitionPenalty = 1.0; // repetition_penalty: 1 = off
    int maxSourceLength = 512;      // prompts are truncated to this many tokens (FLAN-T5's model_max_length)

    // "max_new_tokens=200, num_beams=1, no_repeat_ngram_size=0, repetition_penalty=1"
    QString describe() const {
        return QStringLiteral("max_new_tokens=%1, num_beams=%2, no_repeat_ngram_size=%3, repetition_penalty=%4")
            .arg(maxNewTokens)
            .arg(numBeams)
            .arg(noRepeatNgramSize)
            .arg(repetitionPenalty);
    }
};
Q_DECLARE_METATYPE(GenerationSettings)
