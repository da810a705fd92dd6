#include "ui/EvaluatePage.h"

#include "ui/Accessible.h"
#include "ui/EvaluationChart.h"
#include "ui/EvaluationWorker.h"
#include "ui/ExampleDeltaModel.h"
#include "ui/GenerationSettingsWidget.h"
#include "ui/ModelRegistry.h"
#include "ui/ScoreTableModel.h"
#include "ui/ScoreWorker.h"
#include "ui/SystemPicker.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QScrollBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace {

QTableView* makeTable(QWidget* parent, const char* name, const QString& accessibleName, const QString& tip) {
    auto* view = new QTableView(parent);
    Accessible::describe(view, name, accessibleName, tip);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->setAlternatingRowColors(true);
    view->verticalHeader()->hide();
    view->horizontalHeader()->setStretchLastSection(true);
    view->setWordWrap(false);
    return view;
}

enum Selection { AllExamples, FirstN, SeededSample };

}  // namespace

EvaluatePage::EvaluatePage(ModelRegistry* registry, QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("evaluatePage"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(buildRunPanel(registry));
    layout->addLayout(buildScoringRow());

    m_errorLabel = new QLabel(this);
    m_errorLabel->setObjectName(QStringLiteral("evaluateErrorLabel"));
    m_errorLabel->setAccessibleName(tr("Error"));
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setStyleSheet(QStringLiteral("color: #c0392b;"));
    m_errorLabel->hide();
    layout->addWidget(m_errorLabel);

    m_scoreModel = new ScoreTableModel(this);
    m_deltaModel = new DeltaTableModel(this);
    m_exampleModel = new ExampleDeltaModel(this);
    layout->addWidget(buildResultsTabs(), 1);

    startWorkers();
    setStatus(tr("Choose systems and examples and press Run, or open a results CSV."));
    updateButtons();
}

// Systems, data, output, generation settings, and the run's controls and status.
QWidget* EvaluatePage::buildRunPanel(ModelRegistry* registry) {
    auto* run = new QGroupBox(tr("Run an evaluation"), this);
    auto* runLayout = new QVBoxLayout(run);
    m_picker = new SystemPicker(registry, QStringLiteral("evaluate"), true, run);
    runLayout->addWidget(m_picker);
    runLayout->addLayout(buildDataRow(run));
    runLayout->addLayout(buildOutputRow(run));
    m_settings = new GenerationSettingsWidget(QStringLiteral("evaluate"), run);
    runLayout->addWidget(m_settings);
    runLayout->addLayout(buildControlRow(run));
    runLayout->addWidget(m_statusLabel);
    return run;
}

// Where the examples come from: data, split and which of its examples.
QLayout* EvaluatePage::buildDataRow(QWidget* run) {
    auto* dataRow = new QHBoxLayout;
    auto* dataLabel = new QLabel(tr("D&ata"), run);
    m_dataEdit = new QLineEdit(run);
    Accessible::describe(m_dataEdit, "evaluateDataEdit", tr("DialogSum data"), tr("DialogSum folder or file (set by the Data page when it loads one)"));
    dataLabel->setBuddy(m_dataEdit);
    auto* browseData = new QPushButton(tr("Browse…"), run);
    Accessible::describe(browseData, "evaluateBrowseDataButton", tr("Browse for data"), tr("Choose a DialogSum folder"));
    m_splitCombo = new QComboBox(run);
    m_splitCombo->addItems({QStringLiteral("test"), QStringLiteral("validation"), QStringLiteral("train")});
    Accessible::describe(m_splitCombo, "evaluateSplitCombo", tr("Split"), tr("The split to summarise (the lab evaluates on test)"));
    m_selectionCombo = new QComboBox(run);
    m_selectionCombo->addItems({tr("All examples"), tr("First N"), tr("Seeded sample of N")});
    m_selectionCombo->setCurrentIndex(FirstN);
    Accessible::describe(m_selectionCombo, "evaluateSelectionCombo", tr("Examples"),
                         tr("All of the split, its first N examples, or a random sample of N (in file order) drawn with the seed"));
    m_countSpin = new QSpinBox(run);
    m_countSpin->setRange(1, 1000000);
    m_countSpin->setValue(10);
    Accessible::describe(m_countSpin, "evaluateCountSpin", tr("Number of examples"), tr("N: how many examples to summarise"));
    m_sampleSeedSpin = new QSpinBox(run);
    m_sampleSeedSpin->setRange(0, 1 << 30);
    m_sampleSeedSpin->setValue(42);
    m_sampleSeedSpin->setPrefix(tr("seed "));
    Accessible::describe(m_sampleSeedSpin, "evaluateSampleSeedSpin", tr("Sample seed"), tr("Seed of the random sample (the same seed picks the same examples)"));
    dataRow->addWidget(dataLabel);
    dataRow->addWidget(m_dataEdit, 1);
    dataRow->addWidget(browseData);
    dataRow->addWidget(m_splitCombo);
    dataRow->addWidget(m_selectionCombo);
    dataRow->addWidget(m_countSpin);
    dataRow->addWidget(m_sampleSeedSpin);
    connect(browseData, &QPushButton::clicked, this, &EvaluatePage::browseData);
    connect(m_selectionCombo, &QComboBox::currentIndexChanged, this, &EvaluatePage::updateButtons);
    return dataRow;
}

// The results CSV written and the batch size.
QLayout* EvaluatePage::buildOutputRow(QWidget* run) {
    auto* outputRow = new QHBoxLayout;
    auto* outputLabel = new QLabel(tr("&Output"), run);
    m_outputEdit = new QLineEdit(run);
    m_outputEdit->setText(QDir::home().filePath(QStringLiteral("dialogue-summary-training-results.csv")));
    Accessible::describe(m_outputEdit, "evaluateOutputEdit", tr("Results CSV"),
                         tr("The results CSV to write; when it exists, each system's column is added to it (or replaced) for the same examples"));
    outputLabel->setBuddy(m_outputEdit);
    auto* browseOutput = new QPushButton(tr("Browse…"), run);
    Accessible::describe(browseOutput, "evaluateBrowseOutputButton", tr("Browse for the results CSV"), tr("Choose where to write the results CSV"));
    auto* batchLabel = new QLabel(tr("Batc&h"), run);
    m_batchSpin = new QSpinBox(run);
    m_batchSpin->setRange(1, 256);
    m_batchSpin->setValue(8);
    Accessible::describe(m_batchSpin, "evaluateBatchSpin", tr("Batch size"), tr("Dialogues summarised per forward pass"));
    batchLabel->setBuddy(m_batchSpin);
    outputRow->addWidget(outputLabel);
    outputRow->addWidget(m_outputEdit, 1);
    outputRow->addWidget(browseOutput);
    outputRow->addWidget(batchLabel);
    outputRow->addWidget(m_batchSpin);
    connect(browseOutput, &QPushButton::clicked, this, &EvaluatePage::browseOutput);
    return outputRow;
}

// Run, pause, stop, progress and "Open results CSV"; also makes the status label shown under them.
QLayout* EvaluatePage::buildControlRow(QWidget* run) {
    auto* controlRow = new QHBoxLayout;
    m_runButton = new QPushButton(tr("&Run evaluation"), run);
    Accessible::describe(m_runButton, "evaluateRunButton", tr("Run evaluation"), tr("Summarise the chosen examples with every chosen system into the results CSV"));
    m_pauseButton = new QPushButton(tr("&Pause"), run);
    m_pauseButton->setCheckable(true);
    Accessible::describe(m_pauseButton, "evaluatePauseButton", tr("Pause"), tr("Hold the evaluation between decoding steps; press again to continue"));
    m_stopButton = new QPushButton(tr("S&top"), run);
    Accessible::describe(m_stopButton, "evaluateStopButton", tr("Stop"),
                         tr("Stop the evaluation; finished summaries stay in <output>.partial.jsonl and a rerun continues from them"));
    m_progress = new QProgressBar(run);
    Accessible::describe(m_progress, "evaluateProgressBar", tr("Evaluation progress"), tr("Examples summarised by the system in progress"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_statusLabel = new QLabel(run);
    m_statusLabel->setObjectName(QStringLiteral("evaluateStatusLabel"));
    m_statusLabel->setAccessibleName(tr("Evaluation status"));
    m_statusLabel->setWordWrap(true);
    auto* openButton = new QPushButton(tr("Open results &CSV…"), run);
    Accessible::describe(openButton, "evaluateOpenButton", tr("Open results CSV"), tr("Score an existing results CSV in the lab's layout"));
    controlRow->addWidget(m_runButton);
    controlRow->addWidget(m_pauseButton);
    controlRow->addWidget(m_stopButton);
    controlRow->addWidget(m_progress, 1);
    controlRow->addWidget(openButton);
    connect(openButton, &QPushButton::clicked, this, &EvaluatePage::browseResults);
    connect(m_runButton, &QPushButton::clicked, this, &EvaluatePage::startEvaluation);
    connect(m_pauseButton, &QPushButton::toggled, this, &EvaluatePage::setPaused);
    connect(m_stopButton, &QPushButton::clicked, this, &EvaluatePage::stopEvaluation);
    return controlRow;
}

// How the results are scored (stemmer, references, bootstrap) and the exports.
QLayout* EvaluatePage::buildScoringRow() {
    auto* scoreRow = new QHBoxLayout;
    m_stemmerCheck = new QCheckBox(tr("Porter &stemmer"), this);
    m_stemmerCheck->setChecked(true);
    Accessible::describe(m_stemmerCheck, "evaluateStemmerCheck", tr("Porter stemmer"), tr("rouge_score's use_stemmer (the lab: on)"));
    m_referencesCombo = new QComboBox(this);
    m_referencesCombo->addItems({tr("First reference (the lab)"), tr("All references (multi-reference)")});
    Accessible::describe(m_referencesCombo, "evaluateReferencesCombo", tr("References"),
                         tr("Score against human_baseline_summaries only, or against every reference column with score_multi (best reference)"));
    auto* resamplesLabel = new QLabel(tr("Resa&mples"), this);
    m_resamplesSpin = new QSpinBox(this);
    m_resamplesSpin->setRange(0, 100000);
    m_resamplesSpin->setValue(1000);
    m_resamplesSpin->setSpecialValueText(tr("no intervals"));
    Accessible::describe(m_resamplesSpin, "evaluateResamplesSpin", tr("Bootstrap resamples"), tr("Bootstrap resamples for the 95% intervals and p-values (0: none)"));
    resamplesLabel->setBuddy(m_resamplesSpin);
    m_bootstrapSeedSpin = new QSpinBox(this);
    m_bootstrapSeedSpin->setRange(0, 1 << 30);
    m_bootstrapSeedSpin->setPrefix(tr("seed "));
    Accessible::describe(m_bootstrapSeedSpin, "evaluateBootstrapSeedSpin", tr("Bootstrap seed"), tr("Seed of the bootstrap resampling"));
    auto* exportTable = new QPushButton(tr("E&xport table…"), this);
    Accessible::describe(exportTable, "evaluateExportTableButton", tr("Export table"), tr("Save the scores and deltas as CSV or Markdown"));
    auto* exportChart = new QPushButton(tr("Export chart &image…"), this);
    Accessible::describe(exportChart, "evaluateExportChartButton", tr("Export chart"), tr("Save the bar chart as %1").arg(EvaluationChart::imageFilters().join(QStringLiteral(", "))));
    scoreRow->addWidget(m_stemmerCheck);
    scoreRow->addWidget(m_referencesCombo);
    scoreRow->addWidget(resamplesLabel);
    scoreRow->addWidget(m_resamplesSpin);
    scoreRow->addWidget(m_bootstrapSeedSpin);
    m_scoreStatusLabel = new QLabel(this);
    m_scoreStatusLabel->setObjectName(QStringLiteral("evaluateScoreStatusLabel"));
    m_scoreStatusLabel->setAccessibleName(tr("Scoring status"));
    scoreRow->addWidget(m_scoreStatusLabel);
    scoreRow->addStretch(1);
    scoreRow->addWidget(exportTable);
    scoreRow->addWidget(exportChart);
    connect(exportTable, &QPushButton::clicked, this, &EvaluatePage::exportTableInteractively);
    connect(exportChart, &QPushButton::clicked, this, &EvaluatePage::exportChartInteractively);
    connect(m_stemmerCheck, &QCheckBox::toggled, this, &EvaluatePage::rescore);
    connect(m_referencesCombo, &QComboBox::currentIndexChanged, this, &EvaluatePage::rescore);
    connect(m_resamplesSpin, &QSpinBox::editingFinished, this, &EvaluatePage::rescore);
    connect(m_bootstrapSeedSpin, &QSpinBox::editingFinished, this, &EvaluatePage::rescore);
    return scoreRow;
}

QWidget* EvaluatePage::buildResultsTabs() {
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("evaluateTabs"));
    m_tabs->setAccessibleName(tr("Results views"));
    m_tabs->addTab(buildScoresTab(), tr("Scores"));
    m_tabs->addTab(buildWinsTab(), tr("&Wins and losses"));
    return m_tabs;
}

// Scores: the table beside its chart, the deltas, the provenance.
QWidget* EvaluatePage::buildScoresTab() {
    auto* scoresTab = new QSplitter(Qt::Vertical, m_tabs);
    m_scoresTabSplitter = scoresTab;
    auto* top = new QSplitter(Qt::Horizontal, scoresTab);
    m_scoresSplitter = top;
    m_scoreView = makeTable(top, "evaluateScoreView", tr("ROUGE per system"), tr("ROUGE F-measures in points with 95% bootstrap intervals"));
    m_scoreView->setModel(m_scoreModel);
    m_scoreView->horizontalHeader()->setStretchLastSection(false);
    m_chart = new EvaluationChart(top);
    top->addWidget(m_scoreView);
    top->addWidget(m_chart);
    top->setStretchFactor(0, 0);
    top->setStretchFactor(1, 1);
    m_deltaView = makeTable(scoresTab, "evaluateDeltaView", tr("Differences between systems"),
                            tr("Candidate minus baseline in points and percent, paired-bootstrap 95% interval and p-value"));
    m_deltaView->setModel(m_deltaModel);
    m_provenanceView = new QTextBrowser(scoresTab);
    Accessible::describe(m_provenanceView, "evaluateProvenanceView", tr("Provenance"), tr("Where the numbers come from: file, examples, scoring settings and how each column was made"));
    scoresTab->addWidget(top);
    scoresTab->addWidget(m_deltaView);
    scoresTab->addWidget(m_provenanceView);
    scoresTab->setStretchFactor(0, 2);
    scoresTab->setStretchFactor(1, 2);
    scoresTab->setStretchFactor(2, 1);
    return scoresTab;
}

// The examples ranked by one system's wins and losses against another.
QWidget* EvaluatePage::buildWinsTab() {
    auto* winsTab = new QWidget(m_tabs);
    auto* winsLayout = new QVBoxLayout(winsTab);
    auto* winsRow = new QHBoxLayout;
    m_systemBCombo = new QComboBox(winsTab);
    Accessible::describe(m_systemBCombo, "evaluateSystemBCombo", tr("System"), tr("The system whose wins and losses are ranked"));
    m_systemACombo = new QComboBox(winsTab);
    Accessible::describe(m_systemACombo, "evaluateSystemACombo", tr("Against"), tr("The system it is compared against"));
    m_metricCombo = new QComboBox(winsTab);
    for (int m = 0; m < RougeMetricCount; ++m) m_metricCombo->addItem(rougeMetricName(m));
    Accessible::describe(m_metricCombo, "evaluateMetricCombo", tr("Metric"), tr("The ROUGE F-measure the examples are ranked by"));
    m_orderCombo = new QComboBox(winsTab);
    m_orderCombo->addItems({tr("Biggest wins first"), tr("Biggest losses first")});
    Accessible::describe(m_orderCombo, "evaluateOrderCombo", tr("Order"), tr("Rank by the largest gains or the largest losses"));
    winsRow->addWidget(m_systemBCombo);
    winsRow->addWidget(new QLabel(tr("against"), winsTab));
    winsRow->addWidget(m_systemACombo);
    winsRow->addWidget(m_metricCombo);
    winsRow->addWidget(m_orderCombo);
    winsRow->addStretch(1);
    winsLayout->addLayout(winsRow);
    m_exampleView = makeTable(winsTab, "evaluateExampleView", tr("Examples ranked by difference"),
                              tr("Activate a row (double-click or Enter) to open the example in the Compare page"));
    m_exampleView->setModel(m_exampleModel);
    winsLayout->addWidget(m_exampleView, 1);
    for (QComboBox* combo : {m_systemACombo, m_systemBCombo, m_metricCombo, m_orderCombo})
        connect(combo, &QComboBox::currentIndexChanged, this, &EvaluatePage::updateComparison);
    connect(m_exampleView, &QTableView::activated, this, [this](const QModelIndex& index) { openExample(index.row()); });
    return winsTab;
}

// The evaluation and scoring workers on their threads, and what the page does with their signals.
void EvaluatePage::startWorkers() {
    m_evaluationWorker = new EvaluationWorker;
    m_evaluationWorker->moveToThread(&m_evaluationThread);
    connect(&m_evaluationThread, &QThread::finished, m_evaluationWorker, &QObject::deleteLater);
    m_evaluationThread.setObjectName(QStringLiteral("EvaluationWorker"));
    m_evaluationThread.start();
    m_scoreWorker = new ScoreWorker;
    m_scoreWorker->moveToThread(&m_scoreThread);
    connect(&m_scoreThread, &QThread::finished, m_scoreWorker, &QObject::deleteLater);
    m_scoreThread.setObjectName(QStringLiteral("ScoreWorker"));
    m_scoreThread.start();

    connect(m_evaluationWorker, &EvaluationWorker::systemStarted, this, [this](int i, int n) {
        const QVector<SystemSpec> systems = m_picker->systems();
        const QString text = tr("Evaluating %1 (%2 of %3) …").arg(i < systems.size() ? systems[i].label : QString::number(i + 1)).arg(i + 1).arg(n);
        setStatus(m_pauseButton->isChecked() ? tr("Paused: %1").arg(text) : text);
        m_progress->setRange(0, 0);
    });
    connect(m_evaluationWorker, &EvaluationWorker::progress, this, [this](int, int done, int total) {
        m_progress->setRange(0, std::max(1, total));
        m_progress->setValue(done);
        m_progress->setFormat(tr("%v of %m examples"));
    });
    connect(m_evaluationWorker, &EvaluationWorker::systemFinished, this, [this](int, const QString& message) { m_runMessages << message; });
    connect(m_evaluationWorker, &EvaluationWorker::systemFailed, this, [this](int, const QString& error) {
        m_runMessages << tr("Failed: %1").arg(error);
        m_runHadFailures = true;
        showError(error);
        emit statusMessage(error);
    });
    connect(m_evaluationWorker, &EvaluationWorker::finished, this, [this](bool stopped, int failed, const QString& output) {
        m_running = false;
        m_pauseButton->setChecked(false);
        QString text = stopped ? tr("Stopped; run again to continue from the finished summaries.") : tr("Finished.");
        if (!m_runMessages.isEmpty()) text += QLatin1Char('\n') + m_runMessages.join(QLatin1Char('\n'));
        setStatus(text);
        updateButtons();
        emit evaluationFinished(stopped, failed);
        if (!stopped && QFileInfo::exists(output)) openResults(output);
    });
    connect(m_scoreWorker, &ScoreWorker::scored, this, [this](const ScoreResult& result) {
        if (result.request.requestId != m_scoreRequest) return;
        showScores(result);
    });
    connect(m_scoreWorker, &ScoreWorker::failed, this, [this](int id, const QString& message) {
        if (id != m_scoreRequest) return;
        showError(message);
        m_scoreStatusLabel->setText(tr("Could not score %1").arg(QFileInfo(m_resultsPath).fileName()));
        emit scoreFailed(message);
    });
}

bool EvaluatePage::selectSystem(const SystemSpec& system) { return m_picker->selectSystem(system); }

EvaluatePage::~EvaluatePage() {
    m_evaluationWorker->requestStop();
    m_evaluationThread.quit();
    m_scoreThread.quit();
    m_evaluationThread.wait();
    m_scoreThread.wait();
}

void EvaluatePage::setDataPath(const QString& path) { m_dataEdit->setText(path); }
void EvaluatePage::setOutputPath(const QString& path) { m_outputEdit->setText(path); }

bool EvaluatePage::startEvaluation() {
    if (m_running) return false;
    EvaluationRequest request;
    request.systems = m_picker->systems();
    request.dataPath = m_dataEdit->text().trimmed();
    request.split = m_splitCombo->currentText();
    request.output = m_outputEdit->text().trimmed();
    request.generation = m_settings->settings();
    request.batchSize = m_batchSpin->value();
    const int selection = m_selectionCombo->currentIndex();
    if (selection == FirstN) request.limit = m_countSpin->value();
    if (selection == SeededSample) {
        request.sampleSize = m_countSpin->value();
        request.seed = static_cast<quint64>(m_sampleSeedSpin->value());
    }
    QString problem;
    if (request.systems.isEmpty()) problem = tr("Choose at least one system (register models on the Models page).");
    else if (request.dataPath.isEmpty()) problem = tr("Choose the DialogSum data (or load it on the Data page).");
    else if (request.output.isEmpty()) problem = tr("Choose the results CSV to write.");
    QStringList columns;
    for (const SystemSpec& s : request.systems) {
        if (s.column.isEmpty() || columns.contains(s.column)) problem = tr("Every system needs its own column name (\"%1\" is empty or repeated).").arg(s.column);
        columns << s.column;
    }
    if (!problem.isEmpty()) {
        setStatus(problem);
        showError(problem);
        return false;
    }
    m_errorLabel->hide();
    m_runMessages.clear();
    m_runHadFailures = false;
    m_evaluationOutput = request.output;
    m_running = true;
    m_evaluationWorker->resetControls();
    m_progress->setRange(0, 0);
    setStatus(tr("Starting …"));
    updateButtons();
    QMetaObject::invokeMethod(m_evaluationWorker, [worker = m_evaluationWorker, request] { worker->run(request); }, Qt::QueuedConnection);
    return true;
}

void EvaluatePage::setPaused(bool paused) {
    if (!m_running) return;
    m_evaluationWorker->setPaused(paused);
    if (m_pauseButton->isChecked() != paused) {
        const QSignalBlocker block(m_pauseButton);
        m_pauseButton->setChecked(paused);
    }
    setStatus(paused ? tr("Paused (between decoding steps)") : tr("Continuing …"));
}

void EvaluatePage::stopEvaluation() {
    if (!m_running) return;
    m_evaluationWorker->requestStop();
    setStatus(tr("Stopping …"));
}

void EvaluatePage::openResults(const QString& path) {
    if (path != m_evaluationOutput) m_runHadFailures = false;  // another file: the run's error is not about it
    m_resultsPath = path;
    rescore();
}

void EvaluatePage::rescore() {
    if (m_resultsPath.isEmpty()) return;
    ScoreRequest request;
    request.requestId = ++m_scoreRequest;
    request.path = m_resultsPath;
    request.stemmer = m_stemmerCheck->isChecked();
    request.multiReference = m_referencesCombo->currentIndex() == 1;
    request.resamples = m_resamplesSpin->value();
    request.seed = static_cast<quint64>(m_bootstrapSeedSpin->value());
    m_scoreStatusLabel->setText(tr("Scoring %1 …").arg(QFileInfo(m_resultsPath).fileName()));
    QMetaObject::invokeMethod(m_scoreWorker, [worker = m_scoreWorker, request] { worker->run(request); }, Qt::QueuedConnection);
}

void EvaluatePage::showScores(const ScoreResult& result) {
    m_result = result;
    if (!m_runHadFailures) m_errorLabel->hide();
    m_scoreModel->setResult(result);
    m_deltaModel->setResult(result);
    m_exampleModel->setResult(result);
    m_chart->setResult(result);
    m_scoreView->resizeColumnsToContents();
    m_deltaView->resizeColumnsToContents();
    // The table as wide as its columns, the chart gets the rest.
    const int tableWidth = m_scoreView->horizontalHeader()->length() + 2 * m_scoreView->frameWidth() + 4;
    const int total = m_scoresSplitter->width();
    if (total > tableWidth + 200) m_scoresSplitter->setSizes({tableWidth, total - tableWidth});
    // Every delta row visible; the scores and chart take what the chart needs; the provenance the rest.
    auto tableHeight = [](QTableView* view) {
        return view->horizontalHeader()->height() + view->verticalHeader()->length() + 2 * view->frameWidth() +
               view->horizontalScrollBar()->sizeHint().height() + 2;
    };
    const int height = m_scoresTabSplitter->height();
    const int topHeight = std::max(190, tableHeight(m_scoreView));
    const int deltaHeight = tableHeight(m_deltaView);
    if (height > topHeight + deltaHeight + 40) m_scoresTabSplitter->setSizes({topHeight, deltaHeight, height - topHeight - deltaHeight});
    {
        const QSignalBlocker blockA(m_systemACombo);
        const QSignalBlocker blockB(m_systemBCombo);
        const int a = m_systemACombo->currentIndex(), b = m_systemBCombo->currentIndex();
        m_systemACombo->clear();
        m_systemBCombo->clear();
        for (const SystemScore& s : result.systems) {
            m_systemACombo->addItem(s.name);
            m_systemBCombo->addItem(s.name);
        }
        const int n = result.systems.size();
        // The lab's question first: the last system (PEFT) against the first (original).
        m_systemACombo->setCurrentIndex(a >= 0 && a < n ? a : 0);
        m_systemBCombo->setCurrentIndex(b >= 0 && b < n ? b : n - 1);
    }
    updateComparison();
    QString provenance = tr("<p><b>File:</b> %1<br><b>Examples:</b> %2 &nbsp; <b>References:</b> %3 (%4) &nbsp; <b>Scoring:</b> %5</p>")
                             .arg(QDir::toNativeSeparators(result.request.path).toHtmlEscaped())
                             .arg(result.examples)
                             .arg(result.request.multiReference ? tr("all, up to %1 per example").arg(result.maxReferences) : tr("human_baseline_summaries"))
                             .arg(tr("%n reference column(s) in the file", nullptr, result.maxReferences))
                             .arg(result.rougeDescription.toHtmlEscaped());
    provenance += tr("<p>Deltas: paired bootstrap over the same examples, %1 resamples, seed %2; percent is of the baseline's mean.</p>")
                      .arg(result.request.resamples)
                      .arg(result.request.seed);
    if (result.provenance.isEmpty()) provenance += tr("<p>No provenance file beside the CSV: how its summaries were made is unknown.</p>");
    else {
        provenance += QStringLiteral("<ul>");
        for (const QString& line : result.provenance) provenance += QStringLiteral("<li>%1</li>").arg(line.toHtmlEscaped());
        provenance += QStringLiteral("</ul>");
    }
    m_provenanceView->setHtml(provenance);
    m_scoreStatusLabel->setText(tr("%n system(s) scored", nullptr, result.systems.size()));
    m_scoreStatusLabel->setToolTip(QDir::toNativeSeparators(result.request.path));
    emit scoresReady();
}

void EvaluatePage::updateComparison() {
    const int a = m_systemACombo->currentIndex(), b = m_systemBCombo->currentIndex();
    m_exampleModel->setComparison(a, b, m_metricCombo->currentIndex(),
                                  m_orderCombo->currentIndex() == 0 ? ExampleDeltaModel::Order::WinsFirst : ExampleDeltaModel::Order::LossesFirst);
    m_exampleView->resizeColumnsToContents();
}

void EvaluatePage::openExample(int exampleRow) {
    const int row = m_exampleModel->resultRow(exampleRow);
    if (row < 0 || row >= m_result.rows.size()) return;
    const ResultRow& r = m_result.rows.at(row);
    CompareExample example;
    example.title = tr("%1 row %2%3").arg(QFileInfo(m_result.request.path).fileName()).arg(row).arg(r.id.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(r.id));
    example.dialogue = r.dialogue;
    example.references = r.references;
    // The two compared systems first, then the others.
    QVector<int> order{m_exampleModel->systemA(), m_exampleModel->systemB()};
    for (int s = 0; s < m_result.systems.size(); ++s)
        if (!order.contains(s)) order << s;
    for (int s : order) {
        if (s < 0 || s >= m_result.systems.size()) continue;
        example.systemNames << m_result.systems[s].name;
        example.summaries << r.summaries.value(s);
    }
    emit exampleRequested(example);
}

bool EvaluatePage::exportTable(const QString& path, QString* error) const {
    const bool markdown = path.endsWith(QLatin1String(".md"), Qt::CaseInsensitive);
    QString text;
    if (markdown) {
        text = QStringLiteral("## ROUGE per system\n\n") + m_scoreModel->toMarkdown() + QStringLiteral("\n## Differences\n\n") +
               m_deltaModel->toMarkdown() + QStringLiteral("\n") + m_result.rougeDescription + QStringLiteral("\n");
    } else {
        // One file, two tables: the scores, a blank line, the deltas.
        text = m_scoreModel->toCsv() + QStringLiteral("\n") + m_deltaModel->toCsv();
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text) || file.write(text.toUtf8()) < 0 || !file.commit()) {
        if (error) *error = tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

bool EvaluatePage::exportChart(const QString& path, QString* error) { return m_chart->exportImage(path, error); }

QString EvaluatePage::statusText() const { return m_statusLabel->text(); }
QString EvaluatePage::errorText() const { return m_errorLabel->isVisibleTo(const_cast<EvaluatePage*>(this)) ? m_errorLabel->text() : QString(); }
QString EvaluatePage::provenanceText() const { return m_provenanceView->toPlainText(); }

void EvaluatePage::showError(const QString& message) {
    m_errorLabel->setText(message);
    m_errorLabel->show();
}

void EvaluatePage::setStatus(const QString& text) { m_statusLabel->setText(text); }

void EvaluatePage::updateButtons() {
    m_runButton->setEnabled(!m_running);
    m_pauseButton->setEnabled(m_running);
    m_stopButton->setEnabled(m_running);
    const int selection = m_selectionCombo->currentIndex();
    m_countSpin->setEnabled(selection != AllExamples);
    m_sampleSeedSpin->setEnabled(selection == SeededSample);
}

void EvaluatePage::browseData() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("DialogSum Folder"), m_dataEdit->text());
    if (!dir.isEmpty()) m_dataEdit->setText(dir);
}

void EvaluatePage::browseOutput() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Results CSV"), m_outputEdit->text(), tr("CSV files (*.csv)"), nullptr,
                                                      QFileDialog::DontConfirmOverwrite);
    if (!path.isEmpty()) m_outputEdit->setText(path);
}

void EvaluatePage::browseResults() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Results CSV"), m_outputEdit->text(), tr("CSV files (*.csv);;All files (*)"));
    if (!path.isEmpty()) openResults(path);
}

void EvaluatePage::exportTableInteractively() {
    if (!hasScores()) return;
    QString filter;
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Table"), QFileInfo(m_resultsPath).dir().filePath(QStringLiteral("rouge.csv")),
                                                      tr("CSV (*.csv);;Markdown (*.md)"), &filter);
    if (path.isEmpty()) return;
    QString error;
    if (!exportTable(path, &error)) QMessageBox::warning(this, tr("Export Failed"), error);
    else emit statusMessage(tr("Table written to %1").arg(path));
}

void EvaluatePage::exportChartInteractively() {
    if (!hasScores()) return;
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Chart"), QFileInfo(m_resultsPath).dir().filePath(QStringLiteral("rouge.png")),
                                                      EvaluationChart::imageFilters().join(QStringLiteral(";;")));
    if (path.isEmpty()) return;
    QString error;
    if (!exportChart(path, &error)) QMessageBox::warning(this, tr("Export Failed"), error);
    else emit statusMessage(tr("Chart written to %1").arg(path));
}
