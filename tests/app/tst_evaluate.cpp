// sumlab-cli evaluate, bench and data --model as scripts use them: the lab's results CSV is written and extended,
// an interrupted run resumes without redoing finished examples, a results CSV of other examples is refused, the
// produced CSV scores with `rouge --results`, and `bench --json` prints the documented keys.
#include "tests/common/golden.h"
#include "tests/common/sanitizer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <signal.h>

using namespace sumlab::test;

namespace {

// A CSV table read the way pandas.read_csv reads the lab's file (RFC 4180 quoting, fields may span lines).
struct Csv {
    QStringList header;
    QList<QStringList> rows;

    int column(const QString& name) const { return header.indexOf(name); }
    QStringList values(const QString& name) const {
        QStringList out;
        const int c = column(name);
        for (const QStringList& row : rows) out << (c >= 0 && c < row.size() ? row[c] : QString());
        return out;
    }
};

Csv parse_csv(const QString& text) {
    QList<QStringList> records;
    QStringList record;
    QString field;
    bool quoted = false;
    for (int i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            record << field;
            field.clear();
        } else if (c == '\n') {
            record << field;
            field.clear();
            records << record;
            record.clear();
        } else if (c != '\r') {
            field += c;
        }
    }
    if (!field.isEmpty() || !record.isEmpty()) records << (record << field);
    Csv csv;
    if (!records.isEmpty()) {
        csv.header = records.takeFirst();
        csv.rows = records;
    }
    return csv;
}

QByteArray read_all(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QJsonObject read_json(const QString& path) { return QJsonDocument::fromJson(read_all(path)).object(); }

// Result lines of a partial file (its first line is the settings header).
QStringList partial_ids(const QString& path) {
    QStringList ids;
    const QList<QByteArray> lines = read_all(path).split('\n');
    for (int i = 1; i < lines.size(); ++i) {
        if (lines[i].trimmed().isEmpty()) continue;
        ids << QJsonDocument::fromJson(lines[i]).object().value("id").toString();
    }
    return ids;
}

}  // namespace

class TestEvaluate : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void writes_lab_columns();
    void extends_with_another_column();
    void scores_with_rouge_results();
    void refuses_other_examples_data();
    void refuses_other_examples();
    void resumes_after_interrupt();
    void repeated_dialogues_generated_once();
    void jsonl_test_split_uses_first_reference();
    void data_lengths_in_model_tokens();
    void bench_matmul_json();
    void bench_profile_writes_op_tables();

private:
    struct Run {
        int code;
        QString out, err;
    };
    QString cli() const { return QStringLiteral(SUMLAB_BIN_DIR "/sumlab-cli"); }
    QString model() const { return QString::fromStdString(shared_path("golden/t5/tiny-flan")); }
    Run run(const QStringList& args, int timeout_ms = 300000) const {
        QProcess p;
        p.start(cli(), args);
        if (!p.waitForFinished(timeout_ms)) {
            p.kill();
            p.waitForFinished();
            return {-1, {}, "timed out"};
        }
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
                QString::fromUtf8(p.readAllStandardError())};
    }
    // evaluate on the test-written split with the given extra arguments.
    QStringList evaluate_args(const QString& output, const QStringList& extra = {}) const {
        return QStringList{"evaluate", "--model", model(), "--data", m_data, "--output", output, "--quiet"} + extra;
    }
    static QString summary_of(int i) { return QString("#Person1# books a table for %1 people at %2 pm.").arg(i + 2).arg(i % 12 + 1); }

    QTemporaryDir m_tmp;
    QString m_data;     // a small DialogSum test split in Hugging Face's CSV layout
    QString m_results;  // written by writes_lab_columns, extended by the next tests
};

