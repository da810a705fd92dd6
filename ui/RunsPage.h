// RunsPage: every run folder of a workspace with its status, method, key hyper-parameters, last losses,
// ROUGE-L and best checkpoint (read on a RunScanner thread). Selecting runs shows their curves (loss and,
// with predict_with_generate, ROUGE; several overlay), a configuration diff, and for one run its
// evaluations with the kept generated summaries of each, the best checkpoint marked; a stopped run can be resumed, any run re-run with the same configuration, its folder revealed,
// and its final model or one of its checkpoints opened as a system on the Compare or Evaluate page.
// Live runs are re-read while they change (file watcher plus a poll), so curves grow as metrics.jsonl does.
#pragma once

#include "ui/QtWidgetsFwd.h"
#include "ui/RunRecord.h"
#include "ui/SystemSpec.h"

#include <QThread>
#include <QWidget>

class ConfigDiffModel;
class LossPlotWidget;
class QFileSystemWatcher;
class QLayout;
class QAction;
class QTimer;
class QTreeWidget;
class RougePlotWidget;
class RunListModel;
class RunScanner;

class RunsPage : public QWidget {
    Q_OBJECT
public:
    explicit RunsPage(QWidget* parent = nullptr);
    ~RunsPage() override;

    QString workspace() const { return m_workspace; }
    RunListModel* runModel() const { return m_model; }
    ConfigDiffModel* configDiffModel() const { return m_diff; }
    LossPlotWidget* lossPlot() const { return m_plot; }
    RougePlotWidget* rougePlot() const { return m_rougePlot; }
    // One top-level item per evaluation of the selected run (step, epoch, eval loss, ROUGE, best mark),
    // its kept summaries as children.
    QTreeWidget* evaluationsTree() const { return m_evaluations; }
    QTableView* runsView() const { return m_view; }
    // Selects the run in folder `dir` (false when it is not listed).
    bool selectRun(const QString& dir);
    // The final/ and checkpoints of every listed run as systems (SystemPicker::systemsOfRun), in list order.
    QVector<SystemSpec> runSystems() const;
    // The selected run's final/ or checkpoint the Compare and Evaluate actions open (invalid when none).
    SystemSpec chosenCheckpoint() const;
    // Chooses the selected run's folder named `name` ("final", "checkpoint-140"); false when it has none.
    bool chooseCheckpoint(const QString& name);

    // The default workspace: ~/SumLab/runs.
    static QString defaultWorkspace();

public slots:
    void setWorkspace(const QString& folder);
    // Scans the workspace again now.
    void refresh();

signals:
    void workspaceChanged(const QString& folder);
    void resumeRequested(const QString& runDir, const RunCurves& history);
    void rerunRequested(const QString& runDir);
    // Compare / Evaluate for the chosen checkpoint: MainWindow opens that page with this system chosen.
    void compareRequested(const SystemSpec& system);
    void evaluateRequested(const SystemSpec& system);
    void statusMessage(const QString& message);
    // A scan finished and the list shows its result.
    void refreshed();

private slots:
    void onScanned(int requestId, const QString& workspace, const QVector<RunRecord>& runs);
    void showSelection();
    void resumeSelected();
    void rerunSelected();
    void revealSelected();
    void compareSelected();
    void evaluateSelected();
    void browseWorkspace();

private:
    QLayout* buildWorkspaceRow();
    QWidget* buildRunList(QWidget* parent);
    QTabWidget* buildDetailsTabs(QWidget* parent);
    QWidget* buildEvaluationsTab(QWidget* tabs);
    QWidget* buildConfigurationTab(QWidget* tabs);
    void startLiveWatch();
    void connectControls();
    QVector<int> selectedRows() const;
    void updateButtons();
    // Lists the selected run's final/ and checkpoints in the checkpoint combo, keeping the choice when it stays.
    void updateCheckpoints(const RunRecord* run);
    void buildContextMenu();
    void watchLiveRuns();
    void showEvaluations(const QVector<RunRecord>& runs);

    QThread m_thread;
    RunScanner* m_scanner = nullptr;
    int m_scanRequest = 0;
    bool m_scanPending = false;
    QString m_workspace;

    QLineEdit* m_workspaceEdit = nullptr;
    QPushButton* m_browseButton = nullptr;
    QPushButton* m_refreshButton = nullptr;
    QLabel* m_summaryLabel = nullptr;
    RunListModel* m_model = nullptr;
    QTableView* m_view = nullptr;
    QPushButton* m_resumeButton = nullptr;
    QPushButton* m_rerunButton = nullptr;
    QPushButton* m_revealButton = nullptr;
    QComboBox* m_checkpointCombo = nullptr;
    QPushButton* m_compareButton = nullptr;
    QPushButton* m_evaluateButton = nullptr;
    QAction* m_compareAction = nullptr;
    QAction* m_evaluateAction = nullptr;
    QVector<SystemSpec> m_checkpointSystems;  // what m_checkpointCombo lists, in its order
    LossPlotWidget* m_plot = nullptr;
    RougePlotWidget* m_rougePlot = nullptr;
    QTreeWidget* m_evaluations = nullptr;
    QLabel* m_bestLabel = nullptr;
    ConfigDiffModel* m_diff = nullptr;
    QTableView* m_diffView = nullptr;
    QCheckBox* m_onlyDifferencesCheck = nullptr;
    QFileSystemWatcher* m_watcher = nullptr;
    QTimer* m_pollTimer = nullptr;
    QTimer* m_debounce = nullptr;
    QStringList m_shownDirs;
    QString m_shownSignature;
};
