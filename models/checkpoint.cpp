#include "models/checkpoint.h"

#include "base/errors.h"
#include "base/file_util.h"
#include "models/safetensors.h"
#include "models/torch_archive.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>
#include <set>
#include <sys/stat.h>

namespace sumlab {

namespace {

std::string shape_text(at::IntArrayRef shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string list_names(const std::vector<std::string>& names, size_t max = 12) {
    std::string s;
    for (size_t i = 0; i < names.size() && i < max; ++i) s += (i ? ", " : "") + names[i];
    if (names.size() > max) s += ", … (" + std::to_string(names.size()) + " in all)";
    return s;
}

nlohmann::json read_json(const std::string& path) {
    try {
        return nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw FileError(path, std::string("invalid JSON: ") + e.what());
    }
}

// Reads the shard list of an index file: {"weight_map": {name: shard file}}.
std::map<std::string, std::string> read_weight_map(const std::string& index_path) {
    auto j = read_json(index_path);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
        throw FileError(index_path, "has no \"weight_map\" object");
    std::map<std::string, std::string> map;
    for (auto& [name, file] : j["weight_map"].items()) {
        if (!file.is_string()) throw FileError(index_path, "weight_map entry \"" + name + "\" is not a file name");
        std::string f = file.get<std::string>();
        if (f.find('/') != std::string::npos || f == "..") throw FileError(index_path, "shard name \"" + f + "\" must be a plain file name");
        map[name] = f;
    }
    return map;
}

NamedTensors read_safetensors(const std::string& path) {
    SafetensorsFile file(path);
    NamedTensors out;
    for (const auto& e : file.entries()) {
        if (e.dtype != "F32" && e.dtype != "F16" && e.dtype != "BF16" && e.dtype != "F64")
            throw FileError(path, "tensor \"" + e.name + "\" has dtype " + e.dtype + ", expected a float type");
        out.emplace_back(e.name, file.load(e.name, torch::kFloat32));
    }
    return out;
}

NamedTensors read_sharded(const std::string& index_path, bool safetensors) {
    std::string dir = index_path.substr(0, index_path.find_last_of('/'));
    auto weight_map = read_weight_map(index_path);
    std::set<std::string> shards;
    for (auto& [name, file] : weight_map) shards.insert(file);
    NamedTensors out;
    std::set<std::string> seen;
    for (const auto& shard : shards) {
        std::string path = join_path(dir, shard);
        if (!is_file(path)) throw FileError(index_path, "shard " + shard + " is missing");
        NamedTensors part = safetensors ? read_safetensors(path) : load_torch_state_dict(path);
        for (auto& [name, t] : part) {
            auto it = weight_map.find(name);
            if (it != weight_map.end() && it->second != shard) continue;  // the index decides where a name lives
            seen.insert(name);
            out.emplace_back(name, std::move(t));
        }
    }
    std::vector<std::string> missing;
    for (auto& [name, file] : weight_map)
        if (!seen.count(name)) missing.push_back(name + " (in " + file + ")");
    if (!missing.empty()) throw FileError(index_path, "the index names tensors its shards lack: " + list_names(missing));
    return out;
}

}  // namespace

std::pair<std::string, std::string> find_weights(const std::string& dir) {
    if (!is_directory(dir)) throw FileError(dir, is_file(dir) ? "is a file; a model is a folder with config.json and weights" : "no such folder");
    const std::pair<const char*, const char*> kCandidates[] = {
        {"model.safetensors", "safetensors"},
        {"model.safetensors.index.json", "safetensors-sharded"},
        {"pytorch_model.bin", "pytorch"},
        {"pytorch_model.bin.index.json", "pytorch-sharded"},
    };
    for (auto [file, format] : kCandidates) {
        std::string path = join_path(dir, file);
        if (is_file(path)) return {path, format};
    }
    throw FileError(dir, "no weights: expected model.safetensors, model.safetensors.index.json or pytorch_model.bin");
}

void load_state(T5ForConditionalGenerationImpl& model, const NamedTensors& state, const std::string& path) {
    std::map<std::string, const torch::Tensor*> by_name;
    for (const auto& [name, t] : state) by_name[name] = &t;
    std::vector<std::string> missing, unexpected, wrong_shape;
    auto params = model.named_parameters(/*recurse=*/true);
    std::set<std::string> wanted;
    for (const auto& p : params) {
        wanted.insert(p.key());
        auto it = by_name.find(p.key());
        if (it == by_name.end()) {
            missing.push_back(p.key());
        } else if (it->second->sizes() != p.value().sizes()) {
            wrong_shape.push_back(p.key() + " is " + shape_text(it->second->sizes()) + ", the config needs " + shape_text(p.value().sizes()));
        }
    }
    for (const auto& [name, t] : state)
        if (!wanted.count(name) && !T5ForConditionalGenerationImpl::is_alias_key(name, model.config())) unexpected.push_back(name);
    if (!wrong_shape.empty()) throw FileError(path, "tensor shapes do not fit config.json: " + list_names(wrong_shape, 6));
    if (!missing.empty()) throw FileError(path, "missing tensors: " + list_names(missing));
    if (!unexpected.empty()) throw FileError(path, "unexpected tensors (not part of this T5 config): " + list_names(unexpected));
    torch::NoGradGuard no_grad;
    for (auto& p : params) {
        const torch::Tensor& src = *by_name[p.key()];
        if (!torch::isfinite(src).all().item<bool>()) throw FileError(path, "tensor " + p.key() + " holds NaN or infinite values");
        p.value().copy_(src);
    }
}

LoadedModel load_model(const std::string& dir, torch::Device device, std::optional<double> dropout_rate) {
    LoadedModel m;
    m.dir = dir;
    auto [weights, format] = find_weights(dir);
    m.weights_path = weights;
    m.format = format;
    std::string config_path = join_path(dir, "config.json");
    if (!is_file(config_path)) throw FileError(config_path, "missing: a model folder needs config.json");
    m.config = T5Config::from_file(config_path);
    if (dropout_rate) {
        if (!(*dropout_rate >= 0.0 && *dropout_rate < 1.0)) throw ConfigError("training settings", "dropout_rate", "must be in [0, 1)");
        m.config.dropout_rate = *dropout_rate;
    }
    m.generation = GenerationConfig::from_model_dir(dir, m.config);
    NamedTensors state;
    if (format == "safetensors") state = read_safetensors(weights);
    else if (format == "safetensors-sharded") state = read_sharded(weights, true);
    else if (format == "pytorch") state = load_torch_state_dict(weights);
    else state = read_sharded(weights, false);
    m.model = T5ForConditionalGeneration(m.config);
    load_state(*m.model, state, weights);
    state.clear();
    m.model->to(device);
    m.model->eval();
    return m;
}

NamedTensors state_dict(const T5ForConditionalGenerationImpl& model) {
    NamedTensors out;
    for (const auto& p : model.named_parameters(true)) out.emplace_back(p.key(), p.value().detach());
    return out;
}

const char* torch_dtype_name(torch::ScalarType dtype) {
    switch (dtype) {
        case torch::kFloat32: return "float32";
        case torch::kFloat16: return "float16";
        case torch::kBFloat16: return "bfloat16";
        default: throw Error(std::string("cannot save model weights as ") + c10::toString(dtype) + " (float32, float16 or bfloat16)");
    }
}

void save_model(const T5ForConditionalGenerationImpl& model, const GenerationConfig& generation, const std::string& dir,
                torch::ScalarType dtype) {
    const char* dtype_name = torch_dtype_name(dtype);
    NamedTensors tensors;
    for (auto& [name, t] : state_dict(model)) {
        torch::Tensor stored = t.to(torch::kCPU).to(dtype).contiguous();
        // float16 tops out at 65504: a weight beyond it would be saved as inf and every output would break.
        if (dtype != t.scalar_type() && !torch::isfinite(stored).all().item<bool>())
            throw FileError(join_path(dir, "model.safetensors"),
                            name + " has values beyond what " + dtype_name + " holds (largest |x| " +
                                std::to_string(t.abs().max().item<double>()) + "); save it as float32 or bfloat16");
        tensors.emplace_back(name, stored);
    }
    if (!is_directory(dir) && ::mkdir(dir.c_str(), 0755) != 0) throw FileError(dir, "cannot create folder");
    save_safetensors(join_path(dir, "model.safetensors"), tensors, {{"format", "pt"}});
    T5Config config = model.config();
    config.torch_dtype = dtype_name;  // what the file holds, as save_pretrained records it
    write_atomically(join_path(dir, "config.json"), config.to_json().dump(2) + "\n");
    write_atomically(join_path(dir, "generation_config.json"), generation_config_file(generation).dump(2) + "\n");
}

void copy_tokenizer_files(const std::string& src_dir, const std::string& dst_dir) {
    for (const char* name : {"spiece.model", "tokenizer_config.json", "special_tokens_map.json"}) {
        std::string src = join_path(src_dir, name);
        if (is_file(src)) write_atomically(join_path(dst_dir, name), read_file(src));
    }
}

int64_t count_parameters(const torch::nn::Module& model, bool trainable_only) {
    int64_t n = 0;
    for (const auto& p : model.parameters(true))
        if (!trainable_only || p.requires_grad()) n += p.numel();
    return n;
}

}  // namespace sumlab
