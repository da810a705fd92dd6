// Trainer::run() reads as the pipeline: data -> prompt -> tokenizer -> batches -> model -> loss ->
// backward -> clip -> AdamW step -> schedule -> metrics -> callbacks; the helpers above it do the
// rest (data preparation, checkpoints, evaluation).
#include "engine/training/trainer.h"

#include "engine/text/batcher.h"
#include "engine/data/dialogsum.h"
#include "engine/training/optimizer.h"
#include "engine/data/prompt.h"
#include "engine/training/run_folder.h"
#include "engine/runtime/system_info.h"
#include "engine/text/tokenizer.h"
#include "engine/training/trainer_eval.h"
#include "models/checkpoint.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "models/lora.h"
#include "models/safetensors.h"
#include "models/t5/autocast.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <dirent.h>
#include <limits>
#include <memory>
#include <numeric>
#include <thread>

namespace sumlab {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kMaxConsecutiveBadSteps = 3;
constexpr std::chrono::seconds kCheckpointWait{1800};  // how long other ranks wait for rank 0's checkpoint write
constexpr size_t kKeptPredictions = 5;                  // generated summaries per evaluation kept in eval_predictions.jsonl

// A JSON whole number that fits int64_t (get<int64_t>() of 1e300 is undefined behaviour).
bool is_int64(const nlohmann::json& v) {
    return v.is_number_integer() &&
           !(v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
}

struct TokenizedExample {
    TokenIds source, target;
};

struct TrainingData {
    std::vector<TokenizedExample> train, validation;
    std::vector<EvalGenerationExample> generation;  // predict_with_generate: the first eval_generate_limit validation examples
    std::vector<std::string> files;  // the data files read (for run.json's hashes)
    std::vector<std::string> notes;  // how the loader read them, for the user
};

TrainingData prepare_data(const TrainerSetup& setup, const T5Tokenizer& tokenizer) {
    const auto& args = setup.args;
    LoadOptions load;
    load.lone_file_split = Split::train;
    DialogSumDataset dataset = load_dialogsum(setup.data, load);
    const DialogSumSplit* train = dataset.find(Split::train);
    if (!train) {
        if (dataset.splits.size() != 1) throw DataError(setup.data, 0, "has no training split (train.csv, dialogsum.train.jsonl, ...)");
        train = &dataset.splits.front();
    }
    Selection selection;
    selection.every_kth = static_cast<size_t>(args.every_kth);
    if (args.limit > 0) selection.limit = static_cast<size_t>(args.limit);
    PromptTemplate prompt = resolve_prompt(args.prompt);
    auto tokenize = [&](const DialogSumSplit& split) {
        std::vector<TokenizedExample> out;
        for (const auto& ex : split.examples)
            out.push_back({tokenizer.encode(prompt.render(ex.dialogue), true, args.max_source_length),
                           tokenizer.encode(ex.references.front(), true, args.max_target_length)});
        return out;
    };
    TrainingData data;
    data.notes = dataset.notes;
    data.train = tokenize(select_examples(*train, selection));
    data.files.push_back(train->path);
    if (data.train.empty()) throw DataError(train->path, 0, "no training examples left after the selection");
    if (args.eval_strategy != IntervalStrategy::no) {
        const DialogSumSplit* validation = dataset.find(Split::validation);
        if (!validation) throw DataError(setup.data, 0, "eval_strategy needs a validation split (validation.csv or dialogsum.dev.jsonl)");
        data.validation = tokenize(*validation);
        data.files.push_back(validation->path);
        const size_t limit = args.eval_generate_limit > 0 ? static_cast<size_t>(args.eval_generate_limit) : validation->examples.size();
        for (size_t i = 0; args.predict_with_generate && i < std::min(limit, validation->examples.size()); ++i) {
            const DialogSumExample& ex = validation->examples[i];
            data.generation.push_back({ex.id, prompt.render(ex.dialogue), ex.references});
        }
    }
    return data;
}

// An epoch's example order cut into per_device_train_batch_size batches; group_by_length sorts
// mega-batches of 50 batches by source length first (HF's LengthGroupedSampler idea).
std::vector<std::vector<size_t>> batches_from_order(std::vector<size_t> order, const TrainingData& data,
                                                    const TrainingArguments& args) {
    const size_t bs = static_cast<size_t>(args.per_device_train_batch_size);
    if (args.group_by_length) {
        const size_t mega = bs * 50;
        for (size_t start = 0; start < order.size(); start += mega) {
            auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + mega));
            std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(start), end,
                             [&](size_t a, size_t b) { return data.train[a].source.size() > data.train[b].source.size(); });
        }
    }
    std::vector<std::vector<size_t>> batches;
    for (size_t start = 0; start < order.size(); start += bs)
        batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                             order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + bs)));
    return batches;
}

// Batches of example indices for one epoch of a single-process run: a seeded shuffle (the same for a
// resumed run), batched by batches_from_order.
std::vector<std::vector<size_t>> epoch_batches(const TrainingData& data, const TrainingArguments& args, int64_t epoch) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(args.seed) * 1000003ULL + static_cast<uint64_t>(epoch));
    auto perm = torch::randperm(static_cast<int64_t>(data.train.size()), gen, torch::kLong);
    std::vector<size_t> order(static_cast<size_t>(perm.size(0)));
    const int64_t* shuffled = perm.data_ptr<int64_t>();
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<size_t>(shuffled[i]);
    return batches_from_order(std::move(order), data, args);
}

