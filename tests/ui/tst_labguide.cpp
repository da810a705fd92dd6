// Tests for ui/LabGuide: every step's button asks for its page, the training steps find the lab's presets,
// ticks follow what the pages report (a dataset loaded, a model or adapter registered, a run finished with
// or without LoRA, a results CSV, a rating saved), ticks by hand work and persist, and "Start over" clears
// them.
#include "ui/DataPage.h"
#include "ui/LabGuide.h"
#include "ui/MainWindow.h"
#include "ui/RatingPage.h"
#include "ui/TrainPage.h"
#include "ui/TrainingSettingsForm.h"
#include "ui_test_support.h"

#include <QAction>
#include <QCheckBox>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

Q_DECLARE_METATYPE(LabGuide::Step)

namespace {

QCheckBox* check(LabGuide& guide, LabGuide::Step step) {
    return guide.findChild<QCheckBox*>(QStringLiteral("stepDone_%1Check").arg(LabGuide::stepKey(step)));
}

QString reason(LabGuide& guide, LabGuide::Step step) {
    return guide.findChild<QLabel*>(QStringLiteral("stepReason_%1Label").arg(LabGuide::stepKey(step)))->text();
}

// A run folder whose run.json names the training method.
QString writeRun(const QString& parent, const QString& name, const QString& method) {
    const QString dir = QDir(parent).filePath(name);
    QDir().mkpath(dir);
    ui_test::writeFile(QDir(dir).filePath(QStringLiteral("run.json")),
                       QStringLiteral(R"({"model": "m", "arguments": {"method": "%1", "learning_rate": 0.001}})").arg(method).toUtf8());
    return dir;
}

}  // namespace

class TestLabGuide : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void stepsAreDescribedAndOpenPages();
    void trainingStepsFindTheLabPresets();
    void ticksFollowConditions();
    void modelsFromElsewhereStandIn();
    void ticksByHandPersist();
    void startOverClearsTicks();
    void mainWindowOpensPagesAndTicks();

private:
    QTemporaryDir m_dir;
};

void TestLabGuide::initTestCase() {
    ui_test::isolateSettings();
    qRegisterMetaType<LabGuide::Step>();
    QVERIFY(m_dir.isValid());
}

void TestLabGuide::init() { QSettings().clear(); }

void TestLabGuide::stepsAreDescribedAndOpenPages() {
    LabGuide guide;
    guide.show();
    QVERIFY(QTest::qWaitForWindowExposed(&guide));
    QSignalSpy open(&guide, &LabGuide::openStepRequested);
    for (int i = 0; i < LabGuide::StepCount; ++i) {
        const auto step = static_cast<LabGuide::Step>(i);
        QVERIFY(!LabGuide::stepTitle(step).isEmpty());
        // Two sentences on what the step shows.
        QVERIFY2(LabGuide::stepDescription(step).count(QStringLiteral(". ")) >= 1, qPrintable(LabGuide::stepDescription(step)));
        auto* button = guide.findChild<QPushButton*>(QStringLiteral("openStep_%1Button").arg(LabGuide::stepKey(step)));
        QVERIFY2(button, qPrintable(LabGuide::stepKey(step)));
        QVERIFY(!button->accessibleName().isEmpty() && !button->toolTip().isEmpty());
        QVERIFY(!check(guide, step)->isChecked());
        QTest::mouseClick(button, Qt::LeftButton);
        QCOMPARE(open.count(), i + 1);
        QCOMPARE(open.last().at(0).value<LabGuide::Step>(), step);
    }
    QCOMPARE(guide.doneCount(), 0);
    QVERIFY(guide.findChild<QLabel*>(QStringLiteral("labGuideSummary"))->text().startsWith(QStringLiteral("0 of 7")));
}

void TestLabGuide::trainingStepsFindTheLabPresets() {
    const int full = LabGuide::presetFor(LabGuide::FullFineTune);
    const int lora = LabGuide::presetFor(LabGuide::TrainLora);
    QVERIFY(full >= 0 && lora >= 0 && full != lora);
    const QJsonObject f = TrainingSettingsForm::presetValues(full);
    QCOMPARE(f.value(QStringLiteral("method")).toString(), QStringLiteral("full"));
    QVERIFY(std::abs(f.value(QStringLiteral("learning_rate")).toDouble() - 1e-5) < 1e-15);
    const QJsonObject l = TrainingSettingsForm::presetValues(lora);
    QCOMPARE(l.value(QStringLiteral("method")).toString(), QStringLiteral("lora"));
    QCOMPARE(l.value(QStringLiteral("r")).toInt(), 32);
    QCOMPARE(l.value(QStringLiteral("lora_alpha")).toDouble(), 32.0);
    QVERIFY(std::abs(l.value(QStringLiteral("lora_dropout")).toDouble() - 0.05) < 1e-12);
    QVERIFY(std::abs(l.value(QStringLiteral("learning_rate")).toDouble() - 1e-3) < 1e-15);
    QCOMPARE(LabGuide::presetFor(LabGuide::Compare), -1);
}

