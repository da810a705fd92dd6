// Tests for engine/data/dialogsum: the three DialogSum layouts, bad-input errors with file:line, skipping,
// selection (every k-th, seeded subsample, limit), length statistics, and the real dataset in ../shared.
#include "engine/data/dialogsum.h"
#include "tests/common/sanitizer.h"
#include "base/errors.h"

#include <nlohmann/json.hpp>

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

using namespace sumlab;

// Declared before the helpers: moc misreads the apostrophes inside their raw string literals.
class TestDialogSum : public QObject {
    Q_OBJECT

private slots:
    void splitNames_data();
    void splitNames();
    void formats_data();
    void formats();
    void multipleReferences();
    void folder();
    void badInput_data();
    void badInput();
    void loadErrors();
    void skipBadRows();
    void everyKth_data();
    void everyKth();
    void subsampleGolden_data();
    void subsampleGolden();
    void subsampleDeterminism();
    void selectionOrder();
    void wordCount_data();
    void wordCount();
    void binEdges_data();
    void binEdges();
    void statisticsByHand();
    void statisticsWithTokenCounter();
    void statisticsEmptyAndBadEdges();
    void realCsv();
    void realJsonl();
    void realFormatsAgree();
    void realStatistics();
};

namespace {

const QString shared_dialogsum = QStringLiteral(SUMLAB_SHARED_DIR "/dialogsum");

std::string bytes(const QByteArray& a) { return std::string(a.constData(), static_cast<size_t>(a.size())); }

void write_file(const QString& path, const QByteArray& contents) {
    QFile file(path);
    QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(path));
    QCOMPARE(file.write(contents), contents.size());
}

// An example as one JSON line (without its line number), so a mismatch prints every field.
QString example_json(const DialogSumExample& e) {
    return QString::fromStdString(
        nlohmann::ordered_json{{"id", e.id}, {"dialogue", e.dialogue}, {"references", e.references}, {"topics", e.topics}}.dump());
}

QString examples_json(const DialogSumSplit& split) {
    QStringList all;
    for (const auto& e : split.examples) all << example_json(e);
    return all.join('\n');
}

QString lines_of(const DialogSumSplit& split) {
    QStringList lines;
    for (const auto& e : split.examples) lines << QString::number(e.line);
    return lines.join(',');
}

DialogSumSplit synthetic_split(size_t n) {
    DialogSumSplit split;
    for (size_t i = 0; i < n; ++i) {
        DialogSumExample e;
        e.id = "e" + std::to_string(i);
        e.dialogue = "d";
        e.references = {"s"};
        e.line = static_cast<std::int64_t>(i + 2);
        split.examples.push_back(e);
    }
    return split;
}

QString ids_of(const DialogSumSplit& split) {
    QStringList ids;
    for (const auto& e : split.examples) ids << QString::fromStdString(e.id);
    return ids.join(',');
}

DialogSumExample make_example(std::string id, std::string dialogue, std::vector<std::string> references,
                              std::vector<std::string> topics) {
    DialogSumExample e;
    e.id = std::move(id);
    e.dialogue = std::move(dialogue);
    e.references = std::move(references);
    e.topics = std::move(topics);
    return e;
}

// The same two examples in every layout.
const QString two_examples_json = QString::fromUtf8(
    R"({"id":"t1","dialogue":"#Person1#: Hi, \"Bob\".\n#Person2#: It's me.","references":["Person1 greets Bob."],"topics":["greeting"]})"
    "\n"
    R"({"id":"t2","dialogue":"#Person1#: 50% off…\n#Person2#: Great!","references":["A sale."],"topics":["shopping"]})");

}  // namespace


void TestDialogSum::splitNames_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("split");  // "" for none

    QTest::addRow("hf train") << "train.csv" << "train";
    QTest::addRow("hf validation") << "validation.csv" << "validation";
    QTest::addRow("hf test") << "test.csv" << "test";
    QTest::addRow("original dev") << "dialogsum.dev.jsonl" << "validation";
    QTest::addRow("original test") << "dialogsum.test.jsonl" << "test";
    QTest::addRow("val with dashes") << "my-val-set.txt" << "validation";
    QTest::addRow("case ignored") << "TRAIN.CSV" << "train";
    QTest::addRow("folders ignored") << "/data/test/dialogsum.train.jsonl" << "train";
    QTest::addRow("word, not substring") << "contest.csv" << "";
    QTest::addRow("no split word") << "dialogs.csv" << "";
    QTest::addRow("two splits is ambiguous") << "train_test.csv" << "";
    QTest::addRow("same split twice") << "train.train.csv" << "train";
}

void TestDialogSum::splitNames() {
    QFETCH(QString, path);
    QFETCH(QString, split);
    const auto found = split_from_file_name(path.toStdString());
    QCOMPARE(found ? QString::fromUtf8(split_name(*found).data()) : QString(), split);
}

