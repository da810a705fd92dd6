// `sumlab-cli data`: loads DialogSum (Hugging Face CSV, original JSON Lines or Python-literal lines) and either
//   prints the splits, their counts and length statistics (a table, or one JSON object) in whitespace words, or,
//   with --model DIR, in that model's T5 tokens (</s> included, as the trainer and generation count them), or
//   --export OUT.jsonl: writes one JSON line per example of one split,
//     {"id", "dialogue", "text" (the prompt applied), "references": [...], "topic", "topics": [...]},
//   the input format other subcommands read.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "engine/data/dialogsum.h"
#include "engine/data/prompt.h"
#include "engine/text/tokenizer.h"
#include "base/errors.h"
#include "base/file_util.h"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace sumlab::cli {
namespace {

constexpr size_t max_skipped_rows_listed = 20;

struct DataCommandOptions {
    std::string data_path;
    std::string split;
    std::string prompt = "dialogsum";
    std::string export_path;
    std::string model_dir;  // count T5 tokens of this model's tokenizer instead of whitespace words
    size_t limit = 0;
    size_t every = 1;
    size_t sample = 0;
    std::uint64_t seed = 42;
    size_t max_source_length = 512;
    size_t max_target_length = 128;
    bool skip_bad_rows = false;
    bool json = false;
};

std::string skipped_row_text(const SkippedRow& row) {
    return row.path + ":" + std::to_string(row.line) + ": " + row.reason +
           (row.id.empty() ? std::string() : " (id \"" + row.id + "\")");
}

// The loaded splits after --every, --sample and --limit.
std::vector<DialogSumSplit> load_selected(const DataCommandOptions& options, const CLI::App& cmd) {
    LoadOptions load;
    if (!options.split.empty()) load.split = parse_split(options.split);
    load.on_bad_row = options.skip_bad_rows ? BadRowPolicy::skip : BadRowPolicy::fail;
    DialogSumDataset dataset = load_dialogsum(options.data_path, load);

    Selection selection;
    selection.every_kth = options.every;
    if (cmd.count("--sample") > 0) selection.sample_size = options.sample;
    selection.seed = options.seed;
    if (cmd.count("--limit") > 0) selection.limit = options.limit;
    std::vector<DialogSumSplit> splits;
    for (const DialogSumSplit& split : dataset.splits) splits.push_back(select_examples(split, selection));
    return splits;
}

void print_distribution_row(const std::string& split, const std::string& text, const LengthDistribution& d) {
    std::cout << pad_right(split, 12) << pad_right(text, 9) << pad_left(std::to_string(d.count), 7)
              << pad_left(std::to_string(d.min), 7) << pad_left(fixed(d.mean, 2), 9) << pad_left(fixed(d.median, 1), 9)
              << pad_left(fixed(d.p95, 1), 9) << pad_left(std::to_string(d.max), 7) << "   "
              << std::to_string(d.truncated) << " (" << fixed(100.0 * d.truncated_fraction, 1) << "%) over "
              << d.max_length << "\n";
}

// "words" or "tokens", for the table's headings.
std::string unit_text(const DataCommandOptions& options) { return options.model_dir.empty() ? "words" : "tokens"; }

void print_histogram(const std::string& split, const std::string& text, const LengthDistribution& d) {
    std::cout << "  " << split << " " << text << ":";
    for (size_t i = 0; i < d.histogram.size(); ++i) {
        const std::string range = i + 1 < d.bin_edges.size()
                                      ? "[" + std::to_string(d.bin_edges[i]) + "," + std::to_string(d.bin_edges[i + 1]) + ")"
                                      : ">=" + std::to_string(d.bin_edges[i]);
        std::cout << (i == 0 ? " " : ", ") << range << " " << d.histogram[i];
    }
    std::cout << "\n";
}

void print_statistics(const DataCommandOptions& options, const std::vector<DialogSumSplit>& splits,
                      const PromptTemplate& prompt) {
    StatisticsOptions stats_options;
    stats_options.prompt = prompt;
    stats_options.max_source_length = options.max_source_length;
    stats_options.max_target_length = options.max_target_length;
    std::shared_ptr<const T5Tokenizer> tokenizer;
    if (!options.model_dir.empty()) {
        tokenizer = std::make_shared<const T5Tokenizer>(T5Tokenizer::from_directory(options.model_dir));
        // HF's tokenizer(text) and tokenizer(text_target=summary): the ids with </s>, before truncation.
        stats_options.count_tokens = [tokenizer](const std::string& text) { return tokenizer->encode(text, true).size(); };
    }
    std::vector<SplitStatistics> stats;
    for (const DialogSumSplit& split : splits) stats.push_back(split_statistics(split, stats_options));

    if (options.json) {
        nlohmann::json out = {{"path", options.data_path},
                              {"prompt", prompt.text()},
                              {"unit", unit_text(options)},
                              {"tokenizer", tokenizer ? nlohmann::json(tokenizer->model_path()) : nlohmann::json(nullptr)},
                              {"splits", nlohmann::json::array()}};
        for (size_t i = 0; i < splits.size(); ++i) {
            nlohmann::json entry = to_json(stats[i]);
            entry["path"] = splits[i].path;
            entry["format"] = format_name(splits[i].format);
            nlohmann::json& skipped = entry["skipped_rows"] = nlohmann::json::array();
            for (const SkippedRow& row : splits[i].skipped) {
                skipped.push_back({{"path", row.path}, {"line", row.line}, {"id", row.id}, {"reason", row.reason}});
            }
            out["splits"].push_back(std::move(entry));
        }
        std::cout << out.dump() << "\n";
        return;
    }

    std::cout << "DialogSum at " << options.data_path << "\n\n";
    std::cout << pad_right("split", 12) << pad_left("examples", 9) << pad_left("references", 12) << pad_left("skipped", 9)
              << pad_left("topics", 8) << "  " << pad_right("format", 16) << "file\n";
    for (size_t i = 0; i < splits.size(); ++i) {
        std::cout << pad_right(std::string(split_name(stats[i].split)), 12) << pad_left(std::to_string(stats[i].examples), 9)
                  << pad_left(std::to_string(stats[i].references), 12) << pad_left(std::to_string(stats[i].skipped), 9)
                  << pad_left(std::to_string(stats[i].distinct_topics), 8) << "  "
                  << pad_right(std::string(format_name(splits[i].format)), 16) << splits[i].path << "\n";
    }

    if (tokenizer) {
        std::cout << "\nLengths in T5 tokens of " << tokenizer->model_path()
                  << " (</s> included; over the limit = truncated by --max-source-length / --max-target-length)";
    } else {
        std::cout << "\nLengths in whitespace words (give --model DIR for the model's tokens)";
    }
    std::cout << "; prompts use the template " << nlohmann::json(prompt.text()).dump() << "\n";
    std::cout << pad_right("split", 12) << pad_right("text", 9) << pad_left("count", 7) << pad_left("min", 7)
              << pad_left("mean", 9) << pad_left("median", 9) << pad_left("p95", 9) << pad_left("max", 7)
              << "   over the limit\n";
    for (const SplitStatistics& s : stats) {
        const std::string name(split_name(s.split));
        print_distribution_row(name, "prompt", s.prompt_lengths);
        print_distribution_row(name, "summary", s.summary_lengths);
    }
    std::cout << "\nHistograms (" << unit_text(options) << "):\n";
    for (const SplitStatistics& s : stats) {
        const std::string name(split_name(s.split));
        print_histogram(name, "prompt", s.prompt_lengths);
        print_histogram(name, "summary", s.summary_lengths);
    }

    for (const DialogSumSplit& split : splits) {
        if (split.skipped.empty()) continue;
        std::cout << "\nSkipped " << split.skipped.size() << " rows of the " << split_name(split.split) << " split:\n";
        for (size_t i = 0; i < split.skipped.size() && i < max_skipped_rows_listed; ++i) {
            std::cout << "  " << skipped_row_text(split.skipped[i]) << "\n";
        }
        if (split.skipped.size() > max_skipped_rows_listed) {
            std::cout << "  ... and " << split.skipped.size() - max_skipped_rows_listed << " more (--json lists them all)\n";
        }
    }
}

void export_split(const DataCommandOptions& options, const std::vector<DialogSumSplit>& splits,
                  const PromptTemplate& prompt) {
    if (splits.size() != 1) {
        throw ConfigError("--export", "", "the data holds " + std::to_string(splits.size()) +
                                              " splits; choose the one to export with --split");
    }
    const DialogSumSplit& split = splits.front();
    std::string out;
    for (const DialogSumExample& e : split.examples) {
        const nlohmann::ordered_json line = {{"id", e.id},
                                             {"dialogue", e.dialogue},
                                             {"text", prompt.render(e.dialogue)},
                                             {"references", e.references},
                                             {"topic", e.topic()},
                                             {"topics", e.topics}};
        out += line.dump();
        out += '\n';
    }
    if (options.export_path == "-") {
        std::cout << out;
        std::cout.flush();
    } else {
        write_atomically(options.export_path, out);
    }
    std::cerr << "exported " << split.examples.size() << " " << split_name(split.split) << " examples to "
              << (options.export_path == "-" ? std::string("standard output") : options.export_path);
    if (!split.skipped.empty()) std::cerr << " (" << split.skipped.size() << " rows skipped)";
    std::cerr << "\n";
    for (const SkippedRow& row : split.skipped) std::cerr << "skipped " << skipped_row_text(row) << "\n";
}

}  // namespace

