// Trainer::run() is the pipeline, top to bottom: the run folder and device -> data (DialogSum ->
// prompt -> tokens) -> model (and LoRA) -> optimizer and its schedule -> resume or start -> the epoch
// loop (batches -> loss -> backward -> clip -> optimizer step; metrics, evaluation and checkpoints at
// HF's moments) -> final/. Each step is a function below on TrainingRun, the run's state; the examples
// are engine/training/training_data.h, batching engine/training/sampler.h, the folder's files engine/training/run_folder.h, evaluation's extras
// engine/training/trainer_eval.h.
#include "engine/training/trainer.h"

#include "engine/runtime/system_info.h"
#include "engine/text/batcher.h"
#include "engine/text/tokenizer.h"
#include "engine/training/optimizer.h"
#include "engine/training/run_folder.h"
#include "engine/training/sampler.h"
#include "engine/training/tensorboard.h"
#include "engine/training/trainer_eval.h"
#include "engine/training/training_data.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "models/checkpoint.h"
#include "models/lora.h"
#include "models/safetensors.h"
#include "models/t5/autocast.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <dirent.h>
#include <memory>
#include <optional>
#include <thread>

namespace sumlab {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxConsecutiveBadSteps = 3;
constexpr std::chrono::seconds kCheckpointWait{1800};  // how long other ranks wait for rank 0's checkpoint write
constexpr size_t kKeptPredictions = 5;                  // generated summaries per evaluation kept in eval_predictions.jsonl

// Token-weighted mean loss over a split, in eval mode. In a data-parallel run each rank scores every
// world_size-th example and the sums meet in one allreduce.
EvalMetrics evaluate(T5ForConditionalGenerationImpl& model, const std::vector<TokenizedExample>& examples, int64_t batch_size,
                     int64_t pad, torch::Device device, DistributedContext* dist, bool bf16, double label_smoothing) {
    torch::NoGradGuard no_grad;
    model.eval();
    double sum = 0.0;
    int64_t tokens = 0;
    std::vector<size_t> idx;
    const size_t stride = dist ? static_cast<size_t>(dist->world_size()) : 1;
    for (size_t i = dist ? static_cast<size_t>(dist->rank()) : 0; i < examples.size(); i += stride) idx.push_back(i);
    for (size_t start = 0; start < idx.size(); start += static_cast<size_t>(batch_size)) {
        std::vector<size_t> part(idx.begin() + static_cast<std::ptrdiff_t>(start),
                                 idx.begin() + static_cast<std::ptrdiff_t>(std::min(idx.size(), start + static_cast<size_t>(batch_size))));
        auto batch = collate(examples, part, pad, device);
        Autocast amp(device, bf16);  // HF's prediction_step runs under the same autocast as training
        auto out = batch_loss(model, batch, label_smoothing);
        sum += out.loss_sum.item<double>();
        tokens += out.label_tokens;
    }
    model.train();
    if (dist) {
        auto total = dist->allreduce_sum({sum, static_cast<double>(tokens)});
        sum = total[0];
        tokens = static_cast<int64_t>(total[1]);
    }
    EvalMetrics m;
    m.eval_loss = tokens ? sum / static_cast<double>(tokens) : 0.0;
    m.eval_tokens = tokens;
    return m;
}

StepMetrics step_metrics(const TrainerState& state, int64_t max_steps, double epoch, double lr, double grad_norm) {
    StepMetrics m;
    m.step = state.global_step;
    m.max_steps = max_steps;
    m.epoch = epoch;
    m.loss = state.log_loss_sum / static_cast<double>(state.log_steps);
    m.learning_rate = lr;
    m.grad_norm = grad_norm;
    m.tokens_per_second = state.log_seconds > 0 ? static_cast<double>(state.log_tokens) / state.log_seconds : 0.0;
    m.tokens_seen = state.tokens_seen;
    m.elapsed_s = state.elapsed_s;
    m.eta_s = state.elapsed_s / static_cast<double>(state.global_step) * static_cast<double>(max_steps - state.global_step);
    return m;
}

struct AccumulatedLoss {
    double loss = 0.0;       // mean token loss of the whole accumulated batch
    int64_t all_tokens = 0;  // source + label tokens, for tokens/s
};

// Forward and backward over the batches of one optimizer step. Each batch's loss is its token sum
// divided by the label tokens of all the step's batches (HF >= 4.46), so 2 x 4 accumulated equals
// one batch of 8. Across ranks the divisor is the label tokens of the global batch and gradients
// are summed (HF's average_tokens_across_devices), so 2 ranks x 4 equals one process with 8.
AccumulatedLoss accumulate_gradients(T5ForConditionalGenerationImpl& model, const std::vector<Seq2SeqBatch>& batches,
                                     DistributedContext* dist, const std::vector<torch::Tensor>& trainable, bool bf16,
                                     double label_smoothing) {
    int64_t label_tokens = 0;
    AccumulatedLoss r;
    for (const auto& b : batches) {
        label_tokens += b.label_tokens;
        r.all_tokens += b.label_tokens + b.source_tokens;
    }
    if (dist) {
        auto global = dist->allreduce_sum({static_cast<double>(label_tokens), static_cast<double>(r.all_tokens)});
        label_tokens = static_cast<int64_t>(global[0]);
        r.all_tokens = static_cast<int64_t>(global[1]);
    }
    for (const auto& b : batches) {
        torch::Tensor loss;
        {
            Autocast amp(b.input_ids.device(), bf16);  // forward and loss only; backward outside, as HF's training_step
            auto out = batch_loss(model, b, label_smoothing);
            loss = out.loss_sum / static_cast<double>(std::max<int64_t>(label_tokens, 1));
        }
        loss.backward();
        r.loss += loss.item<double>();
    }
    if (dist) {
        dist->allreduce_gradients(trainable);
        r.loss = dist->allreduce_sum({r.loss})[0];  // each rank's share of the global mean
    }
    return r;
}

// One run as Trainer::run() builds it up, step by step: each member says which step fills it in.
struct TrainingRun {
    TrainingRun(TrainerSetup& s, const TrainerCallbacks& cb, TrainerControl* ctl, DistributedContext* d)
        : setup(s), args(s.args), callbacks(cb), control(ctl), dist(d), is_main(!d || d->is_main()), world_size(d ? d->world_size() : 1),
          device(torch::kCPU) {}

