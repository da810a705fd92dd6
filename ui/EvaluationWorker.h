// EvaluationWorker: runs engine/generation/evaluation's evaluate_column for each chosen system on its own QThread, each
// adding its column to the same results CSV (so an interrupted evaluation resumes from the partial file, as
// `sumlab-cli evaluate` does). Pause and stop set atomics directly from the UI thread. A system that fails
// is reported with systemFailed and the next one still runs. Signals carry Qt values only.
#pragma once

#include "ui/SystemSpec.h"

#include <QObject>
#include <QVector>

#include <atomic>

struct EvaluationRequest {
    QVector<SystemSpec> systems;
    QString dataPath;
    QString split = QStringLiteral("test");
    int limit = 0;        // first N examples (0: all)
    int sampleSize = 0;   // a seeded random sample of N, in file order (0: none); applied before limit
    quint64 seed = 42;
    QString output;       // the results CSV
    GenerationSettings generation;
    int batchSize = 8;
};
Q_DECLARE_METATYPE(EvaluationRequest)

class EvaluationWorker : public QObject {
    Q_OBJECT
public:
    explicit EvaluationWorker(QObject* parent = nullptr);

    // Thread-safe. Clears a stop or pause left from an earlier run; the page calls it before queueing run(), so a
    // stop or pause asked for right after the start is not lost.
    void resetControls() {
        m_stop.store(false);
        m_pause.store(false);
    }
    void requestStop() { m_stop.store(true); }
    void setPaused(bool paused) { m_pause.store(paused); }
    bool isPaused() const { return m_pause.load(); }
    bool isRunning() const { return m_running.load(); }

public slots:
    void run(const EvaluationRequest& request);

signals:
    void systemStarted(int index, int systemCount);
    void progress(int index, int done, int total);
    void stepDone(int index, int step, int maxSteps);
    void systemFinished(int index, const QString& message);
    void systemFailed(int index, const QString& error);
    // stopped: the user stopped it (finished examples stay in the partial file for a rerun).
    void finished(bool stopped, int failedSystems, const QString& output);

private:
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_pause{false};
    std::atomic<bool> m_running{false};
};
