// The event file writer: CRC-32C, TFRecord framing and the few protobuf messages TensorBoard reads
// (tensorflow/core/util/event.proto, core/framework/summary.proto, tensor.proto, tensor_shape.proto).
#include "engine/training/tensorboard.h"

#include "base/errors.h"

#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sys/stat.h>
#include <unistd.h>

namespace sumlab {

namespace {

// CRC-32C one byte at a time from a 256-entry table of the reflected polynomial.
constexpr std::array<uint32_t, 256> make_crc32c_table() {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        t[i] = c;
    }
    return t;
}
constexpr std::array<uint32_t, 256> kCrc32cTable = make_crc32c_table();

// ---- protobuf wire format: varint (type 0), fixed64 (1), length-delimited (2), fixed32 (5) ----
void put_varint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}
void put_key(std::string& out, uint32_t field, uint32_t wire_type) { put_varint(out, (uint64_t{field} << 3) | wire_type); }
void put_fixed(std::string& out, uint64_t bits, int bytes) {  // little-endian, whatever the host's order
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}
void put_double(std::string& out, uint32_t field, double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    put_key(out, field, 1);
    put_fixed(out, bits, 8);
}
void put_float(std::string& out, uint32_t field, float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    put_key(out, field, 5);
    put_fixed(out, bits, 4);
}
void put_int64(std::string& out, uint32_t field, int64_t v) {  // proto3: a zero is not written
    if (v == 0) return;
    put_key(out, field, 0);
    put_varint(out, static_cast<uint64_t>(v));
}
void put_bytes(std::string& out, uint32_t field, const std::string& bytes) {  // strings and embedded messages
    put_key(out, field, 2);
    put_varint(out, bytes.size());
    out += bytes;
}

// Field numbers of the messages written.
enum : uint32_t {
    kEventWallTime = 1, kEventStep = 2, kEventFileVersion = 3, kEventSummary = 5, kEventSourceMetadata = 10,
    kSourceMetadataWriter = 1,
    kSummaryValue = 1,
    kValueTag = 1, kValueSimpleValue = 2, kValueTensor = 8, kValueMetadata = 9,
    kMetadataPluginData = 1, kPluginDataPluginName = 1,
    kTensorDtype = 1, kTensorShape = 2, kTensorStringVal = 8,
    kShapeDim = 2, kDimSize = 1,
    kPluginDataContent = 2,
    // tensorboard/plugins/hparams: plugin_data.proto, api.proto; google/protobuf/struct.proto's Value.
    kHParamsExperiment = 2, kHParamsSessionStartInfo = 3, kHParamsSessionEndInfo = 4,
    kExperimentHParamInfos = 4, kHParamInfoName = 1, kHParamInfoType = 4,
    kSessionStartInfoHParams = 1, kMapKey = 1, kMapValue = 2, kSessionEndInfoStatus = 1,
    kValueNumber = 2, kValueString = 3,
};
constexpr uint64_t kDtString = 7;  // tensorflow DataType DT_STRING
constexpr uint64_t kHParamString = 1, kHParamFloat64 = 3, kStatusSuccess = 1;  // api.proto's DataType, Status

std::string hostname() {
    char name[256] = "";
    if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
    return name;
}

// mkdir -p.
void make_dirs(const std::string& dir) {
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos != dir.size() && dir[pos] != '/') continue;
        const std::string part = dir.substr(0, pos);
        struct stat st {};
        if (::mkdir(part.c_str(), 0777) != 0 && !(errno == EEXIST && ::stat(part.c_str(), &st) == 0 && S_ISDIR(st.st_mode)))
            throw FileError(part, std::string("cannot create the TensorBoard folder: ") + std::strerror(errno));
    }
}

// The counter of tensorboard's EventFileWriter (_global_uid): files opened by this process so far.
std::atomic<int> g_event_files{0};

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < size; ++i) c = kCrc32cTable[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t size) {
    const uint32_t c = crc32c(data, size);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string default_logging_dir(const std::string& output_dir) {
    static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    char stamp[32];
    // Not strftime's %b: the GUI runs under the user's locale, Python's datetime under C's.
    std::snprintf(stamp, sizeof stamp, "%s%02d_%02d-%02d-%02d", months[local.tm_mon], local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec);
    return output_dir + "/runs/" + stamp + "_" + hostname();
}

std::string resolve_logging_dir(const std::optional<std::string>& logging_dir, const std::string& output_dir) {
    if (!logging_dir || logging_dir->empty()) return default_logging_dir(output_dir);
    const std::string& dir = *logging_dir;
    const char* home = std::getenv("HOME");
    if (home && (dir == "~" || dir.rfind("~/", 0) == 0)) return home + dir.substr(1);  // os.path.expanduser
    return dir;
}

std::string tensorboard_tag(const std::string& key) {
    if (key.rfind("eval_", 0) == 0) return "eval/" + key.substr(5);
    if (key.rfind("test_", 0) == 0) return "test/" + key.substr(5);
    return "train/" + key;
}

TensorBoardWriter::TensorBoardWriter(const std::string& log_dir) : log_dir_(log_dir) {
    make_dirs(log_dir);
    char name[512];
    std::snprintf(name, sizeof name, "events.out.tfevents.%010lld.%s.%ld.%d", static_cast<long long>(std::time(nullptr)), hostname().c_str(),
                  static_cast<long>(::getpid()), g_event_files++);
    path_ = log_dir + (log_dir.empty() || log_dir.back() == '/' ? "" : "/") + name;
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_) throw FileError(path_, std::string("cannot create the TensorBoard event file: ") + std::strerror(errno));
    std::string fields;
    put_bytes(fields, kEventFileVersion, "brain.Event:2");
    std::string source;
    put_bytes(source, kSourceMetadataWriter, "sumlab");
    put_bytes(fields, kEventSourceMetadata, source);
    write_event(fields);
}

