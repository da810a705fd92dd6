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

// What a row is used for, or'ed together.
enum Use : unsigned { no_use = 0, flag = 1, form = 2, sampling = 4, min_exclusive = 8 };

GenerationSettingSpec row(std::string key, Kind kind, std::string help, double min, double max, unsigned uses) {
    GenerationSettingSpec s;
    s.key = std::move(key);
    s.flag = "--" + s.key;
    std::replace(s.flag.begin(), s.flag.end(), '_', '-');
    s.kind = kind;
    s.help = std::move(help);
    s.origin = "Hugging Face: " + s.key;
    s.min = min;
    s.max = max;
    s.is_flag = uses & flag;
    s.is_form = uses & form;
    s.is_sampling = uses & sampling;
    s.is_min_exclusive = uses & min_exclusive;
    return s;
}

template <typename T>
GenerationSettingSpec field(std::string key, Kind kind, std::string help, double min, double max, T GenerationConfig::*member,
                            unsigned uses) {
    GenerationSettingSpec s = row(std::move(key), kind, std::move(help), min, max, uses);
    s.get = [member](const GenerationConfig& c) { return json(c.*member); };
    s.set = [member](GenerationConfig& c, const json& v) { c.*member = v.get<T>(); };
    return s;
}

// The help's note where transformers 4.28 has no upper bound and SumLab sets one.
std::string capped(const std::string& help, int64_t bound, const std::string& why) {
    return help + ". HF sets no upper bound; SumLab's " + std::to_string(bound) + " " + why;
}

// The rows, in the order --help and the form show them. Each range is what transformers 4.28 accepts (its
// GenerationConfig and logits processors' checks); where HF has no upper bound SumLab's bound refuses typos
// before anything is allocated, and the help says why it is where it is.
std::vector<GenerationSettingSpec> build_table() {
    using C = GenerationConfig;
    const std::string long_enough = "is far beyond any summary (T5 was trained on 512-token inputs)";
    std::vector<GenerationSettingSpec> t;
    t.push_back(field("max_length", Kind::integer,
                      capped("The most tokens a summary may have counting the decoder start token, when max_new_tokens is unset (HF's "
                             "default 20)",
                             1000000, long_enough),
                      1, 1e6, &C::max_length, no_use));
    {
        GenerationSettingSpec s = row("max_new_tokens", Kind::integer,
                                      capped("The most tokens to generate after the start token (the lab uses 200)", 1000000, long_enough),
                                      1, 1e6, flag | form);
        s.is_nullable = true;
        s.get = [](const C& c) { return c.max_new_tokens ? json(*c.max_new_tokens) : json(nullptr); };
        s.set = [](C& c, const json& v) {
            if (v.is_null()) c.max_new_tokens.reset();
            else c.max_new_tokens = v.get<int64_t>();
        };
        t.push_back(s);
    }
    t.push_back(field("min_length", Kind::integer,
                      capped("</s> is forbidden while the summary, start token included, is shorter than this", 1000000, long_enough), 0,
                      1e6, &C::min_length, no_use));
    t.push_back(field("min_new_tokens", Kind::integer, capped("</s> is forbidden before this many new tokens", 1000000, long_enough), 0, 1e6,
                      &C::min_new_tokens, flag));
    t.push_back(field("num_beams", Kind::integer,
                      capped("1 is greedy search; more keeps that many hypotheses (beam search)", 256,
                             "holds 256 copies of the decoder's cache per dialogue, more than a CPU's memory serves at speed"),
                      1, 256, &C::num_beams, flag | form));
    t.push_back(field("early_stopping", Kind::boolean, "Beam search: stop as soon as num_beams hypotheses are finished", 0, 0,
                      &C::early_stopping, flag));
    t.push_back(field("length_penalty", Kind::real,
                      "Beam search: a hypothesis scores its summed log-probabilities / length^length_penalty. HF accepts any "
                      "number; SumLab's bounds of -1000000 and 1000000 are where length^length_penalty is already 0 or infinite",
                      -1e6, 1e6, &C::length_penalty, flag));
    t.push_back(field("no_repeat_ngram_size", Kind::integer, capped("Forbid repeating any n-gram of this size (0 = off)", 1000000, long_enough),
                      0, 1e6, &C::no_repeat_ngram_size, flag | form));
    t.push_back(field("repetition_penalty", Kind::real,
                      capped("Above 1 discourages tokens already in the summary, below 1 favours them (1 = off; HF: strictly positive)",
                             1000, "already rules repeated tokens out"),
                      0, 1e3, &C::repetition_penalty, flag | form | min_exclusive));
    t.push_back(field("do_sample", Kind::boolean, "Draw each token from the model's distribution instead of taking the most likely one", 0, 0,
                      &C::do_sample, flag | form));
    t.push_back(field("temperature", Kind::real,
                      capped("Sampling: divide the scores by this before the filters (below 1 sharper, above 1 flatter; HF: strictly "
                             "positive)",
                             100, "already makes the distribution nearly uniform"),
                      0, 100, &C::temperature, flag | form | sampling | min_exclusive));
    t.push_back(field("top_k", Kind::integer,
                      capped("Sampling: keep only the k most likely tokens (0 = off; HF's default 50)", 1000000,
                             "is larger than any T5 vocabulary (32128), where top_k keeps every token"),
                      0, 1e6, &C::top_k, flag | form | sampling));
    t.push_back(field("top_p", Kind::real, "Sampling: keep the most likely tokens whose probabilities add up to top_p (1 = off)", 0, 1,
                      &C::top_p, flag | form | sampling));
    t.push_back(field("typical_p", Kind::real, "Sampling: locally typical sampling's probability mass (1 = off; HF: above 0)", 0, 1,
                      &C::typical_p, flag | sampling | min_exclusive));
    t.push_back(field("num_return_sequences", Kind::integer,
                      capped("Sampling: summaries drawn per input", 64, "keeps the drawn summaries of one batch in memory and on the Compare page readable"),
                      1, 64, &C::num_return_sequences, flag | form | sampling));
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

std::string generation_setting_help(const GenerationSettingSpec& s) { return s.origin.empty() ? s.help : s.help + " (" + s.origin + ")"; }

std::string generation_range_text(const GenerationSettingSpec& s) {
    return (s.is_min_exclusive ? "(" : "[") + bound_text(s, s.min) + ", " + bound_text(s, s.max) + "]";
}

double generation_lowest_value(const GenerationSettingSpec& s, double step) { return s.is_min_exclusive ? s.min + step : s.min; }

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
                throw ConfigError(where, s.key, "value " + v.dump() + " is outside " + generation_range_text(s));
            return;
        case Kind::real:
            if (!v.is_number()) throw ConfigError(where, s.key, "must be a number, got " + shown_json_value(v));
            if (!((s.is_min_exclusive ? v.get<double>() > s.min : v.get<double>() >= s.min) && v.get<double>() <= s.max))
                throw ConfigError(where, s.key, "value " + v.dump() + " is outside " + generation_range_text(s));
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
