// Hardening regressions (docs/RELIABILITY.md): every input a fuzzer crashed on (fuzz/regressions/<target>/)
// and every resource limit, run through the normal parsers. Each must end in a sumlab::Error whose
// message names the file and the problem, before any large allocation; none may crash.
#include <torch/torch.h>

#include "engine/data/csv.h"
#include "engine/data/dialogsum.h"
#include "engine/hub/hub_parse.h"
#include "engine/metrics/human_eval.h"
#include "engine/text/sentencepiece_plugin/sentencepiece_api.h"
#include "engine/training/trainer.h"
#include "engine/training/training_arguments.h"
#include "base/errors.h"
#include "models/lora.h"
#include "models/safetensors.h"
#include "models/t5/t5_config.h"
#include "models/torch_archive.h"

#include <caffe2/serialize/inline_container.h>
#include <nlohmann/json.hpp>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <dlfcn.h>
#include <functional>
#include <memory>
#include <string>

using namespace sumlab;

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

bool write_all(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

// Runs `parse` and returns the sumlab::Error's message; fails the test when it succeeds or throws
// anything else.
QString error_of(const std::function<void()>& parse) {
    try {
        parse();
    } catch (const Error& e) {
        return QString::fromUtf8(e.what());
    } catch (const std::exception& e) {
        return QStringLiteral("NOT A sumlab::Error: ") + QString::fromUtf8(e.what());
    }
    return QStringLiteral("NO ERROR: the input was accepted");
}

// HTTP header lines, one per line, as libcurl hands them to the Hub client.
hub::ResponseHeaders headers_of(const QByteArray& lines) {
    hub::ResponseHeaders h;
    for (const QByteArray& line : lines.split('\n')) h.add_line(line.toStdString());
    return h;
}

// A list nested `depth` deep, as JSON text.
QByteArray nested_list(int depth) { return QByteArray(depth, '[') + QByteArray(depth, ']'); }

// A torch.save archive written by LibTorch itself.
QByteArray archive_bytes(const std::vector<std::pair<std::string, std::string>>& records) {
    std::string out;
    caffe2::serialize::PyTorchStreamWriter writer([&out](const void* p, size_t n) {
        out.append(static_cast<const char*>(p), n);
        return n;
    });
    for (const auto& [name, bytes] : records) writer.writeRecord(name, bytes.data(), bytes.size());
    writer.writeEndOfFile();
    return QByteArray(out.data(), static_cast<qsizetype>(out.size()));
}

// The bytes of a string literal, embedded NULs included.
template <size_t N>
std::string b(const char (&literal)[N]) {
    return std::string(literal, N - 1);
}
template <size_t N>
QByteArray qb(const char (&literal)[N]) {
    return QByteArray(literal, N - 1);
}

// OrderedDict({'w': _rebuild_tensor_v2(FloatStorage '0' of 2 elements, 0, size, stride, False, OrderedDict())}),
// as protocol-2 pickle bytes; `size` and `stride` are pickled tuples.
std::string one_tensor_pickle(const std::string& size, const std::string& stride) {
    return b("\x80\x02" "ccollections\nOrderedDict\n)R(" "X\x01\x00\x00\x00w" "ctorch._utils\n_rebuild_tensor_v2\n(") +
           b("(X\x07\x00\x00\x00storage" "ctorch\nFloatStorage\n" "X\x01\x00\x00\x00" "0" "X\x03\x00\x00\x00" "cpu" "K\x02tQ") +
           b("K\x00") + size + stride + b("\x89" "ccollections\nOrderedDict\n)R" "tRu.");
}

// Calls the SentencePiece plugin's entry point as engine/text/tokenizer.cpp does; true when it loaded.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SUMLAB_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SUMLAB_SANITIZED 1
#endif
#endif

bool load_sentencepiece(const std::string& model, std::string* error) {
    static void* handle = ::dlopen(SUMLAB_BIN_DIR "/libsumlab_sentencepiece.so", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!handle) {
        *error = std::string("cannot load the plugin: ") + ::dlerror();
        return false;
    }
    auto load = reinterpret_cast<sumlab_sentencepiece_load_fn>(::dlsym(handle, "sumlab_sentencepiece_load"));
    if (!load) {
        *error = "the plugin lacks sumlab_sentencepiece_load";
        return false;
    }
    std::unique_ptr<SentencePieceModel> m(load(model.c_str(), error));
    return m != nullptr;
}

}  // namespace

