// ScoreWorker: reads a results CSV and scores it (engine/metrics/results_csv score_results: ROUGE per system, bootstrap
// intervals, paired-bootstrap deltas) on its own QThread, so 1000 resamples never stall the window. Results
// leave as a ScoreResult value; a file that cannot be used leaves as failed(message naming the file).
#pragma once

#include "ui/EvaluationResults.h"

#include <QObject>

class ScoreWorker : public QObject {
    Q_OBJECT
public:
    explicit ScoreWorker(QObject* parent = nullptr);

public slots:
    // Reads and scores request.path; scored or failed follows.
    void run(const ScoreRequest& request);

signals:
    void scored(const ScoreResult& result);
    void failed(int requestId, const QString& message);
};
