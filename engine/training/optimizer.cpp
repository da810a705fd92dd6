#include "engine/training/optimizer.h"

#include "base/errors.h"

#include <torch/torch.h>

#include <cmath>
#include <map>

namespace sumlab {

TrainableParameters trainable_parameters_of(const torch::nn::Module& module) {
    TrainableParameters t;
    for (const auto& p : module.named_parameters())
        if (p.value().requires_grad()) {
            t.named.emplace_back(p.key(), p.value());
            t.tensors.push_back(p.value());
        }
    return t;
}

bool decays(const std::string& name) {
    if (name.find("bias") != std::string::npos) return false;  // HF's substring rule (also relative_attention_bias)
    auto ends_with = [&](const std::string& suffix) {
        return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return !(ends_with("layer_norm.weight") || ends_with("final_layer_norm.weight"));
}

AdamW::AdamW(std::vector<std::pair<std::string, torch::Tensor>> trainable, const TrainingArguments& args)
    : beta1_(args.adam_beta1), beta2_(args.adam_beta2), eps_(args.adam_epsilon), weight_decay_(args.weight_decay) {
    for (auto& [name, p] : trainable) params_.push_back({name, p, decays(name), {}, {}});
}

void AdamW::zero_grad() {
    for (auto& p : params_) {
        auto& g = p.param.mutable_grad();
        if (g.defined()) g.zero_();
    }
}

void AdamW::step(double lr) {
    torch::NoGradGuard no_grad;
    ++step_;
    const double bias_correction1 = 1.0 - std::pow(beta1_, static_cast<double>(step_));
    const double bias_correction2 = 1.0 - std::pow(beta2_, static_cast<double>(step_));
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    for (auto& p : params_) {
        const auto& grad = p.param.grad();
        if (!grad.defined()) continue;
        if (!p.exp_avg.defined()) {
            p.exp_avg = torch::zeros_like(p.param);
            p.exp_avg_sq = torch::zeros_like(p.param);
        }
        if (p.decay && weight_decay_ != 0.0) p.param.mul_(1.0 - lr * weight_decay_);
        p.exp_avg.mul_(beta1_).add_(grad, 1.0 - beta1_);
        p.exp_avg_sq.mul_(beta2_).addcmul_(grad, grad, 1.0 - beta2_);
        auto denom = (p.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps_);
        p.param.addcdiv_(p.exp_avg, denom, -step_size);
    }
}

std::vector<std::pair<std::string, torch::Tensor>> AdamW::state_tensors() const {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : params_) {
        if (!p.exp_avg.defined()) continue;
        out.emplace_back("exp_avg." + p.name, p.exp_avg);
        out.emplace_back("exp_avg_sq." + p.name, p.exp_avg_sq);
    }
    return out;
}

void AdamW::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, int64_t step, const std::string& path) {
    std::map<std::string, torch::Tensor> by_name(tensors.begin(), tensors.end());
    for (auto& p : params_) {
        auto a = by_name.find("exp_avg." + p.name), b = by_name.find("exp_avg_sq." + p.name);
        if (a == by_name.end() || b == by_name.end()) {
            if (step > 0) throw FileError(path, "optimizer state lacks " + p.name);
            continue;
        }
        if (a->second.sizes() != p.param.sizes() || b->second.sizes() != p.param.sizes())
            throw FileError(path, "optimizer state for " + p.name + " has the wrong shape");
        p.exp_avg = a->second.to(p.param.device(), p.param.scalar_type()).clone();
        p.exp_avg_sq = b->second.to(p.param.device(), p.param.scalar_type()).clone();
    }
    step_ = step;
}

double schedule_factor(SchedulerType type, int64_t step, int64_t warmup, int64_t total) {
    if (type == SchedulerType::constant) return 1.0;
    if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
    if (type == SchedulerType::linear)
        return std::max(0.0, static_cast<double>(total - step) / static_cast<double>(std::max<int64_t>(1, total - warmup)));
    double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
    return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * 0.5 * 2.0 * progress)));
}

double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> norms;
    for (const auto& p : params)
        if (p.grad().defined()) norms.push_back(p.grad().norm(2));
    if (norms.empty()) return 0.0;
    auto total = torch::stack(norms).norm(2);
    double total_norm = total.item<double>();
    if (max_norm > 0.0) {
        auto coef = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, 1.0);
        for (const auto& p : params)
            if (p.grad().defined()) p.grad().mul_(coef);
    }
    return total_norm;
}

}  // namespace sumlab
