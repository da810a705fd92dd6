// The lab's results CSV (see results_csv.h): column roles from the header, rows through engine/data/csv.
#include "engine/metrics/results_csv.h"

#include "engine/data/csv.h"
#include "base/errors.h"
#include "base/file_util.h"

#include <algorithm>
#include <map>
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

// The number N of "human_baseline_summaries_N" (N >= 2), or 0 when `name` is not such a column.
size_t extra_reference_number(std::string_view name) {
    const std::string prefix = std::string(human_summaries_column) + "_";
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return 0;
    const std::string_view digits = name.substr(prefix.size());
    if (digits.size() > 3 || digits.front() == '0' ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return 0;
    const size_t n = std::stoul(std::string(digits));
    return n >= 2 ? n : 0;
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
    std::map<size_t, std::vector<std::string>> extra_references;  // by number
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
        } else if (const size_t number = extra_reference_number(name); number != 0) {
            extra_references[number] = column_values(csv, i);
        } else if (is_system_column(name)) {
            table.systems.push_back(
                {name.substr(0, name.size() - summaries_column_suffix.size()), column_values(csv, i)});
        } else {
            throw DataError(path, header_line,
                            "unexpected column \"" + name + "\" (expected human_baseline_summaries, "
                            "human_baseline_summaries_2.., <system>_summaries, id, dialogue, or a leading index column)");
        }
    }
    if (!has_human) throw DataError(path, header_line, "missing column \"human_baseline_summaries\"");
    size_t expected = 2;
    for (auto& [number, values] : extra_references) {
        if (number != expected) {
            throw DataError(path, header_line, "column \"" + extra_reference_column(number - 1) + "\" without \"" +
                                                   extra_reference_column(expected - 1) + "\" (references are numbered from 2 without gaps)");
        }
        table.more_references.push_back(std::move(values));
        ++expected;
    }
    if (table.systems.empty()) {
        throw DataError(path, header_line, "no system columns (<system>_summaries besides human_baseline_summaries)");
    }
    if (csv.rows.empty()) throw DataError(path, 0, "no data rows");
    return table;
}

}  // namespace

std::string extra_reference_column(size_t index) { return std::string(human_summaries_column) + "_" + std::to_string(index + 1); }

std::vector<std::string> ResultsTable::references(size_t row) const {
    std::vector<std::string> out{human_baseline.at(row)};
    for (const auto& column : more_references)
        if (!column.at(row).empty()) out.push_back(column[row]);
    return out;
}

size_t ResultsTable::max_references() const {
    size_t most = human_baseline.empty() ? 0 : 1;
    for (size_t r = 0; r < size(); ++r) most = std::max(most, references(r).size());
    return most;
}

const SystemSummaries* ResultsTable::find_system(const std::string& name) const {
    for (const SystemSummaries& s : systems)
        if (s.name == name) return &s;
    return nullptr;
}

std::string ResultsTable::system_names() const {
    std::string out;
    for (const SystemSummaries& s : systems) out += (out.empty() ? "" : ", ") + s.name;
    return out;
}

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
    for (size_t k = 0; k < table.more_references.size(); ++k) {
        if (table.more_references[k].size() != n) throw std::invalid_argument("format_results_csv: columns of different lengths");
        header.push_back(extra_reference_column(k + 1));
    }
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
        for (const auto& column : table.more_references) row.push_back(column[r]);
        for (const SystemSummaries& system : table.systems) row.push_back(system.summaries[r]);
    }
    return format_csv(header, rows);
}

void write_results_csv(const std::string& path, const ResultsTable& table) {
    write_atomically(path, format_results_csv(table));
}

ResultsScores score_results(const ResultsTable& table, Stemming stemming, const BootstrapOptions& bootstrap,
                            ReferenceMode references) {
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
            scores.per_example.push_back(references == ReferenceMode::all
                                             ? scorer.score_multi(table.references(r), system.summaries[r])
                                             : scorer.score(table.human_baseline[r], system.summaries[r]));
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
