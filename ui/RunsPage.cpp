#include "ui/RunsPage.h"

#include "ui/Accessible.h"
#include "ui/ConfigDiffModel.h"
#include "ui/LossPlotWidget.h"
#include "ui/RougePlotWidget.h"
#include "ui/RunListModel.h"
#include "ui/RunScanner.h"
#include "ui/SystemPicker.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QFileSystemWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSettings>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

#include <algorithm>

RunsPage::RunsPage(QWidget* parent) : QWidget(parent) {
    setObjectName("runsPage");
    setAccessibleName(tr("Runs page"));

    m_thread.setObjectName(QStringLiteral("RunScanner"));
    m_scanner = new RunScanner;
    m_scanner->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_scanner, &QObject::deleteLater);
    connect(m_scanner, &RunScanner::scanned, this, &RunsPage::onScanned);
    m_thread.start();

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(buildWorkspaceRow());

    m_summaryLabel = new QLabel(this);
    m_summaryLabel->setWordWrap(true);
    Accessible::describe(m_summaryLabel, "runsSummaryLabel", tr("Runs summary"), tr("How many runs the workspace holds"));
    layout->addWidget(m_summaryLabel);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->setChildrenCollapsible(false);
    QWidget* listBox = buildRunList(splitter);
    QTabWidget* tabs = buildDetailsTabs(splitter);
    splitter->addWidget(listBox);
    splitter->addWidget(tabs);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    layout->addWidget(splitter, 1);

    startLiveWatch();
    connectControls();

    setTabOrder(m_workspaceEdit, m_browseButton);
    setTabOrder(m_browseButton, m_refreshButton);
    setTabOrder(m_refreshButton, m_view);
    setTabOrder(m_view, m_resumeButton);
    setTabOrder(m_resumeButton, m_rerunButton);
    setTabOrder(m_rerunButton, m_revealButton);
    setTabOrder(m_revealButton, m_checkpointCombo);
    setTabOrder(m_checkpointCombo, m_compareButton);
    setTabOrder(m_compareButton, m_evaluateButton);
    setTabOrder(m_evaluateButton, tabs);

    updateButtons();
    setWorkspace(QSettings().value(QStringLiteral("runs/workspace"), defaultWorkspace()).toString());
}

// The workspace folder, Browse and Refresh.
QLayout* RunsPage::buildWorkspaceRow() {
    auto* top = new QHBoxLayout;
    auto* workspaceLabel = new QLabel(tr("&Workspace:"), this);
    m_workspaceEdit = new QLineEdit(this);
    Accessible::describe(m_workspaceEdit, "workspaceEdit", tr("Workspace folder"),
                         tr("The folder that holds run folders; new runs from the Train page go here. Press Enter to apply."));
    workspaceLabel->setBuddy(m_workspaceEdit);
    m_browseButton = new QPushButton(tr("&Browse…"), this);
    Accessible::describe(m_browseButton, "workspaceBrowseButton", tr("Choose workspace"), tr("Choose the workspace folder"));
    m_refreshButton = new QPushButton(tr("Re&fresh"), this);
    Accessible::describe(m_refreshButton, "refreshRunsButton", tr("Refresh runs"), tr("Read the workspace again (F5)"));
    m_refreshButton->setShortcut(QKeySequence::Refresh);
    top->addWidget(workspaceLabel);
    top->addWidget(m_workspaceEdit, 1);
    top->addWidget(m_browseButton);
    top->addWidget(m_refreshButton);
    return top;
}