class TestFuzzRegressions : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void fuzzerFindings_data();
    void fuzzerFindings();
    void absurdModelConfig_data();
    void absurdModelConfig();
    void absurdGenerationConfig_data();
    void absurdGenerationConfig();
    void hugeFilesRefusedBeforeReading();
    void deepNestingInErrorMessages();
    void tensorLargerThanItsStorage();
    void forgedZipSizeRefusedBeforeAllocation();
    void unknownCallablesNeverRun_data();
    void unknownCallablesNeverRun();
    void pluginStillLoadsARealModel();
    void hubFileHeaders_data();
    void hubFileHeaders();
    void hubRepositoryJson_data();
    void hubRepositoryJson();
    void hubNumbersInHeaders();
    void runFolderNumbersOutOfRange();
    void trainerState_data();
    void trainerState();

private:
    QString path(const QString& name) const { return m_dir.filePath(name); }
    QTemporaryDir m_dir;
};

// ---- Inputs the fuzzers found (fuzz/regressions/<target>/<file>) ----------------------------------

void TestFuzzRegressions::fuzzerFindings_data() {
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("problem");
    // One row per input a fuzzing round crashed on; docs/RELIABILITY.md says what each did before its fix.
    QTest::addRow("sentencepiece: trie builder throws") << "fuzz_sentencepiece_load" << "darts-trie-throws.model"
                                                        << "SentencePiece failed on it";
    QTest::addRow("torch.save: damaged local header (LibTorch leak)") << "fuzz_torch_archive" << "leak-broken-zip-directory"
                                                                      << "does not match its local header";
    QTest::addRow("torch.save: empty zip directory (LibTorch leak)") << "fuzz_torch_archive" << "leak-empty-zip-directory"
                                                                     << "the zip archive is empty";
    QTest::addRow("hub: status line 020") << "fuzz_hub_responses" << "status-line-020" << "status 0";
}

void TestFuzzRegressions::fuzzerFindings() {
    QFETCH(QString, target);
    QFETCH(QString, file);
    QFETCH(QString, problem);
    const QString input = QStringLiteral(SUMLAB_SOURCE_DIR "/fuzz/regressions/") + target + "/" + file;
    QFile f(input);
    QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(input));
    const QByteArray bytes = f.readAll();
    const std::string body = bytes.mid(1).toStdString();  // the targets read their mode from byte 0
    QString message;
    if (target == "fuzz_safetensors" || target == "fuzz_torch_archive") {
        // fuzz_torch_archive mode 1 packs the bytes as data.pkl; those are replayed as whole files here.
        if (target == "fuzz_torch_archive" && (bytes.at(0) & 1)) QFAIL("store a mode-0 (whole file) input for fuzz_torch_archive");
        const QString p = path(file);
        QVERIFY(write_all(p, target == "fuzz_safetensors" ? bytes : bytes.mid(1)));
        message = error_of([&] {
            if (target == "fuzz_safetensors") SafetensorsFile f(p.toStdString());
            else load_torch_state_dict(p.toStdString());
        });
        QVERIFY2(message.contains(p), qPrintable(message));
    } else if (target == "fuzz_config_json") {
        const QString p = path("config.json");
        QVERIFY(write_all(p, bytes.mid(1)));
        message = error_of([&] { T5Config::from_file(p.toStdString()); });
        QVERIFY2(message.contains(p), qPrintable(message));
    } else if (target == "fuzz_sentencepiece_load") {
#ifdef SUMLAB_SANITIZED
        QSKIP("the SentencePiece plugin is refused in sanitizer builds that link LibTorch (see engine/text/tokenizer.cpp)");
#endif
        // The plugin's entry point itself (T5Tokenizer adds the file name to its error text).
        const QString p = path(file);
        QVERIFY(write_all(p, bytes));
        std::string why;
        message = load_sentencepiece(p.toStdString(), &why) ? QStringLiteral("NO ERROR: the model loaded") : QString::fromStdString(why);
        QVERIFY2(!why.empty(), "the plugin failed without saying why");
    } else if (target == "fuzz_dialogsum") {
        message = error_of([&] {
            const int mode = bytes.at(0) & 3;  // as fuzz_dialogsum reads it; 3 detects the format
            const DataFormat format = mode == 3 ? detect_format("fuzz-input", body) : static_cast<DataFormat>(mode);
            LoadOptions options;
            options.on_bad_row = (bytes.at(0) & 4) ? BadRowPolicy::skip : BadRowPolicy::fail;
            parse_dialogsum(body, format, Split::train, "fuzz-input", options);
        });
        QVERIFY2(message.contains("fuzz-input"), qPrintable(message));
    } else if (target == "fuzz_hub_responses") {
        // What the target checks of the header part (after "--8<--"): a status is 0 or 100..999.
        const qsizetype sep = bytes.indexOf("\n--8<--\n");
        const auto h = headers_of(sep < 0 ? QByteArray() : bytes.mid(sep + 8));
        message = QStringLiteral("status %1").arg(h.status);
        QVERIFY2(message == "status 0" || (h.status >= 100 && h.status <= 999), qPrintable(message));
    } else if (target == "fuzz_rating_file") {
        // The reader, which every other check of the target starts from (a file that does not read ends there).
        const QString p = path(file);
        QVERIFY(write_all(p, bytes.mid(1)));
        message = error_of([&] { read_rating_file(p.toStdString()); });
        QVERIFY2(message.contains(p), qPrintable(message));
    } else {
        QFAIL(qPrintable("no replay for " + target));
    }
    QVERIFY2(message.contains(problem), qPrintable(message));
}

