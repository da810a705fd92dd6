#include "ui/MainWindow.h"

#include "ui/AboutDialog.h"
#include "ui/ComparePage.h"
#include "ui/DataPage.h"
#include "ui/EvaluatePage.h"
#include "ui/LabGuide.h"
#include "ui/ModelRegistry.h"
#include "ui/ModelsPage.h"
#include "ui/RatingPage.h"
#include "ui/RunsPage.h"
#include "ui/SystemPicker.h"
#include "ui/TrainPage.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QStyle>

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("SumLab"));
    setObjectName("mainWindow");

    m_registry = new ModelRegistry(this);
    m_dataPage = new DataPage(m_registry);
    m_modelsPage = new ModelsPage(m_registry);
    m_trainPage = new TrainPage(m_registry);
    m_runsPage = new RunsPage;
    m_comparePage = new ComparePage(m_registry);
    m_evaluatePage = new EvaluatePage(m_registry);
    m_ratingPage = new RatingPage;
    m_labGuide = new LabGuide(this);
    addDockWidget(Qt::RightDockWidgetArea, m_labGuide);
    m_labGuide->hide();  // F1 shows it; restoreState() brings back the user's choice

    buildPageStack();
    buildStatusBar();
    buildMenus();

    connectPages();

    m_registry->restore();
    QSettings settings;
    resize(1280, 820);
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    showPage(settings.value(QStringLiteral("window/page"), DataPageIndex).toInt());
    const QString lastData = settings.value(QStringLiteral("data/lastPath")).toString();
    if (!lastData.isEmpty() && QFileInfo::exists(lastData)) m_dataPage->loadPath(lastData);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildPageStack() {
    auto* central = new QWidget(this);
    auto* layout = new QHBoxLayout(central);
    m_sidebar = new QListWidget(central);
    m_sidebar->setObjectName("sidebar");
    m_sidebar->setAccessibleName(tr("Pages"));
    m_sidebar->setToolTip(tr("Switch pages (Ctrl+1 to Ctrl+%1)").arg(int(PageCount)));
    m_sidebar->setIconSize(QSize(24, 24));
    m_sidebar->setSpacing(2);
    m_pages = new QStackedWidget(central);
    m_pages->setObjectName("pages");
    m_pageEntries = {
        {tr("Data"), tr("&Data"), QStyle::SP_FileDialogDetailedView, tr("DialogSum splits, dialogues and length distributions"), m_dataPage},
        {tr("Models"), tr("&Models"), QStyle::SP_DirIcon, tr("Registered models and LoRA adapters"), m_modelsPage},
        {tr("Train"), tr("&Train"), QStyle::SP_MediaPlay, tr("Set up and run fine-tuning"), m_trainPage},
        {tr("Runs"), tr("&Runs"), QStyle::SP_FileDialogContentsView, tr("Runs in the workspace: curves, comparison, resume"), m_runsPage},
        {tr("Compare"), tr("&Compare"), QStyle::SP_FileDialogListView, tr("One dialogue summarised by several systems side by side"), m_comparePage},
        {tr("Evaluate"), tr("&Evaluate"), QStyle::SP_FileDialogInfoView, tr("ROUGE of several systems on a split, with confidence intervals and deltas"), m_evaluatePage},
        {tr("Rate"), tr("R&ate"), QStyle::SP_DialogYesButton, tr("Blind side-by-side rating of two systems' summaries, merged over raters"), m_ratingPage},
    };
    Q_ASSERT(m_pageEntries.size() == PageCount);
    for (int i = 0; i < m_pageEntries.size(); ++i) {
        const PageEntry& p = m_pageEntries[i];
        auto* item = new QListWidgetItem(style()->standardIcon(static_cast<QStyle::StandardPixmap>(p.icon)), p.name, m_sidebar);
        item->setToolTip(tr("%1 (Ctrl+%2)").arg(p.toolTip).arg(i + 1));
        item->setData(Qt::AccessibleTextRole, p.name);
        m_pages->addWidget(p.page);
    }
    m_sidebar->setFixedWidth(m_sidebar->sizeHintForColumn(0) + 2 * m_sidebar->frameWidth() + 24);
    connect(m_sidebar, &QListWidget::currentRowChanged, m_pages, &QStackedWidget::setCurrentIndex);
    layout->addWidget(m_sidebar);
    layout->addWidget(m_pages, 1);
    setCentralWidget(central);
    setTabOrder(m_sidebar, m_pages);
}

