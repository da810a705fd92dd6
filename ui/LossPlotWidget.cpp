#include "ui/LossPlotWidget.h"

#include "ui/Accessible.h"
#include "ui/PlotExport.h"
#include "ui/PlotTheme.h"

#include <qcustomplot.h>

#include <QAction>
#include <QComboBox>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QSlider>
#include <QTextStream>
#include <QToolButton>
#include <QVBoxLayout>


#include <algorithm>
#include <cmath>

namespace {

QString csvField(const QString& s) {
    if (!s.contains(',') && !s.contains('"') && !s.contains('\n')) return s;
    QString quoted = s;
    quoted.replace('"', QStringLiteral("\"\""));
    return '"' + quoted + '"';
}

QString number(double v) { return QString::number(v, 'g', 10); }

}  // namespace

LossPlotWidget::LossPlotWidget(QWidget* parent) : QWidget(parent) {
    setObjectName("lossPlotWidget");
    qRegisterMetaType<sumlab::StepMetrics>();
    qRegisterMetaType<sumlab::EvalMetrics>();
    qRegisterMetaType<RunCurves>();

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* controls = new QHBoxLayout;

    auto* xLabel = new QLabel(tr("&X axis:"), this);
    m_xAxisCombo = new QComboBox(this);
    m_xAxisCombo->addItem(tr("Step"), static_cast<int>(XAxis::Step));
    m_xAxisCombo->addItem(tr("Epoch"), static_cast<int>(XAxis::Epoch));
    m_xAxisCombo->addItem(tr("Tokens seen"), static_cast<int>(XAxis::Tokens));
    Accessible::describe(m_xAxisCombo, "xAxisCombo", tr("X axis"), tr("Plot against optimizer steps, epochs or training tokens seen"));
    xLabel->setBuddy(m_xAxisCombo);

    auto* smoothLabel = new QLabel(tr("S&moothing:"), this);
    m_smoothingSlider = new QSlider(Qt::Horizontal, this);
    m_smoothingSlider->setRange(0, 99);
    m_smoothingSlider->setFixedWidth(100);
    Accessible::describe(m_smoothingSlider, "smoothingSlider", tr("Smoothing"),
                         tr("Weight of the exponential moving average of the training loss (0 = none); raw points stay visible"));
    smoothLabel->setBuddy(m_smoothingSlider);
    m_smoothingValue = new QLabel(this);
    m_smoothingValue->setMinimumWidth(m_smoothingValue->fontMetrics().horizontalAdvance(QStringLiteral("0.00")));
    Accessible::describe(m_smoothingValue, "smoothingValueLabel", tr("Smoothing weight"), tr("The moving average's weight"));

    m_viewButton = new QToolButton(this);
    m_viewButton->setText(tr("&View"));
    m_viewButton->setPopupMode(QToolButton::InstantPopup);
    m_viewButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    Accessible::describe(m_viewButton, "plotViewButton", tr("Plot view options"), tr("Learning-rate axis, logarithmic loss axis, reset zoom"));
    auto* viewMenu = new QMenu(m_viewButton);
    m_lrAction = viewMenu->addAction(tr("&Learning rate (right axis)"));
    m_lrAction->setObjectName("showLearningRateAction");
    m_lrAction->setCheckable(true);
    m_lrAction->setChecked(true);
    m_logAction = viewMenu->addAction(tr("L&ogarithmic loss axis"));
    m_logAction->setObjectName("logScaleAction");
    m_logAction->setCheckable(true);
    viewMenu->addSeparator();
    m_resetAction = viewMenu->addAction(tr("&Reset Zoom"));
    m_resetAction->setObjectName("resetViewAction");
    m_resetAction->setToolTip(tr("Fit every curve again after zooming or panning (or double-click the plot)"));
    m_viewButton->setMenu(viewMenu);
    m_exportButton = new QPushButton(tr("E&xport…"), this);
    Accessible::describe(m_exportButton, "exportPlotButton", tr("Export plot"),
                         tr("Save the plot as %1, or its data as CSV").arg(imageFilters().join(QStringLiteral(", "))));

    controls->addWidget(xLabel);
    controls->addWidget(m_xAxisCombo);
    controls->addSpacing(8);
    controls->addWidget(smoothLabel);
    controls->addWidget(m_smoothingSlider);
    controls->addWidget(m_smoothingValue);
    controls->addSpacing(8);
    controls->addWidget(m_viewButton);
    controls->addStretch(1);
    controls->addWidget(m_exportButton);
    layout->addLayout(controls);

    m_plot = new QCustomPlot(this);
    m_plot->setObjectName("lossPlot");
    m_plot->setAccessibleName(tr("Loss curves"));
    m_plot->setAccessibleDescription(tr("Training loss, eval loss and learning rate"));
    m_plot->setMinimumHeight(200);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->axisRect()->setRangeDragAxes({m_plot->xAxis}, {m_plot->yAxis, m_plot->yAxis2});
    m_plot->axisRect()->setRangeZoomAxes({m_plot->xAxis}, {m_plot->yAxis, m_plot->yAxis2});
    m_plot->yAxis->setLabel(tr("loss"));
    m_plot->yAxis2->setLabel(tr("learning rate"));
    m_plot->yAxis2->setNumberFormat(QStringLiteral("eb"));
    m_plot->yAxis2->setNumberPrecision(1);
    m_plot->legend->setVisible(true);
    QFont legendFont = font();
    legendFont.setPointSizeF(std::max(6.0, legendFont.pointSizeF() - 1));
    m_plot->legend->setFont(legendFont);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    layout->addWidget(m_plot, 1);

    m_emptyHint = new QLabel(tr("No curves yet: start a run on the Train page, or select runs on the Runs page."), this);
    m_emptyHint->setObjectName("lossPlotEmptyHint");
    m_emptyHint->setAlignment(Qt::AlignCenter);
    m_emptyHint->setWordWrap(true);
    layout->addWidget(m_emptyHint);

    connect(m_plot, &QCustomPlot::mousePress, this, [this] { m_userMovedView = true; });
    connect(m_plot, &QCustomPlot::mouseWheel, this, [this] { m_userMovedView = true; });
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, &LossPlotWidget::resetView);
    connect(m_resetAction, &QAction::triggered, this, &LossPlotWidget::resetView);
    connect(m_exportButton, &QPushButton::clicked, this, &LossPlotWidget::exportInteractively);
    connect(m_xAxisCombo, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this] { setXAxis(static_cast<XAxis>(m_xAxisCombo->currentData().toInt())); });
    connect(m_smoothingSlider, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });
    connect(m_lrAction, &QAction::toggled, this, &LossPlotWidget::setLearningRateVisible);
    connect(m_logAction, &QAction::toggled, this, [this](bool on) {
        m_plot->yAxis->setScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
        m_plot->yAxis->setTicker(on ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog) : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        resetView();
    });

    setTabOrder(m_xAxisCombo, m_smoothingSlider);
    setTabOrder(m_smoothingSlider, m_viewButton);
    setTabOrder(m_viewButton, m_exportButton);

    PlotTheme::apply(m_plot, palette());
    {
        QSignalBlocker blocker(m_smoothingSlider);
        m_smoothingSlider->setValue(static_cast<int>(std::lround(m_smoothing * 100)));
    }
    m_smoothingValue->setText(QLocale().toString(m_smoothing, 'f', 2));
    updateAxisLabels();
    updateEmptyHint();
}