void TestDialogSum::formats_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("lines");

    QTest::addRow("hugging face csv")
        << "train.csv"
        << QByteArray("id,dialogue,summary,topic\n"
                      "t1,\"#Person1#: Hi, \"\"Bob\"\".\n#Person2#: It's me.\",Person1 greets Bob.,greeting\n"
                      "t2,\"#Person1#: 50% off\xE2\x80\xA6\n#Person2#: Great!\",A sale.,shopping\n")
        << "csv" << "2,4";
    QTest::addRow("csv with crlf, bom and extra column")
        << "train.csv"
        << QByteArray("\xEF\xBB\xBFid,dialogue,summary,topic,extra\r\n"
                      "t1,\"#Person1#: Hi, \"\"Bob\"\".\n#Person2#: It's me.\",Person1 greets Bob.,greeting,x\r\n"
                      "t2,\"#Person1#: 50% off\xE2\x80\xA6\n#Person2#: Great!\",A sale.,shopping,y\r\n")
        << "csv" << "2,4";
    QTest::addRow("original jsonl")
        << "dialogsum.train.jsonl"
        << QByteArray(R"({"fname": "t1", "dialogue": "#Person1#: Hi, \"Bob\".\n#Person2#: It's me.", "summary": "Person1 greets Bob.", "topic": "greeting"})"
                      "\n\n"
                      R"({"fname": "t2", "dialogue": "#Person1#: 50% off\u2026\n#Person2#: Great!", "summary": "A sale.", "topic": "shopping"})"
                      "\n")
        << "jsonl" << "1,3";
    QTest::addRow("python dict literals")
        << "dialogsum.train.jsonl"
        << QByteArray(R"({'fname': 't1', 'summary': 'Person1 greets Bob.', 'dialogue': '#Person1#: Hi, "Bob".\n#Person2#: It\'s me.', 'topic': 'greeting'})"
                      "\r\n"
                      R"({'fname': 't2', 'summary': "A sale.", 'dialogue': u'#Person1#: 50% off\u2026\n#Person2#: Great!', 'topic': 'shopping', 'n': 2, 'ok': True, 'x': None,})"
                      "\r\n")
        << "python-literal" << "1,2";
    QTest::addRow("python literals with a double-quoted first key")
        << "train.txt"
        << QByteArray(R"({"fname": 't1', "dialogue": '#Person1#: Hi, "Bob".\n#Person2#: It\'s me.', "summary": 'Person1 greets Bob.', "topic": 'greeting'})"
                      "\n"
                      R"({"fname": 't2', "dialogue": '#Person1#: 50% off\u2026\n#Person2#: Great!', "summary": 'A sale.', "topic": 'shopping'})"
                      "\n")
        << "python-literal" << "1,2";
}

void TestDialogSum::formats() {
    QFETCH(QString, file);
    QFETCH(QByteArray, contents);
    QFETCH(QString, format);
    QFETCH(QString, lines);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(file);
    write_file(path, contents);
    const DialogSumDataset dataset = load_dialogsum(path.toStdString());
    QCOMPARE(dataset.splits.size(), size_t(1));
    const DialogSumSplit& split = dataset.at(Split::train);
    QCOMPARE(QString::fromUtf8(format_name(split.format).data()), format);
    QCOMPARE(QString::fromStdString(split.path), path);
    QCOMPARE(examples_json(split), two_examples_json);
    QCOMPARE(lines_of(split), lines);
    QCOMPARE(split.examples[0].topic(), std::string("greeting"));
    QVERIFY(split.skipped.empty());
}

void TestDialogSum::multipleReferences() {
    const std::string jsonl =
        R"({"fname": "test_0", "dialogue": "#Person1#: Hi.", "summary1": "A", "topic1": "ta", "summary2": "B", "topic2": "tb", "summary3": "C", "topic3": "tc"})"
        "\n";
    const DialogSumSplit split = parse_dialogsum(jsonl, DataFormat::jsonl, Split::test, "dialogsum.test.jsonl");
    QCOMPARE(split.examples.size(), size_t(1));
    QCOMPARE(split.examples[0].references, (std::vector<std::string>{"A", "B", "C"}));
    QCOMPARE(split.examples[0].topics, (std::vector<std::string>{"ta", "tb", "tc"}));
    QCOMPARE(split.examples[0].topic(), std::string("ta"));
    QCOMPARE(split.reference_count(), size_t(3));

    // The same layout in CSV; a file without topics has none.
    const std::string csv = "fname,dialogue,summary1,summary2\nx,d,r1,r2\n";
    const DialogSumSplit from_csv = parse_dialogsum(csv, DataFormat::csv, Split::test, "multi.csv");
    QCOMPARE(from_csv.examples[0].references, (std::vector<std::string>{"r1", "r2"}));
    QVERIFY(from_csv.examples[0].topics.empty());
    QCOMPARE(from_csv.examples[0].topic(), std::string());
}

