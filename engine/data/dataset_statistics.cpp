// Length statistics of a DialogSum split (see dataset_statistics.h) and numpy's "linear" percentile.
#include "engine/data/dataset_statistics.h"

#include "engine/data/dialogsum.h"
#include "base/errors.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace sumlab {

size_t count_whitespace_words(std::string_view text) {
    size_t words = 0;
    bool in_word = false;
    for (char c : text) {
        const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
        if (!space && !in_word) ++words;
        in_word = !space;
    }
    return words;
}

std::string_view length_unit_name(LengthUnit unit) { return unit == LengthUnit::tokens ? "tokens" : "words"; }

std::vector<size_t> automatic_bin_edges(size_t max_value, size_t bins) {
    if (bins == 0) throw ConfigError("length statistics", "bins", "must be at least 1");
    size_t width = 1;
    for (size_t scale = 1;; scale *= 10) {
        if (scale * bins > max_value) { width = scale; break; }
        if (2 * scale * bins > max_value) { width = 2 * scale; break; }
        if (5 * scale * bins > max_value) { width = 5 * scale; break; }
    }
    std::vector<size_t> edges;
    for (size_t i = 0; i < bins && i * width <= max_value; ++i) edges.push_back(i * width);
    return edges;
}

double numpy_percentile(const std::vector<double>& sorted_values, double percent) {
    if (sorted_values.empty()) throw std::invalid_argument("numpy_percentile: no values");
    const double quantile = percent / 100;
    const size_t last = sorted_values.size() - 1;
    const double virtual_index = static_cast<double>(last) * quantile;
    if (virtual_index >= static_cast<double>(last)) return sorted_values[last];
    if (virtual_index < 0) return sorted_values[0];
    const double previous_index = std::floor(virtual_index);
    const double gamma = virtual_index - previous_index;
    const double a = sorted_values[static_cast<size_t>(previous_index)];
    const double b = sorted_values[static_cast<size_t>(previous_index) + 1];
    const double difference = b - a;
    return gamma >= 0.5 ? b - difference * (1 - gamma) : a + difference * gamma;
}

LengthDistribution length_distribution(std::vector<size_t> lengths, size_t max_length, std::vector<size_t> bin_edges) {
    std::sort(lengths.begin(), lengths.end());
    LengthDistribution d;
    d.count = lengths.size();
    d.max_length = max_length;
    if (!lengths.empty()) {
        d.min = lengths.front();
        d.max = lengths.back();
        long double sum = 0;
        for (size_t n : lengths) sum += static_cast<long double>(n);
        d.mean = static_cast<double>(sum / static_cast<long double>(lengths.size()));
        const std::vector<double> sorted(lengths.begin(), lengths.end());
        d.median = numpy_percentile(sorted, 50);
        d.p95 = numpy_percentile(sorted, 95);
    }
    if (bin_edges.empty()) bin_edges = automatic_bin_edges(d.max);
    if (bin_edges.front() != 0) throw ConfigError("length statistics", "bin_edges", "the first edge must be 0");
    for (size_t i = 1; i < bin_edges.size(); ++i) {
        if (bin_edges[i] <= bin_edges[i - 1]) {
            throw ConfigError("length statistics", "bin_edges", "edges must strictly increase");
        }
    }
    d.histogram.assign(bin_edges.size(), 0);
    for (size_t n : lengths) {
        const auto bin = std::upper_bound(bin_edges.begin(), bin_edges.end(), n) - bin_edges.begin() - 1;
        ++d.histogram[static_cast<size_t>(bin)];
        if (n > max_length) ++d.truncated;
    }
    d.bin_edges = std::move(bin_edges);
    d.truncated_fraction = d.count == 0 ? 0.0 : static_cast<double>(d.truncated) / static_cast<double>(d.count);
    return d;
}

SplitStatistics split_statistics(const DialogSumSplit& split, const StatisticsOptions& options) {
    const TokenCounter count = options.count_tokens
                                   ? options.count_tokens
                                   : TokenCounter([](const std::string& text) { return count_whitespace_words(text); });
    SplitStatistics s;
    s.split = split.split;
    s.examples = split.examples.size();
    s.references = split.reference_count();
    s.skipped = split.skipped.size();
    s.unit = options.count_tokens ? LengthUnit::tokens : LengthUnit::words;

    std::vector<size_t> prompt_lengths, summary_lengths;
    std::set<std::string_view> topics;
    prompt_lengths.reserve(s.examples);
    summary_lengths.reserve(s.references);
    for (const auto& example : split.examples) {
        prompt_lengths.push_back(count(options.prompt.render(example.dialogue)));
        for (const auto& reference : example.references) summary_lengths.push_back(count(reference));
        for (const auto& topic : example.topics) topics.insert(topic);
    }
    s.distinct_topics = topics.size();
    s.prompt_lengths = length_distribution(std::move(prompt_lengths), options.max_source_length, options.prompt_bin_edges);
    s.summary_lengths = length_distribution(std::move(summary_lengths), options.max_target_length, options.summary_bin_edges);
    return s;
}

nlohmann::json to_json(const LengthDistribution& d) {
    return {{"count", d.count},
            {"min", d.min},
            {"mean", d.mean},
            {"median", d.median},
            {"p95", d.p95},
            {"max", d.max},
            {"bin_edges", d.bin_edges},
            {"histogram", d.histogram},
            {"max_length", d.max_length},
            {"truncated", d.truncated},
            {"truncated_fraction", d.truncated_fraction}};
}

nlohmann::json to_json(const SplitStatistics& s) {
    return {{"split", split_name(s.split)},
            {"examples", s.examples},
            {"references", s.references},
            {"skipped", s.skipped},
            {"distinct_topics", s.distinct_topics},
            {"unit", length_unit_name(s.unit)},
            {"prompt_lengths", to_json(s.prompt_lengths)},
            {"summary_lengths", to_json(s.summary_lengths)}};
}

}  // namespace sumlab
