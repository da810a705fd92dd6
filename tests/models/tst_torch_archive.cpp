// Tests models/torch_archive: the golden tiny-flan pytorch_model.bin holds exactly the tensors of the
// model.safetensors beside it (plus the tied embedding aliases); hand-built archives exercise every
// supported opcode, shared storages, strides and offsets; and each hostile or broken archive (not a
// zip, no data.pkl, a forbidden global such as posix.system, a truncated pickle, a missing storage
// record, a tensor past the end of its storage) is a FileError naming the file and the problem.
#include "base/errors.h"
#include "models/safetensors.h"
#include "models/torch_archive.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/types.h>

#include <QFile>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

using sumlab::FileError;

namespace {

const QString kGoldenDir = QStringLiteral(SUMLAB_SHARED_DIR "/golden/t5/tiny-flan");

QString qs(const std::string& s) { return QString::fromStdString(s); }

// The bytes of a string literal, embedded NULs included.
template <size_t N>
std::string b(const char (&literal)[N]) {
    return std::string(literal, N - 1);
}
template <size_t N>
QByteArray qb(const char (&literal)[N]) {
    return QByteArray(literal, N - 1);
}

// "" when the tensors have the same dtype, shape and values; otherwise what differs.
QString difference(const torch::Tensor& actual, const torch::Tensor& expected) {
    if (actual.scalar_type() != expected.scalar_type())
        return QStringLiteral("dtype %1 != %2")
            .arg(QString::fromLatin1(c10::toString(actual.scalar_type())),
                 QString::fromLatin1(c10::toString(expected.scalar_type())));
    if (actual.sizes() != expected.sizes())
        return QStringLiteral("shape %1 != %2").arg(qs(c10::str(actual.sizes())), qs(c10::str(expected.sizes())));
    if (torch::equal(actual, expected)) return {};
    return QStringLiteral("values differ, max |difference| %1")
        .arg((actual.to(torch::kFloat64) - expected.to(torch::kFloat64)).abs().max().item<double>());
}

// Builds pickle bytes opcode by opcode, as Python's pickler (protocol 2) writes them.
class Pickle {
public:
    Pickle() { bytes_ = std::string("\x80\x02", 2); }
    explicit Pickle(std::string raw) : bytes_(std::move(raw)) {}

    Pickle& op(char c) { bytes_ += c; return *this; }
    Pickle& raw(const std::string& s) { bytes_ += s; return *this; }
    Pickle& mark() { return op('('); }
    Pickle& global(const std::string& module, const std::string& name) { return op('c').raw(module + "\n" + name + "\n"); }
    Pickle& str(const std::string& s) { return op('X').u32(static_cast<uint32_t>(s.size())).raw(s); }
    Pickle& integer(int32_t v) { return op('J').u32(static_cast<uint32_t>(v)); }
    Pickle& ints(std::initializer_list<int32_t> values) {  // a tuple of ints
        mark();
        for (int32_t v : values) integer(v);
        return op('t');
    }
    Pickle& empty_ordered_dict() { return global("collections", "OrderedDict").op(')').op('R'); }
    // ('storage', torch.<type>, key, 'cpu', numel) BINPERSID
    Pickle& storage(const std::string& type, const std::string& key, int32_t numel) {
        mark().str("storage").global("torch", type).str(key).str("cpu").integer(numel).op('t');
        return op('Q');
    }
    // _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())
    Pickle& tensor(const std::string& type, const std::string& key, int32_t numel, int32_t offset,
                   std::initializer_list<int32_t> size, std::initializer_list<int32_t> stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        storage(type, key, numel).integer(offset).ints(size).ints(stride).op('\x89').empty_ordered_dict();
        return op('t').op('R');
    }
    Pickle& stop() { return op('.'); }
    QByteArray bytes() const { return QByteArray(bytes_.data(), static_cast<qsizetype>(bytes_.size())); }

private:
    Pickle& u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes_ += static_cast<char>((v >> (8 * i)) & 0xff);
        return *this;
    }
    std::string bytes_;
};