// ---- Absurd configs are refused before anything is allocated ------------------------------------

void TestFuzzRegressions::absurdModelConfig_data() {
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("problem");
    QTest::addRow("d_model 10^9") << R"({"d_model": 1000000000})" << "d_model" << "outside [1, 65536]";
    QTest::addRow("10^6 layers") << R"({"num_layers": 1000000})" << "num_layers" << "outside [1, 512]";
    QTest::addRow("10^6 decoder layers") << R"({"num_decoder_layers": 1000000})" << "num_decoder_layers" << "outside";
    QTest::addRow("vocab 0") << R"({"vocab_size": 0})" << "vocab_size" << "outside [1, 10000000]";
    QTest::addRow("negative d_ff") << R"({"d_ff": -4})" << "d_ff" << "outside";
    QTest::addRow("2^64-1 heads") << R"({"num_heads": 18446744073709551615})" << "num_heads"
                                  << "value 18446744073709551615 is outside [1, 1024]";
    QTest::addRow("d_kv as a float") << R"({"d_kv": 64.5})" << "d_kv" << "must be an integer, got 64.5";
    QTest::addRow("token id 2^64-1") << R"({"eos_token_id": [18446744073709551615]})" << "eos_token_id" << "too large";
    // Each value within its own bound, but together 10^7 x 65536 embeddings: 655 billion parameters.
    QTest::addRow("every bound at once")
        << R"({"vocab_size": 10000000, "d_model": 65536, "d_ff": 262144, "num_layers": 512, "num_heads": 1024, "d_kv": 65536})"
        << "" << "more than the 16 billion SumLab will allocate";
    QTest::addRow("T5-XXL x 2 layers") << R"({"vocab_size": 32128, "d_model": 4096, "d_ff": 10240, "num_layers": 200, "num_heads": 64, "d_kv": 64})"
                                       << "" << "parameters";
}

void TestFuzzRegressions::absurdModelConfig() {
    QFETCH(QString, json);
    QFETCH(QString, key);
    QFETCH(QString, problem);
    const QString p = path("config.json");
    QVERIFY(write_all(p, json.toUtf8()));
    try {
        T5Config::from_file(p.toStdString());
        QFAIL("accepted");
    } catch (const ConfigError& e) {
        QCOMPARE(qs(e.path()), p);
        QCOMPARE(qs(e.key()), key);
        QVERIFY2(QString::fromUtf8(e.what()).contains(problem), e.what());
    }
}

void TestFuzzRegressions::absurdGenerationConfig_data() {
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("key");
    QTest::addRow("negative max_new_tokens") << R"({"max_new_tokens": -5})" << "max_new_tokens";
    QTest::addRow("zero max_length") << R"({"max_length": 0})" << "max_length";
    QTest::addRow("negative min_length") << R"({"min_length": -1})" << "min_length";
    QTest::addRow("10^9 beams") << R"({"num_beams": 1000000000})" << "num_beams";
    QTest::addRow("10^12 new tokens") << R"({"max_new_tokens": 1000000000000})" << "max_new_tokens";
    QTest::addRow("negative ngram size") << R"({"no_repeat_ngram_size": -2})" << "no_repeat_ngram_size";
    QTest::addRow("num_beams a list") << R"({"num_beams": [[[[1]]]]})" << "num_beams";
}

