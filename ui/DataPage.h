// DataPage: opens a DialogSum folder or file (loaded on a DatasetWorker thread), lists its splits and
// dialogues (filter by topic, search text), shows the selected dialogue with its reference summaries, and
// plots prompt/summary length histograms with the share truncated at max_source_length/max_target_length,
// counted with a registered model's tokenizer or in whitespace words.
#pragma once

#include "ui/DatasetSnapshot.h"
#include "ui/LengthStatistics.h"

#include <QThread>
#include <QWidget>

class DatasetSplitModel;
class DatasetWorker;
class DialogueFilterProxy;
class DialogueTableModel;
class LengthHistogramWidget;
class ModelRegistry;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableView;
class QTabWidget;
class QTextBrowser;
class QTimer;
class QFrame;

class DataPage : public QWidget {
    Q_OBJECT
public:
    // `registry` lists the models whose tokenizers can count lengths; it may be null (words only).
    explicit DataPage(ModelRegistry* registry, QWidget* parent = nullptr);
    ~DataPage() override;

    // Starts loading `path` (a folder or a file) on the worker thread.
    void loadPath(const QString& path);
    bool isLoading() const { return m_isLoading; }
    QString loadedPath() const { return m_dataset.path; }
    const DatasetSnapshot& dataset() const { return m_dataset; }

    DatasetSplitModel* splitModel() const { return m_splitModel; }
    DialogueTableModel* dialogueModel() const { return m_dialogueModel; }
    DialogueFilterProxy* dialogueProxy() const { return m_proxy; }
    QString errorText() const;
    const LengthStatisticsResult& lengthStatistics() const { return m_statistics; }

    void saveSettings() const;

signals:
    // A load ended: ok, or failed with the message shown in the page.
    void loadFinished(bool ok);
    // The dataset the other pages may train on: its path and number of training dialogues.
    void datasetLoaded(const QString& path, int trainDialogues);
    void statisticsUpdated();
    void statusMessage(const QString& message);

private slots:
    void browseFolder();
    void browseFile();
    void downloadFromHub();
    void onLoaded(int requestId, const DatasetSnapshot& snapshot);
    void onLoadFailed(int requestId, const QString& path, const QString& message);
    void onStatisticsReady(const LengthStatisticsResult& result);
    void onStatisticsFailed(int requestId, const QString& message);
    void onSplitSelected();
    void onDialogueSelected();
    void onTopicChosen();
    void requestStatistics();
    void showHistogram();
    void refreshCounterChoices();

private:
    QWidget* buildDialoguesTab();
    QWidget* buildLengthsTab();
    void showError(const QString& message);
    void clearError();
    void rememberRecent(const QString& path);
    void updateMatchCount();
    void showSplit(const QString& name);

    ModelRegistry* m_registry = nullptr;
    QThread m_thread;
    DatasetWorker* m_worker = nullptr;
    int m_loadRequest = 0;
    int m_statisticsRequest = 0;
    bool m_isLoading = false;
    DatasetSnapshot m_dataset;
    LengthStatisticsResult m_statistics;

    QComboBox* m_pathCombo = nullptr;
    QPushButton* m_browseFolderButton = nullptr;
    QPushButton* m_browseFileButton = nullptr;
    QPushButton* m_loadButton = nullptr;
    QPushButton* m_hubButton = nullptr;
    QFrame* m_errorFrame = nullptr;
    QLabel* m_errorLabel = nullptr;
    QLabel* m_statusLabel = nullptr;
    QTabWidget* m_tabs = nullptr;

    DatasetSplitModel* m_splitModel = nullptr;
    DialogueTableModel* m_dialogueModel = nullptr;
    DialogueFilterProxy* m_proxy = nullptr;
    QTableView* m_splitsView = nullptr;
    QComboBox* m_topicCombo = nullptr;
    QLineEdit* m_searchEdit = nullptr;
    QLabel* m_matchLabel = nullptr;
    QTableView* m_dialoguesView = nullptr;
    QTextBrowser* m_dialogueBrowser = nullptr;
    QTextBrowser* m_summaryBrowser = nullptr;
    QTimer* m_searchTimer = nullptr;

    QComboBox* m_histogramSplitCombo = nullptr;
    QComboBox* m_counterCombo = nullptr;
    QSpinBox* m_maxSourceSpin = nullptr;
    QSpinBox* m_maxTargetSpin = nullptr;
    QLabel* m_unitLabel = nullptr;
    LengthHistogramWidget* m_histogram = nullptr;
    QTimer* m_statisticsTimer = nullptr;
};