// OrderedDict([(name, tensor of FloatStorage '0' with `numel` elements, offset, size, stride)]).
QByteArray one_tensor_pickle(int32_t numel, int32_t offset, std::initializer_list<int32_t> size,
                             std::initializer_list<int32_t> stride) {
    Pickle p;
    p.empty_ordered_dict().mark().str("w").tensor("FloatStorage", "0", numel, offset, size, stride).op('u').stop();
    return p.bytes();
}

QByteArray floats(std::initializer_list<float> values) {
    QByteArray out;
    for (float v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
    return out;
}

using Records = std::vector<std::pair<std::string, QByteArray>>;

// A torch.save-style zip (archive/<record>, plus the version record) written by LibTorch itself.
void write_archive(const std::string& path, const Records& records) {
    caffe2::serialize::PyTorchStreamWriter writer(path);
    for (const auto& [name, bytes] : records) writer.writeRecord(name, bytes.constData(), static_cast<size_t>(bytes.size()));
    writer.writeEndOfFile();
}

bool write_all(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

}  // namespace

Q_DECLARE_METATYPE(Records)

class TestTorchArchive : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();

    void matchesGoldenSafetensors();
    void convertsGoldenToHalf();
    void readsEverySupportedOpcode();
    void sharesStoragesAndStrides();

    void rejectsBadArchive_data();
    void rejectsBadArchive();
    void rejectsBadFile_data();
    void rejectsBadFile();
    void reportsMissingFile();
    void rejectsIntegerTargetDtype();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
};

void TestTorchArchive::initTestCase() { QVERIFY2(dir_.isValid(), qPrintable(dir_.errorString())); }

// Every tensor of model.safetensors equals the .bin's tensor of that name exactly; the .bin adds
// encoder/decoder.embed_tokens.weight, which share shared.weight's storage.
void TestTorchArchive::matchesGoldenSafetensors() {
    const QString bin = kGoldenDir + "/pytorch_model.bin";
    const QString safetensors = kGoldenDir + "/model.safetensors";
    if (!QFile::exists(bin)) QSKIP(qPrintable("golden checkpoint not found: " + bin));
    if (!QFile::exists(safetensors)) QSKIP(qPrintable("golden checkpoint not found: " + safetensors));

    const auto state = sumlab::load_torch_state_dict(bin.toStdString());
    const sumlab::SafetensorsFile st(safetensors.toStdString());
    QCOMPARE(state.size(), st.entries().size() + 2);
    QCOMPARE(qs(state.front().first), QStringLiteral("shared.weight"));  // file order, not sorted
    QCOMPARE(qs(state[1].first), QStringLiteral("encoder.embed_tokens.weight"));

    QSet<QString> names;
    torch::Tensor shared;
    for (const auto& [name, tensor] : state) {
        QVERIFY2(!names.contains(qs(name)), name.c_str());
        names.insert(qs(name));
        if (name == "shared.weight") shared = tensor;
        if (name == "encoder.embed_tokens.weight" || name == "decoder.embed_tokens.weight") continue;
        QVERIFY2(st.contains(name), name.c_str());
        QCOMPARE(difference(tensor, st.view(name)), QString());
    }
    for (const char* alias : {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}) {
        auto it = std::find_if(state.begin(), state.end(), [&](const auto& p) { return p.first == alias; });
        QVERIFY2(it != state.end(), alias);
        QCOMPARE(difference(it->second, shared), QString());
        QVERIFY2(it->second.data_ptr() != shared.data_ptr(), "aliases must come back as independent tensors");
    }
}