QStringList LossPlotWidget::imageFilters() { return plotImageFilters(); }

QVector<double> LossPlotWidget::emaSmooth(const QVector<double>& values, double weight) {
    QVector<double> out;
    out.reserve(values.size());
    double biased = 0;
    double correction = 1;
    for (double v : values) {
        biased = weight * biased + (1 - weight) * v;
        correction *= weight;
        out << (weight > 0 ? biased / (1 - correction) : v);
    }
    return out;
}

void LossPlotWidget::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) {
        PlotTheme::apply(m_plot, palette());
        m_plot->replot();
    }
}

double LossPlotWidget::xOf(const sumlab::StepMetrics& p) const {
    switch (m_xAxis) {
        case XAxis::Step: return static_cast<double>(p.step);
        case XAxis::Epoch: return p.epoch;
        case XAxis::Tokens: return static_cast<double>(p.tokens_seen);
    }
    return 0;
}

double LossPlotWidget::xOfEval(const RunGraphs& run, const sumlab::EvalMetrics& p) const {
    if (m_xAxis == XAxis::Step) return static_cast<double>(p.step);
    if (m_xAxis == XAxis::Epoch) return p.epoch;
    // Evaluations do not count tokens: interpolate the tokens seen between the logging lines around the step.
    const QVector<sumlab::StepMetrics>& steps = run.curves.steps;
    if (steps.isEmpty()) return qQNaN();
    auto after = std::lower_bound(steps.begin(), steps.end(), p.step, [](const sumlab::StepMetrics& s, qint64 step) { return s.step < step; });
    if (after == steps.end()) return static_cast<double>(steps.last().tokens_seen);
    if (after->step == p.step || after == steps.begin()) return static_cast<double>(after->tokens_seen);
    const sumlab::StepMetrics& before = *(after - 1);
    const double t = static_cast<double>(p.step - before.step) / static_cast<double>(after->step - before.step);
    return static_cast<double>(before.tokens_seen) + t * static_cast<double>(after->tokens_seen - before.tokens_seen);
}