void MainWindow::buildStatusBar() {
    m_jobLabel = new QLabel(tr("No training running"), this);
    m_jobLabel->setObjectName("jobStatusLabel");
    m_jobLabel->setAccessibleName(tr("Running job"));
    m_jobLabel->setToolTip(tr("The training run in progress"));
    m_jobProgress = new QProgressBar(this);
    m_jobProgress->setObjectName("jobProgressBar");
    m_jobProgress->setAccessibleName(tr("Running job progress"));
    m_jobProgress->setToolTip(tr("Progress of the training run"));
    m_jobProgress->setMaximumWidth(160);
    m_jobProgress->hide();
    statusBar()->addPermanentWidget(m_jobLabel);
    statusBar()->addPermanentWidget(m_jobProgress);
    statusBar()->showMessage(tr("Ready"), 3000);
}

void MainWindow::connectPages() {
    const auto showMessage = [this](const QString& message) { statusBar()->showMessage(message, 6000); };
    connect(m_dataPage, &DataPage::statusMessage, this, showMessage);
    connect(m_modelsPage, &ModelsPage::statusMessage, this, showMessage);
    connect(m_trainPage, &TrainPage::statusMessage, this, showMessage);
    connect(m_runsPage, &RunsPage::statusMessage, this, showMessage);
    connect(m_comparePage, &ComparePage::statusMessage, this, showMessage);
    connect(m_evaluatePage, &EvaluatePage::statusMessage, this, showMessage);
    connect(m_dataPage, &DataPage::datasetLoaded, this, [this](const QString& path) {
        m_comparePage->setDataset(m_dataPage->dataset());
        m_evaluatePage->setDataPath(path);
    });
    connect(m_evaluatePage, &EvaluatePage::exampleRequested, this, [this](const CompareExample& example) {
        showPage(ComparePageIndex);
        m_comparePage->showExample(example);
    });
    connect(m_dataPage, &DataPage::datasetLoaded, m_trainPage, &TrainPage::setDatasetInfo);
    connect(m_runsPage, &RunsPage::workspaceChanged, m_trainPage, &TrainPage::setWorkspace);
    m_trainPage->setWorkspace(m_runsPage->workspace());
    connect(m_trainPage, &TrainPage::jobStatusChanged, this, &MainWindow::onJobStatus);
    connect(m_trainPage, &TrainPage::runStarted, m_runsPage, &RunsPage::refresh);
    connect(m_trainPage, &TrainPage::runEnded, m_runsPage, [this] { m_runsPage->refresh(); });
    connect(m_trainPage, &TrainPage::runEnded, this, [this] {
        if (m_closeAfterStop) close();
    });
    connect(m_runsPage, &RunsPage::resumeRequested, this, [this](const QString& dir, const RunCurves& history) {
        showPage(TrainPageIndex);
        m_trainPage->resumeRun(dir, history);
    });
    connect(m_runsPage, &RunsPage::rerunRequested, this, [this](const QString& dir) {
        showPage(TrainPageIndex);
        m_trainPage->rerun(dir);
    });
    // The runs' final models and checkpoints are systems of the Compare and Evaluate pages, from the Runs page's
    // scans (not scanned again); its Compare / Evaluate actions open those pages with the checkpoint chosen.
    const auto feedRunSystems = [this] {
        const QVector<SystemSpec> systems = m_runsPage->runSystems();
        m_comparePage->systemPicker()->setRunSystems(systems);
        m_evaluatePage->systemPicker()->setRunSystems(systems);
    };
    connect(m_runsPage, &RunsPage::refreshed, this, feedRunSystems);
    const auto openWith = [this, feedRunSystems, showMessage](int page, const SystemSpec& system) {
        feedRunSystems();
        showPage(page);
        const bool chosen = page == ComparePageIndex ? m_comparePage->selectSystem(system) : m_evaluatePage->selectSystem(system);
        if (!chosen) showMessage(tr("%1 is no longer in the runs workspace").arg(system.label));
    };
    connect(m_runsPage, &RunsPage::compareRequested, this, [openWith](const SystemSpec& s) { openWith(ComparePageIndex, s); });
    connect(m_runsPage, &RunsPage::evaluateRequested, this, [openWith](const SystemSpec& s) { openWith(EvaluatePageIndex, s); });
    connect(m_ratingPage, &RatingPage::statusMessage, this, showMessage);
    // The Lab guide ticks its steps from what the pages produce, and opens them.
    m_labGuide->watchRegistry(m_registry);
    connect(m_dataPage, &DataPage::datasetLoaded, m_labGuide, &LabGuide::onDatasetLoaded);
    connect(m_trainPage, &TrainPage::runEnded, m_labGuide, &LabGuide::onRunEnded);
    connect(m_comparePage, &ComparePage::generationFinished, m_labGuide, [this](bool stopped) {
        if (!stopped) m_labGuide->onCompared();
    });
    connect(m_evaluatePage, &EvaluatePage::scoresReady, m_labGuide, [this] { m_labGuide->onResultsCsv(m_evaluatePage->resultsPath()); });
    connect(m_ratingPage, &RatingPage::resultsOpened, m_labGuide, &LabGuide::onResultsCsv);
    connect(m_ratingPage, &RatingPage::ratingSaved, m_labGuide, &LabGuide::onRatingSaved);
    connect(m_labGuide, &LabGuide::openStepRequested, this, [this](LabGuide::Step step) { openLabStep(step); });
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setObjectName("quitAction");

    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (int i = 0; i < m_pageEntries.size(); ++i) {
        QAction* a = view->addAction(m_pageEntries[i].menuText, this, [this, i] { showPage(i); });
        a->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
        a->setShortcutContext(Qt::ApplicationShortcut);
        a->setObjectName(QStringLiteral("showPageAction%1").arg(i + 1));
        addAction(a);
    }
    view->addSeparator();
    QAction* guide = m_labGuide->toggleViewAction();
    guide->setText(tr("&Lab Guide"));
    guide->setShortcut(QKeySequence(Qt::Key_F1));
    guide->setShortcutContext(Qt::ApplicationShortcut);
    guide->setObjectName("labGuideAction");
    view->addAction(guide);
    addAction(guide);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* about = help->addAction(tr("&About SumLab"), this, &MainWindow::showAbout);
    about->setObjectName("aboutAction");
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::showPage(int page) {
    if (page < 0 || page >= PageCount) page = DataPageIndex;
    m_sidebar->setCurrentRow(page);
}

int MainWindow::currentPage() const { return m_pages->currentIndex(); }

QString MainWindow::jobText() const { return m_jobLabel->text(); }

void MainWindow::showAbout() {
    AboutDialog dialog(this);
    dialog.exec();
}

void MainWindow::onJobStatus(const QString& text, int percent, bool active) {
    m_jobLabel->setText(text);
    m_jobProgress->setVisible(active);
    if (percent < 0) m_jobProgress->setRange(0, 0);
    else {
        m_jobProgress->setRange(0, 100);
        m_jobProgress->setValue(percent);
    }
}

void MainWindow::saveSettings() const {
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/page"), currentPage());
    m_dataPage->saveSettings();
    m_trainPage->saveSettings();
    m_ratingPage->saveSettings();
}

void MainWindow::openLabStep(int step) {
    switch (static_cast<LabGuide::Step>(step)) {
        case LabGuide::LoadData: showPage(DataPageIndex); break;
        case LabGuide::ZeroShot:
            // Zero-shot needs a registered model first; then the Compare page generates with it.
            showPage(m_registry->readyEntries(ModelKind::Model).isEmpty() ? ModelsPageIndex : ComparePageIndex);
            break;
        case LabGuide::FullFineTune:
        case LabGuide::TrainLora:
            showPage(TrainPageIndex);
            if (const int preset = LabGuide::presetFor(static_cast<LabGuide::Step>(step)); preset >= 0 && !m_trainPage->isTraining())
                m_trainPage->applyPreset(preset);
            break;
        case LabGuide::Compare: showPage(ComparePageIndex); break;
        case LabGuide::Evaluate: showPage(EvaluatePageIndex); break;
        case LabGuide::Rate:
            // The results CSV the Evaluate page wrote is the natural one to rate.
            if (m_ratingPage->resultsPath().isEmpty() && !m_evaluatePage->resultsPath().isEmpty())
                m_ratingPage->openResults(m_evaluatePage->resultsPath());
            showPage(RatePageIndex);
            break;
        case LabGuide::StepCount: break;
    }
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_trainPage->isTraining()) {
        if (!m_closeAfterStop) {
            const auto answer = QMessageBox::question(this, tr("Training in Progress"),
                                                      tr("A run is training. Stop it (a checkpoint is saved, so it can be resumed) and quit?"),
                                                      QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
            if (answer != QMessageBox::Yes) {
                event->ignore();
                return;
            }
            m_closeAfterStop = true;
            m_trainPage->stopTraining();
        }
        statusBar()->showMessage(tr("Saving a checkpoint before quitting …"));
        event->ignore();
        return;
    }
    saveSettings();
    event->accept();
}