// A rank's batches for one epoch of a data-parallel run: its DistributedSampler shard, cut into
// per_device_train_batch_size batches (group_by_length sorts mega-batches within the shard).
std::vector<std::vector<size_t>> rank_epoch_batches(const TrainingData& data, const TrainingArguments& args, int64_t epoch, const DistributedContext& dist) {
    std::vector<size_t> order = distributed_sampler_indices(data.train.size(), args.seed, epoch, dist.rank(), dist.world_size());
    return batches_from_order(std::move(order), data, args);
}

Seq2SeqBatch collate(const std::vector<TokenizedExample>& examples, const std::vector<size_t>& indices, int64_t pad, torch::Device device) {
    std::vector<TokenIds> src, tgt;
    for (size_t i : indices) {
        src.push_back(examples[i].source);
        tgt.push_back(examples[i].target);
    }
    return make_batch(src, tgt, pad).to(device);
}

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

struct Session {
    const TrainerSetup& setup;
    LoadedModel& loaded;
    AdamW& optimizer;
    TrainerState& state;
    int64_t max_steps;
    int world_size;
    const std::vector<nlohmann::json>* log_history = nullptr;  // HF TrainerState.log_history for trainer_state.json
    double epoch = 0.0;                                        // fractional, HF TrainerState.epoch
};

// What a kill can leave in a run folder: folders being deleted (<name>.deleting, discard_tree),
// unfinished checkpoint or final folders (<name>.tmp) and temporary files (<file>.tmp-<pid>-<n>,
// write_atomically). The run lock is held, so none belongs to a live writer.
void remove_stale_temporaries(const std::string& run_dir) {
    auto ends_with = [](const std::string& s, const std::string& tail) {
        return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
    };
    std::vector<std::string> doomed;
    if (DIR* d = ::opendir(run_dir.c_str())) {
        while (auto* e = ::readdir(d)) {
            const std::string name = e->d_name;
            const bool is_temporary_file = name.find(".tmp-") != std::string::npos &&
                                           name.find_first_not_of("0123456789-", name.rfind(".tmp-") + 5) == std::string::npos;
            if (ends_with(name, ".deleting") || ends_with(name, ".tmp") || is_temporary_file) doomed.push_back(join_path(run_dir, name));
        }
        ::closedir(d);
    }
    for (const auto& path : doomed) remove_tree(path);
}

std::string save_checkpoint(const Session& s) {
    const std::string& run = s.setup.output_dir;
    std::string final_path = join_path(run, "checkpoint-" + std::to_string(s.state.global_step));
    std::string tmp = final_path + ".tmp";
    remove_tree(tmp);
    make_writable_dir(tmp);
    if (s.setup.args.method == TrainingMethod::lora) {
        LoraConfig config = s.setup.args.lora;
        config.base_model_name_or_path = s.setup.model_dir;
        save_adapter(*s.loaded.model, config, tmp);
    } else {
        save_model(*s.loaded.model, s.loaded.generation, tmp);
        copy_tokenizer_files(s.setup.model_dir, tmp);
    }
    std::vector<std::pair<std::string, torch::Tensor>> opt;
    for (auto& [name, t] : s.optimizer.state_tensors()) opt.emplace_back(name, t.to(torch::kCPU));
    if (!opt.empty()) save_safetensors(join_path(tmp, "optimizer.safetensors"), opt, {{"step", std::to_string(s.optimizer.step_count())}});
    auto rng = at::detail::getDefaultCPUGenerator().get_state();
    save_safetensors(join_path(tmp, "rng_state.safetensors"), {{"cpu", rng}});
    nlohmann::json ts = s.state.to_json();
    ts["epoch"] = s.epoch;
    ts["log_history"] = s.log_history ? nlohmann::json(*s.log_history) : nlohmann::json::array();
    ts["max_steps"] = s.max_steps;
    ts["optimizer_step"] = s.optimizer.step_count();
    // The batch layout the data position refers to: a resume with another layout recomputes it.
    ts["world_size"] = s.world_size;
    ts["global_batch_size"] = s.setup.args.per_device_train_batch_size * s.setup.args.gradient_accumulation_steps * s.world_size;
    write_atomically(join_path(tmp, "trainer_state.json"), ts.dump(2) + "\n");
    discard_tree(final_path);
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) throw FileError(final_path, "cannot move the checkpoint into place");
    // Keep the newest save_total_limit checkpoints, and the best one (HF's _rotate_checkpoints).
    std::vector<std::string> all;
    for (const auto& checkpoint : list_checkpoints(run)) all.push_back(checkpoint.second);
    for (const std::string& doomed : checkpoints_to_delete(all, s.state.best_model_checkpoint, s.setup.args.save_total_limit))
        discard_tree(doomed);
    return final_path;
}