// The runs table with Resume, Re-run and Reveal Folder under it, and the checkpoint to compare or evaluate.
QWidget* RunsPage::buildRunList(QWidget* parent) {
    auto* listBox = new QWidget(parent);
    auto* listLayout = new QVBoxLayout(listBox);
    listLayout->setContentsMargins(0, 0, 0, 0);
    m_model = new RunListModel(this);
    m_view = new QTableView(listBox);
    Accessible::describe(m_view, "runsView", tr("Runs"), tr("Runs in the workspace; select one to see its curves, several to compare them"));
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->verticalHeader()->hide();
    m_view->setAlternatingRowColors(true);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setSectionResizeMode(RunListModel::NameColumn, QHeaderView::Stretch);
    listLayout->addWidget(m_view, 1);
    auto* buttons = new QHBoxLayout;
    m_resumeButton = new QPushButton(tr("Res&ume"), listBox);
    Accessible::describe(m_resumeButton, "resumeRunButton", tr("Resume run"), tr("Continue the selected stopped run from its newest checkpoint"));
    m_rerunButton = new QPushButton(tr("Re-ru&n"), listBox);
    Accessible::describe(m_rerunButton, "rerunButton", tr("Re-run"), tr("Start a new run with the selected run's configuration"));
    m_revealButton = new QPushButton(tr("Reveal &Folder"), listBox);
    Accessible::describe(m_revealButton, "revealRunButton", tr("Reveal run folder"), tr("Open the selected run's folder in the file manager"));
    buttons->addWidget(m_resumeButton);
    buttons->addWidget(m_rerunButton);
    buttons->addWidget(m_revealButton);
    buttons->addStretch(1);
    auto* checkpointLabel = new QLabel(tr("Chec&kpoint:"), listBox);
    m_checkpointCombo = new QComboBox(listBox);
    // Sized for "checkpoint-1000 ★", not to its longest entry, so the row never widens the window.
    m_checkpointCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_checkpointCombo->setMinimumContentsLength(12);
    Accessible::describe(m_checkpointCombo, "runCheckpointCombo", tr("Checkpoint"),
                         tr("The selected run's final model or adapter, or one of its checkpoints (★ the best), to compare or evaluate"));
    checkpointLabel->setBuddy(m_checkpointCombo);
    m_compareButton = new QPushButton(tr("Com&pare"), listBox);
    Accessible::describe(m_compareButton, "compareCheckpointButton", tr("Compare checkpoint"),
                         tr("Open the Compare page with the chosen checkpoint as one of its systems"));
    m_evaluateButton = new QPushButton(tr("E&valuate"), listBox);
    Accessible::describe(m_evaluateButton, "evaluateCheckpointButton", tr("Evaluate checkpoint"),
                         tr("Open the Evaluate page with the chosen checkpoint as one of its systems"));
    buttons->addWidget(checkpointLabel);
    buttons->addWidget(m_checkpointCombo);
    buttons->addWidget(m_compareButton);
    buttons->addWidget(m_evaluateButton);
    listLayout->addLayout(buttons);
    buildContextMenu();
    return listBox;
}

// The runs table's context menu: the buttons' actions, for the run under the cursor (a right click selects it).
void RunsPage::buildContextMenu() {
    auto addAction = [this](const QString& text, const char* name, void (RunsPage::*slot)()) {
        auto* action = new QAction(text, m_view);
        action->setObjectName(QString::fromLatin1(name));
        connect(action, &QAction::triggered, this, slot);
        m_view->addAction(action);
        return action;
    };
    addAction(tr("Resume"), "resumeRunAction", &RunsPage::resumeSelected);
    addAction(tr("Re-run"), "rerunAction", &RunsPage::rerunSelected);
    addAction(tr("Reveal Folder"), "revealRunAction", &RunsPage::revealSelected);
    auto* separator = new QAction(m_view);
    separator->setSeparator(true);
    m_view->addAction(separator);
    m_compareAction = addAction(tr("Compare Checkpoint"), "compareCheckpointAction", &RunsPage::compareSelected);
    m_evaluateAction = addAction(tr("Evaluate Checkpoint"), "evaluateCheckpointAction", &RunsPage::evaluateSelected);
    m_view->setContextMenuPolicy(Qt::ActionsContextMenu);
}

// The selected runs' curves, evaluations and configuration.
QTabWidget* RunsPage::buildDetailsTabs(QWidget* parent) {
    auto* tabs = new QTabWidget(parent);
    Accessible::describe(tabs, "runDetailsTabs", tr("Run details"), tr("Curves and configuration of the selected runs"));
    auto* curves = new QSplitter(Qt::Horizontal, tabs);
    curves->setChildrenCollapsible(false);
    m_plot = new LossPlotWidget(curves);
    m_plot->setObjectName("runsLossPlot");
    m_rougePlot = new RougePlotWidget(curves);
    m_rougePlot->setObjectName("runsRougePlot");
    m_rougePlot->hide();
    curves->addWidget(m_plot);
    curves->addWidget(m_rougePlot);
    curves->setStretchFactor(0, 3);
    curves->setStretchFactor(1, 2);
    tabs->addTab(curves, tr("&Curves"));
    tabs->addTab(buildEvaluationsTab(tabs), tr("&Evaluations"));
    tabs->addTab(buildConfigurationTab(tabs), tr("C&onfiguration"));
    return tabs;
}

