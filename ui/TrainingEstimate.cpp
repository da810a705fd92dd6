#include "ui/TrainingEstimate.h"

#include <QObject>

#include <algorithm>
#include <cmath>

qint64 TrainingEstimator::parameterCount(const ModelShape& s) {
    const qint64 d = s.dModel;
    const qint64 inner = s.innerDim();
    const qint64 attention = 4 * d * inner;  // q, k, v (d -> inner) and o (inner -> d), no biases
    const qint64 feedForward = (s.isGated ? 3 : 2) * d * s.dFf;  // wi_0, wi_1, wo (gated) or wi, wo
    const qint64 relativeBias = s.relativeAttentionNumBuckets * s.numHeads;  // block 0 of each stack
    const qint64 encoderBlock = attention + feedForward + 2 * d;               // two layer norms
    const qint64 decoderBlock = 2 * attention + feedForward + 3 * d;           // self + cross attention, three layer norms
    const qint64 embeddings = s.vocabSize * d * (s.tieWordEmbeddings ? 1 : 2);  // shared (+ lm_head when untied)
    return embeddings + s.numLayers * encoderBlock + relativeBias + d + s.numDecoderLayers * decoderBlock + relativeBias + d;
}

qint64 TrainingEstimator::loraParameterCount(const ModelShape& s, qint64 r, const QStringList& targets, QString* error) {
    const qint64 d = s.dModel;
    const qint64 inner = s.innerDim();
    const qint64 attentionLayers = s.numLayers + 2 * s.numDecoderLayers;  // encoder self, decoder self and cross
    const qint64 ffLayers = s.numLayers + s.numDecoderLayers;
    qint64 total = 0;
    for (const QString& t : targets) {
        // LoRA on a linear in -> out adds A (r x in) and B (out x r).
        if (t == QLatin1String("q") || t == QLatin1String("k") || t == QLatin1String("v") || t == QLatin1String("o")) {
            total += attentionLayers * r * (d + inner);
        } else if (t == QLatin1String("wo")) {
            total += ffLayers * r * (s.dFf + d);
        } else if (t == QLatin1String("wi")) {
            if (s.isGated) {
                if (error) *error = QObject::tr("target \"wi\" matches no layer: this model's gated feed-forward has wi_0 and wi_1");
                return -1;
            }
            total += ffLayers * r * (d + s.dFf);
        } else if (t == QLatin1String("wi_0") || t == QLatin1String("wi_1")) {
            if (!s.isGated) {
                if (error) *error = QObject::tr("target \"%1\" matches no layer: this model's feed-forward has wi").arg(t);
                return -1;
            }
            total += ffLayers * r * (d + s.dFf);
        } else {
            if (error) *error = QObject::tr("target \"%1\" is not a T5 linear layer (q, k, v, o, wi, wi_0, wi_1, wo)").arg(t);
            return -1;
        }
    }
    return total;
}

TrainingEstimate TrainingEstimator::estimate(const ModelShape& shape, bool isLora, qint64 r, const QStringList& targets) {
    TrainingEstimate e;
    if (!shape.isValid()) {
        e.error = QObject::tr("no model chosen");
        return e;
    }
    e.baseParameters = parameterCount(shape);
    if (isLora) {
        if (targets.isEmpty()) {
            e.error = QObject::tr("LoRA needs at least one target module");
            return e;
        }
        const qint64 lora = loraParameterCount(shape, r, targets, &e.error);
        if (lora < 0) return e;
        e.trainable = lora;
        e.all = e.baseParameters + lora;
        e.savedBytes = lora * kBytesPerParameter;
    } else {
        e.trainable = e.baseParameters;
        e.all = e.baseParameters;
        e.savedBytes = e.baseParameters * kBytesPerParameter;
    }
    e.trainablePercent = e.all > 0 ? 100.0 * static_cast<double>(e.trainable) / static_cast<double>(e.all) : 0;
    e.weightBytes = e.all * kBytesPerParameter;
    e.gradientBytes = e.trainable * kBytesPerParameter;
    e.optimizerBytes = 2 * e.trainable * kBytesPerParameter;  // AdamW: exp_avg and exp_avg_sq
    e.totalBytes = e.weightBytes + e.gradientBytes + e.optimizerBytes;
    e.checkpointBytes = e.savedBytes + e.optimizerBytes;
    e.ok = true;
    return e;
}

qint64 TrainingEstimator::optimizerSteps(qint64 trainExamples, qint64 everyKth, qint64 limit, qint64 batchSize, qint64 accumulation,
                                         double epochs, qint64 maxSteps) {
    if (maxSteps > 0) return maxSteps;
    qint64 examples = everyKth > 1 ? (trainExamples + everyKth - 1) / everyKth : trainExamples;
    if (limit > 0) examples = std::min(examples, limit);
    if (examples <= 0 || batchSize <= 0 || accumulation <= 0) return 0;
    const qint64 batches = (examples + batchSize - 1) / batchSize;
    const qint64 perEpoch = (batches + accumulation - 1) / accumulation;  // a last, shorter accumulation still steps
    return static_cast<qint64>(std::ceil(epochs * static_cast<double>(perEpoch)));
}
