#include "ui/MainWindow.h"

#include "ui/AboutDialog.h"
#include "ui/DataPage.h"
#include "ui/ModelRegistry.h"
#include "ui/ModelsPage.h"
#include "ui/RunsPage.h"
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

    auto* central = new QWidget(this);
    auto* layout = new QHBoxLayout(central);
    m_sidebar = new QListWidget(central);
    m_sidebar->setObjectName("sidebar");
    m_sidebar->setAccessibleName(tr("Pages"));
    m_sidebar->setToolTip(tr("Switch pages (Ctrl+1 to Ctrl+4)"));
    m_sidebar->setIconSize(QSize(24, 24));
    m_sidebar->setSpacing(2);
    m_pages = new QStackedWidget(central);
    m_pages->setObjectName("pages");
    const struct {
        QString name;
        QStyle::StandardPixmap icon;
        QString tip;
        QWidget* page;
    } pages[] = {
        {tr("Data"), QStyle::SP_FileDialogDetailedView, tr("DialogSum splits, dialogues and length distributions (Ctrl+1)"), m_dataPage},
        {tr("Models"), QStyle::SP_DirIcon, tr("Registered models and LoRA adapters (Ctrl+2)"), m_modelsPage},
        {tr("Train"), QStyle::SP_MediaPlay, tr("Set up and run fine-tuning (Ctrl+3)"), m_trainPage},
        {tr("Runs"), QStyle::SP_FileDialogContentsView, tr("Runs in the workspace: curves, comparison, resume (Ctrl+4)"), m_runsPage},
    };
    for (const auto& p : pages) {
        auto* item = new QListWidgetItem(style()->standardIcon(p.icon), p.name, m_sidebar);
        item->setToolTip(p.tip);
        item->setData(Qt::AccessibleTextRole, p.name);
        m_pages->addWidget(p.page);
    }
    m_sidebar->setFixedWidth(m_sidebar->sizeHintForColumn(0) + 2 * m_sidebar->frameWidth() + 24);
    connect(m_sidebar, &QListWidget::currentRowChanged, m_pages, &QStackedWidget::setCurrentIndex);
    layout->addWidget(m_sidebar);
    layout->addWidget(m_pages, 1);
    setCentralWidget(central);
    setTabOrder(m_sidebar, m_pages);

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

    buildMenus();

    // Pages speak through signals; this is the only place that knows them all.
    const auto showMessage = [this](const QString& message) { statusBar()->showMessage(message, 6000); };
    connect(m_dataPage, &DataPage::statusMessage, this, showMessage);
    connect(m_modelsPage, &ModelsPage::statusMessage, this, showMessage);
    connect(m_trainPage, &TrainPage::statusMessage, this, showMessage);
    connect(m_runsPage, &RunsPage::statusMessage, this, showMessage);
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

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setObjectName("quitAction");

    QMenu* view = menuBar()->addMenu(tr("&View"));
    const QString names[] = {tr("&Data"), tr("&Models"), tr("&Train"), tr("&Runs")};
    for (int i = 0; i < PageCount; ++i) {
        QAction* a = view->addAction(names[i], this, [this, i] { showPage(i); });
        a->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
        a->setShortcutContext(Qt::ApplicationShortcut);
        a->setObjectName(QStringLiteral("showPageAction%1").arg(i + 1));
        addAction(a);
    }

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
