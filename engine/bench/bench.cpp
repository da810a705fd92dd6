// Benchmarks (see bench.h): timing helpers, thread and BLAS control, the benchmark model, and the built-in
// measurements.
#include "engine/bench/bench.h"

#include "engine/text/batcher.h"
#include "engine/metrics/bootstrap.h"
#include "engine/generation/generation.h"
#include "engine/bench/op_profile.h"
#include "engine/runtime/system_info.h"
#include "models/checkpoint.h"
#include "base/errors.h"
#include "models/t5/t5_init.h"
#include "models/t5/t5_model.h"
#include "models/t5/quantized_linear.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sumlab {

namespace {

constexpr int64_t bench_source_length = 256;    // sources padded to this length
constexpr int64_t bench_length_step = 16;       // valid lengths 256, 240, ..., 144 for 8 rows
constexpr int64_t bench_new_tokens = 64;        // min_new_tokens = max_new_tokens
constexpr int bench_rouge_examples = 1500;
constexpr int bench_rouge_references = 3;
constexpr int bench_rouge_resamples = 1000;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The first line of a /proc file whose key is `key`, after the colon, trimmed ("" when absent).
std::string proc_field(const std::string& path, const std::string& key) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, key.size(), key) != 0) continue;
        const size_t colon = line.find(':');
        if (colon == std::string::npos || line.find_first_not_of(" \t", key.size()) != colon) continue;
        const size_t begin = line.find_first_not_of(" \t", colon + 1);
        return begin == std::string::npos ? std::string() : line.substr(begin);
    }
    return {};
}

// OpenBLAS entry points, present when the loaded BLAS is OpenBLAS (Debian's libblas.so.3 alternative included).
template <typename Fn>
Fn openblas_symbol(const char* name) {
    return reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, name));
}

// ---- Generation input ----

// `rows` sources padded to 256 tokens with valid lengths 256, 240, ...: seeded random ids of ordinary pieces,
// </s> at the end of each valid part, pad after it.
Seq2SeqBatch bench_batch(int64_t rows, const T5Config& config, uint64_t seed) {
    if (rows * bench_length_step >= bench_source_length) throw std::invalid_argument("bench_batch: too many rows");
    auto generator = at::detail::createCPUGenerator(seed);
    // Ordinary pieces: above the specials (pad 0, eos 1, unk 2), below <extra_id_*> of the usual 100 sentinels.
    const int64_t high = config.vocab_size > 200 ? config.vocab_size - 100 : config.vocab_size;
    auto ids = torch::randint(3, high, {rows, bench_source_length}, generator, torch::TensorOptions().dtype(torch::kLong));
    auto mask = torch::zeros({rows, bench_source_length}, torch::TensorOptions().dtype(torch::kLong));
    int64_t valid_total = 0;
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t valid = bench_source_length - bench_length_step * r;
        ids[r][valid - 1] = config.eos_token_id;
        if (valid < bench_source_length) ids[r].slice(0, valid).fill_(config.pad_token_id);
        mask[r].slice(0, 0, valid).fill_(1);
        valid_total += valid;
    }
    Seq2SeqBatch batch;
    batch.input_ids = ids;
    batch.attention_mask = mask;
    batch.source_tokens = valid_total;
    return batch;
}

GenerationConfig bench_generation_config(const T5Config& model, int64_t num_beams) {
    GenerationConfig g;
    g.max_new_tokens = bench_new_tokens;
    g.min_new_tokens = bench_new_tokens;
    g.num_beams = num_beams;
    g.decoder_start_token_id = model.decoder_start_token_id;
    g.eos_token_id = model.eos_token_id;
    g.pad_token_id = model.pad_token_id;
    g.validate("benchmark generation settings");
    return g;
}

