// What the trainer does at an evaluation beyond the eval loss, with Hugging Face transformers 4.28's
// meaning: the ROUGE of generated summaries (Seq2SeqTrainer's predict_with_generate), the best checkpoint
// (Trainer._save_checkpoint, _sorted_checkpoints / _rotate_checkpoints), early stopping
// (EarlyStoppingCallback) and the label-smoothed loss (trainer_pt_utils.LabelSmoother). Plain functions
// on plain values, so engine/training/trainer.cpp calls them in its loop and the tests call them directly.
#pragma once

#include "engine/text/batcher.h"
#include "engine/training/run_folder.h"
#include "models/t5/generation_config.h"

#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

namespace sumlab {

class DistributedContext;
class T5ForConditionalGenerationImpl;
class T5Tokenizer;

// ---- Label smoothing ----

// HF's LabelSmoother(epsilon) before its division by the active positions N (labels != -100):
// (1 - epsilon) * sum(-log p(label)) + epsilon / V * sum over positions of sum over the vocabulary of -log p,
// so that loss_sum / N equals HF's (1 - e) * nll.sum() / N + e * smoothed.sum() / (N * V).
// logits (b, t, V), any float type (computed in float32); labels (b, t) with -100 for ignored positions.
torch::Tensor label_smoothed_loss_sum(const torch::Tensor& logits, const torch::Tensor& labels, double epsilon);

struct BatchLoss {
    torch::Tensor loss_sum;    // scalar
    int64_t label_tokens = 0;  // labels != -100
};
// The teacher-forced loss of one batch: the model's own cross-entropy, or with label_smoothing > 0 (as HF's
// compute_loss: labels popped, decoder inputs = labels shifted right) label_smoothed_loss_sum of its logits.
BatchLoss batch_loss(T5ForConditionalGenerationImpl& model, const Seq2SeqBatch& batch, double label_smoothing);

// ---- ROUGE of generated summaries ----

struct EvalGenerationExample {
    std::string id;
    std::string prompt;                   // rendered with the run's prompt template
    std::vector<std::string> references;  // never empty
};

// Seq2SeqTrainer's generation settings: the model's generation config with generation_max_length as
// max_length and generation_num_beams as num_beams when they are set; one sequence per input.
GenerationConfig eval_generation_config(GenerationConfig model_config, const TrainingArguments& args);

struct GenerationEval {
    double rouge1 = 0, rouge2 = 0, rougeL = 0, rougeLsum = 0;  // mean F-measure (fractions)
    double gen_len = 0;                                       // mean generated ids other than pad, </s> counted
    int64_t examples = 0;
    std::vector<EvalPrediction> kept;  // the first `keep` examples (in a data-parallel run: rank 0's first ones)
};
// Generates a summary of each example (generate_texts, batches of batch_size, prompts truncated to
// max_source_length) and scores it as `sumlab-cli rouge --stemmer` does: RougeScorer(Stemming::porter)
// .score_multi(references, prediction) per example, then mean_rouge. In a data-parallel run each rank
// generates every world_size-th example and the sums meet in one allreduce (all ranks get the result).
GenerationEval generate_and_score(T5ForConditionalGenerationImpl& model, const T5Tokenizer& tokenizer,
                                  const std::vector<EvalGenerationExample>& examples, const GenerationConfig& config,
                                  int64_t batch_size, int64_t max_source_length, size_t keep, DistributedContext* dist);
void set_rouge(EvalMetrics& metrics, const GenerationEval& generated);

// ---- Best checkpoint and early stopping ----

// An evaluation's value of `key` ("eval_loss", "eval_rouge1", ..., "eval_gen_len"); nullopt when the
// evaluation has no such metric (ROUGE without predict_with_generate).
std::optional<double> metric_value(const EvalMetrics& metrics, const std::string& key);

// Trainer._save_checkpoint's rule, applied when a checkpoint is saved at the step of an evaluation: the
// checkpoint becomes the best when there is none yet or its metric is strictly better. Returns whether it did.
bool update_best(TrainerState& state, const EvalMetrics& metrics, const TrainingArguments& args, const std::string& checkpoint_dir);

// EarlyStoppingCallback.on_evaluate (before the evaluation's checkpoint updates the best): an evaluation
// improves when there is no best yet, or when it is better than the best by more than
// early_stopping_threshold; otherwise the patience counter grows. True when the counter reaches
// early_stopping_patience (and patience is on).
bool early_stopping_should_stop(TrainerState& state, const EvalMetrics& metrics, const TrainingArguments& args);
// "early stopping: eval_rougeL did not improve ... " for status.json, the CLI and the Train page.
std::string early_stopping_message(const TrainerState& state, const TrainingArguments& args);

// Trainer._rotate_checkpoints: of the checkpoint folders (oldest first), those save_total_limit removes. The
// best checkpoint is first moved up to the second-newest place (_sorted_checkpoints), so it is never among
// them; with save_total_limit 1 and a best that is not the newest, two are kept. Folders compare by name.
std::vector<std::string> checkpoints_to_delete(std::vector<std::string> oldest_first, const std::string& best_model_checkpoint,
                                               int64_t save_total_limit);

}  // namespace sumlab
