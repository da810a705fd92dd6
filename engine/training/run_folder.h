// The files of a training run folder, their writers and their readers. Written so that a kill at any
// moment loses nothing finished: run.json and status.json are replaced atomically, metrics.jsonl is
// appended and flushed line by line, and a checkpoint is written under a temporary name and renamed
// into place. Read back by a resume (read_trainer_state), the Runs page and the Train page (read_run,
// read_run_config): run.json is parsed here and nowhere else.
//   run.json                the configuration (RunConfig): arguments, model, data and their hashes, versions
//   status.json             running / paused / stopped / finished / failed, with the step and a message
//   metrics.jsonl           one line per logging step (StepMetrics) or evaluation (EvalMetrics)
//   eval_predictions.jsonl  per evaluation with predict_with_generate, the first generated summaries
//   checkpoint-N/           weights, optimizer and RNG state, trainer_state.json (TrainerState)
//   final/                  the trained model or adapter
#pragma once

#include "engine/training/training_arguments.h"
#include "engine/training/training_metrics.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sumlab {

// Held by the process that trains into a run folder (flock on run_dir/.lock), so the GUI can tell
// a live run from one whose process died.
class RunLock {
public:
    explicit RunLock(const std::string& run_dir);  // throws FileError when another process holds it
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

private:
    int fd_ = -1;
};
bool run_is_locked(const std::string& run_dir);

// Appends metrics lines, each flushed to disk before the call returns.
class MetricsWriter {
public:
    explicit MetricsWriter(const std::string& path);
    ~MetricsWriter();
    void append(const nlohmann::json& line);

private:
    std::string path_;
    std::FILE* file_ = nullptr;
};

nlohmann::json to_json(const StepMetrics& m);
// The evaluation line: eval_loss and eval_tokens, plus eval_rouge1/2/L/Lsum, eval_gen_len and eval_generated
// when it generated (predict_with_generate).
nlohmann::json to_json(const EvalMetrics& m);
// An eval_predictions.jsonl line: {"step", "epoch", "predictions": [{"id", "prediction", "reference"}, ...]}.
nlohmann::json to_json(const EvalPredictions& p);
// Reads an eval_predictions.jsonl line; nullopt for one of another shape (a torn or edited line).
std::optional<EvalPredictions> eval_predictions_from_json(const nlohmann::json& j);

// The run folder's file of kept generated summaries (appended like metrics.jsonl, cut back like it on resume).
inline constexpr const char* kEvalPredictionsFile = "eval_predictions.jsonl";

// Keeps only the metrics lines up to `step` (a resumed run logs the later steps again); the same for
// eval_predictions.jsonl, whose lines also carry "step".
void truncate_metrics(const std::string& path, int64_t step);

void write_status(const std::string& run_dir, RunStatus status, int64_t step, const std::string& message = {});

// checkpoint-N folders of a run, oldest first.
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& run_dir);

// SHA-256 of a file as lowercase hex (OpenSSL), for run.json's record of the data used.
std::string sha256_file(const std::string& path);

// Removes a folder and everything in it (checkpoints beyond save_total_limit, stale temporaries).
void remove_tree(const std::string& path);

// Removes what a kill can leave in a run folder: folders being deleted (<name>.deleting), unfinished
// checkpoint or final folders (<name>.tmp) and temporary files (<file>.tmp-<pid>-<n>). Call it holding the
// run lock, so none belongs to a live writer.
void remove_stale_temporaries(const std::string& run_dir);
// The same for a folder whose name means "complete" (checkpoint-N, final): it is first renamed to
// path + ".deleting", so a kill in the middle never leaves a half-deleted folder under that name.
void discard_tree(const std::string& path);

// mkdir -p; throws FileError naming the folder, also when it exists but is not writable.
void make_writable_dir(const std::string& path);

// ---- run.json ----

// What a run was started with: run.json, written when the run starts (again on a resume) and rewritten
// when the best checkpoint changes. Keys absent from the file (older versions) keep these defaults.
struct RunConfig {
    std::string sumlab_version;            // SUMLAB_VERSION of the trainer that wrote it
    std::string runtime;                   // runtime_versions() (LibTorch, BLAS, threads)
    std::string model;                     // the base model folder
    std::string data;                      // the DialogSum folder or file
    std::string init_adapter;              // LoRA: the adapter it started from; empty for a fresh one
    TrainingArguments arguments;           // "arguments": TrainingArguments::to_json(), checked by from_json
    int64_t max_steps_resolved = 0;        // optimizer steps the run plans (max_steps, or epochs x steps per epoch)
    int64_t train_examples = 0, validation_examples = 0;  // after the selection (limit, every_kth)
    std::map<std::string, std::string> data_sha256;       // each data file read -> SHA-256, lowercase hex
    std::string resumed_from;              // the checkpoint this attempt continued, empty when started fresh
    struct Distributed {
        int64_t world_size = 1;
        std::string backend;               // "gloo"
        std::string launcher;              // DistributedEnv::source: "torchrun" or "slurm"
        int64_t global_batch_size = 0;     // examples per optimizer step over all ranks
    };
    std::optional<Distributed> distributed;  // data-parallel runs only
    int64_t started_at = 0;                // Unix seconds; 0: not recorded
    std::string best_model_checkpoint;     // HF TrainerState.best_model_checkpoint, empty while none is tracked
    std::optional<double> best_metric;     // its metric (null in the file until known)

