#include "ui/ScreenshotTour.h"

#include "ui/AboutDialog.h"
#include "ui/ComparePage.h"
#include "ui/DataPage.h"
#include "ui/EvaluatePage.h"
#include "ui/GenerationSettingsWidget.h"
#include "ui/SystemPicker.h"
#include "ui/LengthStatistics.h"
#include "ui/MainWindow.h"
#include "ui/ModelRegistry.h"
#include "ui/ModelsPage.h"
#include "ui/RunListModel.h"
#include "ui/RunsPage.h"
#include "ui/TrainPage.h"

#include <QAbstractItemView>
#include <QComboBox>
#include <QSpinBox>
#include <QApplication>
#include <QDir>
#include <QItemSelectionModel>
#include <QPixmap>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>

#include <algorithm>

namespace {
constexpr int kPollMs = 250;
constexpr int kMaxPolls = 4 * 60 * 10;  // ten minutes
}  // namespace

ScreenshotTour::ScreenshotTour(MainWindow* window, const QString& folder, bool trainFirst, QObject* parent)
    : QObject(parent), m_window(window), m_folder(folder), m_trainFirst(trainFirst) {
    m_timer = new QTimer(this);
    m_timer->setInterval(kPollMs);
    connect(m_timer, &QTimer::timeout, this, &ScreenshotTour::poll);
    connect(m_window->trainPage(), &TrainPage::runEnded, this, [this] { m_trainingDone = true; });
}

void ScreenshotTour::start() {
    if (!QDir().mkpath(m_folder)) {
        emit done(false, tr("Cannot create %1").arg(m_folder));
        return;
    }
    m_timer->start();
}

bool ScreenshotTour::isSettled() const {
    const DataPage* data = m_window->dataPage();
    const bool dataReady = !data->isLoading() && (data->loadedPath().isEmpty() || !data->lengthStatistics().splits.isEmpty());
    return dataReady && !m_window->modelRegistry()->isChecking();
}

void ScreenshotTour::poll() {
    if (++m_polls > kMaxPolls) {
        m_timer->stop();
        emit done(false, tr("Timed out waiting for the window to finish loading"));
        return;
    }
    if (!isSettled()) return;
    if (m_trainFirst && !m_trainingStarted) {
        m_trainingStarted = true;
        m_window->showPage(MainWindow::TrainPageIndex);
        if (!m_window->trainPage()->startTraining()) {
            m_timer->stop();
            emit done(false, tr("The run was refused: %1").arg(m_window->trainPage()->validationText()));
        }
        return;
    }
    if (m_trainFirst && !m_trainingDone) return;
    m_timer->stop();
    // One more scan so the Runs page lists the run that just ended.
    RunsPage* runs = m_window->runsPage();
    connect(runs, &RunsPage::refreshed, this, &ScreenshotTour::takePictures, Qt::SingleShotConnection);
    runs->refresh();
}

bool ScreenshotTour::save(QWidget* widget, const QString& name, QString* error) {
    QApplication::processEvents();
    const QString path = QDir(m_folder).filePath(name);
    if (!widget->grab().save(path)) {
        *error = tr("Could not write %1").arg(path);
        return false;
    }
    return true;
}

