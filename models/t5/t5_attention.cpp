#include "models/t5/t5_attention.h"
#include "models/t5/t5_dropout.h"

#include <torch/torch.h>

#include <cmath>

namespace sumlab {

T5AttentionImpl::T5AttentionImpl(const T5Config& config, bool is_decoder, bool has_relative_attention_bias)
    : is_decoder_(is_decoder),
      n_heads_(config.num_heads),
      d_kv_(config.d_kv),
      inner_dim_(config.inner_dim()),
      num_buckets_(config.relative_attention_num_buckets),
      max_distance_(config.relative_attention_max_distance),
      dropout_(config.dropout_rate) {
    q = register_module("q", T5Linear(config.d_model, inner_dim_));
    k = register_module("k", T5Linear(config.d_model, inner_dim_));
    v = register_module("v", T5Linear(config.d_model, inner_dim_));
    o = register_module("o", T5Linear(inner_dim_, config.d_model));
    if (has_relative_attention_bias)
        relative_attention_bias = register_module("relative_attention_bias", torch::nn::Embedding(num_buckets_, n_heads_));
}

torch::Tensor T5AttentionImpl::relative_position_bucket(const torch::Tensor& relative_position, bool bidirectional,
                                                        int64_t num_buckets, int64_t max_distance) {
    auto rel = relative_position;
    auto buckets = torch::zeros_like(rel);
    if (bidirectional) {
        num_buckets /= 2;
        buckets = buckets + (rel > 0).to(torch::kLong) * num_buckets;
        rel = rel.abs();
    } else {
        rel = -torch::min(rel, torch::zeros_like(rel));
    }
    int64_t max_exact = num_buckets / 2;
    auto is_small = rel < max_exact;
    // Same float32 operations as HF so bucket boundaries land on the same integers.
    auto if_large = max_exact + (torch::log(rel.to(torch::kFloat32) / static_cast<double>(max_exact)) /
                                 std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)) *
                                 static_cast<double>(num_buckets - max_exact))
                                    .to(torch::kLong);
    if_large = torch::min(if_large, torch::full_like(if_large, num_buckets - 1));
    return buckets + torch::where(is_small, rel, if_large);
}

torch::Tensor T5AttentionImpl::compute_bias(int64_t q_len, int64_t k_len, int64_t q_offset) const {
    auto device = relative_attention_bias->weight.device();
    auto opts = torch::TensorOptions().dtype(torch::kLong).device(device);
    auto context = torch::arange(q_offset, q_offset + q_len, opts).unsqueeze(1);
    auto memory = torch::arange(k_len, opts).unsqueeze(0);
    auto bucket = relative_position_bucket(memory - context, /*bidirectional=*/!is_decoder_, num_buckets_, max_distance_);
    auto values = torch::embedding(relative_attention_bias->weight, bucket);  // (q_len, k_len, heads)
    return values.permute({2, 0, 1}).unsqueeze(0);            // (1, heads, q_len, k_len)
}

torch::Tensor T5AttentionImpl::shape_heads(const torch::Tensor& x) const {
    return x.view({x.size(0), x.size(1), n_heads_, d_kv_}).transpose(1, 2);
}

torch::Tensor T5AttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& key_value_states,
                                       const torch::Tensor& position_bias, AttentionCache* cache) {
    const int64_t batch = hidden.size(0), q_len = hidden.size(1);
    const bool is_cross = key_value_states.defined();

    auto query = shape_heads(q->forward(hidden));  // (b, h, q_len, d_kv)
    torch::Tensor key, value;
    if (is_cross) {
        if (cache && cache->key.defined()) {
            key = cache->key;
            value = cache->value;
        } else {
            key = shape_heads(k->forward(key_value_states));
            value = shape_heads(v->forward(key_value_states));
            // A transposed view would make matmul copy the whole cache again at every decoding step.
            if (cache) {
                key = key.contiguous();
                value = value.contiguous();
                *cache = {key, value};
            }
        }
    } else {
        key = shape_heads(k->forward(hidden));
        value = shape_heads(v->forward(hidden));
        if (cache) {
            if (cache->key.defined()) {
                key = torch::cat({cache->key, key}, 2);
                value = torch::cat({cache->value, value}, 2);
            }
            *cache = {key, value};
        }
    }

    auto scores = torch::matmul(query, key.transpose(-1, -2));  // (b, h, q_len, k_len); no 1/sqrt(d_kv) in T5
    if (position_bias.defined()) scores = scores + position_bias;
    auto weights = torch::softmax(scores.to(torch::kFloat32), -1).to(scores.scalar_type());
    if (is_training() && dropout_ > 0.0) weights = t5_dropout(weights, dropout_, true);
    auto out = torch::matmul(weights, value);                   // (b, h, q_len, d_kv)
    out = out.transpose(1, 2).reshape({batch, q_len, inner_dim_});
    return o->forward(out);
}

}  // namespace sumlab
