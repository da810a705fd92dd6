#include "ui/EvaluationChart.h"

#include "ui/PlotExport.h"
#include "ui/PlotTheme.h"
#include "ui/ScoreTableModel.h"

#include <qcustomplot.h>

#include <QEvent>
#include <QFileInfo>
#include <QVBoxLayout>

#include <algorithm>

EvaluationChart::EvaluationChart(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_plot = new QCustomPlot(this);
    m_plot->setObjectName(QStringLiteral("evaluationPlot"));
    m_plot->setAccessibleName(tr("ROUGE bar chart"));
    m_plot->setToolTip(tr("ROUGE F-measures per system in points, with 95% bootstrap confidence intervals as error bars"));
    m_plot->setMinimumHeight(160);
    // The legend in a row of its own above the bars, so it never hides one.
    m_plot->plotLayout()->insertRow(0);
    m_plot->axisRect()->insetLayout()->take(m_plot->legend);
    m_plot->plotLayout()->addElement(0, 0, m_plot->legend);
    m_plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    m_plot->plotLayout()->setRowStretchFactor(0, 0.001);
    layout->addWidget(m_plot);
    clear();
}

QStringList EvaluationChart::imageFilters() { return plotImageFilters(); }

void EvaluationChart::clear() {
    m_result = ScoreResult{};
    m_plot->clearPlottables();
    m_plot->legend->setVisible(false);
    PlotTheme::apply(m_plot, palette());
    m_plot->replot();
}

int EvaluationChart::barCount() const {
    int n = 0;
    for (int i = 0; i < m_plot->plottableCount(); ++i)
        if (auto* bars = qobject_cast<QCPBars*>(m_plot->plottable(i))) n += bars->dataCount();
    return n;
}

void EvaluationChart::setResult(const ScoreResult& result) {
    m_result = result;
    m_plot->clearPlottables();
    PlotTheme::apply(m_plot, palette());
    const int systems = result.systems.size();
    if (systems == 0) {
        m_plot->replot();
        return;
    }
    const double groupWidth = 0.8;
    const double barWidth = groupWidth / systems;
    double top = 0;
    for (int s = 0; s < systems; ++s) {
        const SystemScore& score = result.systems[s];
        auto* bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
        bars->setName(score.name);
        bars->setWidth(barWidth * 0.92);
        const QColor color = PlotTheme::seriesColor(s);
        bars->setPen(QPen(color.darker(120)));
        bars->setBrush(PlotTheme::translucent(color, 200));
        QVector<double> keys, values, minus, plus;
        for (int m = 0; m < RougeMetricCount; ++m) {
            const MetricInterval& v = score.metrics[m];
            keys << (m + 1) - groupWidth / 2 + barWidth * (s + 0.5);
            values << 100 * v.mean;
            minus << 100 * std::max(0.0, v.mean - v.low);
            plus << 100 * std::max(0.0, v.high - v.mean);
            top = std::max(top, 100 * v.high);
        }
        bars->setData(keys, values, true);
        if (result.request.resamples > 0) {
            auto* errors = new QCPErrorBars(m_plot->xAxis, m_plot->yAxis);
            errors->removeFromLegend();
            errors->setDataPlottable(bars);
            errors->setData(minus, plus);
            errors->setPen(QPen(palette().color(QPalette::Text), 1.2));
            errors->setWhiskerWidth(std::max(4.0, 40.0 / systems));
            errors->setSymbolGap(0);
        }
    }
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int m = 0; m < RougeMetricCount; ++m) ticker->addTick(m + 1, rougeMetricName(m));
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setRange(0.4, RougeMetricCount + 0.6);
    m_plot->xAxis->grid()->setVisible(false);
    m_plot->yAxis->setLabel(tr("F-measure (points)"));
    m_plot->yAxis->setRange(0, std::max(10.0, top * 1.1));
    m_plot->legend->setVisible(true);
    m_plot->replot();
}

void EvaluationChart::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) setResult(m_result);
}

bool EvaluationChart::exportImage(const QString& path, QString* error) {
    return exportPlotImage(m_plot, path, QSize(1000, 600), tr("ROUGE per system"), imageFilters(), error);
}