TensorBoardWriter::~TensorBoardWriter() {
    if (file_) std::fclose(file_);
}

void TensorBoardWriter::write_event(const std::string& fields_after_wall_time) {
    const double wall_time = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::string event;
    put_double(event, kEventWallTime, wall_time);
    event += fields_after_wall_time;
    // TFRecord: length (uint64 LE), masked CRC of those 8 bytes, the data, masked CRC of the data.
    std::string record;
    put_fixed(record, event.size(), 8);
    put_fixed(record, masked_crc32c(record.data(), 8), 4);
    record += event;
    put_fixed(record, masked_crc32c(event.data(), event.size()), 4);
    if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() || std::fflush(file_) != 0)
        throw FileError(path_, std::string("cannot write the TensorBoard event file: ") + std::strerror(errno));
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
    std::string v;
    put_bytes(v, kValueTag, tag);
    put_float(v, kValueSimpleValue, static_cast<float>(value));
    write_summary(v, step);
}

// An Event{step, summary: Summary{value: [v]}} record.
void TensorBoardWriter::write_summary(const std::string& value, int64_t step) {
    std::string summary;
    put_bytes(summary, kSummaryValue, value);
    std::string fields;
    put_int64(fields, kEventStep, step);
    put_bytes(fields, kEventSummary, summary);
    write_event(fields);
}

void TensorBoardWriter::add_text(const std::string& tag, const std::string& text, int64_t step) {
    std::string plugin;
    put_bytes(plugin, kPluginDataPluginName, "text");  // content: TextPluginData(version=0), empty when serialised
    std::string metadata;
    put_bytes(metadata, kMetadataPluginData, plugin);
    std::string dim, shape, tensor;
    put_int64(dim, kDimSize, 1);
    put_bytes(shape, kShapeDim, dim);
    put_key(tensor, kTensorDtype, 0);
    put_varint(tensor, kDtString);
    put_bytes(tensor, kTensorShape, shape);
    put_bytes(tensor, kTensorStringVal, text);
    std::string v;
    put_bytes(v, kValueTag, tag + "/text_summary");
    put_bytes(v, kValueTensor, tensor);
    put_bytes(v, kValueMetadata, metadata);
    write_summary(v, step);
}

void TensorBoardWriter::add_hparams(const nlohmann::json& hparams) {
    std::string infos, start;
    for (const auto& item : hparams.items()) {
        const nlohmann::json& v = item.value();
        std::string value;  // google.protobuf.Value: a oneof, so zeros and empty strings are written too
        if (v.is_number() || v.is_boolean()) put_double(value, kValueNumber, v.is_boolean() ? double(v.get<bool>()) : v.get<double>());
        else put_bytes(value, kValueString, v.is_string() ? v.get<std::string>() : v.is_null() ? "None" : v.dump());
        std::string entry;
        put_bytes(entry, kMapKey, item.key());
        put_bytes(entry, kMapValue, value);
        put_bytes(start, kSessionStartInfoHParams, entry);
        std::string info;
        put_bytes(info, kHParamInfoName, item.key());
        put_key(info, kHParamInfoType, 0);
        put_varint(info, v.is_number() || v.is_boolean() ? kHParamFloat64 : kHParamString);
        put_bytes(infos, kExperimentHParamInfos, info);
    }
    std::string end;
    put_key(end, kSessionEndInfoStatus, 0);
    put_varint(end, kStatusSuccess);
    // HParamsPluginData{version 0 (not written), one of the three} in each summary's metadata.
    auto summary = [](const char* tag, uint32_t field, const std::string& message) {
        std::string content, plugin, metadata, v;
        put_bytes(content, field, message);
        put_bytes(plugin, kPluginDataPluginName, "hparams");
        put_bytes(plugin, kPluginDataContent, content);
        put_bytes(metadata, kMetadataPluginData, plugin);
        put_bytes(v, kValueTag, tag);
        put_bytes(v, kValueMetadata, metadata);
        return v;
    };
    // add_hparams' run_name: str(time.time()), the shortest text that reads back as the same double.
    char name[64];
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    *std::to_chars(name, name + sizeof name - 1, now).ptr = '\0';
    TensorBoardWriter run(log_dir_ + (log_dir_.empty() || log_dir_.back() == '/' ? "" : "/") + name);
    run.write_summary(summary("_hparams_/experiment", kHParamsExperiment, infos), 0);
    run.write_summary(summary("_hparams_/session_start_info", kHParamsSessionStartInfo, start), 0);
    run.write_summary(summary("_hparams_/session_end_info", kHParamsSessionEndInfo, end), 0);
}

void TensorBoardWriter::add_logs(const nlohmann::json& line) {
    if (!line.is_object() || !line.contains("step") || !line["step"].is_number_integer()) return;
    const int64_t step = line["step"].get<int64_t>();
    for (const auto& item : line.items()) {
        if (item.key() == "step" || item.key() == "max_steps" || !item.value().is_number()) continue;
        add_scalar(tensorboard_tag(item.key()), item.value().get<double>(), step);
    }
}

}  // namespace sumlab
