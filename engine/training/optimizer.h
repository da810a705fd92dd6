// AdamW as torch.optim.AdamW (torch 1.13, single-tensor): decoupled weight decay p *= 1 - lr*wd,
// bias-corrected moments; parameter groups by the HF Trainer's rule (no decay for biases and
// layer norms, which by that name rule also exempts relative_attention_bias). The learning-rate
// schedule (linear / constant / cosine, with warm-up) is HF's get_scheduler.
#pragma once

#include "engine/training/training_arguments.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace sumlab {

struct OptimizerParam {
    std::string name;
    torch::Tensor param;
    bool decay = true;
    torch::Tensor exp_avg, exp_avg_sq;  // created on the first step
};

// What an optimizer updates: the parameters that require a gradient, by name (for AdamW and checkpoints)
// and as a plain list (for gradient clipping).
struct TrainableParameters {
    std::vector<std::pair<std::string, torch::Tensor>> named;
    std::vector<torch::Tensor> tensors;
};
TrainableParameters trainable_parameters_of(const torch::nn::Module& module);

class AdamW {
public:
    AdamW(std::vector<std::pair<std::string, torch::Tensor>> trainable, const TrainingArguments& args);

    // One update with learning rate `lr` (the schedule's value for this step); step_count advances.
    void step(double lr);
    void zero_grad();
    int64_t step_count() const { return step_; }
    const std::vector<OptimizerParam>& params() const { return params_; }

    // exp_avg.<name> / exp_avg_sq.<name> tensors for a checkpoint, and back.
    std::vector<std::pair<std::string, torch::Tensor>> state_tensors() const;
    void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, int64_t step, const std::string& path);

private:
    std::vector<OptimizerParam> params_;
    double beta1_, beta2_, eps_, weight_decay_;
    int64_t step_ = 0;
};

// HF Trainer's no-decay rule: names containing "bias" and the weights of T5 layer norms.
bool decays(const std::string& parameter_name);

// The learning rate multiplier at optimizer step `step` (0-based) of `total` (HF's lr_lambda).
double schedule_factor(SchedulerType type, int64_t step, int64_t warmup_steps, int64_t total_steps);

// clip_grad_norm_: returns the total 2-norm before clipping; scales gradients to max_norm when above.
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace sumlab
