// Corpus statistics over per-example scores: the exactly rounded mean (the headline number), percentile-bootstrap
// confidence intervals of a mean (rouge_score's BootstrapAggregator, on numpy_percentile from
// engine/data/dataset_statistics.h), and the paired bootstrap of the difference between two systems scored on
// the same examples.
//
// Intended use:
//     std::vector<RougeScores> per_example = ...;                    // RougeScorer::score_multi per example
//     RougeScores headline = mean_rouge(per_example);
//     auto ci = bootstrap_rouge(per_example, {1000, 0.95, seed});     // ci.rouge1.fmeasure.low / mid / high
//     auto d = paired_bootstrap_rouge(original, peft, {1000, 0.95, seed});   // peft - original
//
// Resampling draws example indices with a seeded xoshiro256** generator (portable: the same seed gives the
// same intervals on every platform) and reuses each index vector for every column, so one resample costs
// n draws whatever the number of metrics. Results are approximate in the way numpy's are: different seeds
// move the bounds by about 1e-3 on 500 examples.
#pragma once

#include "engine/data/dataset_statistics.h"  // numpy_percentile, the one numpy-compatible percentile
#include "engine/metrics/rouge.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <vector>

namespace sumlab {

// math.fsum: the sum of `values` correctly rounded to double (Shewchuk's exact partials, CPython's rounding).
double exact_sum(const std::vector<double>& values);

// exact_sum(values) / n, the `mean` of the ROUGE goldens. Throws std::invalid_argument when empty.
double exact_mean(const std::vector<double>& values);

struct BootstrapOptions {
    int resamples = 1000;      // resamples drawn; rouge_score BootstrapAggregator n_samples (default 1000)
    double confidence = 0.95;  // two-sided interval level; BootstrapAggregator confidence_interval (default 0.95)
    std::uint64_t seed = 0;    // xoshiro256** seed (expanded with splitmix64)
};

// Percentiles (1-confidence)/2, 50 and (1+confidence)/2 of the resampled means, as BootstrapAggregator.
struct ConfidenceInterval {
    double low = 0;
    double mid = 0;
    double high = 0;
};

// The difference candidate - baseline of one score between two systems on the same examples.
struct PairedDelta {
    double baseline_mean = 0;   // exact_mean of the baseline's per-example scores
    double candidate_mean = 0;  // exact_mean of the candidate's
    double delta = 0;           // candidate_mean - baseline_mean
    ConfidenceInterval ci;      // percentiles of the mean difference over paired resamples (same indices for both)
    // Two-sided percentile-bootstrap p-value for "no difference": twice the smaller share of resampled mean
    // differences on either side of zero, with the (1 + count) / (1 + resamples) correction of Davison &
    // Hinkley (1997, eq. 4.11) and capped at 1:
    //     p = min(1, 2 * min(1 + #{d* <= 0}, 1 + #{d* >= 0}) / (1 + resamples)).
    // Identical systems give p = 1; a system better on every resample gives 2 / (1 + resamples).
    double p_value = 1;
};

// Bootstrap intervals of the mean of each column; every column holds one value per example (all the same
// length, at least one example). Throws std::invalid_argument for empty or ragged input, resamples < 1 or
// confidence outside [0, 1].
std::vector<ConfidenceInterval> bootstrap_mean_intervals(const std::vector<std::vector<double>>& columns,
                                                         const BootstrapOptions& options);

// Paired bootstrap of candidate - baseline for each column pair; both tables have the same shape.
std::vector<PairedDelta> paired_bootstrap(const std::vector<std::vector<double>>& baseline,
                                          const std::vector<std::vector<double>>& candidate,
                                          const BootstrapOptions& options);

// The same, with the 12 ROUGE values of each example as the columns.
RougeScores mean_rouge(const std::vector<RougeScores>& per_example);
PerRougeType<ConfidenceInterval> bootstrap_rouge(const std::vector<RougeScores>& per_example,
                                                 const BootstrapOptions& options);
PerRougeType<PairedDelta> paired_bootstrap_rouge(const std::vector<RougeScores>& baseline,
                                                 const std::vector<RougeScores>& candidate,
                                                 const BootstrapOptions& options);

// {"rouge1": {"precision": {"low": .., "mid": .., "high": ..}, "recall": .., "fmeasure": ..}, ...}
nlohmann::json rouge_intervals_to_json(const PerRougeType<ConfidenceInterval>& intervals);

// Timings of the evaluation statistics on a synthetic corpus (deterministic texts from a fixed vocabulary,
// 1-3 lines of 15-45 words each): scoring every example against its references with the Porter stemmer,
// then bootstrap_rouge and paired_bootstrap_rouge (two systems) with `resamples` resamples.
struct RougeBenchTimings {
    int examples = 0;
    int references = 0;
    int resamples = 0;
    double scoring_ms = 0;    // score_multi for both systems: 2 * examples * references pairs
    double bootstrap_ms = 0;  // bootstrap_rouge for one system (12 columns)
    double paired_ms = 0;     // paired_bootstrap_rouge for one pair of systems (12 columns)
};
RougeBenchTimings bench_rouge_bootstrap(int examples = 1500, int references = 3, int resamples = 1000);

}  // namespace sumlab
