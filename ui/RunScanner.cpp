// LibTorch headers come before any Qt header: Qt's `slots` macro breaks them.
#include "engine/training/run_folder.h"

#include <nlohmann/json.hpp>

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
        r.state = info.status;
        r.lastCheckpoint = QString::fromStdString(info.last_checkpoint);
        // The folders the Compare and Evaluate pages offer as systems (ui/SystemPicker).
        for (const auto& checkpoint : sumlab::list_checkpoints(r.dir.toStdString())) r.checkpoints << QString::fromStdString(checkpoint.second);
        if (QFileInfo(QDir(r.dir).filePath(QStringLiteral("final"))).isDir()) r.finalDir = QDir(r.dir).filePath(QStringLiteral("final"));
        r.error = QString::fromStdString(info.error);
        // run.json as the engine reads it (RunConfig); one it refuses makes the run unreadable, with the reason.
        if (info.run_config) {
            const sumlab::RunConfig& c = *info.run_config;
            const sumlab::TrainingArguments& a = c.arguments;
            r.modelDir = QString::fromStdString(c.model);
            r.dataPath = QString::fromStdString(c.data);
            r.initAdapter = QString::fromStdString(c.init_adapter);
            r.maxSteps = c.max_steps_resolved;
            if (c.started_at > 0) r.startedAt = QDateTime::fromSecsSinceEpoch(c.started_at);
            r.method = QString::fromStdString(sumlab::to_string(a.method));
            r.learningRate = a.learning_rate;
            r.epochs = a.num_train_epochs;
            r.batchSize = a.per_device_train_batch_size;
            r.gradientAccumulation = a.gradient_accumulation_steps;
            r.loraR = a.lora.r;
            r.bestMetricName = QString::fromStdString(a.best_metric_key());
        } else {
            r.isReadable = false;
            r.readError = QString::fromStdString(info.config_error);
        }
        flatten(info.config, QString(), r.config);
        for (const sumlab::StepMetrics& m : info.logs) r.curves.steps << m;
        for (const sumlab::EvalMetrics& m : info.evals) r.curves.evals << m;
        if (!r.curves.steps.isEmpty()) {
            r.step = r.curves.steps.last().step;
            r.lastLoss = r.curves.steps.last().loss;
        }
        if (!r.curves.evals.isEmpty()) r.lastEvalLoss = r.curves.evals.last().eval_loss;
        for (const sumlab::EvalMetrics& e : r.curves.evals)
            if (e.has_rouge) r.lastRougeL = e.eval_rougeL;
        r.bestCheckpoint = QString::fromStdString(info.best_model_checkpoint);
        if (info.best_metric) r.bestMetric = *info.best_metric;
        for (const sumlab::EvalPredictions& p : info.predictions) r.predictions << p;
    } catch (const std::exception& e) {
        r.isReadable = false;
        r.state = sumlab::RunStatus::failed;
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
