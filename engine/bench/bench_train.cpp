#include "engine/bench/bench_train.h"

#include "engine/training/optimizer.h"
#include "engine/training/training_estimate.h"
#include "engine/runtime/system_info.h"
#include "models/lora.h"
#include "models/t5/autocast.h"
#include "models/t5/t5_init.h"
#include "models/t5/t5_model.h"

#include <torch/torch.h>

namespace sumlab {

namespace {

constexpr int64_t kBatch = 8, kSource = 256, kTarget = 64;

struct StepInputs {
    torch::Tensor input_ids, attention_mask, labels;
};

StepInputs make_inputs(const T5Config& config, uint64_t seed) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    StepInputs in;
    in.input_ids = torch::randint(3, config.vocab_size, {kBatch, kSource}, gen, torch::kLong);
    in.attention_mask = torch::zeros({kBatch, kSource}, torch::kLong);
    for (int64_t b = 0; b < kBatch; ++b) in.attention_mask[b].slice(0, 0, kSource - 16 * b).fill_(1);
    in.input_ids.masked_fill_(in.attention_mask == 0, config.pad_token_id);
    in.labels = torch::randint(3, config.vocab_size, {kBatch, kTarget}, gen, torch::kLong);
    return in;
}

BenchResult measure_training(BenchContext& context, bool lora, bool bf16, bool checkpointing = false) {
    T5Config config = context.model_config();
    reset_peak_rss();
    const double rss_process = peak_rss_mb();  // before the model: what the Train page's estimate comes on top of
    config.dropout_rate = 0.1;
    T5ForConditionalGeneration model(config);
    if (!context.source().model_dir.empty()) {
        torch::NoGradGuard no_grad;
        auto src = context.model().named_parameters();
        for (auto& p : model->named_parameters()) p.value().copy_(src[p.key()]);
    } else {
        init_t5_weights(*model, context.source().seed);
    }
    TrainingArguments args;
    args.weight_decay = 0.01;
    if (lora) {
        args.method = TrainingMethod::lora;
        args.lora.r = 32;
        args.lora.lora_alpha = 32;
        args.lora.lora_dropout = 0.05;
        apply_lora(*model, args.lora);
    }
    args.per_device_train_batch_size = kBatch;  // for the Train page's estimate, reported beside the measured peak
    args.max_source_length = kSource;
    args.max_target_length = kTarget;
    args.gradient_checkpointing = checkpointing;
    model->train();
    model->set_gradient_checkpointing(checkpointing);  // --gradient-checkpointing: blocks recomputed in backward
    const TrainableParameters trainable = trainable_parameters_of(*model);
    const std::vector<torch::Tensor>& tensors = trainable.tensors;
    Optimizer optimizer(trainable.named, args);
    StepInputs in = make_inputs(config, context.source().seed + 1);
    use_threads_for(bf16 ? torch::kBFloat16 : torch::kFloat32);  // as the trainer: bf16 products run on oneDNN
    reset_peak_rss();
    const double rss_before = peak_rss_mb();
    auto step = [&] {
        torch::Tensor loss;
        {
            Autocast amp(in.input_ids.device(), bf16);  // as the trainer: forward and loss only
            loss = model->forward(in.input_ids, in.attention_mask, in.labels).loss;
        }
        loss.backward();
        clip_grad_norm(tensors, 1.0);
        optimizer.step(1e-4);
        optimizer.zero_grad();
    };
    TimingStats t = time_repeated(step, context.settings().repeats, context.settings().warmups);
    const double peak = peak_rss_mb();  // before profiling, whose event lists take memory of their own
    context.profile(std::string(lora ? "LoRA r=32 (q,v) training step" : "full fine-tuning step") + (bf16 ? ", bf16" : ""), step);
    const std::string prefix = std::string(lora ? "train_lora" : "train_full") + (bf16 ? "_bf16" : "") + (checkpointing ? "_gc" : "");
    const double flops = t5_training_step_flops(config, kBatch, kSource, kTarget, lora);
    BenchResult r;
    r.values.push_back({prefix + "_s", t.median_s,
                        std::string(lora ? "LoRA r=32 (q,v) step" : "full fine-tuning step") + (bf16 ? " bf16" : "") +
                            (checkpointing ? " with gradient checkpointing" : "") + ", batch 8 x 256/64",
                        "s", t.min_s, t.max_s});
    r.values.push_back({prefix + "_model_gflops", flops / t.median_s / 1e9, prefix + " model arithmetic", "GFLOP/s", {}, {}});
    r.values.push_back({prefix + "_peak_rss_mb", peak, prefix + " peak resident memory", "MiB", {}, {}});
    r.values.push_back({prefix + "_tokens_per_s", static_cast<double>(kBatch * (kSource + kTarget)) / t.median_s, prefix + " tokens", "tokens/s", {}, {}});
    r.details = {{"step_tflop", flops / 1e12}, {"rss_before_mb", rss_before}, {"trainable_parameters", trainable_parameters(*model).trainable},
                 {"runs_s", t.runs_s}};
    // The Train page's estimate (tensors at the step's peak, fp32 paths only) on top of the process before the model.
    if (!bf16) {
        r.details["rss_process_mb"] = rss_process;
        r.details["estimated_peak_rss_mb"] = rss_process + static_cast<double>(estimate_training_memory(config, args).peak_bytes) / (1024.0 * 1024.0);
    }
    return r;
}

}  // namespace

