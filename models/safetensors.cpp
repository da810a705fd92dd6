// Reads and writes the safetensors format (see safetensors.h).
// Reading: the file is memory-mapped, and the whole header is validated (types, shapes, offsets, and
// that the tensors tile the data section exactly, as the official Rust reader requires) before any
// tensor byte is read. Writing reproduces Python's safetensors writer byte for byte and streams the
// tensors into a temporary file that is renamed into place, so saving never holds a second copy of
// the model in memory.
#include "models/safetensors.h"

#include "base/errors.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <random>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors stores little-endian data and SumLab maps it directly: little-endian hosts only"
#endif

namespace sumlab {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the official reader's MAX_HEADER_SIZE
constexpr size_t kLengthBytes = sizeof(uint64_t);  // the u64 header length that opens the file

struct DtypeInfo {
    const char* name;  // as written in the header
    torch::Dtype torch_dtype;
    size_t element_size;
    // Position in the Rust crate's Dtype enum (U16, U32, U64, F8 and C64 omitted: LibTorch 1.13
    // has no such tensors). Its writer lays tensors out by descending rank, then by name.
    int layout_rank;
};

const DtypeInfo kDtypes[] = {
    {"BOOL", torch::kBool, 1, 0},     {"U8", torch::kUInt8, 1, 1},   {"I8", torch::kInt8, 1, 2},
    {"I16", torch::kInt16, 2, 3},     {"F16", torch::kFloat16, 2, 4}, {"BF16", torch::kBFloat16, 2, 5},
    {"I32", torch::kInt32, 4, 6},     {"F32", torch::kFloat32, 4, 7}, {"F64", torch::kFloat64, 8, 8},
    {"I64", torch::kInt64, 8, 9},
};
constexpr const char* kDtypeList = "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL";

const DtypeInfo* find_dtype(const std::string& name) {
    for (const auto& d : kDtypes)
        if (name == d.name) return &d;
    return nullptr;
}

const DtypeInfo* find_dtype(torch::Dtype dtype) {
    for (const auto& d : kDtypes)
        if (dtype == d.torch_dtype) return &d;
    return nullptr;
}

std::string errno_text() { return std::strerror(errno); }

// A name from the file, quoted for an error message; absurdly long names are shortened.
std::string quote_name(const std::string& name) {
    constexpr size_t kMaxShown = 200;
    if (name.size() <= kMaxShown) return "'" + name + "'";
    return "'" + name.substr(0, kMaxShown) + "...' (" + std::to_string(name.size()) + " bytes)";
}

// A header value for an error message. dump() recurses, and the header may nest lists thousands
// deep (a 100 MB header allows millions), so nested values are summarised, long ones cut.
std::string shown(const nlohmann::json& v) {
    if (v.is_structured()) {
        bool flat = true;
        for (const auto& item : v) flat = flat && !item.is_structured();
        if (!flat || v.size() > 8) return v.is_array() ? "(a nested or long list)" : "(an object)";
    }
    std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return text.size() <= 120 ? text : text.substr(0, 120) + "...";
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the reader needs only the rest.
std::string json_problem(const nlohmann::json::exception& e) {
    std::string why = e.what();
    auto bracket = why.find("] ");
    return bracket == std::string::npos ? why : why.substr(bracket + 2);
}

// Parses the header text; a key repeated within one object is an error (the format has no
// meaning for it, and readers disagree on which copy wins).
nlohmann::json parse_header(const std::string& path, const char* begin, const char* end) {
    using Event = nlohmann::json::parse_event_t;
    std::vector<std::set<std::string>> open_objects;
    std::string duplicate;
    bool has_duplicate = false;
    auto callback = [&](int, Event event, nlohmann::json& parsed) {
        if (event == Event::object_start) {
            open_objects.emplace_back();
        } else if (event == Event::object_end) {
            open_objects.pop_back();
        } else if (event == Event::key && !has_duplicate) {
            const auto& key = parsed.get_ref<const std::string&>();
            if (!open_objects.back().insert(key).second) {
                duplicate = key;
                has_duplicate = true;
            }
        }
        return true;
    };
    // nlohmann stops at a NUL byte as if the input ended there; JSON text never holds one.
    if (std::memchr(begin, '\0', static_cast<size_t>(end - begin)) != nullptr)
        throw FileError(path, "header is not valid JSON: it contains a NUL byte");
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(begin, end, callback);
    } catch (const nlohmann::json::exception& e) {
        throw FileError(path, "header is not valid JSON: " + json_problem(e));
    }
    if (has_duplicate) throw FileError(path, "header lists the key " + quote_name(duplicate) + " twice");
    if (!header.is_object()) throw FileError(path, "header is not a JSON object");
    return header;
}

const nlohmann::json& require_field(const std::string& path, const std::string& name, const nlohmann::json& entry,
                                    const char* field) {
    auto it = entry.find(field);
    if (it == entry.end()) throw FileError(path, "tensor " + quote_name(name) + " has no " + field);
    return *it;
}

// Checks one header entry against the data section (`data_size` bytes) and returns it.
SafetensorsEntry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& value,
                             size_t data_size) {
    const std::string what = "tensor " + quote_name(name);
    if (!value.is_object()) throw FileError(path, what + ": its header entry is not a JSON object");
    SafetensorsEntry entry;
    entry.name = name;

    const auto& dtype = require_field(path, name, value, "dtype");
    if (!dtype.is_string()) throw FileError(path, what + ": dtype is not a string");
    entry.dtype = dtype.get<std::string>();
    const DtypeInfo* info = find_dtype(entry.dtype);
    if (!info)
        throw FileError(path, what + " has the unknown dtype " + quote_name(entry.dtype) + " (supported: " + kDtypeList + ")");

    const auto& shape = require_field(path, name, value, "shape");
    if (!shape.is_array()) throw FileError(path, what + ": shape is not a list");
    size_t numel = 1;
    bool overflow = false;
    for (const auto& dim : shape) {
        if (!dim.is_number_unsigned()) {
            if (dim.is_number_integer())
                throw FileError(path, what + " has the negative dimension " + dim.dump() + " in its shape");
            throw FileError(path, what + " has the non-integer dimension " + shown(dim) + " in its shape");
        }
        const uint64_t d = dim.get<uint64_t>();
        if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            throw FileError(path, what + " has the dimension " + std::to_string(d) + ", too large for a tensor");
        entry.shape.push_back(static_cast<int64_t>(d));
        overflow = overflow || __builtin_mul_overflow(numel, static_cast<size_t>(d), &numel);
    }
    size_t nbytes = 0;
    if (overflow || __builtin_mul_overflow(numel, info->element_size, &nbytes) ||
        nbytes > static_cast<size_t>(std::numeric_limits<int64_t>::max()))
        throw FileError(path, what + ": shape " + shape_text(entry.shape) + " overflows (its size does not fit in 64 bits)");

    const auto& offsets = require_field(path, name, value, "data_offsets");
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
        throw FileError(path, what + ": data_offsets " + shown(offsets) + " is not [begin, end] with non-negative integers");
    const uint64_t begin = offsets[0].get<uint64_t>();
    const uint64_t end = offsets[1].get<uint64_t>();
    if (begin > end) throw FileError(path, what + ": data_offsets " + offsets.dump() + " ends before it begins");
    if (end > data_size)
        throw FileError(path, what + ": data_offsets " + offsets.dump() + " run past the end of the data section (" +
                                  std::to_string(data_size) + " bytes)");
    if (end - begin != nbytes)
        throw FileError(path, what + ": data_offsets " + offsets.dump() + " hold " + std::to_string(end - begin) +
                                  " bytes, but " + entry.dtype + " " + shape_text(entry.shape) + " needs " +
                                  std::to_string(nbytes));
    entry.begin = static_cast<size_t>(begin);
    entry.end = static_cast<size_t>(end);
    return entry;
}