// The model's (or adapter's) weights of checkpoint `dir`, copied into the model in place.
void load_checkpoint_weights(const std::string& dir, const Session& s) {
    if (s.setup.args.method == TrainingMethod::lora) {
        // Copy into the adapter tensors AdamW already holds (re-attaching would make new ones).
        SafetensorsFile adapter(join_path(dir, "adapter_model.safetensors"));
        auto params = s.loaded.model->named_parameters();
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
        load_state(*s.loaded.model, state, weights.path());
    }
}

// Returns trainer_state.json, whose batch layout the caller checks.
SavedTrainerState load_checkpoint(const std::string& dir, const Session& s) {
    const SavedTrainerState saved = read_trainer_state(dir);
    s.state = saved.state;
    // The best checkpoint lives in this run folder, wherever the folder has moved since.
    if (!s.state.best_model_checkpoint.empty()) {
        const std::string& best = s.state.best_model_checkpoint;
        s.state.best_model_checkpoint = join_path(s.setup.output_dir, best.substr(best.rfind('/') == std::string::npos ? 0 : best.rfind('/') + 1));
    }
    load_checkpoint_weights(dir, s);
    std::string opt_path = join_path(dir, "optimizer.safetensors");
    NamedTensors opt;
    if (is_file(opt_path)) {
        SafetensorsFile f(opt_path);
        for (const auto& e : f.entries()) opt.emplace_back(e.name, f.load(e.name));
    }
    s.optimizer.load_state(opt, saved.optimizer_step, opt_path);
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

nlohmann::json write_run_json(const TrainerSetup& setup, const TrainingData& data, int64_t max_steps, const std::string& resumed_from,
                              const DistributedContext* dist, const TrainerState& state) {
    nlohmann::json j;
    j["sumlab_version"] = SUMLAB_VERSION;
    j["runtime"] = runtime_versions();
    j["model"] = setup.model_dir;
    j["data"] = setup.data;
    j["init_adapter"] = setup.init_adapter;
    j["arguments"] = setup.args.to_json();
    j["max_steps_resolved"] = max_steps;
    j["train_examples"] = data.train.size();
    j["validation_examples"] = data.validation.size();
    nlohmann::json hashes = nlohmann::json::object();
    for (const auto& f : data.files) hashes[f] = sha256_file(f);
    j["data_sha256"] = hashes;
    if (!resumed_from.empty()) j["resumed_from"] = resumed_from;
    if (dist)
        j["distributed"] = {{"world_size", dist->world_size()}, {"backend", "gloo"}, {"launcher", dist->env().source},
                            {"global_batch_size", setup.args.per_device_train_batch_size * setup.args.gradient_accumulation_steps * dist->world_size()}};
    j["started_at"] = static_cast<int64_t>(std::time(nullptr));
    if (!state.best_model_checkpoint.empty()) {
        j["best_model_checkpoint"] = state.best_model_checkpoint;
        j["best_metric"] = state.best_metric ? nlohmann::json(*state.best_metric) : nlohmann::json(nullptr);
    }
    write_atomically(join_path(setup.output_dir, "run.json"), j.dump(2) + "\n");
    return j;
}

// run.json again with the new best checkpoint (HF keeps it in TrainerState only; the Runs page reads it here).
void record_best(nlohmann::json& run_json, const TrainerState& state, const std::string& output_dir) {
    run_json["best_model_checkpoint"] = state.best_model_checkpoint;
    run_json["best_metric"] = state.best_metric ? nlohmann::json(*state.best_metric) : nlohmann::json(nullptr);
    write_atomically(join_path(output_dir, "run.json"), run_json.dump(2) + "\n");
}

// load_best_model_at_end (HF's _load_best_model): the best checkpoint's weights into the model, so final/ is
// that checkpoint; a best checkpoint that has gone (deleted by hand) leaves the last weights, with a word.
void load_best_model(const Session& s, const TrainerCallbacks& callbacks) {
    const std::string& best = s.state.best_model_checkpoint;
    if (!s.setup.args.load_best_model_at_end || best.empty()) return;
    char value[64] = "";
    if (s.state.best_metric) std::snprintf(value, sizeof value, "%.6g", *s.state.best_metric);
    if (!is_file(join_path(best, "trainer_state.json"))) {
        if (callbacks.on_message) callbacks.on_message("could not find the best model at " + best + "; final/ holds the last weights");
        return;
    }
    load_checkpoint_weights(best, s);
    if (callbacks.on_message) callbacks.on_message("loading the best model from " + best + " (" + s.setup.args.best_metric_key() + " " + value + ")");
}

// Every rank continues from rank 0's state: its weights (fresh or resumed), and when resuming its
// optimizer moments, RNG and progress, so only rank 0 needs to see the run folder.
void sync_from_main(DistributedContext& dist, const Session& s, bool resuming) {
    std::vector<torch::Tensor> weights;
    for (const auto& p : s.loaded.model->named_parameters()) weights.push_back(p.value());
    dist.broadcast(weights);
    if (!resuming) return;
    nlohmann::json progress = s.state.to_json();
    progress["optimizer_step"] = s.optimizer.step_count();
    progress = nlohmann::json::parse(dist.broadcast_string(progress.dump()));
    s.state = TrainerState::from_json(progress, "rank 0's trainer state");
    const int64_t optimizer_step = progress.at("optimizer_step").get<int64_t>();
    if (optimizer_step > 0) {
        std::vector<std::pair<std::string, torch::Tensor>> moments;
        for (const auto& p : s.optimizer.params()) {
            moments.emplace_back("exp_avg." + p.name, p.exp_avg.defined() ? p.exp_avg : torch::zeros_like(p.param));
            moments.emplace_back("exp_avg_sq." + p.name, p.exp_avg_sq.defined() ? p.exp_avg_sq : torch::zeros_like(p.param));
        }
        std::vector<torch::Tensor> tensors;
        for (auto& m : moments) tensors.push_back(m.second);
        dist.broadcast(tensors);
        if (!dist.is_main()) s.optimizer.load_state(moments, optimizer_step, "rank 0's optimizer state");
    }
    torch::Tensor rng = at::detail::getDefaultCPUGenerator().get_state();
    dist.broadcast({rng});
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    gen.set_state(rng);
}

}  // namespace

