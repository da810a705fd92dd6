// Tests models/safetensors: every malformed header is a FileError naming the file and the problem;
// reading the golden tiny-flan checkpoint and saving it again reproduces Python's file byte for byte;
// mixed dtypes are laid out as the Rust writer does; views stay valid and never write to the file.
#include "base/errors.h"
#include "models/safetensors.h"

#include <torch/types.h>

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

using sumlab::FileError;
using sumlab::SafetensorsFile;

namespace {

const QString kGoldenDir = QStringLiteral(SUMLAB_SHARED_DIR "/golden/t5/tiny-flan");

QString qs(const std::string& s) { return QString::fromStdString(s); }

// A safetensors file: the u64 little-endian header length (given, or the header's own), header, data.
QByteArray safetensors_bytes(const QByteArray& header, const QByteArray& data, std::optional<uint64_t> length = {}) {
    const uint64_t n = length.value_or(static_cast<uint64_t>(header.size()));
    QByteArray out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + header + data;
}

QByteArray read_all(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

bool write_all(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
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
    const double max_diff = (actual.to(torch::kFloat64) - expected.to(torch::kFloat64)).abs().max().item<double>();
    return QStringLiteral("values differ, max |difference| %1").arg(max_diff);
}

// Index of the first byte where the arrays differ; the shorter size when one is a prefix of the other.
qsizetype first_difference(const QByteArray& a, const QByteArray& b) {
    const qsizetype n = std::min(a.size(), b.size());
    for (qsizetype i = 0; i < n; ++i)
        if (a[i] != b[i]) return i;
    return a.size() == b.size() ? -1 : n;
}

}  // namespace

class TestSafetensors : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();

    void rejectsMalformedFile_data();
    void rejectsMalformedFile();
    void reportsMissingFileAndFolder();
    void reportsUnknownTensorName();

    void readsGolden();
    void roundTripsGoldenByteForByte();

    void writesPythonLayout();
    void roundTripsEveryDtype_data();
    void roundTripsEveryDtype();
    void loadConvertsToRequestedDtype_data();
    void loadConvertsToRequestedDtype();
    void savesNonContiguousTensor();

    void viewCopiesMisalignedData();
    void viewOutlivesFile();
    void viewWritesNeverReachFile();
    void rejectsNonBooleanBytes();

    void saveRejectsBadInput_data();
    void saveRejectsBadInput();
    void saveReportsUnwritableFolder();

private:
    QString path(const QString& name) const { return dir_.filePath(name); }
    QTemporaryDir dir_;
};

void TestSafetensors::initTestCase() { QVERIFY2(dir_.isValid(), qPrintable(dir_.errorString())); }

