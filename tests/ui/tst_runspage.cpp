// Tests for ui/RunsPage, ui/RunListModel, ui/ConfigDiffModel and ui/RunScanner: runs written by the engine's
// Trainer are listed with status, method, hyper-parameters and losses; selecting several overlays their
// curves and diffs their configurations; a live run's metrics are re-read as they grow; folders that are
// not runs are ignored and broken ones shown as unreadable.
#include "engine/training/trainer.h"

#include <nlohmann/json.hpp>

#include "ui/ConfigDiffModel.h"
#include "ui/LossPlotWidget.h"
#include "ui/RunListModel.h"
#include "ui/RougePlotWidget.h"
#include "ui/RunsPage.h"
#include "tests/common/sanitizer.h"
#include "ui_test_support.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QTableView>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

class TestRunsPage : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void listsRuns();
    void comparesSelectedRuns();
    void followsLiveMetrics();
    void ignoresAndFlagsOtherFolders();
    void remembersWorkspace();
    void showsRougeAndTheBestCheckpoint();

private:
    QString train(const QString& name, double learningRate, const QString& method);

    QTemporaryDir m_dir;
    QString m_data;
    QString m_workspace;
    QString m_fullRun;
    QString m_loraRun;
};

QString TestRunsPage::train(const QString& name, double learningRate, const QString& method) {
    sumlab::TrainerSetup setup;
    setup.model_dir = ui_test::tinyFlan().toStdString();
    setup.data = m_data.toStdString();
    setup.output_dir = QDir(m_workspace).filePath(name).toStdString();
    setup.args.method = method == QLatin1String("lora") ? sumlab::TrainingMethod::lora : sumlab::TrainingMethod::full;
    setup.args.learning_rate = learningRate;
    setup.args.max_steps = 3;
    setup.args.logging_steps = 1;
    setup.args.per_device_train_batch_size = 4;
    setup.args.per_device_eval_batch_size = 4;
    setup.args.eval_strategy = sumlab::IntervalStrategy::steps;
    setup.args.eval_steps = 3;
    setup.args.max_source_length = 64;
    setup.args.max_target_length = 32;
    sumlab::Trainer(setup).run();
    return QDir::cleanPath(QString::fromStdString(setup.output_dir));
}

void TestRunsPage::initTestCase() {
    ui_test::isolateSettings();
    QVERIFY(m_dir.isValid());
    if (!QFileInfo::exists(ui_test::tinyFlan())) QSKIP(qPrintable(QStringLiteral("tiny-flan not found at %1").arg(ui_test::tinyFlan())));
    m_data = m_dir.filePath(QStringLiteral("data"));
    ui_test::writeDialogSum(m_data, 16);
    m_workspace = m_dir.filePath(QStringLiteral("runs"));
    m_workspace = m_dir.filePath(QStringLiteral("runs"));
    SUMLAB_REQUIRE_SENTENCEPIECE();  // every case reads the two runs trained here
    m_fullRun = train(QStringLiteral("full-run"), 1e-3, QStringLiteral("full"));
    m_loraRun = train(QStringLiteral("lora-run"), 2e-3, QStringLiteral("lora"));
}