    TrainerSetup& setup;              // setup.args.lora takes a given adapter's own settings
    const TrainingArguments& args;    // setup.args
    const TrainerCallbacks& callbacks;
    TrainerControl* control;          // may be null
    DistributedContext* dist;         // null in a world of one
    const bool is_main;               // rank 0 alone writes the run folder
    const int world_size;
    std::unique_ptr<RunLock> lock;    // open_run_folder
    torch::Device device;             // open_run_folder
    // load_data
    std::optional<T5Tokenizer> tokenizer;
    TrainingData data;
    int64_t pad = 0;
    // load_model_for_training, build_optimizer_and_schedule
    LoadedModel loaded;
    TrainableParameters trainable;
    std::optional<Optimizer> optimizer;
    int64_t batches_per_epoch = 0, steps_per_epoch = 0, max_steps = 0, warmup = 0;
    // resume_or_start
    TrainerState state;
    std::vector<nlohmann::json> log_history;  // the metrics lines so far, HF's TrainerState.log_history
    RunConfig run_config;                     // run.json (rank 0)
    std::unique_ptr<MetricsWriter> metrics, predictions;
    std::unique_ptr<TensorBoardWriter> tensorboard;  // report_to tensorboard (rank 0): HF's TensorBoardCallback
    GenerationConfig eval_generation;
    std::vector<BatchIndices> batches;        // the current epoch's
    // the epoch loop
    std::optional<EvalMetrics> step_eval;     // the evaluation of the current step, whose metrics a save judges
    bool stop_early = false;
    TrainResult result;

