// RatingPage: blind human evaluation of two systems from a results CSV (engine/metrics/human_eval.h), in
// two tabs: "Rate" (RatingRateTab: the session setup and the blind A/B rating of each sampled dialogue,
// every rating appended and fsync'ed to the rater's JSONL file) and "Results" (RatingMergeTab: raters'
// files merged into win rates, agreement and the correlation with ROUGE, exported as CSV or JSONL).
// The page owns the HumanEvalWorker thread both tabs read and merge on and hands out the tabs themselves
// (rateTab(), mergeTab()) to MainWindow, the Lab guide and the tests. A session started on the Rate tab puts its
// ratings file on the Results tab's list.
#pragma once

#include "engine/metrics/human_eval.h"
#include "ui/RatingRateTab.h"

#include <QString>
#include <QStringList>
#include <QThread>
#include <QWidget>

class HumanEvalWorker;
class QTabWidget;
class RatingMergeTab;

class RatingPage : public QWidget {
    Q_OBJECT
public:
    using Side = RatingRateTab::Side;
    using Criterion = RatingRateTab::Criterion;
    static constexpr Side Left = RatingRateTab::Left;
    static constexpr Side Right = RatingRateTab::Right;
    static constexpr Criterion Faithfulness = RatingRateTab::Faithfulness;
    static constexpr Criterion Coverage = RatingRateTab::Coverage;
    static constexpr Criterion Fluency = RatingRateTab::Fluency;

    explicit RatingPage(QWidget* parent = nullptr);
    ~RatingPage() override;


    // The results CSV both tabs work on (MainWindow hands the Evaluate page's to this page).
    void openResults(const QString& path);
    QString resultsPath() const;
    // The tabs, for MainWindow, the Lab guide and the tests: setup and rating, and the merge of raters' files.
    RatingRateTab* rateTab() const { return m_rateTab; }
    RatingMergeTab* mergeTab() const { return m_mergeTab; }

    void saveSettings() const;

signals:
    // A results CSV was read (the Lab guide's "evaluate" step counts it).
    void resultsOpened(const QString& path);
    void loadFailed(const QString& message);
    // A rating reached the disk.
    void ratingSaved(const QString& ratingsPath, int rated, int total);
    void mergeFinished(bool ok);
    void statusMessage(const QString& message);

private:
    QThread m_thread;
    HumanEvalWorker* m_worker = nullptr;
    QTabWidget* m_tabs = nullptr;
    RatingRateTab* m_rateTab = nullptr;
    RatingMergeTab* m_mergeTab = nullptr;
};