void ScreenshotTour::takePictures() {
    QString error;
    bool ok = true;
    auto* dataTabs = m_window->dataPage()->findChild<QTabWidget*>(QStringLiteral("dataTabs"));
    m_window->showPage(MainWindow::DataPageIndex);
    if (dataTabs) dataTabs->setCurrentIndex(0);
    ok = ok && save(m_window, QStringLiteral("data-dialogues.png"), &error);
    if (dataTabs) dataTabs->setCurrentIndex(1);
    ok = ok && save(m_window, QStringLiteral("data-lengths.png"), &error);
    if (dataTabs) dataTabs->setCurrentIndex(0);

    m_window->showPage(MainWindow::ModelsPageIndex);
    if (auto* models = m_window->modelsPage()->findChild<QTableView*>(QStringLiteral("modelsView")); models && models->model()->rowCount() > 0)
        models->setCurrentIndex(models->model()->index(0, 0));
    ok = ok && save(m_window, QStringLiteral("models.png"), &error);

    m_window->showPage(MainWindow::TrainPageIndex);
    ok = ok && save(m_window, QStringLiteral("train.png"), &error);

    m_window->showPage(MainWindow::RunsPageIndex);
    RunsPage* runs = m_window->runsPage();
    const int n = runs->runModel()->rowCount();
    if (n > 0) {
        QItemSelectionModel* selection = runs->runsView()->selectionModel();
        selection->clearSelection();
        for (int row = 0; row < std::min(n, 2); ++row)
            selection->select(runs->runModel()->index(row, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
    }
    ok = ok && save(m_window, QStringLiteral("runs.png"), &error);
    if (auto* details = runs->findChild<QTabWidget*>(QStringLiteral("runDetailsTabs"))) {
        details->setCurrentIndex(1);
        ok = ok && save(m_window, QStringLiteral("runs-configuration.png"), &error);
        details->setCurrentIndex(0);
    }

    AboutDialog about(m_window);
    about.show();
    ok = ok && save(&about, QStringLiteral("about.png"), &error);
    about.close();
    m_ok = ok;
    m_error = error;
    takeComparePicture();
}

void ScreenshotTour::takeComparePicture() {
    ComparePage* compare = m_window->comparePage();
    const DatasetSnapshot& dataset = m_window->dataPage()->dataset();
    const SplitSnapshot* test = dataset.find(QStringLiteral("test"));
    if (!m_ok || !test || test->dialogues.isEmpty() || compare->systemPicker()->systems().isEmpty()) {
        m_skipped << QStringLiteral("compare.png");
        takeEvaluatePicture();
        return;
    }
    m_window->showPage(MainWindow::ComparePageIndex);
    // The lab's example: test dialogue 200.
    compare->selectExample(test->name, test->dialogues.size() > 200 ? 200 : 0);
    GenerationSettings settings = compare->generationSettings()->settings();
    settings.set("max_new_tokens", 60);
    compare->generationSettings()->setSettings(settings);
    connect(compare, &ComparePage::generationFinished, this, [this] {
        QString error;
        if (!save(m_window, QStringLiteral("compare.png"), &error)) {
            m_ok = false;
            m_error = error;
        }
        takeEvaluatePicture();
    }, Qt::SingleShotConnection);
    if (!compare->generate()) {
        disconnect(compare, &ComparePage::generationFinished, this, nullptr);
        m_skipped << QStringLiteral("compare.png");
        takeEvaluatePicture();
    }
}

void ScreenshotTour::takeEvaluatePicture() {
    EvaluatePage* evaluate = m_window->evaluatePage();
    if (!m_ok || m_window->dataPage()->loadedPath().isEmpty() || evaluate->systemPicker()->systems().isEmpty() || !m_resultsDir.isValid()) {
        m_skipped << QStringLiteral("evaluate.png");
        finish();
        return;
    }
    m_window->showPage(MainWindow::EvaluatePageIndex);
    evaluate->setDataPath(m_window->dataPage()->loadedPath());
    evaluate->setOutputPath(QDir(m_resultsDir.path()).filePath(QStringLiteral("dialogue-summary-training-results.csv")));
    if (auto* selection = evaluate->findChild<QComboBox*>(QStringLiteral("evaluateSelectionCombo"))) selection->setCurrentIndex(1);
    if (auto* count = evaluate->findChild<QSpinBox*>(QStringLiteral("evaluateCountSpin"))) count->setValue(30);
    GenerationSettings settings = evaluate->generationSettings()->settings();
    settings.set("max_new_tokens", 60);
    evaluate->generationSettings()->setSettings(settings);
    connect(evaluate, &EvaluatePage::scoresReady, this, [this, evaluate] {
        QString error;
        if (auto* view = evaluate->findChild<QAbstractItemView*>(QStringLiteral("evaluateScoreView")); view && view->model()->rowCount() > 0)
            view->setCurrentIndex(view->model()->index(0, 0));
        if (!save(m_window, QStringLiteral("evaluate.png"), &error)) {
            m_ok = false;
            m_error = error;
        }
        finish();
    }, Qt::SingleShotConnection);
    connect(evaluate, &EvaluatePage::evaluationFinished, this, [this, evaluate](bool stopped, int failed) {
        if (stopped || failed > 0) {
            disconnect(evaluate, &EvaluatePage::scoresReady, this, nullptr);
            m_ok = false;
            m_error = tr("The evaluation for the screenshot failed: %1").arg(evaluate->statusText());
            finish();
        }
    }, Qt::SingleShotConnection);
    if (!evaluate->startEvaluation()) {
        disconnect(evaluate, nullptr, this, nullptr);
        m_skipped << QStringLiteral("evaluate.png");
        finish();
    }
}

void ScreenshotTour::finish() {
    QString message = m_ok ? tr("Screenshots written to %1").arg(m_folder) : m_error;
    if (m_ok && !m_skipped.isEmpty())
        message += tr(" (skipped %1: no test split or no registered model)").arg(m_skipped.join(QStringLiteral(", ")));
    emit done(m_ok, message);
}