void TestDialogSum::folder() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    write_file(dir.filePath("train.csv"), "id,dialogue,summary,topic\ntrain_0,a b,s,t\ntrain_1,c,s,t\n");
    write_file(dir.filePath("dialogsum.dev.jsonl"), R"({"fname": "dev_0", "dialogue": "d", "summary": "s", "topic": "t"})");
    write_file(dir.filePath("dialogsum.test.jsonl"),
               R"({'fname': 'test_0', 'dialogue': 'd', 'summary1': 'a', 'summary2': 'b', 'summary3': 'c'})");
    write_file(dir.filePath("README.md"), "test train validation");
    write_file(dir.filePath("train.csv.bak"), "not data");
    QVERIFY(QDir(dir.path()).mkdir("test"));

    const DialogSumDataset dataset = load_dialogsum(dir.path().toStdString());
    QCOMPARE(dataset.splits.size(), size_t(3));
    QCOMPARE(dataset.splits[0].split, Split::train);
    QCOMPARE(dataset.splits[1].split, Split::validation);
    QCOMPARE(dataset.splits[2].split, Split::test);
    QCOMPARE(dataset.at(Split::train).examples.size(), size_t(2));
    QCOMPARE(dataset.at(Split::train).format, DataFormat::csv);
    QCOMPARE(dataset.at(Split::validation).format, DataFormat::jsonl);
    QCOMPARE(dataset.at(Split::test).format, DataFormat::python_literal);
    QCOMPARE(dataset.at(Split::test).reference_count(), size_t(3));
    QCOMPARE(QString::fromStdString(dataset.at(Split::validation).path), dir.filePath("dialogsum.dev.jsonl"));

    LoadOptions only_test;
    only_test.split = Split::test;
    const DialogSumDataset test_only = load_dialogsum(dir.path().toStdString(), only_test);
    QCOMPARE(test_only.splits.size(), size_t(1));
    QVERIFY(test_only.find(Split::train) == nullptr);
    try {
        test_only.at(Split::train);
        QFAIL("at() returned a split that was not loaded");
    } catch (const DataError& e) {
        QCOMPARE(QString::fromStdString(e.what()), dir.path() + ": no train split here (found: test)");
    }

    // A single file takes the split it is given over the one its name names.
    LoadOptions as_validation;
    as_validation.split = Split::validation;
    const DialogSumDataset renamed = load_dialogsum(dir.filePath("train.csv").toStdString(), as_validation);
    QCOMPARE(renamed.splits[0].split, Split::validation);
}

void TestDialogSum::badInput_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<QString>("message");  // after the path; a trailing "..." compares only the start
    QTest::addColumn<qint64>("line");

    const QByteArray header = "id,dialogue,summary\n";
    QTest::addRow("csv missing column")
        << "train.csv" << QByteArray("id,dialogue,topic\nt1,hi,x\n")
        << ":1: missing column \"summary\" (or \"summary1\", \"summary2\", ...) (the header has: id, dialogue, topic)"
        << qint64(1);
    QTest::addRow("csv missing id column after blank lines")
        << "train.csv" << QByteArray("\n\ndialogue,summary\nhi,x\n")
        << ":3: missing column \"id\" (or \"fname\") (the header has: dialogue, summary)" << qint64(3);
    QTest::addRow("csv broken quoting")
        << "train.csv" << header + "t1,\"hi\nthere,s\n"
        << ":2: CSV: unterminated quoted field (the closing quote is missing)" << qint64(2);
    QTest::addRow("csv stray quote")
        << "train.csv" << header + "t1,\"hi\" there,s\n"
        << ":2: CSV: unexpected character after a closing quote (a quote inside a quoted field must be doubled)"
        << qint64(2);
    QTest::addRow("csv wrong field count")
        << "train.csv" << header + "t1,hi,s,extra\n" << ":2: CSV: expected 3 fields as in the header, found 4" << qint64(2);
    QTest::addRow("csv empty dialogue after a multi-line record")
        << "train.csv" << header + "t1,\"a\nb\",s\nt2,\" \n \",s\n" << ":4: empty dialogue (id \"t2\")" << qint64(4);
    QTest::addRow("csv empty summary") << "train.csv" << header + "t1,a,\n" << ":2: empty summary (id \"t1\")" << qint64(2);
    QTest::addRow("csv empty id") << "train.csv" << header + ",a,s\n" << ":2: empty id" << qint64(2);
    QTest::addRow("csv duplicate id")
        << "train.csv" << header + "t1,a,s\nt2,b,s\nt1,c,s\n" << ":4: duplicate id (first on line 2) (id \"t1\")"
        << qint64(4);
    QTest::addRow("csv invalid utf-8")
        << "train.csv" << header + "t1,a\xFF,s\n" << ":2: invalid UTF-8 (byte 24 of the file)" << qint64(2);
    QTest::addRow("jsonl missing field")
        << "dialogsum.train.jsonl" << QByteArray(R"({"fname": "t1", "summary": "s"})")
        << ":1: missing field \"dialogue\"" << qint64(1);
    QTest::addRow("jsonl field not a string")
        << "dialogsum.train.jsonl" << QByteArray(R"({"fname": 7, "dialogue": "d", "summary": "s"})")
        << ":1: field \"fname\" must be a string" << qint64(1);
    QTest::addRow("jsonl invalid json")
        << "dialogsum.train.jsonl"
        << QByteArray("{\"fname\": \"t1\", \"dialogue\": \"d\", \"summary\": \"s\"}\n{\"fname\": \"t2\", \"dialogue\": \"d\" \"summary\": \"s\"}\n")
        << ":2: invalid JSON: ..." << qint64(2);
    QTest::addRow("jsonl not an object")
        << "dialogsum.train.jsonl" << QByteArray("\n[1, 2]\n")
        << ":2: expected an object with \"id\", \"dialogue\" and \"summary\"" << qint64(2);
    QTest::addRow("jsonl empty second reference")
        << "dialogsum.test.jsonl"
        << QByteArray(R"({"fname": "t1", "dialogue": "d", "summary1": "a", "summary2": "", "summary3": "c"})")
        << ":1: empty summary2 (id \"t1\")" << qint64(1);
    QTest::addRow("jsonl duplicate id")
        << "dialogsum.train.jsonl"
        << QByteArray("{\"fname\": \"t1\", \"dialogue\": \"d\", \"summary\": \"s\"}\n\n{\"fname\": \"t1\", \"dialogue\": \"e\", \"summary\": \"s\"}\n")
        << ":3: duplicate id (first on line 1) (id \"t1\")" << qint64(3);
    QTest::addRow("jsonl invalid utf-8")
        << "dialogsum.train.jsonl"
        << QByteArray("{\"fname\": \"t1\", \"dialogue\": \"d\", \"summary\": \"s\"}\n{\"fname\": \"t2\", \"dialogue\": \"\xC3(\", \"summary\": \"s\"}\n")
        << ":2: invalid UTF-8 (byte 78 of the file)" << qint64(2);
    QTest::addRow("python bad escape on line 2")
        << "dialogsum.train.jsonl"
        << QByteArray("{'fname': 't1', 'dialogue': 'a', 'summary': 's'}\n{'fname': 't2', 'dialogue': 'a\\qb', 'summary': 's'}\n")
        << ":2: Python literal, column 31: invalid escape \\q" << qint64(2);
    QTest::addRow("python unterminated string on line 1")
        << "dialogsum.train.jsonl" << QByteArray("{'fname': 't1', 'dialogue': 'a}\n")
        << ":1: Python literal, column 29: unterminated string" << qint64(1);
    QTest::addRow("python missing summary")
        << "train.txt" << QByteArray("{'fname': 't1', 'dialogue': 'a'}\n")
        << ":1: missing field \"summary\" (or \"summary1\", \"summary2\", ...)" << qint64(1);
    QTest::addRow("python empty dialogue")
        << "train.txt" << QByteArray("{'fname': 't1', 'dialogue': 'a', 'summary': 's'}\n{'fname': 't2', 'dialogue': '\\n', 'summary': 's'}\n")
        << ":2: empty dialogue (id \"t2\")" << qint64(2);
}