// Each row is one malformed file; opening it must throw a FileError naming the file and the problem.
void TestSafetensors::rejectsMalformedFile_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("problem");  // a fragment the message must contain

    const QByteArray f32_2 = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
    const QByteArray eight(8, '\0');

    QTest::addRow("empty file") << QByteArray() << "too short";
    QTest::addRow("truncated length") << QByteArray(5, '\x10') << "too short";
    QTest::addRow("header length beyond end of file")
        << safetensors_bytes("{" + f32_2 + "}", eight, 1000) << "runs past the end of the file";
    QTest::addRow("absurd header length")
        << safetensors_bytes("{}", {}, uint64_t{1} << 40) << "larger than the 100 MB limit";
    QTest::addRow("bad JSON") << safetensors_bytes(R"({"a":{"dtype":)", {}) << "header is not valid JSON";
    QTest::addRow("NUL padding after JSON") << safetensors_bytes(QByteArray("{}\0\0", 4), {}) << "contains a NUL byte";
    QTest::addRow("trailing garbage after JSON") << safetensors_bytes("{} x", {}) << "header is not valid JSON";
    QTest::addRow("header not UTF-8")
        << safetensors_bytes("{\"\xff\xfe\":{}}", {}) << "header is not valid JSON";
    QTest::addRow("header not an object") << safetensors_bytes("[1,2]", {}) << "header is not a JSON object";
    QTest::addRow("duplicate tensor name")
        << safetensors_bytes("{" + f32_2 + "," + f32_2 + "}", eight) << "header lists the key 'a' twice";
    QTest::addRow("entry not an object") << safetensors_bytes(R"({"a":[1]})", {}) << "tensor 'a': its header entry is not a JSON object";
    QTest::addRow("missing dtype")
        << safetensors_bytes(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", eight) << "tensor 'a' has no dtype";
    QTest::addRow("missing shape")
        << safetensors_bytes(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", eight) << "tensor 'a' has no shape";
    QTest::addRow("missing data_offsets")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2]}})", eight) << "tensor 'a' has no data_offsets";
    QTest::addRow("bad dtype")
        << safetensors_bytes(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", eight)
        << "tensor 'a' has the unknown dtype 'Q4'";
    QTest::addRow("dtype not a string")
        << safetensors_bytes(R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", eight) << "dtype is not a string";
    QTest::addRow("shape not a list")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", eight) << "shape is not a list";
    QTest::addRow("negative dimension")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight)
        << "negative dimension -2";
    QTest::addRow("non-integer dimension")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", eight)
        << "non-integer dimension 2.5";
    QTest::addRow("shape product overflows")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", eight)
        << "overflows";
    QTest::addRow("byte size overflows")
        << safetensors_bytes(R"({"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}})", eight)
        << "overflows";
    QTest::addRow("offsets not a pair")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}})", eight)
        << "is not [begin, end]";
    QTest::addRow("negative offset")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", eight)
        << "is not [begin, end]";
    QTest::addRow("offsets reversed")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", eight)
        << "ends before it begins";
    QTest::addRow("offsets out of range")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", eight)
        << "run past the end of the data section (8 bytes)";
    QTest::addRow("size mismatch")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", QByteArray(4, '\0'))
        << "hold 4 bytes, but F32 [2] needs 8";
    QTest::addRow("overlap")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                             QByteArray(12, '\0'))
        << "tensors 'a' and 'b' overlap";
    QTest::addRow("hole")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                             QByteArray(12, '\0'))
        << "bytes 4 to 8 of the data section belong to no tensor (a hole before 'b')";
    QTest::addRow("trailing bytes")
        << safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight)
        << "the tensors cover only 4";
    QTest::addRow("metadata not an object")
        << safetensors_bytes(R"({"__metadata__":"pt"})", {}) << "__metadata__ is not an object";
    QTest::addRow("metadata value not a string")
        << safetensors_bytes(R"({"__metadata__":{"format":1}})", {}) << "__metadata__ value for 'format' is not a string";
}

void TestSafetensors::rejectsMalformedFile() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, problem);
    const QString file = path(QStringLiteral("bad.safetensors"));
    QVERIFY(write_all(file, bytes));
    try {
        SafetensorsFile st(file.toStdString());
        QFAIL("the file was accepted");
    } catch (const FileError& e) {
        QCOMPARE(qs(e.path()), file);
        const QString message = QString::fromUtf8(e.what());
        QVERIFY2(message.startsWith(file + ": "), qPrintable(message));
        QVERIFY2(message.contains(problem), qPrintable(message));
    }
}

void TestSafetensors::reportsMissingFileAndFolder() {
    const QString missing = path(QStringLiteral("missing.safetensors"));
    QVERIFY_THROWS_EXCEPTION(FileError, SafetensorsFile(missing.toStdString()));
    try {
        SafetensorsFile st(dir_.path().toStdString());
        QFAIL("a folder was accepted");
    } catch (const FileError& e) {
        QCOMPARE(qs(e.path()), dir_.path());
        QVERIFY2(QString::fromUtf8(e.what()).contains("not a regular file"), e.what());
    }
}

void TestSafetensors::reportsUnknownTensorName() {
    const QString file = path(QStringLiteral("one.safetensors"));
    sumlab::save_safetensors(file.toStdString(), {{"a", torch::ones({2})}});
    SafetensorsFile st(file.toStdString());
    QCOMPARE(st.contains("a"), true);
    QCOMPARE(st.contains("b"), false);
    try {
        st.load("b");
        QFAIL("an unknown name was loaded");
    } catch (const FileError& e) {
        QCOMPARE(qs(e.path()), file);
        QVERIFY2(QString::fromUtf8(e.what()).contains("has no tensor named 'b'"), e.what());
    }
}