void TestTorchArchive::convertsGoldenToHalf() {
    const QString bin = kGoldenDir + "/pytorch_model.bin";
    if (!QFile::exists(bin)) QSKIP(qPrintable("golden checkpoint not found: " + bin));
    const auto full = sumlab::load_torch_state_dict(bin.toStdString());
    const auto half = sumlab::load_torch_state_dict(bin.toStdString(), torch::kFloat16);
    QCOMPARE(half.size(), full.size());
    for (size_t i = 0; i < full.size(); ++i) {
        QCOMPARE(qs(half[i].first), qs(full[i].first));
        QCOMPARE(difference(half[i].second, full[i].second.to(torch::kFloat16)), QString());
    }
}

// Protocol 2-5 opcodes a state dict may use: FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL, BININT1/2,
// LONG1, TUPLE1-3, BINPUT/BINGET, SETITEM, _rebuild_parameter, the _metadata BUILD, int/bool/half storages.
void TestTorchArchive::readsEverySupportedOpcode() {
    auto short_str = [](const std::string& s) { return b("\x8c") + static_cast<char>(s.size()) + s; };
    std::string p = b("\x80\x04\x95") + std::string(8, '\0');              // PROTO 4, FRAME (a hint only)
    p += short_str("collections") + short_str("OrderedDict") + b("\x93\x94");  // STACK_GLOBAL, MEMOIZE: memo 0
    p += b(")Rq\x01");                                                    // OrderedDict(), memo 1
    // 'half': _rebuild_parameter(_rebuild_tensor_v2(storage '0' of 3 halves, offset 1, (2,), (1,), False, {}),
    //                            True, OrderedDict())
    p += short_str("half");
    p += b("ctorch._utils\n_rebuild_parameter\n");
    p += b("ctorch._utils\n_rebuild_tensor_v2\n(");
    p += b("(") + short_str("storage") + b("ctorch\nHalfStorage\n") + short_str("0") + short_str("cpu") + b("K\x03tQ");
    p += b("\x8a\x01\x01");       // LONG1 1: storage_offset
    p += b("K\x02\x85K\x01\x85");  // (2,), (1,) via TUPLE1
    p += b("\x89}tR");              // False, {} as hooks (EMPTY_DICT); the tensor
    p += b("\x88h\x00)R\x87Rs");    // (tensor, True, OrderedDict()) via TUPLE3; the parameter; SETITEM
    // 'long': LongStorage '1' of 4 (BININT2), shape (2, 2), stride (2, 1) via TUPLE2
    p += b("X\x04\x00\x00\x00long");
    p += b("ctorch._utils\n_rebuild_tensor_v2\n(");
    p += b("(") + short_str("storage") + b("ctorch\nLongStorage\n") + short_str("1") + short_str("cpu") + b("M\x04\x00tQ");
    p += b("K\x00K\x02K\x02\x86K\x02K\x01\x86\x89h\x00)RtRs");
    // 'flag' (SHORT_BINSTRING): BoolStorage '2' of 2, a 0-dim tensor at offset 1
    p += b("U\x04" "flag");
    p += b("ctorch._utils\n_rebuild_tensor_v2\n(");
    p += b("(") + short_str("storage") + b("ctorch\nBoolStorage\n") + short_str("2") + short_str("cpu") + b("K\x02tQ");
    p += b("K\x01))\x89h\x00)RtRs");
    // BUILD the _metadata attribute: {'_metadata': OrderedDict({'': {'version': 1}, 'extra': [1.5, None, 'x'],
    // 'again': <the same list>})}, which also runs BINSTRING, EMPTY_LIST, LONG_BINPUT, BINFLOAT, APPEND,
    // NONE, BINUNICODE8, APPENDS and LONG_BINGET.
    p += b("}") + short_str("_metadata") + b("h\x00)R(") + short_str("") + b("}") + short_str("version") + b("K\x01s");
    p += b("T\x05\x00\x00\x00" "extra" "]r\x10\x00\x00\x00" "G\x3f\xf8\x00\x00\x00\x00\x00\x00" "a");
    p += b("(N\x8d\x01\x00\x00\x00\x00\x00\x00\x00" "x" "e");
    p += short_str("again") + b("j\x10\x00\x00\x00");
    p += b("us");
    p += b("b.");

    const uint16_t halves[3] = {0x3c00, 0x4000, 0xc200};  // 1.0, 2.0, -3.0
    const int64_t longs[4] = {1, -2, 3, int64_t{1} << 40};
    const QString file = path(QStringLiteral("opcodes.bin"));
    write_archive(file.toStdString(),
                  {{"data.pkl", QByteArray(p.data(), static_cast<qsizetype>(p.size()))},
                   {"data/0", QByteArray(reinterpret_cast<const char*>(halves), sizeof halves)},
                   {"data/1", QByteArray(reinterpret_cast<const char*>(longs), sizeof longs)},
                   {"data/2", qb("\x00\x01")}});

    const auto state = sumlab::load_torch_state_dict(file.toStdString());
    QCOMPARE(state.size(), size_t{3});
    QCOMPARE(qs(state[0].first), QStringLiteral("half"));
    QCOMPARE(qs(state[1].first), QStringLiteral("long"));
    QCOMPARE(qs(state[2].first), QStringLiteral("flag"));
    QCOMPARE(difference(state[0].second, torch::tensor({2.0f, -3.0f})), QString());
    QCOMPARE(difference(state[1].second, torch::tensor({int64_t{1}, int64_t{-2}, int64_t{3}, int64_t{1} << 40}).reshape({2, 2})),
             QString());
    QCOMPARE(difference(state[2].second, torch::ones({}, torch::kBool)), QString());
}

