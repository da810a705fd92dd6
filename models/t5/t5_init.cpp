#include "models/t5/t5_init.h"

#include "models/checkpoint.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "models/safetensors.h"
#include "base/staged_folder.h"
#include "models/t5/config_json.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <regex>
#include <stdexcept>

namespace sumlab {

namespace {

const std::regex& attention_re() {
    static const std::regex re(R"(^(encoder|decoder)\.block\.\d+\.layer\.\d+\.(SelfAttention|EncDecAttention)\.(q|k|v|o)\.weight$)");
    return re;
}
const std::regex& bias_re() {
    static const std::regex re(R"(^(encoder|decoder)\.block\.\d+\.layer\.0\.SelfAttention\.relative_attention_bias\.weight$)");
    return re;
}
const std::regex& ff_re() {
    static const std::regex re(R"(^(encoder|decoder)\.block\.\d+\.layer\.\d+\.DenseReluDense\.(wi|wi_0|wi_1|wo)\.weight$)");
    return re;
}
const std::regex& norm_re() {
    static const std::regex re(R"(^(encoder|decoder)\.(block\.\d+\.layer\.\d+\.layer_norm|final_layer_norm)\.weight$)");
    return re;
}

T5InitRule normal(double std) { return {T5InitRule::Kind::normal, std}; }

}  // namespace

T5InitRule t5_init_rule(const std::string& name, const T5Config& config, double factor) {
    const double d_model = static_cast<double>(config.d_model);
    std::smatch m;
    // T5ForConditionalGeneration branch: the shared embedding, and lm_head when it is not tied.
    if (name == "shared.weight" || name == "lm_head.weight") return normal(factor * 1.0);
    if (std::regex_match(name, m, attention_re())) {
        const std::string proj = m[3];
        if (proj == "q") return normal(factor * std::pow(d_model * static_cast<double>(config.d_kv), -0.5));
        if (proj == "o") return normal(factor * std::pow(static_cast<double>(config.num_heads * config.d_kv), -0.5));
        return normal(factor * std::pow(d_model, -0.5));  // k, v
    }
    if (std::regex_match(name, bias_re())) return normal(factor * std::pow(d_model, -0.5));
    if (std::regex_match(name, m, ff_re())) {
        if (m[2] == "wo") return normal(factor * std::pow(static_cast<double>(config.d_ff), -0.5));
        return normal(factor * std::pow(d_model, -0.5));  // wi, wi_0, wi_1
    }
    if (std::regex_match(name, norm_re())) return {T5InitRule::Kind::fill, factor * 1.0};
    throw std::invalid_argument("no T5 initialisation rule for parameter \"" + name + "\"");
}

void init_t5_weights(T5ForConditionalGenerationImpl& model, uint64_t seed, double factor) {
    torch::NoGradGuard no_grad;
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    for (auto& p : model.named_parameters(/*recurse=*/true)) {
        const T5InitRule rule = t5_init_rule(p.key(), model.config(), factor);
        torch::Tensor t = p.value();
        if (!t.device().is_cpu()) throw std::invalid_argument("init_t5_weights needs the model on the CPU");
        if (rule.kind == T5InitRule::Kind::fill)
            t.fill_(rule.value);
        else
            t.normal_(0.0, rule.value, gen);
    }
}

double read_initializer_factor(const nlohmann::json& config, const std::string& path) {
    auto it = config.find("initializer_factor");
    if (it == config.end() || it->is_null()) return 1.0;  // HF T5Config's default
    if (!it->is_number()) throw ConfigError(path, "initializer_factor", "must be a number, got " + shown_json_value(*it));
    const double f = it->get<double>();
    if (!std::isfinite(f) || f <= 0.0) throw ConfigError(path, "initializer_factor", "must be a positive number, got " + it->dump());
    return f;
}

T5InitResult create_initialized_model(const T5InitSpec& spec) {
    // 1. The config, validated by SumLab's parser, and checked against the tokenizer.
    nlohmann::json given = parse_json_file(spec.config_path);
    T5InitResult result;
    result.config = T5Config::from_json(given, spec.config_path);
    result.initializer_factor = read_initializer_factor(given, spec.config_path);
    T5Config& c = result.config;
    const TokenizerFacts& tok = spec.tokenizer;
    if (c.vocab_size < tok.vocab_size)
        throw ConfigError(spec.config_path, "vocab_size",
                          "is " + std::to_string(c.vocab_size) + " but the tokenizer " + tok.path + " has " +
                              std::to_string(tok.vocab_size) + " tokens (SentencePiece pieces + extra ids); set it to at least " +
                              std::to_string(tok.vocab_size));
    if (c.pad_token_id != tok.pad_id)
        throw ConfigError(spec.config_path, "pad_token_id",
                          "is " + std::to_string(c.pad_token_id) + " but <pad> is id " + std::to_string(tok.pad_id) + " in " + tok.path);
    if (c.eos_token_id != tok.eos_id)
        throw ConfigError(spec.config_path, "eos_token_id",
                          "is " + std::to_string(c.eos_token_id) + " but </s> is id " + std::to_string(tok.eos_id) + " in " + tok.path);
    c.torch_dtype = "float32";

    // 2. Refuse an occupied output before the (possibly long) initialisation.
    StagedFolder out(spec.output_dir);

    // 3. The weights.
    T5ForConditionalGeneration model(c);
    init_t5_weights(*model, spec.seed, result.initializer_factor);
    result.parameters = count_parameters(*model);

    // 4. The folder. config.json is the given one; keys it leaves to HF's defaults are written out with the
    // values SumLab read (so both programs see the same model), and torch_dtype says what the file holds.
    nlohmann::json config_json = given;
    const nlohmann::json parsed = c.to_json();
    for (const auto& [key, value] : parsed.items())
        if (!config_json.contains(key) || config_json[key].is_null()) config_json[key] = value;
    config_json["torch_dtype"] = "float32";
    // Derived from feed_forward_proj, which SumLab follows; HF lets a stale copy in the file win.
    config_json["dense_act_fn"] = parsed["dense_act_fn"];
    config_json["is_gated_act"] = parsed["is_gated_act"];
    write_atomically(join_path(out.path(), "config.json"), config_json.dump(2) + "\n");

    GenerationConfig generation;
    generation.decoder_start_token_id = c.decoder_start_token_id;
    generation.eos_token_id = c.eos_token_id;
    generation.pad_token_id = c.pad_token_id;
    write_atomically(join_path(out.path(), "generation_config.json"), generation_config_file(generation).dump(2) + "\n");

    NamedTensors tensors;
    for (auto& [name, t] : state_dict(*model)) tensors.emplace_back(name, t.contiguous());
    save_safetensors(join_path(out.path(), "model.safetensors"), tensors, {{"format", "pt"}});

    copy_tokenizer_files(spec.tokenizer_dir, out.path());
    out.commit();
    return result;
}

}  // namespace sumlab
