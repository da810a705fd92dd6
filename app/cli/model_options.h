// Options shared by the subcommands that run a model: --model, --device, generation flags,
// source/target lengths. Names follow Hugging Face (max_new_tokens -> --max-new-tokens).
#pragma once

#include "models/checkpoint.h"
#include "models/t5/t5_config.h"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace sumlab::cli {

struct ModelOptions {
    std::string model;
    std::string adapter;  // a PEFT LoRA adapter folder applied on top of the model
    std::string device = "cpu";
    int64_t max_source_length = 512;
    int64_t max_target_length = 128;
    int64_t batch_size = 8;

    void add_to(CLI::App& cmd, bool with_target_length);
    // The model on the chosen device with the adapter attached (when given), in eval mode.
    LoadedModel load() const;
};

// Generation flags; unset ones keep the model's generation_config.json and then HF's defaults.
struct GenerationOptions {
    std::optional<int64_t> max_new_tokens, min_new_tokens, num_beams, no_repeat_ngram_size;
    std::optional<double> length_penalty, repetition_penalty;
    bool early_stopping = false;

    void add_to(CLI::App& cmd);
    void apply(GenerationConfig& config) const;
};

}  // namespace sumlab::cli
