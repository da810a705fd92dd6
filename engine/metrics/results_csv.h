// The lab's results CSV: one row per test dialogue with the human reference summary and each system's
// summary, as the course notebook writes it with pandas
//     ,human_baseline_summaries,original_model_summaries,instruct_model_summaries,peft_model_summaries
//     0,"#Person1# ...","...","...","..."
// Accepted columns: an optional leading index column (empty header or "Unnamed: 0", as pandas writes and
// re-reads it), optional `id` and `dialogue`, the required `human_baseline_summaries`, optional further
// references `human_baseline_summaries_2`, `_3`, ... (numbered without gaps; DialogSum's test split has three
// per dialogue, an empty cell means that row has fewer), and any number of `<name>_summaries` columns, each
// one system named <name>, in column order. Anything else is an error,
// so a misspelt system column is reported instead of silently ignored.
// score_results() turns a table into the lab's comparison: each system against the human summaries and
// the paired-bootstrap deltas between systems, for the CLI table and the GUI's comparison view alike.
#pragma once

#include "engine/metrics/bootstrap.h"
#include "engine/metrics/rouge.h"

#include <string>
#include <string_view>
#include <vector>

namespace sumlab {

inline constexpr std::string_view human_summaries_column = "human_baseline_summaries";
inline constexpr std::string_view summaries_column_suffix = "_summaries";

struct SystemSummaries {
    std::string name;                    // column name without "_summaries", e.g. "peft_model"
    std::vector<std::string> summaries;  // one per row
};

// "human_baseline_summaries_<number>" of the reference with 0-based index `index` >= 1.
std::string extra_reference_column(size_t index);

struct ResultsTable {
    std::vector<std::string> ids;        // empty when the file has no `id` column
    std::vector<std::string> dialogues;  // empty when the file has no `dialogue` column
    std::vector<std::string> human_baseline;  // the first reference of each row
    // human_baseline_summaries_2, _3, ...: more_references[k][row] is reference k + 2 of the row ("" = none).
    std::vector<std::vector<std::string>> more_references;
    std::vector<SystemSummaries> systems;  // in column order

    size_t size() const { return human_baseline.size(); }
    // The row's non-empty references, the first one first.
    std::vector<std::string> references(size_t row) const;
    // Most references any row has.
    size_t max_references() const;
    // The system called `name`, or nullptr.
    const SystemSummaries* find_system(const std::string& name) const;
    // The systems' names, comma-separated ("original_model, peft_model"), for error messages.
    std::string system_names() const;
};

// Reads and validates a results CSV. Throws FileError when it cannot be read and DataError naming the file
// (and the line, for row problems) for CSV syntax errors, a missing human_baseline_summaries column,
// an unknown or duplicated column, a file without system columns or without rows.
ResultsTable read_results_csv(const std::string& path);
ResultsTable parse_results_csv(std::string_view text, const std::string& path);

// Formats the table the way pandas' DataFrame.to_csv() writes the lab's file: a leading unnamed index
// column 0..n-1, then id, dialogue (when present), human_baseline_summaries (and _2, _3, ...) and the systems.
// Throws std::invalid_argument when the columns have different lengths.
std::string format_results_csv(const ResultsTable& table);

// format_results_csv written with write_atomically(); throws FileError.
void write_results_csv(const std::string& path, const ResultsTable& table);

// One system scored against human_baseline_summaries (rouge_score score(human, system) per row).
struct SystemScores {
    std::string name;
    std::vector<RougeScores> per_example;
    RougeScores mean;                     // mean_rouge(per_example)
    PerRougeType<ConfidenceInterval> ci;  // bootstrap_rouge(per_example); all zero without resamples
};

// systems[candidate] - systems[baseline] on the same rows.
struct SystemComparison {
    size_t baseline = 0;
    size_t candidate = 0;
    // paired_bootstrap_rouge(baseline, candidate); without resamples only the means and delta are set
    // (ci all zero, p_value 1).
    PerRougeType<PairedDelta> deltas;
};

struct ResultsScores {
    std::vector<SystemScores> systems;           // in the table's column order
    std::vector<SystemComparison> comparisons;   // every later system minus every earlier one, in that order
    BootstrapOptions bootstrap;                  // resamples == 0: no intervals were computed
};

// Which references a system is scored against.
enum class ReferenceMode {
    first,  // human_baseline_summaries only: RougeScorer::score (the lab's numbers)
    all,    // every non-empty reference of the row: RougeScorer::score_multi (best reference per ROUGE type)
};

// Scores every system of `table` and compares every pair; `bootstrap.resamples` may be 0 (no intervals).
ResultsScores score_results(const ResultsTable& table, Stemming stemming, const BootstrapOptions& bootstrap,
                            ReferenceMode references = ReferenceMode::first);

}  // namespace sumlab
