// EvaluatePage: runs an evaluation of up to four systems on a DialogSum split (all of it, its first N, or a
// seeded sample) into the lab's results CSV, with progress, pause and stop (EvaluationWorker); or opens an
// existing results CSV. Then: ROUGE-1/2/L/Lsum per system with 95% bootstrap CIs (ScoreTableModel), the
// paired-bootstrap deltas between systems in points and percent with p-values (DeltaTableModel), a bar chart
// with error bars (EvaluationChart), where the numbers came from, and the examples ranked by one system's
// wins and losses against another (ExampleDeltaModel) -- activating one opens it in the Compare page.
// Scoring runs on a ScoreWorker thread; stemmer, references and resamples re-score on change.
#pragma once

#include "ui/CompareExample.h"
#include "ui/EvaluationResults.h"
#include "ui/QtWidgetsFwd.h"

#include <QThread>
#include <QWidget>

class DeltaTableModel;
class EvaluationChart;
class EvaluationWorker;
class ExampleDeltaModel;
class GenerationSettingsWidget;
class ModelRegistry;
class QLayout;
class ScoreTableModel;
class ScoreWorker;
class SystemPicker;
struct SystemSpec;

class EvaluatePage : public QWidget {
    Q_OBJECT
public:
    explicit EvaluatePage(ModelRegistry* registry, QWidget* parent = nullptr);
    ~EvaluatePage() override;

    void setDataPath(const QString& path);
    void setOutputPath(const QString& path);
    // Starts the evaluation; false (reason in statusText()) when the settings are incomplete or one is running.
    bool startEvaluation();
    void setPaused(bool paused);
    void stopEvaluation();
    bool isRunning() const { return m_running; }

    // Reads and scores a results CSV (asynchronously: scoresReady or scoreFailed follow).
    void openResults(const QString& path);
    QString resultsPath() const { return m_resultsPath; }
    bool hasScores() const { return !m_result.systems.isEmpty(); }
    const ScoreResult& scores() const { return m_result; }
    // Opens row `exampleRow` of the ranked list (ExampleDeltaModel's row) in the Compare page.
    void openExample(int exampleRow);

    // Tables as CSV (.csv) or Markdown (.md), chosen by suffix; the chart as PNG, PDF or SVG.
    bool exportTable(const QString& path, QString* error = nullptr) const;
    bool exportChart(const QString& path, QString* error = nullptr);

    QString statusText() const;
    QString errorText() const;
    QString provenanceText() const;
    ScoreTableModel* scoreModel() const { return m_scoreModel; }
    DeltaTableModel* deltaModel() const { return m_deltaModel; }
    ExampleDeltaModel* exampleModel() const { return m_exampleModel; }
    EvaluationChart* chart() const { return m_chart; }
    SystemPicker* systemPicker() const { return m_picker; }
    // Chooses `system` among the evaluated ones (SystemPicker::selectSystem); false when the picker lacks it.
    bool selectSystem(const SystemSpec& system);
    GenerationSettingsWidget* generationSettings() const { return m_settings; }

signals:
    void statusMessage(const QString& message);
    void evaluationFinished(bool stopped, int failedSystems);
    void scoresReady();
    void scoreFailed(const QString& message);
    void exampleRequested(const CompareExample& example);

private:
    QWidget* buildRunPanel(ModelRegistry* registry);
    QLayout* buildDataRow(QWidget* run);
    QLayout* buildOutputRow(QWidget* run);
    QLayout* buildControlRow(QWidget* run);
    QLayout* buildScoringRow();
    QWidget* buildResultsTabs();
    QWidget* buildScoresTab();
    QWidget* buildWinsTab();
    void startWorkers();
    void rescore();
    void showScores(const ScoreResult& result);
    void showError(const QString& message);
    void updateComparison();
    void updateButtons();
    void setStatus(const QString& text);
    void browseData();
    void browseOutput();
    void browseResults();
    void exportTableInteractively();
    void exportChartInteractively();

    SystemPicker* m_picker = nullptr;
    GenerationSettingsWidget* m_settings = nullptr;
    QLineEdit* m_dataEdit = nullptr;
    QComboBox* m_splitCombo = nullptr;
    QComboBox* m_selectionCombo = nullptr;
    QSpinBox* m_countSpin = nullptr;
    QSpinBox* m_sampleSeedSpin = nullptr;
    QLineEdit* m_outputEdit = nullptr;
    QSpinBox* m_batchSpin = nullptr;
    QPushButton* m_runButton = nullptr;
    QPushButton* m_pauseButton = nullptr;
    QPushButton* m_stopButton = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_statusLabel = nullptr;
    QLabel* m_errorLabel = nullptr;
    QLabel* m_scoreStatusLabel = nullptr;
    QCheckBox* m_stemmerCheck = nullptr;
    QComboBox* m_referencesCombo = nullptr;
    QSpinBox* m_resamplesSpin = nullptr;
    QSpinBox* m_bootstrapSeedSpin = nullptr;
    QTabWidget* m_tabs = nullptr;
    QSplitter* m_scoresSplitter = nullptr;     // the score table beside the chart
    QSplitter* m_scoresTabSplitter = nullptr;  // those above the deltas above the provenance
    QTableView* m_scoreView = nullptr;
    QTableView* m_deltaView = nullptr;
    QTextBrowser* m_provenanceView = nullptr;
    EvaluationChart* m_chart = nullptr;
    QComboBox* m_systemACombo = nullptr;
    QComboBox* m_systemBCombo = nullptr;
    QComboBox* m_metricCombo = nullptr;
    QComboBox* m_orderCombo = nullptr;
    QTableView* m_exampleView = nullptr;

    ScoreTableModel* m_scoreModel = nullptr;
    DeltaTableModel* m_deltaModel = nullptr;
    ExampleDeltaModel* m_exampleModel = nullptr;

    ScoreResult m_result;
    QString m_resultsPath;
    int m_scoreRequest = 0;
    bool m_running = false;
    bool m_runHadFailures = false;
    QString m_evaluationOutput;  // keeps a failed system's error on screen when the other columns are scored
    QStringList m_runMessages;

    QThread m_evaluationThread;
    QThread m_scoreThread;
    EvaluationWorker* m_evaluationWorker = nullptr;
    ScoreWorker* m_scoreWorker = nullptr;
};