// One FloatStorage seen by three tensors: the whole of it, a transposed view, and an offset slice.
void TestTorchArchive::sharesStoragesAndStrides() {
    Pickle p;
    p.empty_ordered_dict().mark();
    p.str("matrix").tensor("FloatStorage", "7", 6, 0, {2, 3}, {3, 1});
    p.str("transposed").tensor("FloatStorage", "7", 6, 0, {3, 2}, {1, 3});
    p.str("tail").tensor("FloatStorage", "7", 6, 4, {2}, {1});
    p.str("empty").tensor("FloatStorage", "7", 6, 6, {0, 4}, {4, 1});
    p.op('u').stop();
    const QString file = path(QStringLiteral("shared.bin"));
    write_archive(file.toStdString(), {{"data.pkl", p.bytes()}, {"data/7", floats({0, 1, 2, 3, 4, 5})}});

    const auto state = sumlab::load_torch_state_dict(file.toStdString(), torch::kFloat64);
    QCOMPARE(state.size(), size_t{4});
    const torch::Tensor matrix = torch::arange(6, torch::kFloat64).reshape({2, 3});
    QCOMPARE(difference(state[0].second, matrix), QString());
    QCOMPARE(difference(state[1].second, matrix.t()), QString());
    QCOMPARE(difference(state[2].second, torch::tensor({4.0, 5.0}, torch::kFloat64)), QString());
    QCOMPARE(difference(state[3].second, torch::empty({0, 4}, torch::kFloat64)), QString());
    QVERIFY(state[1].second.is_contiguous());
}

