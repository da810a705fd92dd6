// T5's denoising objective ("span corruption") for training a new model from scratch, as Hugging
// Face's DataCollatorForT5MLM (examples/flax/language-modeling/run_t5_mlm_flax.py) builds it: about
// noise_density of a sequence's tokens, in spans of mean length mean_noise_span_length, are hidden.
// The input keeps the other tokens and puts one sentinel (<extra_id_0>, <extra_id_1>, ...) where each
// span was; the labels are each sentinel followed by the tokens it hides; both end with </s>:
//   tokens  A B C D E F G H
//   mask    . . x x . . . x
//   input   A B <extra_id_0> E F G <extra_id_1> </s>
//   labels  <extra_id_0> C D <extra_id_1> H </s>
// Spans are placed as HF places them (the sequence starts with kept tokens and ends with a hidden
// span), with SumLab's own random stream: the same seed gives the same corruption every time.
// "Text infilling" (BART's objective, with T5's sentinels) keeps that input and makes the labels the
// whole original sequence: labels  A B C D E F G H </s>. Most of the target is then in the input, so
// a new model is rewarded for copying from the encoder through cross-attention, which summaries need
// and span corruption's labels (never in the input) do not reward.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace sumlab {

using TokenIds = std::vector<int64_t>;

// HF's random_spans_noise_mask(length): round(length x noise_density) hidden tokens (at least 1, at
// most length - 1), in round(min(hidden, kept) / mean_noise_span_length) spans (at least 1), span and
// gap lengths each a uniformly random composition; true = hidden. A length below 2 hides nothing.
std::vector<bool> random_spans_noise_mask(int64_t length, double noise_density, double mean_noise_span_length, std::mt19937_64& rng);

// How many spans random_spans_noise_mask makes for `length` tokens: the sentinels a sequence needs.
int64_t noise_span_count(int64_t length, double noise_density, double mean_noise_span_length);

struct CorruptedExample {
    TokenIds input_ids, labels;
};

// The input and labels for `tokens` (without </s>) under `noise_mask` (tokens.size() entries);
// sentinel_ids[k] is <extra_id_k>'s id. Throws std::invalid_argument when the mask has more spans
// than there are sentinels or its size differs from the tokens'.
CorruptedExample corrupt_spans(const TokenIds& tokens, const std::vector<bool>& noise_mask, const TokenIds& sentinel_ids,
                               int64_t eos_token_id);

// The seed of one example's corruption: a mix of the run's seed, the epoch and the example's index,
// so a resumed run hides the same spans as an uninterrupted one and no two examples share a stream.
uint64_t span_corruption_seed(uint64_t seed, uint64_t epoch, uint64_t example);

class T5Tokenizer;

// What a training run applies to each prompt: the settings and the tokenizer's sentinels.
struct SpanCorruptor {
    double noise_density = 0.15, mean_noise_span_length = 3.0;
    TokenIds sentinel_ids;  // <extra_id_0>, <extra_id_1>, ...
    int64_t eos_token_id = 1;
    // Above 0: text infilling, the labels are the uncorrupted tokens, at most this many with </s>.
    int64_t full_labels_max_length = 0;

    // `source` as the tokenizer encodes it (</s> last, dropped before the spans are drawn), spans drawn from `seed`.
    CorruptedExample operator()(const TokenIds& source, uint64_t seed) const;
};

// The corruptor for prompts of up to max_source_length tokens (span corruption's labels). Throws
// ConfigError when the tokenizer has fewer <extra_id_*> sentinels than such a prompt needs.
SpanCorruptor make_span_corruptor(const T5Tokenizer& tokenizer, double noise_density, double mean_noise_span_length,
                                  int64_t max_source_length);

}  // namespace sumlab