void TestFuzzRegressions::absurdGenerationConfig() {
    QFETCH(QString, json);
    QFETCH(QString, key);
    QVERIFY(write_all(path("generation_config.json"), json.toUtf8()));
    try {
        GenerationConfig::from_model_dir(m_dir.path().toStdString(), T5Config{});
        QFAIL("accepted");
    } catch (const ConfigError& e) {
        QCOMPARE(qs(e.path()), path("generation_config.json"));
        QCOMPARE(qs(e.key()), key);
    }
    QFile::remove(path("generation_config.json"));
}

// ---- Files too large to hold are refused from their size, before a byte is read ----------------

void TestFuzzRegressions::hugeFilesRefusedBeforeReading() {
    // Sparse files: their size is what a real one would have, without using the disk.
    auto sparse = [&](const QString& name, qint64 size, const QByteArray& head) {
        const QString p = path(name);
        QFile f(p);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(head) != head.size() || !f.resize(size)) return QString();
        return p;
    };
    QVERIFY(QDir(m_dir.path()).mkpath("big"));
    const QString cfg = sparse("big/config.json", qint64{3} << 30, "{");
    QVERIFY(!cfg.isEmpty());
    QString message = error_of([&] { T5Config::from_file(cfg.toStdString()); });
    QVERIFY2(message.startsWith(cfg) && message.contains("too large for a JSON config"), qPrintable(message));
    const QString adapter = sparse("big/adapter_config.json", qint64{1} << 30, "{");
    message = error_of([&] { LoraConfig::from_file(adapter.toStdString()); });
    QVERIFY2(message.startsWith(adapter) && message.contains("too large for a JSON config"), qPrintable(message));
    // A dataset larger than any machine's quarter of memory (1 TiB, sparse).
    const QString csv = sparse("big/train.csv", qint64{1} << 40, "id,dialogue,summary\n");
    QVERIFY2(!csv.isEmpty(), "cannot create a 1 TiB sparse file here");
    message = error_of([&] { load_dialogsum(csv.toStdString()); });
    QVERIFY2(message.startsWith(csv) && message.contains("refuses files over"), qPrintable(message));
    message = error_of([&] { read_csv(csv.toStdString()); });
    QVERIFY2(message.contains("refuses files over"), qPrintable(message));
    // A 2 TiB weights file: whatever the header says, a FileError naming it, not a crash.
    QByteArray st(8, '\0');
    st[0] = 2;
    const QString weights = sparse("big/model.safetensors", qint64{1} << 41, st + "{}");
    QVERIFY(!weights.isEmpty());
    message = error_of([&] { SafetensorsFile f(weights.toStdString()); });
    QVERIFY2(message.startsWith(weights + ": "), qPrintable(message));
}

// Error messages quote values from the file; a list nested 100,000 deep must not blow the stack.
void TestFuzzRegressions::deepNestingInErrorMessages() {
    const QByteArray deep = nested_list(100000);
    const QString cfg = path("config.json");
    QVERIFY(write_all(cfg, "{\"d_model\": " + deep + "}"));
    QString message = error_of([&] { T5Config::from_file(cfg.toStdString()); });
    QVERIFY2(message.contains("must be an integer, got a list"), qPrintable(message.left(300)));

    QByteArray header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":" + deep + "}}";
    QByteArray file(8, '\0');
    const quint64 n = static_cast<quint64>(header.size());
    for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    QVERIFY(write_all(path("deep.safetensors"), file + header));
    message = error_of([&] { SafetensorsFile f(path("deep.safetensors").toStdString()); });
    QVERIFY2(message.contains("(a nested or long list) is not [begin, end]"), qPrintable(message.left(300)));
}

// ---- torch.save: sizes checked against the storage and the zip directory ------------------------

