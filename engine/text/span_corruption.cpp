#include "engine/text/span_corruption.h"

#include "engine/text/tokenizer.h"

#include "base/errors.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace sumlab {

namespace {

struct SpanCounts {
    int64_t noise = 0, spans = 0;
};

// np.round rounds half to even, as nearbyint does in the default rounding mode.
SpanCounts span_counts(int64_t length, double noise_density, double mean_noise_span_length) {
    SpanCounts c;
    c.noise = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(std::nearbyint(static_cast<double>(length) * noise_density)), 1),
                                length - 1);
    const int64_t kept = length - c.noise;
    c.spans = std::max<int64_t>(static_cast<int64_t>(std::nearbyint(static_cast<double>(std::min(c.noise, kept)) / mean_noise_span_length)), 1);
    return c;
}

// HF's _random_segmentation: `items` split into `segments` non-empty runs, every composition equally
// likely (a shuffled row of segments - 1 cut marks among items - 1 places).
std::vector<int64_t> random_segmentation(int64_t items, int64_t segments, std::mt19937_64& rng) {
    std::vector<char> cut(static_cast<size_t>(items - 1), 0);
    std::fill(cut.begin(), cut.begin() + (segments - 1), 1);
    for (size_t i = cut.size(); i > 1; --i) {  // Fisher-Yates, independent of the library's shuffle
        std::uniform_int_distribution<size_t> pick(0, i - 1);
        std::swap(cut[i - 1], cut[pick(rng)]);
    }
    std::vector<int64_t> lengths(1, 1);
    for (char c : cut) {
        if (c) lengths.push_back(0);
        ++lengths.back();
    }
    return lengths;
}

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

}  // namespace

int64_t noise_span_count(int64_t length, double noise_density, double mean_noise_span_length) {
    return length < 2 ? 0 : span_counts(length, noise_density, mean_noise_span_length).spans;
}

std::vector<bool> random_spans_noise_mask(int64_t length, double noise_density, double mean_noise_span_length, std::mt19937_64& rng) {
    std::vector<bool> mask(static_cast<size_t>(std::max<int64_t>(length, 0)), false);
    if (length < 2) return mask;
    const SpanCounts c = span_counts(length, noise_density, mean_noise_span_length);
    const std::vector<int64_t> noise = random_segmentation(c.noise, c.spans, rng);
    const std::vector<int64_t> kept = random_segmentation(length - c.noise, c.spans, rng);
    size_t pos = 0;
    for (size_t s = 0; s < noise.size(); ++s) {  // kept run, then hidden run: HF's interleaving
        pos += static_cast<size_t>(kept[s]);
        for (int64_t i = 0; i < noise[s]; ++i) mask[pos++] = true;
    }
    return mask;
}

CorruptedExample corrupt_spans(const TokenIds& tokens, const std::vector<bool>& noise_mask, const TokenIds& sentinel_ids,
                               int64_t eos_token_id) {
    if (noise_mask.size() != tokens.size())
        throw std::invalid_argument("span corruption: a mask of " + std::to_string(noise_mask.size()) + " entries for " +
                                    std::to_string(tokens.size()) + " tokens");
    CorruptedExample out;
    size_t input_sentinels = 0, label_sentinels = 0;
    auto sentinel = [&](size_t& next) {
        if (next >= sentinel_ids.size())
            throw std::invalid_argument("span corruption: more than " + std::to_string(sentinel_ids.size()) +
                                        " spans, the tokenizer's <extra_id_*> sentinels");
        return sentinel_ids[next++];
    };
    for (size_t i = 0; i < tokens.size(); ++i) {
        const bool starts_run = i == 0 || noise_mask[i] != noise_mask[i - 1];
        if (noise_mask[i]) {
            if (starts_run) out.input_ids.push_back(sentinel(input_sentinels));
            out.labels.push_back(tokens[i]);
        } else {
            if (starts_run) out.labels.push_back(sentinel(label_sentinels));
            out.input_ids.push_back(tokens[i]);
        }
    }
    // HF's masks start with a kept run, so the labels' k-th sentinel comes just before the k-th hidden
    // span, the one the input's k-th sentinel stands for.
    out.input_ids.push_back(eos_token_id);
    out.labels.push_back(eos_token_id);
    return out;
}

uint64_t span_corruption_seed(uint64_t seed, uint64_t epoch, uint64_t example) {
    return splitmix64(splitmix64(splitmix64(seed) ^ epoch) ^ example);
}

CorruptedExample SpanCorruptor::operator()(const TokenIds& source, uint64_t seed) const {
    TokenIds tokens = source;
    if (!tokens.empty() && tokens.back() == eos_token_id) tokens.pop_back();
    std::mt19937_64 rng(seed);
    const auto mask = random_spans_noise_mask(static_cast<int64_t>(tokens.size()), noise_density, mean_noise_span_length, rng);
    CorruptedExample out = corrupt_spans(tokens, mask, sentinel_ids, eos_token_id);
    if (full_labels_max_length > 0) {
        // Truncated as the tokenizer truncates a target: the first tokens, then </s>.
        const size_t keep = std::min(tokens.size(), static_cast<size_t>(full_labels_max_length - 1));
        out.labels.assign(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(keep));
        out.labels.push_back(eos_token_id);
    }
    return out;
}

SpanCorruptor make_span_corruptor(const T5Tokenizer& tokenizer, double noise_density, double mean_noise_span_length,
                                  int64_t max_source_length) {
    SpanCorruptor c;
    c.noise_density = noise_density;
    c.mean_noise_span_length = mean_noise_span_length;
    c.eos_token_id = tokenizer.eos_token_id();
    for (int64_t k = 0; k < tokenizer.extra_ids(); ++k) c.sentinel_ids.push_back(tokenizer.token_to_id("<extra_id_" + std::to_string(k) + ">"));
    // The span count grows with the length, so the longest prompt needs the most sentinels.
    const int64_t needed = noise_span_count(max_source_length - 1, noise_density, mean_noise_span_length);
    if (needed > tokenizer.extra_ids())
        throw ConfigError(tokenizer.model_path(), "extra_ids",
                          "hiding spans needs " + std::to_string(needed) + " <extra_id_*> sentinels for prompts of " +
                              std::to_string(max_source_length) + " tokens, and the tokenizer has " + std::to_string(tokenizer.extra_ids()) +
                              " (raise mean_noise_span_length or lower mlm_probability or max_source_length)");
    return c;
}

}  // namespace sumlab
