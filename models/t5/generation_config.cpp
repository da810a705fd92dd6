#include "models/t5/generation_config.h"

#include "base/errors.h"
#include "base/file_util.h"
#include "models/t5/config_json.h"
#include "models/t5/t5_config.h"

#include <algorithm>
#include <cmath>

namespace sumlab {

namespace {

using json = nlohmann::json;
using Kind = GenerationSettingSpec::Kind;

GenerationSettingSpec row(std::string key, Kind kind, std::string help, double min, double max) {
    GenerationSettingSpec s;
    s.key = std::move(key);
    s.flag = "--" + s.key;
    std::replace(s.flag.begin(), s.flag.end(), '_', '-');
    s.kind = kind;
    s.help = std::move(help);
    s.min = min;
    s.max = max;
    return s;
}

template <typename T>
GenerationSettingSpec field(std::string key, Kind kind, std::string help, double min, double max, T GenerationConfig::*member) {
    GenerationSettingSpec s = row(std::move(key), kind, std::move(help), min, max);
    s.get = [member](const GenerationConfig& c) { return json(c.*member); };
    s.set = [member](GenerationConfig& c, const json& v) { c.*member = v.get<T>(); };
    return s;
}

// The bounds refuse absurd values before anything is allocated; within them every value means what it means
// to transformers 4.28.
std::vector<GenerationSettingSpec> build_table() {
    std::vector<GenerationSettingSpec> t;
    t.push_back(field("max_length", Kind::integer,
                      "The most tokens a summary may have counting the decoder start token, when max_new_tokens is unset (HF's default 20)", 1,
                      1e6, &GenerationConfig::max_length));
    {
        GenerationSettingSpec s = row("max_new_tokens", Kind::integer, "The most tokens to generate after the start token (the lab uses 200)", 1, 1e6);
        s.is_nullable = s.is_flag = s.is_form = true;
        s.get = [](const GenerationConfig& c) { return c.max_new_tokens ? json(*c.max_new_tokens) : json(nullptr); };
        s.set = [](GenerationConfig& c, const json& v) {
            if (v.is_null()) c.max_new_tokens.reset();
            else c.max_new_tokens = v.get<int64_t>();
        };
        t.push_back(s);
    }
    t.push_back(field("min_length", Kind::integer, "</s> is forbidden while the summary, start token included, is shorter than this", 0, 1e6,
                      &GenerationConfig::min_length));
    t.push_back(field("min_new_tokens", Kind::integer, "</s> is forbidden before this many new tokens", 0, 1e6, &GenerationConfig::min_new_tokens));
    t.back().is_flag = true;
    t.push_back(field("num_beams", Kind::integer, "1 is greedy search; more keeps that many hypotheses (beam search)", 1, 256,
                      &GenerationConfig::num_beams));
    t.back().is_flag = t.back().is_form = true;
    t.push_back(field("early_stopping", Kind::boolean, "Beam search: stop as soon as num_beams hypotheses are finished", 0, 0,
                      &GenerationConfig::early_stopping));
    t.back().is_flag = true;
    t.push_back(field("length_penalty", Kind::real, "Beam search: a hypothesis scores its summed log-probabilities / length^length_penalty", -1e6,
                      1e6, &GenerationConfig::length_penalty));
    t.back().is_flag = true;
    t.push_back(field("no_repeat_ngram_size", Kind::integer, "Forbid repeating any n-gram of this size (0 = off)", 0, 1e6,
                      &GenerationConfig::no_repeat_ngram_size));
    t.back().is_flag = t.back().is_form = true;
    t.push_back(field("repetition_penalty", Kind::real, "Above 1 discourages tokens already in the summary (1 = off)", 1e-3, 1e3,
                      &GenerationConfig::repetition_penalty));
    t.back().is_flag = t.back().is_form = true;
    t.push_back(field("do_sample", Kind::boolean, "Draw each token from the model's distribution instead of taking the most likely one", 0, 0,
                      &GenerationConfig::do_sample));
    t.back().is_flag = t.back().is_form = true;
    t.push_back(field("temperature", Kind::real, "Sampling: divide the scores by this before the filters (below 1 sharper, above 1 flatter)",
                      1e-3, 100, &GenerationConfig::temperature));
    t.back().is_flag = t.back().is_form = true;
    t.back().is_sampling = true;
    t.push_back(field("top_k", Kind::integer, "Sampling: keep only the k most likely tokens (0 = off; HF's default 50)", 0, 1e6,
                      &GenerationConfig::top_k));
    t.back().is_flag = t.back().is_form = true;
    t.back().is_sampling = true;
    t.push_back(field("top_p", Kind::real, "Sampling: keep the most likely tokens whose probabilities add up to top_p (1 = off)", 0, 1,
                      &GenerationConfig::top_p));
    t.back().is_flag = t.back().is_form = true;
    t.back().is_sampling = true;
    t.push_back(field("typical_p", Kind::real, "Sampling: locally typical sampling's probability mass (1 = off)", 1e-6, 1,
                      &GenerationConfig::typical_p));
    t.back().is_flag = true;
    t.back().is_sampling = true;
    t.push_back(field("num_return_sequences", Kind::integer, "Sampling: summaries drawn per input", 1, 64, &GenerationConfig::num_return_sequences));
    t.back().is_flag = t.back().is_form = true;
    t.back().is_sampling = true;
    return t;
}

std::string bound_text(const GenerationSettingSpec& s, double v) {
    return s.kind == Kind::integer ? std::to_string(static_cast<int64_t>(v)) : json(v).dump();
}

}  // namespace

const std::vector<GenerationSettingSpec>& generation_settings() {
    static const std::vector<GenerationSettingSpec> table = build_table();
    return table;
}

const GenerationSettingSpec& generation_setting(const std::string& key, const std::string& where) {
    for (const auto& s : generation_settings())
        if (s.key == key) return s;
    throw ConfigError(where, key, "is not a generation setting");
}

void check_generation_value(const GenerationSettingSpec& s, const json& v, const std::string& where) {
    if (v.is_null() && s.is_nullable) return;
    switch (s.kind) {
        case Kind::boolean:
            if (!v.is_boolean()) throw ConfigError(where, s.key, "must be true or false, got " + shown_json_value(v));
            return;
        case Kind::integer:
            if (!v.is_number_integer()) throw ConfigError(where, s.key, "must be an integer, got " + shown_json_value(v));
            // A huge unsigned value would wrap when read as int64.
            if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(s.max)
                                       : (v.get<int64_t>() < static_cast<int64_t>(s.min) || v.get<int64_t>() > static_cast<int64_t>(s.max)))
                throw ConfigError(where, s.key, "value " + v.dump() + " is outside [" + bound_text(s, s.min) + ", " + bound_text(s, s.max) + "]");
            return;
        case Kind::real:
            if (!v.is_number()) throw ConfigError(where, s.key, "must be a number, got " + shown_json_value(v));
            if (!(v.get<double>() >= s.min && v.get<double>() <= s.max))
                throw ConfigError(where, s.key, "value " + v.dump() + " is outside [" + bound_text(s, s.min) + ", " + bound_text(s, s.max) + "]");
            return;
    }
}