    void notify(RunStatus status, const std::string& message = {}) const {
        if (is_main) write_status(setup.output_dir, status, state.global_step, message);
        if (callbacks.on_status) callbacks.on_status(status);
    }
    void message(const std::string& text) const {
        if (callbacks.on_message) callbacks.on_message(text);
    }
    void append_metrics(const nlohmann::json& line) {
        if (metrics) metrics->append(line);
        if (tensorboard) tensorboard->add_logs(line);
        if (line.contains("loss") || line.contains("eval_loss")) log_history.push_back(line);
    }
    // HF TrainerState.epoch: fractional.
    double epoch_fraction() const {
        return static_cast<double>(state.epoch) + static_cast<double>(state.epoch_step) / static_cast<double>(steps_per_epoch);
    }
    std::vector<BatchIndices> batches_of_epoch(int64_t epoch) const {
        return dist ? rank_epoch_batches(data.train, args, epoch, dist->rank(), dist->world_size()) : epoch_batches(data.train, args, epoch);
    }
    int64_t global_batch_size() const { return args.per_device_train_batch_size * args.gradient_accumulation_steps * world_size; }
};

// The model's weights (full) or adapter (LoRA) as Hugging Face files, into `dir`.
void save_weights(const TrainingRun& r, const std::string& dir) {
    if (r.args.method == TrainingMethod::lora) {
        LoraConfig config = r.args.lora;
        config.base_model_name_or_path = r.setup.model_dir;
        save_adapter(*r.loaded.model, config, dir);
    } else {
        save_model(*r.loaded.model, r.loaded.generation, dir);
        copy_tokenizer_files(r.setup.model_dir, dir);
    }
}

std::string save_checkpoint(const TrainingRun& r) {
    const std::string& run = r.setup.output_dir;
    std::string final_path = join_path(run, "checkpoint-" + std::to_string(r.state.global_step));
    std::string tmp = final_path + ".tmp";
    remove_tree(tmp);
    make_writable_dir(tmp);
    save_weights(r, tmp);
    std::vector<std::pair<std::string, torch::Tensor>> opt;
    for (auto& [name, t] : r.optimizer->state_tensors()) opt.emplace_back(name, t.to(torch::kCPU));
    if (!opt.empty()) save_safetensors(join_path(tmp, "optimizer.safetensors"), opt, {{"step", std::to_string(r.optimizer->step_count())}});
    auto rng = at::detail::getDefaultCPUGenerator().get_state();
    save_safetensors(join_path(tmp, "rng_state.safetensors"), {{"cpu", rng}});
    // The batch layout the data position refers to: a resume with another layout recomputes it.
    write_trainer_state(tmp, {r.state, r.optimizer->step_count(), r.world_size, r.global_batch_size(), r.log_history},
                        r.epoch_fraction(), r.max_steps);
    discard_tree(final_path);
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) throw FileError(final_path, "cannot move the checkpoint into place");
    // Keep the newest save_total_limit checkpoints, and the best one (HF's _rotate_checkpoints).
    std::vector<std::string> all;
    for (const auto& checkpoint : list_checkpoints(run)) all.push_back(checkpoint.second);
    for (const std::string& doomed : checkpoints_to_delete(all, r.state.best_model_checkpoint, r.args.save_total_limit))
        discard_tree(doomed);
    return final_path;
}

// The model's (or adapter's) weights of checkpoint `dir`, copied into the model in place.
void load_checkpoint_weights(const std::string& dir, TrainingRun& r) {
    if (r.args.method == TrainingMethod::lora) {
        // Copy into the adapter tensors AdamW already holds (re-attaching would make new ones).
        SafetensorsFile adapter(join_path(dir, "adapter_model.safetensors"));
        auto params = r.loaded.model->named_parameters();
        const std::string prefix = "base_model.model.";
        torch::NoGradGuard no_grad;
        for (const auto& e : adapter.entries()) {
            std::string name = e.name.rfind(prefix, 0) == 0 ? e.name.substr(prefix.size()) : e.name;
            auto* p = params.find(name);
            if (!p || p->sizes().vec() != e.shape) throw FileError(adapter.path(), "does not fit this run's adapter: " + e.name);
            p->copy_(adapter.load(e.name));
        }
    } else {
        SafetensorsFile weights(join_path(dir, "model.safetensors"));
        NamedTensors state;
        for (const auto& e : weights.entries()) state.emplace_back(e.name, weights.load(e.name));
        load_state(*r.loaded.model, state, weights.path());
    }
}

