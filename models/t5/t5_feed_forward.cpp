#include "models/t5/t5_feed_forward.h"
#include "models/t5/t5_dropout.h"

#include <torch/torch.h>

namespace sumlab {

T5DenseActDenseImpl::T5DenseActDenseImpl(const T5Config& config) : kind_(config.ff_kind()), dropout_(config.dropout_rate) {
    if (config.is_gated()) {
        wi_0 = register_module("wi_0", T5Linear(config.d_model, config.d_ff));
        wi_1 = register_module("wi_1", T5Linear(config.d_model, config.d_ff));
    } else {
        wi = register_module("wi", T5Linear(config.d_model, config.d_ff));
    }
    wo = register_module("wo", T5Linear(config.d_ff, config.d_model));
}

torch::Tensor T5DenseActDenseImpl::act(const torch::Tensor& x) const {
    switch (kind_) {
        case FeedForwardKind::gated_gelu: return torch::gelu(x, "tanh");  // HF gelu_new
        case FeedForwardKind::gelu: return torch::gelu(x);                // HF "gelu" (exact erf)
        case FeedForwardKind::gated_silu:
        case FeedForwardKind::silu: return torch::silu(x);
        case FeedForwardKind::relu:
        case FeedForwardKind::gated_relu: return torch::relu(x);
    }
    return x;
}

torch::Tensor T5DenseActDenseImpl::forward(const torch::Tensor& x) {
    torch::Tensor h = wi_0 ? act(wi_0->forward(x)) * wi_1->forward(x) : act(wi->forward(x));
    if (is_training() && dropout_ > 0.0) h = t5_dropout(h, dropout_, true);
    return wo->forward(h);
}

T5LayerFFImpl::T5LayerFFImpl(const T5Config& config) : dropout_(config.dropout_rate) {
    DenseReluDense = register_module("DenseReluDense", T5DenseActDense(config));
    layer_norm = register_module("layer_norm", T5LayerNorm(config.d_model, config.layer_norm_epsilon));
}

torch::Tensor T5LayerFFImpl::forward(const torch::Tensor& hidden) {
    auto y = DenseReluDense->forward(layer_norm->forward(hidden));
    if (is_training() && dropout_ > 0.0) y = t5_dropout(y, dropout_, true);
    return hidden + y;
}

}  // namespace sumlab
