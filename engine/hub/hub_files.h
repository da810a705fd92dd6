// Which files of a repository SumLab downloads: for a model what `from_pretrained` of a T5 reads (configs,
// tokenizer files, weights; safetensors preferred, pytorch_model.bin only when there are none), plus a
// PEFT adapter's files; for a dataset every file.
#pragma once

#include <string>
#include <vector>

namespace sumlab::hub {

enum class FileSelection { ModelFiles, AllFiles };

// The files to fetch among `repo_files` (the repository's paths, as its siblings list them), in a stable
// order. A sharded checkpoint yields its index file: its shards come from weight_map (shards_of_index).
std::vector<std::string> select_files(const std::vector<std::string>& repo_files, FileSelection selection);

// True for "model.safetensors.index.json", "pytorch_model.bin.index.json" and their adapter cousins.
bool is_weights_index(const std::string& file);
// The shard files an index's weight_map names (distinct, sorted); throws DataError naming `index_path`.
std::vector<std::string> shards_of_index(const std::string& index_json, const std::string& index_path);

}  // namespace sumlab::hub
