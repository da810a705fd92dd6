// EvaluatePage: a real evaluation of the tiny FLAN-T5 model and its LoRA adapter on a small DialogSum folder
// into the lab's results CSV, scored with intervals and deltas that agree with the engine; the ranked wins and
// losses opening an example for the Compare page; exports; pause and stop; a results CSV without the human
// column; and a system that fails to load while the other one still runs.
#include "engine/metrics/results_csv.h"

#include "ui/EvaluatePage.h"
#include "ui/EvaluationChart.h"
#include "ui/ExampleDeltaModel.h"
#include "ui/GenerationSettingsWidget.h"
#include "ui/ModelRegistry.h"
#include "ui/ScoreTableModel.h"
#include "ui/SystemPicker.h"
#include "tests/common/sanitizer.h"
#include "ui_test_support.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

namespace {

// The page set up for a quick run: the first `n` test examples, short summaries.
void configure(EvaluatePage& page, const QString& data, const QString& output, int n) {
    page.setDataPath(data);
    page.setOutputPath(output);
    page.findChild<QComboBox*>(QStringLiteral("evaluateSelectionCombo"))->setCurrentIndex(1);
    page.findChild<QSpinBox*>(QStringLiteral("evaluateCountSpin"))->setValue(n);
    page.findChild<QSpinBox*>(QStringLiteral("evaluateResamplesSpin"))->setValue(200);
    GenerationSettings settings;
    settings.set("max_new_tokens", 8);
    page.generationSettings()->setSettings(settings);
}

}  // namespace

class TestEvaluatePage : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void evaluatesAndScores();
    void rankedExamplesOpenInCompare();
    void exports();
    void scoringOptionsRescore();
    void keepsEveryReference();
    void pauseAndStop();
    void resultsWithoutHumanColumn();
    void failingSystemLeavesOthersRunning();

private:
    QTemporaryDir m_tmp;
    QString m_data;
    QString m_results;
    ModelRegistry* m_registry = nullptr;
};

void TestEvaluatePage::initTestCase() {
    ui_test::isolateSettings();
    QVERIFY(m_tmp.isValid());
    m_data = m_tmp.filePath(QStringLiteral("dialogsum"));
    ui_test::writeDialogSum(m_data, 4);
    m_registry = new ModelRegistry(this);
    ui_test::registerFolder(*m_registry, ui_test::tinyFlan());
    ui_test::registerFolder(*m_registry, ui_test::tinyFlanAdapter(), ui_test::tinyFlan());

    // One evaluation shared by the tests that only read its results.
    // One evaluation shared by the tests that only read its results.
    SUMLAB_REQUIRE_SENTENCEPIECE();
    EvaluatePage page(m_registry);
    m_results = m_tmp.filePath(QStringLiteral("results.csv"));
    configure(page, m_data, m_results, 4);
    QSignalSpy finished(&page, &EvaluatePage::evaluationFinished);
    QSignalSpy scored(&page, &EvaluatePage::scoresReady);
    QVERIFY(page.startEvaluation());
    QVERIFY(page.isRunning());
    QVERIFY(finished.wait(180000));
    QCOMPARE(finished.first().at(0).toBool(), false);
    QCOMPARE(finished.first().at(1).toInt(), 0);
    QVERIFY(scored.wait(60000));
}