Trainer::Trainer(TrainerSetup setup, TrainerCallbacks callbacks, TrainerControl* control)
    : setup_(std::move(setup)), callbacks_(std::move(callbacks)), control_(control) {}

TrainResult Trainer::run() {
    setup_.args.validate("training settings");
    if (!setup_.distributed.is_distributed()) return run_pipeline(nullptr);
    // Join the other ranks first, so a rank that fails later (a locked folder, bad data) breaks the
    // group at once instead of leaving the others waiting at start-up.
    DistributedContext dist(setup_.distributed, std::chrono::seconds(setup_.args.ddp_timeout));
    try {
        return run_pipeline(&dist);
    } catch (const DistributedError& e) {
        if (dist.is_main()) write_status(setup_.output_dir, RunStatus::failed, global_step_, e.what());
        throw;
    }
}

TrainResult Trainer::run_pipeline(DistributedContext* dist) {
    const TrainingArguments& args = setup_.args;
    const bool is_main = !dist || dist->is_main();  // rank 0 alone writes the run folder
    std::unique_ptr<RunLock> lock;
    if (is_main) {
        make_writable_dir(setup_.output_dir);
        lock = std::make_unique<RunLock>(setup_.output_dir);
        remove_stale_temporaries(setup_.output_dir);
    }
    auto notify = [&](RunStatus st, int64_t step, const std::string& msg = {}) {
        if (is_main) write_status(setup_.output_dir, st, step, msg);
        if (callbacks_.on_status) callbacks_.on_status(st);
    };
    std::string device_name = args.device;
    if (dist && device_name == "cuda") device_name += ":" + std::to_string(dist->env().local_rank);
    torch::Device device(device_name);
    torch::manual_seed(static_cast<uint64_t>(args.seed));

    // 1. Data: DialogSum -> prompt -> tokens.
    T5Tokenizer tokenizer = T5Tokenizer::from_directory(setup_.model_dir);
    TrainingData data = prepare_data(setup_, tokenizer);
    if (callbacks_.on_message && is_main)
        for (const std::string& note : data.notes) callbacks_.on_message(note);
    const int64_t pad = tokenizer.pad_token_id();

    // 2. Model: the base weights, then a fresh or given LoRA adapter; only trainable tensors reach AdamW.
    LoadedModel loaded = load_model(setup_.model_dir, device, args.dropout_rate);
    if (args.method == TrainingMethod::lora) {
        if (setup_.init_adapter.empty()) apply_lora(*loaded.model, args.lora);
        else setup_.args.lora = load_adapter(*loaded.model, setup_.init_adapter);  // the adapter's own r, alpha, targets
    }
    // bf16 products run on oneDNN, on LibTorch's OpenMP threads; fp32 keeps the start-up policy (OpenBLAS's).
    if (args.bf16) use_threads_for(torch::kBFloat16);
    const TrainableParameters trainable = trainable_parameters_of(*loaded.model);
    const std::vector<torch::Tensor>& trainable_tensors = trainable.tensors;
    AdamW optimizer(trainable.named, args);

    // 3. Schedule: optimizer steps per epoch and in all, as HF counts them (per rank: its shard).
    const int world_size = dist ? dist->world_size() : 1;
    const int64_t samples_per_rank = (static_cast<int64_t>(data.train.size()) + world_size - 1) / world_size;
    const int64_t batches_per_epoch = (samples_per_rank + args.per_device_train_batch_size - 1) / args.per_device_train_batch_size;
    const int64_t steps_per_epoch = (batches_per_epoch + args.gradient_accumulation_steps - 1) / args.gradient_accumulation_steps;
    const int64_t max_steps = args.max_steps > 0 ? args.max_steps : static_cast<int64_t>(std::ceil(args.num_train_epochs * static_cast<double>(steps_per_epoch)));
    const int64_t warmup = args.warmup_steps > 0 ? args.warmup_steps : static_cast<int64_t>(std::ceil(args.warmup_ratio * static_cast<double>(max_steps)));

    TrainerState state;
    std::vector<nlohmann::json> log_history;  // the metrics lines so far, HF's TrainerState.log_history
    Session session{setup_, loaded, optimizer, state, max_steps, world_size, &log_history};
    std::string resume = is_main ? resolve_resume(setup_) : std::string();
    if (!resume.empty()) {
        const SavedTrainerState saved = load_checkpoint(resume, session);
        // A checkpoint from another batch layout (more or fewer ranks, another batch size): the
        // data position follows from the global step and this run's steps per epoch.
        const int64_t global_batch = args.per_device_train_batch_size * args.gradient_accumulation_steps * world_size;
        if (saved.world_size != world_size || saved.global_batch_size.value_or(global_batch) != global_batch) {
            state.epoch = state.global_step / steps_per_epoch;
            state.epoch_step = state.global_step % steps_per_epoch;
            if (callbacks_.on_message)
                callbacks_.on_message("resuming a checkpoint of " + std::to_string(saved.world_size) + " process(es) with " +
                                      std::to_string(world_size) + ": data position recomputed from step " + std::to_string(state.global_step));
        }
        truncate_metrics(join_path(setup_.output_dir, "metrics.jsonl"), state.global_step);
        truncate_metrics(join_path(setup_.output_dir, kEvalPredictionsFile), state.global_step);
        log_history = saved.log_history;
    } else if (is_main) {
        // Starting over (no checkpoint to resume, e.g. killed before the first one): the lines a
        // killed attempt logged would otherwise precede this run's steps 1, 2, ...
        truncate_metrics(join_path(setup_.output_dir, "metrics.jsonl"), 0);
        truncate_metrics(join_path(setup_.output_dir, kEvalPredictionsFile), 0);
    }
    if (dist) sync_from_main(*dist, session, !setup_.resume_from.empty());
    nlohmann::json run_json;
    if (is_main) run_json = write_run_json(setup_, data, max_steps, resume, dist, state);
    std::unique_ptr<MetricsWriter> metrics, predictions;
    if (is_main) metrics = std::make_unique<MetricsWriter>(join_path(setup_.output_dir, "metrics.jsonl"));
    if (is_main && args.predict_with_generate) predictions = std::make_unique<MetricsWriter>(join_path(setup_.output_dir, kEvalPredictionsFile));
    auto append_metrics = [&](const nlohmann::json& line) {
        if (metrics) metrics->append(line);
        if (line.contains("loss") || line.contains("eval_loss")) log_history.push_back(line);
    };
    const GenerationConfig eval_generation = eval_generation_config(loaded.generation, args);
    notify(RunStatus::running, state.global_step);

    TrainResult result;
    loaded.model->train();
    auto batches_of_epoch = [&](int64_t epoch) { return dist ? rank_epoch_batches(data, args, epoch, *dist) : epoch_batches(data, args, epoch); };
    std::vector<std::vector<size_t>> batches = batches_of_epoch(state.epoch);
    std::optional<EvalMetrics> step_eval;  // the evaluation of the current step, whose metrics a save judges
    bool stop_early = false;
    auto save = [&]() {
        const std::string checkpoint = join_path(setup_.output_dir, "checkpoint-" + std::to_string(state.global_step));
        const bool is_new_best = step_eval && update_best(state, *step_eval, args, checkpoint);
        session.epoch = static_cast<double>(state.epoch) + static_cast<double>(state.epoch_step) / static_cast<double>(steps_per_epoch);
        if (is_main) {
            if (is_new_best) record_best(run_json, state, setup_.output_dir);
            result.last_checkpoint = save_checkpoint(session);
            if (callbacks_.on_save) callbacks_.on_save(result.last_checkpoint, state.global_step);
        }
        // The other ranks wait for the write with a long timeout of its own, not --ddp-timeout.
        if (dist) dist->wait_for_main("checkpoint-" + std::to_string(state.global_step), std::max(std::chrono::seconds(args.ddp_timeout), kCheckpointWait));
    };
    auto run_eval = [&]() {
        EvalMetrics m = evaluate(*loaded.model, data.validation, args.per_device_eval_batch_size, pad, device, dist, args.bf16,
                                 args.label_smoothing_factor);
        m.step = state.global_step;
        m.epoch = static_cast<double>(state.epoch) + static_cast<double>(state.epoch_step) / static_cast<double>(steps_per_epoch);
        if (args.predict_with_generate && !data.generation.empty()) {
            // Seq2SeqTrainer's predict_with_generate: summaries of the same first examples each time, scored with ROUGE.
            const GenerationEval generated = generate_and_score(*loaded.model, tokenizer, data.generation, eval_generation,
                                                                args.per_device_eval_batch_size, args.max_source_length, kKeptPredictions, dist);
            set_rouge(m, generated);
            if (predictions) predictions->append(to_json(EvalPredictions{m.step, m.epoch, generated.kept}));
        }
        append_metrics(to_json(m));
        if (callbacks_.on_evaluate) callbacks_.on_evaluate(m);
        step_eval = m;
        stop_early = early_stopping_should_stop(state, m, args);  // before the save judges the best, as HF's callback
    };

    while (state.global_step < max_steps && !stop_early) {
        global_step_ = state.global_step;
        step_eval.reset();
        // Stop and pause are honoured between steps; a stop always leaves a checkpoint. Ranks agree
        // on a stop (any rank's signal stops all at the same step); pause is single-process only.
        if (!dist && control_ && control_->pause.load()) {
            notify(RunStatus::paused, state.global_step);
            while (control_->pause.load() && !control_->stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
            if (!control_->stop.load()) notify(RunStatus::running, state.global_step);
        }
        bool stop = control_ && control_->stop.load();
        if (dist) stop = dist->allreduce_max({stop ? 1.0 : 0.0})[0] > 0.0;
        if (stop) {
            save();
            notify(RunStatus::stopped, state.global_step);
            result.status = RunStatus::stopped;
            break;
        }
        if (callbacks_.before_step) callbacks_.before_step(*loaded.model, state.global_step);
        auto t0 = Clock::now();
        // 4. One optimizer step's gradients, accumulated over its batches (and summed over ranks).
        const int64_t first = state.epoch_step * args.gradient_accumulation_steps;
        const int64_t last = std::min<int64_t>(first + args.gradient_accumulation_steps, batches_per_epoch);
        std::vector<Seq2SeqBatch> micro;
        for (int64_t b = first; b < last; ++b) micro.push_back(collate(data.train, batches[static_cast<size_t>(b)], pad, device));
        const AccumulatedLoss step = accumulate_gradients(*loaded.model, micro, dist, trainable_tensors, args.bf16, args.label_smoothing_factor);
        if (callbacks_.after_backward) callbacks_.after_backward(*loaded.model, state.global_step);
        const double step_loss = step.loss;
        const int64_t step_all_tokens = step.all_tokens;
        double grad_norm = clip_grad_norm(trainable_tensors, args.max_grad_norm);
        const double lr = args.learning_rate * schedule_factor(args.lr_scheduler_type, state.global_step, warmup, max_steps);
        if (!std::isfinite(step_loss) || !std::isfinite(grad_norm)) {
            // 5. A NaN/inf step changes nothing; several in a row end the run with the last checkpoint kept.
            optimizer.zero_grad();
            ++state.bad_steps_in_a_row;
            std::string msg = "step " + std::to_string(state.global_step + 1) + ": loss is " + std::to_string(step_loss) + ", step skipped";
            if (callbacks_.on_message) callbacks_.on_message(msg);
            append_metrics({{"step", state.global_step}, {"event", "skipped_step"}, {"message", msg}});
            if (state.bad_steps_in_a_row >= kMaxConsecutiveBadSteps) {
                std::string why = std::to_string(kMaxConsecutiveBadSteps) + " steps in a row had a NaN or infinite loss; the run stopped (lower learning_rate?)";
                notify(RunStatus::failed, state.global_step, why);
                throw Error(setup_.output_dir + ": " + why);
            }
        } else {
            optimizer.step(lr);
            optimizer.zero_grad();
            state.bad_steps_in_a_row = 0;
            state.last_loss = step_loss;
            state.log_loss_sum += step_loss;
            ++state.log_steps;
        }
        ++state.global_step;
        ++state.epoch_step;
        state.tokens_seen += step_all_tokens;
        state.log_tokens += step_all_tokens;
        double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        state.log_seconds += seconds;
        state.elapsed_s += seconds;

        // 6. Metrics, evaluation and checkpoints at HF's moments.
        const bool epoch_done = state.epoch_step >= steps_per_epoch;
        const double epoch_f = static_cast<double>(state.epoch) + static_cast<double>(state.epoch_step) / static_cast<double>(steps_per_epoch);
        if (state.global_step % args.logging_steps == 0 || state.global_step == max_steps) {
            if (state.log_steps > 0) {
                StepMetrics m = step_metrics(state, max_steps, epoch_f, lr, grad_norm);
                append_metrics(to_json(m));
                if (callbacks_.on_log) callbacks_.on_log(m);
            }
            state.log_loss_sum = 0.0;
            state.log_steps = 0;
            state.log_tokens = 0;
            state.log_seconds = 0.0;
        }
        if ((args.eval_strategy == IntervalStrategy::steps && state.global_step % args.eval_steps == 0) ||
            (args.eval_strategy == IntervalStrategy::epoch && epoch_done))
            run_eval();
        if (epoch_done) {
            ++state.epoch;
            state.epoch_step = 0;
            batches = batches_of_epoch(state.epoch);
        }
        if ((args.save_strategy == IntervalStrategy::steps && state.global_step % args.save_steps == 0) ||
            (args.save_strategy == IntervalStrategy::epoch && epoch_done))
            save();
    }

    result.global_step = state.global_step;
    result.final_loss = state.last_loss;
    result.best_model_checkpoint = state.best_model_checkpoint;
    result.best_metric = state.best_metric;
    if (result.status == RunStatus::stopped) return result;
    result.status = RunStatus::finished;
    if (stop_early) result.message = early_stopping_message(state, args);
    if (!is_main) return result;
    // 7. The final model or adapter (the best checkpoint's with load_best_model_at_end), as Hugging Face files.
    load_best_model(session, callbacks_);
    std::string final_dir = join_path(setup_.output_dir, "final");
    std::string tmp = final_dir + ".tmp";
    remove_tree(tmp);
    make_writable_dir(tmp);
    if (args.method == TrainingMethod::lora) {
        LoraConfig config = args.lora;
        config.base_model_name_or_path = setup_.model_dir;
        save_adapter(*loaded.model, config, tmp);
    } else {
        save_model(*loaded.model, loaded.generation, tmp);
        copy_tokenizer_files(setup_.model_dir, tmp);
    }
    discard_tree(final_dir);
    if (::rename(tmp.c_str(), final_dir.c_str()) != 0) throw FileError(final_dir, "cannot move the final model into place");
    result.final_dir = final_dir;
    result.status = RunStatus::finished;
    notify(RunStatus::finished, state.global_step, result.message);
    return result;
}

namespace {

// A count of a metrics line (absent: 0); nullopt for anything but a whole number that fits, where
// json::value<int64_t> would convert 1e300 (undefined behaviour) or wrap 2^64-1.
std::optional<int64_t> count_field(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end()) return 0;
    if (!is_int64(*it)) return std::nullopt;
    return it->get<int64_t>();
}

// Adds one metrics line to `info`; a line with a count that is not one is skipped (other values
// of the wrong type throw json::exception, which skips the line too).
void read_metrics_line(const nlohmann::json& j, RunInfo& info) {
    const auto step = count_field(j, "step");
    if (!step) return;
    if (j.contains("eval_loss")) {
        EvalMetrics m;
        const auto tokens = count_field(j, "eval_tokens");
        if (!tokens) return;
        m.step = *step;
        m.epoch = j.value("epoch", 0.0);
        m.eval_loss = j.value("eval_loss", 0.0);
        m.eval_tokens = *tokens;
        if (j.contains("eval_rouge1")) {
            const auto generated = count_field(j, "eval_generated");
            if (!generated) return;
            m.has_rouge = true;
            m.eval_rouge1 = j.value("eval_rouge1", 0.0);
            m.eval_rouge2 = j.value("eval_rouge2", 0.0);
            m.eval_rougeL = j.value("eval_rougeL", 0.0);
            m.eval_rougeLsum = j.value("eval_rougeLsum", 0.0);
            m.eval_gen_len = j.value("eval_gen_len", 0.0);
            m.eval_generated = *generated;
        }
        info.evals.push_back(m);
    } else if (j.contains("loss")) {
        StepMetrics m;
        const auto max_steps = count_field(j, "max_steps"), tokens_seen = count_field(j, "tokens_seen");
        if (!max_steps || !tokens_seen) return;
        m.step = *step;
        m.max_steps = *max_steps;
        m.epoch = j.value("epoch", 0.0);
        m.loss = j.value("loss", 0.0);
        m.learning_rate = j.value("learning_rate", 0.0);
        m.grad_norm = j.value("grad_norm", 0.0);
        m.tokens_per_second = j.value("tokens_per_second", 0.0);
        m.tokens_seen = *tokens_seen;
        m.elapsed_s = j.value("elapsed_s", 0.0);
        m.eta_s = j.value("eta_s", 0.0);
        info.logs.push_back(m);
    }
}

}  // namespace

