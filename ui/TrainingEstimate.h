// TrainingEstimate: the Train page's view of engine/training/training_estimate — what a training setup costs before it
// starts, from the registered model's config and the form's values: trainable parameters and their share
// (PEFT's print_trainable_parameters numbers for LoRA), the saved model or adapter and a checkpoint, memory at
// the peak of a step (weights, gradients, AdamW, activations for the chosen batch and lengths), optimizer
// steps, and the time of a step measured by a short probe on this machine. The arithmetic is the engine's;
// this adapter only converts Qt values in and out. Instant except timeStep(), which runs the probe.
#pragma once

#include "ui/ModelInfo.h"

#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include <atomic>

namespace sumlab {
struct T5Config;
}

struct TrainingEstimate {
    bool ok = false;
    QString error;                // e.g. a LoRA target the model does not have, or a setting out of range
    qint64 baseParameters = 0;    // the model, shared embedding counted once (HF num_parameters)
    qint64 trainable = 0;         // full: every parameter; LoRA: the adapters
    qint64 all = 0;               // PEFT's "all params": base + adapters
    double trainablePercent = 0;  // 100 * trainable / all
    qint64 savedBytes = 0;        // final/: model.safetensors, or adapter_model.safetensors
    qint64 checkpointBytes = 0;   // checkpoint-N/: the same plus AdamW's two moments
    // Memory of a training step (fp32), as engine/training/training_estimate.h derives it.
    qint64 weightBytes = 0;
    qint64 gradientBytes = 0;
    qint64 optimizerBytes = 0;
    qint64 activationBytes = 0;   // one micro-batch's tensors kept for backward
    qint64 workingBytes = 0;      // temporaries at the moment of the peak
    qint64 peakBytes = 0;         // the sum: a step's peak
    qint64 batch = 0, sourceLength = 0, targetLength = 0;  // the micro-batch assumed (padded to the maxima)
};

// A timed probe step (TrainingEstimator::timeStep).
struct StepTimeEstimate {
    bool ok = false;
    QString error;
    double forwardBackwardS = 0;  // one micro-batch's forward and backward
    double optimizerS = 0;        // clip + AdamW + zero_grad
};
Q_DECLARE_METATYPE(StepTimeEstimate)

class TrainingEstimator {
public:
    static constexpr qint64 kBytesPerParameter = 4;  // fp32 training

    // What the estimates need of a model's config.json (ModelInspector stores it in ModelInfo::shape).
    static ModelShape shapeOf(const sumlab::T5Config& config);
    // The other way: the config the engine needs from a shape (ModelInfo carries no dropout_rate: the
    // config's default stands). An empty feedForwardProj follows the shape's gated flag.
    static sumlab::T5Config configOf(const ModelShape& shape, const QString& feedForwardProj);

    // Parameters of a T5 model with this shape (what count_parameters gives for the built model).
    static qint64 parameterCount(const ModelShape& shape);
    // Parameters LoRA adds for rank r on the named linear layers (q, k, v, o in every attention; wi, wi_0,
    // wi_1, wo in every feed-forward). `error` names a target the model does not have (as apply_lora refuses it).
    static qint64 loraParameterCount(const ModelShape& shape, qint64 r, const QStringList& targets, QString* error = nullptr);

    // The estimate for `model` (a registered, inspected model or adapter) trained with the Train form's
    // `values` (TrainingArguments JSON). With `adapter`, training continues that adapter: method lora with its
    // r, lora_alpha and target_modules.
    static TrainingEstimate estimate(const ModelInfo& model, const QJsonObject& values, const AdapterSummary* adapter = nullptr);

    // Optimizer steps the trainer runs (engine optimizer_steps): max_steps when > 0, else
    // ceil(epochs * ceil(ceil(examples / batch) / accumulation)); examples after every_kth, then limit.
    static qint64 optimizerSteps(qint64 trainExamples, qint64 everyKth, qint64 limit, qint64 batchSize, qint64 accumulation,
                                 double epochs, qint64 maxSteps);

    // Times one step of `model`'s architecture (random weights) at the form's batch size and maximum lengths,
    // after a warm-up step (engine time_training_step). Blocks for seconds to minutes: call it off the GUI
    // thread. Not ok, with the reason, when it fails; not ok with an empty error when `cancel` stopped it.
    static StepTimeEstimate timeStep(const ModelInfo& model, const QJsonObject& values, const AdapterSummary* adapter,
                                     const std::atomic<bool>* cancel);
    // An optimizer step: `accumulation` forward/backward passes and one update.
    static double secondsPerStep(const StepTimeEstimate& timing, qint64 accumulation);
    // The form values that change a probe step's time (not epochs, accumulation or max_steps, which only
    // multiply it): a probe measured for other values no longer applies.
    static QJsonObject timingKey(const QString& modelPath, const QJsonObject& values, const AdapterSummary* adapter);
};