void TestLabGuide::ticksFollowConditions() {
    LabGuide guide;
    QSignalSpy changed(&guide, &LabGuide::stepDoneChanged);

    guide.onDatasetLoaded(QStringLiteral("/data/dialogsum"), 12460);
    QVERIFY(check(guide, LabGuide::LoadData)->isChecked());
    QVERIFY2(reason(guide, LabGuide::LoadData).contains(QStringLiteral("12460")), qPrintable(reason(guide, LabGuide::LoadData)));
    QCOMPARE(changed.count(), 1);

    // A stopped or failed run ticks nothing; a finished one ticks the step of its method.
    const QString loraRun = writeRun(m_dir.path(), QStringLiteral("lora-run"), QStringLiteral("lora"));
    const QString fullRun = writeRun(m_dir.path(), QStringLiteral("full-run"), QStringLiteral("full"));
    guide.onRunEnded(loraRun, sumlab::RunStatus::stopped);
    guide.onRunEnded(fullRun, sumlab::RunStatus::failed);
    QVERIFY(!guide.isDone(LabGuide::TrainLora));
    QVERIFY(!guide.isDone(LabGuide::FullFineTune));
    guide.onRunEnded(loraRun, sumlab::RunStatus::finished);
    QVERIFY(guide.isDone(LabGuide::TrainLora));
    QVERIFY(!guide.isDone(LabGuide::FullFineTune));
    guide.onRunEnded(fullRun, sumlab::RunStatus::finished);
    QVERIFY(guide.isDone(LabGuide::FullFineTune));
    QVERIFY(reason(guide, LabGuide::FullFineTune).contains(QStringLiteral("full-run")));
    // A folder without run.json says nothing about its method.
    guide.resetProgress();
    guide.onRunEnded(m_dir.filePath(QStringLiteral("nowhere")), sumlab::RunStatus::finished);
    QCOMPARE(guide.doneCount(), 0);
    // Nor does a run.json the engine's read_run_config refuses, though it names a method.
    const QString badRun = writeRun(m_dir.path(), QStringLiteral("bad-run"), QStringLiteral("lora"));
    ui_test::writeFile(QDir(badRun).filePath(QStringLiteral("run.json")),
                       QByteArrayLiteral(R"({"model": "m", "arguments": {"method": "lora", "learning_rate": "fast"}})"));
    guide.onRunEnded(badRun, sumlab::RunStatus::finished);
    QCOMPARE(guide.doneCount(), 0);

    guide.onResultsCsv(QStringLiteral("/tmp/results.csv"));
    QVERIFY(guide.isDone(LabGuide::Evaluate));
    guide.onCompared();
    QVERIFY(guide.isDone(LabGuide::Compare));
    guide.onRatingSaved(QStringLiteral("/tmp/ratings-ann.jsonl"), 3, 50);
    QVERIFY(guide.isDone(LabGuide::Rate));
    QVERIFY(reason(guide, LabGuide::Rate).contains(QStringLiteral("3 of 50")));
    guide.onRatingSaved(QStringLiteral("/tmp/ratings-ann.jsonl"), 4, 50);
    QVERIFY(reason(guide, LabGuide::Rate).contains(QStringLiteral("4 of 50")));
    QCOMPARE(guide.doneCount(), 3);
    QVERIFY(guide.findChild<QLabel*>(QStringLiteral("labGuideSummary"))->text().startsWith(QStringLiteral("3 of 7")));
}

void TestLabGuide::modelsFromElsewhereStandIn() {
    LabGuide guide;
    ModelInfo broken;
    broken.ok = false;
    broken.kind = ModelKind::Adapter;
    guide.onModelRegistered(broken);
    QCOMPARE(guide.doneCount(), 0);

    ModelInfo base;
    base.ok = true;
    base.name = QStringLiteral("flan-t5-base");
    base.origin = QStringLiteral("Pre-trained");
    guide.onModelRegistered(base);
    QVERIFY(guide.isDone(LabGuide::ZeroShot));
    QVERIFY(!guide.isDone(LabGuide::FullFineTune));

    ModelInfo tuned = base;
    tuned.name = QStringLiteral("instruct");
    tuned.origin = QStringLiteral("Fine-tuned (run lab-full)");
    guide.onModelRegistered(tuned);
    QVERIFY(guide.isDone(LabGuide::FullFineTune));

    ModelInfo adapter = base;
    adapter.kind = ModelKind::Adapter;
    adapter.name = QStringLiteral("peft-dialogue-summary-checkpoint");
    guide.onModelRegistered(adapter);
    QVERIFY(guide.isDone(LabGuide::TrainLora));
    QVERIFY(reason(guide, LabGuide::TrainLora).contains(QStringLiteral("peft-dialogue-summary-checkpoint")));
}