void TestEvaluatePage::evaluatesAndScores() {
    // The lab's layout, with the systems' columns named as the lab names them.
    const sumlab::ResultsTable table = sumlab::read_results_csv(m_results.toStdString());
    QCOMPARE(table.size(), size_t{4});
    QCOMPARE(table.systems.size(), size_t{2});
    QCOMPARE(QString::fromStdString(table.systems[0].name), QStringLiteral("original_model"));
    QCOMPARE(QString::fromStdString(table.systems[1].name), QStringLiteral("peft_model"));
    QCOMPARE(QString::fromStdString(table.ids[2]), QStringLiteral("test_2"));
    QVERIFY(QFile::exists(m_results + QStringLiteral(".provenance.json")));
    QVERIFY(!QFile::exists(m_results + QStringLiteral(".partial.jsonl")));

    EvaluatePage page(m_registry);
    QSignalSpy scored(&page, &EvaluatePage::scoresReady);
    page.findChild<QSpinBox*>(QStringLiteral("evaluateResamplesSpin"))->setValue(200);
    page.openResults(m_results);
    QVERIFY(scored.wait(60000));
    QAbstractItemModelTester scoreTester(page.scoreModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester deltaTester(page.deltaModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester exampleTester(page.exampleModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);

    // The numbers are the engine's: score_results with the stemmer, 200 resamples, seed 0.
    const sumlab::ResultsScores expected = sumlab::score_results(table, sumlab::Stemming::porter, {200, 0.95, 0});
    ScoreTableModel* scores = page.scoreModel();
    QCOMPARE(scores->rowCount(), 2);
    for (int s = 0; s < 2; ++s) {
        QCOMPARE(scores->index(s, 0).data().toString(), QString::fromStdString(expected.systems[s].name));
        const QModelIndex r1 = scores->index(s, ScoreTableModel::FirstMetricColumn);
        QCOMPARE(r1.data(ScoreTableModel::MeanRole).toDouble(), expected.systems[s].mean.rouge1.fmeasure);
        QCOMPARE(r1.data(ScoreTableModel::LowRole).toDouble(), expected.systems[s].ci.rouge1.fmeasure.low);
        const QModelIndex lsum = scores->index(s, ScoreTableModel::FirstMetricColumn + 3);
        QCOMPARE(lsum.data(ScoreTableModel::HighRole).toDouble(), expected.systems[s].ci.rougeLsum.fmeasure.high);
        QVERIFY(r1.data().toString().contains(QLatin1Char('[')));
    }
    DeltaTableModel* deltas = page.deltaModel();
    QCOMPARE(deltas->rowCount(), 1);
    QCOMPARE(deltas->index(0, 0).data().toString(), QStringLiteral("peft_model − original_model"));
    const sumlab::PairedDelta& d = expected.comparisons[0].deltas.rouge2.fmeasure;
    const QModelIndex r2 = deltas->index(0, DeltaTableModel::FirstMetricColumn + 1);
    QCOMPARE(r2.data(DeltaTableModel::DeltaRole).toDouble(), d.delta);
    QCOMPARE(r2.data(DeltaTableModel::PValueRole).toDouble(), d.p_value);
    QVERIFY2(r2.data().toString().contains(QStringLiteral(" pts (")) && r2.data().toString().contains(QStringLiteral("p = ")),
             qPrintable(r2.data().toString()));
    QCOMPARE(page.chart()->barCount(), 2 * 4);

    // Provenance: the file, n, resamples, seed, stemmer and how each column was made.
    const QString provenance = page.provenanceText();
    for (const QString& needle : {QFileInfo(m_results).fileName(), QStringLiteral("Examples: 4"), QStringLiteral("200 resamples"),
                                  QStringLiteral("seed 0"), QStringLiteral("Porter stemmer"), QStringLiteral("peft_model_summaries"),
                                  QStringLiteral("max_new_tokens=8")})
        QVERIFY2(provenance.contains(needle), qPrintable(needle + " not in: " + provenance));
}

void TestEvaluatePage::rankedExamplesOpenInCompare() {
    EvaluatePage page(m_registry);
    QSignalSpy scored(&page, &EvaluatePage::scoresReady);
    page.openResults(m_results);
    QVERIFY(scored.wait(60000));
    ExampleDeltaModel* examples = page.exampleModel();
    QAbstractItemModelTester tester(examples, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(examples->rowCount(), 4);
    QCOMPARE(examples->systemB(), 1);  // PEFT against the original by default
    for (int r = 1; r < 4; ++r)
        QVERIFY(examples->index(r - 1, 0).data(ExampleDeltaModel::DeltaRole).toDouble() >= examples->index(r, 0).data(ExampleDeltaModel::DeltaRole).toDouble());
    page.findChild<QComboBox*>(QStringLiteral("evaluateOrderCombo"))->setCurrentIndex(1);
    for (int r = 1; r < 4; ++r)
        QVERIFY(examples->index(r - 1, 0).data(ExampleDeltaModel::DeltaRole).toDouble() <= examples->index(r, 0).data(ExampleDeltaModel::DeltaRole).toDouble());
    const int row = examples->resultRow(0);
    QSignalSpy requested(&page, &EvaluatePage::exampleRequested);
    page.openExample(0);
    QCOMPARE(requested.size(), 1);
    const auto example = requested.first().at(0).value<CompareExample>();
    const sumlab::ResultsTable table = sumlab::read_results_csv(m_results.toStdString());
    QCOMPARE(example.dialogue, QString::fromStdString(table.dialogues[row]));
    QCOMPARE(example.references, QStringList{QString::fromStdString(table.human_baseline[row])});
    QCOMPARE(example.systemNames, (QStringList{QStringLiteral("original_model"), QStringLiteral("peft_model")}));
    QCOMPARE(example.summaries.at(1), QString::fromStdString(table.systems[1].summaries[row]));
}

void TestEvaluatePage::exports() {
    EvaluatePage page(m_registry);
    QSignalSpy scored(&page, &EvaluatePage::scoresReady);
    page.openResults(m_results);
    QVERIFY(scored.wait(60000));
    QString error;
    const QString csv = m_tmp.filePath(QStringLiteral("table.csv"));
    QVERIFY2(page.exportTable(csv, &error), qPrintable(error));
    QFile csvFile(csv);
    QVERIFY(csvFile.open(QIODevice::ReadOnly));
    const QString csvText = QString::fromUtf8(csvFile.readAll());
    QVERIFY(csvText.startsWith(QStringLiteral("system,rouge1,rouge1_low,rouge1_high,")));
    QVERIFY(csvText.contains(QStringLiteral("\ncandidate,baseline,rouge1_delta,")));
    QVERIFY(csvText.contains(QStringLiteral("peft_model,original_model,")));
    const QString md = m_tmp.filePath(QStringLiteral("table.md"));
    QVERIFY2(page.exportTable(md, &error), qPrintable(error));
    QFile mdFile(md);
    QVERIFY(mdFile.open(QIODevice::ReadOnly));
    const QString mdText = QString::fromUtf8(mdFile.readAll());
    QVERIFY(mdText.contains(QStringLiteral("| System | ROUGE-1 | ROUGE-2 | ROUGE-L | ROUGE-Lsum |")));
    QVERIFY(mdText.contains(QStringLiteral("| peft_model − original_model |")));
    for (const QString& name : {QStringLiteral("chart.png"), QStringLiteral("chart.pdf")}) {
        const QString path = m_tmp.filePath(name);
        QVERIFY2(page.exportChart(path, &error), qPrintable(error));
        QVERIFY(QFileInfo(path).size() > 1000);
    }
    QVERIFY(!page.exportChart(m_tmp.filePath(QStringLiteral("chart.bmp")), &error));
    QVERIFY(error.contains(QStringLiteral("Unsupported")));
}

void TestEvaluatePage::scoringOptionsRescore() {
    // Three references per row: human_baseline_summaries_2 and _3 change the multi-reference scores only.
    const QString path = m_tmp.filePath(QStringLiteral("multi.csv"));
    ui_test::writeFile(path, ",human_baseline_summaries,human_baseline_summaries_2,human_baseline_summaries_3,a_summaries\n"
                             "0,cat sat,bird flew,dogs ran,dogs ran\n"
                             "1,red apples,green pears,,green pears\n");
    EvaluatePage page(m_registry);
    QSignalSpy scored(&page, &EvaluatePage::scoresReady);
    page.openResults(path);
    QVERIFY(scored.wait(60000));
    QCOMPARE(page.scoreModel()->index(0, 1).data(ScoreTableModel::MeanRole).toDouble(), 0.0);
    page.findChild<QComboBox*>(QStringLiteral("evaluateReferencesCombo"))->setCurrentIndex(1);
    QVERIFY(scored.wait(60000));
    QCOMPARE(page.scoreModel()->index(0, 1).data(ScoreTableModel::MeanRole).toDouble(), 1.0);
    QVERIFY(page.provenanceText().contains(QStringLiteral("up to 3 per example")));
}

void TestEvaluatePage::keepsEveryReference() {
    // DialogSum's JSON Lines test split has summary1..summary3: all three reach the results CSV.
    const QString jsonl = ui_test::sharedDir() + QStringLiteral("/dialogsum/jsonl");
    QFile test(jsonl + QStringLiteral("/dialogsum.test.jsonl"));
    if (!test.open(QIODevice::ReadOnly)) QSKIP(qPrintable(QStringLiteral("no %1").arg(test.fileName())));
    const QJsonObject first = QJsonDocument::fromJson(test.readLine()).object();
    EvaluatePage page(m_registry);
    const QString output = m_tmp.filePath(QStringLiteral("jsonl.csv"));
    configure(page, jsonl, output, 2);
    page.systemPicker()->setSystems(page.systemPicker()->available().mid(0, 1));
    QSignalSpy finished(&page, &EvaluatePage::evaluationFinished);
    QVERIFY(page.startEvaluation());
    QVERIFY(finished.wait(180000));
    QCOMPARE(finished.first().at(1).toInt(), 0);
    const sumlab::ResultsTable table = sumlab::read_results_csv(output.toStdString());
    QCOMPARE(table.size(), size_t{2});
    QCOMPARE(table.more_references.size(), size_t{2});
    QStringList references;
    for (const std::string& r : table.references(0)) references << QString::fromStdString(r);
    QCOMPARE(references, (QStringList{first.value("summary1").toString(), first.value("summary2").toString(), first.value("summary3").toString()}));
}

void TestEvaluatePage::pauseAndStop() {
    EvaluatePage page(m_registry);
    const QString output = m_tmp.filePath(QStringLiteral("stopped.csv"));
    configure(page, m_data, output, 4);
    QSignalSpy finished(&page, &EvaluatePage::evaluationFinished);
    QVERIFY(page.startEvaluation());
    page.setPaused(true);
    // Paused before its first decoding step finished, it writes nothing however long it waits.
    QTest::qWait(1500);
    QVERIFY(page.isRunning());
    QCOMPARE(finished.size(), 0);
    QVERIFY(!QFile::exists(output));
    QVERIFY(page.statusText().contains(QStringLiteral("Paused")));
    page.stopEvaluation();
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.first().at(0).toBool(), true);
    QVERIFY(!page.isRunning());
    QVERIFY(!QFile::exists(output));
    QVERIFY(page.statusText().startsWith(QStringLiteral("Stopped")));
}

void TestEvaluatePage::resultsWithoutHumanColumn() {
    const QString path = m_tmp.filePath(QStringLiteral("no-human.csv"));
    ui_test::writeFile(path, ",original_model_summaries,peft_model_summaries\n0,a,b\n");
    EvaluatePage page(m_registry);
    QSignalSpy failed(&page, &EvaluatePage::scoreFailed);
    page.show();
    page.openResults(path);
    QVERIFY(failed.wait(60000));
    const QString message = failed.first().at(0).toString();
    QVERIFY2(message.contains(path) && message.contains(QStringLiteral("missing column \"human_baseline_summaries\"")), qPrintable(message));
    QCOMPARE(page.errorText(), message);
    QVERIFY(!page.hasScores());
}

void TestEvaluatePage::failingSystemLeavesOthersRunning() {
    const QString broken = m_tmp.filePath(QStringLiteral("broken-model"));
    ui_test::registerBrokenModel(*m_registry, broken);
    if (QTest::currentTestFailed()) return;

    EvaluatePage page(m_registry);
    page.show();
    const QString output = m_tmp.filePath(QStringLiteral("partly.csv"));
    configure(page, m_data, output, 2);
    QVector<SystemSpec> chosen;
    for (const SystemSpec& s : page.systemPicker()->available())
        if (s.modelDir == QFileInfo(broken).absoluteFilePath()) chosen.prepend(s);
        else if (s.column == QStringLiteral("original_model")) chosen.append(s);
    QCOMPARE(chosen.size(), 2);
    page.systemPicker()->setSystems(chosen);
    QSignalSpy finished(&page, &EvaluatePage::evaluationFinished);
    QSignalSpy scored(&page, &EvaluatePage::scoresReady);
    QVERIFY(page.startEvaluation());
    QVERIFY(finished.wait(180000));
    QCOMPARE(finished.first().at(1).toInt(), 1);
    QVERIFY2(page.errorText().contains(QStringLiteral("model.safetensors")), qPrintable(page.errorText()));
    QVERIFY2(page.statusText().contains(QStringLiteral("Failed:")), qPrintable(page.statusText()));
    const sumlab::ResultsTable table = sumlab::read_results_csv(output.toStdString());
    QCOMPARE(table.systems.size(), size_t{1});
    QCOMPARE(QString::fromStdString(table.systems[0].name), QStringLiteral("original_model"));
    QVERIFY(scored.wait(60000));
    m_registry->removeFolder(m_registry->rowOfPath(QFileInfo(broken).absoluteFilePath()));
}

QTEST_MAIN(TestEvaluatePage)
#include "tst_evaluatepage.moc"