// Returns trainer_state.json, whose batch layout the caller checks.
SavedTrainerState load_checkpoint(const std::string& dir, TrainingRun& r) {
    const SavedTrainerState saved = read_trainer_state(dir);
    r.state = saved.state;
    // The best checkpoint lives in this run folder, wherever the folder has moved since.
    if (!r.state.best_model_checkpoint.empty()) {
        const std::string& best = r.state.best_model_checkpoint;
        r.state.best_model_checkpoint = join_path(r.setup.output_dir, best.substr(best.rfind('/') == std::string::npos ? 0 : best.rfind('/') + 1));
    }
    load_checkpoint_weights(dir, r);
    std::string opt_path = join_path(dir, "optimizer.safetensors");
    NamedTensors opt;
    if (is_file(opt_path)) {
        SafetensorsFile f(opt_path);
        for (const auto& e : f.entries()) opt.emplace_back(e.name, f.load(e.name));
    }
    r.optimizer->load_state(opt, saved.optimizer_step, opt_path);
    SafetensorsFile rng(join_path(dir, "rng_state.safetensors"));
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    gen.set_state(rng.load("cpu", torch::kUInt8));
    return saved;
}

std::string resolve_resume(const TrainerSetup& setup) {
    if (setup.resume_from.empty()) return {};
    if (setup.resume_from != "last") return setup.resume_from;
    auto all = list_checkpoints(setup.output_dir);
    if (all.empty()) throw FileError(setup.output_dir, "has no checkpoint to resume from");
    return all.back().second;
}

// run.json at the start of an attempt (fresh or resumed).
RunConfig run_config_of(const TrainingRun& r, const std::string& resumed_from) {
    RunConfig c;
    c.sumlab_version = SUMLAB_VERSION;
    c.runtime = runtime_versions();
    c.model = r.setup.model_dir;
    c.data = r.setup.data;
    c.init_adapter = r.setup.init_adapter;
    c.arguments = r.args;
    c.max_steps_resolved = r.max_steps;
    c.train_examples = static_cast<int64_t>(r.data.train.size());
    c.validation_examples = static_cast<int64_t>(r.data.validation.size());
    for (const auto& f : r.data.files) c.data_sha256[f] = sha256_file(f);
    c.resumed_from = resumed_from;
    if (r.dist) c.distributed = RunConfig::Distributed{r.world_size, "gloo", r.dist->env().source, r.global_batch_size()};
    c.started_at = static_cast<int64_t>(std::time(nullptr));
    c.best_model_checkpoint = r.state.best_model_checkpoint;
    c.best_metric = r.state.best_metric;
    return c;
}

// load_best_model_at_end (HF's _load_best_model): the best checkpoint's weights into the model, so final/ is
// that checkpoint; a best checkpoint that has gone (deleted by hand) leaves the last weights, with a word.
void load_best_model(TrainingRun& r) {
    const std::string& best = r.state.best_model_checkpoint;
    if (!r.args.load_best_model_at_end || best.empty()) return;
    char value[64] = "";
    if (r.state.best_metric) std::snprintf(value, sizeof value, "%.6g", *r.state.best_metric);
    if (!is_file(join_path(best, "trainer_state.json"))) {
        r.message("could not find the best model at " + best + "; final/ holds the last weights");
        return;
    }
    load_checkpoint_weights(best, r);
    r.message("loading the best model from " + best + " (" + r.args.best_metric_key() + " " + value + ")");
}

// Every rank continues from rank 0's state: its weights (fresh or resumed), and when resuming its
// optimizer moments, RNG and progress, so only rank 0 needs to see the run folder.
void sync_from_main(DistributedContext& dist, TrainingRun& r, bool resuming) {
    std::vector<torch::Tensor> weights;
    for (const auto& p : r.loaded.model->named_parameters()) weights.push_back(p.value());
    dist.broadcast(weights);
    if (!resuming) return;
    nlohmann::json progress = r.state.to_json();
    progress["optimizer_step"] = r.optimizer->step_count();
    progress = nlohmann::json::parse(dist.broadcast_string(progress.dump()));
    r.state = TrainerState::from_json(progress, "rank 0's trainer state");
    const int64_t optimizer_step = progress.at("optimizer_step").get<int64_t>();
    if (optimizer_step > 0) {
        std::vector<std::pair<std::string, torch::Tensor>> moments = r.optimizer->state_tensors(true);
        std::vector<torch::Tensor> tensors;
        for (auto& m : moments) tensors.push_back(m.second);
        dist.broadcast(tensors);
        if (!dist.is_main()) r.optimizer->load_state(moments, optimizer_step, "rank 0's optimizer state");
    }
    torch::Tensor rng = at::detail::getDefaultCPUGenerator().get_state();
    dist.broadcast({rng});
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    gen.set_state(rng);
}

