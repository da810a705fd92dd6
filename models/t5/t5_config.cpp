// T5Config: reading and validating config.json, and writing it as HF does (see t5_config.h).
#include "models/t5/t5_config.h"

#include "models/t5/config_json.h"

#include "base/errors.h"
#include "base/file_util.h"

#include <nlohmann/json.hpp>

#include <climits>
#include <cstdio>
#include <sys/stat.h>

namespace sumlab {

namespace {

// A config file is a few KB; a multi-GB one (a weights file under the wrong name, say) is refused
// before it is read into memory.
constexpr uint64_t kMaxConfigBytes = uint64_t{16} << 20;

std::string read_config_text(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > kMaxConfigBytes)
        throw FileError(path, "is " + std::to_string(st.st_size) + " bytes, too large for a JSON config (limit 16 MiB)");
    return read_file(path);
}

}  // namespace

nlohmann::json parse_json_file(const std::string& path) {
    if (!is_file(path)) throw FileError(path, "missing");
    try {
        return nlohmann::json::parse(read_config_text(path));
    } catch (const nlohmann::json::exception& e) {
        std::string why = e.what();
        auto bracket = why.find("] ");
        throw ConfigError(path, "", "invalid JSON: " + (bracket == std::string::npos ? why : why.substr(bracket + 2)));
    }
}

// A value from the file for an error message: lists and objects are not printed (dump() recurses,
// and a hostile file can nest them thousands deep), long strings are cut.
std::string shown_json_value(const nlohmann::json& v) {
    if (v.is_array()) return "a list";
    if (v.is_object()) return "an object";
    std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return text.size() <= 80 ? text : text.substr(0, 80) + "...";
}

// An eos_token_id may be a list in newer configs; SumLab uses the first.
void read_token_id(const nlohmann::json& j, const char* key, int64_t& out, const std::string& path) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    const nlohmann::json* id = it->is_array() && !it->empty() ? &(*it)[0] : &*it;
    if (!id->is_number_integer()) throw ConfigError(path, key, "must be a token id, got " + shown_json_value(*it));
    if (id->is_number_unsigned() && id->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        throw ConfigError(path, key, "token id " + id->dump() + " is too large");
    out = id->get<int64_t>();
    if (out < 0) throw ConfigError(path, key, "must not be negative");
}

namespace {
template <typename T>
void read_int(const nlohmann::json& j, const char* key, T& out, const std::string& path, int64_t lo, int64_t hi) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_number_integer()) throw ConfigError(path, key, "must be an integer, got " + shown_json_value(*it));
    if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(hi))
        throw ConfigError(path, key, "value " + it->dump() + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    int64_t v = it->get<int64_t>();
    if (v < lo || v > hi)
        throw ConfigError(path, key, "value " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    out = static_cast<T>(v);
}

void read_double(const nlohmann::json& j, const char* key, double& out, const std::string& path, double lo, double hi) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_number()) throw ConfigError(path, key, "must be a number, got " + shown_json_value(*it));
    double v = it->get<double>();
    if (!(v >= lo && v <= hi)) throw ConfigError(path, key, "value " + it->dump() + " is outside the allowed range");
    out = v;
}

void read_bool(const nlohmann::json& j, const char* key, bool& out, const std::string& path) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    if (!it->is_boolean()) throw ConfigError(path, key, "must be true or false, got " + shown_json_value(*it));
    out = it->get<bool>();
}

// Upper bounds far above any real T5 (XXL: d_model 4096, d_ff 10240, 24 layers, 64 heads) that
// still refuse absurd values before anything is allocated.
constexpr int64_t kMaxDim = 65536;
constexpr int64_t kMaxLayers = 512;
// Each bound alone still allows a model no machine holds (vocab 10^7 x d_model 65536), so the whole
// parameter count is checked too: 16 billion, above T5-XXL's 11.3 billion.
constexpr double kMaxParameters = 16e9;

// The integer fields, in the order they are read (so the first bad key is the one named) and written.
struct IntField {
    const char* key;
    int64_t T5Config::*member;
    int64_t lo, hi;
};
constexpr IntField kIntFields[] = {
    {"vocab_size", &T5Config::vocab_size, 1, 10'000'000},
    {"d_model", &T5Config::d_model, 1, kMaxDim},
    {"d_kv", &T5Config::d_kv, 1, kMaxDim},
    {"d_ff", &T5Config::d_ff, 1, 4 * kMaxDim},
    {"num_layers", &T5Config::num_layers, 1, kMaxLayers},
    {"num_decoder_layers", &T5Config::num_decoder_layers, 1, kMaxLayers},  // defaults to num_layers, as in HF
    {"num_heads", &T5Config::num_heads, 1, 1024},
    {"relative_attention_num_buckets", &T5Config::relative_attention_num_buckets, 2, 4096},
    {"relative_attention_max_distance", &T5Config::relative_attention_max_distance, 2, 1'000'000},
};

// Parameters the config describes (HF's T5ForConditionalGeneration), in double: no overflow.
double parameter_count(const T5Config& c) {
    const double d = static_cast<double>(c.d_model), inner = static_cast<double>(c.inner_dim());
    const double attention = 4 * d * inner;
    const double ff = (c.is_gated() ? 3 : 2) * d * static_cast<double>(c.d_ff);
    const double bias = static_cast<double>(c.relative_attention_num_buckets * c.num_heads);
    const double embeddings = static_cast<double>(c.vocab_size) * d * (c.tie_word_embeddings ? 1 : 2);
    return embeddings + static_cast<double>(c.num_layers) * (attention + ff + 2 * d) +
           static_cast<double>(c.num_decoder_layers) * (2 * attention + ff + 3 * d) + 2 * bias + 2 * d;
}

}  // namespace

