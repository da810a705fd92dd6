// Opens a sharded safetensors checkpoint through its model.safetensors.index.json (see safetensors_index.h).
#include "models/safetensors_index.h"

#include "base/errors.h"
#include "base/file_util.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <sys/stat.h>
#include <utility>
#include <vector>

namespace sumlab {

namespace {

std::string quote_name(const std::string& s) {
    constexpr size_t kMaxShown = 200;
    if (s.size() <= kMaxShown) return "'" + s + "'";
    return "'" + s.substr(0, kMaxShown) + "...' (" + std::to_string(s.size()) + " bytes)";
}

std::string folder_of(const std::string& path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

// A shard is named relative to the index's folder and must stay inside it.
bool is_safe_shard_name(const std::string& name) {
    if (name.empty() || name.front() == '/') return false;
    size_t start = 0;
    while (start <= name.size()) {
        size_t slash = name.find('/', start);
        if (slash == std::string::npos) slash = name.size();
        const std::string part = name.substr(start, slash - start);
        if (part.empty() || part == "." || part == "..") return false;
        start = slash + 1;
    }
    return true;
}

// Nesting depth of a JSON value, measured without recursion (the value may nest millions deep).
size_t json_depth(const nlohmann::json& root) {
    size_t deepest = 0;
    std::vector<std::pair<const nlohmann::json*, size_t>> todo{{&root, 1}};
    while (!todo.empty()) {
        auto [v, depth] = todo.back();
        todo.pop_back();
        deepest = std::max(deepest, depth);
        if (v->is_structured())
            for (const auto& child : *v) todo.emplace_back(&child, depth + 1);
    }
    return deepest;
}

// HF's index of an 11-billion-parameter model is ~50 KB; a larger "index" is refused unread.
constexpr uint64_t kMaxIndexBytes = uint64_t{64} << 20;

}  // namespace

SafetensorsIndex::SafetensorsIndex(const std::string& index_path) : path_(index_path) {
    struct stat st {};
    if (::stat(index_path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > kMaxIndexBytes)
        throw FileError(index_path, "is " + std::to_string(st.st_size) + " bytes, too large for a safetensors index (limit 64 MiB)");
    const std::string text = read_file(index_path);
    // nlohmann stops at a NUL byte as if the input ended there; JSON text never holds one.
    if (text.find('\0') != std::string::npos) throw FileError(index_path, "is not valid JSON: it contains a NUL byte");
    nlohmann::json index;
    try {
        index = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        std::string why = e.what();
        auto bracket = why.find("] ");
        throw FileError(index_path, "is not valid JSON: " + (bracket == std::string::npos ? why : why.substr(bracket + 2)));
    }
    if (!index.is_object()) throw FileError(index_path, "is not a JSON object");

    if (auto it = index.find("metadata"); it != index.end() && !it->is_null()) {
        if (!it->is_object()) throw FileError(index_path, "'metadata' is not an object");
        for (const auto& [key, value] : it->items()) {
            // dump() recurses: a value nested thousands deep would overflow the stack.
            if (json_depth(value) > 64) throw FileError(index_path, "'metadata' value " + quote_name(key) + " is nested too deeply");
            metadata_[key] = value.is_string() ? value.get<std::string>() : value.dump();
        }
    }

    auto weight_map = index.find("weight_map");
    if (weight_map == index.end()) throw FileError(index_path, "has no 'weight_map'");
    if (!weight_map->is_object()) throw FileError(index_path, "'weight_map' is not an object");
    if (weight_map->empty()) throw FileError(index_path, "'weight_map' lists no tensors");

    std::map<std::string, std::vector<std::string>> names_by_shard;  // shard file -> tensor names
    for (const auto& [name, shard] : weight_map->items()) {
        if (!shard.is_string())
            throw FileError(index_path, "'weight_map' entry for " + quote_name(name) + " is not a file name");
        const std::string shard_name = shard.get<std::string>();
        if (!is_safe_shard_name(shard_name))
            throw FileError(index_path, "'weight_map' maps " + quote_name(name) + " to " + quote_name(shard_name) +
                                            ", which is not a file inside the checkpoint folder");
        names_by_shard[shard_name].push_back(name);
    }

    const std::string folder = folder_of(index_path);
    for (const auto& [shard_name, names] : names_by_shard) {
        const std::string shard_path = join_path(folder, shard_name);
        if (!is_file(shard_path))
            throw FileError(index_path, "shard " + shard_path + " (holding " + quote_name(names.front()) + ") does not exist");
        shards_.push_back(std::make_unique<SafetensorsFile>(shard_path));
        const SafetensorsFile& file = *shards_.back();
        for (const std::string& name : names) {
            if (!file.contains(name))
                throw FileError(index_path, "maps " + quote_name(name) + " to shard " + shard_path + ", which does not contain it");
            tensors_[name] = ShardedTensor{&file, &file.entry(name)};
        }
    }
}

bool SafetensorsIndex::contains(const std::string& name) const { return tensors_.count(name) != 0; }

const ShardedTensor& SafetensorsIndex::find(const std::string& name) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw FileError(path_, "has no tensor named " + quote_name(name));
    return it->second;
}

torch::Tensor SafetensorsIndex::load(const std::string& name, torch::Dtype dtype) const {
    return find(name).file->load(name, dtype);
}

torch::Tensor SafetensorsIndex::view(const std::string& name) const { return find(name).file->view(name); }

}  // namespace sumlab
