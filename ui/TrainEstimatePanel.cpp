#include "ui/TrainEstimatePanel.h"

#include "ui/Accessible.h"
#include "ui/ModelRegistry.h"
#include "ui/TrainWidgets.h"

#include <QFormLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QThread>

#include <algorithm>
#include <optional>

using TrainWidgets::makeValueLabel;

TrainEstimatePanel::TrainEstimatePanel(QWidget* parent) : QGroupBox(tr("Estimate"), parent) {
    setObjectName("estimatePanel");
    auto* estimateForm = new QFormLayout(this);
    m_trainableLabel = makeValueLabel(this, "trainableLabel", tr("Trainable parameters"), tr("Parameters AdamW updates, and their share of all parameters"));
    m_savedSizeLabel = makeValueLabel(this, "savedSizeLabel", tr("Saved size"), tr("Size of the final model or adapter (fp32)"));
    m_checkpointSizeLabel = makeValueLabel(this, "checkpointSizeLabel", tr("Checkpoint size"), tr("Size of each checkpoint: weights plus AdamW's two moments"));
    m_memoryLabel = makeValueLabel(
        this, "memoryLabel", tr("Training memory"),
        tr("The peak of a training step in fp32: weights, gradients and AdamW's moments, the activations one batch keeps for "
           "backward (every batch padded to the maximum lengths) and the temporaries at that moment. The process holds "
           "10-20 %% more (its heap) plus the program itself (docs/BENCHMARKS.md)"));
    m_stepsEstimateLabel = makeValueLabel(this, "stepsEstimateLabel", tr("Optimizer steps"), tr("How many optimizer steps the run will take"));
    m_timeEstimateLabel = makeValueLabel(this, "timeEstimateLabel", tr("Training time"),
                                         tr("Seconds per optimizer step and for the run, from one step timed on this machine"));
    m_timeStepButton = new QPushButton(tr("T&ime a step"), this);
    Accessible::describe(m_timeStepButton, "timeStepButton", tr("Time a step"),
                         tr("Run one training step of this model at these settings (random weights, batches padded to the maximum "
                            "lengths) after a warm-up step, and estimate the run's time from it"));
    estimateForm->addRow(tr("Trainable:"), m_trainableLabel);
    estimateForm->addRow(tr("Saved model:"), m_savedSizeLabel);
    estimateForm->addRow(tr("Checkpoint:"), m_checkpointSizeLabel);
    estimateForm->addRow(tr("Memory:"), m_memoryLabel);
    estimateForm->addRow(tr("Steps:"), m_stepsEstimateLabel);
    estimateForm->addRow(tr("Time:"), m_timeEstimateLabel);
    estimateForm->addRow(QString(), m_timeStepButton);
    connect(m_timeStepButton, &QPushButton::clicked, this, &TrainEstimatePanel::timeStepClicked);
}

TrainEstimatePanel::~TrainEstimatePanel() { stopTimingStep(); }

void TrainEstimatePanel::showEstimate(const Inputs& in) {
    const QLocale locale;
    const TrainingEstimate e = in.model ? TrainingEstimator::estimate(*in.model, in.values, in.adapter) : TrainingEstimate{};
    if (!e.ok) {
        const QString why = in.model ? e.error : tr("choose a registered model");
        for (QLabel* l : {m_trainableLabel, m_savedSizeLabel, m_checkpointSizeLabel, m_memoryLabel}) l->setText(tr("– (%1)").arg(why));
    } else {
        m_trainableLabel->setText(tr("%1 of %2 parameters (%3%)")
                                      .arg(locale.toString(e.trainable), locale.toString(e.all), locale.toString(e.trainablePercent, 'f', e.trainablePercent < 10 ? 3 : 1)));
        m_savedSizeLabel->setText(in.isLora ? tr("%1 (adapter_model.safetensors)").arg(ModelRegistry::formatBytes(e.savedBytes))
                                            : tr("%1 (model.safetensors)").arg(ModelRegistry::formatBytes(e.savedBytes)));
        m_checkpointSizeLabel->setText(tr("≈ %1 each (weights + AdamW moments)").arg(ModelRegistry::formatBytes(e.checkpointBytes)));
        m_memoryLabel->setText(tr("≈ %1 at a step's peak: weights %2 + gradients %3 + AdamW %4 + activations %5 (batch %6 × %7 + %8 tokens) + "
                                  "temporaries %9")
                                   .arg(ModelRegistry::formatBytes(e.peakBytes), ModelRegistry::formatBytes(e.weightBytes),
                                        ModelRegistry::formatBytes(e.gradientBytes), ModelRegistry::formatBytes(e.optimizerBytes),
                                        ModelRegistry::formatBytes(e.activationBytes), locale.toString(e.batch), locale.toString(e.sourceLength),
                                        locale.toString(e.targetLength), ModelRegistry::formatBytes(e.workingBytes)));
    }
    const QJsonObject& v = in.values;
    const qint64 maxSteps = v.value(QStringLiteral("max_steps")).toInteger();
    const qint64 accumulation = v.value(QStringLiteral("gradient_accumulation_steps")).toInteger();
    qint64 steps = -1;  // unknown
    if (maxSteps > 0) {
        steps = maxSteps;
        m_stepsEstimateLabel->setText(tr("%1 (max_steps)").arg(locale.toString(maxSteps)));
    } else if (in.trainDialogues >= 0) {
        steps = TrainingEstimator::optimizerSteps(
            in.trainDialogues, v.value(QStringLiteral("every_kth")).toInteger(), v.value(QStringLiteral("limit")).toInteger(),
            v.value(QStringLiteral("per_device_train_batch_size")).toInteger(), accumulation,
            v.value(QStringLiteral("num_train_epochs")).toDouble(), maxSteps);
        m_stepsEstimateLabel->setText(tr("%1 (from %2 training dialogues)").arg(locale.toString(steps), locale.toString(in.trainDialogues)));
    } else {
        m_stepsEstimateLabel->setText(tr("unknown until this dataset is loaded on the Data page"));
    }
    showTimeEstimate(in, steps, accumulation);
}