BenchResult measure_generation(BenchContext& context, int64_t rows, int64_t num_beams, const std::string& prefix,
                               const std::string& label, torch::ScalarType dtype = torch::kFloat32) {
    T5ForConditionalGenerationImpl& model = context.model(dtype);
    const Seq2SeqBatch batch = bench_batch(rows, context.model_config(), context.source().seed + 1);
    const GenerationConfig config = bench_generation_config(context.model_config(), num_beams);
    const TimingStats t = time_repeated(
        [&] {
            const GenerationResult result = generate(model, batch, config);
            for (const TokenIds& sequence : result.sequences) {
                if (static_cast<int64_t>(sequence.size()) != bench_new_tokens) {
                    throw std::runtime_error("generated " + std::to_string(sequence.size()) + " tokens instead of " +
                                             std::to_string(bench_new_tokens));
                }
            }
        },
        context.settings().repeats, context.settings().warmups);
    context.profile(label, [&] { generate(model, batch, config); });
    const double tokens = static_cast<double>(rows * bench_new_tokens);
    BenchResult result;
    result.values.push_back({prefix + "_s", t.median_s, label, "s", t.min_s, t.max_s});
    result.values.push_back({prefix + "_tokens_per_s", tokens / t.median_s, label + ": new tokens per second", "tokens/s",
                             tokens / t.max_s, tokens / t.min_s});
    nlohmann::ordered_json lengths = nlohmann::ordered_json::array();
    for (int64_t r = 0; r < rows; ++r) lengths.push_back(bench_source_length - bench_length_step * r);
    result.details = {{"runs_s", t.runs_s},
                      {"rows", rows},
                      {"num_beams", num_beams},
                      {"dtype", dtype == torch::kBFloat16 ? "bfloat16" : "float32"},
                      {"quantize", dtype == torch::kQInt8 ? "int8" : "none"},
                      {"new_tokens", bench_new_tokens},
                      {"padded_source_length", bench_source_length},
                      {"valid_source_lengths", lengths}};
    return result;
}

// The large-GEMM peak in `dtype`: fp32 products go to OpenBLAS, bf16 ones to oneDNN (with the thread
// policy each gets in SumLab's own work, use_threads_for).
BenchResult measure_matmul(BenchContext& context, torch::ScalarType dtype) {
    use_threads_for(dtype);
    const bool bf16 = dtype == torch::kBFloat16;
    BenchResult result;
    nlohmann::ordered_json sizes = nlohmann::ordered_json::array();
    double best = 0;
    int64_t best_n = 0;
    TimingStats best_stats;
    auto generator = at::detail::createCPUGenerator(context.source().seed);
    for (int64_t n : {1024, 1536, 2048}) {
        const auto a = torch::randn({n, n}, generator, torch::TensorOptions().dtype(torch::kFloat32)).to(dtype);
        const auto b = torch::randn({n, n}, generator, torch::TensorOptions().dtype(torch::kFloat32)).to(dtype);
        auto c = torch::empty({n, n}, torch::TensorOptions().dtype(dtype));
        const TimingStats t = time_repeated([&] { torch::mm_out(c, a, b); }, context.settings().repeats, context.settings().warmups);
        const double flop = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
        const double gflops = flop / t.median_s / 1e9;
        sizes.push_back({{"n", n}, {"median_s", t.median_s}, {"gflops", gflops}, {"runs_s", t.runs_s}});
        if (gflops > best) {
            best = gflops;
            best_n = n;
            best_stats = t;
        }
    }
    const double flop = 2.0 * std::pow(static_cast<double>(best_n), 3);
    result.values.push_back({bf16 ? "matmul_bf16_gflops" : "matmul_gflops", best,
                             std::string(bf16 ? "bf16" : "fp32") + " matmul peak (torch::mm " + std::to_string(best_n) + "x" +
                                                        std::to_string(best_n) + ")",
                             "GFLOP/s", flop / best_stats.max_s / 1e9, flop / best_stats.min_s / 1e9});
    result.details = {{"sizes", sizes}};
    return result;
}

