// LibTorch headers come before any Qt header: Qt's `slots` macro breaks them.
#include "models/checkpoint.h"
#include "base/errors.h"
#include "models/lora.h"
#include "models/t5/t5_config.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "ui/ModelInspector.h"
#include "ui/TrainingEstimate.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>

namespace {

nlohmann::json readJson(const QString& path) {
    std::ifstream in(path.toStdString(), std::ios::binary);
    if (!in) throw sumlab::FileError(path.toStdString(), "cannot be opened");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw sumlab::FileError(path.toStdString(), std::string("is not valid JSON: ") + e.what());
    }
}

// Bytes on disk of the weights: the file itself, or every shard an index names.
qint64 weightsBytes(const QString& weightsFile, const QString& format) {
    if (!format.endsWith(QLatin1String("-sharded"))) return QFileInfo(weightsFile).size();
    const nlohmann::json index = readJson(weightsFile);
    std::set<std::string> shards;
    if (index.contains("weight_map") && index["weight_map"].is_object())
        for (const auto& [name, shard] : index["weight_map"].items())
            if (shard.is_string()) shards.insert(shard.get<std::string>());
    qint64 total = 0;
    const QDir dir = QFileInfo(weightsFile).dir();
    for (const std::string& shard : shards) total += QFileInfo(dir.filePath(QString::fromStdString(shard))).size();
    return total;
}

QString originOf(const QString& path) {
    const QFileInfo info(path);
    const QDir parent = info.dir();
    const bool inRun = QFileInfo::exists(parent.filePath(QStringLiteral("run.json")));
    static const QRegularExpression checkpoint(QStringLiteral(R"(^checkpoint-(\d+)$)"));
    const QRegularExpressionMatch m = checkpoint.match(info.fileName());
    if (m.hasMatch())
        return inRun ? QObject::tr("Checkpoint (step %1 of run %2)").arg(m.captured(1), parent.dirName())
                     : QObject::tr("Checkpoint (step %1)").arg(m.captured(1));
    if (inRun) return QObject::tr("Fine-tuned (run %1)").arg(parent.dirName());
    if (QFileInfo::exists(QDir(path).filePath(QStringLiteral("trainer_state.json")))) return QObject::tr("Checkpoint");
    return QObject::tr("Pre-trained");
}

void describeModel(ModelInfo& info, const QString& dir) {
    const std::string d = dir.toStdString();
    sumlab::LoadedModel loaded = sumlab::load_model(d);  // checks every key and shape against config.json
    info.shape = TrainingEstimator::shapeOf(loaded.config);
    info.feedForwardProj = QString::fromStdString(loaded.config.feed_forward_proj);
    info.torchDtype = QString::fromStdString(loaded.config.torch_dtype);
    info.parameters = sumlab::count_parameters(*loaded.model);
    info.weightsFormat = QString::fromStdString(loaded.format);
    info.weightsFile = QString::fromStdString(loaded.weights_path);
    info.weightsBytes = weightsBytes(info.weightsFile, info.weightsFormat);
    info.hasTokenizer = QFileInfo::exists(QDir(dir).filePath(QStringLiteral("spiece.model")));
}