void LossPlotWidget::styleRun(RunGraphs& run, int index) {
    const bool single = m_runs.size() <= 1;
    const QColor base = PlotTheme::seriesColor(index);
    const QColor evalColor = single ? PlotTheme::seriesColor(3) : base;
    const QColor lrColor = single ? PlotTheme::seriesColor(2) : base;
    run.raw->setLineStyle(QCPGraph::lsNone);
    run.raw->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, PlotTheme::translucent(base, 110), 4));
    run.raw->setPen(QPen(PlotTheme::translucent(base, 110)));
    run.smooth->setPen(QPen(base, 2));
    run.eval->setPen(QPen(evalColor, 2, single ? Qt::SolidLine : Qt::DashLine));
    run.eval->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, evalColor, 7));
    run.lr->setPen(QPen(lrColor, 1.2, Qt::DotLine));
    const QString prefix = single ? QString() : run.curves.name + QStringLiteral(": ");
    run.raw->setName(prefix + tr("training loss (raw)"));
    run.smooth->setName(single ? tr("training loss (smoothed)") : run.curves.name);
    run.eval->setName(prefix + tr("eval loss"));
    run.lr->setName(prefix + tr("learning rate"));
    if (!single) run.raw->removeFromLegend();
    run.lr->setVisible(m_showLearningRate);
    if (!m_showLearningRate) run.lr->removeFromLegend();
    run.eval->setVisible(!run.curves.evals.isEmpty() || single);
    if (run.curves.evals.isEmpty()) run.eval->removeFromLegend();
}

void LossPlotWidget::refillRun(RunGraphs& run) {
    QVector<double> xs, losses, lrs;
    for (const sumlab::StepMetrics& p : run.curves.steps) {
        xs << xOf(p);
        losses << p.loss;
        lrs << p.learning_rate;
    }
    run.smoothed = emaSmooth(losses, m_smoothing);
    run.emaBiased = 0;
    run.emaCount = 0;
    for (double v : losses) {
        run.emaBiased = m_smoothing * run.emaBiased + (1 - m_smoothing) * v;
        ++run.emaCount;
    }
    run.raw->setData(xs, losses, true);
    run.smooth->setData(xs, run.smoothed, true);
    run.lr->setData(xs, lrs, true);
    QVector<double> ex, ey;
    for (const sumlab::EvalMetrics& e : run.curves.evals) {
        const double x = xOfEval(run, e);
        if (std::isnan(x)) continue;
        ex << x;
        ey << e.eval_loss;
    }
    run.eval->setData(ex, ey, true);
}

void LossPlotWidget::addRunGraphs(const RunCurves& curves) {
    RunGraphs run;
    run.curves = curves;
    run.raw = m_plot->addGraph(m_plot->xAxis, m_plot->yAxis);
    run.smooth = m_plot->addGraph(m_plot->xAxis, m_plot->yAxis);
    run.eval = m_plot->addGraph(m_plot->xAxis, m_plot->yAxis);
    run.lr = m_plot->addGraph(m_plot->xAxis, m_plot->yAxis2);
    m_runs.push_back(run);
}

void LossPlotWidget::rebuildGraphs() {
    m_plot->clearGraphs();
    QVector<RunCurves> curves;
    for (const RunGraphs& r : m_runs) curves << r.curves;
    m_runs.clear();
    for (const RunCurves& c : curves) addRunGraphs(c);
    for (int i = 0; i < m_runs.size(); ++i) {
        styleRun(m_runs[i], i);
        refillRun(m_runs[i]);
    }
    updateAxisLabels();
    updateEmptyHint();
    autoRange();
    m_plot->replot();
}

void LossPlotWidget::setRuns(const QVector<RunCurves>& runs, bool keepView) {
    m_plot->clearGraphs();
    m_runs.clear();
    for (const RunCurves& c : runs) {
        RunGraphs r;
        r.curves = c;
        m_runs.push_back(r);
    }
    if (!keepView) m_userMovedView = false;
    rebuildGraphs();
}

void LossPlotWidget::startLiveRun(const QString& name) { setRuns({RunCurves{name, {}, {}}}); }

