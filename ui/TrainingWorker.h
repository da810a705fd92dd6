// TrainingWorker: runs sumlab::Trainer on its own QThread (the qtbase worker pattern: a QObject moved to the
// thread, work started by a queued slot call). Trainer callbacks become signals carrying registered value types
// (the engine's StepMetrics, EvalMetrics and RunStatus, and TrainingOutcome) -- never pointers into engine memory.
// Stop and pause set the trainer's atomics directly from the UI thread: a queued slot would wait behind the loop.
#pragma once

#include "ui/TrainingMetrics.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>

namespace sumlab {
struct TrainerControl;
}

// What to train: the engine's TrainerSetup as Qt values.
struct TrainingRequest {
    QString modelDir;        // base model folder
    QString dataPath;        // DialogSum folder or file
    QString outputDir;       // the run folder
    QString initAdapter;     // LoRA: start from this adapter folder (empty: a fresh adapter)
    QString resumeFrom;      // a checkpoint-N folder, "last", or empty
    QByteArray argumentsJson;  // TrainingArguments as JSON (the keys of training_settings())
};
Q_DECLARE_METATYPE(TrainingRequest)

class TrainingWorker : public QObject {
    Q_OBJECT
public:
    explicit TrainingWorker(QObject* parent = nullptr);
    ~TrainingWorker() override;

    // Thread-safe. The trainer finishes its current step, saves a checkpoint and returns.
    void requestStop();
    // Thread-safe. The trainer holds between steps while paused; a stop still ends it.
    void setPaused(bool paused);
    bool isPaused() const;
    // Thread-safe: whether run() is in progress.
    bool isRunning() const { return m_running.load(); }

public slots:
    // Runs to the end, to a stop, or to an error; emits finished or failed exactly once.
    void run(const TrainingRequest& request);

signals:
    void started(const QString& runDir);
    void stepLogged(const sumlab::StepMetrics& point);
    void evaluated(const sumlab::EvalMetrics& point);
    void checkpointSaved(const QString& checkpointDir, qint64 step);
    void stateChanged(sumlab::RunStatus state);
    void message(const QString& text);
    void finished(const TrainingOutcome& outcome);
    void failed(const QString& error);

private:
    std::unique_ptr<sumlab::TrainerControl> m_control;
    std::atomic<bool> m_running{false};
};
