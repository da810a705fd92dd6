// Tests for engine/metrics/results_csv: the lab's pandas layout, optional columns, extra systems, the round trip
// through format/parse and through an atomic write, every rejected input with its file and line, and
// score_results' systems, comparison order and bootstrap wiring.
#include "engine/metrics/results_csv.h"
#include "base/errors.h"

#include <QtTest>
#include <QTemporaryDir>

#include <stdexcept>

using sumlab::ResultsTable;

namespace {

std::string bytes(const QByteArray& a) { return std::string(a.constData(), static_cast<size_t>(a.size())); }

QStringList to_list(const std::vector<std::string>& values) {
    QStringList out;
    for (const std::string& v : values) out << QString::fromStdString(v);
    return out;
}

QStringList system_names(const ResultsTable& t) {
    QStringList out;
    for (const sumlab::SystemSummaries& s : t.systems) out << QString::fromStdString(s.name);
    return out;
}

ResultsTable sample_table() {
    ResultsTable t;
    t.ids = {"test_0_1", "test_1_1"};
    t.dialogues = {"#Person1#: Hi.\n#Person2#: Hello, \"you\".", "#Person1#: Bye."};
    t.human_baseline = {"They greet each other.", ""};
    t.systems = {{"original_model", {"Hi, hello.", "Person1: bye"}},
                 {"instruct_model", {"#Person1# greets #Person2#.", "#Person1# says goodbye."}},
                 {"peft_model", {"Two people greet, each other.", "Goodbye\r\nagain"}}};
    return t;
}

}  // namespace

class TestResultsCsv : public QObject {
    Q_OBJECT

private slots:
    void labLayout();
    void optionalColumns_data();
    void optionalColumns();
    void roundTrip();
    void writeAtomically();
    void badInput_data();
    void badInput();
    void missingFile();
    void formatRejectsInconsistentTables();
    void scoreResults();
    void multipleReferences();
    void scoreMultipleReferences();
};

void TestResultsCsv::labLayout() {
    // As `df.to_csv("dialogue-summary-training-results.csv")` writes it in the course notebook.
    const QByteArray text =
        ",human_baseline_summaries,original_model_summaries,instruct_model_summaries,peft_model_summaries\n"
        "0,\"#Person1# asks, politely.\",Hi.,\"Says \"\"hi\"\".\",\"two\nlines\"\n"
        "1,b,c,d,e\n";
    const ResultsTable t = sumlab::parse_results_csv(bytes(text), "results.csv");
    QCOMPARE(t.size(), size_t{2});
    QVERIFY(t.ids.empty());
    QVERIFY(t.dialogues.empty());
    QCOMPARE(to_list(t.human_baseline), (QStringList{"#Person1# asks, politely.", "b"}));
    QCOMPARE(system_names(t), (QStringList{"original_model", "instruct_model", "peft_model"}));
    QCOMPARE(to_list(t.systems[1].summaries), (QStringList{"Says \"hi\".", "d"}));
    QCOMPARE(to_list(t.systems[2].summaries), (QStringList{"two\nlines", "e"}));
}

void TestResultsCsv::optionalColumns_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QStringList>("systems");
    QTest::addColumn<QStringList>("ids");
    QTest::addColumn<QStringList>("dialogues");

    QTest::addRow("no index column") << QByteArray("human_baseline_summaries,peft_model_summaries\nh,p\n")
                                     << QStringList{"peft_model"} << QStringList{} << QStringList{};
    QTest::addRow("index re-read by pandas") << QByteArray("Unnamed: 0,human_baseline_summaries,a_summaries\n0,h,p\n")
                                             << QStringList{"a"} << QStringList{} << QStringList{};
    QTest::addRow("id and dialogue") << QByteArray(",id,dialogue,human_baseline_summaries,x_summaries\n0,t1,d1,h,p\n")
                                     << QStringList{"x"} << QStringList{"t1"} << QStringList{"d1"};
    QTest::addRow("further systems in column order")
        << QByteArray("human_baseline_summaries,flan_t5_large_summaries,peft_model_summaries,zz_summaries\nh,a,b,c\n")
        << QStringList{"flan_t5_large", "peft_model", "zz"} << QStringList{} << QStringList{};
    QTest::addRow("human column after systems") << QByteArray("b_summaries,human_baseline_summaries,a_summaries\n1,h,2\n")
                                                << QStringList{"b", "a"} << QStringList{} << QStringList{};
    QTest::addRow("byte-order mark and CRLF") << QByteArray("\xEF\xBB\xBFhuman_baseline_summaries,s_summaries\r\nh,p\r\n")
                                              << QStringList{"s"} << QStringList{} << QStringList{};
}

