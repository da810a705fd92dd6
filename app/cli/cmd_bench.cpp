// `sumlab-cli bench`: the measurements of engine/bench/bench.h on a model folder or on random weights of a published
// FLAN-T5 configuration, as a table or (--json) one JSON object whose keys are the measured values
// (matmul_gflops, greedy_b8_s, beam4_b1_s, rouge_s, train_full_s, ...; null when not measured) plus the
// machine, threads, BLAS and per-measurement details.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "engine/bench/bench.h"
#include "engine/bench/bench_train.h"
#include "engine/runtime/system_info.h"
#include "models/checkpoint.h"
#include "base/errors.h"
#include "models/t5/t5_model.h"

#include <torch/version.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace sumlab::cli {
namespace {

struct BenchCommandOptions {
    std::string model_dir;
    std::string config_name = "flan-t5-small";
    std::string only;
    int repeats = 3;
    int warmups = 1;
    int threads = 0;  // 0: leave LibTorch's and OpenBLAS's defaults
    std::uint64_t seed = 0;
    bool json = false;
    std::string profile;
};

std::vector<std::string> split_names(const std::string& text) {
    std::vector<std::string> names;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        const size_t begin = item.find_first_not_of(" \t");
        const size_t end = item.find_last_not_of(" \t");
        if (begin != std::string::npos) names.push_back(item.substr(begin, end - begin + 1));
    }
    return names;
}

std::string number(double x) {
    char buf[32];
    if (x >= 100) {
        std::snprintf(buf, sizeof buf, "%.1f", x);
    } else if (x >= 1) {
        std::snprintf(buf, sizeof buf, "%.2f", x);
    } else {
        std::snprintf(buf, sizeof buf, "%.3f", x);
    }
    return buf;
}

std::string with_thousands(int64_t n) {
    std::string digits = std::to_string(n);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
    return digits;
}

nlohmann::ordered_json threads_json(const ThreadInfo& t) {
    return {{"torch_threads", t.torch_threads},
            {"torch_interop_threads", t.torch_interop_threads},
            {"blas_threads", t.blas_threads ? nlohmann::json(*t.blas_threads) : nlohmann::json(nullptr)},
            {"blas_path", t.blas_path},
            {"blas_config", t.blas_config},
            {"blas_core", t.blas_core}};
}

std::string blas_text(const ThreadInfo& t) {
    std::string text = !t.blas_config.empty() ? t.blas_config : (t.blas_path.empty() ? "unknown" : t.blas_path);
    if (!t.blas_core.empty()) text += " (core " + t.blas_core + ")";
    return text;
}

void print_table(const BenchReport& report, const MachineInfo& machine, const BenchCommandOptions& options, int64_t parameters) {
    char memory[32];
    std::snprintf(memory, sizeof memory, "%.1f GiB", machine.memory_gib);
    std::cout << "Machine: " << (machine.cpu_model.empty() ? "unknown CPU" : machine.cpu_model) << ", " << machine.logical_cpus
              << " logical CPUs, " << memory;
    if (machine.load_average_1m >= 0) std::cout << ", load average " << number(machine.load_average_1m);
    std::cout << "\nLibTorch " << TORCH_VERSION << "; BLAS " << blas_text(report.threads) << "\nThreads: LibTorch "
              << report.threads.torch_threads << " intra-op, " << report.threads.torch_interop_threads << " inter-op; BLAS "
              << (report.threads.blas_threads ? std::to_string(*report.threads.blas_threads) : std::string("unknown")) << "\n";
    if (!report.model.empty()) {
        std::cout << "Model: " << report.model;
        if (parameters > 0) std::cout << ", " << with_thousands(parameters) << " parameters";
        std::cout << "\n";
    }
    std::cout << "Median of " << options.repeats << " timed run" << (options.repeats == 1 ? "" : "s") << " after "
              << options.warmups << " warm-up" << (options.warmups == 1 ? "" : "s") << "\n\n";

    size_t label_width = 16;
    for (const BenchOutcome& outcome : report.outcomes) {
        label_width = std::max(label_width, outcome.name.size() + 2);
        for (const BenchValue& v : outcome.result.values) label_width = std::max(label_width, v.label.size() + 2);
    }
    std::cout << pad_right("measurement", label_width) << pad_right("median", 12) << pad_right("unit", 10) << "min .. max\n";
    for (const BenchOutcome& outcome : report.outcomes) {
        if (!outcome.ran) {
            if (outcome.note != "not selected") std::cout << pad_right(outcome.name, label_width) << outcome.note << "\n";
            continue;
        }
        for (const BenchValue& v : outcome.result.values) {
            std::string line = pad_right(v.label, label_width) + pad_right(number(v.value), 12) + pad_right(v.unit, 10);
            if (v.min && v.max) line += number(*v.min) + " .. " + number(*v.max);
            line.erase(line.find_last_not_of(' ') + 1);
            std::cout << line << "\n";
        }
    }
}

