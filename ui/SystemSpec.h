// SystemSpec: one system of the Compare and Evaluate pages -- a registered model, optionally with a LoRA
// adapter on top -- and GenerationSettings, the generation parameters those pages let the user edit, as plain
// Qt values that travel to the workers by value.
#pragma once

#include "models/t5/generation_config.h"

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

// The generation settings the pages let the user vary: the form's rows of sumlab::generation_settings() as
// {HF key: value}, applied over each model's generation_config.json. The lab generates with max_new_tokens=200.
struct GenerationSettings {
    nlohmann::json values = labDefaults();
    int maxSourceLength = 512;  // prompts are truncated to this many tokens (FLAN-T5's model_max_length)
    std::string dtype = "float32";  // or "bfloat16": the weights cast as model.to(torch.bfloat16) (engine/generation/system.h)
    std::string quantize = "none";  // or "int8": quantize_dynamic's scheme, float32 on the CPU only (engine/generation/system.h)

    static nlohmann::json labDefaults() {
        sumlab::GenerationConfig lab;
        lab.max_new_tokens = 200;
        return sumlab::generation_form_values(lab);
    }
    int maxNewTokens() const { return values.value("max_new_tokens", 200); }
    GenerationSettings& set(const std::string& key, const nlohmann::json& value) {
        values[key] = value;
        return *this;
    }
    // The model's settings with these on top (ConfigError for a value out of range).
    sumlab::GenerationConfig appliedTo(sumlab::GenerationConfig config) const {
        sumlab::apply_generation_settings(config, values, "generation settings");
        return config;
    }
    // "max_new_tokens=200, num_beams=1, no_repeat_ngram_size=0, repetition_penalty=1.0"
    QString describe() const {
        return QString::fromStdString(sumlab::describe_generation(values) + (dtype == "float32" ? "" : ", dtype=" + dtype) +
                                      (quantize == "none" ? "" : ", quantize=" + quantize));
    }
};
Q_DECLARE_METATYPE(GenerationSettings)
