// TrainingEstimate: what a training setup costs before it starts, from the model's config alone:
// trainable parameters and their share (PEFT's print_trainable_parameters numbers for LoRA), the size of
// the saved model or adapter and of a checkpoint, and memory for weights, gradients and AdamW states
// (fp32; activations come on top and depend on batch size and lengths). Instant, so the Train page
// updates it on every change without building a model.
#pragma once

#include "ui/ModelInfo.h"

#include <QString>
#include <QStringList>

struct TrainingEstimate {
    bool ok = false;
    QString error;                // e.g. a LoRA target the model does not have
    qint64 baseParameters = 0;    // the model, shared embedding counted once (HF num_parameters)
    qint64 trainable = 0;         // full: every parameter; LoRA: the adapters
    qint64 all = 0;               // PEFT's "all params": base + adapters
    double trainablePercent = 0;  // 100 * trainable / all
    qint64 savedBytes = 0;        // final/: model.safetensors, or adapter_model.safetensors
    qint64 checkpointBytes = 0;   // checkpoint-N/: the same plus AdamW's two moments
    qint64 weightBytes = 0;       // in memory during training
    qint64 gradientBytes = 0;
    qint64 optimizerBytes = 0;
    qint64 totalBytes = 0;        // weights + gradients + optimizer states
};

class TrainingEstimator {
public:
    static constexpr qint64 kBytesPerParameter = 4;  // fp32 training

    // Parameters of a T5 model with this shape (what count_parameters gives for the built model).
    static qint64 parameterCount(const ModelShape& shape);
    // Parameters LoRA adds for rank r on the named linear layers (q, k, v, o in every attention; wi, wi_0,
    // wi_1, wo in every feed-forward). `error` names a target the model does not have (as apply_lora refuses it).
    static qint64 loraParameterCount(const ModelShape& shape, qint64 r, const QStringList& targets, QString* error = nullptr);
    static TrainingEstimate estimate(const ModelShape& shape, bool isLora, qint64 r, const QStringList& targets);
    // Optimizer steps the trainer runs (engine/trainer.cpp): max_steps when > 0, else
    // ceil(epochs * ceil(ceil(examples / batch) / accumulation)); examples after every_kth, then limit.
    static qint64 optimizerSteps(qint64 trainExamples, qint64 everyKth, qint64 limit, qint64 batchSize, qint64 accumulation,
                                 double epochs, qint64 maxSteps);
};