double t5_training_step_flops(const T5Config& c, int64_t batch, int64_t source_len, int64_t target_len, bool lora, int64_t lora_r) {
    const double d = static_cast<double>(c.d_model), inner = static_cast<double>(c.inner_dim()), ff = static_cast<double>(c.d_ff);
    const double S = static_cast<double>(batch * source_len), T = static_cast<double>(batch * target_len);
    const double s = static_cast<double>(source_len), t = static_cast<double>(target_len), b = static_cast<double>(batch);
    const double ff_macs = (c.is_gated() ? 3.0 : 2.0) * d * ff;
    // Multiply-accumulates of the forward pass.
    double weight_macs = 0.0, act_macs = 0.0;
    weight_macs += static_cast<double>(c.num_layers) * S * (4.0 * d * inner + ff_macs);
    act_macs += static_cast<double>(c.num_layers) * b * 2.0 * s * s * inner;
    weight_macs += static_cast<double>(c.num_decoder_layers) * (T * (4.0 * d * inner + 2.0 * d * inner + ff_macs) + S * 2.0 * d * inner);
    act_macs += static_cast<double>(c.num_decoder_layers) * b * (2.0 * t * t * inner + 2.0 * t * s * inner);
    weight_macs += T * d * static_cast<double>(c.vocab_size);
    const double forward = 2.0 * (weight_macs + act_macs);
    if (!lora) return 3.0 * forward;
    // Frozen weights: the backward pass propagates through them but computes no weight gradients.
    const double lora_macs = 2.0 * static_cast<double>(lora_r) * (d + inner) *
                             (static_cast<double>(c.num_layers) * S + static_cast<double>(c.num_decoder_layers) * (2.0 * T + S));
    return 3.0 * forward - 2.0 * weight_macs + 3.0 * 2.0 * lora_macs;
}

void provide_training_benchmarks(BenchRegistry& registry) {
    registry.provide("train_full", [](BenchContext& c) { return measure_training(c, false, false); });
    registry.provide("train_lora", [](BenchContext& c) { return measure_training(c, true, false); });
    registry.provide("train_full_bf16", [](BenchContext& c) { return measure_training(c, false, true); });
    registry.provide("train_lora_bf16", [](BenchContext& c) { return measure_training(c, true, true); });
    registry.provide("train_full_gc", [](BenchContext& c) { return measure_training(c, false, false, true); });
    registry.provide("train_lora_gc", [](BenchContext& c) { return measure_training(c, true, false, true); });
}

}  // namespace sumlab
