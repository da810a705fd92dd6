#include "models/t5/t5_linear.h"
#include "models/t5/t5_dropout.h"

#include <torch/torch.h>

#include <cmath>

namespace sumlab {

namespace {
// A parameter holder so the adapter's tensors are named `lora_A.weight`, as PEFT names them.
struct WeightOnly : torch::nn::Module {
    explicit WeightOnly(torch::Tensor w) { weight = register_parameter("weight", std::move(w)); }
    torch::Tensor weight;
};
}  // namespace

T5LinearImpl::T5LinearImpl(int64_t in_features, int64_t out_features) {
    weight = register_parameter("weight", torch::empty({out_features, in_features}));
    // HF's _init_weights draws N(0, factor * fan-dependent std); a loaded checkpoint overwrites it.
    torch::NoGradGuard no_grad;
    weight.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(in_features)));
}

torch::Tensor T5LinearImpl::forward(const torch::Tensor& x) {
    auto y = torch::linear(x, weight);
    if (!lora_A.defined()) return y;
    auto h = x;
    if (is_training() && lora_dropout_ > 0.0) h = t5_dropout(h, lora_dropout_, true);
    return y + torch::linear(torch::linear(h, lora_A), lora_B) * lora_scaling_;
}

void T5LinearImpl::add_lora(int64_t r, double lora_alpha, double lora_dropout) {
    remove_lora();
    auto opts = weight.options().requires_grad(true);
    auto a = torch::empty({r, in_features()}, opts);
    {
        torch::NoGradGuard no_grad;
        // nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)) -> bound = 1/sqrt(fan_in).
        double bound = 1.0 / std::sqrt(static_cast<double>(in_features()));
        a.uniform_(-bound, bound);
    }
    auto b = torch::zeros({out_features(), r}, opts);
    lora_A_module_ = register_module("lora_A", std::make_shared<WeightOnly>(a));
    lora_B_module_ = register_module("lora_B", std::make_shared<WeightOnly>(b));
    lora_A = static_cast<WeightOnly&>(*lora_A_module_).weight;
    lora_B = static_cast<WeightOnly&>(*lora_B_module_).weight;
    lora_scaling_ = lora_alpha / static_cast<double>(r);
    lora_dropout_ = lora_dropout;
}

void T5LinearImpl::merge_lora() {
    if (!has_lora()) return;
    {
        torch::NoGradGuard no_grad;
        weight.add_(torch::matmul(lora_B, lora_A) * lora_scaling_);
    }
    remove_lora();
}

void T5LinearImpl::remove_lora() {
    if (!has_lora()) return;
    unregister_module("lora_A");
    unregister_module("lora_B");
    lora_A_module_.reset();
    lora_B_module_.reset();
    lora_A = torch::Tensor();
    lora_B = torch::Tensor();
    lora_scaling_ = 0.0;
}

}  // namespace sumlab