void TestFuzzRegressions::tensorLargerThanItsStorage() {
    // size (2^30, 2^30) with stride (0, 0) reads only element 0 of a 2-element storage, but the loader
    // would allocate 2^60 floats for it: refused.
    const std::string huge = b("(J\x00\x00\x00\x40J\x00\x00\x00\x40t");
    const std::string zeros = b("(K\x00K\x00t");
    const QByteArray bytes = archive_bytes({{"data.pkl", one_tensor_pickle(huge, zeros)}, {"data/0", std::string(8, '\0')}});
    QVERIFY(write_all(path("expand.bin"), bytes));
    const QString message = error_of([&] { load_torch_state_dict(path("expand.bin").toStdString()); });
    QVERIFY2(message.startsWith(path("expand.bin")) && message.contains("overlapping strides are not supported"), qPrintable(message));
}

void TestFuzzRegressions::forgedZipSizeRefusedBeforeAllocation() {
    // A good archive whose central directory then claims data/0 inflates to 4 GiB - 2 from its 8 bytes
    // (method deflate): PyTorchStreamReader would allocate the claimed size before inflating.
    QByteArray bytes = archive_bytes({{"data.pkl", one_tensor_pickle(b("(K\x02t"), b("(K\x01t"))},
                                      {"data/0", std::string(8, '\0')}});
    const int entry = bytes.indexOf("PK\x01\x02", 0);
    int at = entry;
    bool patched = false;
    while (at >= 0) {
        const int name_len = static_cast<uint8_t>(bytes[at + 28]) | (static_cast<uint8_t>(bytes[at + 29]) << 8);
        if (bytes.mid(at + 46, name_len).endsWith("data/0")) {
            bytes[at + 10] = 8;  // method: deflate
            for (int i = 0; i < 4; ++i) bytes[at + 24 + i] = static_cast<char>(i == 0 ? 0xfe : 0xff);
            patched = true;
        }
        at = bytes.indexOf("PK\x01\x02", at + 4);
    }
    QVERIFY(patched);
    QVERIFY(write_all(path("forged.bin"), bytes));
    const QString message = error_of([&] { load_torch_state_dict(path("forged.bin").toStdString()); });
    QVERIFY2(message.startsWith(path("forged.bin")), qPrintable(message));
    QVERIFY2(!message.startsWith("NOT A") && !message.startsWith("NO ERROR"), qPrintable(message));
}

// A pickle may name only the state-dict globals; whatever else it names is refused before it could
// be called, with the file and the global in the message.
void TestFuzzRegressions::unknownCallablesNeverRun_data() {
    QTest::addColumn<QByteArray>("pickle");
    QTest::addColumn<QString>("problem");
    QTest::addRow("os.system via GLOBAL") << qb("\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00lsq\x01\x85R.")
                                         << "the global 'os.system' is not allowed";
    QTest::addRow("subprocess.Popen") << qb("\x80\x02" "csubprocess\nPopen\n)R.") << "the global 'subprocess.Popen' is not allowed";
    QTest::addRow("builtins.getattr") << qb("\x80\x02" "cbuiltins\ngetattr\n.") << "the global 'builtins.getattr' is not allowed";
    QTest::addRow("torch.load inside") << qb("\x80\x02" "ctorch\nload\n.") << "the global 'torch.load' is not allowed";
    QTest::addRow("REDUCE of a string") << qb("\x80\x02X\x01\x00\x00\x00x)R.") << "REDUCE calls a value of type str";
    QTest::addRow("REDUCE of a dict") << qb("\x80\x02})R.") << "REDUCE calls a value of type dict";
    QTest::addRow("BUILD on a tuple") << qb("\x80\x02)}b.") << "BUILD on a value of type tuple is not supported";
    QTest::addRow("INST opcode") << qb("\x80\x02(ios\nsystem\n.") << "opcode 0x69 'i' is not allowed";
    QTest::addRow("OBJ opcode") << qb("\x80\x02(ccollections\nOrderedDict\no.") << "opcode 0x6f 'o' is not allowed";
    QTest::addRow("NEWOBJ opcode") << qb("\x80\x02" "ccollections\nOrderedDict\n)\x81.") << "opcode 0x81 is not allowed";
    QTest::addRow("EXT1 opcode") << qb("\x80\x02\x82\x01.") << "opcode 0x82 is not allowed";
    QTest::addRow("PERSID (text)") << qb("\x80\x02P0\n.") << "opcode 0x50 'P' is not allowed";
    QTest::addRow("storage class called") << qb("\x80\x02" "ctorch\nFloatStorage\n)R.") << "cannot be called";
    QTest::addRow("OrderedDict with arguments")
        << qb("\x80\x02" "ccollections\nOrderedDict\n]\x85R.") << "collections.OrderedDict is called with arguments";
}