void run_bench(const BenchCommandOptions& options, const CLI::App& cmd) {
    if (options.threads > 0) set_compute_threads(options.threads);
    BenchModelSource source;
    source.seed = options.seed;
    if (cmd.count("--model") > 0) {
        source.model_dir = options.model_dir;
    } else {
        published_t5_config(options.config_name);  // an unknown name fails before anything runs
        source.config_name = options.config_name;
    }
    BenchSettings settings;
    settings.repeats = options.repeats;
    settings.warmups = options.warmups;
    settings.profile_path = options.profile;
    BenchContext context(source, settings);
    BenchRegistry registry = standard_bench_registry();
    provide_training_benchmarks(registry);
    const MachineInfo machine = machine_info();

    const BenchReport report = run_benchmarks(registry, context, split_names(options.only), [&](const BenchMeasurement& m) {
        std::cerr << "bench: " << m.name << ": " << m.description << "\n" << std::flush;
    });
    const int64_t parameters = report.model.empty() ? 0 : count_parameters(context.model());

    if (!options.json) {
        print_table(report, machine, options, parameters);
        return;
    }
    nlohmann::ordered_json out = report.values;
    out["model"] = report.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(report.model);
    out["parameters"] = parameters > 0 ? nlohmann::json(parameters) : nlohmann::json(nullptr);
    out["repeats"] = options.repeats;
    out["warmups"] = options.warmups;
    out["machine"] = {{"cpu_model", machine.cpu_model},
                      {"logical_cpus", machine.logical_cpus},
                      {"memory_gib", machine.memory_gib},
                      {"load_average_1m", machine.load_average_1m >= 0 ? nlohmann::json(machine.load_average_1m) : nlohmann::json(nullptr)}};
    out["threads"] = threads_json(report.threads);
    out["runtime"] = runtime_versions();
    out["sumlab_version"] = SUMLAB_VERSION;
    nlohmann::ordered_json& measurements = out["measurements"] = nlohmann::ordered_json::object();
    for (const BenchOutcome& outcome : report.outcomes) {
        nlohmann::ordered_json entry = {{"ran", outcome.ran}};
        if (!outcome.note.empty()) entry["note"] = outcome.note;
        if (outcome.ran) {
            entry["wall_s"] = outcome.wall_s;
            entry["details"] = outcome.result.details;
        }
        measurements[outcome.name] = entry;
    }
    // Keys in registry order (write_json_line would sort them).
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace

void add_bench_command(CLI::App& app) {
    auto options = std::make_shared<BenchCommandOptions>();
    CLI::App* cmd = app.add_subcommand(
        "bench",
        "Measure the machine's fp32 matmul peak, greedy (batch 8) and beam-4 (batch 1) generation of exactly 64 new "
        "tokens, and ROUGE with bootstrap intervals; the median of --repeats runs after a warm-up.");
    CLI::Option* model = cmd->add_option("--model", options->model_dir, "A model folder to measure, or a Hub id")
                              ->transform(hub_folder(hub::RepoType::Model));
    CLI::Option* config = cmd->add_option("--config", options->config_name,
                                          "Random weights of a published configuration: flan-t5-small (default) or flan-t5-base");
    model->excludes(config);
    std::string names;  // from the registry, so the help never misses a measurement
    const BenchRegistry known = standard_bench_registry();
    for (const BenchMeasurement& m : known.measurements()) names += (names.empty() ? "" : ", ") + m.name;
    cmd->add_option("--only", options->only, "Comma-separated measurements: " + names + " (default: all available)");
    cmd->add_option("--repeats", options->repeats, "Timed repetitions; the median is reported (default 3)")
        ->check(CLI::Range(1, 1000));
    cmd->add_option("--warmups", options->warmups, "Untimed repetitions before them (default 1)")->check(CLI::Range(0, 100));
    cmd->add_option("--threads", options->threads,
                    "Set LibTorch's intra-op threads and OpenBLAS's threads to N (default: leave both as they are)")
        ->check(CLI::Range(1, 4096));
    cmd->add_option("--seed", options->seed, "Seed of the random weights and inputs (default 0)");
    cmd->add_option("--profile", options->profile,
                    "Run each generation and training measurement once more under LibTorch's profiler and write its "
                    "time per operator (self and total) to FILE; the reported timings do not include these runs");
    cmd->add_flag("--json", options->json, "Print one JSON object; values not measured are null");
    cmd->callback([options, cmd] { run_bench(*options, *cmd); });
}

}  // namespace sumlab::cli
