// Generation with Hugging Face semantics (transformers 4.28): GreedySearch and BeamSearch over a
// padded batch, plus small logits processors (RepetitionPenalty, NoRepeatNgram, MinLength).
// The encoder runs once; the decoder keeps a key/value cache and a position bias computed once.
// Beam scores divide by the hypothesis length counting the start token, before </s> (4.28's rule).
#pragma once

#include "engine/batcher.h"
#include "models/t5/t5_config.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace sumlab {

class T5ForConditionalGenerationImpl;
class T5Tokenizer;

struct GenerationResult {
    std::vector<TokenIds> sequences;     // per input: generated ids after the start token, up to and including </s>
    std::vector<double> sequence_scores; // beam search: HF's sequences_scores; greedy: sum of chosen log-probs
    std::vector<bool> hit_max_new_tokens;  // true where generation stopped at the length limit, not at </s>
};

struct GenerationCallbacks {
    std::function<void(int64_t step, int64_t max_steps)> on_step;  // after each decoding step
    const std::atomic<bool>* cancel = nullptr;                     // checked between steps; throws Cancelled
};

// Runs greedy search (num_beams == 1) or beam search on an encoded, padded batch.
GenerationResult generate(T5ForConditionalGenerationImpl& model, const Seq2SeqBatch& batch, const GenerationConfig& config,
                          const GenerationCallbacks& callbacks = {});

// Logits processors, applied in HF's order to scores (rows, vocab) given the sequences so far
// (rows, cur_len), start token included.
void apply_repetition_penalty(torch::Tensor& scores, const torch::Tensor& sequences, double penalty);
void apply_no_repeat_ngram(torch::Tensor& scores, const std::vector<TokenIds>& sequences, int64_t ngram_size);
void apply_min_length(torch::Tensor& scores, int64_t cur_len, const GenerationConfig& config);

// One summary per input text: tokenize (truncated to max_source_length, </s> kept), batch, generate, decode.
struct TextGeneration {
    std::string text;         // decode(skip_special_tokens=True)
    TokenIds token_ids;       // as GenerationResult::sequences
    bool hit_max_new_tokens = false;
};
std::vector<TextGeneration> generate_texts(T5ForConditionalGenerationImpl& model, const T5Tokenizer& tokenizer,
                                           const std::vector<std::string>& texts, const GenerationConfig& config,
                                           int64_t batch_size, int64_t max_source_length,
                                           const GenerationCallbacks& callbacks = {},
                                           const std::function<void(size_t done, size_t total)>& on_batch = {});

}  // namespace sumlab