void LossPlotWidget::clear() { setRuns({}); }

void LossPlotWidget::addStep(const sumlab::StepMetrics& point) {
    if (m_runs.isEmpty()) startLiveRun(tr("run"));
    RunGraphs& run = m_runs.last();
    run.curves.steps << point;
    run.emaBiased = m_smoothing * run.emaBiased + (1 - m_smoothing) * point.loss;
    ++run.emaCount;
    const double smoothed = m_smoothing > 0 ? run.emaBiased / (1 - std::pow(m_smoothing, run.emaCount)) : point.loss;
    run.smoothed << smoothed;
    const double x = xOf(point);
    run.raw->addData(x, point.loss);
    run.smooth->addData(x, smoothed);
    run.lr->addData(x, point.learning_rate);
    updateEmptyHint();
    autoRange();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void LossPlotWidget::addEval(const sumlab::EvalMetrics& point) {
    if (m_runs.isEmpty()) startLiveRun(tr("run"));
    RunGraphs& run = m_runs.last();
    const bool first = run.curves.evals.isEmpty();
    run.curves.evals << point;
    const double x = xOfEval(run, point);
    if (!std::isnan(x)) run.eval->addData(x, point.eval_loss);
    if (first) {
        run.eval->setVisible(true);
        run.eval->addToLegend();
    }
    updateEmptyHint();
    autoRange();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QVector<double> LossPlotWidget::smoothedLoss(int run) const { return m_runs.at(run).smoothed; }

void LossPlotWidget::setXAxis(XAxis axis) {
    if (axis == m_xAxis) return;
    m_xAxis = axis;
    {
        QSignalBlocker blocker(m_xAxisCombo);
        m_xAxisCombo->setCurrentIndex(m_xAxisCombo->findData(static_cast<int>(axis)));
    }
    m_userMovedView = false;
    rebuildGraphs();
    emit xAxisChanged(axis);
}

void LossPlotWidget::setSmoothing(double weight) {
    weight = std::clamp(weight, 0.0, 0.99);
    if (std::abs(weight - m_smoothing) < 1e-9) return;
    m_smoothing = weight;
    {
        QSignalBlocker blocker(m_smoothingSlider);
        m_smoothingSlider->setValue(static_cast<int>(std::lround(weight * 100)));
    }
    m_smoothingValue->setText(QLocale().toString(weight, 'f', 2));
    for (RunGraphs& r : m_runs) refillRun(r);
    m_plot->replot();
    emit smoothingChanged(weight);
}

void LossPlotWidget::setLearningRateVisible(bool visible) {
    m_showLearningRate = visible;
    {
        QSignalBlocker blocker(m_lrAction);
        m_lrAction->setChecked(visible);
    }
    rebuildGraphs();  // shows the learning-rate axis where there is a learning rate to show
}

void LossPlotWidget::updateAxisLabels() {
    switch (m_xAxis) {
        case XAxis::Step: m_plot->xAxis->setLabel(tr("optimizer step")); break;
        case XAxis::Epoch: m_plot->xAxis->setLabel(tr("epoch")); break;
        case XAxis::Tokens: m_plot->xAxis->setLabel(tr("training tokens seen")); break;
    }
}

void LossPlotWidget::updateEmptyHint() {
    bool any = false;
    for (const RunGraphs& r : m_runs) any = any || !r.curves.steps.isEmpty() || !r.curves.evals.isEmpty();
    m_emptyHint->setVisible(!any);
    m_plot->legend->setVisible(any);  // an empty legend is an empty box in the corner
}

// The learning-rate axis appears with its data: an empty plot shows no "0.0·10^0 … 5.0·10^0" scale.
void LossPlotWidget::updateLearningRateAxis() {
    bool any = false;
    for (const RunGraphs& r : m_runs) any = any || (r.lr && !r.lr->data()->isEmpty());
    m_plot->yAxis2->setVisible(m_showLearningRate && any);
}

void LossPlotWidget::autoRange() {
    updateLearningRateAxis();
    if (m_userMovedView) return;
    bool haveLoss = false, haveLr = false;
    QCPRange x, loss, lr;
    auto merge = [](QCPRange& into, bool& have, const QCPRange& r) {
        if (!have) into = r;
        else into.expand(r);
        have = true;
    };
    bool haveX = false;
    for (const RunGraphs& r : m_runs) {
        for (QCPGraph* g : {r.raw, r.smooth, r.eval, r.lr}) {
            if (!g->visible() || g->dataCount() == 0) continue;
            bool found = false;
            const QCPRange keys = g->getKeyRange(found);
            if (found) merge(x, haveX, keys);
            const QCPAxis::ScaleType scale = g->valueAxis()->scaleType();
            const QCPRange values = g->getValueRange(found, QCP::sdBoth, QCPRange());
            if (!found) continue;
            if (g == r.lr) merge(lr, haveLr, values);
            else if (scale == QCPAxis::stLinear || values.lower > 0) merge(loss, haveLoss, values);
        }
    }
    if (haveX) {
        if (x.size() <= 0) x = QCPRange(x.lower - 1, x.upper + 1);
        m_plot->xAxis->setRange(x.lower, x.upper + x.size() * 0.02);
    }
    if (haveLoss) {
        if (m_plot->yAxis->scaleType() == QCPAxis::stLogarithmic) {
            m_plot->yAxis->setRange(loss.lower / 1.2, loss.upper * 1.2);
        } else {
            const double pad = loss.size() > 0 ? loss.size() * 0.05 : std::max(0.1, std::abs(loss.upper) * 0.1);
            m_plot->yAxis->setRange(std::max(0.0, loss.lower - pad), loss.upper + pad);
        }
    }
    if (haveLr) {
        const double pad = lr.size() > 0 ? lr.size() * 0.05 : std::max(1e-12, std::abs(lr.upper) * 0.1);
        m_plot->yAxis2->setRange(std::max(0.0, lr.lower - pad), lr.upper + pad);
    }
}

void LossPlotWidget::resetView() {
    m_userMovedView = false;
    autoRange();
    m_plot->replot();
}

bool LossPlotWidget::exportImage(const QString& path, QString* error) {
    return exportPlotImage(m_plot, path, QSize(1200, 700), tr("Loss curves"), imageFilters(), error);
}

bool LossPlotWidget::exportCsv(const QString& path, QString* error) const {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        if (error) *error = tr("Could not open %1 for writing: %2").arg(path, file.errorString());
        return false;
    }
    QTextStream out(&file);
    // The eval_rouge* columns (predict_with_generate) are empty for evaluations that generated nothing.
    out << "run,kind,step,epoch,tokens_seen,loss,loss_smoothed,learning_rate,grad_norm,eval_loss,eval_rouge1,eval_rouge2,"
           "eval_rougeL,eval_rougeLsum,eval_gen_len\n";
    for (const RunGraphs& r : m_runs) {
        const QString name = csvField(r.curves.name);
        for (int i = 0; i < r.curves.steps.size(); ++i) {
            const sumlab::StepMetrics& p = r.curves.steps[i];
            out << name << ",train," << p.step << ',' << number(p.epoch) << ',' << p.tokens_seen << ',' << number(p.loss) << ','
                << number(r.smoothed.value(i)) << ',' << number(p.learning_rate) << ',' << number(p.grad_norm) << ",,,,,,\n";
        }
        for (const sumlab::EvalMetrics& e : r.curves.evals) {
            out << name << ",eval," << e.step << ',' << number(e.epoch) << ",,,,,," << number(e.eval_loss);
            if (e.has_rouge)
                out << ',' << number(e.eval_rouge1) << ',' << number(e.eval_rouge2) << ',' << number(e.eval_rougeL) << ','
                    << number(e.eval_rougeLsum) << ',' << number(e.eval_gen_len);
            else
                out << ",,,,,";
            out << '\n';
        }
    }
    out.flush();
    if (!file.commit()) {
        if (error) *error = tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

void LossPlotWidget::exportInteractively() {
    QSettings settings;
    const QString dir = settings.value(QStringLiteral("plot/exportFolder"), QDir::homePath()).toString();
    QStringList filters = imageFilters();
    filters << tr("CSV data (*.csv)");
    QString selected = filters.first();
    QString path = QFileDialog::getSaveFileName(this, tr("Export Loss Curves"), QDir(dir).filePath(QStringLiteral("loss.png")),
                                                filters.join(QStringLiteral(";;")), &selected);
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) {
        const int star = selected.indexOf(QLatin1String("*."));
        if (star >= 0) path += selected.mid(star + 1, selected.indexOf(')', star) - star - 1);
    }
    settings.setValue(QStringLiteral("plot/exportFolder"), QFileInfo(path).absolutePath());
    QString error;
    const bool ok = QFileInfo(path).suffix().compare(QLatin1String("csv"), Qt::CaseInsensitive) == 0 ? exportCsv(path, &error)
                                                                                                      : exportImage(path, &error);
    if (!ok) QMessageBox::warning(this, tr("Export Failed"), error);
}
