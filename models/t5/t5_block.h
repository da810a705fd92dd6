// T5Block: [self-attention, (cross-attention,) feed-forward] sublayers, each pre-norm with a residual.
// Registered as `layer.0`, `layer.1`, `layer.2` so parameter names equal Hugging Face's.
#pragma once

#include "models/t5/t5_attention.h"
#include "models/t5/t5_feed_forward.h"
#include "models/t5/t5_layer_norm.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

namespace sumlab {

// T5LayerSelfAttention ("SelfAttention") and T5LayerCrossAttention ("EncDecAttention").
class T5LayerAttentionImpl : public torch::nn::Module {
public:
    T5LayerAttentionImpl(const T5Config& config, bool is_decoder, bool is_cross, bool has_relative_attention_bias);
    // attention_weights: as T5AttentionImpl::forward's (optional, nullptr on every hot path).
    torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& key_value_states,
                          const torch::Tensor& position_bias, AttentionCache* cache,
                          torch::Tensor* attention_weights = nullptr);

    T5Attention attention{nullptr};
    T5LayerNorm layer_norm{nullptr};

private:
    double dropout_;
};
TORCH_MODULE(T5LayerAttention);

// Per-layer decoding state: self-attention keys/values grow each step, cross ones are computed once.
struct BlockCache {
    AttentionCache self_attention;
    AttentionCache cross_attention;
};

class T5BlockImpl : public torch::nn::Module {
public:
    T5BlockImpl(const T5Config& config, bool is_decoder, bool has_relative_attention_bias);

    // hidden: (b, l, d_model). encoder_hidden / encoder_bias only for decoder blocks.
    // cross_attention_weights (optional, decoder blocks): receives the cross-attention probabilities,
    // (b, heads, l, src_len), after the softmax and before dropout.
    torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& self_bias,
                          const torch::Tensor& encoder_hidden, const torch::Tensor& encoder_bias,
                          BlockCache* cache = nullptr, torch::Tensor* cross_attention_weights = nullptr);

    T5LayerAttention self_attention{nullptr};
    T5LayerAttention cross_attention{nullptr};  // decoder only
    T5LayerFF feed_forward{nullptr};

private:
    torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(T5Block);

}  // namespace sumlab
