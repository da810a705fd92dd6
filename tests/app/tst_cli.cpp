// The sumlab-cli contract as scripts use it: the public parity checkers of ../shared run through
// the binary, and bad input ends with a one-line error and a non-zero exit code.
#include "tests/common/golden.h"
#include "tests/common/sanitizer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
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
    void rouge_results_deltas();
    void bad_input_data();
    void bad_input();
    void help_on_every_subcommand();
    void train_help_names_only_hugging_face_keys();
    void train_reads_a_lone_file_as_the_train_split();
    void generate_with_prompt_preset();
    void convert_to_float16();
    void train_with_rouge_best_checkpoint_and_early_stopping();

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

void TestCli::rouge_results_deltas() {
    // Three systems on two rows whose ROUGE is counted by hand (no stemmer; one sentence each, so
    // rougeLsum = rougeL). Row 1, reference "a b c d": "a b c d" matches fully; "a b x y" shares 2 of
    // 4 words, 1 of 3 bigrams, an LCS of 2; "d c b a" shares all 4 words, no bigram, an LCS of 1.
    // Row 2, reference "e f": "x y" shares nothing; "e f" everything; "e f g h" shares 2 of its 4 words,
    // 1 of its 3 bigrams (the reference's only one), an LCS of 2.
    const QStringList systems{"original", "instruct", "peft"};
    // precision, recall per [system][row][type: rouge1, rouge2, rougeL]
    const double pr[3][2][3][2] = {
        {{{1, 1}, {1, 1}, {1, 1}}, {{0, 0}, {0, 0}, {0, 0}}},
        {{{2 / 4.0, 2 / 4.0}, {1 / 3.0, 1 / 3.0}, {2 / 4.0, 2 / 4.0}}, {{1, 1}, {1, 1}, {1, 1}}},
        {{{1, 1}, {0, 0}, {1 / 4.0, 1 / 4.0}}, {{2 / 4.0, 1}, {1 / 3.0, 1}, {2 / 4.0, 1}}},
    };
    const char* types[] = {"rouge1", "rouge2", "rougeL", "rougeLsum"};
    const char* measures[] = {"precision", "recall", "fmeasure"};
    // mean[system][type][measure] over the two rows (F per row, then averaged, as rouge_score does).
    double mean[3][4][3] = {};
    for (int sys = 0; sys < 3; ++sys)
        for (int row = 0; row < 2; ++row)
            for (int t = 0; t < 4; ++t) {
                const double p = pr[sys][row][std::min(t, 2)][0], r = pr[sys][row][std::min(t, 2)][1];
                mean[sys][t][0] += p / 2;
                mean[sys][t][1] += r / 2;
                mean[sys][t][2] += (p + r > 0 ? 2 * p * r / (p + r) : 0) / 2;
            }
    QTemporaryDir tmp;
    write(tmp.filePath("results.csv"), "human_baseline_summaries,original_summaries,instruct_summaries,peft_summaries\n"
                                       "a b c d,a b c d,a b x y,d c b a\n"
                                       "e f,x y,e f,e f g h\n");

    // Every later system minus every earlier one, in column order.
    const QList<QPair<int, int>> pairs{{0, 1}, {0, 2}, {1, 2}};
    // The arithmetic is exact ratios of small integers: only the rounding of a few double operations
    // differs between the program's order and this one (~1e-16).
    constexpr double tolerance = 1e-12;
    // Without intervals, and with the default paired bootstrap (1000 resamples), which computes the
    // observed deltas on its own path (engine/metrics/bootstrap.cpp).
    for (const QStringList& bootstrap : {QStringList{"--bootstrap", "0"}, QStringList{}}) {
        auto r = run(cli(), QStringList{"rouge", "--results", tmp.filePath("results.csv"), "--json"} + bootstrap);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QJsonObject out = QJsonDocument::fromJson(r.out.toUtf8()).object();
        const QJsonArray deltas = out.value("deltas").toArray();
        QCOMPARE(deltas.size(), pairs.size());
        for (int k = 0; k < pairs.size(); ++k) {
            const auto [base, cand] = pairs[k];
            const QJsonObject d = deltas.at(k).toObject();
            QCOMPARE(d.value("baseline").toString(), systems[base]);
            QCOMPARE(d.value("candidate").toString(), systems[cand]);
            for (int t = 0; t < 4; ++t)
                for (int m = 0; m < 3; ++m) {
                    const QJsonObject v = d.value(types[t]).toObject().value(measures[m]).toObject();
                    const double want = mean[cand][t][m] - mean[base][t][m];
                    const QString where = QString("%1 - %2, %3 %4 (%5)")
                                              .arg(systems[cand], systems[base], types[t], measures[m],
                                                   bootstrap.isEmpty() ? "default bootstrap" : bootstrap.join(' '));
                    QVERIFY2(std::abs(v.value("delta").toDouble(1e9) - want) < tolerance,
                             qPrintable(where + ": delta " + repr(v.value("delta").toDouble()) + ", want " + repr(want)));
                    QVERIFY2(std::abs(v.value("points").toDouble(1e9) - 100 * want) < 100 * tolerance, qPrintable(where));
                    if (mean[base][t][m] == 0) QVERIFY2(v.value("relative").isNull(), qPrintable(where));
                    else QVERIFY2(std::abs(v.value("relative").toDouble(1e9) - want / mean[base][t][m]) < tolerance, qPrintable(where));
                    QCOMPARE(v.contains("p_value"), bootstrap.isEmpty());
                }
        }
    }

    // The table prints the same F-measure deltas in points, with the relative change.
    const Run r = run(cli(), {"rouge", "--results", tmp.filePath("results.csv"), "--bootstrap", "0"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    for (const auto& [base, cand] : pairs) {
        const QString heading = QString("Absolute improvement, %1 - %2 (F-measure points):\n").arg(systems[cand], systems[base]);
        const qsizetype at = r.out.indexOf(heading);
        QVERIFY2(at >= 0, qPrintable(heading + r.out));
        const QStringList lines = r.out.mid(at + heading.size()).split('\n');
        for (int t = 0; t < 4; ++t) {
            const double want = mean[cand][t][2] - mean[base][t][2];
            const QString expected = QString("%1: %2%  (%3% relative)")
                                         .arg(types[t])
                                         .arg(100 * want, 0, 'f', 2)
                                         .arg(QString::asprintf("%+.2f", 100 * want / mean[base][t][2]));
            QCOMPARE(lines.value(t), expected);
        }
    }
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
    for (const char* sub : {"info", "tokenize", "generate", "loss", "rouge", "data", "convert"}) {
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

// The flags as a script passes them: ROUGE each epoch, the best checkpoint by ROUGE-L, early stopping;
// early_stopping_threshold 1 (ROUGE F is at most 1) makes the second evaluation "no improvement", so patience 1
// ends the run after epoch 2 whatever the summaries. Then HF's refusal of mismatched strategies.
void TestCli::train_with_rouge_best_checkpoint_and_early_stopping() {
    const std::string model = shared_path("golden/t5/tiny-flan"), train = shared_path("dialogsum/jsonl/dialogsum.train.jsonl"),
                      dev = shared_path("dialogsum/jsonl/dialogsum.dev.jsonl");
    SUMLAB_REQUIRE_SHARED(model + "/config.json");
    SUMLAB_REQUIRE_SHARED(train);
    SUMLAB_REQUIRE_SHARED(dev);
    QTemporaryDir tmp;
    auto head = [](const std::string& path, int lines) {
        QFile f(QString::fromStdString(path));
        if (!f.open(QIODevice::ReadOnly)) return QByteArray();
        QByteArray out;
        for (int i = 0; i < lines; ++i) out += f.readLine();
        return out;
    };
    QDir().mkpath(tmp.filePath("data"));
    write(tmp.filePath("data/dialogsum.train.jsonl"), head(train, 8));
    write(tmp.filePath("data/dialogsum.dev.jsonl"), head(dev, 3));
    const QStringList common{"train", "--model", QString::fromStdString(model), "--data", tmp.filePath("data"), "--method", "lora",
                             "--learning-rate", "1e-3", "--per-device-train-batch-size", "8", "--num-train-epochs", "5",
                             "--max-source-length", "64", "--max-target-length", "16", "--eval-strategy", "epoch", "--quiet"};
    auto r = run(cli(), common + QStringList{"--output", tmp.filePath("run"), "--save-strategy", "epoch", "--predict-with-generate",
                                             "--generation-max-length", "8", "--eval-generate-limit", "2", "--load-best-model-at-end",
                                             "--metric-for-best-model", "rougeL", "--early-stopping-patience", "1",
                                             "--early-stopping-threshold", "1", "--group-by-length", "false"});
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(r.err);
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QJsonObject out = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(out.value("status").toString(), QStringLiteral("finished"));
    QCOMPARE(out.value("global_step").toInt(), 2);  // one step an epoch, stopped after epoch 2 of 5
    QVERIFY2(out.value("message").toString().contains("eval_rougeL did not improve by more than 1"), qPrintable(r.out));
    QVERIFY2(r.err.contains("train: early stopping"), qPrintable(r.err));
    QCOMPARE(out.value("best_model_checkpoint").toString(), tmp.filePath("run/checkpoint-1"));
    QVERIFY(QFileInfo::exists(tmp.filePath("run/final/adapter_model.safetensors")));
    // The flags reached run.json (a boolean flag alone means true; "false" is read as false).
    QFile runJson(tmp.filePath("run/run.json"));
    QVERIFY(runJson.open(QIODevice::ReadOnly));
    const QJsonObject args = QJsonDocument::fromJson(runJson.readAll()).object().value("arguments").toObject();
    QCOMPARE(args.value("predict_with_generate").toBool(), true);
    QCOMPARE(args.value("load_best_model_at_end").toBool(), true);
    QCOMPARE(args.value("group_by_length").toBool(true), false);
    QCOMPARE(args.value("generation_max_length").toInt(), 8);
    QVERIFY(args.value("generation_num_beams").isNull());
    QFile metrics(tmp.filePath("run/metrics.jsonl"));
    QVERIFY(metrics.open(QIODevice::ReadOnly));
    QCOMPARE(metrics.readAll().count("\"eval_rougeL\""), 2);
    // HF refuses load_best_model_at_end with save and eval strategies that differ, naming both.
    auto refused = run(cli(), common + QStringList{"--output", tmp.filePath("refused"), "--save-strategy", "steps", "--load-best-model-at-end"});
    QVERIFY(refused.code != 0);
    QVERIFY2(refused.err.contains("save and eval strategy to match") && refused.err.contains("save_strategy steps"), qPrintable(refused.err));
    QVERIFY(!QFileInfo::exists(tmp.filePath("refused/run.json")));
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

// convert --torch-dtype float16 writes a half-size, complete model folder that SumLab loads and generates
// with; a second convert into it is refused and leaves it as it was.
void TestCli::convert_to_float16() {
    const QString model = QString::fromStdString(shared_path("golden/t5/tiny-flan"));
    SUMLAB_REQUIRE_SHARED(model.toStdString() + "/config.json");
    QTemporaryDir tmp;
    const QString out = tmp.filePath("half");
    auto r = run(cli(), {"convert", "--model", model, "--output", out, "--torch-dtype", "float16"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QJsonObject line = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(line.value("torch_dtype").toString(), QStringLiteral("float16"));
    const qint64 full = QFileInfo(model + "/model.safetensors").size(), half = QFileInfo(out + "/model.safetensors").size();
    QCOMPARE(qint64(line.value("bytes").toDouble()), half);
    // Two bytes a weight instead of four; the JSON header is the same size give or take the dtype names.
    QVERIFY2(half < full / 2 + 4096, qPrintable(QStringLiteral("%1 vs %2 bytes").arg(half).arg(full)));
    for (const char* f : {"config.json", "generation_config.json", "spiece.model"}) QVERIFY2(QFile::exists(out + "/" + f), f);
    write(tmp.filePath("in.jsonl"), "{\"id\": \"x\", \"text\": \"Hello there, how are you?\"}\n");
    auto g = run(cli(), {"generate", "--model", out, "--input", tmp.filePath("in.jsonl"), "--output", tmp.filePath("g.jsonl"), "--quiet"});
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(g.err);
    QVERIFY2(g.code == 0, qPrintable(g.err));
    auto again = run(cli(), {"convert", "--model", model, "--output", out, "--torch-dtype", "float32"});
    QCOMPARE(again.code, 1);
    QVERIFY2(again.err.contains(out), qPrintable(again.err));
    QCOMPARE(QFileInfo(out + "/model.safetensors").size(), half);
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