void describeAdapter(ModelInfo& info, const QString& dir, const QString& basePath) {
    const QString configPath = QDir(dir).filePath(QStringLiteral("adapter_config.json"));
    const sumlab::LoraConfig lora = sumlab::LoraConfig::from_json(readJson(configPath), configPath.toStdString());
    info.adapter.r = lora.r;
    info.adapter.loraAlpha = lora.lora_alpha;
    info.adapter.loraDropout = lora.lora_dropout;
    for (const std::string& t : lora.target_modules) info.adapter.targetModules << QString::fromStdString(t);
    info.adapter.baseModelNameOrPath = QString::fromStdString(lora.base_model_name_or_path);
    const bool hasWeights = QFileInfo::exists(QDir(dir).filePath(QStringLiteral("adapter_model.safetensors"))) ||
                            QFileInfo::exists(QDir(dir).filePath(QStringLiteral("adapter_model.bin")));
    if (!hasWeights)
        throw sumlab::FileError(dir.toStdString(), "no adapter weights: expected adapter_model.safetensors or adapter_model.bin");
    info.weightsFile = QDir(dir).filePath(QFileInfo::exists(QDir(dir).filePath(QStringLiteral("adapter_model.safetensors")))
                                              ? QStringLiteral("adapter_model.safetensors")
                                              : QStringLiteral("adapter_model.bin"));
    info.weightsFormat = info.weightsFile.endsWith(QLatin1String(".safetensors")) ? QStringLiteral("safetensors") : QStringLiteral("pytorch");
    info.weightsBytes = QFileInfo(info.weightsFile).size();

    info.basePath = basePath.isEmpty() ? ModelInspector::resolveAdapterBase(dir, info.adapter.baseModelNameOrPath) : basePath;
    if (info.basePath.isEmpty()) return;  // usable once the user names its base
    const std::string baseConfig = QDir(info.basePath).filePath(QStringLiteral("config.json")).toStdString();
    const sumlab::T5Config config = sumlab::T5Config::from_file(baseConfig);
    info.shape = TrainingEstimator::shapeOf(config);
    info.feedForwardProj = QString::fromStdString(config.feed_forward_proj);
    info.torchDtype = QString::fromStdString(config.torch_dtype);
    info.hasTokenizer = QFileInfo::exists(QDir(info.basePath).filePath(QStringLiteral("spiece.model")));
    // A model built from the base's config is enough to check the adapter's shapes and count PEFT's numbers.
    torch::NoGradGuard no_grad;
    sumlab::T5ForConditionalGeneration model(config);
    info.parameters = sumlab::count_parameters(*model);
    sumlab::load_adapter(*model, dir.toStdString());
    const sumlab::TrainableReport report = sumlab::trainable_parameters(*model);
    info.adapterParameters = report.trainable;
    info.allParameters = report.all;
    info.peftText = QString::fromStdString(report.peft_text());
}

}  // namespace

ModelInspector::ModelInspector(QObject* parent) : QObject(parent) { qRegisterMetaType<ModelInfo>(); }

QString ModelInspector::displayName(const QString& path) {
    const QFileInfo info(path);
    static const QRegularExpression runOutput(QStringLiteral(R"(^(final|checkpoint-\d+)$)"));
    if (runOutput.match(info.fileName()).hasMatch() && QFileInfo::exists(info.dir().filePath(QStringLiteral("run.json"))))
        return info.dir().dirName() + '/' + info.fileName();
    return info.fileName();
}

ModelKind ModelInspector::detectKind(const QString& path) {
    return QFileInfo::exists(QDir(path).filePath(QStringLiteral("adapter_config.json"))) ? ModelKind::Adapter : ModelKind::Model;
}

QString ModelInspector::resolveAdapterBase(const QString& adapterPath, const QString& baseModelNameOrPath) {
    if (baseModelNameOrPath.isEmpty()) return {};
    const QFileInfo direct(baseModelNameOrPath);
    if (direct.isAbsolute()) return direct.isDir() && QFileInfo::exists(QDir(baseModelNameOrPath).filePath("config.json")) ? direct.absoluteFilePath() : QString();
    const QFileInfo sibling(QFileInfo(adapterPath).dir(), baseModelNameOrPath);
    if (sibling.isDir() && QFileInfo::exists(QDir(sibling.absoluteFilePath()).filePath("config.json"))) return QDir::cleanPath(sibling.absoluteFilePath());
    return {};
}

ModelInfo ModelInspector::inspectFolder(const QString& path, const QString& basePath) {
    ModelInfo info;
    info.path = path;
    info.name = displayName(path);
    info.kind = detectKind(path);
    try {
        if (!QFileInfo(path).isDir())
            throw sumlab::FileError(path.toStdString(), QFileInfo::exists(path) ? "is a file; a model is a folder with config.json and weights" : "no such folder");
        info.origin = originOf(path);
        if (info.kind == ModelKind::Adapter) describeAdapter(info, path, basePath);
        else describeModel(info, path);
        info.ok = true;
    } catch (const c10::Error& e) {
        info.ok = false;
        info.error = QString::fromStdString(e.what_without_backtrace()).trimmed();
    } catch (const std::exception& e) {
        // sumlab::Error says which file and why; std::bad_alloc and the like are reported the same way.
        info.ok = false;
        info.error = QString::fromStdString(e.what()).trimmed();
    }
    return info;
}

void ModelInspector::inspect(int requestId, const QString& path, const QString& basePath) {
    emit inspected(requestId, inspectFolder(path, basePath));
}