void TestResultsCsv::optionalColumns() {
    QFETCH(QByteArray, text);
    QFETCH(QStringList, systems);
    QFETCH(QStringList, ids);
    QFETCH(QStringList, dialogues);
    const ResultsTable t = sumlab::parse_results_csv(bytes(text), "r.csv");
    QCOMPARE(system_names(t), systems);
    QCOMPARE(to_list(t.ids), ids);
    QCOMPARE(to_list(t.dialogues), dialogues);
    QCOMPARE(to_list(t.human_baseline), QStringList{"h"});
}

void TestResultsCsv::roundTrip() {
    const ResultsTable t = sample_table();
    const std::string text = sumlab::format_results_csv(t);
    QVERIFY2(text.rfind(",id,dialogue,human_baseline_summaries,original_model_summaries,instruct_model_summaries,"
                        "peft_model_summaries\n0,test_0_1,",
                        0) == 0,
             text.c_str());
    const ResultsTable back = sumlab::parse_results_csv(text, "r.csv");
    QCOMPARE(to_list(back.ids), to_list(t.ids));
    QCOMPARE(to_list(back.dialogues), to_list(t.dialogues));
    QCOMPARE(to_list(back.human_baseline), to_list(t.human_baseline));
    QCOMPARE(system_names(back), system_names(t));
    for (size_t s = 0; s < t.systems.size(); ++s) QCOMPARE(to_list(back.systems[s].summaries), to_list(t.systems[s].summaries));
    QCOMPARE(QString::fromStdString(sumlab::format_results_csv(back)), QString::fromStdString(text));
}

void TestResultsCsv::writeAtomically() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath("results.csv").toStdString();
    ResultsTable t = sample_table();
    t.ids.clear();
    t.dialogues.clear();
    sumlab::write_results_csv(path, t);
    const ResultsTable back = sumlab::read_results_csv(path);
    QCOMPARE(to_list(back.human_baseline), to_list(t.human_baseline));
    QCOMPARE(system_names(back), system_names(t));
    QCOMPARE(to_list(back.systems[2].summaries), to_list(t.systems[2].summaries));
    // Overwriting leaves exactly the new contents and no temporary files beside it.
    t.systems.pop_back();
    sumlab::write_results_csv(path, t);
    QCOMPARE(system_names(sumlab::read_results_csv(path)), (QStringList{"original_model", "instruct_model"}));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{"results.csv"});
}

void TestResultsCsv::badInput_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("location");  // what DataError::what() starts with
    QTest::addColumn<QString>("problem");   // what it says after that (all of it, or a part when !exact)
    QTest::addColumn<bool>("exact");

    const QString unexpected = QStringLiteral(
        "(expected human_baseline_summaries, human_baseline_summaries_2.., <system>_summaries, id, dialogue, or a leading "
        "index column)");
    QTest::addRow("missing human column") << QByteArray(",original_model_summaries\n0,a\n") << "bad.csv:1: "
                                          << R"(missing column "human_baseline_summaries")" << true;
    QTest::addRow("no system column") << QByteArray("human_baseline_summaries,id\nh,1\n") << "bad.csv:1: "
                                      << "no system columns (<system>_summaries besides human_baseline_summaries)" << true;
    QTest::addRow("misspelt system column") << QByteArray("human_baseline_summaries,peft_model_summary\nh,p\n")
                                            << "bad.csv:1: " << R"(unexpected column "peft_model_summary" )" + unexpected << true;
    QTest::addRow("bare suffix") << QByteArray("human_baseline_summaries,_summaries\nh,p\n") << "bad.csv:1: "
                                 << R"(unexpected column "_summaries" )" + unexpected << true;
    QTest::addRow("unnamed column not first") << QByteArray("human_baseline_summaries,,a_summaries\nh,0,p\n")
                                              << "bad.csv:1: " << R"(unexpected column "" )" + unexpected << true;
    QTest::addRow("reference 3 without 2") << QByteArray("human_baseline_summaries,human_baseline_summaries_3,a_summaries\nh,h3,p\n")
                                           << "bad.csv:1: "
                                           << R"(column "human_baseline_summaries_3" without "human_baseline_summaries_2" )"
                                              "(references are numbered from 2 without gaps)"
                                           << true;
    QTest::addRow("reference numbered 1") << QByteArray("human_baseline_summaries,human_baseline_summaries_1,a_summaries\nh,h1,p\n")
                                          << "bad.csv:1: " << R"(unexpected column "human_baseline_summaries_1" )" + unexpected << true;
    QTest::addRow("header only") << QByteArray("human_baseline_summaries,a_summaries\n") << "bad.csv: "
                                 << "no data rows" << true;
    // Duplicated names are rejected (by engine/data/csv or here); the message names the column.
    QTest::addRow("duplicate system") << QByteArray("human_baseline_summaries,a_summaries,a_summaries\nh,p,q\n")
                                      << "bad.csv:1: " << R"("a_summaries")" << false;
    QTest::addRow("duplicate human") << QByteArray("human_baseline_summaries,a_summaries,human_baseline_summaries\nh,p,q\n")
                                     << "bad.csv:1: " << R"("human_baseline_summaries")" << false;
}

