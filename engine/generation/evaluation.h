// Evaluation: one system's summaries of a DialogSum split written into the lab's results CSV -- the pipeline
// behind `sumlab-cli evaluate` and the workbench's Evaluate page.
//
//   load_evaluation_data (split -> selection -> distinct prompts) -> match the rows of an existing results CSV
//   -> resume from <output>.partial.jsonl -> batched generation (callbacks: progress, pause, cancel) -> the
//   results CSV written atomically -> <output>.provenance.json -> the partial file removed.
//
// Files beside the output:
//   <output>.partial.jsonl     while running: a header line with the settings, then one flushed line per finished
//                              example {"id", "source_fnv1a", "summary", "new_tokens", "hit_max_new_tokens"}.
//                              A rerun with the same settings skips those ids; it is deleted once the CSV is written.
//                              It is locked (flock) while a run writes it, so two runs cannot interleave.
//   <output>.provenance.json   per column: model, adapter, generation settings, prompt, data, split, selection,
//                              max_source_length, SumLab version and date.
// A new results CSV keeps every reference of a multi-reference split (the JSON Lines test split's summary1..3)
// as human_baseline_summaries, human_baseline_summaries_2, _3.
#pragma once

#include "engine/data/dialogsum.h"
#include "engine/data/prompt.h"
#include "engine/metrics/results_csv.h"
#include "models/t5/t5_config.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sumlab {

struct EvaluationExample {
    std::string id;
    std::string dialogue;
    std::vector<std::string> references;  // "summary", or "summary1".."summaryN"; never empty
    size_t source = 0;  // index into the distinct prompts (the CSV test split repeats each dialogue per reference)
};

struct EvaluationData {
    DialogSumSplit split;
    std::vector<EvaluationExample> examples;
    std::vector<std::string> sources;  // distinct rendered prompts, in order of first use
    std::vector<std::vector<size_t>> examples_of_source;
    size_t max_references = 0;
};

// Loads `split` of the DialogSum folder or file, applies `selection` and renders the prompts. Throws
// FileError/DataError from the loader, ConfigError when nothing is selected.
EvaluationData load_evaluation_data(const std::string& data_path, Split split, const Selection& selection,
                                    const PromptTemplate& prompt);

// ---- An existing results CSV ----

enum class MatchKey { id, dialogue_and_reference, reference };
std::string_view match_key_name(MatchKey key);

// row_example[r]: the example of table row r. Every row and every example is used exactly once.
struct RowMatch {
    std::vector<size_t> row_example;
    MatchKey key = MatchKey::id;
};

// Pairs the rows of an existing results CSV with the selected examples: by id when the file has ids, else by
// dialogue (with the first reference to tell the CSV test split's repeated dialogues apart), else by the
// reference alone (the lab's own files carry neither id nor dialogue). Throws DataError when they differ.
RowMatch match_rows(const ResultsTable& table, const EvaluationData& data, const std::string& path);

// ---- One column ----

// Throws ConfigError unless `column` is a <system>_summaries column name that a CSV can hold.
void check_column_name(const std::string& column);

struct EvaluationSpec {
    std::string model_dir;
    std::string adapter_dir;  // a PEFT LoRA adapter applied on top; empty for none
    std::string device = "cpu";
    std::string dtype = "float32";    // or "bfloat16" (engine/generation/system.h)
    std::string quantize = "none";    // or "int8" (engine/generation/system.h)
    int64_t max_source_length = 512;  // prompts are truncated to this many tokens, </s> kept
    int64_t batch_size = 8;
    GenerationConfig generation;      // resolved: system_generation_config() (system.h) with the user's changes
    PromptTemplate prompt;            // default: the lab's prompt
    std::string data_path;
    Split split = Split::test;
    Selection selection;
    std::string output;               // the results CSV; when it exists, `column` is added or replaced
    std::string column = "original_model_summaries";
};

// What is about to be generated (after the partial file was read).
struct EvaluationPlan {
    size_t examples = 0;
    size_t distinct_sources = 0;
    size_t resumed_examples = 0;  // finished by an earlier, interrupted run
    std::string data_path;        // the split's file
    std::string partial_path;
};

// Called on the evaluating thread.
struct EvaluationCallbacks {
    std::function<void(const EvaluationPlan&)> on_plan;
    std::function<void(int64_t step, int64_t max_steps)> on_step;  // decoding steps of the batch in progress
    std::function<void(size_t done, size_t total)> on_progress;    // examples finished (resumed ones included)
    const std::atomic<bool>* cancel = nullptr;  // checked between decoding steps: the run stops, the partial file stays
    const std::atomic<bool>* pause = nullptr;   // while set, the run waits between decoding steps
};

struct EvaluationOutcome {
    bool is_stopped = false;  // cancelled: nothing written but the partial file
    size_t examples = 0;
    size_t distinct_sources = 0;
    size_t generated = 0;  // distinct sources generated by this run
    size_t resumed_examples = 0;
    size_t finished_examples = 0;   // examples with a summary (in the partial file when stopped)
    size_t hit_max_new_tokens = 0;  // summaries that stopped at max_new_tokens before </s>
    size_t sources_truncated = 0;   // prompts longer than max_source_length
    int64_t max_new_tokens = 0;
    double elapsed_s = 0;
    bool extended_existing = false;  // the output existed and got the column
    bool replaced_column = false;    // ... which it already had
    std::optional<MatchKey> matched_by;
    std::string partial_path;
    std::string provenance_path;
};

// Runs the whole pipeline for one column. Throws FileError, DataError, ConfigError (nothing is generated when
// the data, the existing output or the settings are wrong); a cancel returns is_stopped.
EvaluationOutcome evaluate_column(const EvaluationSpec& spec, const EvaluationCallbacks& callbacks = {});

}  // namespace sumlab
