// DatasetWorker: loads DialogSum files and counts prompt/summary lengths on its own thread. It lives in a
// QThread owned by DataPage; requests arrive as queued slot calls and results leave as signals carrying
// DatasetSnapshot / LengthStatisticsResult values. The engine's dataset stays inside the worker.
#pragma once

#include "ui/DatasetSnapshot.h"
#include "ui/LengthStatistics.h"

#include <QObject>

#include <atomic>
#include <memory>

class DatasetWorker : public QObject {
    Q_OBJECT
public:
    explicit DatasetWorker(QObject* parent = nullptr);
    ~DatasetWorker() override;

    // Thread-safe: marks `requestId` as the newest statistics request, so a computation for an older one
    // stops at its next text instead of finishing work nobody will look at.
    void announceStatisticsRequest(int requestId) { m_latestStatistics.store(requestId); }
    // Thread-safe: abandons the running statistics computation (used before the thread is shut down).
    void cancel() { m_latestStatistics.store(-1); }

public slots:
    // Loads a folder or file (rows with unusable content are skipped and reported, structural errors fail).
    void load(int requestId, const QString& path);
    // Length statistics of every split of the loaded dataset.
    void computeStatistics(const LengthStatisticsRequest& request);

signals:
    void loaded(int requestId, const DatasetSnapshot& snapshot);
    void loadFailed(int requestId, const QString& path, const QString& message);
    void statisticsReady(const LengthStatisticsResult& result);
    void statisticsFailed(int requestId, const QString& message);

private:
    struct State;
    std::unique_ptr<State> m_state;
    std::atomic<int> m_latestStatistics{0};
};
