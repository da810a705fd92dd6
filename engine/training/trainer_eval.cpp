#include "engine/training/trainer_eval.h"

#include "engine/metrics/bootstrap.h"
#include "engine/training/distributed.h"
#include "engine/generation/generation.h"
#include "engine/metrics/rouge.h"
#include "engine/text/tokenizer.h"
#include "models/t5/t5_model.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>

namespace sumlab {

torch::Tensor label_smoothed_loss_sum(const torch::Tensor& logits, const torch::Tensor& labels, double epsilon) {
    // HF: log_probs = -log_softmax(logits); nll = log_probs.gather(labels.clamp(min=0)); smoothed =
    // log_probs.sum(-1, dtype=float32); both zeroed where labels == -100.
    const torch::Tensor log_probs = -torch::log_softmax(logits.to(torch::kFloat32), -1);
    const torch::Tensor index = labels.unsqueeze(-1);
    const torch::Tensor padding = index.eq(-100);
    const torch::Tensor nll = log_probs.gather(-1, index.clamp_min(0)).masked_fill(padding, 0.0);
    const torch::Tensor smoothed = log_probs.sum(-1, /*keepdim=*/true).masked_fill(padding, 0.0);
    const double vocab = static_cast<double>(log_probs.size(-1));
    return (1.0 - epsilon) * nll.sum() + (epsilon / vocab) * smoothed.sum();
}

BatchLoss batch_loss(T5ForConditionalGenerationImpl& model, const Seq2SeqBatch& batch, double label_smoothing) {
    if (label_smoothing <= 0.0) {
        auto out = model.forward(batch.input_ids, batch.attention_mask, batch.labels);
        return {out.loss_sum, out.label_tokens};
    }
    auto out = model.forward(batch.input_ids, batch.attention_mask, torch::Tensor(), model.shift_right(batch.labels));
    return {label_smoothed_loss_sum(out.logits, batch.labels, label_smoothing), (batch.labels != -100).sum().item<int64_t>()};
}

GenerationConfig eval_generation_config(GenerationConfig config, const TrainingArguments& args) {
    if (args.generation_max_length) config.max_length = *args.generation_max_length;
    if (args.generation_num_beams) config.num_beams = *args.generation_num_beams;
    config.num_return_sequences = 1;  // one summary per example to score
    config.validate("training settings (generation_max_length, generation_num_beams)");
    return config;
}

GenerationEval generate_and_score(T5ForConditionalGenerationImpl& model, const T5Tokenizer& tokenizer,
                                  const std::vector<EvalGenerationExample>& examples, const GenerationConfig& config,
                                  int64_t batch_size, int64_t max_source_length, size_t keep, DistributedContext* dist) {
    torch::NoGradGuard no_grad;
    std::vector<size_t> mine;
    const size_t stride = dist ? static_cast<size_t>(dist->world_size()) : 1;
    for (size_t i = dist ? static_cast<size_t>(dist->rank()) : 0; i < examples.size(); i += stride) mine.push_back(i);
    std::vector<std::string> prompts;
    for (size_t i : mine) prompts.push_back(examples[i].prompt);
    const std::vector<TextGeneration> out = generate_texts(model, tokenizer, prompts, config, batch_size, max_source_length);

    const RougeScorer scorer(Stemming::porter);
    std::vector<RougeScores> per_example;
    double length_sum = 0.0;
    GenerationEval g;
    for (size_t k = 0; k < out.size(); ++k) {
        const EvalGenerationExample& ex = examples[mine[k]];
        per_example.push_back(scorer.score_multi(ex.references, out[k].text));
        for (int64_t id : out[k].token_ids) length_sum += id != config.pad_token_id ? 1.0 : 0.0;
        if (g.kept.size() < keep) g.kept.push_back({ex.id, out[k].text, ex.references.front()});
    }
    if (!dist) {
        g.examples = static_cast<int64_t>(per_example.size());
        if (per_example.empty()) return g;
        const RougeScores mean = mean_rouge(per_example);  // what `sumlab-cli rouge` prints as the mean
        g.rouge1 = mean.rouge1.fmeasure;
        g.rouge2 = mean.rouge2.fmeasure;
        g.rougeL = mean.rougeL.fmeasure;
        g.rougeLsum = mean.rougeLsum.fmeasure;
        g.gen_len = length_sum / static_cast<double>(per_example.size());
        return g;
    }
    std::vector<double> sums(6, 0.0);
    for (const RougeScores& s : per_example) {
        sums[0] += s.rouge1.fmeasure;
        sums[1] += s.rouge2.fmeasure;
        sums[2] += s.rougeL.fmeasure;
        sums[3] += s.rougeLsum.fmeasure;
    }
    sums[4] = length_sum;
    sums[5] = static_cast<double>(per_example.size());
    sums = dist->allreduce_sum(sums);
    g.examples = static_cast<int64_t>(sums[5]);
    if (g.examples == 0) return g;
    const double n = sums[5];
    g.rouge1 = sums[0] / n;
    g.rouge2 = sums[1] / n;
    g.rougeL = sums[2] / n;
    g.rougeLsum = sums[3] / n;
    g.gen_len = sums[4] / n;
    return g;
}

void set_rouge(EvalMetrics& m, const GenerationEval& g) {
    m.has_rouge = g.examples > 0;
    m.eval_rouge1 = g.rouge1;
    m.eval_rouge2 = g.rouge2;
    m.eval_rougeL = g.rougeL;
    m.eval_rougeLsum = g.rougeLsum;
    m.eval_gen_len = g.gen_len;
    m.eval_generated = g.examples;
}

std::optional<double> metric_value(const EvalMetrics& m, const std::string& key) {
    if (key == "eval_loss") return m.eval_loss;
    if (!m.has_rouge) return std::nullopt;
    if (key == "eval_rouge1") return m.eval_rouge1;
    if (key == "eval_rouge2") return m.eval_rouge2;
    if (key == "eval_rougeL") return m.eval_rougeL;
    if (key == "eval_rougeLsum") return m.eval_rougeLsum;
    if (key == "eval_gen_len") return m.eval_gen_len;
    return std::nullopt;
}

namespace {

// np.greater / np.less as HF picks them: false for NaN either way.
bool is_better(double value, double best, bool greater_is_better) { return greater_is_better ? value > best : value < best; }

std::string folder_name(const std::string& path) {
    const size_t end = path.find_last_not_of('/');
    if (end == std::string::npos) return path;
    const size_t slash = path.rfind('/', end);
    return path.substr(slash == std::string::npos ? 0 : slash + 1, end - (slash == std::string::npos ? 0 : slash + 1) + 1);
}

}  // namespace

bool update_best(TrainerState& state, const EvalMetrics& metrics, const TrainingArguments& args, const std::string& checkpoint_dir) {
    const std::string key = args.best_metric_key();
    if (key.empty()) return false;
    const std::optional<double> value = metric_value(metrics, key);
    if (!value) return false;
    if (state.best_metric && !state.best_model_checkpoint.empty() && !is_better(*value, *state.best_metric, args.resolved_greater_is_better()))
        return false;
    state.best_metric = *value;
    state.best_model_checkpoint = checkpoint_dir;
    return true;
}

bool early_stopping_should_stop(TrainerState& state, const EvalMetrics& metrics, const TrainingArguments& args) {
    if (args.early_stopping_patience <= 0) return false;
    const std::optional<double> value = metric_value(metrics, args.best_metric_key());
    if (!value) return false;  // HF: "did not find <metric> so early stopping is disabled"
    const bool improved = !state.best_metric || (is_better(*value, *state.best_metric, args.resolved_greater_is_better()) &&
                                                 std::abs(*value - *state.best_metric) > args.early_stopping_threshold);
    state.early_stopping_patience_counter = improved ? 0 : state.early_stopping_patience_counter + 1;
    return state.early_stopping_patience_counter >= args.early_stopping_patience;
}

std::string early_stopping_message(const TrainerState& state, const TrainingArguments& args) {
    char best[64] = "";
    if (state.best_metric) std::snprintf(best, sizeof best, "%.6g", *state.best_metric);
    std::string text = "early stopping at step " + std::to_string(state.global_step) + ": " + args.best_metric_key() + " did not improve";
    if (args.early_stopping_threshold > 0) {
        char threshold[64];
        std::snprintf(threshold, sizeof threshold, "%g", args.early_stopping_threshold);
        text += std::string(" by more than ") + threshold;
    }
    text += " for " + std::to_string(args.early_stopping_patience) + (args.early_stopping_patience == 1 ? " evaluation" : " evaluations");
    if (state.best_metric) text += std::string("; best ") + best + " at " + folder_name(state.best_model_checkpoint);
    return text;
}

std::vector<std::string> checkpoints_to_delete(std::vector<std::string> sorted, const std::string& best, int64_t save_total_limit) {
    if (save_total_limit <= 0) return {};
    const int64_t n = static_cast<int64_t>(sorted.size());
    int64_t best_index = -1;
    for (int64_t i = 0; i < n && !best.empty(); ++i)
        if (folder_name(sorted[static_cast<size_t>(i)]) == folder_name(best)) best_index = i;
    // _sorted_checkpoints: for i in range(best_model_index, len(checkpoints_sorted) - 2): swap i and i + 1.
    if (best_index >= 0)
        for (int64_t i = best_index; i < n - 2; ++i) std::swap(sorted[static_cast<size_t>(i)], sorted[static_cast<size_t>(i + 1)]);
    if (n <= save_total_limit) return {};
    int64_t limit = save_total_limit;
    if (best_index >= 0 && save_total_limit == 1 && folder_name(sorted.back()) != folder_name(best)) limit = 2;  // keep the newest to resume from
    const int64_t doomed = std::max<int64_t>(0, n - limit);
    return std::vector<std::string>(sorted.begin(), sorted.begin() + doomed);
}

}  // namespace sumlab