// ---- The steps of Trainer::run(), in order ----

// The run folder (rank 0: created, locked, cleared of a kill's leftovers), the device and the seed.
void open_run_folder(TrainingRun& r) {
    if (r.is_main) {
        make_writable_dir(r.setup.output_dir);
        r.lock = std::make_unique<RunLock>(r.setup.output_dir);
        remove_stale_temporaries(r.setup.output_dir);
    }
    std::string device_name = r.args.device;
    if (r.dist && device_name == "cuda") device_name += ":" + std::to_string(r.dist->env().local_rank);
    r.device = torch::Device(device_name);
    torch::manual_seed(static_cast<uint64_t>(r.args.seed));
}

// 1. Data: DialogSum -> prompt -> tokens.
void load_data(TrainingRun& r) {
    r.tokenizer.emplace(T5Tokenizer::from_directory(r.setup.model_dir));
    r.data = prepare_training_data(r.setup.data, r.args, *r.tokenizer);
    if (r.is_main)
        for (const std::string& note : r.data.notes) r.message(note);
    r.pad = r.tokenizer->pad_token_id();
}

// 2. Model: the base weights, then a fresh or given LoRA adapter.
void load_model_for_training(TrainingRun& r) {
    r.loaded = load_model(r.setup.model_dir, r.device, r.args.dropout_rate);
    if (r.args.method == TrainingMethod::lora) {
        if (r.setup.init_adapter.empty()) apply_lora(*r.loaded.model, r.args.lora);
        else r.setup.args.lora = load_adapter(*r.loaded.model, r.setup.init_adapter);  // the adapter's own r, alpha, targets
    }
    // HF's gradient_checkpointing_enable(): training forwards recompute each block in backward; evaluation runs in eval() mode, untouched.
    r.loaded.model->set_gradient_checkpointing(r.args.gradient_checkpointing);
    // bf16 products run on oneDNN, on LibTorch's OpenMP threads; fp32 keeps the start-up policy (OpenBLAS's).
    if (r.args.bf16) use_threads_for(torch::kBFloat16);
}

// 3. The optimizer (AdamW or Adafactor) over the trainable tensors only, and the schedule: optimizer steps per epoch and in all, as
// HF counts them (per rank: its shard), and the warm-up.
void build_optimizer_and_schedule(TrainingRun& r) {
    const TrainingArguments& args = r.args;
    r.trainable = trainable_parameters_of(*r.loaded.model);
    r.optimizer.emplace(r.trainable.named, args);
    const int64_t samples_per_rank = (static_cast<int64_t>(r.data.train.size()) + r.world_size - 1) / r.world_size;
    r.batches_per_epoch = (samples_per_rank + args.per_device_train_batch_size - 1) / args.per_device_train_batch_size;
    r.steps_per_epoch = (r.batches_per_epoch + args.gradient_accumulation_steps - 1) / args.gradient_accumulation_steps;
    r.max_steps = args.max_steps > 0 ? args.max_steps : static_cast<int64_t>(std::ceil(args.num_train_epochs * static_cast<double>(r.steps_per_epoch)));
    r.warmup = args.warmup_steps > 0 ? args.warmup_steps : static_cast<int64_t>(std::ceil(args.warmup_ratio * static_cast<double>(r.max_steps)));
}

