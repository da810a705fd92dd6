#include "models/t5/t5_attention.h"

#include "models/t5/autocast.h"
#include "models/t5/t5_dropout.h"

#include <ATen/ExpandUtils.h>
#include <torch/torch.h>

#include <cmath>

namespace sumlab {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

torch::Tensor attention_probs(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& bias) {
    auto scores = torch::matmul(query, key.transpose(-1, -2));  // no 1/sqrt(d_kv) in T5
    // HF adds the bias in place (`scores += position_bias`), so under autocast the bf16 scores stay bf16.
    if (bias.defined()) scores = (scores + bias).to(scores.scalar_type());
    return torch::softmax(scores.to(torch::kFloat32), -1).to(scores.scalar_type());
}

// dropout(softmax(q kᵀ + bias)) v for training as one autograd node. Autograd's own ops keep two
// (b, heads, q_len, k_len) maps per layer, the softmax output and its dropped-out copy for the
// product with v (2 × 12.6 MB per encoder layer of flan-t5-small at batch 8 × 256), the largest
// activations of a step. This node keeps the softmax output once and regenerates the dropout mask
// from its seed in backward. (Keeping no map and recomputing the softmax in backward saved another
// ~130 MB of a LoRA step but cost ~0.2 s of its ~2.5 s: docs/BENCHMARKS.md.) Same operations as the
// plain path, so the same numbers.
struct AttentionCore : torch::autograd::Function<AttentionCore> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& query, const torch::Tensor& key,
                                 const torch::Tensor& value, const torch::Tensor& bias, double dropout) {
        const uint64_t seed = dropout > 0.0 ? draw_dropout_seed() : 0;
        auto probs = attention_probs(query, key, bias);
        auto kept = dropout > 0.0 ? apply_dropout_mask(probs, seed, dropout) : probs;
        ctx->save_for_backward({query, key, value, bias, probs});
        save_dropout_seed(ctx, seed);
        ctx->saved_data["dropout"] = dropout;
        return torch::matmul(kept, value);
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        const auto &query = saved[0], &key = saved[1], &value = saved[2], &bias = saved[3], &probs = saved[4];
        const uint64_t seed = saved_dropout_seed(ctx);
        const double dropout = ctx->saved_data["dropout"].toDouble();
        const auto& grad_out = grads[0];

        torch::Tensor grad_value;
        if (ctx->needs_input_grad(2)) {
            auto kept = dropout > 0.0 ? apply_dropout_mask(probs, seed, dropout) : probs;
            grad_value = torch::matmul(kept.transpose(-1, -2), grad_out);
        }
        torch::Tensor grad_query, grad_key, grad_bias;
        if (ctx->needs_input_grad(0) || ctx->needs_input_grad(1) || ctx->needs_input_grad(3)) {
            auto grad_probs = torch::matmul(grad_out, value.transpose(-1, -2));
            if (dropout > 0.0) grad_probs = apply_dropout_mask(grad_probs, seed, dropout);
            auto grad_scores = at::_softmax_backward_data(grad_probs, probs, -1, probs.scalar_type());
            if (ctx->needs_input_grad(0)) grad_query = torch::matmul(grad_scores, key);
            if (ctx->needs_input_grad(1)) grad_key = torch::matmul(grad_scores.transpose(-1, -2), query);
            if (ctx->needs_input_grad(3)) grad_bias = at::sum_to(grad_scores, bias.sizes());
        }
        return {grad_query, grad_key, grad_value, grad_bias, torch::Tensor()};
    }
};

}  // namespace

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
                                       const torch::Tensor& position_bias, AttentionCache* cache,
                                       torch::Tensor* attention_weights) {
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

    torch::Tensor out;  // (b, h, q_len, d_kv)
    const bool needs_grad = torch::GradMode::is_enabled() &&
                            (query.requires_grad() || key.requires_grad() || value.requires_grad() ||
                             (position_bias.defined() && position_bias.requires_grad()));
    // The fused node pays where activations are most of the memory: with frozen projections (LoRA),
    // not in full fine-tuning, whose peak is gradients and AdamW's moments and whose speed is the point.
    const bool fused = needs_grad && !attention_weights && !q->weight.requires_grad() && query.device().is_cpu() &&
                       query.scalar_type() == torch::kFloat32 && !autocast_enabled(query.device().type());
    if (fused) {
        out = AttentionCore::apply(query, key, value, position_bias, is_training() ? dropout_ : 0.0);
    } else {
        auto weights = attention_probs(query, key, position_bias);  // (b, h, q_len, k_len)
        if (attention_weights) *attention_weights = weights;
        if (is_training() && dropout_ > 0.0) weights = t5_dropout(weights, dropout_, true);
        out = torch::matmul(weights, value);
    }
    out = out.transpose(1, 2).reshape({batch, q_len, inner_dim_});
    return o->forward(out);
}

}  // namespace sumlab
