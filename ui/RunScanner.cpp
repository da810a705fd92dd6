// LibTorch headers come before any Qt header: Qt's `slots` macro breaks them.
#include "engine/training/run_folder.h"
#include "engine/training/trainer.h"

#include <nlohmann/json.hpp>

#include "ui/EngineConversions.h"
#include "ui/RunScanner.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>

namespace {

QString jsonText(const nlohmann::json& v) {
    if (v.is_string()) return QString::fromStdString(v.get<std::string>());
    return QString::fromStdString(v.dump());
}

void flatten(const nlohmann::json& j, const QString& prefix, QVector<QPair<QString, QString>>& out) {
    if (j.is_object() && !j.empty()) {
        for (const auto& [key, value] : j.items()) {
            const QString name = prefix.isEmpty() ? QString::fromStdString(key) : prefix + '.' + QString::fromStdString(key);
            flatten(value, name, out);
        }
    } else {
        out.append({prefix, jsonText(j)});
    }
}

double number(const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::numeric_limits<double>::quiet_NaN();
}

// 0 unless a whole number that fits (get<qint64>() of 1e300 from an edited run.json is undefined behaviour).
qint64 integer(const nlohmann::json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_number_integer()) return 0;
    if (j[key].is_number_unsigned() && j[key].get<quint64>() > static_cast<quint64>(std::numeric_limits<qint64>::max())) return 0;
    return j[key].get<qint64>();
}

QString text(const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? QString::fromStdString(j[key].get<std::string>()) : QString();
}

// What changes when a run moves on: its files, its checkpoints, and whether its trainer holds the lock.
QString stampOf(const QString& dir) {
    QString stamp;
    for (const char* name : {"run.json", "metrics.jsonl", "status.json", "eval_predictions.jsonl"}) {
        const QFileInfo f(QDir(dir).filePath(QString::fromLatin1(name)));
        stamp += QStringLiteral("%1:%2:%3;").arg(name).arg(f.exists() ? f.lastModified().toMSecsSinceEpoch() : -1).arg(f.exists() ? f.size() : -1);
    }
    const QStringList checkpoints = QDir(dir).entryList({QStringLiteral("checkpoint-*")}, QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    stamp += checkpoints.join(',') + ';';
    stamp += QFileInfo(QDir(dir).filePath(QStringLiteral("final"))).isDir() ? QStringLiteral("final;") : QStringLiteral(";");
    stamp += sumlab::run_is_locked(dir.toStdString()) ? QStringLiteral("locked") : QStringLiteral("free");
    return stamp;
}

}  // namespace

RunScanner::RunScanner(QObject* parent) : QObject(parent) { qRegisterMetaType<RunRecord>(); }

RunRecord RunScanner::readRun(const QString& dir) {
    RunRecord r;
    r.dir = QDir::cleanPath(dir);
    r.name = QFileInfo(dir).fileName();
    r.curves.name = r.name;
    try {
        const sumlab::RunInfo info = sumlab::read_run(dir.toStdString());
        r.state = toRunState(info.status);
        r.lastCheckpoint = QString::fromStdString(info.last_checkpoint);
        r.error = QString::fromStdString(info.error);
        const nlohmann::json& c = info.config;
        r.modelDir = text(c, "model");
        r.dataPath = text(c, "data");
        r.initAdapter = text(c, "init_adapter");
        r.maxSteps = integer(c, "max_steps_resolved");
        if (integer(c, "started_at") > 0) r.startedAt = QDateTime::fromSecsSinceEpoch(integer(c, "started_at"));
        if (c.contains("arguments") && c["arguments"].is_object()) {
            const nlohmann::json& a = c["arguments"];
            r.method = text(a, "method");
            r.learningRate = number(a, "learning_rate");
            r.epochs = number(a, "num_train_epochs");
            r.batchSize = integer(a, "per_device_train_batch_size");
            r.gradientAccumulation = integer(a, "gradient_accumulation_steps");
            r.loraR = integer(a, "r");
        }
        flatten(c, QString(), r.config);
        for (const sumlab::StepMetrics& m : info.logs) r.curves.steps << toStepPoint(m);
        for (const sumlab::EvalMetrics& m : info.evals) r.curves.evals << toEvalPoint(m);
        if (!r.curves.steps.isEmpty()) {
            r.step = r.curves.steps.last().step;
            r.lastLoss = r.curves.steps.last().loss;
        }
        if (!r.curves.evals.isEmpty()) r.lastEvalLoss = r.curves.evals.last().evalLoss;
        for (const EvalPoint& e : r.curves.evals)
            if (e.hasRouge) r.lastRougeL = e.rougeL;
        r.bestCheckpoint = QString::fromStdString(info.best_model_checkpoint);
        if (info.best_metric) r.bestMetric = *info.best_metric;
        if (c.contains("arguments") && c["arguments"].is_object()) {
            sumlab::TrainingArguments args;
            const nlohmann::json& a = c["arguments"];
            if (a.contains("metric_for_best_model") && a["metric_for_best_model"].is_string())
                args.metric_for_best_model = a["metric_for_best_model"].get<std::string>();
            args.load_best_model_at_end = a.contains("load_best_model_at_end") && a["load_best_model_at_end"].is_boolean() &&
                                          a["load_best_model_at_end"].get<bool>();
            r.bestMetricName = QString::fromStdString(args.best_metric_key());
        }
        for (const sumlab::EvalPredictions& p : info.predictions) {
            EvalSamples samples{p.step, p.epoch, {}};
            for (const sumlab::EvalPrediction& e : p.examples)
                samples.samples << EvalSample{QString::fromStdString(e.id), QString::fromStdString(e.prediction), QString::fromStdString(e.reference)};
            r.predictions << samples;
        }
    } catch (const std::exception& e) {
        r.isReadable = false;
        r.state = RunState::Failed;
        r.readError = QString::fromStdString(e.what());
    }
    if (!r.startedAt.isValid()) r.startedAt = QFileInfo(QDir(dir).filePath(QStringLiteral("run.json"))).birthTime();
    if (!r.startedAt.isValid()) r.startedAt = QFileInfo(QDir(dir).filePath(QStringLiteral("run.json"))).lastModified();
    return r;
}

void RunScanner::scan(int requestId, const QString& workspace) {
    QVector<RunRecord> runs;
    QHash<QString, Cached> seen;
    const QDir root(workspace);
    if (root.exists()) {
        for (const QFileInfo& entry : root.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            const QString dir = QDir::cleanPath(entry.absoluteFilePath());
            if (!QFileInfo::exists(QDir(dir).filePath(QStringLiteral("run.json")))) continue;
            const QString stamp = stampOf(dir);
            auto it = m_cache.constFind(dir);
            Cached c = it != m_cache.constEnd() && it->stamp == stamp ? *it : Cached{stamp, readRun(dir)};
            runs << c.record;
            seen.insert(dir, c);
        }
    }
    m_cache = seen;
    std::sort(runs.begin(), runs.end(), [](const RunRecord& a, const RunRecord& b) {
        return a.startedAt != b.startedAt ? a.startedAt > b.startedAt : a.name < b.name;
    });
    emit scanned(requestId, workspace, runs);
}