void TestDialogSum::badInput() {
    QFETCH(QString, file);
    QFETCH(QByteArray, contents);
    QFETCH(QString, message);
    QFETCH(qint64, line);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(file);
    write_file(path, contents);
    try {
        load_dialogsum(dir.path().toStdString());
        QFAIL("bad input was accepted");
    } catch (const DataError& e) {
        const QString what = QString::fromStdString(e.what());
        if (message.endsWith("...")) {
            QVERIFY2(what.startsWith(path + message.chopped(3)), qPrintable(what));
        } else {
            QCOMPARE(what, path + message);
        }
        QCOMPARE(QString::fromStdString(e.path()), path);
        QCOMPARE(qint64(e.line()), line);
    }
}

void TestDialogSum::loadErrors() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string root = dir.path().toStdString();

    auto message_of = [](const std::function<void()>& f) -> QString {
        try {
            f();
        } catch (const Error& e) {
            return QString::fromStdString(e.what());
        }
        return "no error";
    };

    QCOMPARE(message_of([&] { load_dialogsum(root); }),
             dir.path() + ": no DialogSum files here: expected train.csv, validation.csv, test.csv (Hugging Face) or "
                          "dialogsum.train.jsonl, dialogsum.dev.jsonl, dialogsum.test.jsonl");

    QVERIFY(QDir(dir.path()).mkpath("csv"));
    QVERIFY(QDir(dir.path()).mkpath("other"));
    write_file(dir.filePath("csv/test.csv"), "id,dialogue,summary\nt,d,s\n");
    QCOMPARE(message_of([&] { load_dialogsum(root); }),
             dir.path() + ": no DialogSum files here: expected train.csv, validation.csv, test.csv (Hugging Face) or "
                          "dialogsum.train.jsonl, dialogsum.dev.jsonl, dialogsum.test.jsonl; these subfolders have "
                          "some: " + dir.filePath("csv"));

    write_file(dir.filePath("train.csv"), "id,dialogue,summary\nt,d,s\n");
    write_file(dir.filePath("dialogsum.train.jsonl"), R"({"fname": "t", "dialogue": "d", "summary": "s"})");
    QCOMPARE(message_of([&] { load_dialogsum(root); }),
             dir.path() + ": both dialogsum.train.jsonl and train.csv look like the train split; load one of them by "
                          "its file name");

    QVERIFY(QFile::remove(dir.filePath("dialogsum.train.jsonl")));
    LoadOptions only_test;
    only_test.split = Split::test;
    QCOMPARE(message_of([&] { load_dialogsum(root, only_test); }), dir.path() + ": no test file here (found: train.csv)");

    write_file(dir.filePath("dialogues.csv"), "id,dialogue,summary\nt,d,s\n");
    QCOMPARE(message_of([&] { load_dialogsum(dir.filePath("dialogues.csv").toStdString()); }),
             dir.filePath("dialogues.csv") +
                 ": cannot tell the split from the file name; name it (train, validation, test)");

    QVERIFY_THROWS_EXCEPTION(FileError, load_dialogsum(dir.filePath("missing").toStdString()));
}

