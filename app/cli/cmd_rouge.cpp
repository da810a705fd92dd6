// `sumlab-cli rouge`: ROUGE exactly as rouge_score 0.1.2 (Hugging Face evaluate) in three modes:
//   --input PAIRS.jsonl   score {"prediction", "references"} pairs (best reference per type, score_multi)
//   --results FILE.csv    score every <system>_summaries column of a lab results CSV against
//                         human_baseline_summaries, and the paired-bootstrap deltas between the systems
//   --tokenize            print the ROUGE tokens of each line of standard input
// The JSON of --input is the contract of shared/golden/rouge/check.py; keep its shape.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "engine/metrics/bootstrap.h"
#include "engine/data/jsonl.h"
#include "engine/metrics/results_csv.h"
#include "engine/metrics/rouge.h"
#include "base/errors.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace sumlab::cli {
namespace {

constexpr int default_results_resamples = 1000;

struct RougeCommandOptions {
    std::string input_path;
    std::string results_path;
    bool tokenize = false;
    bool stemmer = false;
    bool per_example = false;
    bool json = false;
    int bootstrap = -1;  // resamples; -1: not given (0 for --input, 1000 for --results)
    std::uint64_t seed = 0;
};

struct ScoredPair {
    std::string prediction;
    std::vector<std::string> references;
};

std::string display_path(const std::string& path) { return path == "-" ? "<stdin>" : path; }

std::vector<ScoredPair> read_pairs(const std::string& path) {
    const std::string where = display_path(path);
    std::vector<ScoredPair> pairs;
    for (const JsonlRecord& record : read_jsonl(path)) {
        ScoredPair pair;
        pair.prediction = require_string(record, "prediction", where);
        const auto many = record.value.find("references");
        const auto one = record.value.find("reference");
        if (many != record.value.end() && one != record.value.end()) {
            throw DataError(where, record.line, "give either \"references\" or \"reference\", not both");
        }
        if (one != record.value.end()) {
            pair.references.push_back(require_string(record, "reference", where));
        } else if (many != record.value.end()) {
            if (!many->is_array()) throw DataError(where, record.line, "field \"references\" must be a list of strings");
            if (many->empty()) throw DataError(where, record.line, "field \"references\" is empty");
            for (size_t k = 0; k < many->size(); ++k) {
                const nlohmann::json& reference = (*many)[k];
                if (!reference.is_string()) {
                    throw DataError(where, record.line, "references[" + std::to_string(k) + "] must be a string");
                }
                pair.references.push_back(reference.get<std::string>());
            }
        } else {
            throw DataError(where, record.line, "missing field \"references\" (or \"reference\")");
        }
        pairs.push_back(std::move(pair));
    }
    if (pairs.empty()) throw DataError(where, 0, "no examples");
    return pairs;
}

// Writes one table line without the padding after its last cell.
void print_line(std::string line) {
    line.erase(line.find_last_not_of(' ') + 1);
    std::cout << line << '\n';
}

std::string format_p_value(double p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", p);
    return buf;
}

// --input: per-example scores, their mean and, with --bootstrap N, the percentile intervals.
void run_pairs(const RougeCommandOptions& options) {
    const std::vector<ScoredPair> pairs = read_pairs(options.input_path);
    const RougeScorer scorer(options.stemmer ? Stemming::porter : Stemming::none);
    std::vector<RougeScores> per_example;
    per_example.reserve(pairs.size());
    for (const ScoredPair& pair : pairs) per_example.push_back(scorer.score_multi(pair.references, pair.prediction));

    const int resamples = std::max(options.bootstrap, 0);
    const BootstrapOptions bootstrap{resamples, 0.95, options.seed};
    const RougeScores mean = mean_rouge(per_example);
    PerRougeType<ConfidenceInterval> ci;
    if (resamples > 0) ci = bootstrap_rouge(per_example, bootstrap);

    if (options.json) {
        nlohmann::json out = nlohmann::json::object();
        if (options.per_example) {
            nlohmann::json& list = out["per_example"] = nlohmann::json::array();
            for (const RougeScores& s : per_example) list.push_back(rouge_scores_to_json(s));
        }
        out["mean"] = rouge_scores_to_json(mean);
        if (resamples > 0) out["ci"] = rouge_intervals_to_json(ci);
        write_json_line(std::cout, out);
        return;
    }

    RougeProvenance provenance;
    provenance.stemming = scorer.stemming();
    provenance.examples = static_cast<std::int64_t>(pairs.size());
    provenance.bootstrap_resamples = resamples;
    provenance.confidence = bootstrap.confidence;
    provenance.seed = options.seed;
    provenance.min_references = static_cast<int>(pairs.front().references.size());
    provenance.max_references = provenance.min_references;
    for (const ScoredPair& pair : pairs) {
        provenance.min_references = std::min(provenance.min_references, static_cast<int>(pair.references.size()));
        provenance.max_references = std::max(provenance.max_references, static_cast<int>(pair.references.size()));
    }

    if (options.per_example) {
        print_line(pad_right("example", 9) + pad_right("rouge1 F", 10) + pad_right("rouge2 F", 10) + pad_right("rougeL F", 10) + "rougeLsum F");
        for (size_t i = 0; i < per_example.size(); ++i) {
            std::string line = pad_right(std::to_string(i + 1), 9);
            for (RougeType type : all_rouge_types) line += pad_right(fixed(per_example[i][type].fmeasure, 4), 10);
            print_line(line);
        }
        std::cout << '\n';
    }
    print_line(pad_right("metric", 11) + pad_right("precision", 11) + pad_right("recall", 11) + pad_right("fmeasure", 11) +
               (resamples > 0 ? "fmeasure 95% CI" : ""));
    for (RougeType type : all_rouge_types) {
        std::string line = pad_right(rouge_type_name(type), 11) + pad_right(fixed(mean[type].precision, 4), 11) +
                           pad_right(fixed(mean[type].recall, 4), 11) + pad_right(fixed(mean[type].fmeasure, 4), 11);
        if (resamples > 0) line += "[" + fixed(ci[type].fmeasure.low, 4) + ", " + fixed(ci[type].fmeasure.high, 4) + "]";
        print_line(line);
    }
    std::cout << provenance.describe() << '\n';
}

// --results: each system against the human summaries, then every later system minus every earlier one.
void run_results(const RougeCommandOptions& options) {
    const ResultsTable table = read_results_csv(options.results_path);
    const Stemming stemming = options.stemmer ? Stemming::porter : Stemming::none;
    const int resamples = options.bootstrap < 0 ? default_results_resamples : options.bootstrap;
    const BootstrapOptions bootstrap{resamples, 0.95, options.seed};
    const ResultsScores scores = score_results(table, stemming, bootstrap);

    RougeProvenance provenance;
    provenance.stemming = stemming;
    provenance.examples = static_cast<std::int64_t>(table.size());
    provenance.bootstrap_resamples = resamples;
    provenance.confidence = bootstrap.confidence;
    provenance.seed = options.seed;

    if (options.json) {
        nlohmann::json out = nlohmann::json::object();
        out["provenance"] = provenance.to_json();
        out["reference_column"] = std::string(human_summaries_column);
        out["examples"] = table.size();
        nlohmann::json& systems = out["systems"] = nlohmann::json::array();
        for (const SystemScores& system : scores.systems) {
            nlohmann::json entry = {{"name", system.name}, {"mean", rouge_scores_to_json(system.mean)}};
            if (resamples > 0) entry["ci"] = rouge_intervals_to_json(system.ci);
            systems.push_back(entry);
        }
        nlohmann::json& deltas = out["deltas"] = nlohmann::json::array();
        for (const SystemComparison& comparison : scores.comparisons) {
            nlohmann::json entry = {{"baseline", scores.systems[comparison.baseline].name},
                                    {"candidate", scores.systems[comparison.candidate].name}};
            for (RougeType type : all_rouge_types) {
                for (RougeMeasure measure : all_rouge_measures) {
                    const PairedDelta& d = comparison.deltas[type][measure];
                    nlohmann::json value = {{"delta", d.delta},
                                            {"points", d.delta * 100},
                                            {"relative", d.baseline_mean != 0 ? nlohmann::json(d.delta / d.baseline_mean)
                                                                              : nlohmann::json(nullptr)}};
                    if (resamples > 0) {
                        value["low"] = d.ci.low;
                        value["mid"] = d.ci.mid;
                        value["high"] = d.ci.high;
                        value["p_value"] = d.p_value;
                    }
                    entry[rouge_type_name(type)][rouge_measure_name(measure)] = value;
                }
            }
            deltas.push_back(entry);
        }
        write_json_line(std::cout, out);
        return;
    }

    size_t name_width = 8;
    for (const SystemScores& system : scores.systems) name_width = std::max(name_width, system.name.size() + 2);
    std::cout << "ROUGE F-measure of each system against " << human_summaries_column << " (mean"
              << (resamples > 0 ? ", 95% CI" : "") << ")\n";
    const size_t cell = resamples > 0 ? 26 : 11;
    std::string header = pad_right("system", name_width);
    for (RougeType type : all_rouge_types) header += pad_right(rouge_type_name(type), cell);
    print_line(header);
    for (const SystemScores& system : scores.systems) {
        std::string line = pad_right(system.name, name_width);
        for (RougeType type : all_rouge_types) {
            std::string text = fixed(system.mean[type].fmeasure, 4);
            if (resamples > 0) {
                text += " [" + fixed(system.ci[type].fmeasure.low, 4) + ", " + fixed(system.ci[type].fmeasure.high, 4) + "]";
            }
            line += pad_right(text, cell);
        }
        print_line(line);
    }

    for (const SystemComparison& comparison : scores.comparisons) {
        std::cout << "\nAbsolute improvement, " << scores.systems[comparison.candidate].name << " - "
                  << scores.systems[comparison.baseline].name << " (F-measure points"
                  << (resamples > 0 ? "; paired bootstrap 95% CI, two-sided p" : "") << "):\n";
        for (RougeType type : all_rouge_types) {
            const PairedDelta& d = comparison.deltas[type].fmeasure;
            std::cout << rouge_type_name(type) << ": " << fixed(d.delta * 100, 2) << '%';
            if (resamples > 0) {
                std::cout << "  [" << fixed(d.ci.low * 100, 2) << "%, " << fixed(d.ci.high * 100, 2)
                          << "%]  p = " << format_p_value(d.p_value);
            }
            if (d.baseline_mean != 0) std::cout << "  (" << signed_fixed(d.delta / d.baseline_mean * 100, 2) << "% relative)";
            std::cout << '\n';
        }
    }
    std::cout << '\n' << provenance.describe() << '\n';
}

// --tokenize: one output line per input line, the tokens joined by single spaces.
void run_tokenize(const RougeCommandOptions& options) {
    const RougeScorer scorer(options.stemmer ? Stemming::porter : Stemming::none);
    std::string line;
    std::string out;
    while (std::getline(std::cin, line)) {
        out.clear();
        for (const std::string& token : scorer.tokenize(line)) {
            if (!out.empty()) out += ' ';
            out += token;
        }
        out += '\n';
        std::cout << out;
    }
    std::cout.flush();
}

}  // namespace