// The selected run's best checkpoint and its evaluations with their kept summaries.
QWidget* RunsPage::buildEvaluationsTab(QWidget* tabs) {
    auto* evalTab = new QWidget(tabs);
    auto* evalLayout = new QVBoxLayout(evalTab);
    m_bestLabel = new QLabel(evalTab);
    m_bestLabel->setWordWrap(true);
    Accessible::describe(m_bestLabel, "bestCheckpointLabel", tr("Best checkpoint"), tr("The selected run's best checkpoint by metric_for_best_model"));
    m_evaluations = new QTreeWidget(evalTab);
    Accessible::describe(m_evaluations, "evaluationsTree", tr("Evaluations"),
                         tr("Each evaluation of the selected run with its loss and ROUGE; expand one to read the summaries generated then"));
    m_evaluations->setColumnCount(8);
    m_evaluations->setHeaderLabels({tr("Step"), tr("Epoch"), tr("Eval loss"), tr("ROUGE-1"), tr("ROUGE-2"), tr("ROUGE-L"), tr("ROUGE-Lsum"), tr("Best")});
    m_evaluations->setAlternatingRowColors(true);
    m_evaluations->setWordWrap(true);
    evalLayout->addWidget(m_bestLabel);
    evalLayout->addWidget(m_evaluations, 1);
    return evalTab;
}

// The selected runs' run.json settings side by side.
QWidget* RunsPage::buildConfigurationTab(QWidget* tabs) {
    auto* configTab = new QWidget(tabs);
    auto* configLayout = new QVBoxLayout(configTab);
    m_onlyDifferencesCheck = new QCheckBox(tr("Only settings that &differ"), configTab);
    m_onlyDifferencesCheck->setChecked(true);
    Accessible::describe(m_onlyDifferencesCheck, "onlyDifferencesCheck", tr("Only differences"),
                         tr("With several runs selected, list only the settings whose values differ"));
    m_diff = new ConfigDiffModel(this);
    m_diffView = new QTableView(configTab);
    Accessible::describe(m_diffView, "configDiffView", tr("Configuration comparison"), tr("The selected runs' run.json settings side by side"));
    m_diffView->setModel(m_diff);
    m_diffView->verticalHeader()->hide();
    m_diffView->setAlternatingRowColors(true);
    m_diffView->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_diffView->horizontalHeader()->setStretchLastSection(true);
    configLayout->addWidget(m_onlyDifferencesCheck);
    configLayout->addWidget(m_diffView, 1);
    return configTab;
}

// Live runs are re-read when their folder changes (debounced) and polled while one is live or the page shows.
void RunsPage::startLiveWatch() {
    m_watcher = new QFileSystemWatcher(this);
    m_debounce = new QTimer(this);
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(300);
    m_pollTimer = new QTimer(this);
    m_pollTimer->setInterval(2000);
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, m_debounce, qOverload<>(&QTimer::start));
    connect(m_watcher, &QFileSystemWatcher::fileChanged, m_debounce, qOverload<>(&QTimer::start));
    connect(m_debounce, &QTimer::timeout, this, &RunsPage::refresh);
    // Re-attach: while a run is live (here or in another process), poll it even when no file event arrives.
    connect(m_pollTimer, &QTimer::timeout, this, [this] {
        if (m_model->hasLiveRun() || isVisible()) refresh();
    });
    m_pollTimer->start();
}

void RunsPage::connectControls() {
    connect(m_workspaceEdit, &QLineEdit::returnPressed, this, [this] { setWorkspace(m_workspaceEdit->text().trimmed()); });
    connect(m_browseButton, &QPushButton::clicked, this, &RunsPage::browseWorkspace);
    connect(m_refreshButton, &QPushButton::clicked, this, &RunsPage::refresh);
    connect(m_resumeButton, &QPushButton::clicked, this, &RunsPage::resumeSelected);
    connect(m_rerunButton, &QPushButton::clicked, this, &RunsPage::rerunSelected);
    connect(m_revealButton, &QPushButton::clicked, this, &RunsPage::revealSelected);
    connect(m_compareButton, &QPushButton::clicked, this, &RunsPage::compareSelected);
    connect(m_evaluateButton, &QPushButton::clicked, this, &RunsPage::evaluateSelected);
    connect(m_checkpointCombo, &QComboBox::currentIndexChanged, this, &RunsPage::updateButtons);
    // An evaluation row picks the checkpoint saved at its step, when there is one.
    connect(m_evaluations, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        while (item && item->parent()) item = item->parent();
        if (item) chooseCheckpoint(QStringLiteral("checkpoint-%1").arg(item->data(0, Qt::UserRole).toLongLong()));
    });
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &RunsPage::showSelection);
    connect(m_onlyDifferencesCheck, &QCheckBox::toggled, this, [this](bool only) {
        m_diff->setOnlyDifferences(only);
        m_diffView->resizeColumnsToContents();
    });
}

