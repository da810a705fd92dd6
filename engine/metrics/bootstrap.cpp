// Corpus statistics for per-example scores (see bootstrap.h): exactly rounded means, bootstrap and paired-bootstrap
// resampling on a row-major (example, column) table; the percentile is engine/data/dataset_statistics.h's.
#include "engine/metrics/bootstrap.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace sumlab {
namespace {

// xoshiro256** 1.0 (Blackman & Vigna), state filled from the seed with splitmix64.
class Xoshiro256 {
public:
    explicit Xoshiro256(std::uint64_t seed) {
        for (std::uint64_t& word : state_) {
            seed += 0x9E3779B97F4A7C15ull;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            word = z ^ (z >> 31);
        }
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, bound), bound >= 1, without modulo bias (Lemire 2019, on the top 32 bits).
    std::uint32_t below(std::uint32_t bound) {
        std::uint64_t product = (next() >> 32) * bound;
        auto low = static_cast<std::uint32_t>(product);
        if (low < bound) {
            const std::uint32_t threshold = (0u - bound) % bound;
            while (low < threshold) {
                product = (next() >> 32) * bound;
                low = static_cast<std::uint32_t>(product);
            }
        }
        return static_cast<std::uint32_t>(product >> 32);
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t state_[4];
};

// Per-example values, row-major: rows * columns.
struct Table {
    size_t rows = 0;
    size_t columns = 0;
    std::vector<double> values;
};

Table to_table(const std::vector<std::vector<double>>& columns) {
    if (columns.empty()) throw std::invalid_argument("bootstrap: no columns");
    Table t;
    t.columns = columns.size();
    t.rows = columns.front().size();
    if (t.rows == 0) throw std::invalid_argument("bootstrap: no examples");
    if (t.rows > std::numeric_limits<std::uint32_t>::max()) throw std::invalid_argument("bootstrap: too many examples");
    t.values.resize(t.rows * t.columns);
    for (size_t c = 0; c < t.columns; ++c) {
        if (columns[c].size() != t.rows) throw std::invalid_argument("bootstrap: columns of different lengths");
        for (size_t r = 0; r < t.rows; ++r) t.values[r * t.columns + c] = columns[c][r];
    }
    return t;
}

void check_options(const BootstrapOptions& options) {
    if (options.resamples < 1) throw std::invalid_argument("bootstrap: resamples must be positive");
    if (!(options.confidence >= 0 && options.confidence <= 1)) {
        throw std::invalid_argument("bootstrap: confidence must be in [0, 1]");
    }
}

// Means of `options.resamples` resamples (n draws with replacement) of each column of `columns`:
// result[c][b]. Throws std::invalid_argument for an empty or ragged table.
std::vector<std::vector<double>> resampled_means(const std::vector<std::vector<double>>& columns, const BootstrapOptions& options) {
    const Table table = to_table(columns);
    Xoshiro256 rng(options.seed);
    const size_t resamples = static_cast<size_t>(options.resamples);
    const auto n = static_cast<std::uint32_t>(table.rows);
    const double count = static_cast<double>(table.rows);
    std::vector<std::vector<double>> means(table.columns, std::vector<double>(resamples));
    std::vector<double> sums(table.columns);
    for (size_t b = 0; b < resamples; ++b) {
        std::fill(sums.begin(), sums.end(), 0.0);
        for (std::uint32_t i = 0; i < n; ++i) {
            const double* row = &table.values[static_cast<size_t>(rng.below(n)) * table.columns];
            for (size_t c = 0; c < table.columns; ++c) sums[c] += row[c];
        }
        for (size_t c = 0; c < table.columns; ++c) means[c][b] = sums[c] / count;
    }
    return means;
}

// BootstrapAggregator's percentiles: q = 100 * [(1-ci)/2, 0.5, 1-(1-ci)/2].
ConfidenceInterval interval_of(std::vector<double> samples, double confidence) {
    std::sort(samples.begin(), samples.end());
    const double tail = (1 - confidence) / 2;
    return ConfidenceInterval{numpy_percentile(samples, 100 * tail), numpy_percentile(samples, 100 * 0.5),
                              numpy_percentile(samples, 100 * (1 - tail))};
}

std::vector<std::vector<double>> rouge_columns(const std::vector<RougeScores>& per_example) {
    std::vector<std::vector<double>> columns;
    columns.reserve(all_rouge_types.size() * all_rouge_measures.size());
    for (RougeType type : all_rouge_types) {
        for (RougeMeasure measure : all_rouge_measures) {
            std::vector<double>& column = columns.emplace_back();
            column.reserve(per_example.size());
            for (const RougeScores& s : per_example) column.push_back(s[type][measure]);
        }
    }
    return columns;
}

template <class T>
PerRougeType<T> from_columns(const std::vector<T>& values) {
    PerRougeType<T> out;
    size_t k = 0;
    for (RougeType type : all_rouge_types) {
        for (RougeMeasure measure : all_rouge_measures) out[type][measure] = values[k++];
    }
    return out;
}

// Deterministic synthetic summaries for bench_rouge_bootstrap: words built from syllables, with inflections
// the stemmer works on, drawn with a skew towards frequent words like real text.
class SyntheticText {
public:
    explicit SyntheticText(std::uint64_t seed) : rng_(seed) {
        static const char* const syllables[] = {"ta", "ke", "ro", "mi", "su", "lan", "per", "don",
                                                "vi", "cha", "bel", "tor", "nu", "sa", "gen", "fol"};
        static const char* const endings[] = {"", "", "s", "ing", "ed", "ly", "ness", "ation"};
        for (int i = 0; i < 600; ++i) {
            words_.push_back(std::string(syllables[i % 16]) + syllables[(i / 16) % 16] + (i >= 256 ? syllables[(i / 7) % 16] : "") +
                             endings[(i / 3) % 8]);
        }
    }

