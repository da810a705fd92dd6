// Reads torch.save zip archives (see torch_archive.h).
// LibTorch's PyTorchStreamReader opens the zip and hands out records by name (it strips the archive's
// top folder, whose name varies); our own read of the zip directory checks the sizes it claims first.
// data.pkl is read by the restricted unpickler (unpickler.h), which only describes the storages and
// tensor views. Tensors are materialized afterwards, loading each storage record once and dropping it
// after its last tensor, so peak memory is the result plus the largest storage.
#include "models/torch_archive.h"

#include "models/unpickler.h"
#include "base/errors.h"

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "torch.save storages are read as little-endian bytes: little-endian hosts only"
#endif

namespace sumlab {

namespace {

using pickle::Kind;
using pickle::kind_name;
using pickle::quote_name;
using pickle::StorageRef;
using pickle::TensorRef;
using pickle::Value;

constexpr size_t kMaxPickleBytes = size_t{64} << 20;  // a state dict's data.pkl is ~250 bytes per tensor

// The first line of a LibTorch error, without its C++ backtrace.
std::string torch_problem(const std::exception& e) {
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    std::string why = c10_error ? c10_error->what_without_backtrace() : e.what();
    auto newline = why.find('\n');
    return newline == std::string::npos ? why : why.substr(0, newline);
}

// torch.save archives are zips; older (pre-1.6) files start with a pickle instead.
void check_zip_magic(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path, "cannot open: " + std::string(std::strerror(errno)));
    char magic[4] = {};
    in.read(magic, sizeof magic);
    const std::streamsize got = in.gcount();
    if (got == 4 && std::memcmp(magic, "PK\x03\x04", 4) == 0) return;
    if (got >= 1 && static_cast<unsigned char>(magic[0]) == 0x80)
        throw FileError(path, "is a legacy (pre-1.6) torch.save file, which is not supported; re-save it with "
                              "torch.save from PyTorch 1.6 or later, or convert it to safetensors");
    throw FileError(path, "is not a torch.save zip archive");
}

// The uncompressed size each zip entry claims, read from the central directory before any record
// is: PyTorchStreamReader allocates that many bytes up front, so a forged size would be a huge
// allocation. Keys are names without the archive's top folder, as PyTorchStreamReader uses them.
// Throws FileError when the directory is not well formed.
std::map<std::string, uint64_t> zip_record_sizes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path, "cannot open: " + std::string(std::strerror(errno)));
    in.seekg(0, std::ios::end);
    const auto file_size = static_cast<uint64_t>(in.tellg());
    auto read_at = [&](uint64_t pos, size_t n) {
        std::string buf(n, '\0');
        if (pos > file_size || n > file_size - pos) throw FileError(path, "zip directory points past the end of the file");
        in.seekg(static_cast<std::streamoff>(pos));
        in.read(buf.data(), static_cast<std::streamsize>(n));
        if (static_cast<size_t>(in.gcount()) != n) throw FileError(path, "cannot read the zip directory");
        return buf;
    };
    auto le = [](const std::string& b, size_t at, int bytes) {
        uint64_t v = 0;
        for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
        return v;
    };
    // End of central directory: 22 bytes plus a comment of up to 64 KiB, found from the end.
    const size_t tail_size = static_cast<size_t>(std::min<uint64_t>(file_size, 22 + 65535));
    const std::string tail = read_at(file_size - tail_size, tail_size);
    size_t eocd = std::string::npos;
    for (size_t i = tail_size >= 22 ? tail_size - 22 + 1 : 0; i-- > 0;)
        if (le(tail, i, 4) == 0x06054b50) { eocd = i; break; }
    if (eocd == std::string::npos) throw FileError(path, "is not a readable torch.save archive: no zip end-of-directory record");
    uint64_t entries = le(tail, eocd + 10, 2);
    uint64_t cd_size = le(tail, eocd + 12, 4);
    uint64_t cd_offset = le(tail, eocd + 16, 4);
    if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {  // zip64
        const uint64_t eocd_pos = file_size - tail_size + eocd;
        if (eocd_pos < 20) throw FileError(path, "is not a readable torch.save archive: zip64 locator missing");
        const std::string locator = read_at(eocd_pos - 20, 20);
        if (le(locator, 0, 4) != 0x07064b50) throw FileError(path, "is not a readable torch.save archive: zip64 locator missing");
        const std::string z = read_at(le(locator, 8, 8), 56);
        if (le(z, 0, 4) != 0x06064b50) throw FileError(path, "is not a readable torch.save archive: bad zip64 directory record");
        entries = le(z, 32, 8);
        cd_size = le(z, 40, 8);
        cd_offset = le(z, 48, 8);
    }
    if (cd_size > file_size || entries > cd_size / 46)
        throw FileError(path, "is not a readable torch.save archive: the zip directory does not fit in the file");
    if (entries == 0) throw FileError(path, "is not a readable torch.save archive: the zip archive is empty");
    const std::string cd = read_at(cd_offset, static_cast<size_t>(cd_size));
    std::map<std::string, uint64_t> sizes;
    size_t at = 0;
    for (uint64_t e = 0; e < entries; ++e) {
        if (at + 46 > cd.size() || le(cd, at, 4) != 0x02014b50)
            throw FileError(path, "is not a readable torch.save archive: zip directory entry " + std::to_string(e) + " is damaged");
        const uint64_t method = le(cd, at + 10, 2);
        uint64_t comp = le(cd, at + 20, 4), uncomp = le(cd, at + 24, 4);
        const size_t name_len = le(cd, at + 28, 2), extra_len = le(cd, at + 30, 2), comment_len = le(cd, at + 32, 2);
        if (at + 46 + name_len + extra_len + comment_len > cd.size())
            throw FileError(path, "is not a readable torch.save archive: zip directory entry " + std::to_string(e) + " is damaged");
        std::string name = cd.substr(at + 46, name_len);
        // The zip64 extra field holds the real sizes of entries whose 32-bit fields are 0xFFFFFFFF.
        for (size_t x = at + 46 + name_len; x + 4 <= at + 46 + name_len + extra_len;) {
            const uint64_t id = le(cd, x, 2), len = le(cd, x + 2, 2);
            if (x + 4 + len > at + 46 + name_len + extra_len) break;
            if (id == 0x0001) {
                size_t f = x + 4;
                if (uncomp == 0xFFFFFFFF && f + 8 <= x + 4 + len) { uncomp = le(cd, f, 8); f += 8; }
                if (comp == 0xFFFFFFFF && f + 8 <= x + 4 + len) comp = le(cd, f, 8);
            }
            x += 4 + len;
        }
        // Stored entries hold their bytes as they are; deflate cannot shrink data more than 1032:1.
        if ((method == 0 && uncomp != comp) || (method != 0 && uncomp / 1032 > comp))
            throw FileError(path, "zip entry " + quote_name(name) + " claims " + std::to_string(uncomp) + " bytes from " +
                                      std::to_string(comp) + " stored ones (a damaged or forged archive)");
        // The local header must be where the directory says, name the same entry, and leave room
        // for the data (zip64 offsets are left to the reader).
        const uint64_t local = le(cd, at + 42, 4);
        if (local != 0xFFFFFFFF) {
            const std::string header = read_at(local, 30);
            const uint64_t local_name_len = le(header, 26, 2), local_extra_len = le(header, 28, 2);
            if (le(header, 0, 4) != 0x04034b50 || local_name_len != name_len || read_at(local + 30, name_len) != name ||
                local + 30 + local_name_len + local_extra_len + comp > file_size)
                throw FileError(path, "is not a readable torch.save archive: the zip entry " + quote_name(name) +
                                          " does not match its local header");
        }
        const size_t slash = name.find('/');
        const std::string key = slash == std::string::npos ? name : name.substr(slash + 1);
        sizes[key] = std::max(sizes[key], uncomp);
        at += 46 + name_len + extra_len + comment_len;
    }
    return sizes;
}

