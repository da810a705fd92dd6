// Ratings files of a blind human evaluation of two systems from a results CSV (engine/metrics/results_csv.h):
// the seeded sample of rows with its recorded left/right order (RatingPlan), one rating (which system won or a
// tie, 1-5 scores per system, a note), and the rater's JSON Lines file that holds them. Every rating is appended
// as one line, flushed and fsync'ed, so a crash loses at most the line being written; reopening resumes (a torn
// last line is cut off), and the last rating of an item wins. Merging several raters' files into statistics is
// human_eval.h.
//
// Intended use:
//     ResultsTable table = read_results_csv(path);
//     RatingPlan plan = make_rating_plan(table, path, "original_model", "peft_model", 50, seed);
//     RatingSession session(ratings_path, "ann", plan);   // creates the file or resumes it
//     Rating r = session.make_rating(session.next_unrated(), Choice::left);  // fill scores and note
//     session.record(r);                                    // appended and fsync'ed
//     RatingFile file = read_rating_file(ratings_path);    // for merge_ratings (human_eval.h)
#pragma once

#include "engine/metrics/results_csv.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
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
    // `rater`, or the file's name when the file names no rater.
    std::string rater_name() const;
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

}  // namespace sumlab
