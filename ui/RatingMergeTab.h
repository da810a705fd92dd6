// RatingMergeTab: the Rating page's "Results" tab. Merges chosen raters' files into win rates with Wilson
// intervals, mean scores, agreement (Cohen's / Fleiss' kappa, Krippendorff's alpha) and the correlation
// with the ROUGE delta; exports the merged table as CSV or JSONL. Merging runs on the page's
// HumanEvalWorker thread.
#pragma once

#include "engine/metrics/human_eval.h"
#include "engine/metrics/results_csv.h"
#include "ui/QtWidgetsFwd.h"

#include <QString>
#include <QStringList>
#include <QWidget>

#include <optional>
#include <string>

class HumanEvalWorker;
class RatingRateTab;

class RatingMergeTab : public QWidget {
    Q_OBJECT
public:
    // Merges on `worker`; `session` (the Rate tab) supplies the open results CSV and the folder to suggest.
    RatingMergeTab(HumanEvalWorker* worker, const RatingRateTab* session, QWidget* parent = nullptr);

    void addRaterFiles(const QStringList& paths);
    QStringList raterFiles() const;
    void clearRaterFiles();
    // Merges the listed files on the worker thread; mergeFinished follows.
    void mergeRaters();
    QString reportText() const;
    bool exportMergedCsv(const QString& path, QString* error = nullptr) const;
    bool exportMergedJsonl(const QString& path, QString* error = nullptr) const;

signals:
    void mergeFinished(bool ok);
    void statusMessage(const QString& message);

private:
    void onMerged(int requestId, const sumlab::HumanEvalReport& report, const sumlab::ResultsTable& table);
    void onMergeFailed(int requestId, const QString& message);
    void showMergeError(const QString& message);
    void browseRaterFiles();
    bool exportMerged(const QString& path, std::string (*format)(const sumlab::HumanEvalReport&), QString* error) const;
    void exportWithDialog(bool csv);
    QString formatReport(const sumlab::HumanEvalReport& report) const;

    HumanEvalWorker* m_worker = nullptr;
    const RatingRateTab* m_session = nullptr;
    int m_nextRequest = 1;
    int m_mergeRequest = 0;
    std::optional<sumlab::HumanEvalReport> m_report;

    QListWidget* m_filesList = nullptr;
    QPushButton* m_addFilesButton = nullptr;
    QPushButton* m_removeFileButton = nullptr;
    QComboBox* m_rougeCombo = nullptr;
    QCheckBox* m_stemCheck = nullptr;
    QPushButton* m_mergeButton = nullptr;
    QLabel* m_mergeErrorLabel = nullptr;
    QTextBrowser* m_reportView = nullptr;
    QPushButton* m_exportCsvButton = nullptr;
    QPushButton* m_exportJsonlButton = nullptr;
};