void TestDialogSum::skipBadRows() {
    const std::string csv =
        "id,dialogue,summary,topic\n"
        "t1,hello,s,x\n"
        "t2,\"  \n\",s,x\n"
        "t1,again,s,x\n"
        ",no id,s,x\n"
        "t3,fine,\"\",x\n"
        "t4,last,s,y\n";
    LoadOptions skip;
    skip.on_bad_row = BadRowPolicy::skip;
    const DialogSumSplit split = parse_dialogsum(csv, DataFormat::csv, Split::train, "rows.csv", skip);
    QCOMPARE(ids_of(split), QStringLiteral("t1,t4"));
    QCOMPARE(lines_of(split), QStringLiteral("2,8"));
    QStringList skipped;
    for (const auto& row : split.skipped) {
        skipped << QString::fromStdString(row.path + ":" + std::to_string(row.line) + " [" + row.id + "] " + row.reason);
    }
    QCOMPARE(skipped, (QStringList{"rows.csv:3 [t2] empty dialogue", "rows.csv:5 [t1] duplicate id (first on line 2)",
                                   "rows.csv:6 [] empty id", "rows.csv:7 [t3] empty summary"}));

    // Statistics report what was left out.
    QCOMPARE(split_statistics(split).skipped, size_t(4));

    // Structural problems are never skipped.
    QVERIFY_THROWS_EXCEPTION(DataError, parse_dialogsum("id,dialogue\nt,d\n", DataFormat::csv, Split::train, "x.csv", skip));
    QVERIFY_THROWS_EXCEPTION(DataError, parse_dialogsum("id,dialogue,summary\nt,\"d,s\n", DataFormat::csv,
                                                        Split::train, "x.csv", skip));
}

void TestDialogSum::everyKth_data() {
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("count");
    QTest::addColumn<QString>("first_ids");  // at most the first four

    QTest::addRow("lab quick demo: every 100th of 12460") << 12460 << 100 << 125 << "e0,e100,e200,e300";
    QTest::addRow("every 3rd of 10") << 10 << 3 << 4 << "e0,e3,e6,e9";
    QTest::addRow("k = 1 keeps all") << 5 << 1 << 5 << "e0,e1,e2,e3";
    QTest::addRow("k larger than the split") << 5 << 10 << 1 << "e0";
    QTest::addRow("empty split") << 0 << 5 << 0 << "";
}

void TestDialogSum::everyKth() {
    QFETCH(int, size);
    QFETCH(int, k);
    QFETCH(int, count);
    QFETCH(QString, first_ids);
    Selection selection;
    selection.every_kth = static_cast<size_t>(k);
    const DialogSumSplit selected = select_examples(synthetic_split(static_cast<size_t>(size)), selection);
    QCOMPARE(int(selected.examples.size()), count);
    QCOMPARE(ids_of(selected).split(',').mid(0, 4).join(','), first_ids);
}

void TestDialogSum::subsampleGolden_data() {
    QTest::addColumn<int>("population");
    QTest::addColumn<int>("sample");
    QTest::addColumn<quint64>("seed");
    QTest::addColumn<QString>("indices");

    // From an independent Python implementation of MT19937-64 and the algorithm documented in dialogsum.h.
    QTest::addRow("10 choose 3, seed 42") << 10 << 3 << quint64(42) << "0,4,6";
    QTest::addRow("12460 choose 5, seed 42") << 12460 << 5 << quint64(42) << "297,687,6411,6726,11198";
    QTest::addRow("100 choose 10, seed 7") << 100 << 10 << quint64(7) << "7,15,21,28,29,52,53,65,87,94";
    QTest::addRow("sample >= population keeps all") << 4 << 9 << quint64(1) << "0,1,2,3";
    QTest::addRow("sample 0") << 4 << 0 << quint64(1) << "";
}

void TestDialogSum::subsampleGolden() {
    QFETCH(int, population);
    QFETCH(int, sample);
    QFETCH(quint64, seed);
    QFETCH(QString, indices);
    QStringList got;
    for (size_t i : subsample_indices(static_cast<size_t>(population), static_cast<size_t>(sample), seed)) {
        got << QString::number(i);
    }
    QCOMPARE(got.join(','), indices);
}

void TestDialogSum::subsampleDeterminism() {
    const auto a = subsample_indices(12460, 500, 1234);
    const auto b = subsample_indices(12460, 500, 1234);
    const auto c = subsample_indices(12460, 500, 1235);
    QCOMPARE(a, b);
    QVERIFY(a != c);
    QCOMPARE(a.size(), size_t(500));
    for (size_t i = 1; i < a.size(); ++i) QVERIFY2(a[i - 1] < a[i], "indices must be ascending and distinct");
    QVERIFY(a.back() < 12460);
}

