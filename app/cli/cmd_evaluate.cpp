// `sumlab-cli evaluate`: summaries of a DialogSum split written into the lab's results CSV.
//
// The pipeline is engine/generation/evaluation.cpp (evaluate_column), shared with the workbench's Evaluate page; this file
// maps the flags onto an EvaluationSpec, draws the progress bar and turns Ctrl-C into the engine's cancel flag.
//
// Files beside --output (see engine/generation/evaluation.h):
//   <output>.partial.jsonl     the finished examples of an interrupted run; a rerun with the same settings
//                              continues from there; deleted once the CSV is written.
//   <output>.provenance.json   per column: model, adapter, generation settings, prompt, data, split, selection,
//                              max_source_length, SumLab version and date.
// SIGINT and SIGTERM set the generation's cancel flag; the command then exits with 128 + the signal number,
// keeping the partial file. A second signal ends the process at once (the partial file stays consistent). The
// partial file is locked (flock) while a run writes it, so two runs cannot interleave into one output.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "engine/data/dialogsum.h"
#include "engine/generation/evaluation.h"
#include "engine/data/prompt.h"
#include "engine/metrics/results_csv.h"
#include "base/errors.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <unistd.h>

namespace sumlab::cli {
namespace {

constexpr std::string_view default_column = "original_model_summaries";

struct EvaluateOptions {
    ModelOptions model;
    GenerationOptions generation;
    std::string data_path;
    std::string split = "test";
    std::string prompt = "dialogsum";
    std::string output;
    std::string column = std::string(default_column);
    size_t limit = 0;
    size_t every = 1;
    size_t sample = 0;
    std::uint64_t seed = 42;
    bool quiet = false;
};

// ---- Progress on stderr ----

// "evaluate: [#######.............]  120/500  3.52 ex/s  ETA 01:48", redrawn in place on a terminal (also during
// a batch, with its decoding step), one line per batch otherwise.
class ProgressBar {
public:
    ProgressBar(size_t total, size_t already_done, bool enabled)
        : total_(total), done_(already_done), start_done_(already_done), enabled_(enabled && total > 0),
          is_tty_(::isatty(STDERR_FILENO) == 1), start_(Clock::now()), last_draw_(start_) {}

    void step(int64_t step, int64_t max_steps) {
        if (!enabled_ || !is_tty_) return;
        const auto now = Clock::now();
        if (now - last_draw_ < std::chrono::milliseconds(100)) return;
        draw("  step " + std::to_string(step) + "/" + std::to_string(max_steps));
    }

    void set_done(size_t done) {
        if (done == done_) return;
        done_ = done;
        if (enabled_) draw("");
    }

    void finish() {
        if (enabled_ && is_tty_) std::cerr << "\n";
        enabled_ = false;
    }

    double elapsed_s() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

private:
    using Clock = std::chrono::steady_clock;

    void draw(const std::string& suffix) {
        last_draw_ = Clock::now();
        constexpr size_t width = 24;
        const size_t filled = total_ ? std::min(width, done_ * width / total_) : width;
        const double elapsed = elapsed_s();
        const double rate = elapsed > 0 ? static_cast<double>(done_ - start_done_) / elapsed : 0.0;
        char numbers[96];
        std::snprintf(numbers, sizeof numbers, "  %zu/%zu  %.2f ex/s  ETA %s", done_, total_, rate,
                      rate > 0 ? clock_text(static_cast<double>(total_ - done_) / rate).c_str() : "--:--");
        std::string line = "evaluate: [" + std::string(filled, '#') + std::string(width - filled, '.') + "]" + numbers + suffix;
        if (is_tty_) {
            std::cerr << "\r" << line << "\x1b[K" << std::flush;
        } else {
            std::cerr << line << "\n" << std::flush;
        }
    }

