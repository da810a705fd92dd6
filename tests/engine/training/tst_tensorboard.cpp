// TensorBoard event files (engine/training/tensorboard.h) read back by a reader written from the format's
// specification, not from the writer: its own bitwise CRC-32C (reflected polynomial 0x82F63B78), TFRecord framing
// (uint64 length, masked CRC of the length, data, masked CRC of the data) and protobuf decoding of the Event,
// Summary, SummaryMetadata and TensorProto fields TensorBoard reads. Then a short real training with
// report_to tensorboard: <output_dir>/runs/<date>_<host>/events.out.tfevents.* holds train/loss equal to
// metrics.jsonl's loss at each logging step. Where python3 has tensorboard, TensorBoard's own reader agrees.
#include "engine/training/run_folder.h"
#include "engine/training/tensorboard.h"
#include "engine/training/trainer.h"  // LibTorch's headers before Qt's (its "slots" member)
#include "base/errors.h"
#include "base/file_util.h"
#include "tests/common/golden.h"
#include "tests/common/reference_python.h"
#include "tests/common/sanitizer.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <map>
#include <unistd.h>

using namespace sumlab;
using namespace sumlab::test;

namespace {

// ---- the reader, from the specification ----

// CRC-32C bit by bit (RFC 3720 B.4's polynomial, reflected), and TFRecord's mask.
uint32_t spec_crc32c(const std::string& bytes) {
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char b : bytes) {
        crc ^= b;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return ~crc;
}
uint32_t spec_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

uint64_t little_endian(const std::string& bytes, size_t at, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
    return v;
}

// The records of a TFRecord file; every length and data CRC checked. Empty `error` when all is well.
struct Records {
    std::vector<std::string> data;
    QString error;
};
Records read_records(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Records r;
    size_t pos = 0;
    while (pos < file.size()) {
        const int n = static_cast<int>(r.data.size());
        if (file.size() - pos < 12) {
            r.error = QString("record %1: %2 bytes left, fewer than a header's 12").arg(n).arg(file.size() - pos);
            return r;
        }
        const uint64_t length = little_endian(file, pos, 8);
        const uint32_t length_crc = static_cast<uint32_t>(little_endian(file, pos + 8, 4));
        if (length_crc != spec_mask(spec_crc32c(file.substr(pos, 8)))) {
            r.error = QString("record %1: length CRC %2, expected %3").arg(n).arg(length_crc, 8, 16).arg(spec_mask(spec_crc32c(file.substr(pos, 8))), 8, 16);
            return r;
        }
        if (file.size() - pos - 12 < length + 4) {
            r.error = QString("record %1: length %2 runs past the end of the file").arg(n).arg(length);
            return r;
        }
        const std::string data = file.substr(pos + 12, length);
        const uint32_t data_crc = static_cast<uint32_t>(little_endian(file, pos + 12 + length, 4));
        if (data_crc != spec_mask(spec_crc32c(data))) {
            r.error = QString("record %1: data CRC %2, expected %3").arg(n).arg(data_crc, 8, 16).arg(spec_mask(spec_crc32c(data)), 8, 16);
            return r;
        }
        r.data.push_back(data);
        pos += 12 + length + 4;
    }
    return r;
}

// One protobuf field: wire types 0 (varint), 1 (fixed64), 2 (length-delimited), 5 (fixed32).
struct Field {
    uint32_t number = 0;
    int wire = 0;
    uint64_t value = 0;  // varint / fixed
    std::string bytes;   // length-delimited
};
// Throws std::runtime_error on malformed input.
std::vector<Field> decode(const std::string& m) {
    std::vector<Field> fields;
    size_t pos = 0;
    auto varint = [&] {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= m.size()) throw std::runtime_error("truncated varint");
            const auto b = static_cast<unsigned char>(m[pos++]);
            v |= uint64_t{b & 0x7fu} << shift;
            if (!(b & 0x80)) return v;
        }
        throw std::runtime_error("varint longer than 10 bytes");
    };
    while (pos < m.size()) {
        const uint64_t key = varint();
        Field f;
        f.number = static_cast<uint32_t>(key >> 3);
        f.wire = static_cast<int>(key & 7);
        switch (f.wire) {
            case 0: f.value = varint(); break;
            case 1:
            case 5: {
                const int n = f.wire == 1 ? 8 : 4;
                if (m.size() - pos < static_cast<size_t>(n)) throw std::runtime_error("truncated fixed field");
                f.value = little_endian(m, pos, n);
                pos += n;
                break;
            }
            case 2: {
                const uint64_t n = varint();
                if (m.size() - pos < n) throw std::runtime_error("length-delimited field runs past the message");
                f.bytes = m.substr(pos, n);
                pos += n;
                break;
            }
            default: throw std::runtime_error("wire type " + std::to_string(f.wire));
        }
        fields.push_back(f);
    }
    return fields;
}
const Field* field(const std::vector<Field>& fs, uint32_t number, int wire) {
    for (const Field& f : fs)
        if (f.number == number && f.wire == wire) return &f;
    return nullptr;
}

