// Tests for a training run's final/ and checkpoints as systems of the Compare and Evaluate pages
// (ui/SystemPicker::systemsOfRun, fed by MainWindow from the Runs page's scans) and for the Runs page's
// Compare / Evaluate actions. The runs are fake folders: run.json written by the engine, checkpoints copied
// from the goldens (a LoRA run's: the golden PEFT adapter; a full run's: tiny-flan), nothing trained or loaded.
#include "engine/training/run_folder.h"

#include <nlohmann/json.hpp>

#include "ui/ComparePage.h"
#include "ui/EvaluatePage.h"
#include "ui/MainWindow.h"
#include "ui/RunsPage.h"
#include "ui/SystemPicker.h"
#include "ui_test_support.h"

#include <QAction>
#include <QComboBox>
#include <QPushButton>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

class TestRunSystems : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void pickersListRunCheckpoints();
    void pickersFollowRescans();
    void runsPageOpensCompareAndEvaluate();

private:
    // A run folder `name` of the workspace with run.json (method, base model, best checkpoint).
    QString makeRun(const QString& name, sumlab::TrainingMethod method, const QString& best);
    // checkpoint-N (or final) of `run`: the files of `from`, and trainer_state.json for a checkpoint.
    QString addFolder(const QString& run, const QString& name, const QString& from);
    // Waits for the Runs page of `window` to finish a scan of the workspace.
    void scan(MainWindow& window);

    QTemporaryDir m_dir;
    QString m_workspace;
    QString m_loraRun;
    QString m_fullRun;
};

QString TestRunSystems::makeRun(const QString& name, sumlab::TrainingMethod method, const QString& best) {
    const QString dir = QDir(m_workspace).filePath(name);
    if (!QDir().mkpath(dir)) return {};
    sumlab::RunConfig config;
    config.model = ui_test::tinyFlan().toStdString();
    config.data = m_dir.filePath(QStringLiteral("data")).toStdString();
    config.arguments.method = method;
    config.best_model_checkpoint = best.isEmpty() ? std::string() : QDir(dir).filePath(best).toStdString();
    if (!best.isEmpty()) config.best_metric = 0.5;
    sumlab::write_run_config(dir.toStdString(), config);
    return QDir::cleanPath(dir);
}

QString TestRunSystems::addFolder(const QString& run, const QString& name, const QString& from) {
    const QString dir = QDir(run).filePath(name);
    if (!QDir().mkpath(dir)) return {};
    for (const QString& file : QDir(from).entryList(QDir::Files))
        if (file != QLatin1String("pytorch_model.bin") && !QFile::copy(QDir(from).filePath(file), QDir(dir).filePath(file))) return {};
    if (name.startsWith(QLatin1String("checkpoint-"))) {
        sumlab::SavedTrainerState saved;
        saved.state.global_step = name.mid(11).toLongLong();
        sumlab::write_trainer_state(dir.toStdString(), saved, 1.0, saved.state.global_step);
    }
    return QDir::cleanPath(dir);
}

void TestRunSystems::scan(MainWindow& window) {
    QSignalSpy refreshed(window.runsPage(), &RunsPage::refreshed);
    window.runsPage()->setWorkspace(m_workspace);
    QVERIFY(refreshed.wait(30000));
}

void TestRunSystems::initTestCase() {
    ui_test::isolateSettings();
    QVERIFY(m_dir.isValid());
    for (const QString& golden : {ui_test::tinyFlan(), ui_test::tinyFlanAdapter()})
        if (!QFileInfo::exists(golden)) QSKIP(qPrintable(QStringLiteral("golden folder not found at %1").arg(golden)));
    m_workspace = m_dir.filePath(QStringLiteral("runs"));
    // A LoRA run stopped at step 140 (best: 120), and a finished full run with final/ and checkpoint-2.
    m_loraRun = makeRun(QStringLiteral("lora-run"), sumlab::TrainingMethod::lora, QStringLiteral("checkpoint-120"));
    QVERIFY(!m_loraRun.isEmpty());
    QVERIFY(!addFolder(m_loraRun, QStringLiteral("checkpoint-120"), ui_test::tinyFlanAdapter()).isEmpty());
    QVERIFY(!addFolder(m_loraRun, QStringLiteral("checkpoint-140"), ui_test::tinyFlanAdapter()).isEmpty());
    m_fullRun = makeRun(QStringLiteral("full-run"), sumlab::TrainingMethod::full, QString());
    QVERIFY(!m_fullRun.isEmpty());
    QVERIFY(!addFolder(m_fullRun, QStringLiteral("checkpoint-2"), ui_test::tinyFlan()).isEmpty());
    QVERIFY(!addFolder(m_fullRun, QStringLiteral("final"), ui_test::tinyFlan()).isEmpty());
}