void TrainEstimatePanel::showTimeEstimate(const Inputs& in, qint64 steps, qint64 accumulation) {
    const QLocale locale;
    m_timeStepButton->setEnabled(!m_probeThread && !in.isTraining && in.model != nullptr);
    if (m_probeThread) {
        m_timeEstimateLabel->setText(tr("Timing a step of this model on this machine …"));
    } else if (!m_stepTime.ok) {
        m_timeEstimateLabel->setText(m_stepTime.error.isEmpty() ? tr("not measured: Time a step runs one on this machine")
                                                                : tr("– (the probe step failed: %1)").arg(m_stepTime.error));
    } else if (!isStepTimeCurrent(TrainingEstimator::timingKey(in.modelPath, in.values, in.adapter))) {
        m_timeEstimateLabel->setText(tr("measured for other settings: time a step again"));
    } else {
        const double perStep = TrainingEstimator::secondsPerStep(m_stepTime, accumulation);
        QString text = tr("%1 s per optimizer step (%2 × %3 s forward and backward + %4 s update)")
                           .arg(locale.toString(perStep, 'g', 3), locale.toString(std::max<qint64>(accumulation, 1)),
                                locale.toString(m_stepTime.forwardBackwardS, 'g', 3), locale.toString(m_stepTime.optimizerS, 'g', 3));
        if (steps >= 0)
            text += tr("; %1 steps ≈ %2").arg(locale.toString(steps), TrainWidgets::formatDuration(perStep * static_cast<double>(steps)));
        m_timeEstimateLabel->setText(text + tr(", at most: batches padded to the maximum lengths"));
    }
}

void TrainEstimatePanel::timeStep(const Inputs& in) {
    if (m_probeThread || in.isTraining || !in.model) return;
    const QJsonObject key = TrainingEstimator::timingKey(in.modelPath, in.values, in.adapter);
    // Copies: the thread must not read the registry's entries or the form.
    const ModelInfo model = *in.model;
    const QJsonObject values = in.values;
    const std::optional<AdapterSummary> adapterCopy = in.adapter ? std::optional<AdapterSummary>(*in.adapter) : std::nullopt;
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    m_probeCancel = cancel;
    m_probeThread = QThread::create([this, model, values, adapterCopy, cancel, key] {
        const StepTimeEstimate t = TrainingEstimator::timeStep(model, values, adapterCopy ? &*adapterCopy : nullptr, cancel.get());
        if (!cancel->load()) QMetaObject::invokeMethod(this, [this, t, key] { onStepTimed(t, key); }, Qt::QueuedConnection);
    });
    m_probeThread->setObjectName(QStringLiteral("StepTimeProbe"));
    connect(m_probeThread, &QThread::finished, this, [this, thread = m_probeThread] {
        if (m_probeThread != thread) return;  // stopTimingStep() already let it go
        m_probeThread = nullptr;
        thread->deleteLater();
        emit probeChanged();
    });
    m_probeThread->start(QThread::LowPriority);
    emit probeChanged();
}

void TrainEstimatePanel::onStepTimed(const StepTimeEstimate& timing, const QJsonObject& key) {
    m_stepTime = timing;
    m_stepTimeKey = key;
    emit probeChanged();
}

bool TrainEstimatePanel::stopTimingStep() {
    if (!m_probeThread) return false;
    m_probeCancel->store(true);  // honoured between the probe's passes
    QThread* thread = m_probeThread;
    m_probeThread = nullptr;
    thread->wait();
    thread->deleteLater();
    return true;
}

void TrainEstimatePanel::runStarted() {
    if (stopTimingStep()) emit probeChanged();
    m_timeStepButton->setEnabled(false);
}
