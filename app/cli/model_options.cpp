#include "app/cli/model_options.h"

#include "app/cli/cli_common.h"
#include "base/errors.h"
#include "engine/hub/hub_resolve.h"
#include "engine/runtime/system_info.h"
#include "models/lora.h"
#include "models/t5/quantized_linear.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace sumlab::cli {

namespace {
std::string megabytes(int64_t bytes) { return fixed(static_cast<double>(bytes) / 1e6, 1); }
}  // namespace

CLI::Validator hub_folder(hub::RepoType type) {
    return CLI::Validator(
        [type](std::string& value) {
            if (!hub::looks_like_hub_id(value)) return std::string();  // a path: checked where it is used
            HubProgressBar bar;
            try {
                value = hub::resolve_model_or_dataset(value, type, std::ref(bar));
            } catch (...) {
                bar.finish();
                throw;
            }
            bar.finish();
            return std::string();
        },
        type == hub::RepoType::Model ? "DIR|ORG/NAME[@REV]" : "PATH|ORG/NAME[@REV]", "HubFolder");
}

HubProgressBar::HubProgressBar(bool enabled) : enabled_(enabled), is_tty_(::isatty(2) != 0) {}

void HubProgressBar::operator()(const hub::DownloadProgress& p) {
    if (!enabled_ || p.files_total == 0) return;
    if (!is_tty_) {
        if (p.files_done > files_reported_) {
            files_reported_ = p.files_done;
            std::cerr << "download: " << p.files_done << "/" << p.files_total << " files, " << megabytes(p.bytes_done) << "/"
                      << megabytes(p.bytes_total) << " MB\n";
        }
        return;
    }
    const int width = 20;
    const double fraction = p.bytes_total > 0 ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total) : 0.0;
    const int filled = static_cast<int>(fraction * width + 0.5);
    std::string bar(static_cast<size_t>(std::clamp(filled, 0, width)), '#');
    bar.resize(width, '.');
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(fraction * 100 + 0.5));
    std::cerr << "\rdownload: [" << bar << "] " << pct << "  " << megabytes(p.bytes_done) << "/" << megabytes(p.bytes_total)
              << " MB  " << megabytes(static_cast<int64_t>(p.bytes_per_second)) << " MB/s  ETA " << clock_text(p.eta_seconds) << "  "
              << p.file << "\033[K" << std::flush;
    drawn_ = true;
}

void HubProgressBar::finish() {
    if (drawn_) std::cerr << "\n";
    drawn_ = false;
}

void ModelOptions::add_to(CLI::App& cmd, bool with_target_length) {
    cmd.add_option("--model", model,
                   "Model folder (config.json, spiece.model, model.safetensors or pytorch_model.bin), or a Hugging Face Hub id "
                   "(google/flan-t5-small, org/name@revision) taken from the Hub's cache")
        ->required()
        ->transform(hub_folder(hub::RepoType::Model));
    cmd.add_option("--adapter", adapter, "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) to apply, or a Hub id")
        ->transform(hub_folder(hub::RepoType::Model));
    cmd.add_option("--device", device, "cpu, cuda or cuda:N (default cpu)");
    cmd.add_option("--dtype", dtype,
                   "float32 (default; exact to transformers) or bfloat16: the weights cast as model.to(torch.bfloat16), fast on CPUs "
                   "with AVX512-BF16 or AMX")
        ->check(CLI::IsMember(dtype_names()));
    cmd.add_option("--quantize", quantize,
                   "none (default) or int8: per-channel int8 weights with dynamically quantized activations, as torch's "
                   "quantize_dynamic (an adapter is merged first); CPU with --dtype float32 only")
        ->check(CLI::IsMember(quantization_names()));
    cmd.add_option("--max-source-length", max_source_length, "Truncate sources to this many tokens, keeping </s> (default 512)")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
    if (with_target_length)
        cmd.add_option("--max-target-length", max_target_length, "Truncate targets to this many tokens, keeping </s> (default 128)")
            ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
    cmd.add_option("--batch-size", batch_size, "Examples per forward pass (default 8)")->check(CLI::Range(int64_t{1}, int64_t{1} << 16));
}

LoadedSystem ModelOptions::load() const {
    parse_device(device, "--device");
    check_quantize(quantize, device, dtype, "--quantize");
    warn_if_slow(dtype);
    return load_system({model, adapter, device, dtype, quantize});
}

void warn_if_slow(const std::string& dtype) {
    if (dtype != "bfloat16") return;
    const std::string warning = bf16_speed_warning();
    if (!warning.empty()) std::cerr << "sumlab-cli: note: " << warning << "\n";
}

namespace {
// The row's own check as a CLI11 validator, so a flag and generation_config.json refuse the same values.
CLI::Validator table_range(const GenerationSettingSpec& s) {
    return CLI::Validator(
        [&s](std::string& text) -> std::string {
            nlohmann::json value;
            try {
                value = s.kind == GenerationSettingSpec::Kind::integer ? nlohmann::json(std::stoll(text)) : nlohmann::json(std::stod(text));
            } catch (const std::exception&) {
                return std::string();  // not a number: CLI11's conversion names that
            }
            try {
                check_generation_value(s, value, s.flag);
            } catch (const ConfigError&) {
                return "Value " + text + " not in range " + generation_range_text(s);
            }
            return std::string();
        },
        generation_range_text(s));
}
}  // namespace

void GenerationOptions::add_to(CLI::App& cmd) {
    using Kind = GenerationSettingSpec::Kind;
    for (const GenerationSettingSpec& s : generation_settings()) {
        if (!s.is_flag) continue;
        const std::string key = s.key, help = generation_setting_help(s);
        switch (s.kind) {
            case Kind::boolean:
                cmd.add_flag_function(s.flag, [this, key](int64_t) { values[key] = true; }, help);
                break;
            case Kind::integer:
                cmd.add_option_function<int64_t>(s.flag, [this, key](int64_t v) { values[key] = v; }, help)->check(table_range(s));
                break;
            case Kind::real:
                cmd.add_option_function<double>(s.flag, [this, key](double v) { values[key] = v; }, help)->check(table_range(s));
                break;
        }
    }
}

void GenerationOptions::apply(GenerationConfig& config) const { apply_generation_settings(config, values, "command line"); }

}  // namespace sumlab::cli
