// The examples a training run learns from and is evaluated on: DialogSum's splits read, each dialogue
// rendered with the run's prompt and tokenized with the summary, the selection (limit, every_kth)
// applied; under the span_corruption and text_infilling objectives, spans of the prompts hidden
// (engine/text/span_corruption.h).
#pragma once

#include "engine/text/batcher.h"
#include "engine/text/span_corruption.h"
#include "engine/training/sampler.h"
#include "engine/training/trainer_eval.h"
#include "engine/training/training_arguments.h"

#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

namespace sumlab {

class T5Tokenizer;

struct TrainingData {
    std::vector<TokenizedExample> train, validation;
    std::vector<EvalGenerationExample> generation;  // predict_with_generate: the first eval_generate_limit validation examples
    std::vector<std::string> files;                 // the data files read (for run.json's hashes)
    std::vector<std::string> notes;                 // how the loader read them, for the user
    std::optional<SpanCorruptor> corruption;        // spans hidden: validation once, training anew each epoch
};

// Reads `data` (a DialogSum folder or file) for a run with `args`. Throws DataError naming the file when
// a split the settings need is missing or the selection leaves nothing to train on, ConfigError when
// the tokenizer cannot serve the objective.
TrainingData prepare_training_data(const std::string& data, const TrainingArguments& args, const T5Tokenizer& tokenizer);

// Training examples `indices` as one batch on `device`; with spans hidden, each example's spans
// are drawn from (args.seed, epoch, its index), so a resumed run sees the batches an unbroken one does.
Seq2SeqBatch training_batch(const TrainingData& data, const BatchIndices& indices, const TrainingArguments& args, int64_t epoch,
                            int64_t pad_token_id, torch::Device device);

}  // namespace sumlab