// The official format requires the tensors to tile the data section: no overlap, no hole, nothing after.
void check_coverage(const std::string& path, const std::vector<SafetensorsEntry>& entries, size_t data_size) {
    std::vector<const SafetensorsEntry*> by_offset;
    by_offset.reserve(entries.size());
    for (const auto& e : entries) by_offset.push_back(&e);
    std::sort(by_offset.begin(), by_offset.end(), [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
        return std::tie(a->begin, a->end, a->name) < std::tie(b->begin, b->end, b->name);
    });
    size_t covered = 0;
    const SafetensorsEntry* previous = nullptr;
    for (const SafetensorsEntry* e : by_offset) {
        if (e->begin < covered)
            throw FileError(path, "tensors " + quote_name(previous->name) + " and " + quote_name(e->name) +
                                      " overlap in the data section");
        if (e->begin > covered)
            throw FileError(path, "bytes " + std::to_string(covered) + " to " + std::to_string(e->begin) +
                                      " of the data section belong to no tensor (a hole before " + quote_name(e->name) + ")");
        covered = e->end;
        previous = e;
    }
    if (covered != data_size)
        throw FileError(path, "the data section has " + std::to_string(data_size) + " bytes but the tensors cover only " +
                                  std::to_string(covered) + " (trailing bytes belong to no tensor)");
}

// A torch bool must hold 0 or 1; any other byte makes later arithmetic undefined.
void check_bool_bytes(const std::string& path, const std::string& name, const uint8_t* bytes, size_t size) {
    for (size_t i = 0; i < size; ++i)
        if (bytes[i] > 1)
            throw FileError(path, "tensor " + quote_name(name) + " is BOOL but holds the byte " + std::to_string(bytes[i]) +
                                      " at element " + std::to_string(i) + " (only 0 and 1 are booleans)");
}

