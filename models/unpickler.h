// The restricted unpickler behind load_torch_state_dict (torch_archive.h): a strict interpreter for the subset of
// pickle protocol 2 that torch.save writes for a state dict (archive/data.pkl). It knows five globals
// (OrderedDict, _rebuild_tensor_v2, _rebuild_parameter and the typed storages) and calls none of them by name
// lookup: each is a fixed C++ action, so no byte of the file can make it run code. Stack, memo, mark depth, value
// count, dimensions and GLOBAL line length are bounded; anything unexpected is a FileError naming the byte.
// It only describes what to load (storages and tensor views); torch_archive.cpp reads the records.
//
// Internal to models/: include it from torch_archive.cpp and its tests only.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sumlab::pickle {

// `s` in quotes for an error message, cut to its first 200 bytes.
std::string quote_name(const std::string& s);

// The values a state-dict pickle can build.
enum class Kind { none, boolean, integer, floating, string, tuple, list, dict, global, storage, tensor };

// "None", "bool", "int", "float", "str", "tuple", ...: Python's names, for error messages.
const char* kind_name(Kind k);

// The only globals a state dict may name; each is interpreted by fixed code in unpickler.cpp.
enum class Global { ordered_dict, rebuild_tensor_v2, rebuild_parameter, storage_type };

struct Value {
    Kind kind = Kind::none;
    int64_t integer = 0;            // integer; boolean as 0/1; storage and tensor: index into their tables
    double floating = 0;
    std::string text;               // string; global: "module.name"
    Global global = Global::ordered_dict;
    torch::Dtype storage_dtype = torch::kFloat32;  // global == storage_type
    std::vector<Value*> items;      // tuple, list; dict: key, value, key, value... in insertion order
    std::unordered_map<std::string, size_t> dict_index;  // dict: key text -> position of its key in items
};

// A storage the pickle names (a persistent id): record data/<key> of numel elements of dtype.
struct StorageRef {
    std::string key;  // the record is data/<key>
    torch::Dtype dtype;
    int64_t numel;
};

// A tensor: a strided view of storages()[storage], checked to lie inside it.
struct TensorRef {
    size_t storage;
    int64_t offset;
    std::vector<int64_t> sizes;
    std::vector<int64_t> strides;
};

// One run over one data.pkl; `data` must outlive it, and so must the Unpickler the values run() returns.
class Unpickler {
public:
    Unpickler(std::string path, const uint8_t* data, size_t size) : path_(std::move(path)), data_(data), size_(size) {}

    // Runs the pickle to STOP and returns the object it built.
    const Value* run();

    const std::vector<StorageRef>& storages() const { return storages_; }
    const std::vector<TensorRef>& tensors() const { return tensors_; }

private:
    [[noreturn]] void fail(const std::string& problem) const;

    // Reading the pickle's bytes.
    const uint8_t* take(size_t n);
    template <typename T>
    T read_le();
    std::string read_text(size_t n, const char* what);
    std::string read_line();

    // The value arena, the stack, its MARKs and the memo, each bounded.
    Value* make(Kind kind);
    Value* make_integer(int64_t v);
    Value* make_string(std::string s);
    Value* make_tuple(std::vector<Value*> items);
    size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }
    void push(Value* v);
    Value* pop();
    Value* top();
    std::vector<Value*> pop_mark();
    void memo_put(uint64_t index, Value* v);
    Value* memo_get(uint64_t index);

    // The opcodes by group; each returns false for an opcode not in its group.
    bool run_structure_op(uint8_t op);  // PROTO, FRAME, MARK, empty containers, tuples
    bool run_scalar_op(uint8_t op);     // strings, ints, floats, bools, None
    bool run_memo_op(uint8_t op);       // BINPUT, LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET
    bool run_object_op(uint8_t op);     // GLOBAL, STACK_GLOBAL, REDUCE, BUILD, SETITEM(S), APPEND(S), BINPERSID
    [[noreturn]] void fail_unknown_opcode(uint8_t op) const;

    // What the allowed globals do.
    Value* resolve_global(const std::string& module, const std::string& name);
    void set_item(Value* dict, Value* key, Value* value);
    Value* reduce(Value* callable, Value* args);
    void build(Value* object, Value* state);
    Value* persistent_load(Value* pid);
    Value* rebuild_tensor(const std::vector<Value*>& args);
    void expect_kind(const Value* v, Kind kind, const char* what) const;
    std::vector<int64_t> int_tuple(const Value* v, const char* what);

    std::string path_;
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    size_t op_pos_ = 0;  // where the opcode being run starts, for error messages
    std::vector<std::unique_ptr<Value>> arena_;  // owns every value; the graph holds plain pointers
    std::vector<Value*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, Value*> memo_;
    std::vector<StorageRef> storages_;
    std::map<std::string, size_t> storage_by_key_;
    std::vector<TensorRef> tensors_;
};

}  // namespace sumlab::pickle
