// What a training run will cost before it starts, from the model's config and the training settings
// alone: parameters (trainable and all, PEFT's numbers for LoRA), memory at the peak of a step, the number
// of optimizer steps, and (from a short timed probe on this machine) the seconds a step and the run take.
// The Train page and `sumlab-cli` can both show it; no Qt.
//
// Memory is derived from what the code keeps for backward, tensor by tensor, on the CPU fp32 paths
// (models/t5/*, engine/training/trainer.cpp, engine/training/optimizer.cpp):
//   - weights (all parameters), gradients and AdamW's two moments (trainable parameters), fp32;
//   - the activations one micro-batch keeps at the end of its forward pass (gradient accumulation runs one
//     micro-batch at a time), per sublayer: the residual input and its square (T5LayerNorm's pow, then mean,
//     which in LibTorch 1.13 keeps its input), the normed value where the norm's weight trains, the inputs of
//     trainable linears, LoRA's input and rank-r product; attention keeps, in full fine-tuning, contiguous
//     copies of q, k and v, the softmax and its dropped-out copy and the heads' output, and with frozen
//     projections (LoRA) q, k, v, the softmax once and the shared position bias (t5_attention.cpp's fused
//     node); the feed-forward keeps its activation's input, the gate and the dropped-out product where wo
//     trains; full fine-tuning keeps the logits and their log-softmax, frozen output weights the blockwise
//     loss's d loss / d logits (t5_model.cpp). Dropout masks are never kept (t5_dropout.cpp). Where the
//     first layer's input needs no gradient (frozen embeddings) nothing of it is kept;
//     with gradient_checkpointing, each T5 block keeps only its inputs (hidden states, position bias, encoder
//     output and mask: models/t5/checkpointing.h) and its own tensors live only while it runs, forward or recompute;
//   - the largest temporary on top of these: the loss's backward (or the blockwise loss's forward), the
//     shared embedding's dense (vocab × d_model) gradients, which autograd buffers and sums across its uses,
//     an encoder attention layer's backward, or AdamW's update of the largest tensor.
// It assumes every batch padded to max_source_length / max_target_length (the trainer pads each batch to its
// longest row, so real steps need at most this). Process memory comes on top: the libraries (~150 MiB of
// LibTorch) and glibc's heap, which under configure_allocator()'s thresholds holds 10-20 % more than the
// tensors alive at the peak (docs/BENCHMARKS.md); tests/engine/training/tst_training_estimate measures it.
#pragma once

#include "models/t5/t5_config.h"

#include <atomic>
#include <cstdint>
#include <optional>

namespace sumlab {

struct LoraConfig;
struct TrainingArguments;

// Parameters of a T5 model with this config (count_parameters of the built model: the shared embedding once).
int64_t t5_parameter_count(const T5Config& config);
// Parameters apply_lora adds: A (r × in) and B (out × r) on every linear layer named in target_modules.
// Throws ConfigError("LoRA settings", "target_modules", ...) for a target that matches no layer, as apply_lora.
int64_t lora_parameter_count(const T5Config& config, const LoraConfig& lora);

struct TrainingMemoryEstimate {
    int64_t base_parameters = 0;       // the model (t5_parameter_count)
    int64_t trainable_parameters = 0;  // full: every parameter; LoRA: the adapters
    int64_t all_parameters = 0;        // base + adapters (PEFT's "all params")
    int64_t weight_bytes = 0;          // every parameter, fp32
    int64_t gradient_bytes = 0;        // trainable parameters' .grad (zeroed, not freed, between steps)
    int64_t optimizer_bytes = 0;       // AdamW's exp_avg and exp_avg_sq
    int64_t activation_bytes = 0;      // what one micro-batch keeps for backward at the end of its forward
    int64_t working_bytes = 0;         // the largest temporary on top, at the moment of the peak
    int64_t peak_bytes = 0;            // the step's peak: the largest of its phases
    int64_t saved_bytes = 0;           // final/: model.safetensors, or adapter_model.safetensors
    int64_t checkpoint_bytes = 0;      // checkpoint-N/: the same plus AdamW's moments
    // The micro-batch it assumed (per_device_train_batch_size, max_source_length, max_target_length).
    int64_t batch = 0, source_length = 0, target_length = 0;
};

// Throws ConfigError for LoRA targets the model lacks (as lora_parameter_count).
TrainingMemoryEstimate estimate_training_memory(const T5Config& config, const TrainingArguments& args);

// Optimizer steps the trainer runs on `train_examples` training examples (before every_kth and limit):
// max_steps when > 0, else ceil(epochs * ceil(ceil(examples / batch) / accumulation)), one process.
int64_t optimizer_steps(int64_t train_examples, const TrainingArguments& args);

// One micro-batch's forward and backward, and one optimizer update (clip, AdamW, zero_grad), timed.
struct StepTiming {
    double forward_backward_s = 0;
    double optimizer_s = 0;
};
// An optimizer step: gradient_accumulation_steps forward/backward passes, then one update.
double seconds_per_optimizer_step(const StepTiming& timing, int64_t gradient_accumulation_steps);

// Builds the model `config` describes with random weights (speed does not depend on their values), applies
// the settings' method (LoRA: args.lora) and dropout, and times a step at per_device_train_batch_size ×
// max_source_length / max_target_length on the CPU, after one untimed warm-up step. Takes seconds to minutes:
// call it off the GUI thread. Returns nullopt when `cancel` is set (checked between passes). Throws
// ConfigError for a device other than "cpu" and for LoRA targets the model lacks.
std::optional<StepTiming> time_training_step(const T5Config& config, const TrainingArguments& args,
                                             const std::atomic<bool>* cancel = nullptr);

}  // namespace sumlab
