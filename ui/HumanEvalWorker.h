// HumanEvalWorker: the Rating page's file work off the GUI thread -- reading a results CSV and merging
// raters' files (ROUGE per rated row, bootstrap intervals, agreement). Results travel as engine value types
// copied into the signal (registered metatypes), never as pointers into the worker's memory; errors arrive
// as one readable sentence. Writing a rating is not done here: the page appends it synchronously, so a
// rating is on disk before the next item shows.
#pragma once

#include "engine/metrics/human_eval.h"
#include "engine/metrics/results_csv.h"

#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>

struct MergeRequest {
    QString resultsPath;       // the results CSV the ratings refer to
    QStringList ratingsFiles;  // one per rater
    sumlab::HumanEvalOptions options;
};

Q_DECLARE_METATYPE(sumlab::ResultsTable)
Q_DECLARE_METATYPE(sumlab::HumanEvalReport)
Q_DECLARE_METATYPE(MergeRequest)

class HumanEvalWorker : public QObject {
    Q_OBJECT
public:
    explicit HumanEvalWorker(QObject* parent = nullptr);

public slots:
    void loadResults(int requestId, const QString& path);
    void merge(int requestId, const MergeRequest& request);

signals:
    void resultsLoaded(int requestId, const QString& path, const sumlab::ResultsTable& table);
    void merged(int requestId, const sumlab::HumanEvalReport& report, const sumlab::ResultsTable& table);
    // One signal per kind of request: the Rate and Results tabs number their requests independently.
    void loadFailed(int requestId, const QString& message);
    void mergeFailed(int requestId, const QString& message);
};
