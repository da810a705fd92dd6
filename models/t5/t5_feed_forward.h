// T5's feed-forward sublayer: T5DenseActDense (relu: wo(act(wi x))) or T5DenseGatedActDense
// (gated-gelu: wo(gelu_new(wi_0 x) * wi_1 x)), wrapped by T5LayerFF (pre-norm, residual).
#pragma once

#include "models/t5/t5_config.h"
#include "models/t5/t5_layer_norm.h"
#include "models/t5/t5_linear.h"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace sumlab {

class T5DenseActDenseImpl : public torch::nn::Module {
public:
    explicit T5DenseActDenseImpl(const T5Config& config);
    torch::Tensor forward(const torch::Tensor& x);  // (b, l, d_model) -> (b, l, d_model)

    T5Linear wi{nullptr}, wi_0{nullptr}, wi_1{nullptr}, wo{nullptr};  // wi or wi_0/wi_1: (d_ff, d_model); wo: (d_model, d_ff)

private:
    torch::Tensor act(const torch::Tensor& x) const;
    FeedForwardKind kind_;
    double dropout_;
};
TORCH_MODULE(T5DenseActDense);

class T5LayerFFImpl : public torch::nn::Module {
public:
    explicit T5LayerFFImpl(const T5Config& config);
    torch::Tensor forward(const torch::Tensor& hidden);

    T5DenseActDense DenseReluDense{nullptr};
    T5LayerNorm layer_norm{nullptr};

private:
    double dropout_;
};
TORCH_MODULE(T5LayerFF);

}  // namespace sumlab
