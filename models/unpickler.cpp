// The restricted unpickler (see unpickler.h). Every opcode torch.save uses for a state dict is handled by one of
// four groups; any other opcode, any global outside the five known ones, and any value of the wrong type is a
// FileError naming the byte of data.pkl.
#include "models/unpickler.h"

#include "base/errors.h"

#include <c10/util/Exception.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstring>

namespace sumlab::pickle {

namespace {

constexpr size_t kMaxStack = size_t{1} << 20;
constexpr size_t kMaxMemo = size_t{1} << 22;
constexpr size_t kMaxMarks = 1024;
constexpr size_t kMaxValues = size_t{1} << 21;  // ~20 per tensor: room for 100k tensors
constexpr size_t kMaxDims = 64;
constexpr size_t kMaxGlobalLine = 256;

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

}  // namespace

std::string quote_name(const std::string& s) {
    constexpr size_t kMaxShown = 200;
    if (s.size() <= kMaxShown) return "'" + s + "'";
    return "'" + s.substr(0, kMaxShown) + "...' (" + std::to_string(s.size()) + " bytes)";
}

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

// ---------------------------------------------------------------------------------------------
// Reading bytes, and the bounded stack, memo and value arena.

void Unpickler::fail(const std::string& problem) const {
    throw FileError(path_, "data.pkl, byte " + std::to_string(op_pos_) + ": " + problem);
}

const uint8_t* Unpickler::take(size_t n) {
    if (n > size_ - pos_) fail("the pickle is truncated (it ends inside an opcode, before STOP)");
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
}

template <typename T>
T Unpickler::read_le() {
    T v;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
}

std::string Unpickler::read_text(size_t n, const char* what) {
    const auto* p = take(n);
    std::string s(reinterpret_cast<const char*>(p), n);
    if (!is_utf8(s)) fail(std::string(what) + " is not valid UTF-8");
    return s;
}

std::string Unpickler::read_line() {
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

Value* Unpickler::make(Kind kind) {
    if (arena_.size() >= kMaxValues) fail("the pickle builds more than " + std::to_string(kMaxValues) + " values");
    arena_.push_back(std::make_unique<Value>());
    arena_.back()->kind = kind;
    return arena_.back().get();
}

Value* Unpickler::make_integer(int64_t v) {
    Value* x = make(Kind::integer);
    x->integer = v;
    return x;
}

Value* Unpickler::make_string(std::string s) {
    Value* x = make(Kind::string);
    x->text = std::move(s);
    return x;
}

void Unpickler::push(Value* v) {
    if (stack_.size() >= kMaxStack) fail("the pickle stack grows beyond " + std::to_string(kMaxStack) + " entries");
    stack_.push_back(v);
}

Value* Unpickler::pop() {
    if (stack_.size() <= fence()) fail("stack underflow");
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
}

Value* Unpickler::top() {
    if (stack_.size() <= fence()) fail("stack underflow");
    return stack_.back();
}

std::vector<Value*> Unpickler::pop_mark() {
    if (marks_.empty()) fail("an opcode needs a MARK but none is open");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
}

void Unpickler::memo_put(uint64_t index, Value* v) {
    if (memo_.size() >= kMaxMemo && memo_.count(index) == 0)
        fail("the pickle memo grows beyond " + std::to_string(kMaxMemo) + " entries");
    memo_[index] = v;
}

Value* Unpickler::memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " is read before it is written");
    return it->second;
}

Value* Unpickler::make_tuple(std::vector<Value*> items) {
    Value* t = make(Kind::tuple);
    t->items = std::move(items);
    return t;
}

void Unpickler::expect_kind(const Value* v, Kind kind, const char* what) const {
    if (v->kind != kind)
        fail(std::string(what) + " must be of type " + kind_name(kind) + ", not " + kind_name(v->kind));
}

// ---------------------------------------------------------------------------------------------
// The opcodes.

const Value* Unpickler::run() {
    while (true) {
        op_pos_ = pos_;
        const uint8_t op = *take(1);
        if (op == '.') {  // STOP
            Value* result = pop();
            if (!stack_.empty() || !marks_.empty()) fail("STOP leaves values or MARKs on the stack");
            if (pos_ != size_) fail("the pickle does not end at STOP: " + std::to_string(size_ - pos_) + " byte(s) follow");
            return result;
        }
        if (!run_structure_op(op) && !run_scalar_op(op) && !run_memo_op(op) && !run_object_op(op)) fail_unknown_opcode(op);
    }
}

void Unpickler::fail_unknown_opcode(uint8_t op) const {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", op);
    std::string shown = op >= 0x20 && op < 0x7f ? std::string(" '") + static_cast<char>(op) + "'" : "";
    fail(std::string("the pickle opcode ") + hex + shown + " is not allowed (a torch.save state dict never uses it)");
}

// PROTO, FRAME, MARK, the empty containers and the tuples.
bool Unpickler::run_structure_op(uint8_t op) {
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
        case 0x85: {  // TUPLE1
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
        default: return false;
    }
    return true;
}

// Strings, ints, floats, bools and None.
bool Unpickler::run_scalar_op(uint8_t op) {
    switch (op) {
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
        default: return false;
    }
    return true;
}

// The memo: BINPUT, LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET.
bool Unpickler::run_memo_op(uint8_t op) {
    switch (op) {
        case 'q': memo_put(*take(1), top()); break;                  // BINPUT
        case 'r': memo_put(read_le<uint32_t>(), top()); break;       // LONG_BINPUT
        case 0x94: memo_put(memo_.size(), top()); break;             // MEMOIZE
        case 'h': push(memo_get(*take(1))); break;                   // BINGET
        case 'j': push(memo_get(read_le<uint32_t>())); break;        // LONG_BINGET
        default: return false;
    }
    return true;
}

// Globals and what they build: GLOBAL, STACK_GLOBAL, REDUCE, BUILD, SETITEM(S), APPEND(S), BINPERSID.
bool Unpickler::run_object_op(uint8_t op) {
    switch (op) {
        case 'c': {  // GLOBAL
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
        default: return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// The globals.

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

}  // namespace sumlab::pickle
