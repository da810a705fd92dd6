// What a run reports, as plain values: a metrics.jsonl logging line, an evaluation line, the kept summaries of
// eval_predictions.jsonl and the run's status. No LibTorch, no Qt: the trainer fills them, run_folder.h writes and
// reads them, and the GUI carries them across threads as they are (ui/TrainingMetrics.h registers them with Qt).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sumlab {

// A metrics.jsonl line. Logging lines carry loss/learning_rate/grad_norm; evaluation lines eval_loss.
struct StepMetrics {
    int64_t step = 0;             // optimizer steps done
    int64_t max_steps = 0;
    double epoch = 0.0;           // fractional, as HF logs it
    double loss = 0.0;            // mean training loss since the previous log line
    double learning_rate = 0.0;
    double grad_norm = 0.0;       // before clipping
    double tokens_per_second = 0.0;
    int64_t tokens_seen = 0;      // source + target tokens consumed so far
    double elapsed_s = 0.0;
    double eta_s = 0.0;
};

struct EvalMetrics {
    int64_t step = 0;
    double epoch = 0.0;
    double eval_loss = 0.0;       // with label_smoothing_factor, the smoothed loss (as Seq2SeqTrainer's)
    int64_t eval_tokens = 0;
    // predict_with_generate: ROUGE F-measure means (fractions, stemmer on, as `sumlab-cli rouge`) of the
    // summaries generated for the first eval_generate_limit validation examples.
    bool has_rouge = false;
    double eval_rouge1 = 0.0, eval_rouge2 = 0.0, eval_rougeL = 0.0, eval_rougeLsum = 0.0;
    double eval_gen_len = 0.0;    // mean generated tokens, </s> counted (the HF summarization notebook's gen_len)
    int64_t eval_generated = 0;   // examples generated
};

// One evaluation's kept summaries (eval_predictions.jsonl): the first few generated examples.
struct EvalPrediction {
    std::string id, prediction, reference;
};
struct EvalPredictions {
    int64_t step = 0;
    double epoch = 0.0;
    std::vector<EvalPrediction> examples;
};

enum class RunStatus { running, paused, stopped, finished, failed };

// "running", "paused", "stopped", "finished", "failed" (the words of status.json).
std::string to_string(RunStatus s);

}  // namespace sumlab