void TestSafetensors::readsGolden() {
    const QString file = kGoldenDir + "/model.safetensors";
    if (!QFile::exists(file)) QSKIP(qPrintable("golden checkpoint not found: " + file));
    SafetensorsFile st(file.toStdString());
    QCOMPARE(st.entries().size(), size_t{52});
    QCOMPARE(st.metadata().size(), size_t{1});
    QCOMPARE(qs(st.metadata().at("format")), QStringLiteral("pt"));
    for (size_t i = 1; i < st.entries().size(); ++i)
        QVERIFY2(st.entries()[i - 1].name < st.entries()[i].name, "entries are not sorted by name");

    const sumlab::SafetensorsEntry& shared = st.entry("shared.weight");
    QCOMPARE(qs(shared.dtype), QStringLiteral("F32"));
    QCOMPARE(qs(c10::str(c10::IntArrayRef(shared.shape))), QStringLiteral("[2112, 64]"));
    QCOMPARE(shared.end - shared.begin, size_t{2112 * 64 * 4});

    const torch::Tensor view = st.view("shared.weight");
    const torch::Tensor loaded = st.load("shared.weight");
    QCOMPARE(difference(loaded, view), QString());
    QVERIFY2(loaded.data_ptr() != view.data_ptr(), "load() must return an owned copy");
    QCOMPARE(st.view("shared.weight").data_ptr(), view.data_ptr());  // views share the mapping
    QCOMPARE(difference(st.load("shared.weight", torch::kFloat16), view.to(torch::kFloat16)), QString());
}

// Python wrote the golden file; re-saving what we read must give the same bytes.
void TestSafetensors::roundTripsGoldenByteForByte() {
    const QString file = kGoldenDir + "/model.safetensors";
    if (!QFile::exists(file)) QSKIP(qPrintable("golden checkpoint not found: " + file));
    SafetensorsFile st(file.toStdString());
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    // Reverse order: the writer must sort, whatever order it is given.
    for (auto it = st.entries().rbegin(); it != st.entries().rend(); ++it) tensors.emplace_back(it->name, st.view(it->name));
    const QString copy = path(QStringLiteral("golden-copy.safetensors"));
    sumlab::save_safetensors(copy.toStdString(), tensors, st.metadata());

    const QByteArray expected = read_all(file);
    const QByteArray actual = read_all(copy);
    QCOMPARE(actual.size(), expected.size());
    QCOMPARE(first_difference(actual, expected), qsizetype{-1});
}

// The Rust writer behind Python's save_file orders tensors by descending dtype (I64, F64, F32, I32,
// BF16, F16, I16, I8, U8, BOOL), then by name; __metadata__ comes first; the header is padded with
// spaces to a multiple of 8.
void TestSafetensors::writesPythonLayout() {
    const QString file = path(QStringLiteral("layout.safetensors"));
    sumlab::save_safetensors(file.toStdString(),
                             {{"b", torch::tensor({1.0f, 2.0f})},
                              {"a", torch::tensor({3.0}, torch::kFloat16)},
                              {"c", torch::tensor({int64_t{7}})},
                              {"flag", torch::tensor({true, false})},
                              {"A", torch::tensor({4.0f})}},
                             {{"z", "last"}, {"format", "pt"}});
    const QByteArray header =
        R"({"__metadata__":{"format":"pt","z":"last"},)"
        R"("c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)"
        R"("A":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},)"
        R"("a":{"dtype":"F16","shape":[1],"data_offsets":[20,22]},)"
        R"("flag":{"dtype":"BOOL","shape":[2],"data_offsets":[22,24]}})";
    const QByteArray padded = header + QByteArray((8 - header.size() % 8) % 8, ' ');
    QByteArray data;
    const int64_t c = 7;
    const float A = 4.0f, b[2] = {1.0f, 2.0f};
    const uint16_t a = 0x4200;  // 3.0 in IEEE half precision
    data.append(reinterpret_cast<const char*>(&c), 8);
    data.append(reinterpret_cast<const char*>(&A), 4);
    data.append(reinterpret_cast<const char*>(b), 8);
    data.append(reinterpret_cast<const char*>(&a), 2);
    data.append("\x01\x00", 2);
    const QByteArray expected = safetensors_bytes(padded, data);
    const QByteArray actual = read_all(file);
    QCOMPARE(actual.size(), expected.size());
    QCOMPARE(first_difference(actual, expected), qsizetype{-1});
}

