// T5LayerNorm: RMS norm without mean subtraction or bias, variance in fp32 (HF T5LayerNorm).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace sumlab {

class T5LayerNormImpl : public torch::nn::Module {
public:
    T5LayerNormImpl(int64_t d_model, double eps) : eps_(eps) {
        weight = register_parameter("weight", torch::ones({d_model}));
    }

    // x: (..., d_model)
    torch::Tensor forward(const torch::Tensor& x) {
        auto variance = x.to(torch::kFloat32).pow(2).mean(-1, /*keepdim=*/true);
        auto normed = x * torch::rsqrt(variance + eps_);
        return weight * normed.to(weight.scalar_type());
    }

    torch::Tensor weight;  // (d_model)

private:
    double eps_;
};
TORCH_MODULE(T5LayerNorm);

}  // namespace sumlab