nlohmann::json TrainerState::to_json() const {
    return {{"global_step", global_step}, {"epoch_index", epoch}, {"epoch_step", epoch_step}, {"tokens_seen", tokens_seen},
            {"log_loss_sum", log_loss_sum}, {"log_steps", log_steps}, {"log_tokens", log_tokens}, {"log_seconds", log_seconds},
            {"elapsed_s", elapsed_s}, {"bad_steps_in_a_row", bad_steps_in_a_row}, {"last_loss", last_loss},
            // HF TrainerState's keys: null until a best is known.
            {"best_metric", best_metric ? nlohmann::json(*best_metric) : nlohmann::json(nullptr)},
            {"best_model_checkpoint", best_model_checkpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(best_model_checkpoint)},
            {"early_stopping_patience_counter", early_stopping_patience_counter}};
}

TrainerState TrainerState::from_json(const nlohmann::json& j, const std::string& path) {
    if (!j.is_object()) throw FileError(path, "not a SumLab trainer state: not a JSON object");
    auto field = [&](const char* key, bool is_count) -> const nlohmann::json& {
        const auto it = j.find(key);
        if (it == j.end()) throw FileError(path, std::string("not a SumLab trainer state: no \"") + key + "\"");
        if (is_count ? !is_int64(*it) : !it->is_number())
            throw FileError(path, std::string("not a SumLab trainer state: \"") + key + "\" is not " +
                                      (is_count ? "a whole number" : "a number"));
        return *it;
    };
    auto count = [&](const char* key) { return field(key, true).get<int64_t>(); };
    auto number = [&](const char* key) { return field(key, false).get<double>(); };
    TrainerState s;
    s.global_step = count("global_step");
    s.epoch = count("epoch_index");
    s.epoch_step = count("epoch_step");
    s.tokens_seen = count("tokens_seen");
    s.log_loss_sum = number("log_loss_sum");
    s.log_steps = count("log_steps");
    s.log_tokens = count("log_tokens");
    s.log_seconds = number("log_seconds");
    s.elapsed_s = number("elapsed_s");
    s.bad_steps_in_a_row = count("bad_steps_in_a_row");
    s.last_loss = number("last_loss");
    if (s.global_step < 0 || s.epoch < 0 || s.epoch_step < 0) throw FileError(path, "negative step counts");
    // Keys of later versions: absent (older checkpoints) or null mean none.
    if (j.contains("best_metric") && !j["best_metric"].is_null()) s.best_metric = number("best_metric");
    if (j.contains("best_model_checkpoint") && !j["best_model_checkpoint"].is_null()) {
        if (!j["best_model_checkpoint"].is_string()) throw FileError(path, "not a SumLab trainer state: \"best_model_checkpoint\" is not a path");
        s.best_model_checkpoint = j["best_model_checkpoint"].get<std::string>();
    }
    if (j.contains("early_stopping_patience_counter")) s.early_stopping_patience_counter = count("early_stopping_patience_counter");
    return s;
}

