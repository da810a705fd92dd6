#include "ui/HumanEvalWorker.h"

#include "base/errors.h"

#include <exception>

HumanEvalWorker::HumanEvalWorker(QObject* parent) : QObject(parent) {
    qRegisterMetaType<sumlab::ResultsTable>();
    qRegisterMetaType<sumlab::HumanEvalReport>();
    qRegisterMetaType<MergeRequest>();
}

void HumanEvalWorker::loadResults(int requestId, const QString& path) {
    try {
        emit resultsLoaded(requestId, path, sumlab::read_results_csv(path.toStdString()));
    } catch (const std::exception& e) {
        emit loadFailed(requestId, QString::fromUtf8(e.what()));
    }
}

void HumanEvalWorker::merge(int requestId, const MergeRequest& request) {
    try {
        const sumlab::ResultsTable table = sumlab::read_results_csv(request.resultsPath.toStdString());
        std::vector<sumlab::RatingFile> files;
        for (const QString& path : request.ratingsFiles) files.push_back(sumlab::read_rating_file(path.toStdString()));
        emit merged(requestId, sumlab::merge_ratings(table, files, request.options), table);
    } catch (const std::exception& e) {
        emit mergeFailed(requestId, QString::fromUtf8(e.what()));
    }
}
