// The safetensors format (Hugging Face): u64 little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then raw little-endian tensor data.
// Reading memory-maps the file; every offset and shape is checked before a byte is touched.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace sumlab {

struct SafetensorsEntry {
    std::string name;
    std::string dtype;           // as written in the file: "F32", "F16", "BF16", "I64", ...
    std::vector<int64_t> shape;
    size_t begin = 0;            // byte offsets relative to the start of the data section
    size_t end = 0;
};

// A memory-mapped safetensors file. Throws FileError naming the path for any malformed header.
class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::string& path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::string& path() const { return path_; }
    const std::vector<SafetensorsEntry>& entries() const { return entries_; }  // sorted by name
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    bool contains(const std::string& name) const;
    const SafetensorsEntry& entry(const std::string& name) const;  // throws FileError if absent

    // The tensor converted to `dtype` (a fresh copy that owns its memory, independent of the mapping).
    torch::Tensor load(const std::string& name, torch::Dtype dtype = torch::kFloat32) const;
    // The tensor in its stored dtype, viewing the mapped memory (valid while this object lives).
    // The mapping is private: writing into a view changes memory only, never the file. When the data
    // is not aligned for its dtype (a header not padded to 8 bytes), the result is an aligned copy.
    torch::Tensor view(const std::string& name) const;

private:
    std::string path_;
    // Owns the private (copy-on-write) mapping; every view() holds a copy, so a view stays valid
    // even after this object is gone, and writing into a view never reaches the file.
    std::shared_ptr<void> mapping_;
    void* map_ = nullptr;
    size_t map_size_ = 0;
    const uint8_t* data_ = nullptr;  // start of the data section
    size_t data_size_ = 0;
    std::vector<SafetensorsEntry> entries_;
    std::map<std::string, size_t> index_;
    std::map<std::string, std::string> metadata_;
};

// Writes tensors (any float or integer dtype, made contiguous, stored as their own dtype) with
// the given __metadata__; atomically (temporary file + rename). Names are sorted as Python's writer does.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace sumlab
