#include "models/lora.h"

#include "base/errors.h"
#include "base/file_util.h"
#include "models/safetensors.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <sys/stat.h>

namespace sumlab {

namespace {

const char* kPrefix = "base_model.model.";
const std::set<std::string> kKnownTargets = {"q", "k", "v", "o", "wi", "wi_0", "wi_1", "wo"};

std::string last_component(const std::string& path) {
    auto dot = path.find_last_of('.');
    return dot == std::string::npos ? path : path.substr(dot + 1);
}

// Every T5Linear of the model with its HF path ("encoder.block.0.layer.0.SelfAttention.q").
std::vector<std::pair<std::string, std::shared_ptr<T5LinearImpl>>> linear_layers(const T5ForConditionalGenerationImpl& model) {
    std::vector<std::pair<std::string, std::shared_ptr<T5LinearImpl>>> out;
    for (const auto& item : model.named_modules("", /*include_self=*/false)) {
        if (auto lin = std::dynamic_pointer_cast<T5LinearImpl>(item.value())) out.emplace_back(item.key(), lin);
    }
    return out;
}

std::string with_thousands(int64_t n) {
    std::string digits = std::to_string(n), out;
    int count = 0;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        if (count && count % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
        out.insert(out.begin(), *it);
        ++count;
    }
    return out;
}

// Python's repr(float): the shortest text that round-trips.
std::string python_float(double x) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, x);
    std::string s(buf, res.ptr);
    if (s.find_first_of(".e") == std::string::npos && s.find("inf") == std::string::npos && s.find("nan") == std::string::npos) s += ".0";
    return s;
}

}  // namespace

void LoraConfig::validate(const std::string& where) const {
    if (r < 1 || r > 65536) throw ConfigError(where, "r", "the LoRA rank must be between 1 and 65536, got " + std::to_string(r));
    if (!(lora_alpha > 0)) throw ConfigError(where, "lora_alpha", "must be positive");
    if (!(lora_dropout >= 0.0 && lora_dropout < 1.0)) throw ConfigError(where, "lora_dropout", "must be in [0, 1)");
    if (target_modules.empty()) throw ConfigError(where, "target_modules", "name at least one module (q, k, v, o, wi, wi_0, wi_1, wo)");
    for (const auto& t : target_modules)
        if (!kKnownTargets.count(t))
            throw ConfigError(where, "target_modules", "\"" + t + "\" is not a T5 linear layer (q, k, v, o, wi, wi_0, wi_1, wo)");
    if (bias != "none") throw ConfigError(where, "bias", "only \"none\" is supported");
}

nlohmann::json LoraConfig::to_json() const {
    // PEFT declares lora_alpha an int and writes 8, not 8.0; a fractional alpha stays a float.
    const bool whole_alpha = lora_alpha == std::floor(lora_alpha) && std::abs(lora_alpha) < 9e15;
    const nlohmann::json alpha = whole_alpha ? nlohmann::json(static_cast<int64_t>(lora_alpha)) : nlohmann::json(lora_alpha);
    return {{"alpha_pattern", nlohmann::json::object()},
            {"auto_mapping", nullptr},
            {"base_model_name_or_path", base_model_name_or_path},
            {"bias", bias},
            {"fan_in_fan_out", false},
            {"inference_mode", true},
            {"init_lora_weights", true},
            {"layers_pattern", nullptr},
            {"layers_to_transform", nullptr},
            {"lora_alpha", alpha},
            {"lora_dropout", lora_dropout},
            {"modules_to_save", nullptr},
            {"peft_type", "LORA"},
            {"r", r},
            {"rank_pattern", nlohmann::json::object()},
            {"revision", nullptr},
            {"target_modules", target_modules},
            {"task_type", "SEQ_2_SEQ_LM"}};
}

