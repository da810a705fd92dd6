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

Optimizer::Optimizer(std::vector<std::pair<std::string, torch::Tensor>> trainable, const TrainingArguments& args)
    : type_(args.optim), beta1_(args.adam_beta1), beta2_(args.adam_beta2), eps_(args.adam_epsilon), weight_decay_(args.weight_decay),
      scale_parameter_(args.adafactor_scale_parameter) {
    for (auto& [name, p] : trainable) params_.push_back({name, p, decays(name), {}, {}, {}, {}});
}

void Optimizer::zero_grad() {
    for (auto& p : params_) {
        auto& g = p.param.mutable_grad();
        if (g.defined()) g.zero_();
    }
}

void Optimizer::step(double lr) {
    torch::NoGradGuard no_grad;
    ++step_;
    for (auto& p : params_) {
        const auto& grad = p.param.grad();
        if (!grad.defined()) continue;
        if (type_ == OptimizerType::adafactor)
            adafactor_update(p, grad, lr);
        else
            adamw_update(p, grad, lr);
    }
}

void Optimizer::adamw_update(OptimizerParam& p, const torch::Tensor& grad, double lr) {
    const double bias_correction1 = 1.0 - std::pow(beta1_, static_cast<double>(step_));
    const double bias_correction2_sqrt = std::sqrt(1.0 - std::pow(beta2_, static_cast<double>(step_)));
    if (!p.exp_avg.defined()) {
        p.exp_avg = torch::zeros_like(p.param);
        p.exp_avg_sq = torch::zeros_like(p.param);
    }
    if (p.decay && weight_decay_ != 0.0) p.param.mul_(1.0 - lr * weight_decay_);
    p.exp_avg.mul_(beta1_).add_(grad, 1.0 - beta1_);
    p.exp_avg_sq.mul_(beta2_).addcmul_(grad, grad, 1.0 - beta2_);
    auto denom = (p.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps_);
    p.param.addcdiv_(p.exp_avg, denom, -lr / bias_correction1);
}

void Optimizer::adafactor_update(OptimizerParam& p, const torch::Tensor& grad, double lr) {
    constexpr double eps1 = 1e-30, eps2 = 1e-3, clip_threshold = 1.0, decay_rate = -0.8;
    const bool factored = p.param.dim() >= 2;
    if (!p.exp_avg_sq_row.defined() && !p.exp_avg_sq.defined()) {
        if (factored) {
            p.exp_avg_sq_row = torch::zeros(grad.sizes().slice(0, grad.dim() - 1), grad.options());
            auto col = grad.sizes().vec();
            col.erase(col.end() - 2);
            p.exp_avg_sq_col = torch::zeros(col, grad.options());
        } else {
            p.exp_avg_sq = torch::zeros_like(grad);
        }
    }
    auto rms = [](const torch::Tensor& t) { return t.norm(2) / std::sqrt(static_cast<double>(t.numel())); };
    // The step size: lr, times the tensor's RMS before this update where scale_parameter is on.
    torch::Tensor step_size = torch::full({}, lr, grad.options());
    if (scale_parameter_) step_size = torch::clamp_min(rms(p.param), eps2) * lr;
    const double beta2t = 1.0 - std::pow(static_cast<double>(step_), decay_rate);
    torch::Tensor update = grad * grad + eps1;
    if (factored) {
        p.exp_avg_sq_row.mul_(beta2t).add_(update.mean(-1), 1.0 - beta2t);
        p.exp_avg_sq_col.mul_(beta2t).add_(update.mean(-2), 1.0 - beta2t);
        auto r = (p.exp_avg_sq_row / p.exp_avg_sq_row.mean(-1, true)).rsqrt_().unsqueeze(-1);
        auto c = p.exp_avg_sq_col.unsqueeze(-2).rsqrt();
        update = (r * c).mul_(grad);
    } else {
        p.exp_avg_sq.mul_(beta2t).add_(update, 1.0 - beta2t);
        update = p.exp_avg_sq.rsqrt().mul_(grad);
    }
    update.div_((rms(update) / clip_threshold).clamp_(1.0));
    update.mul_(step_size);
    if (p.decay && weight_decay_ != 0.0) p.param.add_(p.param * (step_size * -weight_decay_));
    p.param.sub_(update);
}

std::vector<std::pair<std::string, torch::Tensor>> Optimizer::state_tensors(bool zeros_for_missing) const {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    auto add = [&](const std::string& key, const OptimizerParam& p, const torch::Tensor& t, std::vector<int64_t> shape) {
        if (t.defined())
            out.emplace_back(key + "." + p.name, t);
        else if (zeros_for_missing)
            out.emplace_back(key + "." + p.name, torch::zeros(shape, p.param.options()));
    };
    for (const auto& p : params_) {
        auto shape = p.param.sizes().vec();
        if (type_ == OptimizerType::adamw_torch) {
            add("exp_avg", p, p.exp_avg, shape);
            add("exp_avg_sq", p, p.exp_avg_sq, shape);
        } else if (p.param.dim() >= 2) {
            std::vector<int64_t> row(shape.begin(), shape.end() - 1), col = shape;
            col.erase(col.end() - 2);
            add("exp_avg_sq_row", p, p.exp_avg_sq_row, row);
            add("exp_avg_sq_col", p, p.exp_avg_sq_col, col);
        } else {
            add("exp_avg_sq", p, p.exp_avg_sq, shape);
        }
    }
    return out;
}

void Optimizer::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, int64_t step, const std::string& path) {
    std::map<std::string, torch::Tensor> by_name(tensors.begin(), tensors.end());
    // The expected names and shapes are those this optimizer would write: a checkpoint of the other
    // optimizer lacks them and is refused by name.
    std::map<std::string, torch::Tensor> expected;
    for (auto& [key, t] : state_tensors(true)) expected.emplace(key, t);
    for (auto& p : params_) {
        std::vector<std::string> keys;
        if (type_ == OptimizerType::adamw_torch)
            keys = {"exp_avg", "exp_avg_sq"};
        else if (p.param.dim() >= 2)
            keys = {"exp_avg_sq_row", "exp_avg_sq_col"};
        else
            keys = {"exp_avg_sq"};
        std::vector<torch::Tensor*> slots;
        for (const auto& k : keys)
            slots.push_back(k == "exp_avg" ? &p.exp_avg : k == "exp_avg_sq" ? &p.exp_avg_sq : k == "exp_avg_sq_row" ? &p.exp_avg_sq_row : &p.exp_avg_sq_col);
        bool missing = false;
        for (const auto& k : keys) missing = missing || !by_name.count(k + "." + p.name);
        if (missing) {
            if (step > 0)
                throw FileError(path, "optimizer state lacks " + keys.front() + "." + p.name + " (a checkpoint of another optimizer than " +
                                          to_string(type_) + "?)");
            continue;
        }
        for (size_t i = 0; i < keys.size(); ++i) {
            const std::string key = keys[i] + "." + p.name;
            const auto& t = by_name.at(key);
            if (t.sizes() != expected.at(key).sizes()) throw FileError(path, "optimizer state for " + p.name + " has the wrong shape");
            *slots[i] = t.to(p.param.device(), p.param.scalar_type()).clone();
        }
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