// The large-GEMM measurement through the int8 linear of --quantize int8 (models/t5/quantized_linear.h): an n x n
// fp32 activation times an n x n per-channel int8 weight, activation quantisation included, as a layer runs it.
BenchResult measure_matmul_int8(BenchContext& context) {
    use_threads_for(torch::kQInt8);
    BenchResult result;
    if (!int8_supported()) throw std::runtime_error("this LibTorch has no quantized engine for int8");
    nlohmann::ordered_json sizes = nlohmann::ordered_json::array();
    double best = 0;
    int64_t best_n = 0;
    TimingStats best_stats;
    auto generator = at::detail::createCPUGenerator(context.source().seed);
    torch::NoGradGuard no_grad;
    for (int64_t n : {1024, 1536, 2048}) {
        const auto x = torch::randn({n, n}, generator, torch::TensorOptions().dtype(torch::kFloat32));
        const QuantizedLinear linear(torch::randn({n, n}, generator, torch::TensorOptions().dtype(torch::kFloat32)));
        const TimingStats t = time_repeated([&] { linear.forward(x); }, context.settings().repeats, context.settings().warmups);
        const double gops = 2.0 * std::pow(static_cast<double>(n), 3) / t.median_s / 1e9;
        sizes.push_back({{"n", n}, {"median_s", t.median_s}, {"gops", gops}, {"runs_s", t.runs_s}});
        if (gops > best) {
            best = gops;
            best_n = n;
            best_stats = t;
        }
    }
    const double op = 2.0 * std::pow(static_cast<double>(best_n), 3);
    result.values.push_back({"matmul_int8_gops", best,
                             "int8 matmul peak (quantized::linear_dynamic " + std::to_string(best_n) + "x" + std::to_string(best_n) + ")",
                             "GOP/s", op / best_stats.max_s / 1e9, op / best_stats.min_s / 1e9});
    result.details = {{"sizes", sizes}, {"backend", "quantized::linear_dynamic (per-channel int8 weights, dynamic uint8 activations)"}};
    return result;
}

BenchResult measure_rouge(BenchContext& context) {
    std::vector<double> total, scoring, bootstrap, paired;
    auto run = [&](bool keep) {
        const RougeBenchTimings t = bench_rouge_bootstrap(bench_rouge_examples, bench_rouge_references, bench_rouge_resamples);
        if (!keep) return;
        scoring.push_back(t.scoring_ms / 1000);
        bootstrap.push_back(t.bootstrap_ms / 1000);
        paired.push_back(t.paired_ms / 1000);
        total.push_back((t.scoring_ms + t.bootstrap_ms + t.paired_ms) / 1000);
    };
    for (int i = 0; i < context.settings().warmups; ++i) run(false);
    for (int i = 0; i < std::max(1, context.settings().repeats); ++i) run(true);
    const TimingStats t = timing_stats(total);
    const std::string what = "1,500 x 3 references, 2 systems, 1,000 resamples";
    BenchResult result;
    result.values.push_back({"rouge_s", t.median_s, "ROUGE + bootstrap (" + what + ")", "s", t.min_s, t.max_s});
    result.values.push_back({"rouge_scoring_s", timing_stats(scoring).median_s, "  scoring (Porter stemmer)", "s", {}, {}});
    result.values.push_back({"rouge_bootstrap_s", timing_stats(bootstrap).median_s, "  bootstrap, one system", "s", {}, {}});
    result.values.push_back({"rouge_paired_s", timing_stats(paired).median_s, "  paired bootstrap, two systems", "s", {}, {}});
    result.details = {{"runs_s", t.runs_s},
                      {"examples", bench_rouge_examples},
                      {"references", bench_rouge_references},
                      {"resamples", bench_rouge_resamples},
                      {"text", "synthetic DialogSum-like summaries (bench_rouge_bootstrap)"}};
    return result;
}

}  // namespace

// ---- Timing helpers ----

TimingStats timing_stats(std::vector<double> runs_s) {
    if (runs_s.empty()) throw std::invalid_argument("timing_stats: no runs");
    TimingStats t;
    t.runs_s = runs_s;
    std::sort(runs_s.begin(), runs_s.end());
    const size_t n = runs_s.size();
    t.median_s = n % 2 == 1 ? runs_s[n / 2] : (runs_s[n / 2 - 1] + runs_s[n / 2]) / 2;
    t.min_s = runs_s.front();
    t.max_s = runs_s.back();
    return t;
}

TimingStats time_repeated(const std::function<void()>& body, int repeats, int warmups) {
    if (repeats < 1) throw ConfigError("benchmark settings", "repeats", "must be at least 1");
    for (int i = 0; i < warmups; ++i) body();
    std::vector<double> runs;
    for (int i = 0; i < repeats; ++i) {
        const auto start = std::chrono::steady_clock::now();
        body();
        runs.push_back(seconds_since(start));
    }
    return timing_stats(std::move(runs));
}

double peak_rss_mb() {
    const std::string value = proc_field("/proc/self/status", "VmHWM");  // "123456 kB"
    return value.empty() ? 0.0 : std::strtod(value.c_str(), nullptr) / 1024.0;
}

