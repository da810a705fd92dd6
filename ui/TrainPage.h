// TrainPage: sets up and runs a fine-tuning run. The form comes from the engine's settings table
// (TrainingSettingsForm), with presets, the model (from the ModelRegistry) and the data; a live estimate
// (TrainEstimatePanel) shows trainable parameters, saved sizes, the memory of a step and, once "Time a step"
// measured one on this machine (on a thread of its own), the time per step and for the run. Start/Pause/Resume/Stop
// drive a TrainingWorker on its own thread; its metrics feed the TrainRunMonitor (progress, plots, log).
#pragma once

#include "ui/TrainEstimatePanel.h"
#include "ui/TrainingEstimate.h"
#include "ui/TrainingMetrics.h"

#include <QJsonObject>
#include <QVariantMap>
#include <QVector>
#include <QThread>
#include <QWidget>

#include <memory>
#include <optional>

namespace sumlab {
struct RunConfig;
}

class LossPlotWidget;
class ModelRegistry;
class RougePlotWidget;
class QCheckBox;
class QComboBox;
class QFrame;
class QLabel;
class QLineEdit;
class QPushButton;
class QScrollArea;
class TrainModelCombo;
class TrainRunMonitor;
class TrainingSettingsForm;
class TrainingWorker;
struct TrainingRequest;

class TrainPage : public QWidget {
    Q_OBJECT
public:
    explicit TrainPage(ModelRegistry* registry, QWidget* parent = nullptr);
    ~TrainPage() override;

    TrainingSettingsForm* form() const { return m_form; }
    LossPlotWidget* lossPlot() const;
    // predict_with_generate's ROUGE at each evaluation, beside the loss plot (hidden until there is some).
    RougePlotWidget* rougePlot() const;
    bool isTraining() const { return m_isTraining; }
    QString currentRunDir() const { return m_runDir; }
    QString validationText() const;
    QString workspace() const { return m_workspace; }

    // Applies preset `index` of training_presets().
    void applyPreset(int index);
    // Selects the registered model or adapter folder `path` (false when it is not ready in the registry).
    bool selectModel(const QString& path);
    void setDataPath(const QString& path);
    void setRunName(const QString& name);

    void saveSettings() const;

    // The latest probe step ("Time a step"), and whether it was measured for the current settings.
    const StepTimeEstimate& measuredStepTime() const;
    bool isStepTimeCurrent() const;
    bool isTimingStep() const;

public slots:
    // Where new run folders go (the Runs page's workspace).
    void setWorkspace(const QString& folder);
    // The dataset loaded on the Data page: it becomes the training data (while no run is going), and the
    // estimate counts optimizer steps from its training dialogues.
    void setDatasetInfo(const QString& path, int trainDialogues);
    // Validates the form and starts a new run; false (with the reason shown) when refused.
    bool startTraining();
    void pauseTraining();
    void resumeTraining();
    void stopTraining();
    // Continues a stopped run from its newest checkpoint, with its own configuration (run.json).
    // `history` holds its curves up to that checkpoint.
    bool resumeRun(const QString& runDir, const RunCurves& history);
    // Fills the form with a run's configuration and starts a new run with it.
    bool rerun(const QString& runDir);

signals:
    void runStarted(const QString& runDir);
    void runEnded(const QString& runDir, sumlab::RunStatus state);
    // The status bar's job line: `percent` is -1 when unknown; `active` is false when nothing runs.
    void jobStatusChanged(const QString& text, int percent, bool active);
    void statusMessage(const QString& message);

private slots:
    void refreshModelChoices();
    void updateEstimate();
    // Runs TrainingEstimator::timeStep for the current model and settings on a thread of its own.
    void timeStep();
    // Shows the preset the form's values equal, or "Custom settings".
    void syncPresetChoice();
    void onWorkerStarted(const QString& runDir);
    void onStep(const sumlab::StepMetrics& point);
    void onEval(const sumlab::EvalMetrics& point);
    void onCheckpoint(const QString& dir, qint64 step);
    void onStateChanged(sumlab::RunStatus state);
    void onMessage(const QString& text);
    void onFinished(const TrainingOutcome& outcome);
    void onFailed(const QString& error);

private:
    QWidget* buildSetupColumn();
    QWidget* buildRunColumn();
    bool launch(const TrainingRequest& request, const QString& runName, const RunCurves& history);
    void refuse(const QString& message, QWidget* focus = nullptr);
    void clearRefusal();
    void setRunning(bool running);
    void updateButtons();
    void appendLog(const QString& line);
    QString uniqueRunName(const QString& base) const;
    QString defaultRunName() const;
    void publishJob();
    // run.json of `runDir` as the engine reads it (sumlab::read_run_config), or nullopt with `error` set.
    static std::optional<sumlab::RunConfig> readRunJson(const QString& runDir, QString* error);
    // The shared opening of resume and rerun: refuse while training, read run.json, fill the form from its arguments.
    std::optional<sumlab::RunConfig> loadRunIntoForm(const QString& runDir, const QString& whileTraining);
    // The chosen model and the form's values, for the estimate (the data's size left unknown).
    TrainEstimatePanel::Inputs estimateInputs() const;

    ModelRegistry* m_registry = nullptr;
    QThread m_thread;
    TrainingWorker* m_worker = nullptr;

    QScrollArea* m_setupArea = nullptr;
    QComboBox* m_presetCombo = nullptr;
    QLabel* m_presetDescription = nullptr;
    TrainModelCombo* m_modelCombo = nullptr;
    QLabel* m_modelNote = nullptr;
    QComboBox* m_dataCombo = nullptr;
    QPushButton* m_dataBrowseButton = nullptr;
    QCheckBox* m_quickDemoCheck = nullptr;
    QLineEdit* m_runNameEdit = nullptr;
    QLabel* m_runFolderLabel = nullptr;
    TrainingSettingsForm* m_form = nullptr;

    TrainEstimatePanel* m_estimate = nullptr;
    QFrame* m_refusalFrame = nullptr;
    QLabel* m_refusalLabel = nullptr;
    QPushButton* m_startButton = nullptr;
    QPushButton* m_pauseButton = nullptr;
    QPushButton* m_resumeButton = nullptr;
    QPushButton* m_stopButton = nullptr;
    QLabel* m_stateLabel = nullptr;
    TrainRunMonitor* m_monitor = nullptr;

    QVector<QVariantMap> m_extraChoices;  // models named by a run's run.json but not registered
    QString m_workspace;
    QString m_datasetPath;
    int m_trainDialogues = -1;
    bool m_isTraining = false;
    bool m_pauseRequested = false;
    bool m_stopRequested = false;
    sumlab::RunStatus m_state = sumlab::RunStatus::stopped;
    QString m_runDir;
    QString m_runName;
};