void TestFuzzRegressions::unknownCallablesNeverRun() {
    QFETCH(QByteArray, pickle);
    QFETCH(QString, problem);
    const QString p = path("pytorch_model.bin");
    QVERIFY(write_all(p, archive_bytes({{"data.pkl", pickle.toStdString()}})));
    const QString message = error_of([&] { load_torch_state_dict(p.toStdString()); });
    QVERIFY2(message.startsWith(p + ": "), qPrintable(message));
    QVERIFY2(message.contains(problem), qPrintable(message));
}

// The plugin's catch-all must not change a good load, also in sanitizer builds (no RTLD_DEEPBIND there).
void TestFuzzRegressions::pluginStillLoadsARealModel() {
#ifdef SUMLAB_SANITIZED
    QSKIP("the SentencePiece plugin is refused in sanitizer builds that link LibTorch (see engine/text/tokenizer.cpp)");
#endif
    const std::string model = SUMLAB_SHARED_DIR "/golden/t5/tiny-flan/spiece.model";
    if (!QFile::exists(qs(model))) QSKIP(qPrintable("missing " + qs(model)));
    std::string why;
    QVERIFY2(load_sentencepiece(model, &why), why.c_str());
}

// ---- The Hub's answers (engine/hub/hub_parse.h) -------------------------------------------------

namespace {
const char* const kCommit = "0fc9ddf78a1e988dac52e2dac162b0ede4fd74ab";
const std::string kFileUrl = "https://huggingface.co/google/flan-t5-small/resolve/main/config.json";
}  // namespace

void TestFuzzRegressions::hubFileHeaders_data() {
    QTest::addColumn<QByteArray>("headers");  // after the status line and X-Repo-Commit
    QTest::addColumn<QString>("problem");
    // Sizes went to std::stoll, whose std::out_of_range left HubClient::file_metadata.
    QTest::addRow("Content-Length of 20 digits") << QByteArray("ETag: \"abc\"\nContent-Length: 99999999999999999999")
                                                 << "is beyond any file the Hub stores";
    QTest::addRow("X-Linked-Size 2^63") << QByteArray("ETag: \"abc\"\nX-Linked-Size: 9223372036854775808") << "beyond any file";
    QTest::addRow("X-Linked-Size 2 TiB") << QByteArray("ETag: \"abc\"\nX-Linked-Size: 2199023255552") << "(1 TiB)";
    QTest::addRow("signed size") << QByteArray("ETag: \"abc\"\nContent-Length: +5") << "no file size";
    QTest::addRow("size with a space") << QByteArray("ETag: \"abc\"\nContent-Length: 5 ") << "no file size";
    QTest::addRow("ETag with a space") << QByteArray("ETag: \"a b\"\nContent-Length: 5") << "no usable ETag";
    QTest::addRow("ETag ..") << QByteArray("ETag: \"..\"\nContent-Length: 5") << "no usable ETag";
    QTest::addRow("ETag of 300 characters") << "ETag: " + QByteArray(300, 'a') + "\nContent-Length: 5" << "no usable ETag";
    QTest::addRow("Location file://") << QByteArray("ETag: \"abc\"\nContent-Length: 5\nLocation: file:///etc/passwd")
                                      << "unusable redirect Location 'file:///etc/passwd'";
    QTest::addRow("Location with a space") << QByteArray("ETag: \"abc\"\nContent-Length: 5\nLocation: https://cdn/a b")
                                           << "unusable redirect Location";
}