    size_t total_;
    size_t done_;
    size_t start_done_;
    bool enabled_;
    bool is_tty_;
    Clock::time_point start_;
    Clock::time_point last_draw_;
};

// ---- The command ----

void print_summary(const EvaluateOptions& options, const EvaluationOutcome& outcome) {
    if (!options.quiet) {
        std::cerr << "evaluate: " << (outcome.replaced_column ? "replaced " : outcome.extended_existing ? "added " : "wrote ") << options.column
                  << " (" << outcome.examples << " rows";
        if (outcome.matched_by) std::cerr << ", matched by " << match_key_name(*outcome.matched_by);
        std::cerr << ") in " << options.output << "; provenance in " << outcome.provenance_path << "\n";
        if (outcome.sources_truncated > 0) {
            std::cerr << "evaluate: note: " << outcome.sources_truncated << " prompts are longer than --max-source-length "
                      << options.model.max_source_length << " tokens and were truncated\n";
        }
    }
    if (outcome.hit_max_new_tokens * 2 > outcome.examples) {
        const int64_t limit = outcome.max_new_tokens;
        std::cerr << "evaluate: warning: " << outcome.hit_max_new_tokens << " of " << outcome.examples
                  << " summaries stopped at max_new_tokens (" << limit << ") before </s>, so they may be cut short"
                  << (limit < 200 ? "; the lab generates with --max-new-tokens 200" : "") << "\n";
    }
}

void run_evaluate(const EvaluateOptions& options, const CLI::App& cmd) {
    check_column_name(options.column);
    EvaluationSpec spec;
    spec.model_dir = options.model.model;
    spec.adapter_dir = options.model.adapter;
    spec.device = options.model.device;
    spec.dtype = options.model.dtype;
    spec.quantize = options.model.quantize;
    parse_device(spec.device, "--device");  // the flag's own error message, before anything is loaded
    check_quantize(spec.quantize, spec.device, spec.dtype, "--quantize");
    warn_if_slow(spec.dtype);
    spec.max_source_length = options.model.max_source_length;
    spec.batch_size = options.model.batch_size;
    spec.prompt = resolve_prompt(options.prompt);
    spec.data_path = options.data_path;
    spec.split = *parse_split(options.split);
    spec.selection.every_kth = options.every;
    if (cmd.count("--sample") > 0) spec.selection.sample_size = options.sample;
    spec.selection.seed = options.seed;
    if (cmd.count("--limit") > 0) spec.selection.limit = options.limit;
    spec.output = options.output;
    spec.column = options.column;
    spec.generation = system_generation_config(options.model.model);
    options.generation.apply(spec.generation);
    spec.generation.seed = static_cast<int64_t>(options.seed);
    spec.generation.validate("command line");

    // A second signal ends the process at once; the partial file stays consistent.
    std::atomic<bool> cancel{false};
    const StopOnSignals signals(cancel, StopOnSignals::SecondSignal::ends_process);
    std::unique_ptr<ProgressBar> progress;
    EvaluationCallbacks callbacks;
    callbacks.cancel = &cancel;
    callbacks.on_plan = [&](const EvaluationPlan& plan) {
        if (!options.quiet) {
            std::cerr << "evaluate: " << plan.examples << " " << split_name(spec.split) << " examples from " << plan.data_path;
            if (plan.distinct_sources != plan.examples) std::cerr << " (" << plan.distinct_sources << " distinct dialogues)";
            std::cerr << " -> " << options.column << " of " << options.output << "\n";
            if (plan.resumed_examples > 0) {
                std::cerr << "evaluate: resuming: " << plan.resumed_examples << " of " << plan.examples << " examples already done in "
                          << plan.partial_path << "\n";
            }
        }
        progress = std::make_unique<ProgressBar>(plan.examples, plan.resumed_examples, !options.quiet);
    };
    callbacks.on_step = [&](int64_t step, int64_t max_steps) {
        if (progress) progress->step(step, max_steps);
    };
    callbacks.on_progress = [&](size_t done, size_t) {
        if (progress) progress->set_done(done);
    };
    const EvaluationOutcome outcome = evaluate_column(spec, callbacks);
    if (progress) progress->finish();
    if (outcome.is_stopped) {
        std::cerr << "evaluate: stopped by " << signals.signal_name() << "; " << outcome.finished_examples
                  << " finished examples are kept in " << outcome.partial_path << "; run the same command again to continue\n";
        throw CLI::RuntimeError(128 + signals.signal_number());
    }
    print_summary(options, outcome);
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
    auto options = std::make_shared<EvaluateOptions>();
    CLI::App* cmd = app.add_subcommand(
        "evaluate",
        "Summarize a DialogSum split with a model and write (or extend) the lab's results CSV: id, dialogue, "
        "human_baseline_summaries and one <system>_summaries column per model. Resumable; Ctrl-C keeps the work done.");
    options->model.add_to(*cmd, false);
    options->generation.add_to(*cmd);
    cmd->add_option("--data", options->data_path,
                    "DialogSum folder or file (Hugging Face CSV, the JSON Lines release or Python-literal lines), or a "
                    "Hub dataset id (knkarthick/dialogsum).")
        ->required()
        ->transform(hub_folder(hub::RepoType::Dataset));
    cmd->add_option("--split", options->split, "train, validation (dev, val) or test (default test).")
        ->check([](const std::string& value) -> std::string {
            return parse_split(value) ? std::string() : "unknown split \"" + value + "\" (train, validation, test)";
        });
    cmd->add_option("--every", options->every, "Keep every K-th example, starting with the first.")->check(CLI::PositiveNumber);
    cmd->add_option("--sample", options->sample, "Then a random sample of N examples, kept in file order.");
    cmd->add_option("--seed", options->seed, "Seed of --sample and, with --do-sample, of the draws (default 42), as HF's one seed.");
    cmd->add_option("--limit", options->limit, "Then only the first N examples.");
    cmd->add_option("--prompt", options->prompt,
                    "Prompt preset (dialogsum, plain) or a template with {dialogue} (default dialogsum, the lab's prompt).");
    cmd->add_option("--output", options->output,
                    "Results CSV to write; when it exists, --column is added to it (or replaced) for the same examples.")
        ->required();
    cmd->add_option("--column", options->column,
                    "Column for the summaries: original_model_summaries (default), instruct_model_summaries, "
                    "peft_model_summaries or any <system>_summaries.");
    cmd->add_flag("--quiet", options->quiet, "No progress on standard error (warnings are still printed).");
    cmd->footer(
        "Generation settings default to the model's generation_config.json (Hugging Face: at most 19 new tokens); the "
        "lab generates with --max-new-tokens 200. While running, finished summaries go to <output>.partial.jsonl; "
        "rerunning the same command continues from there. <output>.provenance.json records, per column, how it was made.");
    cmd->callback([options, cmd] { run_evaluate(*options, *cmd); });
}

}  // namespace sumlab::cli