RunsPage::~RunsPage() {
    m_thread.quit();
    m_thread.wait();
}

QString RunsPage::defaultWorkspace() { return QDir(QDir::homePath()).filePath(QStringLiteral("SumLab/runs")); }

void RunsPage::setWorkspace(const QString& folder) {
    const QString clean = folder.isEmpty() ? defaultWorkspace() : QDir::cleanPath(QDir(folder).absolutePath());
    m_workspaceEdit->setText(clean);
    if (clean == m_workspace) {
        refresh();
        return;
    }
    m_workspace = clean;
    QSettings().setValue(QStringLiteral("runs/workspace"), clean);
    if (!m_watcher->directories().isEmpty()) m_watcher->removePaths(m_watcher->directories());
    if (!m_watcher->files().isEmpty()) m_watcher->removePaths(m_watcher->files());
    if (QFileInfo(clean).isDir()) m_watcher->addPath(clean);
    m_model->setRuns({});
    emit workspaceChanged(clean);
    refresh();
}

void RunsPage::browseWorkspace() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Runs Workspace"), m_workspace);
    if (!dir.isEmpty()) setWorkspace(dir);
}

void RunsPage::refresh() {
    // One scan at a time; a request during a scan is served by one more scan afterwards.
    if (m_scanPending) {
        m_debounce->start();
        return;
    }
    m_scanPending = true;
    const int id = ++m_scanRequest;
    const QString workspace = m_workspace;
    QMetaObject::invokeMethod(m_scanner, [scanner = m_scanner, id, workspace] { scanner->scan(id, workspace); }, Qt::QueuedConnection);
}

void RunsPage::onScanned(int requestId, const QString& workspace, const QVector<RunRecord>& runs) {
    if (requestId == m_scanRequest) m_scanPending = false;
    if (workspace != m_workspace) return;
    if (QFileInfo(m_workspace).isDir() && !m_watcher->directories().contains(m_workspace)) m_watcher->addPath(m_workspace);
    m_model->setRuns(runs);
    int live = 0;
    for (const RunRecord& r : runs) live += (r.state == sumlab::RunStatus::running || r.state == sumlab::RunStatus::paused) ? 1 : 0;
    if (!QFileInfo(m_workspace).isDir())
        m_summaryLabel->setText(tr("The workspace folder does not exist yet; it is created when the first run starts."));
    else if (runs.isEmpty())
        m_summaryLabel->setText(tr("No runs in this workspace yet: start one on the Train page."));
    else
        m_summaryLabel->setText((runs.size() == 1 ? tr("1 run") : tr("%1 runs").arg(runs.size())) + (live > 0 ? tr(", %1 live").arg(live) : QString()) +
                                tr(". Select several to overlay their curves and compare their configurations."));
    watchLiveRuns();
    showSelection();
    emit refreshed();
}

void RunsPage::watchLiveRuns() {
    QStringList wanted;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        const RunRecord& r = m_model->run(row);
        if (r.state == sumlab::RunStatus::running || r.state == sumlab::RunStatus::paused) wanted << QDir(r.dir).filePath(QStringLiteral("metrics.jsonl"));
    }
    const QStringList current = m_watcher->files();
    for (const QString& f : current)
        if (!wanted.contains(f)) m_watcher->removePath(f);
    for (const QString& f : wanted)
        if (!current.contains(f) && QFileInfo::exists(f)) m_watcher->addPath(f);
}

QVector<int> RunsPage::selectedRows() const {
    QVector<int> rows;
    for (const QModelIndex& i : m_view->selectionModel()->selectedRows()) rows << i.row();
    std::sort(rows.begin(), rows.end());
    return rows;
}

