// T5Attention: multi-head attention with T5's relative position bias and no 1/sqrt(d_kv) scaling.
// Self-attention and cross-attention share it; only block 0 of each stack owns the bias table,
// and the stack passes the computed bias (plus the mask) to every block.
#pragma once

#include "models/t5/t5_config.h"
#include "models/t5/t5_linear.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>

namespace sumlab {

// Keys and values kept between decoding steps for one attention layer.
struct AttentionCache {
    torch::Tensor key;    // (batch, heads, cached_len, d_kv)
    torch::Tensor value;  // (batch, heads, cached_len, d_kv)
};

class T5AttentionImpl : public torch::nn::Module {
public:
    T5AttentionImpl(const T5Config& config, bool is_decoder, bool has_relative_attention_bias);

    // hidden: (batch, q_len, d_model); key_value_states: encoder output for cross-attention, else undefined.
    // position_bias: (1 or batch, heads, q_len, k_len), already including the additive mask.
    // cache (optional): self-attention appends this step's keys/values; cross-attention fills it once
    // and reuses it.
    // attention_weights (optional, for inspection): receives the attention probabilities after the softmax
    // and before dropout, (batch, heads, q_len, k_len), each row summing to 1 over the keys. Asking for them
    // keeps a training forward off the fused node (same numbers, more memory); nullptr changes nothing.
    torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& key_value_states,
                          const torch::Tensor& position_bias, AttentionCache* cache = nullptr,
                          torch::Tensor* attention_weights = nullptr);

    // The relative position bias for query positions [q_offset, q_offset + q_len) against keys
    // [0, k_len): (1, heads, q_len, k_len). Only valid on a layer that owns the bias table.
    torch::Tensor compute_bias(int64_t q_len, int64_t k_len, int64_t q_offset = 0) const;

    // HF's _relative_position_bucket, elementwise on a tensor of (key - query) distances.
    static torch::Tensor relative_position_bucket(const torch::Tensor& relative_position, bool bidirectional,
                                                  int64_t num_buckets, int64_t max_distance);

    bool has_relative_attention_bias() const { return !relative_attention_bias.is_empty(); }

    T5Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr};  // q,k,v: (inner, d_model); o: (d_model, inner)
    torch::nn::Embedding relative_attention_bias{nullptr};     // (num_buckets, heads), block 0 only

private:
    torch::Tensor shape_heads(const torch::Tensor& x) const;  // (b, l, inner) -> (b, heads, l, d_kv)

    bool is_decoder_;
    int64_t n_heads_, d_kv_, inner_dim_;
    int64_t num_buckets_, max_distance_;
    double dropout_;
};
TORCH_MODULE(T5Attention);

}  // namespace sumlab