LoraConfig LoraConfig::from_json(const nlohmann::json& j, const std::string& path) {
    if (!j.is_object()) throw ConfigError(path, "", "must be a JSON object");
    LoraConfig c;
    if (j.contains("peft_type") && j["peft_type"] != "LORA")
        throw ConfigError(path, "peft_type",
                          "is " + (j["peft_type"].is_structured() ? std::string("not a string") : j["peft_type"].dump()) +
                              "; SumLab reads LoRA adapters");
    auto number = [&](const char* key, double& out) {
        if (!j.contains(key) || j[key].is_null()) return;
        if (!j[key].is_number()) throw ConfigError(path, key, "must be a number");
        out = j[key].get<double>();
    };
    if (j.contains("r")) {
        if (!j["r"].is_number_integer()) throw ConfigError(path, "r", "must be an integer");
        c.r = j["r"].get<int64_t>();
    }
    number("lora_alpha", c.lora_alpha);
    number("lora_dropout", c.lora_dropout);
    if (j.contains("target_modules")) {
        const auto& t = j["target_modules"];
        c.target_modules.clear();
        if (t.is_string()) {
            c.target_modules.push_back(t.get<std::string>());
        } else if (t.is_array()) {
            for (const auto& x : t) {
                if (!x.is_string()) throw ConfigError(path, "target_modules", "must list module names");
                c.target_modules.push_back(x.get<std::string>());
            }
        } else {
            throw ConfigError(path, "target_modules", "must be a list of module names");
        }
    }
    if (j.contains("bias") && j["bias"].is_string()) c.bias = j["bias"].get<std::string>();
    if (j.contains("base_model_name_or_path") && j["base_model_name_or_path"].is_string())
        c.base_model_name_or_path = j["base_model_name_or_path"].get<std::string>();
    for (const char* unsupported : {"rank_pattern", "alpha_pattern"})
        if (j.contains(unsupported) && j[unsupported].is_object() && !j[unsupported].empty())
            throw ConfigError(path, unsupported, "per-layer ranks are not supported");
    if (j.contains("fan_in_fan_out") && j["fan_in_fan_out"] == true) throw ConfigError(path, "fan_in_fan_out", "must be false for T5");
    c.validate(path);
    return c;
}

LoraConfig LoraConfig::from_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_size > (off_t{16} << 20))  // a few KB when real
        throw FileError(path, "is " + std::to_string(st.st_size) + " bytes, too large for a JSON config (limit 16 MiB)");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        std::string why = e.what();
        auto bracket = why.find("] ");  // drop nlohmann's "[json.exception.parse_error.101] "
        throw ConfigError(path, "", "invalid JSON: " + (bracket == std::string::npos ? why : why.substr(bracket + 2)));
    }
    return from_json(j, path);
}

void apply_lora(T5ForConditionalGenerationImpl& model, const LoraConfig& config) {
    config.validate("LoRA settings");
    for (auto& p : model.parameters()) p.set_requires_grad(false);
    std::set<std::string> matched;
    for (auto& [path, lin] : linear_layers(model)) {
        std::string name = last_component(path);
        if (path == "lm_head") continue;
        for (const auto& t : config.target_modules) {
            if (name == t) {
                lin->add_lora(config.r, config.lora_alpha, config.lora_dropout);
                matched.insert(t);
            }
        }
    }
    for (const auto& t : config.target_modules)
        if (!matched.count(t))
            throw ConfigError("LoRA settings", "target_modules",
                              "\"" + t + "\" matches no layer of this model (" + model.config().feed_forward_proj +
                                  " models have " + (model.config().is_gated() ? "wi_0, wi_1" : "wi") + ")");
}

std::vector<std::pair<std::string, torch::Tensor>> lora_state_dict(const T5ForConditionalGenerationImpl& model) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& [path, lin] : linear_layers(model)) {
        if (!lin->has_lora()) continue;
        out.emplace_back(kPrefix + path + ".lora_A.weight", lin->lora_A.detach());
        out.emplace_back(kPrefix + path + ".lora_B.weight", lin->lora_B.detach());
    }
    return out;
}

