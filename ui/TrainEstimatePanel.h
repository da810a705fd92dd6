// TrainEstimatePanel: the Train page's "Estimate" box. It shows what the chosen model at the form's values costs
// before a run starts (trainable parameters, saved and checkpoint sizes, the memory of a step, optimizer steps) and
// owns the step-time probe: "Time a step" runs TrainingEstimator::timeStep on a thread of its own, and the
// measured time, while it still matches the settings (TrainingEstimator::timingKey), gives the run's time.
// TrainPage feeds it through showEstimate() whenever the model, the form or the data change.
#pragma once

#include "ui/TrainingEstimate.h"

#include <QGroupBox>
#include <QJsonObject>

#include <atomic>
#include <memory>

class QLabel;
class QPushButton;
class QThread;

class TrainEstimatePanel : public QGroupBox {
    Q_OBJECT
public:
    // What the estimate is for. `model` is the registry's Ready entry (nullptr when none is chosen); `adapter` is
    // set when an adapter is continued; `trainDialogues` is -1 when the data's size is unknown.
    struct Inputs {
        const ModelInfo* model = nullptr;
        const AdapterSummary* adapter = nullptr;
        QString modelPath;
        QJsonObject values;
        bool isLora = false;
        qint64 trainDialogues = -1;
        bool isTraining = false;
    };

    explicit TrainEstimatePanel(QWidget* parent = nullptr);
    ~TrainEstimatePanel() override;

    void showEstimate(const Inputs& inputs);
    // Starts the probe for `inputs` (ignored while one runs, while training, or without a model).
    void timeStep(const Inputs& inputs);
    // Cancels a running probe and waits for it (at most the rest of one pass); true when one was running.
    bool stopTimingStep();
    // A run started: the probe stops and cannot be started (a probe beside training would time neither).
    void runStarted();

    const StepTimeEstimate& measuredStepTime() const { return m_stepTime; }
    // Whether the latest probe was measured for the settings `key` (TrainingEstimator::timingKey).
    bool isStepTimeCurrent(const QJsonObject& key) const { return m_stepTime.ok && m_stepTimeKey == key; }
    bool isTimingStep() const { return m_probeThread != nullptr; }

signals:
    void timeStepClicked();
    // A probe ended or was stopped: the estimate is out of date.
    void probeChanged();

private:
    void showTimeEstimate(const Inputs& inputs, qint64 steps, qint64 accumulation);
    void onStepTimed(const StepTimeEstimate& timing, const QJsonObject& key);

    QLabel* m_trainableLabel = nullptr;
    QLabel* m_savedSizeLabel = nullptr;
    QLabel* m_checkpointSizeLabel = nullptr;
    QLabel* m_memoryLabel = nullptr;
    QLabel* m_stepsEstimateLabel = nullptr;
    QLabel* m_timeEstimateLabel = nullptr;
    QPushButton* m_timeStepButton = nullptr;

    // The probe: its thread while one runs, the flag that cancels it, and its latest result with the settings it
    // was measured for.
    QThread* m_probeThread = nullptr;
    std::shared_ptr<std::atomic<bool>> m_probeCancel;
    StepTimeEstimate m_stepTime;
    QJsonObject m_stepTimeKey;
};