void TestDialogSum::selectionOrder() {
    // every_kth, then the sample, then the limit.
    Selection selection;
    selection.every_kth = 2;  // e0, e2, ..., e18
    selection.sample_size = 3;
    selection.seed = 42;  // positions 0, 4, 6 of those ten
    QCOMPARE(ids_of(select_examples(synthetic_split(20), selection)), QStringLiteral("e0,e8,e12"));
    selection.limit = 2;
    QCOMPARE(ids_of(select_examples(synthetic_split(20), selection)), QStringLiteral("e0,e8"));

    Selection limit_only;
    limit_only.limit = 3;
    const DialogSumSplit limited = select_examples(synthetic_split(10), limit_only);
    QCOMPARE(ids_of(limited), QStringLiteral("e0,e1,e2"));
    QCOMPARE(lines_of(limited), QStringLiteral("2,3,4"));

    Selection zero;
    zero.every_kth = 0;
    QVERIFY_THROWS_EXCEPTION(ConfigError, select_examples(synthetic_split(3), zero));
}

void TestDialogSum::wordCount_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("words");

    QTest::addRow("empty") << "" << 0;
    QTest::addRow("spaces only") << " \t\n " << 0;
    QTest::addRow("one") << "a" << 1;
    QTest::addRow("mixed whitespace") << " a  b\tc\nd\r\ne\v\ff " << 6;
    QTest::addRow("dialogue turn") << "#Person1#: Hi, there." << 3;
    QTest::addRow("utf-8 is not whitespace") << QString::fromUtf8("été … x") << 3;
}

void TestDialogSum::wordCount() {
    QFETCH(QString, text);
    QFETCH(int, words);
    QCOMPARE(int(count_whitespace_words(text.toStdString())), words);
}

void TestDialogSum::binEdges_data() {
    QTest::addColumn<int>("max_value");
    QTest::addColumn<int>("bins");
    QTest::addColumn<QString>("edges");

    QTest::addRow("zero") << 0 << 10 << "0";
    QTest::addRow("five") << 5 << 10 << "0,1,2,3,4,5";
    QTest::addRow("nine") << 9 << 10 << "0,1,2,3,4,5,6,7,8,9";
    QTest::addRow("ten needs width 2") << 10 << 10 << "0,2,4,6,8,10";
    QTest::addRow("512") << 512 << 10 << "0,100,200,300,400,500";
    QTest::addRow("477 in 5 bins") << 477 << 5 << "0,100,200,300,400";
    QTest::addRow("65") << 65 << 10 << "0,10,20,30,40,50,60";
}

void TestDialogSum::binEdges() {
    QFETCH(int, max_value);
    QFETCH(int, bins);
    QFETCH(QString, edges);
    QStringList got;
    for (size_t e : automatic_bin_edges(static_cast<size_t>(max_value), static_cast<size_t>(bins))) got << QString::number(e);
    QCOMPARE(got.join(','), edges);
}

void TestDialogSum::statisticsByHand() {
    DialogSumSplit split;
    split.split = Split::validation;
    split.examples = {make_example("a", "a b", {"x"}, {"t1"}),
                      make_example("b", "a b c d", {"x y z"}, {"t2"}),
                      make_example("c", "one", {"p q", "p q r s t"}, {"t1", "t3"})};

    StatisticsOptions options;
    options.prompt = resolve_prompt("plain");
    options.max_source_length = 3;
    options.max_target_length = 3;
    options.prompt_bin_edges = {0, 2, 4};
    const SplitStatistics s = split_statistics(split, options);
    QCOMPARE(s.split, Split::validation);
    QCOMPARE(s.examples, size_t(3));
    QCOMPARE(s.references, size_t(4));
    QCOMPARE(s.skipped, size_t(0));
    QCOMPARE(s.distinct_topics, size_t(3));
    QCOMPARE(s.unit, LengthUnit::words);

    // Prompts: 2, 4, 1 words -> sorted 1, 2, 4.
    const LengthDistribution& p = s.prompt_lengths;
    QCOMPARE(p.count, size_t(3));
    QCOMPARE(p.min, size_t(1));
    QCOMPARE(p.max, size_t(4));
    QCOMPARE(p.mean, 7.0 / 3.0);
    QCOMPARE(p.median, 2.0);
    QCOMPARE(p.p95, 3.8);  // position 0.95 * 2 = 1.9: 2 + 0.9 * (4 - 2)
    QCOMPARE(p.bin_edges, (std::vector<size_t>{0, 2, 4}));
    QCOMPARE(p.histogram, (std::vector<size_t>{1, 1, 1}));  // [0,2): 1; [2,4): 2; [4,inf): 4
    QCOMPARE(p.max_length, size_t(3));
    QCOMPARE(p.truncated, size_t(1));
    QCOMPARE(p.truncated_fraction, 1.0 / 3.0);

    // Summaries, one per reference: 1, 3, 2, 5 -> sorted 1, 2, 3, 5.
    const LengthDistribution& r = s.summary_lengths;
    QCOMPARE(r.count, size_t(4));
    QCOMPARE(r.min, size_t(1));
    QCOMPARE(r.max, size_t(5));
    QCOMPARE(r.mean, 2.75);
    QCOMPARE(r.median, 2.5);
    QCOMPARE(r.p95, 4.7);  // position 0.95 * 3 = 2.85: 3 + 0.85 * (5 - 3)
    QCOMPARE(r.bin_edges, (std::vector<size_t>{0, 1, 2, 3, 4, 5}));
    QCOMPARE(r.histogram, (std::vector<size_t>{0, 1, 1, 1, 0, 1}));
    QCOMPARE(r.truncated, size_t(1));
    QCOMPARE(r.truncated_fraction, 0.25);

    // The default prompt adds five words ("Summarize the following conversation." and "Summary:").
    const SplitStatistics with_lab_prompt = split_statistics(split);
    QCOMPARE(with_lab_prompt.prompt_lengths.min, size_t(6));
    QCOMPARE(with_lab_prompt.prompt_lengths.max, size_t(9));
    QCOMPARE(with_lab_prompt.prompt_lengths.max_length, size_t(512));
    QCOMPARE(with_lab_prompt.summary_lengths.max_length, size_t(128));

    // The JSON form carries the same numbers under the struct's field names.
    const nlohmann::json j = to_json(s);
    QStringList keys;
    for (const auto& item : j.items()) keys << QString::fromStdString(item.key());
    QCOMPARE(keys.join(','), QStringLiteral("distinct_topics,examples,prompt_lengths,references,skipped,split,"
                                            "summary_lengths,unit"));
    QCOMPARE(j["split"].get<std::string>(), std::string("validation"));
    QCOMPARE(j["unit"].get<std::string>(), std::string("words"));
    QCOMPARE(j["references"].get<size_t>(), size_t(4));
    const nlohmann::json& jp = j["prompt_lengths"];
    keys.clear();
    for (const auto& item : jp.items()) keys << QString::fromStdString(item.key());
    QCOMPARE(keys.join(','), QStringLiteral("bin_edges,count,histogram,max,max_length,mean,median,min,p95,truncated,"
                                            "truncated_fraction"));
    QCOMPARE(jp["histogram"].get<std::vector<size_t>>(), p.histogram);
    QCOMPARE(jp["bin_edges"].get<std::vector<size_t>>(), p.bin_edges);
    QCOMPARE(jp["p95"].get<double>(), 3.8);
    QCOMPARE(jp["truncated_fraction"].get<double>(), 1.0 / 3.0);
    QCOMPARE(j["summary_lengths"]["median"].get<double>(), 2.5);
}