    std::string summary() {
        std::string text;
        const std::uint32_t word_count = 15 + rng_.below(31);
        const std::uint32_t lines = 1 + rng_.below(3);
        for (std::uint32_t w = 0; w < word_count; ++w) {
            if (w > 0) text += (w % (word_count / lines + 1) == 0) ? ".\n" : " ";
            const double u = static_cast<double>(rng_.below(1u << 20)) / (1u << 20);
            text += words_[static_cast<size_t>(u * u * static_cast<double>(words_.size()))];
        }
        return text + ".";
    }

private:
    Xoshiro256 rng_;
    std::vector<std::string> words_;
};

double elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

double exact_sum(const std::vector<double>& values) {
    // Partials hold the running sum exactly as non-overlapping doubles of increasing magnitude.
    std::vector<double> partials;
    double non_finite = 0;
    bool has_non_finite = false;
    for (double x : values) {
        if (!std::isfinite(x)) {
            non_finite += x;
            has_non_finite = true;
            continue;
        }
        size_t kept = 0;
        for (size_t k = 0; k < partials.size(); ++k) {
            double y = partials[k];
            if (std::fabs(x) < std::fabs(y)) std::swap(x, y);
            const double hi = x + y;
            const double lo = y - (hi - x);
            if (lo != 0.0) partials[kept++] = lo;
            x = hi;
        }
        partials.resize(kept);
        partials.push_back(x);
    }
    if (has_non_finite) return non_finite;

    // Add the partials from the top until the sum becomes inexact, then round half-even across partials.
    double hi = 0.0;
    size_t n = partials.size();
    if (n > 0) {
        double lo = 0.0;
        hi = partials[--n];
        while (n > 0) {
            const double x = hi;
            const double y = partials[--n];
            hi = x + y;
            const double y_rounded = hi - x;
            lo = y - y_rounded;
            if (lo != 0.0) break;
        }
        if (n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0))) {
            const double y = lo * 2.0;
            const double x = hi + y;
            const double y_rounded = x - hi;
            if (y == y_rounded) hi = x;
        }
    }
    return hi;
}

double exact_mean(const std::vector<double>& values) {
    if (values.empty()) throw std::invalid_argument("exact_mean: no values");
    return exact_sum(values) / static_cast<double>(values.size());
}

std::vector<ConfidenceInterval> bootstrap_mean_intervals(const std::vector<std::vector<double>>& columns,
                                                         const BootstrapOptions& options) {
    check_options(options);
    std::vector<std::vector<double>> means = resampled_means(columns, options);
    std::vector<ConfidenceInterval> intervals;
    intervals.reserve(means.size());
    for (std::vector<double>& samples : means) intervals.push_back(interval_of(std::move(samples), options.confidence));
    return intervals;
}

