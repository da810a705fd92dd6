#include "engine/hub/hub_files.h"

#include "base/errors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace sumlab::hub {

namespace {
// Configuration and tokenizer files T5 loads when present (transformers' T5Tokenizer / T5TokenizerFast).
const char* const kSmallFiles[] = {
    "config.json",           "generation_config.json",  "spiece.model",      "tokenizer.json",
    "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "adapter_config.json",
};
// Weights, best first: one of each group is taken (the first present).
const char* const kModelWeights[] = {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                                      "pytorch_model.bin.index.json"};
const char* const kAdapterWeights[] = {"adapter_model.safetensors", "adapter_model.bin"};
}  // namespace

bool is_weights_index(const std::string& file) {
    const std::string suffix = ".index.json";
    return file.size() > suffix.size() && file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0 &&
           (file.rfind("model.safetensors", 0) == 0 || file.rfind("pytorch_model.bin", 0) == 0);
}

std::vector<std::string> select_files(const std::vector<std::string>& repo_files, FileSelection selection) {
    std::vector<std::string> out;
    if (selection == FileSelection::AllFiles) {
        out = repo_files;
        std::sort(out.begin(), out.end());
        return out;
    }
    const std::set<std::string> present(repo_files.begin(), repo_files.end());
    for (const char* name : kSmallFiles)
        if (present.count(name)) out.emplace_back(name);
    for (const char* name : kModelWeights)
        if (present.count(name)) {
            out.emplace_back(name);
            break;
        }
    for (const char* name : kAdapterWeights)
        if (present.count(name)) {
            out.emplace_back(name);
            break;
        }
    return out;
}

std::vector<std::string> shards_of_index(const std::string& index_json, const std::string& index_path) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(index_json);
    } catch (const nlohmann::json::exception& e) {
        throw DataError(index_path, 0, std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
        throw DataError(index_path, 0, "no \"weight_map\" object");
    std::set<std::string> shards;
    for (const auto& [name, file] : j["weight_map"].items()) {
        if (!file.is_string()) throw DataError(index_path, 0, "weight_map[\"" + name + "\"] is not a file name");
        shards.insert(file.get<std::string>());
    }
    return {shards.begin(), shards.end()};
}

}  // namespace sumlab::hub
