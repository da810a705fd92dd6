// DialogSum in memory: loading the published layouts and choosing subsets. Their length statistics for the UI and
// CLI are in dataset_statistics.h, the Python-literal parser in python_literal.h (both included here).
//
// Layouts, recognised per file:
//   - Hugging Face CSV (knkarthick/dialogsum): columns id,dialogue,summary,topic in train.csv, validation.csv,
//     test.csv. Its test split has one row per reference summary (ids test_N_1..test_N_3): 1,500 rows, 500 dialogues.
//   - The original JSON Lines release: fname, dialogue, summary, topic in dialogsum.train.jsonl,
//     dialogsum.dev.jsonl, dialogsum.test.jsonl; the test records carry summary1..3 and topic1..3 instead.
//   - One Python dict literal per line ({'fname': 'train_0', 'dialogue': "...", ...}), as in the raw files of
//     the original release. They are read by a strict literal parser (parse_python_literal), never evaluated.
// In every layout the id column may be called "id" or "fname", several references "summary1".."summaryN" and
// several topics "topic1".."topicN"; topics are optional, other extra columns are ignored.
//
// Nothing is dropped silently: a row that cannot be used is a DataError naming file, line and problem, or, when
// LoadOptions::on_bad_row allows skipping, a SkippedRow the caller can show.
//
// Data flow: load_dialogsum() -> select_examples() -> PromptTemplate::render() -> the tokenizer.
#pragma once

#include "engine/data/dataset_statistics.h"  // length statistics of a split, declared there
#include "engine/data/python_literal.h"      // the literal parser the Python layout uses

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sumlab {

enum class Split { train, validation, test };

// "train", "validation", "test".
std::string_view split_name(Split split);

// A split from its name: train; validation, valid, val, dev; test (ASCII case ignored).
std::optional<Split> parse_split(std::string_view name);

// The split a file name names, from its dot/underscore/dash separated words ("dialogsum.dev.jsonl" -> validation,
// "test.csv" -> test); empty when it names none or more than one. Folders in `path` are ignored.
std::optional<Split> split_from_file_name(std::string_view path);

enum class DataFormat { csv, jsonl, python_literal };

// "csv", "jsonl", "python-literal".
std::string_view format_name(DataFormat format);

struct DialogSumExample {
    std::string id;                       // "id" or "fname": "train_0", "test_0_1"
    std::string dialogue;                 // "#Person1#: ...\n#Person2#: ..."
    std::vector<std::string> references;  // "summary", or "summary1".."summaryN"; never empty
    std::vector<std::string> topics;      // "topic", or "topic1".."topicN"; empty when the file has none
    std::int64_t line = 0;                // 1-based line of the file on which the record starts

    // The first topic, or "" when there is none.
    const std::string& topic() const;
};

// A row left out under BadRowPolicy::skip, and why.
struct SkippedRow {
    std::string path;
    std::int64_t line = 0;
    std::string id;      // may be empty (that can be the reason)
    std::string reason;  // "empty dialogue", "duplicate id (first on line 12)", ...
};

enum class BadRowPolicy {
    fail,  // DataError{path, line} on the first unusable row (the default)
    skip,  // leave the row out and record it in DialogSumSplit::skipped
};

struct LoadOptions {
    // Load only this split. A single file's split is this one, else the one its name names.
    std::optional<Split> split;
    // What to do with a row whose content is unusable: an empty id, an empty (all-whitespace) dialogue, an empty
    // reference summary, or an id seen earlier in the file (the first one is kept). Structural problems -- a
    // missing column, broken quoting, a wrong field count, invalid UTF-8, invalid JSON or Python syntax -- are
    // always a DataError.
    BadRowPolicy on_bad_row = BadRowPolicy::fail;
    // A single file whose name names no split is this split (as datasets.load_dataset("csv", data_files=...)
    // reads one file as train); DialogSumDataset::notes then says so. Unset: such a file is a DataError.
    std::optional<Split> lone_file_split;
};

struct DialogSumSplit {
    Split split = Split::train;
    std::string path;  // the file it was read from
    DataFormat format = DataFormat::csv;
    std::vector<DialogSumExample> examples;  // in file order
    std::vector<SkippedRow> skipped;         // in file order; empty under BadRowPolicy::fail

    // Total reference summaries over all examples.
    size_t reference_count() const;
};

struct DialogSumDataset {
    std::string path;                    // the folder or file that was loaded
    std::vector<DialogSumSplit> splits;  // those present, in the order train, validation, test
    std::vector<std::string> notes;      // one line each for the user: how a file's split was decided

    // The split, or nullptr when it was not loaded.
    const DialogSumSplit* find(Split split) const;
    // The split, or a DataError naming `path` and the splits that are present.
    const DialogSumSplit& at(Split split) const;
};

// Loads a folder or a single file. A folder's files are recognised by name (split_from_file_name) among those
// ending in .csv, .jsonl, .json or .txt; others are ignored, two files of one split are an error. Throws FileError
// when `path` does not exist or cannot be read, and DataError for bad content or when no split is found.
DialogSumDataset load_dialogsum(const std::string& path, const LoadOptions& options = {});

// Loads one file as `split`; the format comes from detect_format.
DialogSumSplit load_dialogsum_file(const std::string& path, Split split, const LoadOptions& options = {});

// Parses file contents; `path` names the source in errors and in the result.
DialogSumSplit parse_dialogsum(std::string_view text, DataFormat format, Split split, const std::string& path,
                               const LoadOptions& options = {});

// CSV for a .csv file; otherwise JSON Lines when the first non-blank line is a JSON value, else Python literals.
DataFormat detect_format(std::string_view path, std::string_view text);

// Which examples of a split to keep; the steps apply in the order of the fields.
struct Selection {
    // Keep examples whose 0-based index i has i % every_kth == 0 (Hugging Face's
    // filter(lambda e, i: i % k == 0, with_indices=True)). The lab's quick demo keeps every 100th training example.
    size_t every_kth = 1;
    // Then keep a random sample of this many (all when there are fewer), in file order; see subsample_indices.
    std::optional<size_t> sample_size;
    std::uint64_t seed = 42;
    // Then keep the first `limit`.
    std::optional<size_t> limit;
};

// `sample_size` distinct indices of [0, population), ascending: a partial Fisher-Yates shuffle driven by
// std::mt19937_64(seed), each swap partner drawn from the raw 64-bit output by rejection sampling (no
// std::uniform_int_distribution, whose output differs between standard libraries). The same arguments give the
// same indices on every platform. Returns every index when sample_size >= population.
std::vector<size_t> subsample_indices(size_t population, size_t sample_size, std::uint64_t seed);

// The split with only the selected examples (skipped rows are kept as they were). Throws ConfigError when
// every_kth is 0.
DialogSumSplit select_examples(const DialogSumSplit& split, const Selection& selection);
}  // namespace sumlab
