// Benchmarks of what SumLab spends its time on, comparable with the Python reference (transformers 4.28 + PEFT
// on the same LibTorch): the machine's fp32 matmul peak, batched greedy and beam generation of exactly 64 new
// tokens, ROUGE with bootstrap intervals, and (registered by the trainer) training steps.
//
// Intended use:
//     BenchRegistry registry = standard_bench_registry();           // matmul, greedy, beam, rouge; train_* declared
//     registry.provide("train_full", my_training_step_measurement); // plug in a measurement for a declared name
//     BenchModelSource source{.config_name = "flan-t5-small"};
//     BenchContext context(source, BenchSettings{.repeats = 3});
//     BenchReport report = run_benchmarks(registry, context, {"matmul", "greedy"}, on_progress);
//
// Every measurement runs warm-up repetitions first (excluded) and reports the median of `repeats` timed ones.
// A measurement fills named values ("greedy_b8_s"); a value stays null when its measurement was not selected,
// is declared but not provided by this build, or failed (the reason is kept in BenchOutcome::note).
#pragma once

#include "models/t5/t5_config.h"

#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sumlab {

class T5ForConditionalGenerationImpl;

// ---- Timing helpers ----

// Wall-clock statistics of repeated runs, in seconds.
struct TimingStats {
    std::vector<double> runs_s;  // the timed repetitions, in order (warm-ups excluded)
    double median_s = 0;         // middle value; the mean of the two middle ones for an even count
    double min_s = 0;
    double max_s = 0;
};

// Median, min and max of `runs_s` (non-empty).
TimingStats timing_stats(std::vector<double> runs_s);

// Runs `body` `warmups` times untimed, then `repeats` times timed (repeats >= 1).
TimingStats time_repeated(const std::function<void()>& body, int repeats, int warmups = 1);

// Peak resident set size of this process in MiB (VmHWM of /proc/self/status; 0 when unavailable).
double peak_rss_mb();
// Resets the peak to the current resident size (writes "5" to /proc/self/clear_refs, Linux >= 4.0), so
// peak_rss_mb() afterwards measures one phase. Returns false when the kernel does not allow it.
bool reset_peak_rss();

// ---- The machine, threads and BLAS ----

struct MachineInfo {
    std::string cpu_model;   // "model name" of /proc/cpuinfo (lscpu's Model name)
    int logical_cpus = 0;    // std::thread::hardware_concurrency()
    double memory_gib = 0;   // MemTotal of /proc/meminfo
    double load_average_1m = -1;  // getloadavg(), -1 when unavailable: benchmarks on a busy machine are noisy
};
MachineInfo machine_info();

struct ThreadInfo {
    int torch_threads = 0;             // at::get_num_threads()
    int torch_interop_threads = 0;     // at::get_num_interop_threads()
    std::optional<int> blas_threads;   // openblas_get_num_threads(), when the loaded BLAS is OpenBLAS
    std::string blas_path;             // loaded_blas_path()
    std::string blas_config;           // openblas_get_config() ("OpenBLAS 0.3.21 DYNAMIC_ARCH ..."), or ""
    std::string blas_core;             // openblas_get_corename() ("Zen", "Haswell"), or ""
};

// What the process uses now.
ThreadInfo current_threads();

// Sets LibTorch's intra-op threads (at::set_num_threads) and OpenBLAS's (openblas_set_num_threads, looked up
// with dlsym when that library is loaded) to `threads`, so both agree. Throws ConfigError when threads < 1.
ThreadInfo set_compute_threads(int threads);

// ---- Models ----

// Published shapes of google/flan-t5-small and google/flan-t5-base (config.json on the Hugging Face hub):
// gated-gelu, vocab 32128, untied embeddings. Throws ConfigError for any other name.
T5Config published_t5_config(const std::string& name);
// "flan-t5-small", "flan-t5-base".
const std::vector<std::string>& published_t5_config_names();

// Where the benchmark model comes from: a model folder, or random weights of a published configuration.
struct BenchModelSource {
    std::string model_dir;    // a Hugging Face model folder; wins when set
    std::string config_name;  // else one of published_t5_config_names()
    uint64_t seed = 0;        // random weights and synthetic inputs
};

struct BenchSettings {
    int repeats = 3;  // timed repetitions; the median is reported
    int warmups = 1;  // untimed repetitions before them
    std::string profile_path;  // when set, one more run of each model measurement is profiled by op into this file
};

// What measurements share: settings and the model, loaded on first use and kept.
class BenchContext {
public:
    BenchContext(BenchModelSource source, BenchSettings settings);
    ~BenchContext();
    BenchContext(const BenchContext&) = delete;
    BenchContext& operator=(const BenchContext&) = delete;

