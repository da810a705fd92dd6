#include "ui/TrainRunMonitor.h"

#include "ui/Accessible.h"
#include "ui/LossPlotWidget.h"
#include "ui/RougePlotWidget.h"
#include "ui/TrainWidgets.h"

#include <QGridLayout>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSplitter>
#include <QTime>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>

using TrainWidgets::formatDuration;
using TrainWidgets::makeValueLabel;

TrainRunMonitor::TrainRunMonitor(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);

    m_progress = new QProgressBar(this);
    Accessible::describe(m_progress, "trainProgressBar", tr("Training progress"), tr("Optimizer steps done of all steps"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    layout->addWidget(m_progress);

    auto* live = new QGridLayout;
    m_stepLabel = makeValueLabel(this, "stepLabel", tr("Step and epoch"), tr("Optimizer step and epoch of the latest log line"));
    m_lossLabel = makeValueLabel(this, "lossLabel", tr("Latest loss"), tr("Training loss of the latest log line, and the latest eval loss"));
    m_speedLabel = makeValueLabel(this, "tokensPerSecondLabel", tr("Tokens per second"), tr("Training tokens (prompt + summary) processed per second"));
    m_elapsedLabel = makeValueLabel(this, "elapsedLabel", tr("Elapsed time"), tr("Training time so far"));
    m_etaLabel = makeValueLabel(this, "etaLabel", tr("Estimated time left"), tr("Time to the last step at the current speed"));
    live->addWidget(m_stepLabel, 0, 0);
    live->addWidget(m_lossLabel, 0, 1);
    live->addWidget(m_speedLabel, 1, 0);
    live->addWidget(m_elapsedLabel, 1, 1);
    live->addWidget(m_etaLabel, 1, 2);
    live->setColumnStretch(0, 1);
    live->setColumnStretch(1, 1);
    live->setColumnStretch(2, 1);
    layout->addLayout(live);

    auto* plots = new QSplitter(Qt::Horizontal, this);
    plots->setObjectName("trainPlotsSplitter");
    plots->setChildrenCollapsible(false);
    m_plot = new LossPlotWidget(plots);
    m_plot->setObjectName("trainLossPlot");
    m_rougePlot = new RougePlotWidget(plots);
    m_rougePlot->setObjectName("trainRougePlot");
    m_rougePlot->hide();
    plots->addWidget(m_plot);
    plots->addWidget(m_rougePlot);
    plots->setStretchFactor(0, 3);
    plots->setStretchFactor(1, 2);
    layout->addWidget(plots, 1);

    m_log = new QPlainTextEdit(this);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_log->setMaximumHeight(m_log->fontMetrics().height() * 6);
    Accessible::describe(m_log, "trainLog", tr("Training log"), tr("Checkpoints, warnings and errors of the run"));
    layout->addWidget(m_log);
}

void TrainRunMonitor::reset(const RunCurves& history) {
    m_hasStep = false;
    m_lastEvalLoss = -1;
    m_plot->setRuns({history});
    m_rougePlot->setRuns({history});
    m_rougePlot->setVisible(m_rougePlot->hasData());
    if (!history.steps.isEmpty()) {
        m_lastStep = history.steps.last();
        m_hasStep = true;
    }
    m_log->clear();
}

void TrainRunMonitor::appendLog(const QString& line) {
    m_log->appendPlainText(QStringLiteral("%1  %2").arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss")), line));
}

void TrainRunMonitor::showStep(const sumlab::StepMetrics& p) {
    m_lastStep = p;
    m_hasStep = true;
    m_plot->addStep(p);
    const QLocale locale;
    m_progress->setRange(0, static_cast<int>(std::min<qint64>(p.max_steps, INT_MAX)));
    m_progress->setValue(static_cast<int>(std::min<qint64>(p.step, INT_MAX)));
    m_stepLabel->setText(tr("Step %1 / %2 · epoch %3").arg(locale.toString(p.step), locale.toString(p.max_steps), locale.toString(p.epoch, 'f', 2)));
    m_lossLabel->setText(m_lastEvalLoss >= 0 ? tr("Loss %1 · eval %2").arg(locale.toString(p.loss, 'f', 4), locale.toString(m_lastEvalLoss, 'f', 4))
                                             : tr("Loss %1").arg(locale.toString(p.loss, 'f', 4)));
    m_speedLabel->setText(tr("%1 tokens/s").arg(locale.toString(p.tokens_per_second, 'f', 0)));
    m_elapsedLabel->setText(tr("Elapsed %1").arg(formatDuration(p.elapsed_s)));
    m_etaLabel->setText(tr("ETA %1").arg(formatDuration(p.eta_s)));
}

void TrainRunMonitor::showEval(const sumlab::EvalMetrics& p) {
    m_lastEvalLoss = p.eval_loss;
    m_plot->addEval(p);
    const QLocale locale;
    m_lossLabel->setText(m_hasStep ? tr("Loss %1 · eval %2").arg(locale.toString(m_lastStep.loss, 'f', 4), locale.toString(p.eval_loss, 'f', 4))
                                   : tr("Eval loss %1").arg(locale.toString(p.eval_loss, 'f', 4)));
    if (!p.has_rouge) {
        appendLog(tr("Step %1: eval loss %2").arg(p.step).arg(locale.toString(p.eval_loss, 'f', 4)));
        return;
    }
    m_rougePlot->addEval(p);
    m_rougePlot->show();
    m_lossLabel->setText(m_lossLabel->text() + tr(" · ROUGE-L %1").arg(locale.toString(p.eval_rougeL, 'f', 4)));
    appendLog(tr("Step %1: eval loss %2, ROUGE-1 %3, ROUGE-2 %4, ROUGE-L %5, ROUGE-Lsum %6 (%7 summaries, %8 tokens on average)")
                  .arg(p.step)
                  .arg(locale.toString(p.eval_loss, 'f', 4), locale.toString(p.eval_rouge1, 'f', 4), locale.toString(p.eval_rouge2, 'f', 4),
                       locale.toString(p.eval_rougeL, 'f', 4), locale.toString(p.eval_rougeLsum, 'f', 4), locale.toString(p.eval_generated),
                       locale.toString(p.eval_gen_len, 'f', 1)));
}