bool RunsPage::selectRun(const QString& dir) {
    const int row = m_model->rowOfDir(QDir::cleanPath(dir));
    if (row < 0) return false;
    m_view->selectionModel()->select(m_model->index(row, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_view->setCurrentIndex(m_model->index(row, 0));
    return true;
}

void RunsPage::showSelection() {
    const QVector<int> rows = selectedRows();
    QVector<RunRecord> runs;
    QVector<RunCurves> curves;
    QStringList dirs;
    QString signature;
    for (int row : rows) {
        const RunRecord& r = m_model->run(row);
        runs << r;
        curves << r.curves;
        dirs << r.dir;
        signature += QStringLiteral("%1|%2|%3|%4|%5;").arg(r.dir).arg(r.curves.steps.size()).arg(r.curves.evals.size()).arg(static_cast<int>(r.state)).arg(r.config.size());
    }
    updateButtons();
    if (signature == m_shownSignature) return;  // a poll that found nothing new
    // The same runs as before with more points (a live update): keep the user's zoom.
    m_plot->setRuns(curves, dirs == m_shownDirs);
    m_rougePlot->setRuns(curves);
    m_rougePlot->setVisible(m_rougePlot->hasData());
    showEvaluations(runs);
    m_shownDirs = dirs;
    m_shownSignature = signature;
    m_diff->setRuns(runs);
    m_diffView->resizeColumnsToContents();
}

void RunsPage::showEvaluations(const QVector<RunRecord>& runs) {
    m_evaluations->clear();
    if (runs.size() != 1) {
        m_bestLabel->setText(runs.isEmpty() ? tr("Select a run to see its evaluations.") : tr("Select one run to see its evaluations."));
        return;
    }
    const RunRecord& r = runs.front();
    const QLocale locale;
    const qint64 best = r.bestStep();
    m_bestLabel->setText(best >= 0 ? tr("Best checkpoint: checkpoint-%1 (%2 %3), marked ★ below.")
                                         .arg(best)
                                         .arg(r.bestMetricName, locale.toString(r.bestMetric, 'g', 6))
                                   : r.curves.evals.isEmpty() ? tr("This run has no evaluations.") : tr("No best checkpoint is tracked (metric_for_best_model not set)."));
    for (const sumlab::EvalMetrics& e : r.curves.evals) {
        auto* item = new QTreeWidgetItem(m_evaluations);
        item->setText(0, locale.toString(e.step));
        item->setData(0, Qt::UserRole, QVariant::fromValue<qint64>(e.step));
        item->setText(1, locale.toString(e.epoch, 'f', 2));
        item->setText(2, locale.toString(e.eval_loss, 'f', 4));
        if (e.has_rouge) {
            item->setText(3, locale.toString(e.eval_rouge1, 'f', 4));
            item->setText(4, locale.toString(e.eval_rouge2, 'f', 4));
            item->setText(5, locale.toString(e.eval_rougeL, 'f', 4));
            item->setText(6, locale.toString(e.eval_rougeLsum, 'f', 4));
        }
        if (e.step == best) item->setText(7, QStringLiteral("★"));
        for (const sumlab::EvalPredictions& p : r.predictions) {
            if (p.step != e.step) continue;
            for (const sumlab::EvalPrediction& example : p.examples) {
                auto* child = new QTreeWidgetItem(item);
                child->setFirstColumnSpanned(true);
                child->setText(0, tr("%1: %2\n    reference: %3")
                                      .arg(QString::fromStdString(example.id), QString::fromStdString(example.prediction),
                                           QString::fromStdString(example.reference)));
                child->setToolTip(0, child->text(0));
            }
        }
    }
    for (int c = 0; c < 8; ++c) m_evaluations->resizeColumnToContents(c);
}

QVector<SystemSpec> RunsPage::runSystems() const {
    QVector<SystemSpec> out;
    for (int row = 0; row < m_model->rowCount(); ++row) out += SystemPicker::systemsOfRun(m_model->run(row));
    return out;
}

SystemSpec RunsPage::chosenCheckpoint() const {
    const int i = m_checkpointCombo->currentIndex();
    return i >= 0 && i < m_checkpointSystems.size() ? m_checkpointSystems[i] : SystemSpec{};
}

bool RunsPage::chooseCheckpoint(const QString& name) {
    for (int i = 0; i < m_checkpointSystems.size(); ++i) {
        const SystemSpec& s = m_checkpointSystems[i];
        if (QFileInfo(s.adapterDir.isEmpty() ? s.modelDir : s.adapterDir).fileName() == name) {
            m_checkpointCombo->setCurrentIndex(i);
            return true;
        }
    }
    return false;
}

void RunsPage::updateCheckpoints(const RunRecord* run) {
    const QVector<SystemSpec> systems = run ? SystemPicker::systemsOfRun(*run) : QVector<SystemSpec>{};
    if (systems == m_checkpointSystems) return;  // a poll that changed nothing keeps the user's choice
    const SystemSpec previous = chosenCheckpoint();
    const QSignalBlocker block(m_checkpointCombo);
    m_checkpointSystems = systems;
    m_checkpointCombo->clear();
    int choice = -1;
    const qint64 best = run ? run->bestStep() : -1;
    for (int i = 0; i < systems.size(); ++i) {
        const SystemSpec& s = systems[i];
        const QString folder = s.adapterDir.isEmpty() ? s.modelDir : s.adapterDir;
        const QString name = QFileInfo(folder).fileName();
        m_checkpointCombo->addItem(name == QStringLiteral("checkpoint-%1").arg(best) ? name + QStringLiteral(" ★") : name);
        m_checkpointCombo->setItemData(i, folder, Qt::ToolTipRole);
        if (s.modelDir == previous.modelDir && s.adapterDir == previous.adapterDir) choice = i;
    }
    if (choice >= 0) m_checkpointCombo->setCurrentIndex(choice);
    // Else final/ when the run wrote it (listed first), else the best checkpoint, else the newest (listed first).
    else if (!run || !run->finalDir.isEmpty() || !chooseCheckpoint(QStringLiteral("checkpoint-%1").arg(best)))
        m_checkpointCombo->setCurrentIndex(systems.isEmpty() ? -1 : 0);
}

void RunsPage::updateButtons() {
    const QVector<int> rows = selectedRows();
    const bool one = rows.size() == 1;
    const RunRecord* r = one ? &m_model->run(rows.front()) : nullptr;
    updateCheckpoints(r);
    const bool hasCheckpoint = chosenCheckpoint().isValid();
    m_checkpointCombo->setEnabled(!m_checkpointSystems.isEmpty());
    m_compareButton->setEnabled(hasCheckpoint);
    m_evaluateButton->setEnabled(hasCheckpoint);
    m_compareAction->setEnabled(hasCheckpoint);
    m_evaluateAction->setEnabled(hasCheckpoint);
    const QString chosen = m_checkpointCombo->currentText();
    m_compareAction->setText(hasCheckpoint ? tr("Compare %1").arg(chosen) : tr("Compare Checkpoint"));
    m_evaluateAction->setText(hasCheckpoint ? tr("Evaluate %1").arg(chosen) : tr("Evaluate Checkpoint"));
    for (QAction* a : m_view->actions()) {
        if (a->objectName() == QLatin1String("resumeRunAction")) a->setEnabled(r && r->canResume());
        else if (a->objectName() == QLatin1String("rerunAction")) a->setEnabled(r && r->isReadable);
        else if (a->objectName() == QLatin1String("revealRunAction")) a->setEnabled(one);
    }
    m_resumeButton->setEnabled(r && r->canResume());
    m_rerunButton->setEnabled(r && r->isReadable);
    m_revealButton->setEnabled(one);
    if (r && !r->isReadable) m_resumeButton->setToolTip(r->readError);
    else m_resumeButton->setToolTip(tr("Continue the selected stopped run from its newest checkpoint"));
}

void RunsPage::resumeSelected() {
    const QVector<int> rows = selectedRows();
    if (rows.size() != 1) return;
    const RunRecord& r = m_model->run(rows.front());
    if (!r.canResume()) return;
    // The trainer rewinds metrics.jsonl to the checkpoint; the curve it continues is the one up to there.
    RunCurves history;
    history.name = r.name;
    const qint64 step = r.checkpointStep();
    for (const sumlab::StepMetrics& p : r.curves.steps)
        if (p.step <= step) history.steps << p;
    for (const sumlab::EvalMetrics& e : r.curves.evals)
        if (e.step <= step) history.evals << e;
    emit resumeRequested(r.dir, history);
}

void RunsPage::rerunSelected() {
    const QVector<int> rows = selectedRows();
    if (rows.size() == 1) emit rerunRequested(m_model->run(rows.front()).dir);
}

void RunsPage::compareSelected() {
    const SystemSpec s = chosenCheckpoint();
    if (s.isValid()) emit compareRequested(s);
}

void RunsPage::evaluateSelected() {
    const SystemSpec s = chosenCheckpoint();
    if (s.isValid()) emit evaluateRequested(s);
}

void RunsPage::revealSelected() {
    const QVector<int> rows = selectedRows();
    if (rows.size() != 1) return;
    const QString dir = m_model->run(rows.front()).dir;
    if (!QDesktopServices::openUrl(QUrl::fromLocalFile(dir))) emit statusMessage(tr("No file manager could open %1").arg(dir));
}
