// LibTorch headers (through engine/training/training_arguments.h) come before any Qt header: Qt's `slots` macro breaks them.
#include "engine/training/training_arguments.h"
#include "engine/training/training_estimate.h"
#include "base/errors.h"

#include <nlohmann/json.hpp>

#include "ui/TrainingEstimate.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QObject>

namespace {


// The form's values as the engine reads a run.json, with a continued adapter's own LoRA settings.
sumlab::TrainingArguments argumentsOf(const QJsonObject& values, const AdapterSummary* adapter) {
    sumlab::TrainingArguments args = sumlab::TrainingArguments::from_json(
        nlohmann::json::parse(QJsonDocument(values).toJson(QJsonDocument::Compact).toStdString()), "training settings");
    if (adapter) {
        args.method = sumlab::TrainingMethod::lora;
        args.lora.r = adapter->r;
        args.lora.lora_alpha = adapter->loraAlpha;
        args.lora.lora_dropout = adapter->loraDropout;
        args.lora.target_modules.clear();
        for (const QString& t : adapter->targetModules) args.lora.target_modules.push_back(t.toStdString());
    }
    return args;
}

}  // namespace

// The config the engine needs, from what the Models page read out of config.json. ModelInfo carries no
// dropout_rate: the config's default (0.1, FLAN-T5's) stands unless the form overrides it.
sumlab::T5Config TrainingEstimator::configOf(const ModelShape& s, const QString& feedForwardProj) {
    sumlab::T5Config c;
    c.vocab_size = s.vocabSize;
    c.d_model = s.dModel;
    c.d_kv = s.dKv;
    c.d_ff = s.dFf;
    c.num_layers = s.numLayers;
    c.num_decoder_layers = s.numDecoderLayers;
    c.num_heads = s.numHeads;
    c.relative_attention_num_buckets = s.relativeAttentionNumBuckets;
    // Every gated kind has the same parameters; the activation matters only to the memory estimate.
    c.feed_forward_proj = !feedForwardProj.isEmpty() ? feedForwardProj.toStdString() : (s.isGated ? "gated-gelu" : "relu");
    c.tie_word_embeddings = s.tieWordEmbeddings;
    return c;
}


ModelShape TrainingEstimator::shapeOf(const sumlab::T5Config& c) {
    ModelShape s;
    s.vocabSize = c.vocab_size;
    s.dModel = c.d_model;
    s.dKv = c.d_kv;
    s.dFf = c.d_ff;
    s.numLayers = c.num_layers;
    s.numDecoderLayers = c.num_decoder_layers;
    s.numHeads = c.num_heads;
    s.relativeAttentionNumBuckets = c.relative_attention_num_buckets;
    s.isGated = c.is_gated();
    s.tieWordEmbeddings = c.tie_word_embeddings;
    return s;
}

qint64 TrainingEstimator::parameterCount(const ModelShape& shape) { return sumlab::t5_parameter_count(TrainingEstimator::configOf(shape, {})); }

qint64 TrainingEstimator::loraParameterCount(const ModelShape& shape, qint64 r, const QStringList& targets, QString* error) {
    sumlab::LoraConfig lora;
    lora.r = r;
    lora.target_modules.clear();
    for (const QString& t : targets) lora.target_modules.push_back(t.toStdString());
    try {
        lora.validate("LoRA settings");
        return sumlab::lora_parameter_count(configOf(shape, {}), lora);
    } catch (const sumlab::Error& e) {
        if (error) *error = QString::fromStdString(e.what());
        return -1;
    }
}

TrainingEstimate TrainingEstimator::estimate(const ModelInfo& model, const QJsonObject& values, const AdapterSummary* adapter) {
    TrainingEstimate e;
    if (!model.shape.isValid()) {
        e.error = QObject::tr("no model chosen");
        return e;
    }
    sumlab::TrainingMemoryEstimate m;
    try {
        m = sumlab::estimate_training_memory(configOf(model.shape, model.feedForwardProj), argumentsOf(values, adapter));
    } catch (const sumlab::Error& error) {
        e.error = QString::fromStdString(error.what());
        return e;
    }
    e.baseParameters = m.base_parameters;
    e.trainable = m.trainable_parameters;
    e.all = m.all_parameters;
    e.trainablePercent = e.all > 0 ? 100.0 * static_cast<double>(e.trainable) / static_cast<double>(e.all) : 0;
    e.savedBytes = m.saved_bytes;
    e.checkpointBytes = m.checkpoint_bytes;
    e.weightBytes = m.weight_bytes;
    e.gradientBytes = m.gradient_bytes;
    e.optimizerBytes = m.optimizer_bytes;
    e.activationBytes = m.activation_bytes;
    e.workingBytes = m.working_bytes;
    e.peakBytes = m.peak_bytes;
    e.batch = m.batch;
    e.sourceLength = m.source_length;
    e.targetLength = m.target_length;
    e.ok = true;
    return e;
}

qint64 TrainingEstimator::optimizerSteps(qint64 trainExamples, qint64 everyKth, qint64 limit, qint64 batchSize, qint64 accumulation,
                                         double epochs, qint64 maxSteps) {
    sumlab::TrainingArguments args;
    args.every_kth = everyKth;
    args.limit = limit;
    args.per_device_train_batch_size = batchSize;
    args.gradient_accumulation_steps = accumulation;
    args.num_train_epochs = epochs;
    args.max_steps = maxSteps;
    return sumlab::optimizer_steps(trainExamples, args);
}

StepTimeEstimate TrainingEstimator::timeStep(const ModelInfo& model, const QJsonObject& values, const AdapterSummary* adapter,
                                             const std::atomic<bool>* cancel) {
    StepTimeEstimate t;
    if (!model.shape.isValid()) {
        t.error = QObject::tr("no model chosen");
        return t;
    }
    try {
        const std::optional<sumlab::StepTiming> timing =
            sumlab::time_training_step(configOf(model.shape, model.feedForwardProj), argumentsOf(values, adapter), cancel);
        if (!timing) return t;  // cancelled
        t.forwardBackwardS = timing->forward_backward_s;
        t.optimizerS = timing->optimizer_s;
        t.ok = true;
    } catch (const std::exception& e) {  // ConfigError, or LibTorch's c10::Error (out of memory, say)
        t.error = QString::fromStdString(e.what());
    }
    return t;
}

double TrainingEstimator::secondsPerStep(const StepTimeEstimate& timing, qint64 accumulation) {
    return sumlab::seconds_per_optimizer_step({timing.forwardBackwardS, timing.optimizerS}, accumulation);
}

QJsonObject TrainingEstimator::timingKey(const QString& modelPath, const QJsonObject& values, const AdapterSummary* adapter) {
    QJsonObject key;
    key.insert(QStringLiteral("model"), modelPath);
    for (const char* name : {"method", "r", "target_modules", "lora_dropout", "per_device_train_batch_size", "max_source_length",
                             "max_target_length", "dropout_rate", "device"})
        key.insert(QLatin1String(name), values.value(QLatin1String(name)));
    if (adapter) {
        key.insert(QStringLiteral("method"), QStringLiteral("lora"));
        key.insert(QStringLiteral("r"), adapter->r);
        key.insert(QStringLiteral("target_modules"), QJsonArray::fromStringList(adapter->targetModules));
        key.insert(QStringLiteral("lora_dropout"), adapter->loraDropout);
    }
    return key;
}
