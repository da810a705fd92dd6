#include "ui/RougePlotWidget.h"

#include "ui/PlotTheme.h"

#include <qcustomplot.h>

#include <QEvent>
#include <QVBoxLayout>

#include <algorithm>

namespace {

struct Curve {
    const char* name;
    double sumlab::EvalMetrics::*value;
};
const Curve kCurves[] = {{"ROUGE-1", &sumlab::EvalMetrics::eval_rouge1},
                         {"ROUGE-2", &sumlab::EvalMetrics::eval_rouge2},
                         {"ROUGE-L", &sumlab::EvalMetrics::eval_rougeL},
                         {"ROUGE-Lsum", &sumlab::EvalMetrics::eval_rougeLsum}};

}  // namespace

RougePlotWidget::RougePlotWidget(QWidget* parent) : QWidget(parent) {
    setObjectName("rougePlotWidget");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_plot = new QCustomPlot(this);
    m_plot->setObjectName("rougePlot");
    m_plot->setAccessibleName(tr("ROUGE at each evaluation"));
    m_plot->setAccessibleDescription(tr("ROUGE F-measures of the summaries generated for the first validation examples"));
    m_plot->setMinimumHeight(160);
    m_plot->xAxis->setLabel(tr("optimizer step"));
    m_plot->yAxis->setLabel(tr("ROUGE F (validation)"));
    m_plot->legend->setVisible(true);
    QFont legendFont = font();
    legendFont.setPointSizeF(std::max(6.0, legendFont.pointSizeF() - 1));
    m_plot->legend->setFont(legendFont);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    layout->addWidget(m_plot, 1);
    PlotTheme::apply(m_plot, palette());
}

void RougePlotWidget::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) {
        PlotTheme::apply(m_plot, palette());
        m_plot->replot();
    }
}

void RougePlotWidget::setRuns(const QVector<RunCurves>& runs) {
    m_runs = runs;
    rebuild();
}

void RougePlotWidget::startLiveRun(const QString& name) { setRuns({RunCurves{name, {}, {}}}); }

void RougePlotWidget::addEval(const sumlab::EvalMetrics& point) {
    if (m_runs.isEmpty()) m_runs.push_back(RunCurves{tr("run"), {}, {}});
    m_runs.last().evals << point;
    if (point.has_rouge) rebuild();
}

bool RougePlotWidget::hasData() const {
    for (const RunCurves& r : m_runs)
        for (const sumlab::EvalMetrics& e : r.evals)
            if (e.has_rouge) return true;
    return false;
}

QVector<double> RougePlotWidget::values(const QString& curveName) const {
    for (int i = 0; i < m_plot->graphCount(); ++i) {
        if (m_plot->graph(i)->name() != curveName) continue;
        QVector<double> out;
        for (auto it = m_plot->graph(i)->data()->constBegin(); it != m_plot->graph(i)->data()->constEnd(); ++it) out << it->value;
        return out;
    }
    return {};
}

void RougePlotWidget::rebuild() {
    m_plot->clearGraphs();
    const bool single = m_runs.size() <= 1;
    for (int r = 0; r < m_runs.size(); ++r) {
        for (int c = 0; c < 4; ++c) {
            if (!single && kCurves[c].value != &sumlab::EvalMetrics::eval_rougeL) continue;  // comparisons: ROUGE-L only
            QVector<double> xs, ys;
            for (const sumlab::EvalMetrics& e : m_runs[r].evals) {
                if (!e.has_rouge) continue;
                xs << static_cast<double>(e.step);
                ys << e.*kCurves[c].value;
            }
            if (xs.isEmpty()) continue;
            QCPGraph* g = m_plot->addGraph();
            g->setData(xs, ys, true);
            const QColor color = PlotTheme::seriesColor(single ? c : r);
            g->setPen(QPen(color, 2));
            g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, 6));
            g->setName(single ? QString::fromLatin1(kCurves[c].name) : m_runs[r].name + QStringLiteral(": ") + QString::fromLatin1(kCurves[c].name));
        }
    }
    rescale();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void RougePlotWidget::rescale() {
    double lowX = 0, highX = 1, highY = 0;
    bool any = false;
    for (int i = 0; i < m_plot->graphCount(); ++i) {
        for (auto it = m_plot->graph(i)->data()->constBegin(); it != m_plot->graph(i)->data()->constEnd(); ++it) {
            lowX = any ? std::min(lowX, it->key) : it->key;
            highX = any ? std::max(highX, it->key) : it->key;
            highY = std::max(highY, it->value);
            any = true;
        }
    }
    if (lowX >= highX) highX = lowX + 1;
    m_plot->xAxis->setRange(lowX - (highX - lowX) * 0.03, highX + (highX - lowX) * 0.03);
    m_plot->yAxis->setRange(0, highY > 0 ? std::min(1.0, highY * 1.15) : 1.0);
}