void TestFuzzRegressions::hubFileHeaders() {
    QFETCH(QByteArray, headers);
    QFETCH(QString, problem);
    const auto h = headers_of("HTTP/1.1 200 OK\nX-Repo-Commit: " + QByteArray(kCommit) + "\n" + headers);
    const QString message = error_of([&] { hub::parse_file_metadata(h, kFileUrl); });
    QVERIFY2(message.contains(qs(kFileUrl)), qPrintable(message));
    QVERIFY2(message.contains(problem), qPrintable(message));
    // The same file with a plain size and ETag parses.
    const auto good = headers_of("HTTP/1.1 307 Temporary Redirect\nX-Repo-Commit: " + QByteArray(kCommit) +
                                 "\nETag: W/\"abc\"\nX-Linked-Size: 1099511627776\nLocation: /api/resolve-cache/x");
    const hub::FileMetadata m = hub::parse_file_metadata(good, kFileUrl);
    QCOMPARE(m.size, int64_t{1} << 40);
    QCOMPARE(qs(m.etag), QStringLiteral("abc"));
    QCOMPARE(qs(m.location), QStringLiteral("https://huggingface.co/api/resolve-cache/x"));
}

void TestFuzzRegressions::hubRepositoryJson_data() {
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("problem");
    const QByteArray sha = "\"sha\": \"" + QByteArray(kCommit) + "\"";
    // Iterating a "siblings" object took its values as the file list.
    QTest::addRow("siblings an object") << "{" + sha + ", \"siblings\": {\"a\": {\"rfilename\": \"x\"}}}" << "\"siblings\" is not a list";
    QTest::addRow("sibling without rfilename") << "{" + sha + ", \"siblings\": [{\"rfilename\": \"a\"}, {\"name\": \"b\"}]}"
                                               << "siblings[1] has no \"rfilename\" string";
    QTest::addRow("sha a number") << QByteArray("{\"sha\": 5}") << "no \"sha\" string";
    QTest::addRow("a list nested 100,000 deep") << nested_list(100000) << "not a JSON object";
    QTest::addRow("sha with a terminal escape") << QByteArray("{\"sha\": \"\\u001b[2J") + QByteArray(500, 'x') + "\"}"
                                                << "gave '?[2Jxxx";
}

void TestFuzzRegressions::hubRepositoryJson() {
    QFETCH(QByteArray, body);
    QFETCH(QString, problem);
    const std::string url = "https://huggingface.co/api/models/google/flan-t5-small/revision/main";
    const QString message = error_of([&] { hub::parse_repo_info(body.toStdString(), url, 200); });
    QVERIFY2(message.contains(qs(url)), qPrintable(message.left(300)));
    QVERIFY2(message.contains(problem), qPrintable(message.left(300)));
    QVERIFY2(message.size() < 400, qPrintable(message.left(300)));
}