SavedTrainerState read_trainer_state(const std::string& checkpoint_dir) {
    const std::string path = join_path(checkpoint_dir, "trainer_state.json");
    if (!is_file(path)) throw FileError(checkpoint_dir, "is not a checkpoint (no trainer_state.json)");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw FileError(path, std::string("invalid JSON: ") + e.what());
    }
    SavedTrainerState saved;
    saved.state = TrainerState::from_json(j, path);
    // Keys later versions added: absent in older checkpoints, of the wrong type in a damaged one.
    auto optional_count = [&](const char* key, int64_t min, int64_t max) -> std::optional<int64_t> {
        const auto it = j.find(key);
        if (it == j.end()) return std::nullopt;
        if (!is_int64(*it) || it->get<int64_t>() < min || it->get<int64_t>() > max)
            throw FileError(path, std::string("\"") + key + "\" must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
        return it->get<int64_t>();
    };
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    saved.optimizer_step = optional_count("optimizer_step", 0, kMax).value_or(saved.state.global_step);
    saved.world_size = static_cast<int>(optional_count("world_size", 1, std::numeric_limits<int>::max()).value_or(1));
    saved.global_batch_size = optional_count("global_batch_size", 1, kMax);
    if (j.contains("log_history") && j["log_history"].is_array())
        for (const auto& line : j["log_history"])
            if (line.is_object()) saved.log_history.push_back(line);
    return saved;
}