std::vector<PairedDelta> paired_bootstrap(const std::vector<std::vector<double>>& baseline,
                                          const std::vector<std::vector<double>>& candidate,
                                          const BootstrapOptions& options) {
    check_options(options);
    if (baseline.size() != candidate.size()) throw std::invalid_argument("paired_bootstrap: different numbers of columns");
    std::vector<std::vector<double>> differences(baseline.size());
    for (size_t c = 0; c < baseline.size(); ++c) {
        if (baseline[c].size() != candidate[c].size()) {
            throw std::invalid_argument("paired_bootstrap: systems scored on different numbers of examples");
        }
        differences[c].resize(baseline[c].size());
        for (size_t r = 0; r < baseline[c].size(); ++r) differences[c][r] = candidate[c][r] - baseline[c][r];
    }
    std::vector<std::vector<double>> means = resampled_means(differences, options);
    const auto resamples = static_cast<size_t>(options.resamples);

    std::vector<PairedDelta> deltas;
    deltas.reserve(means.size());
    for (size_t c = 0; c < means.size(); ++c) {
        PairedDelta d;
        d.baseline_mean = exact_mean(baseline[c]);
        d.candidate_mean = exact_mean(candidate[c]);
        d.delta = d.candidate_mean - d.baseline_mean;
        std::vector<double>& samples = means[c];
        const auto at_most_zero = std::count_if(samples.begin(), samples.end(), [](double x) { return x <= 0; });
        const auto at_least_zero = std::count_if(samples.begin(), samples.end(), [](double x) { return x >= 0; });
        const double tail = static_cast<double>(1 + std::min(at_most_zero, at_least_zero)) / static_cast<double>(1 + resamples);
        d.p_value = std::min(1.0, 2 * tail);
        d.ci = interval_of(std::move(samples), options.confidence);
        deltas.push_back(d);
    }
    return deltas;
}

RougeScores mean_rouge(const std::vector<RougeScores>& per_example) {
    std::vector<double> means;
    for (const std::vector<double>& column : rouge_columns(per_example)) means.push_back(exact_mean(column));
    return from_columns(means);
}

PerRougeType<ConfidenceInterval> bootstrap_rouge(const std::vector<RougeScores>& per_example,
                                                 const BootstrapOptions& options) {
    return from_columns(bootstrap_mean_intervals(rouge_columns(per_example), options));
}

PerRougeType<PairedDelta> paired_bootstrap_rouge(const std::vector<RougeScores>& baseline,
                                                 const std::vector<RougeScores>& candidate,
                                                 const BootstrapOptions& options) {
    return from_columns(paired_bootstrap(rouge_columns(baseline), rouge_columns(candidate), options));
}

nlohmann::json rouge_intervals_to_json(const PerRougeType<ConfidenceInterval>& intervals) {
    nlohmann::json out = nlohmann::json::object();
    for (RougeType type : all_rouge_types) {
        nlohmann::json& entry = out[rouge_type_name(type)];
        for (RougeMeasure measure : all_rouge_measures) {
            const ConfidenceInterval& ci = intervals[type][measure];
            entry[rouge_measure_name(measure)] = {{"low", ci.low}, {"mid", ci.mid}, {"high", ci.high}};
        }
    }
    return out;
}

RougeBenchTimings bench_rouge_bootstrap(int examples, int references, int resamples) {
    if (examples < 1 || references < 1 || resamples < 1) throw std::invalid_argument("bench_rouge_bootstrap: sizes must be positive");
    SyntheticText text(20240601);
    std::vector<std::vector<std::string>> refs(static_cast<size_t>(examples));
    std::vector<std::string> system_a;
    std::vector<std::string> system_b;
    for (auto& r : refs) {
        for (int k = 0; k < references; ++k) r.push_back(text.summary());
        system_a.push_back(text.summary());
        system_b.push_back(text.summary());
    }

    RougeBenchTimings timings;
    timings.examples = examples;
    timings.references = references;
    timings.resamples = resamples;

    const RougeScorer scorer(Stemming::porter);
    auto start = std::chrono::steady_clock::now();
    std::vector<RougeScores> scores_a;
    std::vector<RougeScores> scores_b;
    for (size_t i = 0; i < refs.size(); ++i) {
        scores_a.push_back(scorer.score_multi(refs[i], system_a[i]));
        scores_b.push_back(scorer.score_multi(refs[i], system_b[i]));
    }
    timings.scoring_ms = elapsed_ms(start);

    const BootstrapOptions options{resamples, 0.95, 0};
    start = std::chrono::steady_clock::now();
    const PerRougeType<ConfidenceInterval> intervals = bootstrap_rouge(scores_a, options);
    timings.bootstrap_ms = elapsed_ms(start);

    start = std::chrono::steady_clock::now();
    const PerRougeType<PairedDelta> deltas = paired_bootstrap_rouge(scores_a, scores_b, options);
    timings.paired_ms = elapsed_ms(start);

    // Keep the results observable so the timed work cannot be optimized away.
    if (!(intervals.rouge1.fmeasure.low <= intervals.rouge1.fmeasure.high) || !std::isfinite(deltas.rougeL.fmeasure.p_value)) {
        throw std::logic_error("bench_rouge_bootstrap: inconsistent bootstrap result");
    }
    return timings;
}

}  // namespace sumlab