// 4. Resume a checkpoint (rank 0 reads it, the others receive it) or start over; then run.json, the
// metrics writers and the first epoch's batches.
void resume_or_start(TrainingRun& r) {
    const std::string metrics_path = join_path(r.setup.output_dir, "metrics.jsonl");
    const std::string predictions_path = join_path(r.setup.output_dir, kEvalPredictionsFile);
    const std::string resume = r.is_main ? resolve_resume(r.setup) : std::string();
    if (!resume.empty()) {
        const SavedTrainerState saved = load_checkpoint(resume, r);
        // A checkpoint from another batch layout (more or fewer ranks, another batch size): the
        // data position follows from the global step and this run's steps per epoch.
        if (saved.world_size != r.world_size || saved.global_batch_size.value_or(r.global_batch_size()) != r.global_batch_size()) {
            r.state.epoch = r.state.global_step / r.steps_per_epoch;
            r.state.epoch_step = r.state.global_step % r.steps_per_epoch;
            r.message("resuming a checkpoint of " + std::to_string(saved.world_size) + " process(es) with " + std::to_string(r.world_size) +
                      ": data position recomputed from step " + std::to_string(r.state.global_step));
        }
        truncate_metrics(metrics_path, r.state.global_step);
        truncate_metrics(predictions_path, r.state.global_step);
        r.log_history = saved.log_history;
    } else if (r.is_main) {
        // Starting over (no checkpoint to resume, e.g. killed before the first one): the lines a
        // killed attempt logged would otherwise precede this run's steps 1, 2, ...
        truncate_metrics(metrics_path, 0);
        truncate_metrics(predictions_path, 0);
    }
    if (r.dist) sync_from_main(*r.dist, r, !r.setup.resume_from.empty());
    if (r.is_main) {
        r.run_config = run_config_of(r, resume);
        write_run_config(r.setup.output_dir, r.run_config);
        r.metrics = std::make_unique<MetricsWriter>(metrics_path);
        if (!r.args.report_to.empty()) {  // TensorBoardCallback.on_train_begin: the arguments and the model's config as text, the hparams
            r.tensorboard = std::make_unique<TensorBoardWriter>(resolve_logging_dir(r.args.logging_dir, r.setup.output_dir));
            nlohmann::json hparams = r.args.to_json();
            r.tensorboard->add_text("args", hparams.dump(2));
            r.tensorboard->add_text("model_config", read_file(join_path(r.setup.model_dir, "config.json")));
            hparams["train_batch_size"] = r.args.per_device_train_batch_size;  // to_sanitized_dict's two additions, one device
            hparams["eval_batch_size"] = r.args.per_device_eval_batch_size;
            r.tensorboard->add_hparams(hparams);
            r.message("TensorBoard: writing " + r.tensorboard->path());
        }
        if (r.args.predict_with_generate) r.predictions = std::make_unique<MetricsWriter>(predictions_path);
    }
    r.eval_generation = eval_generation_config(r.loaded.generation, r.args);
    r.notify(RunStatus::running);
    r.loaded.model->train();
    r.batches = r.batches_of_epoch(r.state.epoch);
}

// A checkpoint of this step (rank 0 writes it; the others wait), judged as the best by this step's evaluation.
void save(TrainingRun& r) {
    const std::string checkpoint = join_path(r.setup.output_dir, "checkpoint-" + std::to_string(r.state.global_step));
    const bool is_new_best = r.step_eval && update_best(r.state, *r.step_eval, r.args, checkpoint);
    if (r.is_main) {
        if (is_new_best) {
            // run.json again with the new best (HF keeps it in TrainerState only; the Runs page reads it here).
            r.run_config.best_model_checkpoint = r.state.best_model_checkpoint;
            r.run_config.best_metric = r.state.best_metric;
            write_run_config(r.setup.output_dir, r.run_config);
        }
        r.result.last_checkpoint = save_checkpoint(r);
        if (r.callbacks.on_save) r.callbacks.on_save(r.result.last_checkpoint, r.state.global_step);
    }
    // The other ranks wait for the write with a long timeout of its own, not --ddp-timeout.
    if (r.dist)
        r.dist->wait_for_main("checkpoint-" + std::to_string(r.state.global_step), std::max(std::chrono::seconds(r.args.ddp_timeout), kCheckpointWait));
}

// The eval loss on the validation split, with predict_with_generate ROUGE of generated summaries
// (Seq2SeqTrainer's: the same first examples each time); then early stopping's verdict.
void evaluate_now(TrainingRun& r) {
    const TrainingArguments& args = r.args;
    EvalMetrics m = evaluate(*r.loaded.model, r.data.validation, args.per_device_eval_batch_size, r.pad, r.device, r.dist, args.bf16,
                             args.label_smoothing_factor);
    m.step = r.state.global_step;
    m.epoch = r.epoch_fraction();
    if (args.predict_with_generate && !r.data.generation.empty()) {
        const GenerationEval generated = generate_and_score(*r.loaded.model, *r.tokenizer, r.data.generation, r.eval_generation,
                                                            args.per_device_eval_batch_size, args.max_source_length, kKeptPredictions, r.dist);
        set_rouge(m, generated);
        if (r.predictions) r.predictions->append(to_json(EvalPredictions{m.step, m.epoch, generated.kept}));
    }
    r.append_metrics(to_json(m));
    if (r.callbacks.on_evaluate) r.callbacks.on_evaluate(m);
    r.step_eval = m;
    r.stop_early = early_stopping_should_stop(r.state, m, args);  // before the save judges the best, as HF's callback
}

