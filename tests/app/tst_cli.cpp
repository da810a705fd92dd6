// The sumlab-cli contract as scripts use it: the public parity checkers of ../shared run through
// the binary, and bad input ends with a one-line error and a non-zero exit code.
#include "tests/common/golden.h"
#include "tests/common/sanitizer.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

using namespace sumlab::test;

class TestCli : public QObject {
    Q_OBJECT

private slots:
    void t5_parity_checker_data();
    void t5_parity_checker();
    void rouge_checker();
    void bad_input_data();
    void bad_input();
    void help_on_every_subcommand();
    void train_help_names_only_hugging_face_keys();
    void train_reads_a_lone_file_as_the_train_split();
    void generate_with_prompt_preset();

private:
    QString cli() const { return QStringLiteral(SUMLAB_BIN_DIR "/sumlab-cli"); }
    struct Run {
        int code;
        QString out, err;
    };
    Run run(const QString& program, const QStringList& args, int timeout_ms = 300000) const {
        QProcess p;
        p.start(program, args);
        if (!p.waitForFinished(timeout_ms)) {
            p.kill();
            return {-1, {}, "timed out"};
        }
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
                QString::fromUtf8(p.readAllStandardError())};
    }
    static void write(const QString& path, const QByteArray& text) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text);
    }
};

void TestCli::t5_parity_checker_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("tiny-flan") << "tiny-flan";
    QTest::newRow("tiny-t5v1") << "tiny-t5v1";
}

void TestCli::t5_parity_checker() {
    QFETCH(QString, model);
    std::string dir = shared_path("golden/t5/" + model.toStdString());
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/check_cli.py"));
    auto r = run("python3", {QString::fromStdString(shared_path("golden/t5/check_cli.py")), cli(), QString::fromStdString(dir),
                             QString::fromStdString(dir + ".goldens")});
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(r.out + r.err);
    QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
    QVERIFY2(r.out.contains("parity ok"), qPrintable(r.out));
}

void TestCli::rouge_checker() {
    SUMLAB_REQUIRE_SHARED(shared_path("golden/rouge/check.py"));
    auto r = run("python3", {QString::fromStdString(shared_path("golden/rouge/check.py")), "--", cli()});
    QVERIFY2(r.code == 0, qPrintable(r.out.right(2000) + r.err.right(2000)));
}

void TestCli::bad_input_data() {
    QTest::addColumn<QString>("subcommand");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("message");
    QTest::newRow("tokenize: broken JSON") << "tokenize" << QByteArray("{\"id\": 1, \"text\": \"hi\"}\n{\"id\": 2,\n") << "input.jsonl:2";
    QTest::newRow("tokenize: no text") << "tokenize" << QByteArray("{\"id\": 1, \"txt\": \"hi\"}\n") << "missing field \"text\"";
    QTest::newRow("generate: text not a string") << "generate" << QByteArray("{\"id\": 1, \"text\": 5}\n") << "must be a string";
    QTest::newRow("loss: no target") << "loss" << QByteArray("{\"id\": 1, \"text\": \"hi\"}\n") << "missing field \"target\"";
}

void TestCli::bad_input() {
    QFETCH(QString, subcommand);
    QFETCH(QByteArray, input);
    QFETCH(QString, message);
    std::string model = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(model + "/config.json");
    QTemporaryDir tmp;
    write(tmp.filePath("input.jsonl"), input);
    QStringList args{subcommand, "--model", QString::fromStdString(model), "--input", tmp.filePath("input.jsonl")};
    if (subcommand == "generate") args << "--output" << tmp.filePath("out.jsonl");
    auto r = run(cli(), args);
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(r.err);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    QCOMPARE(r.err.trimmed().count('\n'), 0);  // one line
    QVERIFY(!QFile::exists(tmp.filePath("out.jsonl")));
}

void TestCli::help_on_every_subcommand() {
    for (const char* sub : {"info", "tokenize", "generate", "loss", "rouge", "data"}) {
        auto r = run(cli(), {sub, "--help"});
        QVERIFY2(r.code == 0, sub);
        QVERIFY2(r.out.contains("--"), sub);
    }
    auto missing = run(cli(), {"info", "--model", "/nonexistent/model"});
    QCOMPARE(missing.code, 1);
    QVERIFY(missing.err.contains("/nonexistent/model"));
}