void TestSafetensors::roundTripsEveryDtype_data() {
    QTest::addColumn<int>("dtype");  // a torch::Dtype
    QTest::addColumn<QString>("name");
    QTest::addRow("F64") << int(torch::kFloat64) << "F64";
    QTest::addRow("F32") << int(torch::kFloat32) << "F32";
    QTest::addRow("F16") << int(torch::kFloat16) << "F16";
    QTest::addRow("BF16") << int(torch::kBFloat16) << "BF16";
    QTest::addRow("I64") << int(torch::kInt64) << "I64";
    QTest::addRow("I32") << int(torch::kInt32) << "I32";
    QTest::addRow("I16") << int(torch::kInt16) << "I16";
    QTest::addRow("I8") << int(torch::kInt8) << "I8";
    QTest::addRow("U8") << int(torch::kUInt8) << "U8";
    QTest::addRow("BOOL") << int(torch::kBool) << "BOOL";
}

void TestSafetensors::roundTripsEveryDtype() {
    QFETCH(int, dtype);
    QFETCH(QString, name);
    const auto type = static_cast<torch::Dtype>(dtype);
    const torch::Tensor values = type == torch::kBool ? torch::arange(12).remainder(2).to(type).reshape({3, 4})
                                                      : torch::arange(12).add(type == torch::kUInt8 ? 0 : -5).to(type).reshape({3, 4});
    const torch::Tensor scalar = torch::ones({}, torch::TensorOptions().dtype(type));
    const torch::Tensor empty = torch::empty({0, 3}, torch::TensorOptions().dtype(type));
    const QString file = path("dtype-" + name + ".safetensors");
    sumlab::save_safetensors(file.toStdString(), {{"values", values}, {"scalar", scalar}, {"empty", empty}});

    SafetensorsFile st(file.toStdString());
    QCOMPARE(st.entries().size(), size_t{3});
    QCOMPARE(qs(st.entry("values").dtype), name);
    QCOMPARE(difference(st.view("values"), values), QString());
    QCOMPARE(difference(st.view("scalar"), scalar), QString());
    QCOMPARE(difference(st.view("empty"), empty), QString());
    QCOMPARE(difference(st.load("values", type), values), QString());
    QCOMPARE(difference(st.load("values"), values.to(torch::kFloat32)), QString());
}

void TestSafetensors::loadConvertsToRequestedDtype_data() {
    QTest::addColumn<int>("stored");
    QTest::addColumn<int>("requested");
    QTest::addRow("F16 -> F32") << int(torch::kFloat16) << int(torch::kFloat32);
    QTest::addRow("BF16 -> F32") << int(torch::kBFloat16) << int(torch::kFloat32);
    QTest::addRow("F32 -> BF16") << int(torch::kFloat32) << int(torch::kBFloat16);
    QTest::addRow("F64 -> F32") << int(torch::kFloat64) << int(torch::kFloat32);
}

void TestSafetensors::loadConvertsToRequestedDtype() {
    QFETCH(int, stored);
    QFETCH(int, requested);
    const torch::Tensor values = torch::tensor({0.5, -1.25, 3.0, 1e-3}).to(static_cast<torch::Dtype>(stored));
    const QString file = path(QStringLiteral("convert.safetensors"));
    sumlab::save_safetensors(file.toStdString(), {{"w", values}});
    SafetensorsFile st(file.toStdString());
    const torch::Tensor loaded = st.load("w", static_cast<torch::Dtype>(requested));
    QCOMPARE(difference(loaded, values.to(static_cast<torch::Dtype>(requested))), QString());
}

void TestSafetensors::savesNonContiguousTensor() {
    const torch::Tensor base = torch::arange(6, torch::kFloat32).reshape({2, 3});
    const torch::Tensor transposed = base.t();
    QVERIFY(!transposed.is_contiguous());
    const QString file = path(QStringLiteral("transposed.safetensors"));
    sumlab::save_safetensors(file.toStdString(), {{"t", transposed}, {"slice", base.select(1, 1)}});
    SafetensorsFile st(file.toStdString());
    QCOMPARE(difference(st.view("t"), transposed.contiguous()), QString());
    QCOMPARE(difference(st.view("slice"), base.select(1, 1).contiguous()), QString());
}