void TestResultsCsv::badInput() {
    QFETCH(QByteArray, text);
    QFETCH(QString, location);
    QFETCH(QString, problem);
    QFETCH(bool, exact);
    try {
        sumlab::parse_results_csv(bytes(text), "bad.csv");
        QFAIL("expected a DataError");
    } catch (const sumlab::DataError& e) {
        const QString message = QString::fromStdString(e.what());
        QCOMPARE(message.left(location.size()), location);
        if (exact) {
            QCOMPARE(message.mid(location.size()), problem);
        } else {
            QVERIFY2(message.contains("duplicate") && message.contains(problem), qPrintable(message));
        }
        QCOMPARE(QString::fromStdString(e.path()), QStringLiteral("bad.csv"));
    }
}

void TestResultsCsv::missingFile() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("absent.csv").toStdString();
    QVERIFY_THROWS_EXCEPTION(sumlab::FileError, sumlab::read_results_csv(path));
    // CSV syntax errors come from engine/data/csv with the file and the row's line.
    try {
        sumlab::parse_results_csv("human_baseline_summaries,a_summaries\nh,p\nonly one field\n", "short.csv");
        QFAIL("expected a DataError");
    } catch (const sumlab::DataError& e) {
        QCOMPARE(QString::fromStdString(e.path()), QStringLiteral("short.csv"));
        QCOMPARE(e.line(), std::int64_t{3});
    }
}

void TestResultsCsv::formatRejectsInconsistentTables() {
    ResultsTable ragged = sample_table();
    ragged.systems[1].summaries.pop_back();
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::format_results_csv(ragged));
    ResultsTable ids = sample_table();
    ids.ids.pop_back();
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::format_results_csv(ids));
    ResultsTable unnamed = sample_table();
    unnamed.systems[0].name.clear();
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::format_results_csv(unnamed));
    ResultsTable human = sample_table();
    human.systems[0].name = "human_baseline";
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::format_results_csv(human));
    ResultsTable twice = sample_table();
    twice.systems[1].name = twice.systems[0].name;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::format_results_csv(twice));
}