    const BenchSettings& settings() const { return settings_; }
    const BenchModelSource& source() const { return source_; }
    // The model in eval mode (loaded or randomly initialised on first call); another dtype is a second copy with
    // the same weights cast, as model.to(dtype); kQInt8 is a copy with its linears quantized (quantize_int8).
    T5ForConditionalGenerationImpl& model(torch::ScalarType dtype = torch::kFloat32);
    const T5Config& model_config();
    // "flan-t5-small (random weights, seed 0)" or the folder; valid once model() was called.
    const std::string& model_description() const { return model_description_; }
    // With settings().profile_path set: runs `body` once more under LibTorch's profiler and appends its
    // op table to that file (engine/bench/op_profile.h). Otherwise does nothing.
    void profile(const std::string& title, const std::function<void()>& body);

private:
    void ensure_model();
    std::shared_ptr<T5ForConditionalGenerationImpl> make_model();

    BenchModelSource source_;
    BenchSettings settings_;
    std::shared_ptr<T5ForConditionalGenerationImpl> model_;
    std::map<torch::ScalarType, std::shared_ptr<T5ForConditionalGenerationImpl>> cast_models_;
    T5Config config_;
    std::string model_description_;
    std::unique_ptr<std::ofstream> profile_out_;
};

// ---- Measurements and their registry ----

// One reported number.
struct BenchValue {
    std::string key;    // JSON key, units in the name: "greedy_b8_s", "matmul_gflops"
    double value = 0;
    std::string label;  // for the table: "greedy, batch 8 x 64 new tokens"
    std::string unit;   // for the table: "s", "GFLOP/s", "tokens/s", "MiB"
    std::optional<double> min, max;  // spread over the repetitions, when `value` is a median
};

struct BenchResult {
    std::vector<BenchValue> values;
    nlohmann::ordered_json details;  // anything else worth keeping (per-run times, sizes); may be null
};

using BenchFunction = std::function<BenchResult(BenchContext&)>;

struct BenchMeasurement {
    std::string name;                // what --only picks: "matmul", "greedy", "train_full"
    std::string description;
    std::vector<std::string> keys;   // the values it reports, null until it ran
    BenchFunction run;               // empty: declared, but not provided by this build
};

class BenchRegistry {
public:
    // Registers a measurement; throws ConfigError when the name is taken.
    void add(BenchMeasurement measurement);
    // Supplies (or replaces) the function of a registered measurement; throws ConfigError for an unknown name.
    void provide(const std::string& name, BenchFunction run);
    const std::vector<BenchMeasurement>& measurements() const { return measurements_; }
    const BenchMeasurement* find(const std::string& name) const;
    // Every key of every measurement, in registration order.
    std::vector<std::string> keys() const;

private:
    std::vector<BenchMeasurement> measurements_;
};

// The built-in measurements, in this order:
//   matmul      torch::mm of square fp32 matrices 1024, 1536, 2048: matmul_gflops (the best size's median)
//   greedy      greedy search, batch 8, exactly 64 new tokens: greedy_b8_s, greedy_b8_tokens_per_s
//   beam        beam search (4 beams), batch 1, exactly 64 new tokens: beam4_b1_s, beam4_b1_tokens_per_s
//   matmul_int8 n x n fp32 activations through a per-channel int8 linear (quantized::linear_dynamic): matmul_int8_gops
//   greedy_int8, beam_int8  greedy / beam with --quantize int8: greedy_b8_int8_s, beam4_b1_int8_s (+ _tokens_per_s)
//   rouge       ROUGE of 1,500 predictions x 3 references (Porter stemmer) for two systems, bootstrap and paired
//               bootstrap of 1,000 resamples (bench_rouge_bootstrap): rouge_s and its parts
//   train_full  declared: train_full_s, train_full_model_gflops, train_full_peak_rss_mb
//   train_lora  declared: train_lora_s, train_lora_peak_rss_mb
// Generation sources are 8 rows padded to 256 tokens with valid lengths 256, 240, ..., 144 (the attention mask
// hides the rest), of seeded random ids; min_new_tokens = max_new_tokens = 64 so every run decodes 64 steps.
BenchRegistry standard_bench_registry();

struct BenchOutcome {
    std::string name;
    bool ran = false;
    std::string note;  // why it did not run ("not selected", "not available in this build", the error)
    BenchResult result;
    double wall_s = 0;  // the measurement's whole time, warm-ups and setup included
};

struct BenchReport {
    std::vector<BenchOutcome> outcomes;           // one per measurement of the registry, in its order
    nlohmann::ordered_json values;                // every key of the registry: its value, or null
    ThreadInfo threads;
    std::string model;                            // model_description(), "" when no measurement needed it
};

// Runs the measurements named in `only` (all runnable ones when empty). An unknown name is a ConfigError; a
// selected measurement that is not provided is reported as such. `on_start` is called before each one.
BenchReport run_benchmarks(const BenchRegistry& registry, BenchContext& context, const std::vector<std::string>& only = {},
                           const std::function<void(const BenchMeasurement&)>& on_start = {});

}  // namespace sumlab