void TestEvaluate::initTestCase() {
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/tiny-flan/config.json"));
    QVERIFY(QFile::exists(cli()));
    QVERIFY(m_tmp.isValid());
    QByteArray csv = "id,dialogue,summary,topic\n";
    for (int i = 0; i < 24; ++i) {
        csv += QString("test_%1,\"#Person1#: Hello, I'd like to book a table for %2 people, please.\n#Person2#: Of course. "
                       "At what time?\n#Person1#: At %3 pm, near the window if you have one.\n#Person2#: Certainly.\","
                       "\"%4\",booking\n")
                   .arg(i)
                   .arg(i + 2)
                   .arg(i % 12 + 1)
                   .arg(summary_of(i))
                   .toUtf8();
    }
    QVERIFY(QDir(m_tmp.path()).mkpath("dialogsum"));
    m_data = m_tmp.filePath("dialogsum/test.csv");
    QFile f(m_data);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(csv);
    f.close();
    m_results = m_tmp.filePath("results.csv");
}

void TestEvaluate::writes_lab_columns() {
    const Run r = run(evaluate_args(m_results, {"--limit", "6", "--max-new-tokens", "12"}));
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(r.err);
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const Csv csv = parse_csv(QString::fromUtf8(read_all(m_results)));
    QCOMPARE(csv.header, (QStringList{"", "id", "dialogue", "human_baseline_summaries", "original_model_summaries"}));
    QCOMPARE(csv.rows.size(), 6);
    QCOMPARE(csv.values("id"), (QStringList{"test_0", "test_1", "test_2", "test_3", "test_4", "test_5"}));
    QCOMPARE(csv.values("human_baseline_summaries").at(3), summary_of(3));
    QVERIFY(csv.values("dialogue").at(0).startsWith("#Person1#: Hello, I'd like to book a table for 2 people"));
    for (const QString& summary : csv.values("original_model_summaries")) QVERIFY(!summary.isEmpty());
    QVERIFY(!QFile::exists(m_results + ".partial.jsonl"));

    const QJsonObject columns = read_json(m_results + ".provenance.json").value("columns").toObject();
    const QJsonObject original = columns.value("original_model_summaries").toObject();
    QCOMPARE(QDir::cleanPath(original.value("model").toString()), QDir::cleanPath(model()));
    QCOMPARE(original.value("generation").toObject().value("max_new_tokens").toInt(), 12);
    QCOMPARE(original.value("split").toString(), QString("test"));
    QCOMPARE(original.value("selection").toObject().value("limit").toInt(), 6);
    QCOMPARE(original.value("max_source_length").toInt(), 512);
    QCOMPARE(original.value("prompt").toString(), QString("Summarize the following conversation.\n\n{dialogue}\n\nSummary: "));
    QVERIFY(!original.value("sumlab_version").toString().isEmpty());
    QVERIFY(!original.value("date").toString().isEmpty());
    QVERIFY(columns.contains("human_baseline_summaries"));
}

void TestEvaluate::extends_with_another_column() {
    if (!QFile::exists(m_results)) SUMLAB_REQUIRE_SENTENCEPIECE();  // writes_lab_columns could not write it
    const QByteArray before = read_all(m_results);
    QVERIFY(!before.isEmpty());
    const Run r = run(evaluate_args(m_results, {"--limit", "6", "--column", "instruct_model_summaries", "--num-beams", "2",
                                                "--max-new-tokens", "8"}));
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const Csv old_csv = parse_csv(QString::fromUtf8(before));
    const Csv csv = parse_csv(QString::fromUtf8(read_all(m_results)));
    QCOMPARE(csv.header, (QStringList{"", "id", "dialogue", "human_baseline_summaries", "original_model_summaries",
                                      "instruct_model_summaries"}));
    QCOMPARE(csv.values("id"), old_csv.values("id"));
    QCOMPARE(csv.values("original_model_summaries"), old_csv.values("original_model_summaries"));
    QCOMPARE(csv.values("instruct_model_summaries").size(), 6);

    const QJsonObject columns = read_json(m_results + ".provenance.json").value("columns").toObject();
    QCOMPARE(columns.value("original_model_summaries").toObject().value("generation").toObject().value("max_new_tokens").toInt(), 12);
    QCOMPARE(columns.value("instruct_model_summaries").toObject().value("generation").toObject().value("num_beams").toInt(), 2);

    // peft goes last; replacing an existing column keeps its place.
    QCOMPARE(columns.value("instruct_model_summaries").toObject().value("dtype").toString(), QString("float32"));
    QCOMPARE(run(evaluate_args(m_results, {"--limit", "6", "--column", "peft_model_summaries", "--max-new-tokens", "5", "--dtype", "bfloat16"})).code, 0);
    // The precision a column was generated in is part of its provenance.
    QCOMPARE(read_json(m_results + ".provenance.json").value("columns").toObject().value("peft_model_summaries").toObject().value("dtype").toString(),
             QString("bfloat16"));
    QCOMPARE(run(evaluate_args(m_results, {"--limit", "6", "--column", "original_model_summaries", "--max-new-tokens", "4"})).code, 0);
    const Csv replaced = parse_csv(QString::fromUtf8(read_all(m_results)));
    QCOMPARE(replaced.header.mid(4), (QStringList{"original_model_summaries", "instruct_model_summaries", "peft_model_summaries"}));
    QCOMPARE(replaced.values("instruct_model_summaries"), csv.values("instruct_model_summaries"));
    QCOMPARE(read_json(m_results + ".provenance.json")
                 .value("columns").toObject().value("original_model_summaries").toObject()
                 .value("generation").toObject().value("max_new_tokens").toInt(),
             4);
}

