// TrainRunMonitor: the live part of the Train page's run column: the progress bar, the step / loss / speed / time
// labels, the loss plot beside the ROUGE plot, and the run's log. TrainPage feeds it the worker's metrics; it keeps
// the latest step for the status line.
#pragma once

#include "ui/TrainingMetrics.h"

#include <QWidget>

class LossPlotWidget;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class RougePlotWidget;

class TrainRunMonitor : public QWidget {
    Q_OBJECT
public:
    explicit TrainRunMonitor(QWidget* parent = nullptr);

    LossPlotWidget* lossPlot() const { return m_plot; }
    RougePlotWidget* rougePlot() const { return m_rougePlot; }
    QPlainTextEdit* log() const { return m_log; }

    // A run starts with `history` (its curves so far, empty for a new run): the plots show them, the log clears.
    void reset(const RunCurves& history);
    void showStep(const sumlab::StepMetrics& step);
    void showEval(const sumlab::EvalMetrics& eval);
    // Adds a line to the log, prefixed with the time of day.
    void appendLog(const QString& line);

    bool hasStep() const { return m_hasStep; }
    const sumlab::StepMetrics& lastStep() const { return m_lastStep; }

private:
    QProgressBar* m_progress = nullptr;
    QLabel* m_stepLabel = nullptr;
    QLabel* m_lossLabel = nullptr;
    QLabel* m_speedLabel = nullptr;
    QLabel* m_elapsedLabel = nullptr;
    QLabel* m_etaLabel = nullptr;
    LossPlotWidget* m_plot = nullptr;
    RougePlotWidget* m_rougePlot = nullptr;
    QPlainTextEdit* m_log = nullptr;

    sumlab::StepMetrics m_lastStep;
    bool m_hasStep = false;
    double m_lastEvalLoss = -1;  // -1: no evaluation yet
};
