// The lab's results CSV (see results_csv.h): column roles from the header, rows through engine/csv.
#include "engine/results_csv.h"

#include "engine/csv.h"
#include "models/errors.h"
#include "models/file_util.h"

#include <set>
#include <stdexcept>

namespace sumlab {
namespace {

constexpr std::int64_t header_line = 1;

bool is_system_column(std::string_view name) {
    return name.size() > summaries_column_suffix.size() &&
           name.substr(name.size() - summaries_column_suffix.size()) == summaries_column_suffix &&
           name != human_summaries_column;
}

std::vector<std::string> column_values(const CsvTable& csv, size_t column) {
    std::vector<std::string> values;
    values.reserve(csv.rows.size());
    for (const auto& row : csv.rows) values.push_back(row[column]);
    return values;
}

ResultsTable from_csv(const CsvTable& csv, const std::string& path) {
    ResultsTable table;
    bool has_human = false;
    std::set<std::string> seen;
    for (size_t i = 0; i < csv.header.size(); ++i) {
        const std::string& name = csv.header[i];
        if (i == 0 && (name.empty() || name == "Unnamed: 0")) continue;  // pandas' index column
        if (!seen.insert(name).second) throw DataError(path, header_line, "duplicate column \"" + name + "\"");
        if (name == "id") {
            table.ids = column_values(csv, i);
        } else if (name == "dialogue") {
            table.dialogues = column_values(csv, i);
        } else if (name == human_summaries_column) {
            table.human_baseline = column_values(csv, i);
            has_human = true;
        } else if (is_system_column(name)) {
            table.systems.push_back(
                {name.substr(0, name.size() - summaries_column_suffix.size()), column_values(csv, i)});
        } else {
            throw DataError(path, header_line,
                            "unexpected column \"" + name + "\" (expected human_baseline_summaries, <system>_summaries, "
                            "id, dialogue, or a leading index column)");
        }
    }
    if (!has_human) throw DataError(path, header_line, "missing column \"human_baseline_summaries\"");
    if (table.systems.empty()) {
        throw DataError(path, header_line, "no system columns (<system>_summaries besides human_baseline_summaries)");
    }
    if (csv.rows.empty()) throw DataError(path, 0, "no data rows");
    return table;
}

}  // namespace

ResultsTable read_results_csv(const std::string& path) { return from_csv(read_csv(path), path); }

ResultsTable parse_results_csv(std::string_view text, const std::string& path) {
    return from_csv(parse_csv(text, path), path);
}

std::string format_results_csv(const ResultsTable& table) {
    const size_t n = table.size();
    const bool has_ids = !table.ids.empty();
    const bool has_dialogues = !table.dialogues.empty();
    if ((has_ids && table.ids.size() != n) || (has_dialogues && table.dialogues.size() != n)) {
        throw std::invalid_argument("format_results_csv: columns of different lengths");
    }
    std::vector<std::string> header{""};
    if (has_ids) header.emplace_back("id");
    if (has_dialogues) header.emplace_back("dialogue");
    header.emplace_back(human_summaries_column);
    std::set<std::string> names;
    for (const SystemSummaries& system : table.systems) {
        const std::string column = system.name + std::string(summaries_column_suffix);
        if (system.name.empty() || !is_system_column(column) || !names.insert(system.name).second) {
            throw std::invalid_argument("format_results_csv: invalid or duplicate system name \"" + system.name + "\"");
        }
        if (system.summaries.size() != n) throw std::invalid_argument("format_results_csv: columns of different lengths");
        header.push_back(column);
    }

    std::vector<std::vector<std::string>> rows;
    rows.reserve(n);
    for (size_t r = 0; r < n; ++r) {
        std::vector<std::string>& row = rows.emplace_back();
        row.reserve(header.size());
        row.push_back(std::to_string(r));
        if (has_ids) row.push_back(table.ids[r]);
        if (has_dialogues) row.push_back(table.dialogues[r]);
        row.push_back(table.human_baseline[r]);
        for (const SystemSummaries& system : table.systems) row.push_back(system.summaries[r]);
    }
    return format_csv(header, rows);
}

void write_results_csv(const std::string& path, const ResultsTable& table) {
    write_atomically(path, format_results_csv(table));
}

ResultsScores score_results(const ResultsTable& table, Stemming stemming, const BootstrapOptions& bootstrap) {
    const RougeScorer scorer(stemming);
    const bool has_intervals = bootstrap.resamples > 0;
    ResultsScores out;
    out.bootstrap = bootstrap;
    for (const SystemSummaries& system : table.systems) {
        if (system.summaries.size() != table.size()) throw std::invalid_argument("score_results: columns of different lengths");
        SystemScores& scores = out.systems.emplace_back();
        scores.name = system.name;
        scores.per_example.reserve(table.size());
        for (size_t r = 0; r < table.size(); ++r) {
            scores.per_example.push_back(scorer.score(table.human_baseline[r], system.summaries[r]));
        }
        scores.mean = mean_rouge(scores.per_example);
        if (has_intervals) scores.ci = bootstrap_rouge(scores.per_example, bootstrap);
    }
    for (size_t b = 0; b < out.systems.size(); ++b) {
        for (size_t c = b + 1; c < out.systems.size(); ++c) {
            SystemComparison& comparison = out.comparisons.emplace_back();
            comparison.baseline = b;
            comparison.candidate = c;
            if (has_intervals) {
                comparison.deltas = paired_bootstrap_rouge(out.systems[b].per_example, out.systems[c].per_example, bootstrap);
                continue;
            }
            for (RougeType type : all_rouge_types) {
                for (RougeMeasure measure : all_rouge_measures) {
                    PairedDelta& d = comparison.deltas[type][measure];
                    d.baseline_mean = out.systems[b].mean[type][measure];
                    d.candidate_mean = out.systems[c].mean[type][measure];
                    d.delta = d.candidate_mean - d.baseline_mean;
                }
            }
        }
    }
    return out;
}

}  // namespace sumlab