// The parts of an Event (event.proto) this suite looks at.
struct Event {
    double wall_time = 0;
    int64_t step = 0;
    std::string file_version;
    struct Value {
        std::string tag;
        bool has_simple_value = false;
        float simple_value = 0;
        std::string plugin_name;     // metadata.plugin_data.plugin_name
        std::string plugin_content;  // metadata.plugin_data.content
        int64_t dtype = 0;        // tensor.dtype
        std::vector<int64_t> dims;
        std::vector<std::string> string_val;
    };
    std::vector<Value> values;
};
Event parse_event(const std::string& data) {
    Event e;
    const auto fs = decode(data);
    if (const Field* f = field(fs, 1, 1)) std::memcpy(&e.wall_time, &f->value, 8);
    if (const Field* f = field(fs, 2, 0)) e.step = static_cast<int64_t>(f->value);
    if (const Field* f = field(fs, 3, 2)) e.file_version = f->bytes;
    if (const Field* summary = field(fs, 5, 2)) {
        for (const Field& v : decode(summary->bytes)) {
            if (v.number != 1 || v.wire != 2) continue;
            Event::Value value;
            const auto vf = decode(v.bytes);
            if (const Field* f = field(vf, 1, 2)) value.tag = f->bytes;
            if (const Field* f = field(vf, 2, 5)) {
                const auto bits = static_cast<uint32_t>(f->value);
                std::memcpy(&value.simple_value, &bits, 4);
                value.has_simple_value = true;
            }
            if (const Field* meta = field(vf, 9, 2)) {
                const auto metadata = decode(meta->bytes);
                if (const Field* plugin = field(metadata, 1, 2)) {
                    const auto plugin_data = decode(plugin->bytes);
                    if (const Field* name = field(plugin_data, 1, 2)) value.plugin_name = name->bytes;
                    if (const Field* content = field(plugin_data, 2, 2)) value.plugin_content = content->bytes;
                }
            }
            if (const Field* tensor = field(vf, 8, 2)) {
                const auto tf = decode(tensor->bytes);
                if (const Field* f = field(tf, 1, 0)) value.dtype = static_cast<int64_t>(f->value);
                if (const Field* shape = field(tf, 2, 2))
                    for (const Field& dim : decode(shape->bytes))
                        if (dim.number == 2 && dim.wire == 2) {
                            const auto dim_fields = decode(dim.bytes);
                            const Field* size = field(dim_fields, 1, 0);
                            value.dims.push_back(size ? static_cast<int64_t>(size->value) : 0);
                        }
                for (const Field& f : tf)
                    if (f.number == 8 && f.wire == 2) value.string_val.push_back(f.bytes);
            }
            e.values.push_back(value);
        }
    }
    return e;
}

// Reads and parses a whole file; fails the test (QVERIFY2) on a framing error.
#define READ_EVENTS(events, path)                                              \
    std::vector<Event> events;                                                 \
    {                                                                          \
        const Records records_ = read_records(path);                           \
        QVERIFY2(records_.error.isEmpty(), qPrintable(records_.error));        \
        for (const std::string& d_ : records_.data) events.push_back(parse_event(d_)); \
    }

std::vector<std::string> files_in(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (auto* e = ::readdir(d))
            if (e->d_name[0] != '.') names.push_back(e->d_name);
        ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string host_name() {
    char name[256] = "";
    ::gethostname(name, sizeof name - 1);
    return name;
}

double now_s() { return static_cast<double>(QDateTime::currentMSecsSinceEpoch()) / 1000.0; }

}  // namespace