void add_data_command(CLI::App& app) {
    auto options = std::make_shared<DataCommandOptions>();
    CLI::App* cmd = app.add_subcommand(
        "data",
        "Load DialogSum and print its splits, counts and length statistics (in whitespace words, or the model's "
        "tokens with --model), or export one split as JSON Lines with the prompt applied.");

    cmd->add_option("--data", options->data_path,
                    "A folder (train.csv/validation.csv/test.csv, or dialogsum.train/dev/test.jsonl, or Python dict "
                    "lines) or a single file; a file's split comes from its name unless --split is given; or a Hub "
                    "dataset id such as knkarthick/dialogsum (from the Hugging Face cache).")
        ->required()
        ->transform(hub_folder(hub::RepoType::Dataset));
    cmd->add_option("--split", options->split, "Only this split: train, validation (or dev, val), test.")
        ->check([](const std::string& value) -> std::string {
            return parse_split(value) ? std::string() : "unknown split \"" + value + "\" (train, validation, test)";
        });
    cmd->add_option("--every", options->every,
                    "Keep every K-th example, starting with the first (the lab's quick demo: --every 100).")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--sample", options->sample,
                    "Then a random sample of N examples, kept in file order (std::mt19937_64 seeded with --seed).");
    cmd->add_option("--seed", options->seed, "Seed of --sample (default 42).");
    cmd->add_option("--limit", options->limit, "Then only the first N examples of each split.");
    cmd->add_flag("--skip-bad-rows", options->skip_bad_rows,
                  "Leave out rows with an empty id, dialogue or summary, or a repeated id, and list them (default: "
                  "such a row is an error).");
    cmd->add_option("--prompt", options->prompt,
                    "Prompt preset (dialogsum, plain) or a template with {dialogue}; {{ and }} are literal braces. "
                    "In bash, $'...' writes newlines as \\n. Default: dialogsum.");
    cmd->add_option("--max-source-length", options->max_source_length,
                    "Prompt length (in the unit used) above which a prompt counts as truncated (default 512).");
    cmd->add_option("--max-target-length", options->max_target_length,
                    "Summary length (in the unit used) above which a summary counts as truncated (default 128).");
    CLI::Option* json = cmd->add_flag("--json", options->json, "Print the statistics as one JSON object.");
    CLI::Option* export_option = cmd->add_option(
        "--export", options->export_path,
        "Write one split as JSON Lines {\"id\", \"dialogue\", \"text\", \"references\", \"topic\", \"topics\"} to "
        "this file (\"-\": standard output) instead of printing statistics.");
    export_option->excludes(json);
    cmd->add_option("--model", options->model_dir,
                    "Measure lengths in this model's T5 tokens (its spiece.model; </s> counted, as HF's tokenizer does) "
                    "instead of whitespace words, so \"over the limit\" is the share --max-source-length and "
                    "--max-target-length truncate. A folder or a Hub id.")
        ->excludes(export_option)
        ->transform(hub_folder(hub::RepoType::Model));

    cmd->callback([options, cmd, export_option] {
        const PromptTemplate prompt = resolve_prompt(options->prompt);
        const std::vector<DialogSumSplit> splits = load_selected(*options, *cmd);
        if (export_option->count() > 0) {
            export_split(*options, splits, prompt);
        } else {
            print_statistics(*options, splits, prompt);
        }
    });
}

}  // namespace sumlab::cli
