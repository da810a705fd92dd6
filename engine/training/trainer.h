// Trainer: fine-tunes a T5 model (fully or with LoRA) with Hugging Face Trainer semantics, in the
// calling thread. Trainer::run() (trainer.cpp) is the pipeline on one screen. Progress leaves through TrainerCallbacks (plain values, no Qt); stop and pause
// arrive through TrainerControl's atomics, checked between steps. A run lives in a folder:
//   run.json        the full configuration, seed, data hashes, model path, versions
//   metrics.jsonl   one flushed JSON line per logging step / evaluation (append-only)
//   eval_predictions.jsonl  with predict_with_generate: per evaluation, the first generated summaries (append-only)
//   checkpoint-N/   model or adapter (HF files), optimizer, scheduler, RNG and data position, trainer_state.json
//   final/          the trained model (config.json + model.safetensors) or adapter (PEFT files)
// Data-parallel runs (setup.distributed.world_size > 1) train the same pipeline on every rank, each
// on its shard (PyTorch's DistributedSampler), with gradients summed over c10d; rank 0 alone writes
// the folder. A world of one takes the single-process path unchanged.
#pragma once

#include "engine/training/distributed.h"
#include "engine/training/run_folder.h"
#include "engine/training/training_arguments.h"
#include "engine/training/training_metrics.h"

#include <torch/nn/module.h>

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sumlab {

struct TrainerCallbacks {
    std::function<void(const StepMetrics&)> on_log;
    std::function<void(const EvalMetrics&)> on_evaluate;
    std::function<void(const std::string& checkpoint_dir, int64_t step)> on_save;
    std::function<void(RunStatus)> on_status;
    std::function<void(const std::string&)> on_message;  // warnings, e.g. a skipped NaN step
    // For tests and debugging tools only: called before each optimizer step with the model.
    std::function<void(torch::nn::Module&, int64_t step)> before_step;
    // For tests and debugging tools only: called once the step's gradients are complete (accumulated
    // and, in a data-parallel run, summed over ranks) and before clipping, with the model whose
    // parameters' grad() AdamW is about to use; frozen parameters have none.
    std::function<void(torch::nn::Module&, int64_t step)> after_backward;
};

struct TrainerControl {
    std::atomic<bool> stop{false};   // finish the current step, save a checkpoint, return
    std::atomic<bool> pause{false};  // hold between steps until cleared (stop still works)
};

struct TrainResult {
    RunStatus status = RunStatus::finished;
    int64_t global_step = 0;
    double final_loss = 0.0;
    std::string final_dir;          // final/ (empty when stopped early)
    std::string last_checkpoint;    // newest checkpoint-N/
    std::string message;            // why a finished run ended before max_steps (early stopping), else empty
    std::string best_model_checkpoint;  // HF TrainerState.best_model_checkpoint (empty: none tracked)
    std::optional<double> best_metric;
};

struct TrainerSetup {
    std::string model_dir;          // base model folder
    std::string data;               // DialogSum folder or file (anything load_dialogsum reads)
    std::string output_dir;         // the run folder
    std::string init_adapter;       // LoRA: start from this PEFT adapter instead of a fresh one
    std::string resume_from;        // a checkpoint-N folder, or "last" for the newest in output_dir
    TrainingArguments args;
    DistributedEnv distributed;     // this process's rank and world (default: a world of one)
};

class Trainer {
public:
    Trainer(TrainerSetup setup, TrainerCallbacks callbacks = {}, TrainerControl* control = nullptr);
    // Runs to the end, to a stop, or throws sumlab::Error (the run folder keeps its last checkpoint).
    TrainResult run();

private:
    TrainerSetup setup_;
    TrainerCallbacks callbacks_;
    TrainerControl* control_;
    int64_t global_step_ = 0;  // for the failure status when a collective breaks
};

}  // namespace sumlab