void TestDialogSum::statisticsWithTokenCounter() {
    DialogSumSplit split;
    split.examples = {make_example("a", "abc", {"xy"}, {}), make_example("b", "abcdefg", {"xyz"}, {})};
    StatisticsOptions options;
    options.prompt = PromptTemplate("<{dialogue}>");
    std::vector<std::string> seen;
    options.count_tokens = [&seen](const std::string& text) {
        seen.push_back(text);
        return text.size();
    };
    const SplitStatistics s = split_statistics(split, options);
    QCOMPARE(s.unit, LengthUnit::tokens);
    QCOMPARE(s.prompt_lengths.min, size_t(5));  // "<abc>"
    QCOMPARE(s.prompt_lengths.max, size_t(9));  // "<abcdefg>"
    QCOMPARE(s.summary_lengths.mean, 2.5);
    QCOMPARE(s.distinct_topics, size_t(0));
    QCOMPARE(seen, (std::vector<std::string>{"<abc>", "xy", "<abcdefg>", "xyz"}));
}

void TestDialogSum::statisticsEmptyAndBadEdges() {
    const LengthDistribution empty = length_distribution({}, 10);
    QCOMPARE(empty.count, size_t(0));
    QCOMPARE(empty.mean, 0.0);
    QCOMPARE(empty.truncated_fraction, 0.0);
    QCOMPARE(empty.bin_edges, (std::vector<size_t>{0}));
    QCOMPARE(empty.histogram, (std::vector<size_t>{0}));

    const LengthDistribution one = length_distribution({7}, 5);
    QCOMPARE(one.median, 7.0);
    QCOMPARE(one.p95, 7.0);
    QCOMPARE(one.truncated, size_t(1));

    QVERIFY_THROWS_EXCEPTION(ConfigError, length_distribution({1, 2}, 5, {1, 2}));
    QVERIFY_THROWS_EXCEPTION(ConfigError, length_distribution({1, 2}, 5, {0, 3, 3}));
}

