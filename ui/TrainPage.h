// TrainPage: sets up and runs a fine-tuning run. The form comes from the engine's settings table
// (TrainingSettingsForm), with presets, the model (from the ModelRegistry) and the data; a live estimate
// shows trainable parameters, saved sizes, the memory of a step and, once "Time a step" measured one on
// this machine (on a thread of its own), the time per step and for the run. Start/Pause/Resume/Stop drive a
// TrainingWorker on its own thread; its metrics feed a LossPlotWidget and the progress labels.
#pragma once

#include "ui/TrainingEstimate.h"
#include "ui/TrainingMetrics.h"

#include <QJsonObject>
#include <QVariantMap>
#include <QVector>
#include <QThread>
#include <QWidget>

#include <atomic>
#include <memory>

class LossPlotWidget;
class ModelRegistry;
class RougePlotWidget;
class QCheckBox;
class QComboBox;
class QFrame;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QScrollArea;
class TrainingSettingsForm;
class TrainingWorker;
struct TrainingRequest;

class TrainPage : public QWidget {
    Q_OBJECT
public:
    explicit TrainPage(ModelRegistry* registry, QWidget* parent = nullptr);
    ~TrainPage() override;

    TrainingSettingsForm* form() const { return m_form; }
    LossPlotWidget* lossPlot() const { return m_plot; }
    // predict_with_generate's ROUGE at each evaluation, beside the loss plot (hidden until there is some).
    RougePlotWidget* rougePlot() const { return m_rougePlot; }
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
    const StepTimeEstimate& measuredStepTime() const { return m_stepTime; }
    bool isStepTimeCurrent() const;
    bool isTimingStep() const { return m_probeThread != nullptr; }

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
    void runEnded(const QString& runDir, RunState state);
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
    void onStep(const StepPoint& point);
    void onEval(const EvalPoint& point);
    void onCheckpoint(const QString& dir, qint64 step);
    void onStateChanged(RunState state);
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
    static QString formatDuration(double seconds);
    // run.json of `runDir`, or an empty object with `error` set.
    static QJsonObject readRunJson(const QString& runDir, QString* error);
    int addModelChoice(const QString& modelDir, const QString& adapterDir, const QString& label);
    // The chosen model's registry entry (Ready), or nullptr; `adapter` is set when continuing an adapter.
    const ModelInfo* chosenModel(const AdapterSummary** adapter, QString* path) const;
    void onStepTimed(const StepTimeEstimate& timing, const QJsonObject& key);
    void updateTimeEstimate(qint64 steps, qint64 accumulation);
    // Cancels a running probe and waits for it (at most the rest of one pass).
    void stopTimingStep(bool refresh = true);

    ModelRegistry* m_registry = nullptr;
    QThread m_thread;
    TrainingWorker* m_worker = nullptr;

    QScrollArea* m_setupArea = nullptr;
    QComboBox* m_presetCombo = nullptr;
    QLabel* m_presetDescription = nullptr;
    QComboBox* m_modelCombo = nullptr;
    QLabel* m_modelNote = nullptr;
    QComboBox* m_dataCombo = nullptr;
    QPushButton* m_dataBrowseButton = nullptr;
    QCheckBox* m_quickDemoCheck = nullptr;
    QLineEdit* m_runNameEdit = nullptr;
    QLabel* m_runFolderLabel = nullptr;
    TrainingSettingsForm* m_form = nullptr;

    QLabel* m_trainableLabel = nullptr;
    QLabel* m_savedSizeLabel = nullptr;
    QLabel* m_checkpointSizeLabel = nullptr;
    QLabel* m_memoryLabel = nullptr;
    QLabel* m_stepsEstimateLabel = nullptr;
    QLabel* m_timeEstimateLabel = nullptr;
    QPushButton* m_timeStepButton = nullptr;
    QFrame* m_refusalFrame = nullptr;
    QLabel* m_refusalLabel = nullptr;
    QPushButton* m_startButton = nullptr;
    QPushButton* m_pauseButton = nullptr;
    QPushButton* m_resumeButton = nullptr;
    QPushButton* m_stopButton = nullptr;
    QLabel* m_stateLabel = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_stepLabel = nullptr;
    QLabel* m_lossLabel = nullptr;
    QLabel* m_speedLabel = nullptr;
    QLabel* m_elapsedLabel = nullptr;
    QLabel* m_etaLabel = nullptr;
    LossPlotWidget* m_plot = nullptr;
    RougePlotWidget* m_rougePlot = nullptr;
    QPlainTextEdit* m_log = nullptr;

    QVector<QVariantMap> m_extraChoices;  // models named by a run's run.json but not registered
    QString m_workspace;
    QString m_datasetPath;
    int m_trainDialogues = -1;
    bool m_isTraining = false;
    bool m_pauseRequested = false;
    bool m_stopRequested = false;
    RunState m_state = RunState::Stopped;
    QString m_runDir;
    QString m_runName;
    StepPoint m_lastStep;
    bool m_hasStep = false;
    double m_lastEvalLoss = -1;

    // The step-time probe: its thread while one runs, the flag that cancels it, and its latest result with the
    // settings it was measured for (TrainingEstimator::timingKey).
    QThread* m_probeThread = nullptr;
    std::shared_ptr<std::atomic<bool>> m_probeCancel;
    StepTimeEstimate m_stepTime;
    QJsonObject m_stepTimeKey;
};
