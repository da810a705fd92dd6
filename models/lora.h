// LoRA as PEFT defines it: r, lora_alpha, lora_dropout, target_modules (default q and v), bias "none".
// Adapters attach in place to the T5Linear layers named in target_modules, and are saved and
// loaded as PEFT's adapter_config.json + adapter_model.safetensors with PEFT's key names
// (base_model.model.<HF parameter path>.lora_A.weight).
#pragma once

#include "models/t5/t5_model.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace sumlab {

struct LoraConfig {
    int64_t r = 8;                                      // PEFT default 8; the lab uses 32
    double lora_alpha = 8;                              // PEFT default 8; scaling = lora_alpha / r
    double lora_dropout = 0.0;                          // PEFT default 0.0; the lab uses 0.05
    std::vector<std::string> target_modules{"q", "v"};  // any of q,k,v,o,wi,wi_0,wi_1,wo
    std::string bias = "none";                          // only "none" is supported, as in the lab
    std::string base_model_name_or_path;                // informational, as PEFT writes it

    void validate(const std::string& where) const;
    nlohmann::json to_json() const;  // PEFT 0.6.2's adapter_config.json fields
    static LoraConfig from_json(const nlohmann::json& j, const std::string& path);
    // Reads and validates adapter_config.json; FileError or ConfigError name the file.
    static LoraConfig from_file(const std::string& path);
};

// Attaches fresh adapters (A kaiming-uniform, B zero) to every targeted linear layer and freezes
// every other parameter. Throws ConfigError when a target matches no layer of this model.
void apply_lora(T5ForConditionalGenerationImpl& model, const LoraConfig& config);

// The adapter tensors under PEFT's file names: base_model.model.<path>.lora_A.weight, ...
std::vector<std::pair<std::string, torch::Tensor>> lora_state_dict(const T5ForConditionalGenerationImpl& model);

// Writes adapter_config.json and adapter_model.safetensors (atomically).
void save_adapter(const T5ForConditionalGenerationImpl& model, const LoraConfig& config, const std::string& dir);

// Reads a PEFT adapter folder, attaches it to `model` and loads its weights. Errors name the
// file: missing keys, shapes that do not fit (an adapter for another base model), unknown targets.
LoraConfig load_adapter(T5ForConditionalGenerationImpl& model, const std::string& dir);

// Folds every adapter into its base weight and removes it (PEFT's merge_and_unload).
void merge_lora(T5ForConditionalGenerationImpl& model);

struct TrainableReport {
    int64_t trainable = 0;
    int64_t all = 0;
    double percent() const { return all ? 100.0 * static_cast<double>(trainable) / static_cast<double>(all) : 0.0; }
    // "trainable params: 3,538,944 || all params: 251,116,800 || trainable%: 1.4092820552029972"
    std::string peft_text() const;
};
TrainableReport trainable_parameters(const T5ForConditionalGenerationImpl& model);

}  // namespace sumlab
