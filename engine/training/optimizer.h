// The optimizers of HF's `optim` setting:
// - adamw_torch: torch.optim.AdamW (torch 1.13, single-tensor): decoupled weight decay p *= 1 - lr*wd,
//   bias-corrected moments;
// - adafactor: transformers 4.28's Adafactor as the Trainer builds it (beta1 None, eps (1e-30, 1e-3),
//   clip_threshold 1, decay_rate -0.8, relative_step False; scale_parameter from the settings): second
//   moments factored into row and column means for matrices, the update clipped to RMS 1.
// Parameter groups follow the HF Trainer's rule (no decay for biases and layer norms, which by that
// name rule also exempts relative_attention_bias). The learning-rate schedule (linear / constant /
// cosine, with warm-up) is HF's get_scheduler, for both.
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
    // Created on the first step. AdamW: exp_avg, exp_avg_sq. Adafactor: exp_avg_sq_row and
    // exp_avg_sq_col for tensors of 2 or more dimensions, exp_avg_sq for the others.
    torch::Tensor exp_avg, exp_avg_sq, exp_avg_sq_row, exp_avg_sq_col;
};

// What an optimizer updates: the parameters that require a gradient, by name (for the optimizer and
// checkpoints) and as a plain list (for gradient clipping).
struct TrainableParameters {
    std::vector<std::pair<std::string, torch::Tensor>> named;
    std::vector<torch::Tensor> tensors;
};
TrainableParameters trainable_parameters_of(const torch::nn::Module& module);

class Optimizer {
public:
    Optimizer(std::vector<std::pair<std::string, torch::Tensor>> trainable, const TrainingArguments& args);

    // One update with learning rate `lr` (the schedule's value for this step); step_count advances.
    void step(double lr);
    void zero_grad();
    int64_t step_count() const { return step_; }
    OptimizerType type() const { return type_; }
    const std::vector<OptimizerParam>& params() const { return params_; }

    // The state as named tensors for a checkpoint (exp_avg.<name>, exp_avg_sq.<name>, or for
    // Adafactor's matrices exp_avg_sq_row.<name> / exp_avg_sq_col.<name>), and back. With
    // zeros_for_missing, state not created yet comes as zeros of its shape (for broadcasting).
    std::vector<std::pair<std::string, torch::Tensor>> state_tensors(bool zeros_for_missing = false) const;
    void load_state(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, int64_t step, const std::string& path);

private:
    void adamw_update(OptimizerParam& p, const torch::Tensor& grad, double lr);
    void adafactor_update(OptimizerParam& p, const torch::Tensor& grad, double lr);

    std::vector<OptimizerParam> params_;
    OptimizerType type_;
    double beta1_, beta2_, eps_, weight_decay_;
    bool scale_parameter_;
    int64_t step_ = 0;
};

// HF Trainer's no-decay rule: names containing "bias" and the weights of T5 layer norms.
bool decays(const std::string& parameter_name);

// The learning rate multiplier at optimizer step `step` (0-based) of `total` (HF's lr_lambda).
double schedule_factor(SchedulerType type, int64_t step, int64_t warmup_steps, int64_t total_steps);

// clip_grad_norm_: returns the total 2-norm before clipping; scales gradients to max_norm when above.
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace sumlab