void TestEvaluate::scores_with_rouge_results() {
    if (!QFile::exists(m_results)) SUMLAB_REQUIRE_SENTENCEPIECE();  // writes_lab_columns could not write it
    const Run r = run({"rouge", "--results", m_results, "--json", "--bootstrap", "50"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QJsonObject out = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(out.value("examples").toInt(), 6);
    QStringList names;
    for (const QJsonValue& system : out.value("systems").toArray()) names << system.toObject().value("name").toString();
    QCOMPARE(names, (QStringList{"original_model", "instruct_model", "peft_model"}));
    const double f = out.value("systems").toArray().at(0).toObject().value("mean").toObject().value("rouge1").toObject().value("fmeasure").toDouble(-1);
    QVERIFY2(f >= 0 && f <= 1, qPrintable(QString::number(f)));
}

void TestEvaluate::refuses_other_examples_data() {
    QTest::addColumn<QStringList>("selection");
    QTest::addColumn<QString>("message");
    QTest::newRow("fewer examples") << QStringList{"--limit", "5"} << "holds 6 rows but 5 examples are selected";
    QTest::newRow("other examples") << QStringList{"--every", "2", "--limit", "6"} << "row 1 (id \"test_1\") is not among the examples";
}

void TestEvaluate::refuses_other_examples() {
    QFETCH(QStringList, selection);
    QFETCH(QString, message);
    if (!QFile::exists(m_results)) SUMLAB_REQUIRE_SENTENCEPIECE();  // writes_lab_columns could not write it
    const QByteArray before = read_all(m_results);
    QVERIFY(!before.isEmpty());
    const Run r = run(evaluate_args(m_results, selection + QStringList{"--column", "peft_model_summaries"}));
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    QVERIFY2(r.err.contains("same examples"), qPrintable(r.err));
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QCOMPARE(read_all(m_results), before);
    QVERIFY(!QFile::exists(m_results + ".partial.jsonl"));
}

void TestEvaluate::resumes_after_interrupt() {
    // 400 forced tokens per example, one example per batch: long enough to interrupt after a few examples.
    const QStringList slow{"--batch-size", "1", "--min-new-tokens", "400", "--max-new-tokens", "400"};
    const QString reference = m_tmp.filePath("uninterrupted.csv");
    const Run whole = run(evaluate_args(reference, slow));
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(whole.err);
    QVERIFY2(whole.code == 0, qPrintable(whole.err));

    const QString output = m_tmp.filePath("interrupted.csv");
    const QString partial = output + ".partial.jsonl";
    QProcess p;
    p.start(cli(), evaluate_args(output, slow));
    QVERIFY(p.waitForStarted());
    QElapsedTimer timer;
    timer.start();
    while (partial_ids(partial).isEmpty() && p.state() == QProcess::Running && timer.elapsed() < 120000) QTest::qWait(5);
    // A second evaluate into the same output is refused while the first one runs.
    const Run second = run(evaluate_args(output, slow));
    QCOMPARE(second.code, 1);
    QVERIFY2(second.err.contains("in use by another sumlab-cli evaluate"), qPrintable(second.err));
    QVERIFY(QFile::exists(partial));
    while (partial_ids(partial).size() < 3 && p.state() == QProcess::Running && timer.elapsed() < 120000) QTest::qWait(5);
    QVERIFY2(p.state() == QProcess::Running, "evaluate finished before it could be interrupted");
    QCOMPARE(::kill(static_cast<pid_t>(p.processId()), SIGINT), 0);
    QVERIFY(p.waitForFinished(120000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 128 + SIGINT);
    QVERIFY2(QString::fromUtf8(p.readAllStandardError()).contains("stopped by SIGINT"), "no message about the stop");
    QVERIFY(!QFile::exists(output));
    const QStringList done = partial_ids(partial);
    QVERIFY2(done.size() >= 3 && done.size() < 24, qPrintable(QString::number(done.size())));
    QCOMPARE(done.first(), QString("test_0"));

    QStringList resume_args = evaluate_args(output, slow);
    resume_args.removeAll("--quiet");
    const Run resumed = run(resume_args);
    QVERIFY2(resumed.code == 0, qPrintable(resumed.err));
    QVERIFY2(resumed.err.contains(QString("resuming: %1 of 24 examples already done").arg(done.size())), qPrintable(resumed.err));
    QVERIFY(!QFile::exists(partial));
    const QJsonObject facts = read_json(output + ".provenance.json").value("columns").toObject().value("original_model_summaries").toObject();
    QCOMPARE(facts.value("resumed_examples").toInt(), done.size());
    QCOMPARE(facts.value("generated").toInt(), 24 - done.size());
    QCOMPARE(facts.value("hit_max_new_tokens").toInt(), 24);
    QVERIFY2(resumed.err.contains("24 of 24 summaries stopped at max_new_tokens"), qPrintable(resumed.err));

    const Csv a = parse_csv(QString::fromUtf8(read_all(reference)));
    const Csv b = parse_csv(QString::fromUtf8(read_all(output)));
    QCOMPARE(b.values("id"), a.values("id"));
    QCOMPARE(b.values("original_model_summaries"), a.values("original_model_summaries"));

    // The partial file of a run with other settings is not mixed in.
    const QString other = m_tmp.filePath("other.csv");
    QFile stale(other + ".partial.jsonl");
    QVERIFY(stale.open(QIODevice::WriteOnly));
    stale.write(R"({"sumlab_partial":1,"settings":{"column":"original_model_summaries","model":"/elsewhere"}})" "\n");
    stale.close();
    const Run mixed = run(evaluate_args(other, {"--limit", "2"}));
    QCOMPARE(mixed.code, 1);
    QVERIFY2(mixed.err.contains("other settings") && mixed.err.contains("/elsewhere"), qPrintable(mixed.err));
    QVERIFY(!QFile::exists(other));
    QVERIFY(QFile::exists(other + ".partial.jsonl"));  // another run's work is never deleted
}

void TestEvaluate::repeated_dialogues_generated_once() {
    // Hugging Face's CSV test split repeats each dialogue once per reference (test_0_1, test_0_2, test_0_3).
    const QString path = m_tmp.filePath("repeated/test.csv");
    QVERIFY(QDir(m_tmp.path()).mkpath("repeated"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("id,dialogue,summary,topic\n"
            "test_0_1,\"#Person1#: Where is the station?\n#Person2#: Two blocks north.\",#Person2# gives directions.,directions\n"
            "test_0_2,\"#Person1#: Where is the station?\n#Person2#: Two blocks north.\",#Person1# asks the way.,directions\n"
            "test_1_1,\"#Person1#: Coffee?\n#Person2#: Yes, please.\",They have coffee.,coffee\n");
    f.close();
    const QString output = m_tmp.filePath("repeated.csv");
    const Run r = run({"evaluate", "--model", model(), "--data", path, "--output", output, "--quiet", "--max-new-tokens", "10"});
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(r.err);
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const Csv csv = parse_csv(QString::fromUtf8(read_all(output)));
    QCOMPARE(csv.values("id"), (QStringList{"test_0_1", "test_0_2", "test_1_1"}));
    QCOMPARE(csv.values("human_baseline_summaries"), (QStringList{"#Person2# gives directions.", "#Person1# asks the way.", "They have coffee."}));
    QCOMPARE(csv.values("original_model_summaries").at(0), csv.values("original_model_summaries").at(1));
    const QJsonObject facts = read_json(output + ".provenance.json").value("columns").toObject().value("original_model_summaries").toObject();
    QCOMPARE(facts.value("generated").toInt(), 2);
    QCOMPARE(facts.value("distinct_sources").toInt(), 2);
}

void TestEvaluate::jsonl_test_split_uses_first_reference() {
    const std::string jsonl = shared_path("dialogsum/jsonl/dialogsum.test.jsonl");
    SUMLAB_REQUIRE_SHARED(jsonl);
    const QList<QByteArray> lines = read_all(QString::fromStdString(jsonl)).split('\n');
    const QJsonObject first = QJsonDocument::fromJson(lines.at(0)).object();
    const QString output = m_tmp.filePath("jsonl.csv");
    const Run r = run({"evaluate", "--model", model(), "--data", QString::fromStdString(shared_path("dialogsum/jsonl")), "--split",
                       "test", "--limit", "2", "--output", output, "--quiet", "--max-new-tokens", "6"});
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(r.err);
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const Csv csv = parse_csv(QString::fromUtf8(read_all(output)));
    QCOMPARE(csv.rows.size(), 2);
    QCOMPARE(csv.values("id").at(0), first.value("fname").toString());
    QCOMPARE(csv.values("human_baseline_summaries").at(0), first.value("summary1").toString());
    const QJsonObject human = read_json(output + ".provenance.json").value("columns").toObject().value("human_baseline_summaries").toObject();
    QVERIFY2(human.value("reference").toString().startsWith("summary1"), qPrintable(human.value("reference").toString()));
}

void TestEvaluate::data_lengths_in_model_tokens() {
    const Run words = run({"data", "--data", m_data, "--limit", "1", "--json"});
    QVERIFY2(words.code == 0, qPrintable(words.err));
    const QJsonObject w = QJsonDocument::fromJson(words.out.toUtf8()).object();
    QCOMPARE(w.value("unit").toString(), QString("words"));

    const Run tokens = run({"data", "--data", m_data, "--limit", "1", "--json", "--model", model(), "--max-source-length", "40"});
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(tokens.err);
    QVERIFY2(tokens.code == 0, qPrintable(tokens.err));
    const QJsonObject t = QJsonDocument::fromJson(tokens.out.toUtf8()).object();
    QCOMPARE(t.value("unit").toString(), QString("tokens"));
    const QJsonObject split = t.value("splits").toArray().at(0).toObject();
    QCOMPARE(split.value("unit").toString(), QString("tokens"));
    const QJsonObject prompt_lengths = split.value("prompt_lengths").toObject();

    // The same prompt through `tokenize` (HF's tokenizer(text): ids with </s>).
    const QString dialogue = "#Person1#: Hello, I'd like to book a table for 2 people, please.\n#Person2#: Of course. At what time?\n"
                             "#Person1#: At 1 pm, near the window if you have one.\n#Person2#: Certainly.";
    const QString text = "Summarize the following conversation.\n\n" + dialogue + "\n\nSummary: ";
    const QString input = m_tmp.filePath("prompt.jsonl");
    QFile f(input);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QJsonDocument(QJsonObject{{"id", 1}, {"text", text}}).toJson(QJsonDocument::Compact) + "\n");
    f.close();
    const Run tok = run({"tokenize", "--model", model(), "--input", input});
    QVERIFY2(tok.code == 0, qPrintable(tok.err));
    const QJsonObject ids = QJsonDocument::fromJson(tok.out.toUtf8()).object();
    const int expected = ids.value("input_ids").toArray().size();
    QVERIFY(expected > 0);
    QCOMPARE(prompt_lengths.value("max").toInt(), expected);
    QVERIFY(prompt_lengths.value("max").toInt() != w.value("splits").toArray().at(0).toObject().value("prompt_lengths").toObject().value("max").toInt());
    QCOMPARE(prompt_lengths.value("max_length").toInt(), 40);
    QCOMPARE(prompt_lengths.value("truncated").toInt(), expected > 40 ? 1 : 0);

    const Run table = run({"data", "--data", m_data, "--limit", "1", "--model", model()});
    QVERIFY2(table.code == 0, qPrintable(table.err));
    QVERIFY2(table.out.contains("Lengths in T5 tokens"), qPrintable(table.out));
}

void TestEvaluate::bench_matmul_json() {
    const Run r = run({"bench", "--only", "matmul", "--json", "--repeats", "1", "--warmups", "0"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(r.out.toUtf8(), &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString() + ": " + r.out));
    QVERIFY(doc.isObject());
    const QJsonObject out = doc.object();
    QVERIFY2(out.value("matmul_gflops").toDouble() > 0, qPrintable(r.out));
    for (const char* key : {"greedy_b8_s", "beam4_b1_s", "rouge_s", "train_full_s", "train_lora_s", "train_full_model_gflops",
                            "train_full_peak_rss_mb", "train_lora_peak_rss_mb"}) {
        QVERIFY2(out.contains(key), key);
        QVERIFY2(out.value(key).isNull(), key);
    }
    QVERIFY(out.value("threads").toObject().value("torch_threads").toInt() >= 1);

    const Run unknown = run({"bench", "--only", "matmul,nonsense", "--json"});
    QCOMPARE(unknown.code, 1);
    QVERIFY2(unknown.err.contains("unknown measurement \"nonsense\""), qPrintable(unknown.err));
}

// --profile: one more run of each model measurement under LibTorch's profiler, written as op tables.
void TestEvaluate::bench_profile_writes_op_tables() {
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/tiny-flan/config.json"));
    QTemporaryDir dir;
    const QString path = dir.filePath("profile.txt");
    const Run r = run({"bench", "--model", model(), "--only", "greedy,train_lora", "--repeats", "1", "--warmups", "0",
                       "--profile", path, "--json"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString text = QString::fromUtf8(file.readAll());
    const QStringList sections = text.split("== ", Qt::SkipEmptyParts);
    QCOMPARE(sections.size(), 2);
    QVERIFY2(sections[0].startsWith("greedy"), qPrintable(sections[0].left(80)));
    QVERIFY2(sections[1].startsWith("LoRA"), qPrintable(sections[1].left(80)));
    // Every generated token multiplies by the output layer, so aten::mm appears with a call count, a self time
    // no larger than its total, and the training step's backward ops and autograd nodes appear in the LoRA section only.
    const QRegularExpression mm(R"(\naten::mm +(\d+) +([\d.]+) +[\d.]+ +([\d.]+)\n)");
    for (const QString& section : sections) {
        const QRegularExpressionMatch m = mm.match(section);
        QVERIFY2(m.hasMatch(), qPrintable(section.left(400)));
        QVERIFY(m.captured(1).toInt() >= 64);
        QVERIFY(m.captured(2).toDouble() <= m.captured(3).toDouble() + 0.01);
        QVERIFY2(section.contains("aten::mm ["), "the per-shape table is missing");
    }
    const QRegularExpression autograd("Backward|backward|autograd::");  // backward ops, autograd nodes
    QVERIFY(!sections[0].contains(autograd));
    QVERIFY(sections[1].contains(autograd));

    const Run bad = run({"bench", "--only", "matmul", "--profile", dir.filePath("no/such/folder/p.txt")});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains("no/such/folder/p.txt"), qPrintable(bad.err));
}

QTEST_GUILESS_MAIN(TestEvaluate)
#include "tst_evaluate.moc"