RunInfo read_run(const std::string& dir) {
    RunInfo info;
    info.dir = dir;
    std::string run_json = join_path(dir, "run.json");
    if (!is_file(run_json)) throw FileError(dir, "is not a SumLab run folder (no run.json)");
    try {
        info.config = nlohmann::json::parse(read_file(run_json));
    } catch (const nlohmann::json::exception& e) {
        throw FileError(run_json, std::string("invalid JSON: ") + e.what());
    }
    std::string metrics = join_path(dir, "metrics.jsonl");
    if (is_file(metrics)) {
        std::string text = read_file(metrics);
        size_t pos = 0;
        while (pos < text.size()) {
            size_t end = text.find('\n', pos);
            if (end == std::string::npos) break;  // a line still being written
            std::string line = text.substr(pos, end - pos);
            pos = end + 1;
            // A line cut short by a kill, or one with a value of the wrong type, is skipped: the
            // curve keeps every line that can be read.
            try {
                auto j = nlohmann::json::parse(line);
                read_metrics_line(j, info);
            } catch (const nlohmann::json::exception&) {
                continue;
            }
        }
    }
    const std::string predictions = join_path(dir, kEvalPredictionsFile);
    if (is_file(predictions)) {
        const std::string text = read_file(predictions);
        size_t pos = 0;
        while (pos < text.size()) {
            const size_t end = text.find('\n', pos);
            if (end == std::string::npos) break;  // a line still being written
            try {
                if (auto p = eval_predictions_from_json(nlohmann::json::parse(text.substr(pos, end - pos)))) info.predictions.push_back(*p);
            } catch (const nlohmann::json::exception&) {
            }
            pos = end + 1;
        }
    }
    if (info.config.is_object() && info.config.contains("best_model_checkpoint") && info.config["best_model_checkpoint"].is_string()) {
        info.best_model_checkpoint = info.config["best_model_checkpoint"].get<std::string>();
        if (info.config.contains("best_metric") && info.config["best_metric"].is_number()) info.best_metric = info.config["best_metric"].get<double>();
    }
    auto checkpoints = list_checkpoints(dir);
    if (!checkpoints.empty()) info.last_checkpoint = checkpoints.back().second;
    std::string recorded = "stopped";
    std::string status_path = join_path(dir, "status.json");
    if (is_file(status_path)) {
        try {
            auto s = nlohmann::json::parse(read_file(status_path));
            recorded = s.value("status", "stopped");
            info.error = s.value("message", "");
        } catch (const nlohmann::json::exception&) {
        }
    }
    const bool live = run_is_locked(dir);
    if (is_directory(join_path(dir, "final")) && recorded == "finished") info.status = RunStatus::finished;
    else if (live) info.status = recorded == "paused" ? RunStatus::paused : RunStatus::running;
    else if (recorded == "failed") info.status = RunStatus::failed;
    else if (recorded == "running" || recorded == "paused") {
        info.status = RunStatus::failed;  // its process died without a word
        if (info.error.empty()) info.error = "the training process ended unexpectedly";
    } else info.status = RunStatus::stopped;
    return info;
}

}  // namespace sumlab
