// ModelInfo: what the Models page knows about a registered folder -- a T5 model (pre-trained or
// fine-tuned) or a PEFT LoRA adapter -- as plain Qt values filled in by ModelInspector on its thread.
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>

enum class ModelKind { Model, Adapter };

// The config.json numbers that fix a T5 model's parameter count (HF key names in the comments).
struct ModelShape {
    qint64 vocabSize = 0;         // vocab_size
    qint64 dModel = 0;            // d_model
    qint64 dKv = 0;               // d_kv
    qint64 dFf = 0;               // d_ff
    qint64 numLayers = 0;         // num_layers (encoder blocks)
    qint64 numDecoderLayers = 0;  // num_decoder_layers
    qint64 numHeads = 0;          // num_heads
    qint64 relativeAttentionNumBuckets = 32;
    bool isGated = false;         // feed_forward_proj "gated-*": wi_0 and wi_1 instead of wi
    bool tieWordEmbeddings = true;

    bool isValid() const { return vocabSize > 0 && dModel > 0 && numHeads > 0 && dKv > 0 && dFf > 0; }
    qint64 innerDim() const { return numHeads * dKv; }
};

// A PEFT adapter_config.json.
struct AdapterSummary {
    qint64 r = 0;
    double loraAlpha = 0;
    double loraDropout = 0;
    QStringList targetModules;
    QString baseModelNameOrPath;  // as PEFT wrote it (often a hub name such as google/flan-t5-base)
};

struct ModelInfo {
    QString path;
    ModelKind kind = ModelKind::Model;
    bool ok = false;
    QString error;            // why the folder is not usable, when !ok

    QString name;             // the folder name
    QString origin;           // "Pre-trained", "Fine-tuned (run …)", "Checkpoint (step …)"

    // Model: its own config and weights. Adapter: the base model's (when the base is known).
    ModelShape shape;
    QString feedForwardProj;  // feed_forward_proj
    QString torchDtype;       // torch_dtype, as stored
    qint64 parameters = 0;    // count_parameters (shared embedding counted once)
    QString weightsFormat;    // find_weights: "safetensors", "safetensors-sharded", "pytorch", "pytorch-sharded"
    QString weightsFile;
    qint64 weightsBytes = 0;  // size on disk of the weights (all shards)
    bool hasTokenizer = false;  // spiece.model present

    // Adapter only.
    AdapterSummary adapter;
    QString basePath;          // the base model folder the adapter was checked against; empty when unknown
    qint64 adapterParameters = 0;  // PEFT's "trainable params"
    qint64 allParameters = 0;      // PEFT's "all params" (base + adapter)
    QString peftText;              // PEFT's print_trainable_parameters() line

    bool hasShape() const { return shape.isValid(); }
};

Q_DECLARE_METATYPE(ModelInfo)
