// RougePlotWidget: the ROUGE F-measures of generated validation summaries at each evaluation
// (predict_with_generate), against the optimizer step, beside the loss plot. One run: ROUGE-1, ROUGE-2,
// ROUGE-L and ROUGE-Lsum; several runs (the Runs page's comparison): ROUGE-L of each. Evaluations without
// ROUGE are left out; hasData() tells the page whether there is anything to show.
#pragma once

#include "ui/TrainingMetrics.h"

#include <QVector>
#include <QWidget>

class QCPGraph;
class QCustomPlot;

class RougePlotWidget : public QWidget {
    Q_OBJECT
public:
    explicit RougePlotWidget(QWidget* parent = nullptr);

    void setRuns(const QVector<RunCurves>& runs);
    // One empty run that addEval extends (the Train page's live run).
    void startLiveRun(const QString& name);
    void addEval(const sumlab::EvalMetrics& point);

    bool hasData() const;
    QCustomPlot* plot() const { return m_plot; }
    // The plotted values of a curve by its legend name ("ROUGE-L", or "<run>: ROUGE-L" with several runs).
    QVector<double> values(const QString& curveName) const;

protected:
    void changeEvent(QEvent* event) override;

private:
    void rebuild();
    void rescale();

    QCustomPlot* m_plot = nullptr;
    QVector<RunCurves> m_runs;
};
