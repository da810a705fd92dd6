// RunRecord: one run folder as the Runs page shows it (read_run's RunInfo plus run.json's configuration),
// filled in by RunScanner on its thread: Qt values, plus the engine's torch-free metric types as they are
// (sumlab::StepMetrics / EvalMetrics in the curves, sumlab::EvalPredictions for the kept summaries).
#pragma once

#include "ui/TrainingMetrics.h"

#include <QDateTime>
#include <QMetaType>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QVector>

#include <limits>

struct RunRecord {
    QString dir;
    QString name;           // the folder name
    bool isReadable = true;
    QString readError;      // why the folder could not be read, when !isReadable

    sumlab::RunStatus state = sumlab::RunStatus::stopped;
    QString method;         // "full" or "lora"
    QString modelDir;
    QString dataPath;
    QString initAdapter;
    double learningRate = std::numeric_limits<double>::quiet_NaN();
    double epochs = std::numeric_limits<double>::quiet_NaN();
    qint64 batchSize = 0;
    qint64 gradientAccumulation = 0;
    qint64 loraR = 0;
    qint64 maxSteps = 0;    // max_steps_resolved
    qint64 step = 0;        // last logged step
    double lastLoss = std::numeric_limits<double>::quiet_NaN();
    double lastEvalLoss = std::numeric_limits<double>::quiet_NaN();
    double lastRougeL = std::numeric_limits<double>::quiet_NaN();  // of the newest evaluation with ROUGE
    QString bestCheckpoint;      // run.json's best_model_checkpoint (metric_for_best_model), empty when none
    double bestMetric = std::numeric_limits<double>::quiet_NaN();
    QString bestMetricName;      // "eval_loss", "eval_rougeL", ...
    QVector<sumlab::EvalPredictions> predictions;  // eval_predictions.jsonl, as the engine reads it
    QString lastCheckpoint;
    QStringList checkpoints;  // the complete checkpoint-N folders (paths), oldest first (list_checkpoints)
    QString finalDir;         // final/, when the run wrote it; else empty
    QString error;          // status.json's message (why it failed)
    QDateTime startedAt;
    // run.json flattened to dotted keys ("arguments.learning_rate") and JSON-ish values, for the config diff.
    QVector<QPair<QString, QString>> config;
    RunCurves curves;

    // The step of the newest checkpoint (from its folder name), or -1.
    qint64 checkpointStep() const {
        const int dash = lastCheckpoint.lastIndexOf(QLatin1String("checkpoint-"));
        if (dash < 0) return -1;
        bool ok = false;
        const qint64 s = lastCheckpoint.mid(dash + 11).toLongLong(&ok);
        return ok ? s : -1;
    }
    // The step of the best checkpoint, or -1.
    qint64 bestStep() const {
        const int dash = bestCheckpoint.lastIndexOf(QLatin1String("checkpoint-"));
        bool ok = false;
        const qint64 s = dash < 0 ? -1 : bestCheckpoint.mid(dash + 11).toLongLong(&ok);
        return ok ? s : -1;
    }
    bool canResume() const {
        return isReadable && (state == sumlab::RunStatus::stopped || state == sumlab::RunStatus::failed) && checkpointStep() >= 0;
    }
};

Q_DECLARE_METATYPE(RunRecord)
