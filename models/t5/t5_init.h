// A T5 trained from scratch starts here: weights drawn as transformers 4.28's
// T5PreTrainedModel._init_weights draws them (Mesh TensorFlow's scheme), and a fresh model folder
// written atomically (config.json, generation_config.json, model.safetensors in fp32, tokenizer files).
// The random streams are LibTorch's CPU generator seeded once, not torch's Python ones: the
// distributions are HF's, the draws are not.
//
//     T5InitSpec spec{config_path, tokenizer_dir, facts_from_the_tokenizer, output_dir, seed};
//     T5InitResult r = create_initialized_model(spec);
#pragma once

#include "models/t5/t5_config.h"
#include "models/t5/t5_model.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace sumlab {

// How _init_weights sets one parameter: normal(0, value) or every element = value.
struct T5InitRule {
    enum class Kind { normal, fill };
    Kind kind = Kind::normal;
    double value = 0.0;
};

// The rule for a parameter under its HF name ("decoder.block.0.layer.1.EncDecAttention.k.weight"), with
// factor = config.json's initializer_factor. Throws std::invalid_argument for a name T5 does not have.
// From modeling_t5.py (4.28) _init_weights:
//   shared, lm_head (untied only; drawn with the same std): factor * 1.0
//   q: factor * (d_model * d_kv)^-0.5    k, v: factor * d_model^-0.5    o: factor * (num_heads * d_kv)^-0.5
//   relative_attention_bias: factor * d_model^-0.5
//   wi, wi_0, wi_1: factor * d_model^-0.5    wo: factor * d_ff^-0.5
//   layer_norm, final_layer_norm: filled with factor * 1.0
T5InitRule t5_init_rule(const std::string& name, const T5Config& config, double factor = 1.0);

// Sets every parameter of `model` by its rule, drawing in named_parameters() order from one CPU
// generator seeded with `seed`: the same seed gives the same weights. The model must be on the CPU.
void init_t5_weights(T5ForConditionalGenerationImpl& model, uint64_t seed, double factor = 1.0);

// config.json's initializer_factor (HF's default 1.0 when absent), which must be a positive finite number;
// ConfigError naming `path` and the key otherwise.
double read_initializer_factor(const nlohmann::json& config, const std::string& path);

// What the tokenizer the model will use reports (the caller loads it: models/ has no tokenizer).
struct TokenizerFacts {
    std::string path;        // its spiece.model, for messages
    int64_t vocab_size = 0;  // SentencePiece pieces + extra ids (HF's len(tokenizer))
    int64_t pad_id = 0;
    int64_t eos_id = 1;
};

struct T5InitSpec {
    std::string config_path;    // a config.json; any shape T5Config::from_file accepts
    std::string tokenizer_dir;  // its spiece.model, tokenizer_config.json, special_tokens_map.json are copied
    TokenizerFacts tokenizer;
    std::string output_dir;     // must not exist, or be an empty folder
    uint64_t seed = 42;
};

struct T5InitResult {
    T5Config config;
    double initializer_factor = 1.0;
    int64_t parameters = 0;  // as HF's num_parameters()
};

// Validates the config against the tokenizer (ConfigError naming config_path: vocab_size must cover
// every token, pad and eos ids must agree), refuses an output_dir that exists and is not an empty
// folder (FileError naming it), initialises a model and publishes the folder whole: everything is
// written into a temporary sibling folder that is renamed to output_dir at the end, so output_dir
// never holds a partial model.
T5InitResult create_initialized_model(const T5InitSpec& spec);

}  // namespace sumlab