void add_rouge_command(CLI::App& app) {
    auto options = std::make_shared<RougeCommandOptions>();
    CLI::App* cmd = app.add_subcommand(
        "rouge",
        "ROUGE-1/2/L/Lsum exactly as Google's rouge_score 0.1.2 (Hugging Face evaluate), with bootstrap "
        "confidence intervals. Give one of --input, --results or --tokenize.");

    CLI::Option* input = cmd->add_option(
        "--input", options->input_path,
        "JSON Lines of {\"prediction\": str, \"references\": [str, ...]} (or \"reference\": str); \"-\" reads "
        "standard input. Several references: per type, the one with the best F (rouge_score score_multi).");
    CLI::Option* results = cmd->add_option(
        "--results", options->results_path,
        "Lab results CSV: every <system>_summaries column is scored against human_baseline_summaries, then "
        "each later system minus each earlier one (paired bootstrap CI and p-value).");
    CLI::Option* tokenize = cmd->add_flag(
        "--tokenize", options->tokenize,
        "Print the ROUGE tokens of each line of standard input, joined by single spaces.");
    input->excludes(results)->excludes(tokenize);
    results->excludes(tokenize);

    cmd->add_flag("--stemmer", options->stemmer, "Porter stemmer (NLTK 3.8) on tokens longer than 3 characters (use_stemmer=True).");
    cmd->add_flag("--per-example", options->per_example, "Also print each example's scores (with --input).")->needs(input);
    cmd->add_flag("--json", options->json, "Print one JSON object instead of a table.")->excludes(tokenize);
    cmd->add_option("--bootstrap", options->bootstrap,
                    "Bootstrap resamples for the 95% percentile intervals (default: 0 = none for --input, "
                    "1000 for --results).")
        ->check(CLI::Range(0, 10000000))
        ->excludes(tokenize);
    cmd->add_option("--seed", options->seed, "Seed of the bootstrap resampling (default 0).")->excludes(tokenize);

    cmd->callback([options, input, results] {
        if (input->count() > 0) {
            run_pairs(*options);
        } else if (results->count() > 0) {
            run_results(*options);
        } else if (options->tokenize) {
            run_tokenize(*options);
        } else {
            throw CLI::ValidationError("rouge", "give one of --input, --results or --tokenize");
        }
    });
}

}  // namespace sumlab::cli