// Writes `path` through a temporary file in the same folder: fsync, rename, fsync of the folder.
// Unless commit() succeeds, the temporary file is removed and `path` is left as it was.
class AtomicFileWriter {
public:
    explicit AtomicFileWriter(std::string path) : path_(std::move(path)) {
        std::random_device rd;
        tmp_ = path_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
        fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd_ < 0) throw FileError(path_, "cannot create temporary file " + tmp_ + ": " + errno_text());
    }
    ~AtomicFileWriter() {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) ::unlink(tmp_.c_str());
    }
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

    void write(const void* data, size_t size) {
        const char* p = static_cast<const char*>(data);
        while (size > 0) {
            ssize_t n = ::write(fd_, p, std::min<size_t>(size, size_t{1} << 30));
            if (n < 0) {
                if (errno == EINTR) continue;
                throw FileError(path_, "write failed: " + errno_text());
            }
            p += n;
            size -= static_cast<size_t>(n);
        }
    }

    void commit() {
        if (::fsync(fd_) != 0) throw FileError(path_, "write failed: " + errno_text());
        int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) throw FileError(path_, "write failed: " + errno_text());
        if (::rename(tmp_.c_str(), path_.c_str()) != 0)
            throw FileError(path_, "cannot rename temporary file into place: " + errno_text());
        committed_ = true;
        auto slash = path_.find_last_of('/');
        std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
        int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            ::fsync(dfd);
            ::close(dfd);
        }
    }

private:
    std::string path_;
    std::string tmp_;
    int fd_ = -1;
    bool committed_ = false;
};

// A JSON string literal exactly as serde_json (the Rust writer) prints it; the name must be UTF-8.
std::string json_string(const std::string& path, const std::string& s, const char* what) {
    try {
        return nlohmann::json(s).dump();
    } catch (const nlohmann::json::exception&) {
        throw FileError(path, std::string(what) + " " + quote_name(s) + " is not valid UTF-8");
    }
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw FileError(path, "cannot open: " + errno_text());
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        std::string why = errno_text();
        ::close(fd);
        throw FileError(path, "cannot read file status: " + why);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        throw FileError(path, "is not a regular file");
    }
    const auto file_size = static_cast<uint64_t>(st.st_size);
    if (file_size < kLengthBytes) {
        ::close(fd);
        throw FileError(path, "is " + std::to_string(file_size) +
                                  " bytes long, too short for a safetensors file (it starts with an 8-byte header length)");
    }
    // Private and writable: a caller writing into a view gets copy-on-write pages, never a crash or a changed file.
    void* map = ::mmap(nullptr, file_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    const std::string map_error = map == MAP_FAILED ? errno_text() : std::string();
    ::close(fd);
    if (map == MAP_FAILED) throw FileError(path, "cannot memory-map: " + map_error);
    mapping_ = std::shared_ptr<void>(map, [file_size](void* p) { ::munmap(p, file_size); });
    map_ = map;
    map_size_ = file_size;

    const auto* bytes = static_cast<const uint8_t*>(map_);
    uint64_t header_size = 0;
    std::memcpy(&header_size, bytes, kLengthBytes);
    if (header_size > kMaxHeaderBytes)
        throw FileError(path, "header length " + std::to_string(header_size) +
                                  " is larger than the 100 MB limit (not a safetensors file, or a corrupt one)");
    if (header_size > map_size_ - kLengthBytes)
        throw FileError(path, "header length " + std::to_string(header_size) + " runs past the end of the file (" +
                                  std::to_string(map_size_) + " bytes)");
    const char* header_begin = reinterpret_cast<const char*>(bytes + kLengthBytes);
    data_ = bytes + kLengthBytes + header_size;
    data_size_ = map_size_ - kLengthBytes - header_size;

    const nlohmann::json header = parse_header(path, header_begin, header_begin + header_size);
    for (const auto& [key, value] : header.items()) {  // nlohmann keeps object keys sorted by name
        if (key == "__metadata__") {
            if (!value.is_object()) throw FileError(path, "__metadata__ is not an object mapping strings to strings");
            for (const auto& [mkey, mvalue] : value.items()) {
                if (!mvalue.is_string())
                    throw FileError(path, "__metadata__ value for " + quote_name(mkey) + " is not a string");
                metadata_[mkey] = mvalue.get<std::string>();
            }
            continue;
        }
        entries_.push_back(parse_entry(path, key, value, data_size_));
    }
    check_coverage(path, entries_, data_size_);
    for (size_t i = 0; i < entries_.size(); ++i) index_[entries_[i].name] = i;
}

