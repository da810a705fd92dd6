// The files of a training run folder, written so that a kill at any moment loses nothing finished:
// run.json and status.json are replaced atomically, metrics.jsonl is appended and flushed line by
// line, and a checkpoint is written under a temporary name and renamed into place.
#pragma once

#include "engine/training/trainer.h"

#include <nlohmann/json.hpp>

#include <cstdio>
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
// The same for a folder whose name means "complete" (checkpoint-N, final): it is first renamed to
// path + ".deleting", so a kill in the middle never leaves a half-deleted folder under that name.
void discard_tree(const std::string& path);

// mkdir -p; throws FileError naming the folder, also when it exists but is not writable.
void make_writable_dir(const std::string& path);

}  // namespace sumlab