std::pair<at::DataPtr, size_t> read_record(caffe2::serialize::PyTorchStreamReader& reader, const std::string& path,
                                           const std::string& record) {
    try {
        auto [data, size] = reader.getRecord(record);
        return {std::move(data), size};
    } catch (const std::exception& e) {
        throw FileError(path, "cannot read record " + record + ": " + torch_problem(e));
    }
}

bool is_float(torch::Dtype dtype) { return c10::isFloatingType(dtype); }

using Reader = caffe2::serialize::PyTorchStreamReader;

// The uncompressed size the zip directory claims for `record`; 0 when it lists no such entry.
uint64_t claimed_size(const std::map<std::string, uint64_t>& record_sizes, const std::string& record) {
    auto it = record_sizes.find(record);
    return it == record_sizes.end() ? uint64_t{0} : it->second;
}

// LibTorch's reader on the archive, once it is known to hold data.pkl and (if it says) little-endian data.
std::unique_ptr<Reader> open_reader(const std::string& path) {
    std::unique_ptr<Reader> reader;
    bool has_pickle = false;
    bool has_byteorder = false;
    try {
        reader = std::make_unique<Reader>(path);
        has_pickle = reader->hasRecord("data.pkl");
        has_byteorder = reader->hasRecord("byteorder");
    } catch (const std::exception& e) {
        throw FileError(path, "is not a readable torch.save archive: " + torch_problem(e));
    }
    if (!has_pickle) throw FileError(path, "has no data.pkl record (not a torch.save archive of a state dict)");
    if (has_byteorder) {
        auto [bytes, size] = read_record(*reader, path, "byteorder");
        const std::string order = size > 0 ? std::string(static_cast<const char*>(bytes.get()), size) : std::string();
        if (order != "little") throw FileError(path, "stores " + quote_name(order) + "-endian data; only little-endian is supported");
    }
    return reader;
}