SafetensorsFile::~SafetensorsFile() = default;

bool SafetensorsFile::contains(const std::string& name) const { return index_.count(name) != 0; }

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end()) throw FileError(path_, "has no tensor named " + quote_name(name));
    return entries_[it->second];
}

torch::Tensor SafetensorsFile::view(const std::string& name) const {
    const SafetensorsEntry& e = entry(name);
    const DtypeInfo* info = find_dtype(e.dtype);  // checked when the header was read
    const auto options = torch::TensorOptions().dtype(info->torch_dtype);
    const size_t nbytes = e.end - e.begin;
    if (nbytes == 0) return torch::empty(e.shape, options);
    auto* p = const_cast<uint8_t*>(data_ + e.begin);
    if (info->torch_dtype == torch::kBool) check_bool_bytes(path_, name, p, nbytes);
    if (reinterpret_cast<uintptr_t>(p) % info->element_size != 0) {
        torch::Tensor copy = torch::empty(e.shape, options);
        std::memcpy(copy.data_ptr(), p, nbytes);
        return copy;
    }
    return torch::from_blob(p, e.shape, [keep = mapping_](void*) {}, options);
}

torch::Tensor SafetensorsFile::load(const std::string& name, torch::Dtype dtype) const {
    return view(name).to(dtype, /*non_blocking=*/false, /*copy=*/true);
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    struct Item {
        const std::string* name;
        const torch::Tensor* tensor;
        const DtypeInfo* info;
        size_t nbytes;
    };
    std::vector<Item> items;
    items.reserve(tensors.size());
    std::set<std::string> seen;
    for (const auto& [name, tensor] : tensors) {
        if (name == "__metadata__") throw FileError(path, "'__metadata__' is reserved and cannot name a tensor");
        if (!seen.insert(name).second) throw FileError(path, "the tensor name " + quote_name(name) + " appears twice");
        if (!tensor.defined()) throw FileError(path, "tensor " + quote_name(name) + " is undefined");
        if (tensor.layout() != torch::kStrided)
            throw FileError(path, "tensor " + quote_name(name) + " is not dense (sparse tensors cannot be stored)");
        const DtypeInfo* info = find_dtype(tensor.scalar_type());
        if (!info)
            throw FileError(path, "tensor " + quote_name(name) + " has dtype " + std::string(c10::toString(tensor.scalar_type())) +
                                      ", which safetensors cannot store (supported: " + kDtypeList + ")");
        items.push_back({&name, &tensor, info, static_cast<size_t>(tensor.numel()) * info->element_size});
    }
    // The Rust writer's order: descending dtype rank, then name (bytewise, as Rust compares strings).
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
        if (a.info->layout_rank != b.info->layout_rank) return a.info->layout_rank > b.info->layout_rank;
        return *a.name < *b.name;
    });

    std::string header = "{";
    if (!metadata.empty()) {
        header += "\"__metadata__\":{";
        bool first = true;
        for (const auto& [key, value] : metadata) {
            if (!first) header += ',';
            first = false;
            header += json_string(path, key, "metadata key") + ":" + json_string(path, value, "metadata value");
        }
        header += "}";
    }
    size_t offset = 0;
    for (const Item& item : items) {
        if (header.size() > 1) header += ',';
        header += json_string(path, *item.name, "tensor name");
        header += ":{\"dtype\":\"";
        header += item.info->name;
        header += "\",\"shape\":[";
        for (int64_t d = 0; d < item.tensor->dim(); ++d) header += (d ? "," : "") + std::to_string(item.tensor->size(d));
        header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + item.nbytes) + "]}";
        offset += item.nbytes;
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');
    if (header.size() > kMaxHeaderBytes)
        throw FileError(path, "the header would be " + std::to_string(header.size()) + " bytes, over the 100 MB limit");

    torch::NoGradGuard no_grad;
    AtomicFileWriter out(path);
    const uint64_t header_size = header.size();
    out.write(&header_size, sizeof header_size);
    out.write(header.data(), header.size());
    // Crash-test hook (tests/app/tst_train_crash.cpp): hold the half-written file open for a moment
    // so that a SIGKILL lands inside a checkpoint write. Unset in normal use.
    static const bool stall = [] {
        const char* point = std::getenv("SUMLAB_TEST_STALL");
        return point && std::strcmp(point, "safetensors-write") == 0;
    }();
    if (stall) std::this_thread::sleep_for(std::chrono::milliseconds(150));
    for (const Item& item : items) {
        if (item.nbytes == 0) continue;
        // One tensor at a time is copied (only when it is not already contiguous CPU memory).
        const torch::Tensor cpu = item.tensor->to(torch::kCPU).contiguous();
        out.write(cpu.data_ptr(), item.nbytes);
    }
    out.commit();
}

}  // namespace sumlab
