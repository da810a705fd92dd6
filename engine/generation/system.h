// A system of the lab -- a model folder, optionally with a PEFT LoRA adapter on top -- loaded once, the same
// way for `generate`, `loss`, `evaluate`, `merge`, the Compare page and the Evaluate page.
#pragma once

#include "engine/text/tokenizer.h"
#include "models/checkpoint.h"

#include <string>
#include <vector>

namespace sumlab {

struct SystemSource {
    std::string model_dir;    // a HF model folder, with its tokenizer
    std::string adapter_dir;  // a PEFT adapter folder, or empty
    std::string device = "cpu";
    // "float32" (exact to transformers in fp32) or "bfloat16": every weight cast, adapter included, as
    // model.to(torch.bfloat16) does; layer norms' variance, softmax and the logits stay fp32.
    std::string dtype = "float32";
    // "none" or "int8": every linear layer (lm_head too) per-channel int8 with dynamically quantised activations,
    // as torch's quantize_dynamic (models/t5/quantized_linear.h); CPU and float32 only. An adapter is merged first.
    std::string quantize = "none";
};

struct LoadedSystem {
    LoadedModel model;             // the adapter attached (unmerged; merged under int8), in eval mode
    T5Tokenizer tokenizer;         // the model folder's
    GenerationConfig generation;   // config.json, then generation_config.json (HF's order)
};

// "cpu", "cuda", "cuda:N": ConfigError(where, ...) for anything else, or for CUDA in a LibTorch without it.
torch::Device parse_device(const std::string& text, const std::string& where = "device");

// "float32" / "bfloat16" (HF's torch_dtype names) as a ScalarType; ConfigError(where, ...) for anything else.
torch::ScalarType parse_dtype(const std::string& text, const std::string& where = "dtype");
const std::vector<std::string>& dtype_names();
// (Whether bfloat16 runs fast here: engine/runtime/system_info.h, cpu_has_bf16_units().)

// ConfigError(where, ...) unless `quantize` is one of quantization_names() and fits the device and dtype (int8:
// cpu and float32 only, in a LibTorch with a quantized engine).
void check_quantize(const std::string& quantize, const std::string& device, const std::string& dtype,
                    const std::string& where = "quantize");

// Loads model, adapter and tokenizer; errors name the file and the problem.
LoadedSystem load_system(const SystemSource& source);

// The generation settings load_system would return for this model folder (config.json, then
// generation_config.json: HF's order), without loading any weights: for checking and recording a run's
// settings before the model is needed.
GenerationConfig system_generation_config(const std::string& model_dir);

}  // namespace sumlab