// The bytes of storage `s` (record data/<key>, first needed for the tensor `holder`): present, of the size its
// elements need (checked in the zip directory before reading, since the reader allocates what the zip claims,
// and again after), and only 0 or 1 for bool.
at::DataPtr read_storage(Reader& reader, const std::string& path, const std::map<std::string, uint64_t>& record_sizes,
                         const StorageRef& s, const std::string& holder) {
    // Cannot overflow: persistent_load checked numel * element size.
    const size_t nbytes = static_cast<size_t>(s.numel) * c10::elementSize(s.dtype);
    const std::string record = "data/" + s.key;
    bool present = false;
    try {
        present = reader.hasRecord(record);
    } catch (const std::exception& e) {
        throw FileError(path, "cannot look up record " + record + ": " + torch_problem(e));
    }
    if (!present) throw FileError(path, "storage record " + record + " (holding " + quote_name(holder) + ") is missing");
    const auto size_problem = [&](uint64_t bytes) {
        return FileError(path, "storage record " + record + " has " + std::to_string(bytes) + " bytes, but " +
                                   std::to_string(s.numel) + " " + c10::toString(s.dtype) + " elements need " + std::to_string(nbytes));
    };
    if (claimed_size(record_sizes, record) != nbytes) throw size_problem(claimed_size(record_sizes, record));
    auto [bytes, size] = read_record(reader, path, record);
    if (size != nbytes) throw size_problem(size);
    if (s.dtype == torch::kBool) {
        const auto* b = static_cast<const uint8_t*>(bytes.get());
        for (size_t i = 0; i < size; ++i)
            if (b[i] > 1) throw FileError(path, "storage record " + record + " is bool but holds the byte " + std::to_string(b[i]));
    }
    return std::move(bytes);
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> load_torch_state_dict(const std::string& path, torch::Dtype dtype) {
    if (!is_float(dtype))
        throw std::invalid_argument("load_torch_state_dict: dtype must be a floating-point type, not " +
                                    std::string(c10::toString(dtype)));
    check_zip_magic(path);
    // Our own read of the zip directory comes first: it refuses forged sizes before the reader could
    // allocate them, and a directory the reader would choke on (LibTorch 1.13 leaks its zip state
    // when its constructor throws).
    const std::map<std::string, uint64_t> record_sizes = zip_record_sizes(path);
    const std::unique_ptr<Reader> reader = open_reader(path);
    if (claimed_size(record_sizes, "data.pkl") > kMaxPickleBytes)
        throw FileError(path, "data.pkl is " + std::to_string(claimed_size(record_sizes, "data.pkl")) +
                                  " bytes, more than a state dict needs");
    auto [data_pkl, pickle_size] = read_record(*reader, path, "data.pkl");
    if (pickle_size > kMaxPickleBytes)
        throw FileError(path, "data.pkl is " + std::to_string(pickle_size) + " bytes, more than a state dict needs");
    pickle::Unpickler unpickler(path, static_cast<const uint8_t*>(data_pkl.get()), pickle_size);
    const Value* root = unpickler.run();
    if (root->kind != Kind::dict)
        throw FileError(path, std::string("data.pkl holds a value of type ") + kind_name(root->kind) +
                                  ", not a state dict (a dict of tensors)");

    struct Named {
        const std::string* name;
        const TensorRef* tensor;
    };
    std::vector<Named> named;
    const auto& storages = unpickler.storages();
    std::vector<size_t> uses(storages.size(), 0);
    for (size_t i = 0; i < root->items.size(); i += 2) {
        const Value* key = root->items[i];
        const Value* value = root->items[i + 1];
        if (key->kind != Kind::string) throw FileError(path, "data.pkl: a state dict key is not a string");
        if (value->kind != Kind::tensor)
            throw FileError(path, "data.pkl: state dict entry " + quote_name(key->text) + " has type " + kind_name(value->kind) +
                                      ", not tensor");
        const TensorRef& t = unpickler.tensors()[static_cast<size_t>(value->integer)];
        named.push_back({&key->text, &t});
        ++uses[t.storage];
    }

    // Each storage record is read on first use and released after its last tensor.
    std::vector<at::DataPtr> loaded(storages.size());
    std::vector<std::pair<std::string, torch::Tensor>> out;
    out.reserve(named.size());
    torch::NoGradGuard no_grad;
    for (const Named& n : named) {
        const TensorRef& t = *n.tensor;
        const StorageRef& s = storages[t.storage];
        const torch::Dtype target = is_float(s.dtype) ? dtype : s.dtype;
        torch::Tensor result = torch::empty(t.sizes, torch::TensorOptions().dtype(target));
        if (result.numel() > 0) {
            if (!loaded[t.storage]) loaded[t.storage] = read_storage(*reader, path, record_sizes, s, *n.name);
            const torch::Tensor storage =
                torch::from_blob(loaded[t.storage].get(), {s.numel}, torch::TensorOptions().dtype(s.dtype));
            result.copy_(storage.as_strided(t.sizes, t.strides, t.offset));
        }
        if (--uses[t.storage] == 0) loaded[t.storage].clear();
        out.emplace_back(*n.name, std::move(result));
    }
    return out;
}

}  // namespace sumlab
