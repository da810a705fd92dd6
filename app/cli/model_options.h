// Options shared by the subcommands that run a model: --model, --device, generation flags,
// source/target lengths. Names follow Hugging Face (max_new_tokens -> --max-new-tokens).
#pragma once

#include "engine/hub/hub_client.h"
#include "engine/generation/system.h"
#include "models/checkpoint.h"
#include "models/t5/t5_config.h"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace sumlab::cli {

// A CLI11 transform for options that take a model or data folder: a value that is not an existing path but
// reads as a Hub id ("google/flan-t5-small", "org/name@revision") becomes its snapshot folder in the Hugging
// Face cache, downloaded first when missing (hub::resolve_model_or_dataset; HF_HUB_OFFLINE=1: cache only).
CLI::Validator hub_folder(hub::RepoType type);

// "download: [########............]  41%  12.3/30.0 MB  5.1 MB/s  ETA 00:04  model.safetensors" on standard
// error, redrawn in place on a terminal; elsewhere one line per finished file.
class HubProgressBar {
public:
    explicit HubProgressBar(bool enabled = true);
    void operator()(const hub::DownloadProgress& p);
    // Ends the line of the bar (call once the download returned or failed).
    void finish();

private:
    bool enabled_;
    bool is_tty_;
    bool drawn_ = false;
    int64_t files_reported_ = 0;
};

struct ModelOptions {
    std::string model;
    std::string adapter;  // a PEFT LoRA adapter folder applied on top of the model
    std::string device = "cpu";
    std::string dtype = "float32";
    std::string quantize = "none";  // or "int8" (engine/generation/system.h)
    int64_t max_source_length = 512;
    int64_t max_target_length = 128;
    int64_t batch_size = 8;

    void add_to(CLI::App& cmd, bool with_target_length);
    // The model on the chosen device with the adapter attached (when given), in eval mode, and its tokenizer.
    LoadedSystem load() const;
};

// A note on standard error when `dtype` would run emulated on this CPU.
void warn_if_slow(const std::string& dtype);

// Generation flags, one per row of generation_settings() marked is_flag; unset ones keep the model's
// generation_config.json and then HF's defaults.
struct GenerationOptions {
    nlohmann::json values = nlohmann::json::object();  // {HF key: value} of the flags given

    void add_to(CLI::App& cmd);
    void apply(GenerationConfig& config) const;
};

}  // namespace sumlab::cli
