// A system of the lab -- a model folder, optionally with a PEFT LoRA adapter on top -- loaded once, the same
// way for `generate`, `loss`, `evaluate`, `merge`, the Compare page and the Evaluate page.
#pragma once

#include "engine/tokenizer.h"
#include "models/checkpoint.h"

#include <string>

namespace sumlab {

struct SystemSource {
    std::string model_dir;    // a HF model folder, with its tokenizer
    std::string adapter_dir;  // a PEFT adapter folder, or empty
    std::string device = "cpu";
};

struct LoadedSystem {
    LoadedModel model;             // the adapter attached (unmerged), in eval mode
    T5Tokenizer tokenizer;         // the model folder's
    GenerationConfig generation;   // config.json, then generation_config.json (HF's order)
};

// "cpu", "cuda", "cuda:N": ConfigError(where, ...) for anything else, or for CUDA in a LibTorch without it.
torch::Device parse_device(const std::string& text, const std::string& where = "device");

// Loads model, adapter and tokenizer; errors name the file and the problem.
LoadedSystem load_system(const SystemSource& source);

}  // namespace sumlab
