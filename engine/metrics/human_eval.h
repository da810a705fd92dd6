// Blind human evaluation of two systems from a results CSV: the statistics. The sample, the ratings and the
// raters' crash-safe JSONL files are ratings_file.h (included here); a rating says which system won (or a
// tie) and scores faithfulness, coverage and fluency 1-5 per system, with a note.
// Several raters' files merge into win rates with Wilson intervals, mean scores with bootstrap intervals,
// agreement (Cohen's kappa, Fleiss' kappa, Krippendorff's alpha) and the Spearman / Pearson correlation
// between the human preference and the per-example ROUGE delta.
//
// Intended use:
//     ResultsTable table = read_results_csv(path);
//     RatingPlan plan = make_rating_plan(table, path, "original_model", "peft_model", 50, seed);
//     RatingSession session(ratings_path, "ann", plan);   // creates the file or resumes it
//     Rating r = session.make_rating(session.next_unrated(), Choice::left);  // fill scores and note
//     session.record(r);                                    // appended and fsync'ed
//     HumanEvalReport report = merge_ratings(table, {read_rating_file(a), read_rating_file(b)}, {});
#pragma once

#include "engine/metrics/bootstrap.h"
#include "engine/metrics/ratings_file.h"
#include "engine/metrics/results_csv.h"
#include "engine/metrics/rouge.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sumlab {

// ---------------------------------------------------------------------------------------------------------
// Agreement and correlation (plain statistics, tested against textbook examples).

// Cohen's kappa of two raters' nominal labels on the same items (labels are arbitrary ints).
// NaN when fewer than one item or when chance agreement is 1. Throws std::invalid_argument for ragged input.
double cohen_kappa(const std::vector<int>& rater1, const std::vector<int>& rater2);

// Fleiss' kappa from per-item category counts (items x categories), every item with the same number of
// ratings (>= 2). NaN when undefined. Throws std::invalid_argument for unequal totals.
double fleiss_kappa(const std::vector<std::vector<int>>& counts);

enum class AlphaMetric { nominal, ordinal, interval };
const char* alpha_metric_name(AlphaMetric metric);

// Krippendorff's alpha on a reliability matrix: units x coders, std::nullopt for a missing value
// (Krippendorff 2011, "Computing Krippendorff's alpha-reliability": coincidence matrix, pairable values
// only; ordinal distances from the marginal totals of the observed values). NaN when fewer than two
// pairable values or no disagreement is expected.
double krippendorff_alpha(const std::vector<std::vector<std::optional<double>>>& units, AlphaMetric metric);

// Pearson's r and Spearman's rho (Pearson on average ranks, ties sharing their mean rank). NaN when
// fewer than two points or a constant variable.
double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y);
double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y);

// Wilson score interval of successes/trials at `confidence` (two-sided); {0, 0, 0} for no trials.
ConfidenceInterval wilson_interval(std::int64_t successes, std::int64_t trials, double confidence = 0.95);

// ---------------------------------------------------------------------------------------------------------
// Merging raters.

struct HumanEvalOptions {
    RougeType rouge_type = RougeType::rougeL;  // the per-example score whose delta is correlated
    Stemming stemming = Stemming::porter;
    BootstrapOptions bootstrap{1000, 0.95, 0};  // mean-score intervals; confidence also sets Wilson's
};

struct SystemTally {
    std::string system;
    std::int64_t wins = 0;
    ConfidenceInterval win_rate;   // mid = wins / ratings, low/high: Wilson
    // Mean of the given 1-5 scores: mid = the mean, low/high = percentile bootstrap (no scores: count 0).
    struct Mean {
        std::int64_t count = 0;
        ConfidenceInterval ci;
    };
    Mean faithfulness, coverage, fluency;
};

struct AgreementResult {
    std::string name;      // "preference", "faithfulness", "coverage", "fluency"
    std::int64_t units = 0;  // items (or item-system pairs for scores) rated by at least two raters
    double cohen_kappa = std::numeric_limits<double>::quiet_NaN();    // exactly two raters
    double fleiss_kappa = std::numeric_limits<double>::quiet_NaN();   // items rated by every rater
    double alpha_nominal = std::numeric_limits<double>::quiet_NaN();
    double alpha_ordinal = std::numeric_limits<double>::quiet_NaN();
    double alpha_interval = std::numeric_limits<double>::quiet_NaN();
};

// One merged rating with the ROUGE of both systems for its row.
struct MergedRating {
    Rating rating;
    double rouge_a = 0;  // per-example options.rouge_type F-measure of system_a against the human summary
    double rouge_b = 0;
};

struct HumanEvalReport {
    std::string system_a;
    std::string system_b;
    std::vector<std::string> raters;   // in file order
    std::int64_t ratings = 0;          // latest ratings of all raters together
    std::int64_t items = 0;            // distinct rows rated
    std::int64_t ties = 0;
    ConfidenceInterval tie_rate;
    SystemTally a, b;   // system_a, system_b
    std::vector<AgreementResult> agreement;   // preference, then the three scores
    // Per rated row: preference = mean over raters of +1 (b won), -1 (a won), 0 (tie), against
    // rouge(b) - rouge(a). NaN when undefined.
    std::int64_t correlation_points = 0;
    double spearman = std::numeric_limits<double>::quiet_NaN();
    double pearson = std::numeric_limits<double>::quiet_NaN();
    std::string rouge_name;            // e.g. "rougeL F-measure, Porter stemmer"
    std::vector<MergedRating> merged;  // by rater (file order), then item position
    std::vector<std::string> warnings;
};

// Merges the latest ratings of each file. All files must compare the same two systems (in either order)
// and their rows must exist in `table`; otherwise DataError naming the file. One file per rater: two
// files with the same rater name throw DataError too.
HumanEvalReport merge_ratings(const ResultsTable& table, const std::vector<RatingFile>& files, const HumanEvalOptions& options);

// The merged table: rater, time, item, row, id, left, right, choice, winner, the three scores of
// system_a and of system_b, note, rouge_a, rouge_b, rouge_delta. CSV (Python csv style) and JSONL.
std::string format_merged_csv(const HumanEvalReport& report);
std::string format_merged_jsonl(const HumanEvalReport& report);
// The summary (win rates, mean scores, agreement, correlation) as JSON.
nlohmann::json report_summary_json(const HumanEvalReport& report);

}  // namespace sumlab