void TestCli::train_help_names_only_hugging_face_keys() {
    auto r = run(cli(), {"train", "--help"});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains("(Hugging Face: learning_rate)"), qPrintable(r.out));
    QVERIFY2(r.out.contains("(PEFT LoraConfig: r)"), qPrintable(r.out));
    // SumLab's own settings name no origin; 4.28 calls eval_strategy evaluation_strategy.
    for (const char* own : {"limit", "every_kth", "method", "device", "prompt", "eval_strategy"})
        QVERIFY2(!r.out.contains(QString("(Hugging Face: %1)").arg(own)), own);
    QVERIFY2(r.out.contains("Hugging Face: evaluation_strategy"), qPrintable(r.out));
    // Numeric flags show their type.
    QVERIFY2(QRegularExpression("--learning-rate\\s+FLOAT").match(r.out).hasMatch(), qPrintable(r.out));
    QVERIFY2(QRegularExpression("--max-steps\\s+INT").match(r.out).hasMatch(), qPrintable(r.out));
}

void TestCli::train_reads_a_lone_file_as_the_train_split() {
    // datasets.load_dataset("csv", data_files="mydata.csv") reads one file as train; so does `train`, and says so.
    std::string model = shared_path("golden/t5/tiny-flan"), test_csv = shared_path("dialogsum/csv/test.csv");
    SUMLAB_REQUIRE_SHARED(model + "/config.json");
    SUMLAB_REQUIRE_SHARED(test_csv);
    QTemporaryDir tmp;
    QFile in(QString::fromStdString(test_csv));
    QVERIFY(in.open(QIODevice::ReadOnly));
    // The header and the first rows; DialogSum's CSV quotes multi-line dialogues, so cut at a row that starts with an id.
    const QByteArray all = in.readAll();
    const qsizetype cut = all.indexOf("\ntest_5_");
    QVERIFY(cut > 0);
    write(tmp.filePath("mydata.csv"), all.left(cut + 1));
    auto r = run(cli(), {"train", "--model", QString::fromStdString(model), "--data", tmp.filePath("mydata.csv"), "--output",
                         tmp.filePath("run"), "--max-steps", "1", "--per-device-train-batch-size", "2", "--max-source-length", "64",
                         "--max-target-length", "16", "--save-strategy", "no", "--quiet"});
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(r.err);
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QStringList notes = r.err.split('\n').filter("names no split");
    QCOMPARE(notes.size(), 1);
    QVERIFY2(notes.front().contains("mydata.csv") && notes.front().contains("train split"), qPrintable(notes.front()));
}

void TestCli::generate_with_prompt_preset() {
    std::string model = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(model + "/config.json");
    QTemporaryDir tmp;
    // The dialogsum preset applied to "dialogue" must equal the same prompt given as "text".
    write(tmp.filePath("a.jsonl"), "{\"id\": \"x\", \"dialogue\": \"#Person1#: Hi, how are you?\\n#Person2#: Fine.\"}\n");
    write(tmp.filePath("b.jsonl"),
          "{\"id\": \"x\", \"text\": \"Summarize the following conversation.\\n\\n#Person1#: Hi, how are you?\\n#Person2#: Fine.\\n\\nSummary: \"}\n");
    auto a = run(cli(), {"generate", "--model", QString::fromStdString(model), "--input", tmp.filePath("a.jsonl"), "--output",
                         tmp.filePath("a.out"), "--prompt", "dialogsum", "--quiet"});
    auto b = run(cli(), {"generate", "--model", QString::fromStdString(model), "--input", tmp.filePath("b.jsonl"), "--output",
                         tmp.filePath("b.out"), "--quiet"});
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(a.err);
    QCOMPARE(a.code, 0);
    QCOMPARE(b.code, 0);
    QFile fa(tmp.filePath("a.out")), fb(tmp.filePath("b.out"));
    QVERIFY(fa.open(QIODevice::ReadOnly) && fb.open(QIODevice::ReadOnly));
    QByteArray la = fa.readAll(), lb = fb.readAll();
    QVERIFY(la.contains("\"token_ids\""));
    QCOMPARE(la, lb);
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
