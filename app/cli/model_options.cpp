#include "app/cli/model_options.h"

#include "app/cli/cli_common.h"
#include "models/lora.h"

namespace sumlab::cli {

void ModelOptions::add_to(CLI::App& cmd, bool with_target_length) {
    cmd.add_option("--model", model, "Model folder (config.json, spiece.model, model.safetensors or pytorch_model.bin)")->required();
    cmd.add_option("--adapter", adapter, "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) to apply");
    cmd.add_option("--device", device, "cpu, cuda or cuda:N (default cpu)");
    cmd.add_option("--max-source-length", max_source_length, "Truncate sources to this many tokens, keeping </s> (default 512)")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
    if (with_target_length)
        cmd.add_option("--max-target-length", max_target_length, "Truncate targets to this many tokens, keeping </s> (default 128)")
            ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
    cmd.add_option("--batch-size", batch_size, "Examples per forward pass (default 8)")->check(CLI::Range(int64_t{1}, int64_t{1} << 16));
}

LoadedModel ModelOptions::load() const {
    LoadedModel m = load_model(model, parse_device(device));
    if (!adapter.empty()) {
        load_adapter(*m.model, adapter);
        m.model->eval();
    }
    return m;
}

void GenerationOptions::add_to(CLI::App& cmd) {
    cmd.add_option("--max-new-tokens", max_new_tokens, "max_new_tokens: tokens to generate after the start token")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
    cmd.add_option("--min-new-tokens", min_new_tokens, "min_new_tokens: </s> is forbidden before this many tokens")
        ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
    cmd.add_option("--num-beams", num_beams, "num_beams: 1 = greedy search")->check(CLI::Range(int64_t{1}, int64_t{256}));
    cmd.add_flag("--early-stopping", early_stopping, "early_stopping: stop a beam search when num_beams hypotheses are finished");
    cmd.add_option("--length-penalty", length_penalty, "length_penalty: beam score = sum log-probs / length^length_penalty");
    cmd.add_option("--no-repeat-ngram-size", no_repeat_ngram_size, "no_repeat_ngram_size: forbid repeating n-grams of this size")
        ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
    cmd.add_option("--repetition-penalty", repetition_penalty, "repetition_penalty: >1 discourages tokens already generated")
        ->check(CLI::PositiveNumber);
}

void GenerationOptions::apply(GenerationConfig& config) const {
    if (max_new_tokens) config.max_new_tokens = *max_new_tokens;
    if (min_new_tokens) config.min_new_tokens = *min_new_tokens;
    if (num_beams) config.num_beams = *num_beams;
    if (early_stopping) config.early_stopping = true;
    if (length_penalty) config.length_penalty = *length_penalty;
    if (no_repeat_ngram_size) config.no_repeat_ngram_size = *no_repeat_ngram_size;
    if (repetition_penalty) config.repetition_penalty = *repetition_penalty;
}

}  // namespace sumlab::cli
