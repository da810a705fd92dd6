// EvaluationChart: ROUGE-1/2/L/Lsum F-measures per system as grouped bars with 95% bootstrap error bars, on a
// QCustomPlot coloured by PlotTheme. Exports PNG and PDF (and SVG when Qt SVG is built in), as LossPlotWidget.
#pragma once

#include "ui/EvaluationResults.h"

#include <QWidget>

class QCustomPlot;

class EvaluationChart : public QWidget {
    Q_OBJECT
public:
    explicit EvaluationChart(QWidget* parent = nullptr);

    void setResult(const ScoreResult& result);
    void clear();
    // One bar per system and metric.
    int barCount() const;
    QCustomPlot* plot() const { return m_plot; }

    // Writes PNG or PDF (or SVG when available), chosen by the file suffix.
    bool exportImage(const QString& path, QString* error = nullptr);
    static QStringList imageFilters();

protected:
    void changeEvent(QEvent* event) override;

private:
    QCustomPlot* m_plot = nullptr;
    ScoreResult m_result;
};
