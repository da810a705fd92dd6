// Reads torch.save zip archives (see torch_archive.h).
// LibTorch's PyTorchStreamReader opens the zip and hands out records by name (it strips the archive's
// top folder, whose name varies). data.pkl is read by Unpickler below: a strict interpreter for the
// subset of pickle protocol 2 that torch.save writes for a state dict. It knows five globals
// (OrderedDict, _rebuild_tensor_v2, _rebuild_parameter and the typed storages) and calls none of them
// by name lookup: each is a fixed C++ action, so no byte of the file can make it run code. Stack,
// memo, mark depth and value count are bounded; anything unexpected is a FileError naming the byte.
// Tensors are materialized afterwards, loading each storage record once and dropping it after its
// last tensor, so peak memory is the result plus the largest storage.
#include "models/torch_archive.h"

#include "base/errors.h"

#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "torch.save storages are read as little-endian bytes: little-endian hosts only"
#endif

namespace sumlab {

namespace {

constexpr size_t kMaxPickleBytes = size_t{64} << 20;  // a state dict's data.pkl is ~250 bytes per tensor
constexpr size_t kMaxStack = size_t{1} << 20;
constexpr size_t kMaxMemo = size_t{1} << 22;
constexpr size_t kMaxMarks = 1024;
constexpr size_t kMaxValues = size_t{1} << 21;  // ~20 per tensor: room for 100k tensors
constexpr size_t kMaxDims = 64;
constexpr size_t kMaxGlobalLine = 256;

std::string quote_name(const std::string& s) {
    constexpr size_t kMaxShown = 200;
    if (s.size() <= kMaxShown) return "'" + s + "'";
    return "'" + s.substr(0, kMaxShown) + "...' (" + std::to_string(s.size()) + " bytes)";
}

// The first line of a LibTorch error, without its C++ backtrace.
std::string torch_problem(const std::exception& e) {
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    std::string why = c10_error ? c10_error->what_without_backtrace() : e.what();
    auto newline = why.find('\n');
    return newline == std::string::npos ? why : why.substr(0, newline);
}

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_utf8(const std::string& s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        const unsigned char c = *p++;
        if (c < 0x80) continue;
        int extra = 0;
        uint32_t cp = 0;
        if (c >= 0xC2 && c <= 0xDF) { extra = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { extra = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { extra = 3; cp = c & 0x07; }
        else return false;
        if (end - p < extra) return false;
        for (int i = 0; i < extra; ++i) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        p += extra;
        if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// The values a state-dict pickle can build.

enum class Kind { none, boolean, integer, floating, string, tuple, list, dict, global, storage, tensor };

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::none: return "None";
        case Kind::boolean: return "bool";
        case Kind::integer: return "int";
        case Kind::floating: return "float";
        case Kind::string: return "str";
        case Kind::tuple: return "tuple";
        case Kind::list: return "list";
        case Kind::dict: return "dict";
        case Kind::global: return "global";
        case Kind::storage: return "storage";
        case Kind::tensor: return "tensor";
    }
    return "value";
}

// The only globals a state dict may name; each is interpreted by fixed code below.
enum class Global { ordered_dict, rebuild_tensor_v2, rebuild_parameter, storage_type };

struct StorageClass {
    const char* name;  // torch.<name>
    torch::Dtype dtype;
};
const StorageClass kStorageClasses[] = {
    {"FloatStorage", torch::kFloat32}, {"DoubleStorage", torch::kFloat64}, {"HalfStorage", torch::kFloat16},
    {"BFloat16Storage", torch::kBFloat16}, {"LongStorage", torch::kInt64}, {"IntStorage", torch::kInt32},
    {"ShortStorage", torch::kInt16}, {"CharStorage", torch::kInt8}, {"ByteStorage", torch::kUInt8},
    {"BoolStorage", torch::kBool},
};

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

struct StorageRef {
    std::string key;  // the record is data/<key>
    torch::Dtype dtype;
    int64_t numel;
};

struct TensorRef {
    size_t storage;
    int64_t offset;
    std::vector<int64_t> sizes;
    std::vector<int64_t> strides;
};

// ---------------------------------------------------------------------------------------------

class Unpickler {
public:
    Unpickler(std::string path, const uint8_t* data, size_t size) : path_(std::move(path)), data_(data), size_(size) {}

    // Runs the pickle to STOP and returns the object it built.
    const Value* run();

    const std::vector<StorageRef>& storages() const { return storages_; }
    const std::vector<TensorRef>& tensors() const { return tensors_; }

private:
    [[noreturn]] void fail(const std::string& problem) const {
        throw FileError(path_, "data.pkl, byte " + std::to_string(op_pos_) + ": " + problem);
    }

    const uint8_t* take(size_t n) {
        if (n > size_ - pos_) fail("the pickle is truncated (it ends inside an opcode, before STOP)");
        const uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }
    template <typename T>
    T read_le() {
        T v;
        std::memcpy(&v, take(sizeof v), sizeof v);
        return v;
    }
    std::string read_text(size_t n, const char* what) {
        const auto* p = take(n);
        std::string s(reinterpret_cast<const char*>(p), n);
        if (!is_utf8(s)) fail(std::string(what) + " is not valid UTF-8");
        return s;
    }
    std::string read_line() {
        for (size_t i = pos_; i < size_ && i - pos_ <= kMaxGlobalLine; ++i) {
            if (data_[i] == '\n') {
                std::string s(reinterpret_cast<const char*>(data_ + pos_), i - pos_);
                pos_ = i + 1;
                return s;
            }
        }
        if (size_ - pos_ > kMaxGlobalLine) fail("GLOBAL names a module or attribute longer than 256 bytes");
        fail("the pickle is truncated (it ends inside a GLOBAL opcode)");
    }

    Value* make(Kind kind) {
        if (arena_.size() >= kMaxValues) fail("the pickle builds more than " + std::to_string(kMaxValues) + " values");
        arena_.push_back(std::make_unique<Value>());
        arena_.back()->kind = kind;
        return arena_.back().get();
    }
    Value* make_integer(int64_t v) {
        Value* x = make(Kind::integer);
        x->integer = v;
        return x;
    }
    Value* make_string(std::string s) {
        Value* x = make(Kind::string);
        x->text = std::move(s);
        return x;
    }

    size_t fence() const { return marks_.empty() ? 0 : marks_.back(); }
    void push(Value* v) {
        if (stack_.size() >= kMaxStack) fail("the pickle stack grows beyond " + std::to_string(kMaxStack) + " entries");
        stack_.push_back(v);
    }
    Value* pop() {
        if (stack_.size() <= fence()) fail("stack underflow");
        Value* v = stack_.back();
        stack_.pop_back();
        return v;
    }
    Value* top() {
        if (stack_.size() <= fence()) fail("stack underflow");
        return stack_.back();
    }
    std::vector<Value*> pop_mark() {
        if (marks_.empty()) fail("an opcode needs a MARK but none is open");
        const size_t mark = marks_.back();
        marks_.pop_back();
        std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
        stack_.resize(mark);
        return items;
    }
    void memo_put(uint64_t index, Value* v) {
        if (memo_.size() >= kMaxMemo && memo_.count(index) == 0)
            fail("the pickle memo grows beyond " + std::to_string(kMaxMemo) + " entries");
        memo_[index] = v;
    }
    Value* memo_get(uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " is read before it is written");
        return it->second;
    }

    Value* make_tuple(std::vector<Value*> items) {
        Value* t = make(Kind::tuple);
        t->items = std::move(items);
        return t;
    }
    Value* resolve_global(const std::string& module, const std::string& name);
    void set_item(Value* dict, Value* key, Value* value);
    Value* reduce(Value* callable, Value* args);
    void build(Value* object, Value* state);
    Value* persistent_load(Value* pid);
    Value* rebuild_tensor(const std::vector<Value*>& args);
    void expect_kind(const Value* v, Kind kind, const char* what) {
        if (v->kind != kind)
            fail(std::string(what) + " must be of type " + kind_name(kind) + ", not " + kind_name(v->kind));
    }
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

const Value* Unpickler::run() {
    while (true) {
        op_pos_ = pos_;
        const uint8_t op = *take(1);
        switch (op) {
            case 0x80: {  // PROTO
                const uint8_t version = *take(1);
                if (version > 5) fail("pickle protocol " + std::to_string(version) + " is newer than any known");
                break;
            }
            case 0x95: {  // FRAME: a framing hint only
                const auto frame = read_le<uint64_t>();
                if (frame > size_ - pos_) fail("the pickle is truncated (a FRAME runs past its end)");
                break;
            }
            case '}': push(make(Kind::dict)); break;   // EMPTY_DICT
            case ']': push(make(Kind::list)); break;   // EMPTY_LIST
            case ')': push(make(Kind::tuple)); break;  // EMPTY_TUPLE
            case '(':                                  // MARK
                if (marks_.size() >= kMaxMarks) fail("MARKs nest deeper than " + std::to_string(kMaxMarks));
                marks_.push_back(stack_.size());
                break;
            case 't': push(make_tuple(pop_mark())); break;  // TUPLE
            case 0x85: {                                    // TUPLE1
                Value* a = pop();
                push(make_tuple({a}));
                break;
            }
            case 0x86: {  // TUPLE2
                Value* b = pop();
                Value* a = pop();
                push(make_tuple({a, b}));
                break;
            }
            case 0x87: {  // TUPLE3
                Value* c = pop();
                Value* b = pop();
                Value* a = pop();
                push(make_tuple({a, b, c}));
                break;
            }
            case 'X': push(make_string(read_text(read_le<uint32_t>(), "a BINUNICODE string"))); break;
            case 0x8c: push(make_string(read_text(*take(1), "a SHORT_BINUNICODE string"))); break;
            case 0x8d: {  // BINUNICODE8
                const auto n = read_le<uint64_t>();
                if (n > size_ - pos_) fail("the pickle is truncated (a BINUNICODE8 string runs past its end)");
                push(make_string(read_text(static_cast<size_t>(n), "a BINUNICODE8 string")));
                break;
            }
            case 'T': {  // BINSTRING
                const auto n = read_le<int32_t>();
                if (n < 0) fail("BINSTRING has a negative length");
                push(make_string(read_text(static_cast<size_t>(n), "a BINSTRING string")));
                break;
            }
            case 'U': push(make_string(read_text(*take(1), "a SHORT_BINSTRING string"))); break;
            case 'J': push(make_integer(read_le<int32_t>())); break;   // BININT
            case 'K': push(make_integer(*take(1))); break;             // BININT1
            case 'M': push(make_integer(read_le<uint16_t>())); break;  // BININT2
            case 0x8a: {                                               // LONG1: little-endian two's complement
                const uint8_t n = *take(1);
                if (n > 8) fail("LONG1 integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
                const uint8_t* p = take(n);
                uint64_t u = 0;
                for (int i = n - 1; i >= 0; --i) u = (u << 8) | p[i];
                if (n > 0 && n < 8 && (p[n - 1] & 0x80)) u |= ~uint64_t{0} << (8 * n);
                int64_t v;
                std::memcpy(&v, &u, sizeof v);
                push(make_integer(v));
                break;
            }
            case 'G': {  // BINFLOAT: big-endian IEEE double
                const uint8_t* p = take(8);
                uint64_t u = 0;
                for (int i = 0; i < 8; ++i) u = (u << 8) | p[i];
                Value* v = make(Kind::floating);
                std::memcpy(&v->floating, &u, sizeof u);
                push(v);
                break;
            }
            case 0x88:  // NEWTRUE
            case 0x89: {  // NEWFALSE
                Value* v = make(Kind::boolean);
                v->integer = op == 0x88 ? 1 : 0;
                push(v);
                break;
            }
            case 'N': push(make(Kind::none)); break;  // NONE
            case 'q': memo_put(*take(1), top()); break;                  // BINPUT
            case 'r': memo_put(read_le<uint32_t>(), top()); break;       // LONG_BINPUT
            case 0x94: memo_put(memo_.size(), top()); break;             // MEMOIZE
            case 'h': push(memo_get(*take(1))); break;                   // BINGET
            case 'j': push(memo_get(read_le<uint32_t>())); break;        // LONG_BINGET
            case 'c': {                                                  // GLOBAL
                const std::string module = read_line();
                const std::string name = read_line();
                push(resolve_global(module, name));
                break;
            }
            case 0x93: {  // STACK_GLOBAL
                Value* name = pop();
                Value* module = pop();
                if (module->kind != Kind::string || name->kind != Kind::string)
                    fail("STACK_GLOBAL needs two strings");
                push(resolve_global(module->text, name->text));
                break;
            }
            case 'R': {  // REDUCE
                Value* args = pop();
                Value* callable = pop();
                push(reduce(callable, args));
                break;
            }
            case 'b': {  // BUILD
                Value* state = pop();
                build(top(), state);
                break;
            }
            case 's': {  // SETITEM
                Value* value = pop();
                Value* key = pop();
                set_item(top(), key, value);
                break;
            }
            case 'u': {  // SETITEMS
                std::vector<Value*> items = pop_mark();
                if (items.size() % 2 != 0) fail("SETITEMS has a key without a value");
                Value* dict = top();
                for (size_t i = 0; i < items.size(); i += 2) set_item(dict, items[i], items[i + 1]);
                break;
            }
            case 'a': {  // APPEND
                Value* value = pop();
                Value* list = top();
                expect_kind(list, Kind::list, "the target of APPEND");
                list->items.push_back(value);
                break;
            }
            case 'e': {  // APPENDS
                std::vector<Value*> items = pop_mark();
                Value* list = top();
                expect_kind(list, Kind::list, "the target of APPENDS");
                list->items.insert(list->items.end(), items.begin(), items.end());
                break;
            }
            case 'Q': push(persistent_load(pop())); break;  // BINPERSID
            case '.': {                                     // STOP
                Value* result = pop();
                if (!stack_.empty() || !marks_.empty()) fail("STOP leaves values or MARKs on the stack");
                if (pos_ != size_) fail("the pickle does not end at STOP: " + std::to_string(size_ - pos_) + " byte(s) follow");
                return result;
            }
            default: {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", op);
                std::string shown = op >= 0x20 && op < 0x7f ? std::string(" '") + static_cast<char>(op) + "'" : "";
                fail(std::string("the pickle opcode ") + hex + shown +
                     " is not allowed (a torch.save state dict never uses it)");
            }
        }
    }
}

Value* Unpickler::resolve_global(const std::string& module, const std::string& name) {
    Value* g = make(Kind::global);
    g->text = module + "." + name;
    if (module == "collections" && name == "OrderedDict") {
        g->global = Global::ordered_dict;
        return g;
    }
    if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
        g->global = Global::rebuild_tensor_v2;
        return g;
    }
    if (module == "torch._utils" && name == "_rebuild_parameter") {
        g->global = Global::rebuild_parameter;
        return g;
    }
    if (module == "torch") {
        for (const auto& sc : kStorageClasses) {
            if (name == sc.name) {
                g->global = Global::storage_type;
                g->storage_dtype = sc.dtype;
                return g;
            }
        }
    }
    fail("the global " + quote_name(g->text) +
         " is not allowed (a state dict may only use collections.OrderedDict, torch._utils._rebuild_tensor_v2, "
         "torch._utils._rebuild_parameter and torch.*Storage; loading never runs code from the file)");
}

void Unpickler::set_item(Value* dict, Value* key, Value* value) {
    expect_kind(dict, Kind::dict, "the target of SETITEM");
    std::string key_text;
    if (key->kind == Kind::string) key_text = "s" + key->text;
    else if (key->kind == Kind::integer) key_text = "i" + std::to_string(key->integer);
    else fail(std::string("a dict key must be of type str or int, not ") + kind_name(key->kind));
    auto [it, inserted] = dict->dict_index.emplace(std::move(key_text), dict->items.size());
    if (inserted) {
        dict->items.push_back(key);
        dict->items.push_back(value);
    } else {
        dict->items[it->second + 1] = value;  // Python keeps the first position and the last value
    }
}

Value* Unpickler::reduce(Value* callable, Value* args) {
    if (callable->kind != Kind::global) fail(std::string("REDUCE calls a value of type ") + kind_name(callable->kind));
    expect_kind(args, Kind::tuple, "the arguments of REDUCE");
    switch (callable->global) {
        case Global::ordered_dict:
            if (!args->items.empty()) fail("collections.OrderedDict is called with arguments");
            return make(Kind::dict);
        case Global::rebuild_tensor_v2:
            return rebuild_tensor(args->items);
        case Global::rebuild_parameter: {  // (data, requires_grad, backward_hooks)
            if (args->items.size() != 3) fail("torch._utils._rebuild_parameter needs 3 arguments");
            expect_kind(args->items[0], Kind::tensor, "the data of _rebuild_parameter");
            expect_kind(args->items[1], Kind::boolean, "requires_grad");
            expect_kind(args->items[2], Kind::dict, "backward_hooks");
            if (!args->items[2]->items.empty()) fail("backward hooks are not supported");
            return args->items[0];
        }
        case Global::storage_type:
            break;
    }
    fail("the global " + quote_name(callable->text) + " cannot be called");
}

void Unpickler::build(Value* object, Value* state) {
    // torch.save pickles a state dict's `_metadata` attribute (per-module versions) through BUILD.
    if (object->kind != Kind::dict) fail(std::string("BUILD on a value of type ") + kind_name(object->kind) + " is not supported");
    expect_kind(state, Kind::dict, "the state given to BUILD");
    for (size_t i = 0; i < state->items.size(); i += 2) {
        const Value* attribute = state->items[i];
        if (attribute->kind != Kind::string || attribute->text != "_metadata")
            fail("BUILD sets an attribute other than _metadata on a dict");
    }
}

Value* Unpickler::persistent_load(Value* pid) {
    // ('storage', storage class, key, location, numel)
    if (pid->kind != Kind::tuple || pid->items.size() != 5 || pid->items[0]->kind != Kind::string ||
        pid->items[0]->text != "storage")
        fail("a persistent id is not ('storage', type, key, location, numel)");
    const Value* type = pid->items[1];
    if (type->kind != Kind::global || type->global != Global::storage_type)
        fail("a persistent id names no torch storage class");
    expect_kind(pid->items[2], Kind::string, "a storage key");
    expect_kind(pid->items[3], Kind::string, "a storage location");
    expect_kind(pid->items[4], Kind::integer, "a storage size");
    const std::string& key = pid->items[2]->text;
    if (key.empty() || key.size() > 64 ||
        key.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") != std::string::npos)
        fail("the storage key " + quote_name(key) + " is not a record name");
    const int64_t numel = pid->items[4]->integer;
    if (numel < 0) fail("storage " + quote_name(key) + " has a negative size");
    int64_t nbytes = 0;
    if (__builtin_mul_overflow(numel, static_cast<int64_t>(c10::elementSize(type->storage_dtype)), &nbytes))
        fail("storage " + quote_name(key) + " of " + std::to_string(numel) + " elements is too large to exist");

    auto [it, inserted] = storage_by_key_.emplace(key, storages_.size());
    if (inserted) {
        storages_.push_back(StorageRef{key, type->storage_dtype, numel});
    } else {
        const StorageRef& known = storages_[it->second];
        if (known.dtype != type->storage_dtype || known.numel != numel)
            fail("storage " + quote_name(key) + " is described twice with different types or sizes");
    }
    Value* v = make(Kind::storage);
    v->integer = static_cast<int64_t>(it->second);
    return v;
}

std::vector<int64_t> Unpickler::int_tuple(const Value* v, const char* what) {
    expect_kind(v, Kind::tuple, what);
    if (v->items.size() > kMaxDims) fail(std::string(what) + " has more than " + std::to_string(kMaxDims) + " dimensions");
    std::vector<int64_t> out;
    for (const Value* item : v->items) {
        expect_kind(item, Kind::integer, what);
        if (item->integer < 0) fail(std::string(what) + " holds the negative number " + std::to_string(item->integer));
        out.push_back(item->integer);
    }
    return out;
}

Value* Unpickler::rebuild_tensor(const std::vector<Value*>& args) {
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    if (args.size() != 6 && args.size() != 7) fail("torch._utils._rebuild_tensor_v2 needs 6 or 7 arguments");
    expect_kind(args[0], Kind::storage, "the first argument of _rebuild_tensor_v2");
    expect_kind(args[1], Kind::integer, "storage_offset");
    expect_kind(args[4], Kind::boolean, "requires_grad");
    expect_kind(args[5], Kind::dict, "backward_hooks");
    if (!args[5]->items.empty()) fail("backward hooks are not supported");
    if (args.size() == 7 && args[6]->kind != Kind::none &&
        !(args[6]->kind == Kind::dict && args[6]->items.empty()))
        fail("tensor metadata (conjugate or negative bits) is not supported");

    TensorRef t;
    t.storage = static_cast<size_t>(args[0]->integer);
    t.offset = args[1]->integer;
    t.sizes = int_tuple(args[2], "a tensor size");
    t.strides = int_tuple(args[3], "a tensor stride");
    if (t.sizes.size() != t.strides.size()) fail("a tensor's size and stride have different lengths");
    const StorageRef& storage = storages_[t.storage];
    if (t.offset < 0 || t.offset > storage.numel)
        fail("a tensor's storage offset " + std::to_string(t.offset) + " lies outside storage " + quote_name(storage.key) +
             " of " + std::to_string(storage.numel) + " elements");
    // The last element the tensor reads must lie inside the storage (nothing to read when it is empty).
    bool empty = false;
    for (int64_t s : t.sizes) empty = empty || s == 0;
    if (!empty) {
        int64_t last = t.offset;
        bool overflow = false;
        int64_t numel = 1;
        for (size_t d = 0; d < t.sizes.size(); ++d) {
            int64_t reach = 0;
            overflow = overflow || __builtin_mul_overflow(t.sizes[d] - 1, t.strides[d], &reach) ||
                       __builtin_add_overflow(last, reach, &last) || __builtin_mul_overflow(numel, t.sizes[d], &numel);
        }
        // A state dict's tensors never overlap themselves; a stride-0 tensor larger than its storage
        // would make the loader allocate far more than the file holds.
        if (!overflow && numel > storage.numel)
            fail("a tensor of size " + c10::str(c10::IntArrayRef(t.sizes)) + " has " + std::to_string(numel) +
                 " elements but views storage " + quote_name(storage.key) + " of only " + std::to_string(storage.numel) +
                 " (overlapping strides are not supported)");
        if (overflow || last >= storage.numel)
            fail("a tensor of size " + c10::str(c10::IntArrayRef(t.sizes)) + ", stride " +
                 c10::str(c10::IntArrayRef(t.strides)) + " and offset " + std::to_string(t.offset) +
                 " overruns storage " + quote_name(storage.key) + " of " + std::to_string(storage.numel) + " elements");
    }
    tensors_.push_back(std::move(t));
    Value* v = make(Kind::tensor);
    v->integer = static_cast<int64_t>(tensors_.size() - 1);
    return v;
}

// ---------------------------------------------------------------------------------------------

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
    std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
    bool has_pickle = false;
    bool has_byteorder = false;
    try {
        reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
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

    auto claimed_size = [&](const std::string& record) {
        auto it = record_sizes.find(record);
        return it == record_sizes.end() ? uint64_t{0} : it->second;
    };
    if (claimed_size("data.pkl") > kMaxPickleBytes)
        throw FileError(path, "data.pkl is " + std::to_string(claimed_size("data.pkl")) + " bytes, more than a state dict needs");
    auto [pickle, pickle_size] = read_record(*reader, path, "data.pkl");
    if (pickle_size > kMaxPickleBytes)
        throw FileError(path, "data.pkl is " + std::to_string(pickle_size) + " bytes, more than a state dict needs");
    Unpickler unpickler(path, static_cast<const uint8_t*>(pickle.get()), pickle_size);
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
            // Cannot overflow: persistent_load checked numel * element size.
            const size_t nbytes = static_cast<size_t>(s.numel) * c10::elementSize(s.dtype);
            if (!loaded[t.storage]) {
                const std::string record = "data/" + s.key;
                bool present = false;
                try {
                    present = reader->hasRecord(record);
                } catch (const std::exception& e) {
                    throw FileError(path, "cannot look up record " + record + ": " + torch_problem(e));
                }
                if (!present)
                    throw FileError(path, "storage record " + record + " (holding " + quote_name(*n.name) + ") is missing");
                if (claimed_size(record) != nbytes)  // checked before reading: the reader allocates what the zip claims
                    throw FileError(path, "storage record " + record + " has " + std::to_string(claimed_size(record)) +
                                              " bytes, but " + std::to_string(s.numel) + " " + c10::toString(s.dtype) +
                                              " elements need " + std::to_string(nbytes));
                auto [bytes, size] = read_record(*reader, path, record);
                if (size != nbytes)
                    throw FileError(path, "storage record " + record + " has " + std::to_string(size) + " bytes, but " +
                                              std::to_string(s.numel) + " " + c10::toString(s.dtype) + " elements need " +
                                              std::to_string(nbytes));
                if (s.dtype == torch::kBool) {
                    const auto* b = static_cast<const uint8_t*>(bytes.get());
                    for (size_t i = 0; i < size; ++i)
                        if (b[i] > 1)
                            throw FileError(path, "storage record " + record + " is bool but holds the byte " +
                                                      std::to_string(b[i]));
                }
                loaded[t.storage] = std::move(bytes);
            }
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