// Retry-After went to std::stoll too (out_of_range from 20 digits, signed overflow from 10^16 * 1000).
void TestFuzzRegressions::hubNumbersInHeaders() {
    auto retry = [](const char* value) { return hub::retry_after_ms(headers_of(QByteArray("HTTP/1.1 429\nRetry-After: ") + value), 60'000); };
    QCOMPARE(retry("7"), std::optional<int64_t>(7000));
    QCOMPARE(retry("99999999999999999999"), std::optional<int64_t>(60'000));
    QCOMPARE(retry("9223372036854776"), std::optional<int64_t>(60'000));
    QCOMPARE(retry("Wed, 21 Oct 2026 07:28:00 GMT"), std::optional<int64_t>());
    auto range = [](const char* value) { return hub::content_range_start(headers_of(QByteArray("HTTP/1.1 206\ncontent-range: ") + value)); };
    QCOMPARE(range("bytes 1024-3071/3072"), std::optional<int64_t>(1024));
    QCOMPARE(range("bytes 0-9/*"), std::optional<int64_t>(0));
    QCOMPARE(range("bytes 5-2/9"), std::optional<int64_t>());
    QCOMPARE(range("bytes 99999999999999999999999-1/2"), std::optional<int64_t>());
    QCOMPARE(headers_of("HTTP/1.1 99999999999999999999 Huge").status, 0L);
    QCOMPARE(headers_of("HTTP/2 206").status, 206L);
    const auto refusal = headers_of("HTTP/1.1 404\nX-Error-Message: \x1b[31mred\x1b[0m");
    QCOMPARE(qs(hub::server_message(refusal, "")), QStringLiteral("?[31mred?[0m"));
}

// ---- Run folders (engine/training/trainer.cpp: read_run, read_trainer_state; run.json's arguments) ---------

void TestFuzzRegressions::runFolderNumbersOutOfRange() {
    const QString run = path("run");
    QVERIFY(QDir().mkpath(run));
    QVERIFY(write_all(run + "/run.json", "{\"arguments\": {\"max_steps\": " + nested_list(100000) + "}}"));
    // json::value<int64_t> converted 1e300 (undefined behaviour: UBSan's float-cast-overflow) and
    // wrapped 2^64-1 to -1: such lines are skipped now, like lines of the wrong type.
    QVERIFY(write_all(run + "/metrics.jsonl", "{\"step\": 1, \"loss\": 2.5}\n{\"step\": 1e300, \"loss\": 1}\n"
                                              "{\"step\": 18446744073709551615, \"loss\": 1}\n{\"step\": 2, \"loss\": 1, \"tokens_seen\": 2.5e30}\n"
                                              "{\"step\": 3, \"eval_loss\": 1.5, \"eval_tokens\": -1e300}\n{\"step\": 4, \"loss\": 1.5}\n"));
    const RunInfo info = read_run(run.toStdString());
    QCOMPARE(info.logs.size(), size_t{2});
    QCOMPARE(info.logs[0].step, int64_t{1});
    QCOMPARE(info.logs[1].step, int64_t{4});
    QCOMPARE(info.evals.size(), size_t{0});
    // dump() of the nested value for the message recursed 100,000 deep.
    const QString message = error_of([&] { TrainingArguments::from_json(info.config["arguments"], "run.json"); });
    QVERIFY2(message.contains("must be an integer, got a list"), qPrintable(message.left(300)));
}

void TestFuzzRegressions::trainerState_data() {
    QTest::addColumn<QByteArray>("extra");  // replaces keys of a valid trainer_state.json
    QTest::addColumn<QString>("problem");   // empty: reads
    // optimizer_step, world_size and global_batch_size were read with json::value outside any catch:
    // a string made load_checkpoint throw nlohmann's type_error; a float 1e300 was undefined behaviour.
    QTest::addRow("optimizer_step a string") << QByteArray("\"optimizer_step\": \"7\"") << "\"optimizer_step\" must be a whole number";
    QTest::addRow("world_size 0") << QByteArray("\"world_size\": 0") << "\"world_size\" must be a whole number from 1";
    QTest::addRow("world_size 2^40") << QByteArray("\"world_size\": 1099511627776") << "\"world_size\" must be";
    QTest::addRow("global_batch_size 1e300") << QByteArray("\"global_batch_size\": 1e300") << "\"global_batch_size\" must be";
    QTest::addRow("global_step 1e300") << QByteArray("\"global_step\": 1e300") << "\"global_step\" is not a whole number";
    QTest::addRow("tokens_seen 2^64-1") << QByteArray("\"tokens_seen\": 18446744073709551615") << "\"tokens_seen\" is not a whole number";
    QTest::addRow("last_loss a string") << QByteArray("\"last_loss\": \"nan\"") << "\"last_loss\" is not a number";
    QTest::addRow("older checkpoint") << QByteArray("\"world_size\": 1") << "";
}

void TestFuzzRegressions::trainerState() {
    QFETCH(QByteArray, extra);
    QFETCH(QString, problem);
    nlohmann::json j = {{"global_step", 16}, {"epoch_index", 3}, {"epoch_step", 1}, {"tokens_seen", 2268}, {"log_loss_sum", 0.0},
                        {"log_steps", 0}, {"log_tokens", 0}, {"log_seconds", 0.0}, {"elapsed_s", 0.43}, {"bad_steps_in_a_row", 0},
                        {"last_loss", 4.39}};
    j.update(nlohmann::json::parse("{" + extra.toStdString() + "}"));
    const QString dir = path("checkpoint-16");
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(write_all(dir + "/trainer_state.json", QByteArray::fromStdString(j.dump())));
    if (problem.isEmpty()) {
        const SavedTrainerState saved = read_trainer_state(dir.toStdString());
        QCOMPARE(saved.optimizer_step, int64_t{16});  // absent: the global step
        QCOMPARE(saved.world_size, 1);
        QVERIFY(!saved.global_batch_size);
        return;
    }
    const QString message = error_of([&] { read_trainer_state(dir.toStdString()); });
    QVERIFY2(message.startsWith(dir + "/trainer_state.json: "), qPrintable(message));
    QVERIFY2(message.contains(problem), qPrintable(message));
}

QTEST_GUILESS_MAIN(TestFuzzRegressions)
#include "tst_fuzz_regressions.moc"
