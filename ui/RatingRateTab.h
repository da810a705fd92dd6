// RatingRateTab: the Rating page's "Rate" tab. Choose the results file, two systems, sample size, seed,
// rater and ratings file; then each sampled dialogue shows with the two summaries as "Summary A" /
// "Summary B" in a random, recorded order and no system names. 1 / 2 / 3 (or Alt+A / Alt+B / Alt+T) record
// "A better" / "B better" / "Tie" with the faithfulness, coverage and fluency scores and the note, and move
// on; Left / Right / Enter step through the sample. Every rating is appended to the rater's JSONL file and
// fsync'ed before the next item shows. Results CSVs are read on the page's HumanEvalWorker thread.
#pragma once

#include "engine/metrics/human_eval.h"
#include "engine/metrics/results_csv.h"
#include "ui/QtWidgetsFwd.h"

#include <QString>
#include <QStringList>
#include <QWidget>

#include <memory>

class HumanEvalWorker;

class RatingRateTab : public QWidget {
    Q_OBJECT
public:
    enum Side { Left, Right };
    enum Criterion { Faithfulness, Coverage, Fluency, CriterionCount };

    // Reads results CSVs on `worker` (owned by the page, living on its thread).
    explicit RatingRateTab(HumanEvalWorker* worker, QWidget* parent = nullptr);

    // The last session's settings (QSettings "rating/..."); reopens its results CSV when it still exists.
    void restoreSettings();
    void saveSettings() const;

    // --- Setup -------------------------------------------------------------------------------------
    // Reads a results CSV on the worker thread; resultsOpened or loadFailed follows.
    void openResults(const QString& path);
    bool isLoading() const { return m_loadRequest != 0; }
    QString resultsPath() const { return m_tablePath; }
    // The systems of the loaded results CSV, in column order.
    QStringList systems() const;
    // Chooses the two systems; false (with the reason shown) when the results CSV lacks one of them.
    bool setSystems(const QString& systemA, const QString& systemB);
    void setSampleSize(int size);
    void setSeed(int seed);
    void setRater(const QString& rater);
    void setRatingsPath(const QString& path);
    QString ratingsPath() const;
    // Opens (or creates) the ratings file with the chosen settings and shows the first unrated item;
    // false with the reason in errorText() when refused.
    bool startSession();
    // Opens an existing ratings file: its session line fills the settings (results file, systems, sample,
    // seed, rater), the results CSV is read and the session resumes where the rater stopped.
    bool resumeFromFile(const QString& ratingsPath);
    QString errorText() const;

    // --- Rating ------------------------------------------------------------------------------------
    bool hasSession() const { return m_session != nullptr; }
    int currentItem() const { return m_position; }
    int sampleCount() const;
    int ratedCount() const;
    QString progressText() const;
    // The shown texts (for tests and screen readers): the dialogue or reference, and each side's summary.
    QString sourceText() const;
    QString summaryText(Side side) const;
    void setScore(Side side, Criterion criterion, int score);
    // Records the current item with the score editors and the note, then moves to the next unrated item.
    bool rate(sumlab::Choice choice);
    void showItem(int position);

public slots:
    void nextItem();
    void previousItem();

signals:
    void resultsOpened(const QString& path);
    void loadFailed(const QString& message);
    // A session started on this ratings file (absolute path): the Results tab lists it for merging.
    void ratingsFileOpened(const QString& path);
    void ratingSaved(const QString& ratingsPath, int rated, int total);
    void statusMessage(const QString& message);

private:
    QWidget* buildSessionBox();
    QWidget* buildRatingPanel();
    QWidget* buildSummarySides(QWidget* parent);
    void connectControls();
    void onResultsLoaded(int requestId, const QString& path, const sumlab::ResultsTable& table);
    void onLoadFailed(int requestId, const QString& message);
    void browseResults();
    void browseRatings();
    void showError(const QString& message);
    void clearError();
    void updateStartButton();
    void updateProgress();
    void suggestRatingsPath();
    void setRatingEnabled(bool enabled);
    QString choiceText(const sumlab::Rating& rating) const;

    HumanEvalWorker* m_worker = nullptr;
    int m_nextRequest = 1;
    int m_loadRequest = 0;

    sumlab::ResultsTable m_table;
    QString m_tablePath;  // the file m_table was read from; empty before the first load
    std::unique_ptr<sumlab::RatingSession> m_session;
    int m_position = 0;
    bool m_startAfterLoad = false;
    QString m_wantedSystemA, m_wantedSystemB;  // applied when the results CSV has loaded
    bool m_ratingsPathIsSuggested = true;

    QLineEdit* m_resultsEdit = nullptr;
    QPushButton* m_resultsBrowse = nullptr;
    QComboBox* m_systemA = nullptr;
    QComboBox* m_systemB = nullptr;
    QSpinBox* m_sampleSpin = nullptr;
    QSpinBox* m_seedSpin = nullptr;
    QLineEdit* m_raterEdit = nullptr;
    QLineEdit* m_ratingsEdit = nullptr;
    QPushButton* m_ratingsBrowse = nullptr;
    QPushButton* m_startButton = nullptr;
    QLabel* m_errorLabel = nullptr;

    QWidget* m_ratingPanel = nullptr;
    QLabel* m_progressLabel = nullptr;
    QProgressBar* m_progressBar = nullptr;
    QLabel* m_itemLabel = nullptr;
    QLabel* m_sourceTitle = nullptr;
    QPlainTextEdit* m_sourceView = nullptr;
    QPlainTextEdit* m_summaryView[2] = {};
    QSpinBox* m_scoreSpin[2][CriterionCount] = {};
    QLineEdit* m_noteEdit = nullptr;
    QPushButton* m_preferA = nullptr;
    QPushButton* m_preferB = nullptr;
    QPushButton* m_tie = nullptr;
    QPushButton* m_previousButton = nullptr;
    QPushButton* m_nextButton = nullptr;
};