bool reset_peak_rss() {
    std::ofstream out("/proc/self/clear_refs");
    if (!out) return false;
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

// ---- The machine, threads and BLAS ----

MachineInfo machine_info() {
    MachineInfo m;
    m.cpu_model = proc_field("/proc/cpuinfo", "model name");
    m.logical_cpus = static_cast<int>(std::thread::hardware_concurrency());
    const std::string total = proc_field("/proc/meminfo", "MemTotal");  // "24567890 kB"
    if (!total.empty()) m.memory_gib = std::strtod(total.c_str(), nullptr) / (1024.0 * 1024.0);
    double load[1];
    if (::getloadavg(load, 1) == 1) m.load_average_1m = load[0];
    return m;
}

ThreadInfo current_threads() {
    ThreadInfo info;
    info.torch_threads = at::get_num_threads();
    info.torch_interop_threads = at::get_num_interop_threads();
    info.blas_path = loaded_blas_path();
    if (auto get = openblas_symbol<int (*)()>("openblas_get_num_threads")) info.blas_threads = get();
    if (auto config = openblas_symbol<char* (*)()>("openblas_get_config")) info.blas_config = config();
    if (auto core = openblas_symbol<char* (*)()>("openblas_get_corename")) info.blas_core = core();
    return info;
}

ThreadInfo set_compute_threads(int threads) {
    if (threads < 1) throw ConfigError("--threads", "", "must be at least 1");
    fix_threads(threads);
    return current_threads();
}

// ---- Models ----

const std::vector<std::string>& published_t5_config_names() {
    static const std::vector<std::string> names{"flan-t5-small", "flan-t5-base"};
    return names;
}

T5Config published_t5_config(const std::string& name) {
    // https://huggingface.co/google/flan-t5-small/blob/main/config.json and flan-t5-base's.
    nlohmann::json j = {{"model_type", "t5"},
                        {"vocab_size", 32128},
                        {"d_kv", 64},
                        {"relative_attention_num_buckets", 32},
                        {"relative_attention_max_distance", 128},
                        {"dropout_rate", 0.1},
                        {"layer_norm_epsilon", 1e-6},
                        {"feed_forward_proj", "gated-gelu"},
                        {"tie_word_embeddings", false},
                        {"pad_token_id", 0},
                        {"eos_token_id", 1},
                        {"decoder_start_token_id", 0}};
    if (name == "flan-t5-small") {
        j.update({{"d_model", 512}, {"num_heads", 6}, {"d_ff", 1024}, {"num_layers", 8}, {"num_decoder_layers", 8}});
    } else if (name == "flan-t5-base") {
        j.update({{"d_model", 768}, {"num_heads", 12}, {"d_ff", 2048}, {"num_layers", 12}, {"num_decoder_layers", 12}});
    } else {
        std::string known;
        for (const std::string& n : published_t5_config_names()) known += (known.empty() ? "" : ", ") + n;
        throw ConfigError("--config", "", "unknown configuration \"" + name + "\" (known: " + known + ")");
    }
    return T5Config::from_json(j, name + " (published config.json)");
}

BenchContext::BenchContext(BenchModelSource source, BenchSettings settings)
    : source_(std::move(source)), settings_(settings) {
    if (settings_.repeats < 1) throw ConfigError("benchmark settings", "repeats", "must be at least 1");
    if (settings_.warmups < 0) throw ConfigError("benchmark settings", "warmups", "must not be negative");
    if (!settings_.profile_path.empty()) {
        profile_out_ = std::make_unique<std::ofstream>(settings_.profile_path, std::ios::trunc);
        if (!*profile_out_) throw FileError(settings_.profile_path, "cannot be written: " + std::string(std::strerror(errno)));
    }
}

void BenchContext::profile(const std::string& title, const std::function<void()>& body) {
    if (!profile_out_) return;
    write_op_profile(*profile_out_, title, profile_ops(body));
    profile_out_->flush();
    if (!*profile_out_) throw FileError(settings_.profile_path, "writing the profile failed");
}

BenchContext::~BenchContext() = default;

std::shared_ptr<T5ForConditionalGenerationImpl> BenchContext::make_model() {
    std::shared_ptr<T5ForConditionalGenerationImpl> model;
    if (!source_.model_dir.empty()) {
        LoadedModel loaded = load_model(source_.model_dir);
        config_ = loaded.config;
        model = loaded.model.ptr();
        model_description_ = source_.model_dir;
    } else {
        const std::string name = source_.config_name.empty() ? "flan-t5-small" : source_.config_name;
        config_ = published_t5_config(name);
        model = std::make_shared<T5ForConditionalGenerationImpl>(config_);
        init_t5_weights(*model, source_.seed);
        model_description_ = name + " (random weights, seed " + std::to_string(source_.seed) + ")";
    }
    model->eval();
    return model;
}

void BenchContext::ensure_model() {
    if (!model_) model_ = make_model();
}

T5ForConditionalGenerationImpl& BenchContext::model(torch::ScalarType dtype) {
    ensure_model();
    if (dtype == torch::kFloat32) return *model_;
    std::shared_ptr<T5ForConditionalGenerationImpl>& cast = cast_models_[dtype];
    if (!cast) {
        cast = make_model();  // the same weights: the same folder, or the same seed
        if (dtype == torch::kQInt8) {
            quantize_int8(*cast);  // --quantize int8: the fp32 model with its linears packed
        } else {
            cast->to(dtype);
        }
    }
    return *cast;
}

const T5Config& BenchContext::model_config() {
    ensure_model();
    return config_;
}

// ---- The registry ----

void BenchRegistry::add(BenchMeasurement measurement) {
    if (find(measurement.name)) throw ConfigError("benchmarks", measurement.name, "is registered twice");
    measurements_.push_back(std::move(measurement));
}

void BenchRegistry::provide(const std::string& name, BenchFunction run) {
    for (BenchMeasurement& m : measurements_) {
        if (m.name == name) {
            m.run = std::move(run);
            return;
        }
    }
    throw ConfigError("benchmarks", name, "is not a registered measurement");
}

const BenchMeasurement* BenchRegistry::find(const std::string& name) const {
    for (const BenchMeasurement& m : measurements_) {
        if (m.name == name) return &m;
    }
    return nullptr;
}

std::vector<std::string> BenchRegistry::keys() const {
    std::vector<std::string> out;
    for (const BenchMeasurement& m : measurements_) out.insert(out.end(), m.keys.begin(), m.keys.end());
    return out;
}

BenchRegistry standard_bench_registry() {
    BenchRegistry r;
    r.add({"matmul", "fp32 torch::mm of 1024^2, 1536^2 and 2048^2 matrices; the best size's GFLOP/s", {"matmul_gflops"},
           [](BenchContext& c) { return measure_matmul(c, torch::kFloat32); }});
    r.add({"matmul_bf16", "the matmul measurement in bfloat16 (oneDNN's products)", {"matmul_bf16_gflops"},
           [](BenchContext& c) { return measure_matmul(c, torch::kBFloat16); }});
    r.add({"greedy", "greedy search, batch 8 (sources 256..144 of 256 tokens), exactly 64 new tokens",
           {"greedy_b8_s", "greedy_b8_tokens_per_s"},
           [](BenchContext& c) { return measure_generation(c, 8, 1, "greedy_b8", "greedy, batch 8 x 64 new tokens"); }});
    r.add({"beam", "beam search with 4 beams, batch 1 (a 256-token source), exactly 64 new tokens",
           {"beam4_b1_s", "beam4_b1_tokens_per_s"},
           [](BenchContext& c) { return measure_generation(c, 1, 4, "beam4_b1", "beam 4, batch 1 x 64 new tokens"); }});
    r.add({"greedy_bf16", "the greedy measurement with the model cast to bfloat16 (--dtype bfloat16)",
           {"greedy_b8_bf16_s", "greedy_b8_bf16_tokens_per_s"}, [](BenchContext& c) {
               return measure_generation(c, 8, 1, "greedy_b8_bf16", "greedy bf16, batch 8 x 64 new tokens", torch::kBFloat16);
           }});
    r.add({"beam_bf16", "the beam measurement with the model cast to bfloat16 (--dtype bfloat16)",
           {"beam4_b1_bf16_s", "beam4_b1_bf16_tokens_per_s"}, [](BenchContext& c) {
               return measure_generation(c, 1, 4, "beam4_b1_bf16", "beam 4 bf16, batch 1 x 64 new tokens", torch::kBFloat16);
           }});
    r.add({"matmul_int8", "the matmul measurement through the int8 linear of --quantize int8 (activation quantisation included)",
           {"matmul_int8_gops"}, measure_matmul_int8});
    r.add({"greedy_int8", "the greedy measurement with the linears quantized to int8 (--quantize int8)",
           {"greedy_b8_int8_s", "greedy_b8_int8_tokens_per_s"}, [](BenchContext& c) {
               return measure_generation(c, 8, 1, "greedy_b8_int8", "greedy int8, batch 8 x 64 new tokens", torch::kQInt8);
           }});
    r.add({"beam_int8", "the beam measurement with the linears quantized to int8 (--quantize int8)",
           {"beam4_b1_int8_s", "beam4_b1_int8_tokens_per_s"}, [](BenchContext& c) {
               return measure_generation(c, 1, 4, "beam4_b1_int8", "beam 4 int8, batch 1 x 64 new tokens", torch::kQInt8);
           }});
    r.add({"rouge", "ROUGE-1/2/L/Lsum of 1,500 predictions x 3 references for 2 systems, bootstrap and paired bootstrap "
                    "of 1,000 resamples",
           {"rouge_s", "rouge_scoring_s", "rouge_bootstrap_s", "rouge_paired_s"},
           measure_rouge});
    r.add({"train_full", "one full fine-tuning optimizer step (the trainer's measurement)",
           {"train_full_s", "train_full_model_gflops", "train_full_peak_rss_mb"},
           {}});
    r.add({"train_lora", "one LoRA (r=32, q and v) optimizer step (the trainer's measurement)",
           {"train_lora_s", "train_lora_peak_rss_mb"},
           {}});
    r.add({"train_full_bf16", "the full fine-tuning step with --bf16 (bfloat16 autocast, fp32 weights and AdamW)",
           {"train_full_bf16_s", "train_full_bf16_model_gflops", "train_full_bf16_peak_rss_mb"},
           {}});
    r.add({"train_lora_bf16", "the LoRA step with --bf16 (bfloat16 autocast, fp32 weights and AdamW)",
           {"train_lora_bf16_s", "train_lora_bf16_peak_rss_mb"},
           {}});
    // Peak memory is the point of these two; run each alone (--only) so the heap earlier rows kept does not count.
    r.add({"train_full_gc", "the full fine-tuning step with --gradient-checkpointing (each block recomputed in backward)",
           {"train_full_gc_s", "train_full_gc_model_gflops", "train_full_gc_peak_rss_mb"},
           {}});
    r.add({"train_lora_gc", "the LoRA step with --gradient-checkpointing",
           {"train_lora_gc_s", "train_lora_gc_peak_rss_mb"},
           {}});
    return r;
}

BenchReport run_benchmarks(const BenchRegistry& registry, BenchContext& context, const std::vector<std::string>& only,
                           const std::function<void(const BenchMeasurement&)>& on_start) {
    for (const std::string& name : only) {
        if (!registry.find(name)) {
            std::string known;
            for (const BenchMeasurement& m : registry.measurements()) known += (known.empty() ? "" : ", ") + m.name;
            throw ConfigError("--only", "", "unknown measurement \"" + name + "\" (known: " + known + ")");
        }
    }
    BenchReport report;
    for (const std::string& key : registry.keys()) report.values[key] = nullptr;
    for (const BenchMeasurement& m : registry.measurements()) {
        BenchOutcome& outcome = report.outcomes.emplace_back();
        outcome.name = m.name;
        const bool selected = only.empty() || std::find(only.begin(), only.end(), m.name) != only.end();
        if (!selected) {
            outcome.note = "not selected";
            continue;
        }
        if (!m.run) {
            outcome.note = "not available in this build";
            continue;
        }
        if (on_start) on_start(m);
        const auto start = std::chrono::steady_clock::now();
        try {
            outcome.result = m.run(context);
            outcome.ran = true;
        } catch (const std::exception& e) {
            outcome.note = std::string("failed: ") + e.what();
        }
        outcome.wall_s = seconds_since(start);
        for (const BenchValue& v : outcome.result.values) report.values[v.key] = v.value;
    }
    report.threads = current_threads();
    report.model = context.model_description();
    return report;
}

}  // namespace sumlab
