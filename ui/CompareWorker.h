// CompareWorker: generates one dialogue's summary with each of several systems, on its own QThread (the
// qtbase worker pattern, as TrainingWorker). Loaded models stay cached between requests (keyed by model and
// adapter folder), so changing a generation setting regenerates without reloading. A system that fails to
// load or generate is reported with systemFailed and the others still run. Signals carry Qt values only.
#pragma once

#include "ui/SystemSpec.h"

#include <QObject>
#include <QVector>

#include <atomic>
#include <memory>

struct CompareRequest {
    int requestId = 0;
    QVector<SystemSpec> systems;
    QString dialogue;  // rendered with the lab's prompt
    GenerationSettings generation;
};
Q_DECLARE_METATYPE(CompareRequest)

class CompareWorker : public QObject {
    Q_OBJECT
public:
    explicit CompareWorker(QObject* parent = nullptr);
    ~CompareWorker() override;

    // Thread-safe: the request in progress stops at its next decoding step.
    void requestStop() { m_stop.store(true); }
    // Thread-safe: clears a stop; the page calls it before queueing generate(), so an early stop is not lost.
    void resetStop() { m_stop.store(false); }

public slots:
    void generate(const CompareRequest& request);

signals:
    void systemStarted(int requestId, int index);
    void stepDone(int requestId, int index, int step, int maxSteps);
    void summaryReady(int requestId, int index, const QString& summary, bool hitMaxNewTokens, double seconds);
    void systemFailed(int requestId, int index, const QString& error);
    void finished(int requestId, bool stopped);

private:
    struct Cache;
    std::unique_ptr<Cache> m_cache;
    std::atomic<bool> m_stop{false};
};
