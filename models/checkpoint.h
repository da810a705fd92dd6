// Model folders as Hugging Face writes them: config.json, generation_config.json and weights in
// model.safetensors, a sharded model.safetensors.index.json, or pytorch_model.bin(.index.json).
// Loading checks every key and shape against the config and names the file in every error.
#pragma once

#include "models/t5/t5_config.h"
#include "models/t5/t5_model.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sumlab {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct LoadedModel {
    std::string dir;
    T5Config config;
    GenerationConfig generation;
    T5ForConditionalGeneration model{nullptr};
    std::string weights_path;  // the file (or index) the weights came from
    std::string format;        // "safetensors", "safetensors-sharded", "pytorch", "pytorch-sharded"
};

// Which weights file a model folder holds (throws FileError when there is none).
std::pair<std::string, std::string> find_weights(const std::string& dir);

// Loads config, generation config and weights; the model is in eval mode on `device`.
// `dropout_rate` overrides config.json's (HF's from_pretrained(dir, dropout_rate=...)).
LoadedModel load_model(const std::string& dir, torch::Device device = torch::kCPU, std::optional<double> dropout_rate = std::nullopt);

// Copies `state` into the model's parameters: every model parameter must be present with the
// right shape; keys the model does not have are an error (aliases such as embed_tokens excepted).
void load_state(T5ForConditionalGenerationImpl& model, const NamedTensors& state, const std::string& path);

// The model's tensors under HF names, de-aliased as save_pretrained(safe_serialization=True) writes them.
NamedTensors state_dict(const T5ForConditionalGenerationImpl& model);

// Writes config.json, generation_config.json and model.safetensors (each atomically), the weights stored
// as `dtype` (float32, float16 or bfloat16: model.to(dtype).save_pretrained()) and config.json's
// torch_dtype saying so. Loading reads them back into fp32, as from_pretrained does without torch_dtype.
// Throws FileError when a weight does not fit the dtype (float16's range), before anything is written.
void save_model(const T5ForConditionalGenerationImpl& model, const GenerationConfig& generation, const std::string& dir,
                torch::ScalarType dtype = torch::kFloat32);

// HF's torch_dtype name of a dtype save_model writes ("float32", "float16", "bfloat16"); Error otherwise.
const char* torch_dtype_name(torch::ScalarType dtype);

// Copies spiece.model, tokenizer_config.json and special_tokens_map.json (those present) so `dst`
// is a complete model folder.
void copy_tokenizer_files(const std::string& src_dir, const std::string& dst_dir);

// Total number of parameters (shared counted once), as HF's num_parameters().
int64_t count_parameters(const torch::nn::Module& model, bool trainable_only = false);

}  // namespace sumlab