// Each row is an archive written by LibTorch's own zip writer around a broken or hostile data.pkl.
void TestTorchArchive::rejectsBadArchive_data() {
    QTest::addColumn<Records>("records");
    QTest::addColumn<QString>("problem");

    const QByteArray two_floats = floats({1, 2});
    const QByteArray good = one_tensor_pickle(2, 0, {2}, {1});

    QTest::addRow("missing data.pkl") << Records{{"data/0", two_floats}} << "has no data.pkl record";
    QTest::addRow("forbidden global posix.system")
        << Records{{"data.pkl", qb("\x80\x02" "cposix\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.")}}
        << "the global 'posix.system' is not allowed";
    QTest::addRow("forbidden global builtins.eval via STACK_GLOBAL")
        << Records{{"data.pkl", qb("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93.")}}
        << "the global 'builtins.eval' is not allowed";
    QTest::addRow("forbidden global torch.storage._load_from_bytes")
        << Records{{"data.pkl", Pickle().global("torch.storage", "_load_from_bytes").stop().bytes()}}
        << "the global 'torch.storage._load_from_bytes' is not allowed";
    QTest::addRow("unknown opcode")
        << Records{{"data.pkl", Pickle().global("collections", "OrderedDict").op(')').op('\x81').stop().bytes()}}
        << "the pickle opcode 0x81 is not allowed";
    QTest::addRow("truncated pickle") << Records{{"data.pkl", good.left(good.size() / 2)}, {"data/0", two_floats}}
                                      << "the pickle is truncated";
    QTest::addRow("pickle without STOP") << Records{{"data.pkl", good.chopped(1)}, {"data/0", two_floats}}
                                         << "the pickle is truncated";
    QTest::addRow("bytes after STOP") << Records{{"data.pkl", good + "N"}, {"data/0", two_floats}} << "the pickle does not end at STOP: 1 byte(s) follow";
    QTest::addRow("storage record missing") << Records{{"data.pkl", good}} << "storage record data/0 (holding 'w') is missing";
    QTest::addRow("storage record of the wrong size")
        << Records{{"data.pkl", good}, {"data/0", floats({1})}} << "has 4 bytes, but 2 Float elements need 8";
    QTest::addRow("tensor overruns its storage")
        << Records{{"data.pkl", one_tensor_pickle(2, 1, {2}, {1})}, {"data/0", two_floats}} << "overruns storage '0'";
    QTest::addRow("stride overruns its storage")
        << Records{{"data.pkl", one_tensor_pickle(4, 0, {2, 2}, {1, 3})}, {"data/0", floats({1, 2, 3, 4})}}
        << "overruns storage '0'";
    QTest::addRow("offset beyond storage")
        << Records{{"data.pkl", one_tensor_pickle(2, 9, {0}, {1})}, {"data/0", two_floats}} << "storage offset 9 lies outside";
    QTest::addRow("storage size overflows")  // numel * 4 wraps to 4 bytes in 64 bits
        << Records{{"data.pkl", Pickle().empty_ordered_dict().mark().str("w").raw(b("ctorch._utils\n_rebuild_tensor_v2\n(("))
                                     .str("storage").global("torch", "FloatStorage").str("0").str("cpu")
                                     .raw(b("\x8a\x08\x01\x00\x00\x00\x00\x00\x00\x40tQ")).integer(0).ints({1}).ints({1})
                                     .op('\x89').empty_ordered_dict().op('t').op('R').op('u').stop().bytes()},
                   {"data/0", floats({1})}}
        << "is too large to exist";
    QTest::addRow("negative size")
        << Records{{"data.pkl", one_tensor_pickle(2, 0, {-1}, {1})}, {"data/0", two_floats}} << "holds the negative number -1";
    QTest::addRow("memo read before written")
        << Records{{"data.pkl", Pickle().op('h').op('\x05').stop().bytes()}} << "memo entry 5 is read before it is written";
    QTest::addRow("stack underflow") << Records{{"data.pkl", Pickle().op('R').stop().bytes()}} << "stack underflow";
    QTest::addRow("TUPLE without MARK") << Records{{"data.pkl", Pickle().op('t').stop().bytes()}} << "needs a MARK";
    QTest::addRow("not a dict at top level") << Records{{"data.pkl", Pickle().op(']').stop().bytes()}}
                                             << "holds a value of type list, not a state dict";
    QTest::addRow("value not a tensor")
        << Records{{"data.pkl", Pickle().empty_ordered_dict().str("step").integer(3).op('s').stop().bytes()}}
        << "state dict entry 'step' has type int, not tensor";
    QTest::addRow("deeply nested tuples")
        << Records{{"data.pkl", Pickle().op(')').raw(std::string(200000, '\x85')).stop().bytes()}}
        << "holds a value of type tuple";
    QTest::addRow("storage class called")
        << Records{{"data.pkl", Pickle().global("torch", "FloatStorage").op(')').op('R').stop().bytes()}}
        << "cannot be called";
    QTest::addRow("bool storage holding 2")
        << Records{{"data.pkl", Pickle().empty_ordered_dict().mark().str("m").tensor("BoolStorage", "0", 2, 0, {2}, {1})
                                     .op('u').stop().bytes()},
                   {"data/0", qb("\x01\x02")}}
        << "is bool but holds the byte 2";
    QTest::addRow("key not UTF-8")
        << Records{{"data.pkl", Pickle().empty_ordered_dict().str("\xc3").integer(1).op('s').stop().bytes()}}
        << "is not valid UTF-8";
    QTest::addRow("negative BINSTRING length")
        << Records{{"data.pkl", Pickle().op('T').raw(std::string("\xff\xff\xff\xff", 4)).stop().bytes()}}
        << "negative length";
    QTest::addRow("BUILD with another attribute")
        << Records{{"data.pkl", Pickle().empty_ordered_dict().op('}').str("__class__").op('N').op('s').op('b').stop().bytes()}}
        << "BUILD sets an attribute other than _metadata";
}