class TestTensorBoard : public QObject {
    Q_OBJECT

private slots:
    void crc32c_matches_the_check_values();
    void events_read_back_with_every_crc();
    void each_record_is_on_disk_before_the_writer_closes();
    void logs_are_named_as_huggingface_rewrites_them();
    void default_logging_dir_is_huggingfaces();
    void report_to_and_logging_dir_settings();
    void training_writes_the_losses_of_metrics_jsonl();
    void training_writes_the_hparams();
    void tensorboard_itself_reads_the_file();

private:
    QTemporaryDir m_tmp;
    std::string m_training_event_file;  // from training_writes_the_losses_of_metrics_jsonl, for the cross-check
    std::vector<nlohmann::json> m_training_lines;
    std::string m_hparams_dir;     // add_hparams' run folder of that training
    nlohmann::json m_training_args;
};

void TestTensorBoard::crc32c_matches_the_check_values() {
    // The CRC catalogue's check value for CRC-32C, and RFC 3720 B.4's 32 zero / 32 0xFF bytes.
    const std::string digits = "123456789", zeros(32, '\0'), ones(32, '\xff');
    QCOMPARE(spec_crc32c(digits), 0xE3069283u);
    QCOMPARE(crc32c(digits.data(), digits.size()), 0xE3069283u);
    QCOMPARE(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
    QCOMPARE(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
    QCOMPARE(crc32c("", 0), 0u);
    QCOMPARE(masked_crc32c(digits.data(), digits.size()), spec_mask(0xE3069283u));
    QCOMPARE(spec_mask(0xE3069283u), ((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u);
}

void TestTensorBoard::events_read_back_with_every_crc() {
    const std::string dir = m_tmp.filePath("roundtrip/deeper").toStdString();  // parents created too
    const double before = now_s();
    const std::time_t before_s = std::time(nullptr);
    std::string path;
    // Text longer than 127 bytes (a two-byte length varint) and not ASCII.
    const std::string text = "{\n  \"learning_rate\": 0.001,\n  \"note\": \"Zusammenfassung – ü\"" + std::string(300, ' ') + "}";
    {
        TensorBoardWriter w(dir);
        path = w.path();
        w.add_text("args", text);
        w.add_scalar("train/loss", 2.718281828459045, 1);
        w.add_scalar("train/learning_rate", 1e-3, 300);  // a two-byte step varint
        w.add_scalar("eval/loss", -0.5, int64_t{1} << 40);
    }
    const double after = now_s();
    // events.out.tfevents.<10-digit unix time>.<hostname>.<pid>.<counter>, as tensorboard's EventFileWriter.
    const std::string name = path.substr(path.rfind('/') + 1);
    QCOMPARE(path.substr(0, path.rfind('/')), dir);
    const QRegularExpression pattern(QString("^events\\.out\\.tfevents\\.(\\d{10})\\.%1\\.%2\\.\\d+$")
                                         .arg(QRegularExpression::escape(QString::fromStdString(host_name())))
                                         .arg(::getpid()));
    const auto match = pattern.match(QString::fromStdString(name));
    QVERIFY2(match.hasMatch(), name.c_str());
    QVERIFY(match.captured(1).toLongLong() >= before_s && match.captured(1).toLongLong() <= std::time(nullptr));

    READ_EVENTS(events, path);
    QCOMPARE(events.size(), size_t{5});
    QCOMPARE(events[0].file_version, std::string("brain.Event:2"));
    QCOMPARE(events[0].step, int64_t{0});
    QVERIFY(events[0].values.empty());
    for (const Event& e : events)  // wall_time is the Unix time in seconds (the clock's ms resolution either side)
        QVERIFY2(e.wall_time >= before - 0.001 && e.wall_time <= after + 0.001, qPrintable(QString::number(e.wall_time, 'f', 6)));

    // The text, as torch.utils.tensorboard's summary.text: "<tag>/text_summary", plugin "text", DT_STRING (7) of shape [1].
    QCOMPARE(events[1].step, int64_t{0});
    QCOMPARE(events[1].values.size(), size_t{1});
    const Event::Value& t = events[1].values[0];
    QCOMPARE(t.tag, std::string("args/text_summary"));
    QCOMPARE(t.plugin_name, std::string("text"));
    QCOMPARE(t.dtype, int64_t{7});
    QCOMPARE(t.dims, std::vector<int64_t>{1});
    QCOMPARE(t.string_val, std::vector<std::string>{text});
    QVERIFY(!t.has_simple_value);

    // Scalars: simple_value is a float32, so the value written is the double rounded to float, exactly.
    const std::vector<std::tuple<std::string, int64_t, float>> scalars = {
        {"train/loss", 1, static_cast<float>(2.718281828459045)}, {"train/learning_rate", 300, 1e-3f}, {"eval/loss", int64_t{1} << 40, -0.5f}};
    for (size_t i = 0; i < scalars.size(); ++i) {
        const Event& e = events[2 + i];
        QCOMPARE(e.values.size(), size_t{1});
        QCOMPARE(e.values[0].tag, std::get<0>(scalars[i]));
        QCOMPARE(e.step, std::get<1>(scalars[i]));
        QVERIFY(e.values[0].has_simple_value);
        QCOMPARE(e.values[0].simple_value, std::get<2>(scalars[i]));
    }

    // A second writer in the same process gets the next counter: two files, never one overwritten.
    { TensorBoardWriter again(dir); QVERIFY(again.path() != path); }
    QCOMPARE(files_in(dir).size(), size_t{2});
}

void TestTensorBoard::each_record_is_on_disk_before_the_writer_closes() {
    // A running TensorBoard reads the file while training goes on: each point is there as soon as it is written.
    TensorBoardWriter w(m_tmp.filePath("live").toStdString());
    for (int step = 1; step <= 3; ++step) {
        w.add_scalar("train/loss", 1.0 / step, step);
        READ_EVENTS(events, w.path());
        QCOMPARE(events.size(), size_t(1 + step));
        QCOMPARE(events.back().step, int64_t{step});
    }
}

void TestTensorBoard::logs_are_named_as_huggingface_rewrites_them() {
    QCOMPARE(tensorboard_tag("loss"), std::string("train/loss"));
    QCOMPARE(tensorboard_tag("eval_rougeLsum"), std::string("eval/rougeLsum"));
    QCOMPARE(tensorboard_tag("test_loss"), std::string("test/loss"));
    QCOMPARE(tensorboard_tag("epoch"), std::string("train/epoch"));
    TensorBoardWriter w(m_tmp.filePath("logs").toStdString());
    w.add_logs({{"step", 7}, {"max_steps", 9}, {"loss", 1.5}, {"learning_rate", 2e-4}, {"eval_rouge1", 0.25}, {"event", "skipped_step"}});
    READ_EVENTS(events, w.path());
    std::map<std::string, float> seen;
    for (size_t i = 1; i < events.size(); ++i) {
        QCOMPARE(events[i].step, int64_t{7});
        for (const auto& v : events[i].values) seen[v.tag] = v.simple_value;
    }
    // Every number but step (the x axis) and max_steps; strings are not scalars.
    const std::map<std::string, float> expected = {{"train/loss", 1.5f}, {"train/learning_rate", 2e-4f}, {"eval/rouge1", 0.25f}};
    QCOMPARE(seen, expected);
}

void TestTensorBoard::default_logging_dir_is_huggingfaces() {
    // HF: os.path.join(output_dir, "runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname()).
    const QDateTime before = QDateTime::currentDateTime();
    const std::string dir = default_logging_dir("/out");
    const QDateTime after = QDateTime::currentDateTime();
    auto expected = [](const QDateTime& t) {
        return "/out/runs/" + QLocale::c().toString(t, "MMMdd_HH-mm-ss").toStdString() + "_" + host_name();
    };
    QVERIFY2(dir == expected(before) || dir == expected(after), dir.c_str());
    QVERIFY(resolve_logging_dir(std::nullopt, "/out").rfind("/out/runs/", 0) == 0);
    QCOMPARE(resolve_logging_dir(std::string("/tb/run1"), "/out"), std::string("/tb/run1"));
    const QByteArray home = qgetenv("HOME");
    if (!home.isEmpty()) QCOMPARE(resolve_logging_dir(std::string("~/tb"), "/out"), home.toStdString() + "/tb");  // expanduser
}

void TestTensorBoard::report_to_and_logging_dir_settings() {
    TrainingArguments defaults;
    QVERIFY(defaults.report_to.empty());  // SumLab's default: none (HF's: all installed integrations)
    QVERIFY(!defaults.logging_dir);
    QCOMPARE(defaults.to_json()["report_to"], nlohmann::json::array());
    QVERIFY(defaults.to_json()["logging_dir"].is_null());
    auto parsed = [](const char* text) { return TrainingArguments::from_json(nlohmann::json::parse(text), "run.json"); };
    QCOMPARE(parsed(R"({"report_to": ["tensorboard"]})").report_to, std::vector<std::string>{"tensorboard"});
    QVERIFY(parsed(R"({"report_to": ["none"]})").report_to.empty());  // HF's "none" -> []
    QCOMPARE(parsed(R"({"report_to": ["all"]})").report_to, std::vector<std::string>{"tensorboard"});
    QCOMPARE(parsed(R"({"logging_dir": "/tmp/tb"})").logging_dir.value_or(""), std::string("/tmp/tb"));
    const std::vector<std::pair<const char*, const char*>> bad = {
        {R"({"report_to": ["wandb"]})", "\"wandb\" is not one of tensorboard, none, all"},
        {R"({"report_to": ["none", "tensorboard"]})", "\"none\" must be the only entry"},
        {R"({"report_to": "tensorboard"})", "must be a list"},
        {R"({"logging_dir": 3})", "must be a string"}};
    for (const auto& [text, why] : bad) {
        try {
            parsed(text);
            QFAIL(qPrintable(QString("accepted %1").arg(text)));
        } catch (const ConfigError& e) {
            QVERIFY2(std::string(e.what()).find(why) != std::string::npos, e.what());
        }
    }
}

void TestTensorBoard::training_writes_the_losses_of_metrics_jsonl() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // Trainer::run() tokenizes the data first
    const std::string model = shared_path("golden/t5/tiny-flan"), rows = shared_path("dialogsum/jsonl/dialogsum.test.jsonl");
    for (const std::string& p : {model + "/config.json", rows})
        if (!exists(p)) QSKIP(qPrintable(QString("missing %1").arg(QString::fromStdString(p))));
    // DialogSum test rows 0-7 as both the train and the validation split (tst_trainer_eval's setup).
    const std::string data = m_tmp.filePath("data").toStdString();
    make_writable_dir(data);
    for (const char* split : {"/dialogsum.train.jsonl", "/dialogsum.dev.jsonl"}) {
        std::ifstream in(rows);
        std::ofstream out(data + split);
        std::string line;
        for (int i = 0; i < 8 && std::getline(in, line); ++i) out << line << "\n";
    }
    TrainerSetup s;
    s.model_dir = model;
    s.data = data;
    s.output_dir = m_tmp.filePath("run").toStdString();
    s.args.max_steps = 3;
    s.args.per_device_train_batch_size = 4;
    s.args.learning_rate = 1e-3;
    s.args.logging_steps = 1;
    s.args.max_source_length = 96;
    s.args.max_target_length = 32;
    s.args.eval_strategy = IntervalStrategy::steps;
    s.args.eval_steps = 2;
    s.args.save_strategy = IntervalStrategy::no;
    s.args.report_to = {"tensorboard"};
    Trainer(s).run();

    const auto runs = files_in(s.output_dir + "/runs");
    QCOMPARE(runs.size(), size_t{1});
    QVERIFY2(QRegularExpression(QString("^[A-Z][a-z]{2}\\d{2}_\\d{2}-\\d{2}-\\d{2}_%1$").arg(QRegularExpression::escape(QString::fromStdString(host_name()))))
                 .match(QString::fromStdString(runs[0]))
                 .hasMatch(),
             runs[0].c_str());
    const std::string log_dir = s.output_dir + "/runs/" + runs[0];
    // The event file and add_hparams' run folder, named str(time.time()).
    const auto entries = files_in(log_dir);
    QCOMPARE(entries.size(), size_t{2});
    for (const std::string& e : entries) {
        if (e.rfind("events.out.tfevents.", 0) == 0) m_training_event_file = log_dir + "/" + e;
        else m_hparams_dir = log_dir + "/" + e;
    }
    QVERIFY2(!m_training_event_file.empty(), entries[0].c_str());
    const QString run_name = QString::fromStdString(m_hparams_dir.substr(log_dir.size() + 1));
    QVERIFY2(QRegularExpression("^\\d{10}(\\.\\d+)?$").match(run_name).hasMatch(), qPrintable(run_name));
    QVERIFY2(std::abs(run_name.toDouble() - now_s()) < 600, qPrintable(run_name));
    m_training_args = s.args.to_json();

    READ_EVENTS(events, m_training_event_file);
    QCOMPARE(events.front().file_version, std::string("brain.Event:2"));
    std::map<std::pair<std::string, int64_t>, float> scalars;
    std::map<std::string, std::string> texts;
    for (const Event& e : events)
        for (const auto& v : e.values) {
            if (v.has_simple_value) scalars[{v.tag, e.step}] = v.simple_value;
            if (v.plugin_name == "text" && !v.string_val.empty()) texts[v.tag] = v.string_val.front();
        }
    // The arguments and the model's config as text (TensorBoardCallback.on_train_begin).
    QVERIFY(texts.count("args/text_summary"));
    QCOMPARE(nlohmann::json::parse(texts["args/text_summary"]), s.args.to_json());
    QCOMPARE(texts["model_config/text_summary"], read_file(model + "/config.json"));
    // Each metrics.jsonl number at its step, rounded to float32 (simple_value's type): exact, no tolerance.
    std::ifstream in(s.output_dir + "/metrics.jsonl");
    std::string line;
    int losses = 0, eval_losses = 0;
    while (std::getline(in, line)) {
        const auto j = nlohmann::json::parse(line);
        m_training_lines.push_back(j);
        const int64_t step = j.at("step").get<int64_t>();
        for (const auto& [key, tag] : std::map<std::string, std::string>{
                 {"loss", "train/loss"}, {"learning_rate", "train/learning_rate"}, {"grad_norm", "train/grad_norm"}, {"eval_loss", "eval/loss"}}) {
            if (!j.contains(key)) continue;
            const std::pair<std::string, int64_t> at(tag, step);
            QVERIFY2(scalars.count(at), qPrintable(QString("no %1 at step %2").arg(tag.c_str()).arg(step)));
            QCOMPARE(scalars[at], static_cast<float>(j[key].get<double>()));
            losses += key == "loss";
            eval_losses += key == "eval_loss";
        }
    }
    QCOMPARE(losses, 3);       // logging_steps 1, max_steps 3
    QCOMPARE(eval_losses, 1);  // eval_steps 2
}

// SummaryWriter.add_hparams(args.to_sanitized_dict(), {}): in its own folder, the experiment (each
// hparam's name and type), the session's values and its end, all in the hparams plugin's messages
// (plugin_data.proto, api.proto, struct.proto's Value), version 0 and so not written.
void TestTensorBoard::training_writes_the_hparams() {
    if (m_hparams_dir.empty()) QSKIP("training_writes_the_losses_of_metrics_jsonl wrote no hparams folder");
    const auto files = files_in(m_hparams_dir);
    QCOMPARE(files.size(), size_t{1});
    READ_EVENTS(events, m_hparams_dir + "/" + files[0]);
    QCOMPARE(events.size(), size_t{4});
    QCOMPARE(events[0].file_version, std::string("brain.Event:2"));
    const char* tags[] = {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"};
    std::vector<std::vector<Field>> data;  // each event's HParamsPluginData
    for (int i = 0; i < 3; ++i) {
        const Event& e = events[static_cast<size_t>(i) + 1];
        QCOMPARE(e.step, int64_t{0});
        QCOMPARE(e.values.size(), size_t{1});
        QCOMPARE(e.values[0].tag, std::string(tags[i]));
        QCOMPARE(e.values[0].plugin_name, std::string("hparams"));
        QVERIFY(!e.values[0].has_simple_value);
        data.push_back(decode(e.values[0].plugin_content));
        QVERIFY(!field(data.back(), 1, 0));  // version 0
    }
    nlohmann::json expected = m_training_args;  // to_sanitized_dict: the arguments and the two batch sizes
    expected["train_batch_size"] = expected["per_device_train_batch_size"];
    expected["eval_batch_size"] = expected["per_device_eval_batch_size"];
    // The experiment: one HParamInfo per key, FLOAT64 (3) for numbers and booleans, STRING (1) otherwise.
    const Field* experiment = field(data[0], 2, 2);
    QVERIFY(experiment);
    std::map<std::string, uint64_t> types;
    for (const Field& info : decode(experiment->bytes)) {
        QCOMPARE(info.number, 4u);
        const auto f = decode(info.bytes);
        QVERIFY(field(f, 1, 2) && field(f, 4, 0));
        types[field(f, 1, 2)->bytes] = field(f, 4, 0)->value;
    }
    QCOMPARE(types.size(), expected.size());
    // The session's values: a map<string, Value>, number_value (2) or string_value (3).
    const Field* start = field(data[1], 3, 2);
    QVERIFY(start);
    std::map<std::string, Field> values;
    for (const Field& entry : decode(start->bytes)) {
        const auto f = decode(entry.bytes);
        QVERIFY(entry.number == 1 && field(f, 1, 2) && field(f, 2, 2));
        const auto value = decode(field(f, 2, 2)->bytes);
        QCOMPARE(value.size(), size_t{1});
        values[field(f, 1, 2)->bytes] = value[0];
    }
    QCOMPARE(values.size(), expected.size());
    for (const auto& item : expected.items()) {
        const nlohmann::json& v = item.value();
        const std::string& key = item.key();
        QVERIFY2(values.count(key) && types.count(key), key.c_str());
        const Field& got = values[key];
        if (v.is_number() || v.is_boolean()) {
            QVERIFY2(types[key] == 3 && got.number == 2 && got.wire == 1, key.c_str());
            double number;
            std::memcpy(&number, &got.value, 8);
            QCOMPARE(number, v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>());
        } else {
            QVERIFY2(types[key] == 1 && got.number == 3 && got.wire == 2, key.c_str());
            QCOMPARE(got.bytes, v.is_string() ? v.get<std::string>() : v.is_null() ? std::string("None") : v.dump());
        }
    }
    QCOMPARE(values["report_to"].bytes, std::string("[\"tensorboard\"]"));
    // The session's end: STATUS_SUCCESS (1).
    const Field* end = field(data[2], 4, 2);
    QVERIFY(end);
    const auto status = decode(end->bytes);
    QVERIFY(field(status, 1, 0));
    QCOMPARE(field(status, 1, 0)->value, uint64_t{1});
}

void TestTensorBoard::tensorboard_itself_reads_the_file() {
    if (m_training_event_file.empty()) QSKIP("training_writes_the_losses_of_metrics_jsonl wrote no event file");
    QProcess probe;
    probe.start(kReferencePython, {"-c", "import tensorboard"});
    if (!probe.waitForFinished(60000) || probe.exitStatus() != QProcess::NormalExit || probe.exitCode() != 0)
        QSKIP(qPrintable(QString("%1 cannot import tensorboard (Debian 12 has no package for it; pip install tensorboard)").arg(kReferencePython)));
    // TensorBoard's EventAccumulator (its own record reader, CRCs included) prints every scalar as JSON.
    const QString script = m_tmp.filePath("read_events.py");
    QFile f(script);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("import json, sys\n"
            "from tensorboard.backend.event_processing import event_accumulator\n"
            "ea = event_accumulator.EventAccumulator(sys.argv[1], size_guidance={'scalars': 0, 'tensors': 0})\n"
            "ea.Reload()\n"
            "out = {tag: [[s.step, s.value] for s in ea.Scalars(tag)] for tag in ea.Tags()['scalars']}\n"
            "out['__tensors__'] = sorted(ea.Tags()['tensors'])\n"
            "print(json.dumps(out))\n");
    f.close();
    const PythonResult r = run_reference_python(script, {QString::fromStdString(m_training_event_file)});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const auto got = nlohmann::json::parse(r.out.toStdString());
    QVERIFY2(got["__tensors__"].get<std::vector<std::string>>() == (std::vector<std::string>{"args/text_summary", "model_config/text_summary"}),
             got["__tensors__"].dump().c_str());
    std::vector<std::pair<int64_t, float>> losses;
    for (const auto& p : got.at("train/loss")) losses.emplace_back(p[0].get<int64_t>(), p[1].get<float>());
    std::vector<std::pair<int64_t, float>> expected;
    for (const auto& j : m_training_lines)
        if (j.contains("loss")) expected.emplace_back(j["step"].get<int64_t>(), static_cast<float>(j["loss"].get<double>()));
    QCOMPARE(losses, expected);
}

QTEST_GUILESS_MAIN(TestTensorBoard)
#include "tst_tensorboard.moc"