void TestDialogSum::realCsv() {
    const QString folder = shared_dialogsum + "/csv";
    if (!QFileInfo::exists(folder + "/train.csv")) QSKIP(qPrintable("DialogSum CSV not found at " + folder));
    QElapsedTimer timer;
    timer.start();
    const DialogSumDataset dataset = load_dialogsum(folder.toStdString());
    const qint64 ms = timer.elapsed();
    qInfo("loaded the CSV folder (train %zu, validation %zu, test %zu rows) in %lld ms",
          dataset.at(Split::train).examples.size(), dataset.at(Split::validation).examples.size(),
          dataset.at(Split::test).examples.size(), ms);
    QVERIFY2(ms < 3000 * sumlab_test::kTimeBudgetScale, qPrintable(QString("loading took %1 ms").arg(ms)));

    QCOMPARE(dataset.splits.size(), size_t(3));
    QCOMPARE(dataset.at(Split::train).examples.size(), size_t(12460));
    QCOMPARE(dataset.at(Split::validation).examples.size(), size_t(500));
    QCOMPARE(dataset.at(Split::test).examples.size(), size_t(1500));
    QCOMPARE(dataset.at(Split::test).reference_count(), size_t(1500));
    const DialogSumExample& first = dataset.at(Split::train).examples.front();
    QCOMPARE(first.id, std::string("train_0"));
    QCOMPARE(first.topic(), std::string("get a check-up"));
    QCOMPARE(first.line, std::int64_t(2));
    QVERIFY(first.dialogue.rfind("#Person1#: Hi, Mr. Smith. I'm Doctor Hawkins.", 0) == 0);
    QCOMPARE(dataset.at(Split::train).examples.back().line, std::int64_t(118323));
    QCOMPARE(dataset.at(Split::test).examples[2].id, std::string("test_0_3"));
    QCOMPARE(dataset.at(Split::validation).examples.back().id, std::string("dev_499"));

    Selection quick_demo;
    quick_demo.every_kth = 100;
    const DialogSumSplit demo = select_examples(dataset.at(Split::train), quick_demo);
    QCOMPARE(demo.examples.size(), size_t(125));
    QCOMPARE(demo.examples[1].id, std::string("train_100"));
    QCOMPARE(demo.examples.back().id, std::string("train_12400"));
}

void TestDialogSum::realJsonl() {
    const QString folder = shared_dialogsum + "/jsonl";
    if (!QFileInfo::exists(folder + "/dialogsum.train.jsonl")) QSKIP(qPrintable("DialogSum JSONL not found at " + folder));
    QElapsedTimer timer;
    timer.start();
    const DialogSumDataset dataset = load_dialogsum(folder.toStdString());
    const qint64 ms = timer.elapsed();
    qInfo("loaded the JSONL folder in %lld ms", ms);
    QVERIFY2(ms < 3000 * sumlab_test::kTimeBudgetScale, qPrintable(QString("loading took %1 ms").arg(ms)));

    QCOMPARE(dataset.at(Split::train).examples.size(), size_t(12460));
    QCOMPARE(dataset.at(Split::validation).examples.size(), size_t(500));
    QCOMPARE(dataset.at(Split::test).examples.size(), size_t(500));
    QCOMPARE(dataset.at(Split::test).reference_count(), size_t(1500));
    for (const auto& e : dataset.at(Split::test).examples) {
        QCOMPARE(e.references.size(), size_t(3));
        QCOMPARE(e.topics.size(), size_t(3));
    }
    QCOMPARE(dataset.at(Split::validation).format, DataFormat::jsonl);
    QCOMPARE(dataset.at(Split::test).examples.front().id, std::string("test_0"));
}

void TestDialogSum::realFormatsAgree() {
    const QString csv = shared_dialogsum + "/csv/validation.csv";
    const QString jsonl = shared_dialogsum + "/jsonl/dialogsum.dev.jsonl";
    if (!QFileInfo::exists(csv) || !QFileInfo::exists(jsonl)) QSKIP(qPrintable("DialogSum not found at " + shared_dialogsum));
    for (const char* name : {"train", "validation"}) {
        const Split split = *parse_split(name);
        LoadOptions options;
        options.split = split;
        const DialogSumSplit a = load_dialogsum((shared_dialogsum + "/csv").toStdString(), options).at(split);
        const DialogSumSplit b = load_dialogsum((shared_dialogsum + "/jsonl").toStdString(), options).at(split);
        QCOMPARE(a.examples.size(), b.examples.size());
        for (size_t i = 0; i < a.examples.size(); ++i) {
            if (example_json(a.examples[i]) != example_json(b.examples[i])) {
                QCOMPARE(example_json(a.examples[i]), example_json(b.examples[i]));
            }
        }
    }
}

void TestDialogSum::realStatistics() {
    const QString csv = shared_dialogsum + "/csv/validation.csv";
    if (!QFileInfo::exists(csv)) QSKIP(qPrintable("DialogSum CSV not found at " + csv));
    const DialogSumDataset dataset = load_dialogsum(csv.toStdString());
    const SplitStatistics s = split_statistics(dataset.at(Split::validation));
    // Reference values from Python: len(prompt.format(dialogue=d).split()), percentiles as numpy's "linear".
    QCOMPARE(s.distinct_topics, size_t(455));
    QCOMPARE(s.prompt_lengths.min, size_t(45));
    QCOMPARE(s.prompt_lengths.max, size_t(477));
    QCOMPARE(s.prompt_lengths.mean, 134.34);
    QCOMPARE(s.prompt_lengths.median, 120.0);
    QCOMPARE(s.prompt_lengths.p95, 250.5499999999995);
    QCOMPARE(s.prompt_lengths.truncated, size_t(0));
    QCOMPARE(s.summary_lengths.min, size_t(6));
    QCOMPARE(s.summary_lengths.max, size_t(65));
    QCOMPARE(s.summary_lengths.mean, 20.914);
    QCOMPARE(s.summary_lengths.median, 18.0);
    QCOMPARE(s.summary_lengths.p95, 39.0);
    size_t total = 0;
    for (size_t n : s.prompt_lengths.histogram) total += n;
    QCOMPARE(total, size_t(500));
}

QTEST_GUILESS_MAIN(TestDialogSum)
#include "tst_dialogsum.moc"