// Stop and pause are honoured between steps; a stop always leaves a checkpoint. Ranks agree on a
// stop (any rank's signal stops all at the same step); pause is single-process only.
bool stopped_between_steps(TrainingRun& r) {
    TrainerControl* control = r.control;
    if (!r.dist && control && control->pause.load()) {
        r.notify(RunStatus::paused);
        while (control->pause.load() && !control->stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (!control->stop.load()) r.notify(RunStatus::running);
    }
    bool stop = control && control->stop.load();
    if (r.dist) stop = r.dist->allreduce_max({stop ? 1.0 : 0.0})[0] > 0.0;
    if (!stop) return false;
    save(r);
    r.notify(RunStatus::stopped);
    r.result.status = RunStatus::stopped;
    return true;
}

struct StepOutcome {
    double learning_rate = 0.0, grad_norm = 0.0;
};

// One optimizer step: its batches' gradients accumulated (and summed over ranks), clipped, and AdamW at
// the schedule's rate. A NaN/inf step changes nothing; several in a row end the run with the last
// checkpoint kept.
StepOutcome train_step(TrainingRun& r) {
    const TrainingArguments& args = r.args;
    TrainerState& state = r.state;
    if (r.callbacks.before_step) r.callbacks.before_step(*r.loaded.model, state.global_step);
    const auto t0 = Clock::now();
    const int64_t first = state.epoch_step * args.gradient_accumulation_steps;
    const int64_t last = std::min<int64_t>(first + args.gradient_accumulation_steps, r.batches_per_epoch);
    std::vector<Seq2SeqBatch> micro;
    for (int64_t b = first; b < last; ++b) micro.push_back(training_batch(r.data, r.batches[static_cast<size_t>(b)], args, state.epoch, r.pad, r.device));
    const AccumulatedLoss step = accumulate_gradients(*r.loaded.model, micro, r.dist, r.trainable.tensors, args.bf16, args.label_smoothing_factor);
    if (r.callbacks.after_backward) r.callbacks.after_backward(*r.loaded.model, state.global_step);
    StepOutcome out;
    out.grad_norm = clip_grad_norm(r.trainable.tensors, args.max_grad_norm);
    out.learning_rate = args.learning_rate * schedule_factor(args.lr_scheduler_type, state.global_step, r.warmup, r.max_steps);
    if (!std::isfinite(step.loss) || !std::isfinite(out.grad_norm)) {
        r.optimizer->zero_grad();
        ++state.bad_steps_in_a_row;
        std::string msg = "step " + std::to_string(state.global_step + 1) + ": loss is " + std::to_string(step.loss) + ", step skipped";
        r.message(msg);
        r.append_metrics({{"step", state.global_step}, {"event", "skipped_step"}, {"message", msg}});
        if (state.bad_steps_in_a_row >= kMaxConsecutiveBadSteps) {
            std::string why = std::to_string(kMaxConsecutiveBadSteps) + " steps in a row had a NaN or infinite loss; the run stopped (lower learning_rate?)";
            r.notify(RunStatus::failed, why);
            throw Error(r.setup.output_dir + ": " + why);
        }
    } else {
        r.optimizer->step(out.learning_rate);
        r.optimizer->zero_grad();
        state.bad_steps_in_a_row = 0;
        state.last_loss = step.loss;
        state.log_loss_sum += step.loss;
        ++state.log_steps;
    }
    ++state.global_step;
    ++state.epoch_step;
    state.tokens_seen += step.all_tokens;
    state.log_tokens += step.all_tokens;
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    state.log_seconds += seconds;
    state.elapsed_s += seconds;
    return out;
}

// After a step, at HF's moments: the metrics line, the evaluation, the next epoch's batches, the checkpoint.
void log_evaluate_save(TrainingRun& r, const StepOutcome& step) {
    const TrainingArguments& args = r.args;
    TrainerState& state = r.state;
    const bool epoch_done = state.epoch_step >= r.steps_per_epoch;
    if (state.global_step % args.logging_steps == 0 || state.global_step == r.max_steps) {
        if (state.log_steps > 0) {
            StepMetrics m = step_metrics(state, r.max_steps, r.epoch_fraction(), step.learning_rate, step.grad_norm);
            r.append_metrics(to_json(m));
            if (r.callbacks.on_log) r.callbacks.on_log(m);
        }
        state.log_loss_sum = 0.0;
        state.log_steps = 0;
        state.log_tokens = 0;
        state.log_seconds = 0.0;
    }
    if ((args.eval_strategy == IntervalStrategy::steps && state.global_step % args.eval_steps == 0) ||
        (args.eval_strategy == IntervalStrategy::epoch && epoch_done))
        evaluate_now(r);
    if (epoch_done) {
        ++state.epoch;
        state.epoch_step = 0;
        r.batches = r.batches_of_epoch(state.epoch);
    }
    if ((args.save_strategy == IntervalStrategy::steps && state.global_step % args.save_steps == 0) ||
        (args.save_strategy == IntervalStrategy::epoch && epoch_done))
        save(r);
}

// The result; for a finished run, rank 0 writes final/: the model or adapter (the best checkpoint's with
// load_best_model_at_end) as Hugging Face files.
TrainResult finish(TrainingRun& r) {
    TrainResult& result = r.result;
    result.global_step = r.state.global_step;
    result.final_loss = r.state.last_loss;
    result.best_model_checkpoint = r.state.best_model_checkpoint;
    result.best_metric = r.state.best_metric;
    if (result.status == RunStatus::stopped) return result;
    result.status = RunStatus::finished;
    if (r.stop_early) result.message = early_stopping_message(r.state, r.args);
    if (!r.is_main) return result;
    load_best_model(r);
    const std::string final_dir = join_path(r.setup.output_dir, "final");
    const std::string tmp = final_dir + ".tmp";
    remove_tree(tmp);
    make_writable_dir(tmp);
    save_weights(r, tmp);
    discard_tree(final_dir);
    if (::rename(tmp.c_str(), final_dir.c_str()) != 0) throw FileError(final_dir, "cannot move the final model into place");
    result.final_dir = final_dir;
    r.notify(RunStatus::finished, result.message);
    return result;
}

}  // namespace