void TestTorchArchive::rejectsBadArchive() {
    QFETCH(Records, records);
    QFETCH(QString, problem);
    const QString file = path(QStringLiteral("bad.bin"));
    QFile::remove(file);
    write_archive(file.toStdString(), records);
    try {
        sumlab::load_torch_state_dict(file.toStdString());
        QFAIL("the archive was accepted");
    } catch (const FileError& e) {
        QCOMPARE(qs(e.path()), file);
        const QString message = QString::fromUtf8(e.what());
        QVERIFY2(message.startsWith(file + ": "), qPrintable(message));
        QVERIFY2(message.contains(problem), qPrintable(message));
    }
}

// Files that are not zip archives at all, or broken ones.
void TestTorchArchive::rejectsBadFile_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("problem");
    QTest::addRow("not a zip") << QByteArray("this is plain text, not a checkpoint") << "is not a torch.save zip archive";
    QTest::addRow("empty file") << QByteArray() << "is not a torch.save zip archive";
    QTest::addRow("legacy torch.save") << qb("\x80\x02\x8a\x0a" "lp") << "legacy (pre-1.6)";

    // A good archive cut in half: the zip's central directory is gone.
    QTemporaryDir dir;
    const std::string whole = dir.filePath(QStringLiteral("whole.bin")).toStdString();
    write_archive(whole, {{"data.pkl", one_tensor_pickle(2, 0, {2}, {1})}, {"data/0", floats({1, 2})}});
    QFile f(QString::fromStdString(whole));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    QTest::addRow("truncated zip") << bytes.left(bytes.size() / 2) << "is not a readable torch.save archive";
}

void TestTorchArchive::rejectsBadFile() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, problem);
    const QString file = path(QStringLiteral("bad-file.bin"));
    QVERIFY(write_all(file, bytes));
    try {
        sumlab::load_torch_state_dict(file.toStdString());
        QFAIL("the file was accepted");
    } catch (const FileError& e) {
        QCOMPARE(qs(e.path()), file);
        QVERIFY2(QString::fromUtf8(e.what()).contains(problem), e.what());
    }
}

void TestTorchArchive::reportsMissingFile() {
    const QString file = path(QStringLiteral("missing.bin"));
    try {
        sumlab::load_torch_state_dict(file.toStdString());
        QFAIL("a missing file was accepted");
    } catch (const FileError& e) {
        QCOMPARE(qs(e.path()), file);
        QVERIFY2(QString::fromUtf8(e.what()).contains("cannot open"), e.what());
    }
}

void TestTorchArchive::rejectsIntegerTargetDtype() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::load_torch_state_dict("unused.bin", torch::kInt64));
}

QTEST_GUILESS_MAIN(TestTorchArchive)
#include "tst_torch_archive.moc"
