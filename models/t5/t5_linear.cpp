#include "models/t5/t5_linear.h"
#include "models/t5/autocast.h"
#include "models/t5/quantized_linear.h"
#include "models/t5/t5_dropout.h"

#include <torch/torch.h>

#include <cmath>

namespace sumlab {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// y = x Wᵀ + s · (dropout(x) Aᵀ) Bᵀ as one autograd node. Autograd's own ops would keep the
// dropped-out input once per adapter (q and v read the same normed hidden state, and every
// decoder layer's cross-attention v reads the same encoder output) and spend separate passes on
// the scaling, the sum of the two paths and the sum of their input gradients; here the input is
// kept once, the dropout mask is regenerated from its seed, and the scaling rides on the small
// products (addmm's alpha). Same operations otherwise, so the same numbers up to rounding.
struct LoraLinearFunction : torch::autograd::Function<LoraLinearFunction> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                                 const torch::Tensor& lora_a, const torch::Tensor& lora_b, double scaling, double dropout) {
        const uint64_t seed = dropout > 0.0 ? draw_dropout_seed() : 0;
        auto flat = x.reshape({-1, x.size(-1)});
        auto dropped = dropout > 0.0 ? apply_dropout_mask(flat, seed, dropout) : flat;
        auto z = torch::mm(dropped, lora_a.t());  // (rows, r)
        auto y = torch::mm(flat, weight.t());
        y.addmm_(z, lora_b.t(), /*beta=*/1, /*alpha=*/scaling);
        ctx->save_for_backward({x, weight, lora_a, lora_b, z});
        save_dropout_seed(ctx, seed);
        ctx->saved_data["scaling"] = scaling;
        ctx->saved_data["dropout"] = dropout;
        auto sizes = x.sizes().vec();
        sizes.back() = weight.size(0);
        return y.view(sizes);
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        const auto &x = saved[0], &weight = saved[1], &lora_a = saved[2], &lora_b = saved[3], &z = saved[4];
        const uint64_t seed = saved_dropout_seed(ctx);
        const double scaling = ctx->saved_data["scaling"].toDouble();
        const double dropout = ctx->saved_data["dropout"].toDouble();
        auto flat = x.reshape({-1, x.size(-1)});
        auto g = grads[0].reshape({-1, weight.size(0)});

        auto grad_z = torch::mm(g, lora_b);  // d loss / d z, without the scaling
        torch::Tensor grad_x, grad_weight, grad_a, grad_b;
        if (ctx->needs_input_grad(3)) grad_b = torch::mm(g.t(), z).mul_(scaling);
        if (ctx->needs_input_grad(2)) {
            auto dropped = dropout > 0.0 ? apply_dropout_mask(flat, seed, dropout) : flat;
            grad_a = torch::mm(grad_z.t(), dropped).mul_(scaling);
        }
        if (ctx->needs_input_grad(0)) {
            grad_x = torch::mm(g, weight);
            if (dropout > 0.0) {
                add_dropout_mask(grad_x, torch::mm(grad_z, lora_a), seed, dropout, scaling);
            } else {
                grad_x.addmm_(grad_z, lora_a, /*beta=*/1, /*alpha=*/scaling);
            }
            grad_x = grad_x.view(x.sizes());
        }
        if (ctx->needs_input_grad(1)) grad_weight = torch::mm(g.t(), flat);
        return {grad_x, grad_weight, grad_a, grad_b, torch::Tensor(), torch::Tensor()};
    }
};

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
    if (quantized_) return quantized_->forward(x);
    if (!lora_A.defined()) return torch::linear(x, weight);
    const bool train_dropout = is_training() && lora_dropout_ > 0.0;
    // Under autocast the plain ops below follow PEFT exactly: base and adapter products in bf16, added in bf16.
    if (x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && x.dim() >= 2 && torch::GradMode::is_enabled() &&
        !autocast_enabled(x.device().type()))
        return LoraLinearFunction::apply(x, weight, lora_A, lora_B, lora_scaling_, train_dropout ? lora_dropout_ : 0.0);
    auto y = torch::linear(x, weight);
    auto h = x;
    if (is_training() && lora_dropout_ > 0.0) h = t5_dropout(h, lora_dropout_, true);
    return y + torch::linear(torch::linear(h, lora_A), lora_B) * lora_scaling_;
}

void T5LinearImpl::set_quantized(std::shared_ptr<const QuantizedLinear> q) {
    if (q && has_lora()) throw std::logic_error("T5Linear: merge the LoRA adapter before quantizing");
    quantized_ = std::move(q);
}

void T5LinearImpl::add_lora(int64_t r, double lora_alpha, double lora_dropout) {
    if (quantized_) throw std::logic_error("T5Linear: a LoRA adapter cannot be added to an int8 layer");
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