// A header not padded to 8 bytes leaves F32 data at an odd address: view() must copy, not misread.
void TestSafetensors::viewCopiesMisalignedData() {
    const QByteArray header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    QVERIFY(header.size() % 4 != 0);
    const float values[2] = {1.5f, -2.0f};
    const QString file = path(QStringLiteral("misaligned.safetensors"));
    QVERIFY(write_all(file, safetensors_bytes(header, QByteArray(reinterpret_cast<const char*>(values), 8))));
    SafetensorsFile st(file.toStdString());
    const torch::Tensor view = st.view("a");
    QCOMPARE(reinterpret_cast<uintptr_t>(view.data_ptr()) % alignof(float), uintptr_t{0});
    QCOMPARE(difference(view, torch::tensor({1.5f, -2.0f})), QString());
}

void TestSafetensors::viewOutlivesFile() {
    const QString file = path(QStringLiteral("outlive.safetensors"));
    sumlab::save_safetensors(file.toStdString(), {{"w", torch::arange(16, torch::kFloat32)}});
    torch::Tensor view;
    {
        SafetensorsFile st(file.toStdString());
        view = st.view("w");
    }
    QCOMPARE(difference(view, torch::arange(16, torch::kFloat32)), QString());
}

void TestSafetensors::viewWritesNeverReachFile() {
    const QString file = path(QStringLiteral("cow.safetensors"));
    sumlab::save_safetensors(file.toStdString(), {{"w", torch::zeros({8})}});
    const QByteArray before = read_all(file);
    {
        SafetensorsFile st(file.toStdString());
        st.view("w").fill_(3.0f);
    }
    QCOMPARE(first_difference(read_all(file), before), qsizetype{-1});
}

void TestSafetensors::rejectsNonBooleanBytes() {
    const QString file = path(QStringLiteral("bool.safetensors"));
    QVERIFY(write_all(file, safetensors_bytes(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}     )",
                                              QByteArray("\x01\x02\x00", 3))));
    SafetensorsFile st(file.toStdString());  // the header is fine; the data is checked when read
    try {
        st.load("m");
        QFAIL("a BOOL byte of 2 was accepted");
    } catch (const FileError& e) {
        QCOMPARE(qs(e.path()), file);
        QVERIFY2(QString::fromUtf8(e.what()).contains("holds the byte 2 at element 1"), e.what());
    }
}

// Each row is a save that must be refused; the file that was there stays untouched and no
// temporary file is left behind.
void TestSafetensors::saveRejectsBadInput_data() {
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("problem");
    QTest::addRow("duplicate name") << 0 << "the tensor name 'w' appears twice";
    QTest::addRow("reserved name") << 1 << "'__metadata__' is reserved";
    QTest::addRow("undefined tensor") << 2 << "tensor 'w' is undefined";
    QTest::addRow("complex dtype") << 3 << "which safetensors cannot store";
    QTest::addRow("name not UTF-8") << 4 << "is not valid UTF-8";
    QTest::addRow("sparse tensor") << 5 << "is not dense";
}

void TestSafetensors::saveRejectsBadInput() {
    QFETCH(int, which);
    QFETCH(QString, problem);
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    switch (which) {
        case 0: tensors = {{"w", torch::ones({1})}, {"w", torch::ones({2})}}; break;
        case 1: tensors = {{"__metadata__", torch::ones({1})}}; break;
        case 2: tensors = {{"w", torch::Tensor()}}; break;
        case 3: tensors = {{"w", torch::ones({2}, torch::kComplexFloat)}}; break;
        case 4: tensors = {{"w\xff", torch::ones({2})}}; break;
        case 5: tensors = {{"w", torch::ones({2, 2}).to_sparse()}}; break;
    }
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(QStringLiteral("keep.safetensors"));
    QVERIFY(write_all(file, "old contents"));
    try {
        sumlab::save_safetensors(file.toStdString(), tensors);
        QFAIL("the save was accepted");
    } catch (const FileError& e) {
        QCOMPARE(qs(e.path()), file);
        QVERIFY2(QString::fromUtf8(e.what()).contains(problem), e.what());
    }
    QCOMPARE(read_all(file), QByteArray("old contents"));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("keep.safetensors")});
}

void TestSafetensors::saveReportsUnwritableFolder() {
    const QString file = path(QStringLiteral("no-such-folder/model.safetensors"));
    try {
        sumlab::save_safetensors(file.toStdString(), {{"w", torch::ones({1})}});
        QFAIL("saving into a missing folder succeeded");
    } catch (const FileError& e) {
        QCOMPARE(qs(e.path()), file);
        QVERIFY2(QString::fromUtf8(e.what()).contains("cannot create temporary file"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
