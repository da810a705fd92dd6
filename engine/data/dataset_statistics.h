// Length statistics of a DialogSum split, for the Data page's histograms and `sumlab-cli data`: prompt and summary
// lengths in tokens or whitespace words, their distribution against the truncation limits, and numpy's "linear"
// percentile (the one percentile of the engine; engine/metrics/bootstrap uses it too).
//
// Data flow: load_dialogsum() (dialogsum.h) -> split_statistics() -> to_json() or the UI's LengthStatistics.
// Includes prompt.h only: the DialogSum types are declared here and defined in dialogsum.h, which includes this.
#pragma once

#include "engine/data/prompt.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sumlab {

enum class Split;      // dialogsum.h
struct DialogSumSplit;  // dialogsum.h

// np.percentile(values, percent) with numpy's default method "linear" (numpy 1.24 arithmetic, including its
// lerp that interpolates from the upper neighbour when the fraction is >= 0.5). `sorted_values` must be
// ascending; `percent` in [0, 100]. Throws std::invalid_argument when `sorted_values` is empty.
double numpy_percentile(const std::vector<double>& sorted_values, double percent);

// Counts the units of one text the way the model sees it (a tokenizer's ids including </s>, say).
using TokenCounter = std::function<size_t(const std::string&)>;

// Number of maximal runs of non-whitespace (space, \t, \n, \v, \f, \r) characters: Python's len(text.split()).
size_t count_whitespace_words(std::string_view text);

enum class LengthUnit { tokens, words };

// "tokens", "words".
std::string_view length_unit_name(LengthUnit unit);

// The distribution of a list of lengths. median and p95 are numpy_percentile(lengths, 50) and (lengths, 95).
// Every value is in exactly one histogram bin.
struct LengthDistribution {
    size_t count = 0;
    size_t min = 0;
    double mean = 0;
    double median = 0;
    double p95 = 0;
    size_t max = 0;
    std::vector<size_t> bin_edges;  // ascending, bin_edges[0] == 0
    std::vector<size_t> histogram;  // histogram[i] counts [bin_edges[i], bin_edges[i+1]); the last bin is open
    size_t max_length = 0;          // the truncation limit
    size_t truncated = 0;           // lengths above max_length
    double truncated_fraction = 0;  // truncated / count, 0 when count is 0
};

// Edges 0, w, 2w, ... up to the last one <= max_value, with w the smallest of 1, 2, 5, 10, 20, 50, ... such that
// bins * w > max_value: at most `bins` bins, the last (open) one holding max_value. Throws ConfigError when bins is 0.
std::vector<size_t> automatic_bin_edges(size_t max_value, size_t bins = 10);

// Statistics of `lengths`. Empty `bin_edges` means automatic_bin_edges(max). Throws ConfigError{"length
// statistics", "bin_edges"} unless the edges start at 0 and strictly increase.
LengthDistribution length_distribution(std::vector<size_t> lengths, size_t max_length,
                                       std::vector<size_t> bin_edges = {});

struct StatisticsOptions {
    // Counts tokens; when empty, lengths are whitespace words (count_whitespace_words).
    TokenCounter count_tokens;
    // Applied to every dialogue before counting. Default: the lab's prompt (preset "dialogsum").
    PromptTemplate prompt;
    // Truncation limits. Default 512: FLAN-T5's model_max_length, the lab's truncation=True.
    size_t max_source_length = 512;
    // Default 128: max_target_length in Hugging Face's run_summarization.py.
    size_t max_target_length = 128;
    // Histogram edges (see length_distribution); empty means automatic.
    std::vector<size_t> prompt_bin_edges;
    std::vector<size_t> summary_bin_edges;
};

struct SplitStatistics {
    Split split{};  // Split::train (declared opaquely above)
    size_t examples = 0;
    size_t references = 0;
    size_t skipped = 0;
    size_t distinct_topics = 0;
    LengthUnit unit = LengthUnit::words;
    LengthDistribution prompt_lengths;   // one per example, of the rendered prompt, against max_source_length
    LengthDistribution summary_lengths;  // one per reference, against max_target_length
};

SplitStatistics split_statistics(const DialogSumSplit& split, const StatisticsOptions& options = {});

// {"count":..,"min":..,"mean":..,"median":..,"p95":..,"max":..,"bin_edges":[..],"histogram":[..],
//  "max_length":..,"truncated":..,"truncated_fraction":..}
nlohmann::json to_json(const LengthDistribution& distribution);
// {"split":"train","examples":..,"references":..,"skipped":..,"distinct_topics":..,"unit":"words",
//  "prompt_lengths":{..},"summary_lengths":{..}}
nlohmann::json to_json(const SplitStatistics& statistics);

}  // namespace sumlab