void TestRunsPage::listsRuns() {
    RunsPage page;
    QAbstractItemModelTester tester(page.runModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy refreshed(&page, &RunsPage::refreshed);
    page.setWorkspace(m_workspace);
    QVERIFY(refreshed.wait(30000));
    RunListModel* model = page.runModel();
    QCOMPARE(model->rowCount(), 2);
    const int full = model->rowOfDir(m_fullRun);
    const int lora = model->rowOfDir(m_loraRun);
    QVERIFY(full >= 0 && lora >= 0);
    const sumlab::RunInfo expected = sumlab::read_run(m_fullRun.toStdString());
    QCOMPARE(model->index(full, RunListModel::NameColumn).data().toString(), QStringLiteral("full-run"));
    QCOMPARE(model->index(full, RunListModel::StatusColumn).data().toString(), QStringLiteral("finished"));
    QCOMPARE(model->index(full, RunListModel::MethodColumn).data().toString(), QStringLiteral("full"));
    QCOMPARE(model->index(lora, RunListModel::MethodColumn).data().toString(), QStringLiteral("lora"));
    QCOMPARE(model->index(lora, RunListModel::RankColumn).data().toString(), QStringLiteral("8"));
    QCOMPARE(model->index(full, RunListModel::RankColumn).data().toString(), QString());
    QCOMPARE(model->index(full, RunListModel::ModelColumn).data().toString(), QStringLiteral("tiny-flan"));
    QCOMPARE(model->index(full, RunListModel::LearningRateColumn).data().toString(), QStringLiteral("0.001"));
    QCOMPARE(model->index(full, RunListModel::StepColumn).data().toString(), QStringLiteral("3/3"));
    QCOMPARE(model->index(full, RunListModel::LossColumn).data().toString(), QLocale().toString(expected.logs.back().loss, 'f', 4));
    QCOMPARE(model->index(full, RunListModel::EvalLossColumn).data().toString(), QLocale().toString(expected.evals.back().eval_loss, 'f', 4));
    const RunRecord& record = model->run(full);
    QCOMPARE(record.curves.steps.size(), static_cast<int>(expected.logs.size()));
    QCOMPARE(record.curves.evals.size(), static_cast<int>(expected.evals.size()));
    QVERIFY(!record.canResume());
    QVERIFY(page.findChild<QLabel*>(QStringLiteral("runsSummaryLabel"))->text().startsWith(QStringLiteral("2 runs")));

    // One run selected: its curves, and its whole configuration.
    QVERIFY(page.selectRun(m_fullRun));
    QCOMPARE(page.lossPlot()->runCount(), 1);
    QCOMPARE(page.lossPlot()->run(0).steps.size(), record.curves.steps.size());
    QVERIFY(page.configDiffModel()->keys().contains(QStringLiteral("arguments.learning_rate")));
    QVERIFY(page.configDiffModel()->keys().contains(QStringLiteral("arguments.seed")));
    QVERIFY(!page.findChild<QPushButton*>(QStringLiteral("resumeRunButton"))->isEnabled());
    QVERIFY(page.findChild<QPushButton*>(QStringLiteral("rerunButton"))->isEnabled());
    QSignalSpy rerun(&page, &RunsPage::rerunRequested);
    page.findChild<QPushButton*>(QStringLiteral("rerunButton"))->click();
    QCOMPARE(rerun.count(), 1);
    QCOMPARE(rerun.first().first().toString(), m_fullRun);
}

void TestRunsPage::comparesSelectedRuns() {
    RunsPage page;
    QAbstractItemModelTester diffTester(page.configDiffModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy refreshed(&page, &RunsPage::refreshed);
    page.setWorkspace(m_workspace);
    QVERIFY(refreshed.wait(30000));
    auto* view = page.findChild<QTableView*>(QStringLiteral("runsView"));
    view->selectAll();
    QCOMPARE(page.lossPlot()->runCount(), 2);
    ConfigDiffModel* diff = page.configDiffModel();
    QCOMPARE(diff->columnCount(), 3);
    const QStringList keys = diff->keys();
    QVERIFY2(keys.contains(QStringLiteral("arguments.learning_rate")), qPrintable(keys.join(',')));
    QVERIFY2(keys.contains(QStringLiteral("arguments.method")), qPrintable(keys.join(',')));
    QVERIFY2(!keys.contains(QStringLiteral("arguments.seed")), qPrintable(keys.join(',')));
    QVERIFY2(!keys.contains(QStringLiteral("model")), qPrintable(keys.join(',')));
    const int lrRow = keys.indexOf(QStringLiteral("arguments.learning_rate"));
    QStringList values{diff->index(lrRow, 1).data().toString(), diff->index(lrRow, 2).data().toString()};
    values.sort();
    QCOMPARE(values, (QStringList{QStringLiteral("0.001"), QStringLiteral("0.002")}));
    QVERIFY(diff->index(lrRow, 0).data(ConfigDiffModel::DiffersRole).toBool());
    // All settings on demand.
    page.findChild<QCheckBox*>(QStringLiteral("onlyDifferencesCheck"))->setChecked(false);
    QVERIFY(diff->keys().contains(QStringLiteral("arguments.seed")));
    QVERIFY(diff->rowCount() > keys.size());
    // Several runs cannot be resumed or re-run at once.
    QVERIFY(!page.findChild<QPushButton*>(QStringLiteral("rerunButton"))->isEnabled());
    QVERIFY(!page.findChild<QPushButton*>(QStringLiteral("revealRunButton"))->isEnabled());
}

// A run with predict_with_generate and a best checkpoint by ROUGE-L: the list shows its last ROUGE-L and best
// checkpoint, the ROUGE plot its evaluations, the Evaluations tab each one with its kept summaries and a star on
// the best. Expected values come from the run's own files (metrics.jsonl, run.json, eval_predictions.jsonl).
void TestRunsPage::showsRougeAndTheBestCheckpoint() {
    SUMLAB_REQUIRE_SENTENCEPIECE();
    const QString workspace = m_dir.filePath(QStringLiteral("rouge-runs"));
    sumlab::TrainerSetup setup;
    setup.model_dir = ui_test::tinyFlan().toStdString();
    setup.data = m_data.toStdString();
    setup.output_dir = QDir(workspace).filePath(QStringLiteral("rouge-run")).toStdString();
    setup.args.learning_rate = 1e-3;
    setup.args.max_steps = 3;
    setup.args.logging_steps = 1;
    setup.args.per_device_train_batch_size = 4;
    setup.args.eval_strategy = setup.args.save_strategy = sumlab::IntervalStrategy::steps;
    setup.args.eval_steps = setup.args.save_steps = 1;
    setup.args.max_source_length = 64;
    setup.args.max_target_length = 32;
    setup.args.predict_with_generate = true;
    setup.args.generation_max_length = 8;
    setup.args.eval_generate_limit = 3;
    setup.args.load_best_model_at_end = true;
    setup.args.metric_for_best_model = "rougeL";
    const sumlab::TrainResult result = sumlab::Trainer(setup).run();
    const sumlab::RunInfo info = sumlab::read_run(setup.output_dir);
    QCOMPARE(info.evals.size(), size_t{3});
    QCOMPARE(info.predictions.size(), size_t{3});
    const QString best = QString::fromStdString(result.best_model_checkpoint);
    QVERIFY(best.contains(QStringLiteral("checkpoint-")));
    const qint64 bestStep = best.mid(best.lastIndexOf('-') + 1).toLongLong();

    RunsPage page;
    QSignalSpy refreshed(&page, &RunsPage::refreshed);
    page.setWorkspace(workspace);
    QVERIFY(refreshed.wait(30000));
    RunListModel* model = page.runModel();
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->index(0, RunListModel::RougeLColumn).data().toString(), QLocale().toString(info.evals.back().eval_rougeL, 'f', 4));
    QCOMPARE(model->index(0, RunListModel::BestColumn).data().toString(), QStringLiteral("checkpoint-%1").arg(bestStep));
    QVERIFY(page.selectRun(QString::fromStdString(setup.output_dir)));
    QVERIFY(page.rougePlot()->isVisibleTo(&page));
    QVector<double> rougeL;
    for (const sumlab::EvalMetrics& e : info.evals) rougeL << e.eval_rougeL;
    QCOMPARE(page.rougePlot()->values(QStringLiteral("ROUGE-L")), rougeL);
    QTreeWidget* tree = page.evaluationsTree();
    QCOMPARE(tree->topLevelItemCount(), 3);
    for (int i = 0; i < 3; ++i) {
        QTreeWidgetItem* item = tree->topLevelItem(i);
        QCOMPARE(item->text(0), QLocale().toString(info.evals[static_cast<size_t>(i)].step));
        QCOMPARE(item->text(5), QLocale().toString(info.evals[static_cast<size_t>(i)].eval_rougeL, 'f', 4));
        QCOMPARE(item->text(7).isEmpty(), info.evals[static_cast<size_t>(i)].step != bestStep);  // the star marks the best only
        QCOMPARE(item->childCount(), 3);
        QVERIFY2(item->child(0)->text(0).contains(QString::fromStdString(info.predictions[static_cast<size_t>(i)].examples[0].prediction)),
                 qPrintable(item->child(0)->text(0)));
    }
    QVERIFY2(page.findChild<QLabel*>(QStringLiteral("bestCheckpointLabel"))->text().contains(QStringLiteral("checkpoint-%1").arg(bestStep)),
             qPrintable(page.findChild<QLabel*>(QStringLiteral("bestCheckpointLabel"))->text()));
}

void TestRunsPage::followsLiveMetrics() {
    // A copy of a finished run whose metrics grow by a line, as a live run's do.
    const QString live = QDir(m_workspace).filePath(QStringLiteral("growing"));
    QDir().mkpath(live);
    for (const QString& f : {QStringLiteral("run.json"), QStringLiteral("metrics.jsonl")})
        QVERIFY(QFile::copy(QDir(m_fullRun).filePath(f), QDir(live).filePath(f)));
    RunsPage page;
    QSignalSpy refreshed(&page, &RunsPage::refreshed);
    page.setWorkspace(m_workspace);
    QVERIFY(refreshed.wait(30000));
    QTRY_VERIFY(page.runModel()->rowOfDir(QDir::cleanPath(live)) >= 0);
    QVERIFY(page.selectRun(live));
    const int before = page.lossPlot()->run(0).steps.size();
    {
        QFile metrics(QDir(live).filePath(QStringLiteral("metrics.jsonl")));
        QVERIFY(metrics.open(QIODevice::Append));
        metrics.write(R"({"step": 4, "max_steps": 5, "epoch": 1.0, "loss": 0.5, "learning_rate": 0.0001, "grad_norm": 1.0, )"
                      R"("tokens_per_second": 100.0, "tokens_seen": 4000, "elapsed_s": 1.0, "eta_s": 0.2})"
                      "\n");
    }
    // Picked up by the file watcher or the poll, without a manual refresh; the selection and its plot follow.
    QTRY_COMPARE_WITH_TIMEOUT(page.lossPlot()->run(0).steps.size(), before + 1, 15000);
    QCOMPARE(page.lossPlot()->run(0).steps.last().loss, 0.5);
    const int row = page.runModel()->rowOfDir(QDir::cleanPath(live));
    QCOMPARE(page.runModel()->index(row, RunListModel::StepColumn).data().toString(), QStringLiteral("4/3"));
    QVERIFY(QDir(live).removeRecursively());
    QTRY_COMPARE_WITH_TIMEOUT(page.runModel()->rowOfDir(QDir::cleanPath(live)), -1, 15000);
}

void TestRunsPage::ignoresAndFlagsOtherFolders() {
    const QString other = QDir(m_workspace).filePath(QStringLiteral("not-a-run"));
    QDir().mkpath(other);
    ui_test::writeFile(QDir(other).filePath(QStringLiteral("notes.txt")), "x\n");
    const QString broken = QDir(m_workspace).filePath(QStringLiteral("broken"));
    QDir().mkpath(broken);
    ui_test::writeFile(QDir(broken).filePath(QStringLiteral("run.json")), "{ not json");
    RunsPage page;
    QSignalSpy refreshed(&page, &RunsPage::refreshed);
    page.setWorkspace(m_workspace);
    QVERIFY(refreshed.wait(30000));
    QCOMPARE(page.runModel()->rowCount(), 3);
    QCOMPARE(page.runModel()->rowOfDir(QDir::cleanPath(other)), -1);
    const int row = page.runModel()->rowOfDir(QDir::cleanPath(broken));
    QVERIFY(row >= 0);
    QCOMPARE(page.runModel()->index(row, RunListModel::StatusColumn).data().toString(), QStringLiteral("unreadable"));
    const QString why = page.runModel()->index(row, RunListModel::NameColumn).data(Qt::ToolTipRole).toString();
    QVERIFY2(why.contains(QStringLiteral("run.json")), qPrintable(why));
    QVERIFY(QDir(broken).removeRecursively());
    QVERIFY(QDir(other).removeRecursively());
}

void TestRunsPage::remembersWorkspace() {
    {
        RunsPage page;
        QSignalSpy changed(&page, &RunsPage::workspaceChanged);
        page.findChild<QLineEdit*>(QStringLiteral("workspaceEdit"))->setText(m_workspace);
        QTest::keyClick(page.findChild<QLineEdit*>(QStringLiteral("workspaceEdit")), Qt::Key_Return);
        QCOMPARE(page.workspace(), QDir::cleanPath(m_workspace));
    }
    RunsPage again;
    QCOMPARE(again.workspace(), QDir::cleanPath(m_workspace));
}

QTEST_MAIN(TestRunsPage)
#include "tst_runspage.moc"
