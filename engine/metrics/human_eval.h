// Blind human evaluation of two systems from a results CSV (engine/metrics/results_csv.h): a seeded sample of rows,
// each shown with a random left/right order that is recorded and no system names; a rating says which
// system won (or a tie) and scores faithfulness, coverage and fluency 1-5 per system, with a note.
// Every rating is appended to the rater's JSONL file as one line, flushed and fsync'ed, so a crash loses
// at most the line being written; reopening resumes, and the last rating of an item wins.
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
// The sample and its recorded order.

struct RatingItem {
    std::size_t position = 0;   // place in the sample, 0-based (the order the rater sees)
    std::size_t row = 0;        // row of the results CSV, 0-based
    std::string id;             // the row's `id`, or its row number when the file has none
    std::string left_system;    // shown as "Summary A"
    std::string right_system;   // shown as "Summary B"
};

// What a ratings file is about; written as its first line ({"type": "session", ...}).
struct RatingPlan {
    std::string results_path;   // the results CSV, as given
    std::string system_a;       // the two systems compared (column names without "_summaries")
    std::string system_b;
    std::size_t sample_size = 0;  // requested; items.size() may be smaller for a short file
    std::uint64_t seed = 0;
    std::size_t table_rows = 0;   // rows in the results CSV when the plan was made
    std::vector<RatingItem> items;
};

// Draws min(sample_size, rows) distinct rows in a seeded random order (Fisher-Yates on splitmix64, the same
// on every platform) and flips a seeded coin per item for the left/right order.
// Throws DataError naming `results_path` when a system is not a column of the table (the message lists
// the systems it has) or both systems are the same; std::invalid_argument for sample_size 0.
RatingPlan make_rating_plan(const ResultsTable& table, const std::string& results_path, const std::string& system_a,
                            const std::string& system_b, std::size_t sample_size, std::uint64_t seed);

// ---------------------------------------------------------------------------------------------------------
// One rating.

enum class Choice { left, right, tie };
const char* choice_name(Choice choice);  // "left", "right", "tie"

// 1-5 each; 0 means not scored.
struct QualityScores {
    int faithfulness = 0;
    int coverage = 0;
    int fluency = 0;
};
inline constexpr int min_score = 1;
inline constexpr int max_score = 5;
inline constexpr const char* tie_winner = "tie";

struct Rating {
    std::string rater;
    std::string timestamp;      // ISO 8601 UTC, e.g. "2026-11-25T17:03:12Z"
    std::size_t position = 0;   // RatingItem::position
    std::size_t row = 0;
    std::string id;
    std::string left_system;
    std::string right_system;
    Choice choice = Choice::tie;
    std::string winner;         // the winning system's name, or "tie"
    QualityScores left;         // scores of the left summary
    QualityScores right;
    std::string note;

    // The scores of a system by name (left or right); throws std::invalid_argument for another name.
    const QualityScores& scores_of(const std::string& system) const;
};

// {"type": "rating", "rater": .., "time": .., "item": .., "row": .., "id": .., "left": .., "right": ..,
//  "choice": .., "winner": .., "scores": {"<left system>": {"faithfulness": .., "coverage": .., "fluency": ..},
//  "<right system>": {..}}, "note": ..}
nlohmann::json rating_to_json(const Rating& rating);
// Throws DataError{path, line} for a missing or ill-typed field, a score outside 0-5 or a winner that is
// neither side nor "tie".
Rating rating_from_json(const nlohmann::json& j, const std::string& path, std::int64_t line);

nlohmann::json plan_to_json(const RatingPlan& plan);   // without the items (they follow from the seed)
// The current UTC time as ISO 8601 with seconds.
std::string utc_timestamp();

// ---------------------------------------------------------------------------------------------------------
// Ratings files.

struct RatingFile {
    std::string path;
    std::optional<RatingPlan> plan;   // from the session line (items not filled in)
    std::string rater;                // from the session line, or the first rating
    std::vector<Rating> ratings;      // every rating line, in file order (re-ratings included)
    std::vector<std::string> warnings;  // e.g. a torn last line that was ignored

    // The last rating of each item, by position.
    std::map<std::size_t, Rating> latest() const;
};

// Reads a ratings file. A last line without its newline that is not valid JSON (a write cut short by a
// crash) is ignored with a warning; any other bad line throws DataError{path, line}. FileError when the
// file cannot be read.
RatingFile read_rating_file(const std::string& path);
RatingFile parse_rating_file(const std::string& text, const std::string& path);

// One rater's session: the plan, the ratings so far and the file they are appended to.
class RatingSession {
public:
    // Opens `path` for appending, creating it with a session line when missing or empty. An existing file
    // must hold the same plan (results file name, systems, seed, sample size), else ConfigError naming the
    // key that differs; its ratings are loaded (a torn last line is cut off and reported in warnings()).
    RatingSession(std::string path, std::string rater, RatingPlan plan);
    ~RatingSession();
    RatingSession(const RatingSession&) = delete;
    RatingSession& operator=(const RatingSession&) = delete;

    const RatingPlan& plan() const { return plan_; }
    const std::string& path() const { return path_; }
    const std::string& rater() const { return rater_; }
    const std::vector<std::string>& warnings() const { return warnings_; }

    std::size_t size() const { return plan_.items.size(); }
    std::size_t rated_count() const { return latest_.size(); }
    // The latest rating of item `position`, if any.
    std::optional<Rating> rating(std::size_t position) const;
    // The first unrated position after `from` (wrapping around), or size() when every item is rated.
    std::size_t next_unrated(std::size_t from = 0) const;

    // A rating of item `position` filled from the plan (rater, order, winner from the choice, time now).
    Rating make_rating(std::size_t position, Choice choice) const;
    // Validates, appends one line, flushes and fsyncs. Throws FileError when the write fails,
    // std::invalid_argument when the rating does not match the plan's item or a score is out of range.
    void record(const Rating& rating);

private:
    void append_line(const std::string& line);

    std::string path_;
    std::string rater_;
    RatingPlan plan_;
    std::map<std::size_t, Rating> latest_;
    std::vector<std::string> warnings_;
    int fd_ = -1;
};

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