void TestLabGuide::ticksByHandPersist() {
    {
        LabGuide guide;
        guide.show();
        QVERIFY(QTest::qWaitForWindowExposed(&guide));
        QCheckBox* box = check(guide, LabGuide::FullFineTune);
        QSignalSpy changed(&guide, &LabGuide::stepDoneChanged);
        QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(6, box->height() / 2));
        QVERIFY(box->isChecked());
        QCOMPARE(changed.count(), 1);
        QVERIFY(guide.isDone(LabGuide::FullFineTune));
        QCOMPARE(guide.doneReason(LabGuide::FullFineTune), QStringLiteral("Ticked by hand"));
        // Space on a focused check box toggles it too.
        QCheckBox* rate = check(guide, LabGuide::Rate);
        rate->setFocus();
        QTest::keyClick(rate, Qt::Key_Space);
        QVERIFY(guide.isDone(LabGuide::Rate));
        QTest::keyClick(rate, Qt::Key_Space);
        QVERIFY(!guide.isDone(LabGuide::Rate));
    }
    LabGuide again;
    QVERIFY(check(again, LabGuide::FullFineTune)->isChecked());
    QVERIFY(!check(again, LabGuide::Rate)->isChecked());
    QCOMPARE(again.doneCount(), 1);
}

void TestLabGuide::startOverClearsTicks() {
    LabGuide guide;
    guide.onDatasetLoaded(QStringLiteral("/d"), 10);
    guide.onCompared();
    QCOMPARE(guide.doneCount(), 2);
    guide.findChild<QPushButton*>(QStringLiteral("resetLabGuideButton"))->click();
    QCOMPARE(guide.doneCount(), 0);
    LabGuide again;
    QCOMPARE(again.doneCount(), 0);
}

void TestLabGuide::mainWindowOpensPagesAndTicks() {
    QSettings().setValue(QStringLiteral("runs/workspace"), m_dir.filePath(QStringLiteral("runs")));
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    LabGuide* guide = window.labGuide();
    QVERIFY(guide);
    QVERIFY(!guide->isVisible());
    // F1 shows and hides the guide.
    QTest::keyClick(&window, Qt::Key_F1);
    QTRY_VERIFY(guide->isVisible());
    const auto open = [&](LabGuide::Step step) {
        guide->findChild<QPushButton*>(QStringLiteral("openStep_%1Button").arg(LabGuide::stepKey(step)))->click();
    };
    open(LabGuide::TrainLora);
    QCOMPARE(window.currentPage(), int(MainWindow::TrainPageIndex));
    QJsonObject values = window.trainPage()->form()->currentValues();
    QCOMPARE(values.value(QStringLiteral("method")).toString(), QStringLiteral("lora"));
    QCOMPARE(values.value(QStringLiteral("r")).toInt(), 32);
    open(LabGuide::LoadData);
    QCOMPARE(window.currentPage(), int(MainWindow::DataPageIndex));
    open(LabGuide::FullFineTune);
    QCOMPARE(window.currentPage(), int(MainWindow::TrainPageIndex));
    values = window.trainPage()->form()->currentValues();
    QCOMPARE(values.value(QStringLiteral("method")).toString(), QStringLiteral("full"));
    QVERIFY(std::abs(values.value(QStringLiteral("learning_rate")).toDouble() - 1e-5) < 1e-15);
    open(LabGuide::Compare);
    QCOMPARE(window.currentPage(), int(MainWindow::ComparePageIndex));
    open(LabGuide::Evaluate);
    QCOMPARE(window.currentPage(), int(MainWindow::EvaluatePageIndex));
    open(LabGuide::Rate);
    QCOMPARE(window.currentPage(), int(MainWindow::RatePageIndex));
    QCOMPARE(window.findChild<QStackedWidget*>(QStringLiteral("pages"))->currentWidget(), static_cast<QWidget*>(window.ratingPage()));

    // Loading a dataset on the Data page ticks the first step.
    QVERIFY(!guide->isDone(LabGuide::LoadData));
    const QString data = m_dir.filePath(QStringLiteral("dialogsum"));
    ui_test::writeDialogSum(data, 6);
    QSignalSpy loaded(window.dataPage(), &DataPage::datasetLoaded);
    window.dataPage()->loadPath(data);
    QVERIFY(loaded.wait(30000));
    QTRY_VERIFY(guide->isDone(LabGuide::LoadData));
    QVERIFY2(guide->doneReason(LabGuide::LoadData).contains(QStringLiteral("6 training")), qPrintable(guide->doneReason(LabGuide::LoadData)));

    QTest::keyClick(&window, Qt::Key_F1);
    QTRY_VERIFY(!guide->isVisible());
}

QTEST_MAIN(TestLabGuide)
#include "tst_labguide.moc"
