// A sharded safetensors checkpoint as Hugging Face writes it: model.safetensors.index.json
// {"metadata": {"total_size": ...}, "weight_map": {tensor name: shard file name}} beside the shards.
// Opening the index opens (memory-maps and validates) every shard it names, and checks that each
// tensor is really in the shard the index maps it to; afterwards the checkpoint reads like one file.
#pragma once

#include "models/safetensors.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace sumlab {

// Where one tensor of a sharded checkpoint lives; both pointers stay valid while the index lives.
struct ShardedTensor {
    const SafetensorsFile* file = nullptr;
    const SafetensorsEntry* entry = nullptr;
};

// Throws FileError naming the index file for a malformed index, a missing shard, or a tensor its
// shard lacks, and naming the shard for a malformed shard. Tensors present in a shard but absent
// from the weight_map are ignored, as Hugging Face's loader does: the weight_map is authoritative.
class SafetensorsIndex {
public:
    explicit SafetensorsIndex(const std::string& index_path);

    const std::string& path() const { return path_; }
    // The index's "metadata" object; string values as they are, other values as their JSON text
    // (e.g. {"total_size": "1234"}).
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    // Every tensor of the checkpoint, by name (sorted).
    const std::map<std::string, ShardedTensor>& tensors() const { return tensors_; }
    // The opened shards, in the order of their file names.
    const std::vector<std::unique_ptr<SafetensorsFile>>& shards() const { return shards_; }

    bool contains(const std::string& name) const;
    const ShardedTensor& find(const std::string& name) const;  // throws FileError if absent

    // As SafetensorsFile::load / view, from whichever shard holds the tensor.
    torch::Tensor load(const std::string& name, torch::Dtype dtype = torch::kFloat32) const;
    torch::Tensor view(const std::string& name) const;

private:
    std::string path_;
    std::map<std::string, std::string> metadata_;
    std::vector<std::unique_ptr<SafetensorsFile>> shards_;
    std::map<std::string, ShardedTensor> tensors_;
};

}  // namespace sumlab
