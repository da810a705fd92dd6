// LossPlotWidget: training curves on a QCustomPlot. Per run: the raw training loss (points, always drawn),
// its exponential moving average (debiased, weight adjustable), the eval loss, and the learning rate on
// a second axis. The x-axis is the step, the epoch or the tokens seen. Drag to pan, wheel to zoom,
// double-click to reset; export as PNG/JPG/PDF (SVG when Qt SVG is built in) and the data as CSV.
// Several runs overlay (the Runs page's comparison); one live run grows point by point (the Train page).
#pragma once

#include "ui/TrainingMetrics.h"

#include <QVector>
#include <QWidget>

class QAction;
class QComboBox;
class QCustomPlot;
class QCPGraph;
class QLabel;
class QPushButton;
class QSlider;
class QToolButton;

class LossPlotWidget : public QWidget {
    Q_OBJECT
public:
    enum class XAxis { Step, Epoch, Tokens };

    explicit LossPlotWidget(QWidget* parent = nullptr);

    // Replaces every curve. With keepView, a view the user zoomed or panned stays (for live updates).
    void setRuns(const QVector<RunCurves>& runs, bool keepView = false);
    // One empty run that addStep/addEval extend.
    void startLiveRun(const QString& name);
    void clear();
    // Append to the last run (a live run); points must come in step order.
    void addStep(const sumlab::StepMetrics& point);
    void addEval(const sumlab::EvalMetrics& point);

    void setXAxis(XAxis axis);
    XAxis xAxis() const { return m_xAxis; }
    // EMA weight in [0, 0.99]: 0 = no smoothing.
    void setSmoothing(double weight);
    double smoothing() const { return m_smoothing; }
    void setLearningRateVisible(bool visible);

    int runCount() const { return m_runs.size(); }
    const RunCurves& run(int index) const { return m_runs.at(index).curves; }
    // The smoothed training loss of a run, one value per step point.
    QVector<double> smoothedLoss(int run) const;
    QCustomPlot* plot() const { return m_plot; }

    // Writes the plot as PNG, JPG or PDF (or SVG when available), chosen by the file suffix.
    bool exportImage(const QString& path, QString* error = nullptr);
    // Writes every point: run,kind,step,epoch,tokens_seen,loss,loss_smoothed,learning_rate,grad_norm,eval_loss.
    bool exportCsv(const QString& path, QString* error = nullptr) const;
    // The image formats this build can write, as file-dialog filters.
    static QStringList imageFilters();

    // TensorBoard's smoothing: s_t = w s_{t-1} + (1-w) x_t from s_0 = 0, divided by 1 - w^t (debiased).
    static QVector<double> emaSmooth(const QVector<double>& values, double weight);

public slots:
    void resetView();

signals:
    void xAxisChanged(LossPlotWidget::XAxis axis);
    void smoothingChanged(double weight);

protected:
    void changeEvent(QEvent* event) override;

private:
    struct RunGraphs {
        RunCurves curves;
        QCPGraph* raw = nullptr;
        QCPGraph* smooth = nullptr;
        QCPGraph* eval = nullptr;
        QCPGraph* lr = nullptr;
        double emaBiased = 0;  // running state of the smoothing, for appends
        int emaCount = 0;
        QVector<double> smoothed;
    };
    void addRunGraphs(const RunCurves& curves);
    void rebuildGraphs();
    void refillRun(RunGraphs& run);
    void styleRun(RunGraphs& run, int index);
    double xOf(const sumlab::StepMetrics& p) const;
    double xOfEval(const RunGraphs& run, const sumlab::EvalMetrics& p) const;
    void updateAxisLabels();
    void autoRange();
    void updateLearningRateAxis();
    void exportInteractively();
    void updateEmptyHint();

    QCustomPlot* m_plot = nullptr;
    QComboBox* m_xAxisCombo = nullptr;
    QSlider* m_smoothingSlider = nullptr;
    QLabel* m_smoothingValue = nullptr;
    QToolButton* m_viewButton = nullptr;
    QAction* m_lrAction = nullptr;
    QAction* m_logAction = nullptr;
    QAction* m_resetAction = nullptr;
    QPushButton* m_exportButton = nullptr;
    QLabel* m_emptyHint = nullptr;

    QVector<RunGraphs> m_runs;
    XAxis m_xAxis = XAxis::Step;
    double m_smoothing = 0.6;
    bool m_showLearningRate = true;
    bool m_userMovedView = false;
};
