// RatingPage: blind human evaluation of two systems from a results CSV (engine/metrics/human_eval.h), in
// two tabs: "Rate" (RatingRateTab: the session setup and the blind A/B rating of each sampled dialogue,
// every rating appended and fsync'ed to the rater's JSONL file) and "Results" (RatingMergeTab: raters'
// files merged into win rates, agreement and the correlation with ROUGE, exported as CSV or JSONL).
// The page owns the HumanEvalWorker thread both tabs read and merge on, and offers their operations in
// one place (for MainWindow, the Lab guide and the tests). A session started on the Rate tab puts its
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


    // --- Setup (the Rate tab; see RatingRateTab) ----------------------------------------------------
    void openResults(const QString& path);
    bool isLoading() const;
    QString resultsPath() const;
    QStringList systems() const;
    bool setSystems(const QString& systemA, const QString& systemB);
    void setSampleSize(int size);
    void setSeed(int seed);
    void setRater(const QString& rater);
    void setRatingsPath(const QString& path);
    QString ratingsPath() const;
    bool startSession();
    bool resumeFromFile(const QString& ratingsPath);
    QString errorText() const;

    // --- Rating -------------------------------------------------------------------------------------
    bool hasSession() const;
    int currentItem() const;
    int sampleCount() const;
    int ratedCount() const;
    QString progressText() const;
    QString sourceText() const;
    QString summaryText(Side side) const;
    void setScore(Side side, Criterion criterion, int score);
    bool rate(sumlab::Choice choice);
    void showItem(int position);

    // --- Results (the Results tab; see RatingMergeTab) ----------------------------------------------
    void addRaterFiles(const QStringList& paths);
    QStringList raterFiles() const;
    void clearRaterFiles();
    void mergeRaters();
    QString reportText() const;
    bool exportMergedCsv(const QString& path, QString* error = nullptr) const;
    bool exportMergedJsonl(const QString& path, QString* error = nullptr) const;

    void saveSettings() const;

public slots:
    void nextItem();
    void previousItem();

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