FeedForwardKind T5Config::ff_kind() const {
    if (feed_forward_proj == "relu") return FeedForwardKind::relu;
    if (feed_forward_proj == "gated-gelu") return FeedForwardKind::gated_gelu;
    if (feed_forward_proj == "gated-silu") return FeedForwardKind::gated_silu;
    if (feed_forward_proj == "gated-relu") return FeedForwardKind::gated_relu;
    if (feed_forward_proj == "gelu") return FeedForwardKind::gelu;
    return FeedForwardKind::silu;
}

bool T5Config::is_gated() const { return feed_forward_proj.rfind("gated-", 0) == 0; }

T5Config T5Config::from_json(const nlohmann::json& j, const std::string& path) {
    if (!j.is_object()) throw ConfigError(path, "", "must be a JSON object");
    if (j.contains("model_type") && j["model_type"].is_string() && j["model_type"] != "t5" && j["model_type"] != "mt5")
        throw ConfigError(path, "model_type", "is \"" + j["model_type"].get<std::string>() + "\", SumLab runs T5 models");
    T5Config c;
    for (const IntField& f : kIntFields) {
        if (f.member == &T5Config::num_decoder_layers) c.num_decoder_layers = c.num_layers;
        read_int(j, f.key, c.*f.member, path, f.lo, f.hi);
    }
    read_double(j, "dropout_rate", c.dropout_rate, path, 0.0, 1.0 - 1e-9);
    read_double(j, "layer_norm_epsilon", c.layer_norm_epsilon, path, 0.0, 1.0);
    read_bool(j, "tie_word_embeddings", c.tie_word_embeddings, path);
    read_token_id(j, "pad_token_id", c.pad_token_id, path);
    read_token_id(j, "eos_token_id", c.eos_token_id, path);
    c.decoder_start_token_id = c.pad_token_id;
    read_token_id(j, "decoder_start_token_id", c.decoder_start_token_id, path);
    if (j.contains("torch_dtype") && j["torch_dtype"].is_string()) c.torch_dtype = j["torch_dtype"].get<std::string>();
    if (j.contains("feed_forward_proj")) {
        if (!j["feed_forward_proj"].is_string()) throw ConfigError(path, "feed_forward_proj", "must be a string");
        c.feed_forward_proj = j["feed_forward_proj"].get<std::string>();
    }
    static const char* kKinds[] = {"relu", "gated-gelu", "gated-silu", "gated-relu", "gelu", "silu"};
    bool known = false;
    for (const char* k : kKinds) known = known || c.feed_forward_proj == k;
    if (!known)
        throw ConfigError(path, "feed_forward_proj",
                          "\"" + c.feed_forward_proj + "\" is not one of relu, gated-gelu, gated-silu, gated-relu, gelu, silu");
    if (c.relative_attention_num_buckets % 2 != 0)
        throw ConfigError(path, "relative_attention_num_buckets", "must be even (half the buckets per direction)");
    if (const double n = parameter_count(c); n > kMaxParameters) {
        char count[32];
        std::snprintf(count, sizeof count, "%.3g", n);
        throw ConfigError(path, "", std::string("describes a model of ") + count +
                                        " parameters (vocab_size, d_model, d_ff, num_heads * d_kv and the layer counts "
                                        "together), more than the 16 billion SumLab will allocate");
    }
    for (auto [key, id] : {std::pair<const char*, int64_t>{"pad_token_id", c.pad_token_id},
                           {"eos_token_id", c.eos_token_id},
                           {"decoder_start_token_id", c.decoder_start_token_id}}) {
        if (id >= c.vocab_size) throw ConfigError(path, key, "token id " + std::to_string(id) + " is not below vocab_size " + std::to_string(c.vocab_size));
    }
    return c;
}

T5Config T5Config::from_file(const std::string& path) { return from_json(parse_json_file(path), path); }

nlohmann::json T5Config::to_json() const {
    nlohmann::json j;
    j["architectures"] = {"T5ForConditionalGeneration"};
    j["model_type"] = "t5";
    for (const IntField& f : kIntFields) j[f.key] = this->*f.member;
    j["dropout_rate"] = dropout_rate;
    j["layer_norm_epsilon"] = layer_norm_epsilon;
    j["feed_forward_proj"] = feed_forward_proj;
    j["is_gated_act"] = is_gated();
    std::string act = feed_forward_proj.substr(feed_forward_proj.find('-') == std::string::npos ? 0 : feed_forward_proj.find('-') + 1);
    j["dense_act_fn"] = act == "gelu" ? "gelu_new" : act;
    j["tie_word_embeddings"] = tie_word_embeddings;
    j["pad_token_id"] = pad_token_id;
    j["eos_token_id"] = eos_token_id;
    j["decoder_start_token_id"] = decoder_start_token_id;
    j["is_encoder_decoder"] = true;
    j["initializer_factor"] = 1.0;
    j["use_cache"] = true;
    j["torch_dtype"] = torch_dtype;
    return j;
}

}  // namespace sumlab