// Each case starts with no registered models (the registry keeps its entries in the settings).
void TestRunSystems::init() { QSettings().clear(); }

namespace {

SystemSpec spec(const QString& label, const QString& column, const QString& modelDir, const QString& adapterDir = QString()) {
    return SystemSpec{label, column, QDir::cleanPath(modelDir), adapterDir};
}

const SystemSpec* findLabel(const QVector<SystemSpec>& systems, const QString& label) {
    for (const SystemSpec& s : systems)
        if (s.label == label) return &s;
    return nullptr;
}

QString labels(const QVector<SystemSpec>& systems) {
    QStringList out;
    for (const SystemSpec& s : systems) out << s.label;
    return out.join(QStringLiteral(" | "));
}

}  // namespace

// Both pickers list, under the registered model, each run's final/ and checkpoints with the folders that
// generate them: a LoRA checkpoint is the adapter on run.json's base model, a full run's a model folder.
void TestRunSystems::pickersListRunCheckpoints() {
    MainWindow window;
    ui_test::registerFolder(*window.modelRegistry(), ui_test::tinyFlan());
    scan(window);
    const QVector<SystemSpec> expected{
        spec(QStringLiteral("lora-run / checkpoint-140"), QStringLiteral("lora_run_checkpoint_140"), ui_test::tinyFlan(), m_loraRun + "/checkpoint-140"),
        spec(QStringLiteral("lora-run / checkpoint-120 ★"), QStringLiteral("lora_run_checkpoint_120"), ui_test::tinyFlan(), m_loraRun + "/checkpoint-120"),
        spec(QStringLiteral("full-run / final"), QStringLiteral("full_run_final"), m_fullRun + "/final"),
        spec(QStringLiteral("full-run / checkpoint-2"), QStringLiteral("full_run_checkpoint_2"), m_fullRun + "/checkpoint-2"),
    };
    for (SystemPicker* picker : {window.comparePage()->systemPicker(), window.evaluatePage()->systemPicker()}) {
        const QVector<SystemSpec> available = picker->available();
        QVERIFY2(available.size() == 1 + expected.size(), qPrintable(labels(available)));
        QCOMPARE(available.front().modelDir, QFileInfo(ui_test::tinyFlan()).absoluteFilePath());  // the registered model first
        for (const SystemSpec& want : expected) {
            const SystemSpec* got = findLabel(available, want.label);
            QVERIFY2(got, qPrintable(want.label + QStringLiteral(" not in ") + labels(available)));
            QCOMPARE(got->modelDir, want.modelDir);
            QCOMPARE(got->adapterDir, want.adapterDir);
            QCOMPARE(got->column, want.column);
            QVERIFY2(picker->combo(0)->findText(want.label) > 0, qPrintable(want.label));
        }
        // The default choice stays the registered model; a checkpoint is chosen on purpose.
        QCOMPARE(picker->systems().size(), 1);
        QVERIFY(picker->systems().front().adapterDir.isEmpty() && !picker->systems().front().label.contains(QLatin1Char('/')));
    }
    // A run folder registered as a model is listed once.
    ui_test::registerFolder(*window.modelRegistry(), m_fullRun + "/final");
    QCOMPARE(window.comparePage()->systemPicker()->available().size(), 1 + expected.size());
}