void TestResultsCsv::scoreResults() {
    ResultsTable t;
    t.human_baseline = {"the cat sat", "a dog ran away"};
    t.systems = {{"copy", {"the cat sat", "a dog ran away"}}, {"half", {"the cat", "a dog"}}, {"none", {"", "x"}}};

    const sumlab::ResultsScores plain = sumlab::score_results(t, sumlab::Stemming::none, sumlab::BootstrapOptions{0, 0.95, 0});
    QCOMPARE(plain.systems.size(), size_t{3});
    QCOMPARE(QString::fromStdString(plain.systems[1].name), QStringLiteral("half"));
    QCOMPARE(plain.systems[0].mean.rougeLsum.fmeasure, 1.0);
    QCOMPARE(plain.systems[1].mean.rouge1.recall, (2.0 / 3 + 2.0 / 4) / 2);
    QCOMPARE(plain.systems[2].mean.rouge1.fmeasure, 0.0);
    QCOMPARE(plain.comparisons.size(), size_t{3});
    const std::vector<std::pair<size_t, size_t>> order{{0, 1}, {0, 2}, {1, 2}};
    for (size_t k = 0; k < order.size(); ++k) {
        const sumlab::SystemComparison& c = plain.comparisons[k];
        QCOMPARE(std::make_pair(c.baseline, c.candidate), order[k]);
        const sumlab::PairedDelta& d = c.deltas.rouge1.recall;
        QCOMPARE(d.delta, plain.systems[c.candidate].mean.rouge1.recall - plain.systems[c.baseline].mean.rouge1.recall);
        QCOMPARE(d.p_value, 1.0);
        QCOMPARE(d.ci.high, 0.0);
    }
    QCOMPARE(plain.systems[0].ci.rouge1.fmeasure.high, 0.0);

    const sumlab::BootstrapOptions options{200, 0.9, 4};
    const sumlab::ResultsScores boot = sumlab::score_results(t, sumlab::Stemming::porter, options);
    QCOMPARE(boot.bootstrap.resamples, 200);
    const auto ci = sumlab::bootstrap_rouge(boot.systems[1].per_example, options);
    QCOMPARE(boot.systems[1].ci.rougeL.fmeasure.low, ci.rougeL.fmeasure.low);
    QCOMPARE(boot.systems[1].ci.rougeL.fmeasure.high, ci.rougeL.fmeasure.high);
    const auto deltas = sumlab::paired_bootstrap_rouge(boot.systems[1].per_example, boot.systems[2].per_example, options);
    QCOMPARE(boot.comparisons[2].deltas.rouge2.fmeasure.ci.low, deltas.rouge2.fmeasure.ci.low);
    QCOMPARE(boot.comparisons[2].deltas.rouge2.fmeasure.p_value, deltas.rouge2.fmeasure.p_value);
    QVERIFY(boot.comparisons[0].deltas.rouge1.fmeasure.delta < 0);
}

void TestResultsCsv::multipleReferences() {
    // DialogSum's JSON Lines test split has three references per dialogue; they survive a round trip.
    const std::string text =
        ",id,human_baseline_summaries,human_baseline_summaries_2,human_baseline_summaries_3,peft_model_summaries\n"
        "0,test_0,first,second,third,p0\n"
        "1,test_1,only one,,,p1\n";
    const ResultsTable t = sumlab::parse_results_csv(text, "multi.csv");
    QCOMPARE(t.more_references.size(), size_t{2});
    QCOMPARE(to_list(t.references(0)), (QStringList{"first", "second", "third"}));
    QCOMPARE(to_list(t.references(1)), QStringList{"only one"});
    QCOMPARE(t.max_references(), size_t{3});
    QCOMPARE(system_names(t), QStringList{"peft_model"});
    QCOMPARE(QString::fromStdString(sumlab::format_results_csv(t)), QString::fromStdString(text));

    // The columns may come in any order; they are numbered by their names.
    const ResultsTable swapped = sumlab::parse_results_csv(
        "human_baseline_summaries_3,a_summaries,human_baseline_summaries_2,human_baseline_summaries\nh3,p,h2,h1\n", "swapped.csv");
    QCOMPARE(to_list(swapped.references(0)), (QStringList{"h1", "h2", "h3"}));

    ResultsTable ragged = t;
    ragged.more_references[1].pop_back();
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::format_results_csv(ragged));
    QCOMPARE(sample_table().max_references(), size_t{1});
}

void TestResultsCsv::scoreMultipleReferences() {
    ResultsTable t;
    t.human_baseline = {"the cat sat on the mat", "a dog ran"};
    t.more_references = {{"a bird flew away", ""}};
    t.systems = {{"bird", {"a bird flew away", "a dog ran"}}};
    const sumlab::BootstrapOptions none{0, 0.95, 0};
    const auto first = sumlab::score_results(t, sumlab::Stemming::none, none, sumlab::ReferenceMode::first);
    const auto all = sumlab::score_results(t, sumlab::Stemming::none, none, sumlab::ReferenceMode::all);
    // Row 0 matches only the second reference; row 1 has one reference and scores the same either way.
    QCOMPARE(first.systems[0].per_example[0].rouge1.fmeasure, 0.0);
    QCOMPARE(all.systems[0].per_example[0].rouge1.fmeasure, 1.0);
    QCOMPARE(all.systems[0].per_example[1].rouge1.fmeasure, first.systems[0].per_example[1].rouge1.fmeasure);
    const sumlab::RougeScorer scorer;
    QCOMPARE(all.systems[0].per_example[0].rougeL.recall, scorer.score_multi(t.references(0), "a bird flew away").rougeL.recall);
}

QTEST_GUILESS_MAIN(TestResultsCsv)
#include "tst_results_csv.moc"
