// Generation with Hugging Face semantics (transformers 4.28): GreedySearch and BeamSearch over a
// padded batch, plus small logits processors (RepetitionPenalty, NoRepeatNgram, MinLength).
// The encoder runs once; the decoder keeps a key/value cache and a position bias computed once.
// Beam scores divide by the hypothesis length counting the start token, before </s> (4.28's rule).
#pragma once

#include "engine/text/batcher.h"
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

// Runs greedy search or sampling (num_beams == 1; num_return_sequences samples per input, next to each other) or
// beam search on an encoded, padded batch.
GenerationResult generate(T5ForConditionalGenerationImpl& model, const Seq2SeqBatch& batch, const GenerationConfig& config,
                          const GenerationCallbacks& callbacks = {});

// Logits processors, applied in HF's order to scores (rows, vocab) given the sequences so far
// (rows, cur_len), start token included.
void apply_repetition_penalty(torch::Tensor& scores, const torch::Tensor& sequences, double penalty);
void apply_no_repeat_ngram(torch::Tensor& scores, const std::vector<TokenIds>& sequences, int64_t ngram_size);
void apply_min_length(torch::Tensor& scores, int64_t cur_len, const GenerationConfig& config);
// Sampling's warpers (HF's TopK/TopP/TypicalLogitsWarper): filtered scores become -inf. apply_warpers runs
// those the config turns on in HF 4.28's order: temperature, top_k, top_p, typical_p.
void apply_warpers(torch::Tensor& scores, const GenerationConfig& config);
void apply_top_k(torch::Tensor& scores, int64_t top_k, int64_t min_tokens_to_keep);
void apply_top_p(torch::Tensor& scores, double top_p, int64_t min_tokens_to_keep);
void apply_typical_p(torch::Tensor& scores, double mass, int64_t min_tokens_to_keep);

// One summary per input text (num_return_sequences of them when sampling, next to each other): tokenize
// (truncated to max_source_length, </s> kept), batch, generate, decode.
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