void apply_generation_settings(GenerationConfig& config, const json& values, const std::string& where) {
    if (!values.is_object()) throw ConfigError(where, "", "generation settings must be a JSON object");
    for (const auto& item : values.items()) {
        const GenerationSettingSpec& s = generation_setting(item.key(), where);
        check_generation_value(s, item.value(), where);
        s.set(config, item.value());
    }
}

json generation_form_values(const GenerationConfig& config) {
    json j = json::object();
    for (const auto& s : generation_settings())
        if (s.is_form) j[s.key] = s.get(config);
    return j;
}

GenerationConfig GenerationConfig::from_model_dir(const std::string& dir, const T5Config& model) {
    GenerationConfig g;
    g.decoder_start_token_id = model.decoder_start_token_id;
    g.eos_token_id = model.eos_token_id;
    g.pad_token_id = model.pad_token_id;
    std::string path = join_path(dir, "generation_config.json");
    if (is_file(path)) g.apply_json(parse_json_file(path), path);
    g.validate(path);
    return g;
}

void GenerationConfig::apply_json(const json& j, const std::string& path) {
    if (!j.is_object()) throw ConfigError(path, "", "must be a JSON object");
    for (const auto& s : generation_settings()) {
        auto it = j.find(s.key);
        if (it == j.end() || (it->is_null() && !s.is_nullable)) continue;
        // transformers >= 4.30 also writes early_stopping "never" (canonical beam search, not implemented here):
        // read as false, the stop rule SumLab has.
        if (s.key == "early_stopping" && it->is_string() && it->get<std::string>() == "never") continue;
        check_generation_value(s, *it, path);
        s.set(*this, *it);
    }
    read_token_id(j, "decoder_start_token_id", decoder_start_token_id, path);
    read_token_id(j, "eos_token_id", eos_token_id, path);
    read_token_id(j, "pad_token_id", pad_token_id, path);
}

void GenerationConfig::validate(const std::string& where) const {
    for (const auto& s : generation_settings()) check_generation_value(s, s.get(*this), where);
    if (!max_new_tokens && max_length < 2) throw ConfigError(where, "max_length", "must be at least 2");
}

nlohmann::ordered_json generation_to_json(const GenerationConfig& config) {
    nlohmann::ordered_json j;
    for (const auto& s : generation_settings()) j[s.key] = s.get(config);
    j["max_new_tokens"] = config.resolved_max_new_tokens();  // what was generated with, even when max_length set it
    if (config.do_sample) j["seed"] = config.seed;
    j["decoder_start_token_id"] = config.decoder_start_token_id;
    j["eos_token_id"] = config.eos_token_id;
    j["pad_token_id"] = config.pad_token_id;
    return j;
}

nlohmann::ordered_json generation_config_file(const GenerationConfig& config) {
    nlohmann::ordered_json j;
    j["decoder_start_token_id"] = config.decoder_start_token_id;
    j["eos_token_id"] = config.eos_token_id;
    j["pad_token_id"] = config.pad_token_id;
    const GenerationConfig defaults;
    for (const auto& s : generation_settings())
        if (s.get(config) != s.get(defaults)) j[s.key] = s.get(config);
    return j;
}

std::string describe_generation(const json& values) {
    std::string text;
    for (const auto& s : generation_settings()) {
        if (!values.is_object() || !values.contains(s.key)) continue;
        text += (text.empty() ? "" : ", ") + s.key + "=" + values[s.key].dump();
    }
    return text;
}

}  // namespace sumlab
