// T5Config: the fields of a Hugging Face T5 / T5 v1.1 / FLAN-T5 config.json that change the maths.
// Field names are HF's JSON keys. GenerationConfig (generation_config.json) is in generation_config.h.
#pragma once

#include "models/t5/generation_config.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace sumlab {

enum class FeedForwardKind { relu, gated_gelu, gated_silu, gated_relu, gelu, silu };

struct T5Config {
    int64_t vocab_size = 32128;                    // HF default; FLAN-T5 pads the 32100 tokens to 32128
    int64_t d_model = 512;                         // hidden size
    int64_t d_kv = 64;                             // per-head size; heads * d_kv may differ from d_model
    int64_t d_ff = 2048;                           // feed-forward inner size
    int64_t num_layers = 6;                        // encoder blocks
    int64_t num_decoder_layers = 6;                // decoder blocks (HF: defaults to num_layers)
    int64_t num_heads = 8;
    int64_t relative_attention_num_buckets = 32;
    int64_t relative_attention_max_distance = 128;
    double dropout_rate = 0.1;                     // every dropout in the model (HF: one rate)
    double layer_norm_epsilon = 1e-6;
    std::string feed_forward_proj = "relu";        // "relu" (T5) or "gated-gelu" (v1.1 / FLAN-T5)
    bool tie_word_embeddings = true;               // T5: true (and rescale by d_model^-0.5); FLAN-T5: false
    int64_t pad_token_id = 0;
    int64_t eos_token_id = 1;
    int64_t decoder_start_token_id = 0;
    std::string torch_dtype = "float32";           // informational: the stored weights' dtype

    FeedForwardKind ff_kind() const;
    bool is_gated() const;
    int64_t inner_dim() const { return num_heads * d_kv; }

    // Parses and validates; `path` names the file in ConfigError messages.
    static T5Config from_json(const nlohmann::json& j, const std::string& path);
    static T5Config from_file(const std::string& path);
    // The config.json HF writes (with model_type, architectures and the fields above).
    nlohmann::json to_json() const;
};


}  // namespace sumlab
