// Training metrics as the UI carries them: the engine's own StepMetrics / EvalMetrics / RunStatus
// (engine/training/training_metrics.h, torch-free) registered with Qt, so TrainingWorker signals carry them across
// threads and the plots draw them as they are; plus the Qt-side values built from them (a run's curves, how a run
// ended).
#pragma once

#include "engine/training/training_metrics.h"

#include <QMetaType>
#include <QString>
#include <QVector>

// How Trainer::run() returned (the engine's TrainResult, which lives in a LibTorch header).
struct TrainingOutcome {
    sumlab::RunStatus state = sumlab::RunStatus::finished;
    qint64 globalStep = 0;
    double finalLoss = 0;
    QString finalDir;        // final/ (empty when stopped early)
    QString lastCheckpoint;  // newest checkpoint-N/
    QString message;         // why a finished run ended early (early stopping), else empty
    QString bestCheckpoint;  // the best checkpoint (metric_for_best_model), empty when none was tracked
};

// The curves of one run, named for the legend.
struct RunCurves {
    QString name;
    QVector<sumlab::StepMetrics> steps;
    QVector<sumlab::EvalMetrics> evals;
};

Q_DECLARE_METATYPE(sumlab::StepMetrics)
Q_DECLARE_METATYPE(sumlab::EvalMetrics)
Q_DECLARE_METATYPE(sumlab::RunStatus)
Q_DECLARE_METATYPE(RunCurves)
Q_DECLARE_METATYPE(TrainingOutcome)