// A rescan that finds a new checkpoint lists it; one that finds nothing new leaves the user's choice alone.
void TestRunSystems::pickersFollowRescans() {
    MainWindow window;
    scan(window);
    SystemPicker* picker = window.comparePage()->systemPicker();
    const SystemSpec* checkpoint140 = findLabel(picker->available(), QStringLiteral("lora-run / checkpoint-140"));
    QVERIFY(checkpoint140);
    picker->setSystems({*checkpoint140});
    QSignalSpy changed(picker, &SystemPicker::systemsChanged);
    QSignalSpy refreshed(window.runsPage(), &RunsPage::refreshed);
    window.runsPage()->refresh();
    QVERIFY(refreshed.wait(30000));
    QCOMPARE(changed.count(), 0);
    QCOMPARE(picker->combo(0)->currentText(), QStringLiteral("lora-run / checkpoint-140"));

    const QString added = addFolder(m_loraRun, QStringLiteral("checkpoint-160"), ui_test::tinyFlanAdapter());
    QVERIFY(!added.isEmpty());
    const auto removeAdded = qScopeGuard([&] { QDir(added).removeRecursively(); });  // the other cases expect two checkpoints
    window.runsPage()->refresh();
    QVERIFY(refreshed.wait(30000));
    for (SystemPicker* p : {picker, window.evaluatePage()->systemPicker()})
        QVERIFY2(findLabel(p->available(), QStringLiteral("lora-run / checkpoint-160")), qPrintable(labels(p->available())));
    QCOMPARE(picker->systems().size(), 1);
    QCOMPARE(picker->systems().front().adapterDir, m_loraRun + "/checkpoint-140");
    QVERIFY(QDir(added).removeRecursively());
    window.runsPage()->refresh();
    QVERIFY(refreshed.wait(30000));
    QVERIFY(!findLabel(picker->available(), QStringLiteral("lora-run / checkpoint-160")));
}

// The Runs page's Compare button and Evaluate context-menu action open those pages with the chosen checkpoint.
void TestRunSystems::runsPageOpensCompareAndEvaluate() {
    MainWindow window;
    ui_test::registerFolder(*window.modelRegistry(), ui_test::tinyFlan());
    scan(window);
    RunsPage* runs = window.runsPage();
    auto* combo = runs->findChild<QComboBox*>(QStringLiteral("runCheckpointCombo"));
    auto* compare = runs->findChild<QPushButton*>(QStringLiteral("compareCheckpointButton"));
    QVERIFY(combo && compare);
    QVERIFY(!compare->isEnabled());  // nothing selected
    // A stopped LoRA run: its checkpoints newest first, the best one chosen.
    QVERIFY(runs->selectRun(m_loraRun));
    QCOMPARE(combo->count(), 2);
    QCOMPARE(combo->currentText(), QStringLiteral("checkpoint-120 ★"));
    QVERIFY(runs->chooseCheckpoint(QStringLiteral("checkpoint-140")));
    QVERIFY(compare->isEnabled());
    compare->click();
    QCOMPARE(window.currentPage(), int(MainWindow::ComparePageIndex));
    const QVector<SystemSpec> compared = window.comparePage()->systemPicker()->systems();
    QVERIFY2(compared.size() == 2, qPrintable(labels(compared)));  // the registered model kept, the checkpoint added
    QCOMPARE(compared[1], spec(QStringLiteral("lora-run / checkpoint-140"), QStringLiteral("lora_run_checkpoint_140"), ui_test::tinyFlan(),
                               m_loraRun + "/checkpoint-140"));
    // Twice: chosen once only.
    compare->click();
    QCOMPARE(window.comparePage()->systemPicker()->systems().size(), 2);

    // A finished full run: final/ chosen; the context menu's Evaluate opens it on the Evaluate page.
    QVERIFY(runs->selectRun(m_fullRun));
    QCOMPARE(combo->currentText(), QStringLiteral("final"));
    QAction* evaluate = runs->findChild<QAction*>(QStringLiteral("evaluateCheckpointAction"));
    QVERIFY(evaluate && evaluate->isEnabled());
    QVERIFY(runs->runsView()->actions().contains(evaluate));
    evaluate->trigger();
    QCOMPARE(window.currentPage(), int(MainWindow::EvaluatePageIndex));
    const QVector<SystemSpec> evaluated = window.evaluatePage()->systemPicker()->systems();
    QVERIFY2(evaluated.size() == 2, qPrintable(labels(evaluated)));
    QCOMPARE(evaluated[1].modelDir, m_fullRun + "/final");
    QVERIFY(evaluated[1].adapterDir.isEmpty());
    QCOMPARE(evaluated[1].column, QStringLiteral("full_run_final"));
}

QTEST_MAIN(TestRunSystems)
#include "tst_run_systems.moc"
