#include "models/t5/t5_block.h"
#include "models/t5/t5_dropout.h"

#include <torch/torch.h>

namespace sumlab {

T5LayerAttentionImpl::T5LayerAttentionImpl(const T5Config& config, bool is_decoder, bool is_cross,
                                           bool has_relative_attention_bias)
    : dropout_(config.dropout_rate) {
    attention = register_module(is_cross ? "EncDecAttention" : "SelfAttention",
                                T5Attention(config, is_decoder, has_relative_attention_bias));
    layer_norm = register_module("layer_norm", T5LayerNorm(config.d_model, config.layer_norm_epsilon));
}

torch::Tensor T5LayerAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& key_value_states,
                                            const torch::Tensor& position_bias, AttentionCache* cache,
                                            torch::Tensor* attention_weights) {
    auto y = attention->forward(layer_norm->forward(hidden), key_value_states, position_bias, cache, attention_weights);
    if (is_training() && dropout_ > 0.0) y = t5_dropout(y, dropout_, true);
    return hidden + y;
}

T5BlockImpl::T5BlockImpl(const T5Config& config, bool is_decoder, bool has_relative_attention_bias) {
    layer = register_module("layer", torch::nn::ModuleList());
    self_attention = T5LayerAttention(config, is_decoder, /*is_cross=*/false, has_relative_attention_bias);
    layer->push_back(self_attention);
    if (is_decoder) {
        cross_attention = T5LayerAttention(config, is_decoder, /*is_cross=*/true, false);
        layer->push_back(cross_attention);
    }
    feed_forward = T5LayerFF(config);
    layer->push_back(feed_forward);
}

torch::Tensor T5BlockImpl::forward(const torch::Tensor& hidden, const torch::Tensor& self_bias,
                                   const torch::Tensor& encoder_hidden, const torch::Tensor& encoder_bias,
                                   BlockCache* cache, torch::Tensor* cross_attention_weights) {
    auto h = self_attention->forward(hidden, torch::Tensor(), self_bias, cache ? &cache->self_attention : nullptr);
    if (cross_attention)
        h = cross_attention->forward(h, encoder_hidden, encoder_bias, cache ? &cache->cross_attention : nullptr, cross_attention_weights);
    return feed_forward->forward(h);
}

}  // namespace sumlab