void save_adapter(const T5ForConditionalGenerationImpl& model, const LoraConfig& config, const std::string& dir) {
    if (!is_directory(dir) && ::mkdir(dir.c_str(), 0755) != 0) throw FileError(dir, "cannot create folder");
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (auto& [name, t] : lora_state_dict(model)) tensors.emplace_back(name, t.to(torch::kCPU).contiguous());
    if (tensors.empty()) throw ConfigError(dir, "", "the model carries no LoRA adapter to save");
    save_safetensors(join_path(dir, "adapter_model.safetensors"), tensors, {{"format", "pt"}});
    write_atomically(join_path(dir, "adapter_config.json"), config.to_json().dump(2) + "\n");
}

LoraConfig load_adapter(T5ForConditionalGenerationImpl& model, const std::string& dir) {
    if (!is_directory(dir)) throw FileError(dir, "no such adapter folder");
    std::string config_path = join_path(dir, "adapter_config.json");
    if (!is_file(config_path)) throw FileError(config_path, "missing: a PEFT adapter folder needs adapter_config.json");
    LoraConfig config = LoraConfig::from_file(config_path);
    std::string weights = join_path(dir, "adapter_model.safetensors");
    if (!is_file(weights)) throw FileError(weights, "missing: SumLab reads adapters saved with safe_serialization (adapter_model.safetensors)");
    SafetensorsFile file(weights);
    apply_lora(model, config);
    std::map<std::string, torch::Tensor> wanted;
    for (auto& [name, t] : lora_state_dict(model)) wanted[name] = t;
    std::vector<std::string> missing, unexpected, wrong;
    std::set<std::string> present;
    for (const auto& e : file.entries()) {
        // PEFT writes `.lora_A.weight`; in-memory names carry the adapter name (`.lora_A.default.weight`).
        std::string name = e.name;
        auto pos = name.find(".default.weight");
        if (pos != std::string::npos) name = name.substr(0, pos) + ".weight";
        auto it = wanted.find(name);
        if (it == wanted.end()) {
            unexpected.push_back(e.name);
            continue;
        }
        present.insert(name);
        if (e.shape != it->second.sizes().vec()) {
            auto shape = [](const std::vector<int64_t>& dims) {
                std::string s;
                for (auto d : dims) s += (s.empty() ? "" : "x") + std::to_string(d);
                return s;
            };
            wrong.push_back(e.name + " is " + shape(e.shape) + ", this model needs " + shape(it->second.sizes().vec()));
            continue;
        }
        torch::NoGradGuard no_grad;
        it->second.copy_(file.load(e.name, torch::kFloat32));
    }
    for (auto& [name, t] : wanted)
        if (!present.count(name)) missing.push_back(name);
    auto list = [](const std::vector<std::string>& v) {
        std::string s;
        for (size_t i = 0; i < v.size() && i < 6; ++i) s += (i ? ", " : "") + v[i];
        if (v.size() > 6) s += ", … (" + std::to_string(v.size()) + " in all)";
        return s;
    };
    if (!wrong.empty())
        throw FileError(weights, "adapter shapes do not fit this base model (an adapter for another model?): " + list(wrong));
    if (!unexpected.empty()) throw FileError(weights, "tensors this base model has no place for: " + list(unexpected));
    if (!missing.empty()) throw FileError(weights, "missing adapter tensors: " + list(missing));
    return config;
}

void merge_lora(T5ForConditionalGenerationImpl& model) {
    for (auto& [path, lin] : linear_layers(model)) lin->merge_lora();
    for (auto& p : model.parameters()) p.set_requires_grad(true);
}

TrainableReport trainable_parameters(const T5ForConditionalGenerationImpl& model) {
    TrainableReport r;
    for (const auto& p : model.parameters()) {
        r.all += p.numel();
        if (p.requires_grad()) r.trainable += p.numel();
    }
    return r;
}

std::string TrainableReport::peft_text() const {
    return "trainable params: " + with_thousands(trainable) + " || all params: " + with_thousands(all) +
           " || trainable%: " + python_float(percent());
}

}  // namespace sumlab