Trainer::Trainer(TrainerSetup setup, TrainerCallbacks callbacks, TrainerControl* control)
    : setup_(std::move(setup)), callbacks_(std::move(callbacks)), control_(control) {}

TrainResult Trainer::run() {
    setup_.args.validate("training settings");
    // Join the other ranks first, so a rank that fails later (a locked folder, bad data) breaks the
    // group at once instead of leaving the others waiting at start-up. A world of one has no context.
    std::unique_ptr<DistributedContext> dist;
    if (setup_.distributed.is_distributed())
        dist = std::make_unique<DistributedContext>(setup_.distributed, std::chrono::seconds(setup_.args.ddp_timeout));
    try {
        TrainingRun run(setup_, callbacks_, control_, dist.get());
        open_run_folder(run);               // locked by rank 0; the device; the seed
        load_data(run);                     // 1. DialogSum -> prompt -> tokens
        load_model_for_training(run);       // 2. base weights, then a fresh or given LoRA adapter
        build_optimizer_and_schedule(run);  // 3. the optimizer over the trainable tensors; steps per epoch, max_steps, warm-up
        resume_or_start(run);               // 4. a checkpoint or a fresh start; run.json; the first epoch's batches
        while (run.state.global_step < run.max_steps && !run.stop_early) {  // 5. the epoch loop
            global_step_ = run.state.global_step;
            run.step_eval.reset();
            if (stopped_between_steps(run)) break;           // pause; a stop saves a checkpoint
            const StepOutcome step = train_step(run);         // 6. batches -> loss -> backward -> clip -> optimizer
            log_evaluate_save(run, step);                     // 7. metrics, evaluation, checkpoint at HF's moments
        }
        return finish(run);                 // 8. final/ (rank 0), the result
    } catch (const DistributedError& e) {
        if (dist && dist->is_main()) write_status(setup_.output_dir, RunStatus::failed, global_step_, e.what());
        throw;
    }
}

}  // namespace sumlab