    nlohmann::json to_json() const;
    // Throws ConfigError naming `path` and the key when run.json is not an object, lacks "model" or
    // "arguments", or holds a value of the wrong type or out of range.
    static RunConfig from_json(const nlohmann::json& j, const std::string& path);
};
// Reads run_dir/run.json; FileError when it is missing or not JSON, ConfigError as RunConfig::from_json.
RunConfig read_run_config(const std::string& run_dir);
// Replaces run_dir/run.json atomically.
void write_run_config(const std::string& run_dir, const RunConfig& config);

// ---- checkpoint-N/trainer_state.json ----

// Mutable progress of a run; each checkpoint's trainer_state.json holds exactly this, plus the keys
// of SavedTrainerState.
struct TrainerState {
    int64_t global_step = 0;
    int64_t epoch = 0;          // current epoch index
    int64_t epoch_step = 0;     // optimizer steps done within the current epoch
    int64_t tokens_seen = 0;
    double log_loss_sum = 0.0;  // per-step losses since the last log line
    int64_t log_steps = 0;
    int64_t log_tokens = 0;
    double log_seconds = 0.0;
    double elapsed_s = 0.0;
    int64_t bad_steps_in_a_row = 0;
    double last_loss = 0.0;
    // HF TrainerState's best_metric / best_model_checkpoint (the checkpoint folder's path), and the
    // EarlyStoppingCallback's counter (kept here so a resumed run stops where an uninterrupted one would).
    std::optional<double> best_metric;
    std::string best_model_checkpoint;
    int64_t early_stopping_patience_counter = 0;

    nlohmann::json to_json() const;
    // Throws FileError naming `path` when a key is missing, of the wrong type, or a step count negative.
    static TrainerState from_json(const nlohmann::json& j, const std::string& path);
};

// A checkpoint's trainer_state.json as a resume reads it.
struct SavedTrainerState {
    TrainerState state;
    int64_t optimizer_step = 0;                // AdamW steps taken (absent in older checkpoints: global_step)
    int world_size = 1;                        // processes that trained it (absent: 1)
    std::optional<int64_t> global_batch_size;  // examples per optimizer step over all ranks, when recorded
    std::vector<nlohmann::json> log_history;   // HF's log_history: the metrics lines up to the checkpoint (absent: none)
};
// Writes checkpoint_dir/trainer_state.json atomically: the state, the keys of SavedTrainerState, and
// HF's epoch (fractional) and max_steps, which only people read.
void write_trainer_state(const std::string& checkpoint_dir, const SavedTrainerState& saved, double epoch, int64_t max_steps);
// Reads checkpoint_dir/trainer_state.json; throws FileError naming the file on anything it cannot use.
SavedTrainerState read_trainer_state(const std::string& checkpoint_dir);

// ---- The whole folder ----

// A run folder for the GUI: run.json, the metrics lines, and a status inferred from the files
// (finished when final/ exists, running when the owner's lock is held, else stopped/failed).
struct RunInfo {
    std::string dir;
    nlohmann::json config;                 // run.json as it is (the Runs page's configuration diff shows every key)
    std::optional<RunConfig> run_config;   // run.json typed; empty when RunConfig::from_json refused it
    std::string config_error;              // why it refused it (names run.json and the key)
    std::vector<StepMetrics> logs;
    std::vector<EvalMetrics> evals;
    RunStatus status = RunStatus::stopped;
    std::string last_checkpoint;
    std::string error;                     // last error line when failed; for a finished run, why it ended early
    std::string best_model_checkpoint;     // run.json's (HF's TrainerState), empty when none
    std::optional<double> best_metric;
    std::vector<EvalPredictions> predictions;  // eval_predictions.jsonl
};
// Throws FileError when dir has no run.json or it is not JSON; lines of metrics.jsonl and
// eval_predictions.jsonl it cannot read (cut short by a kill, edited) are skipped.
RunInfo read_run(const std::string& dir);

}  // namespace sumlab
