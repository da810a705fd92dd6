// Training metrics as plain Qt values: what TrainingWorker signals carry across threads and what the
// loss plot draws. Copied from the engine's StepMetrics / EvalMetrics (engine/training/trainer.h) field by field.
#pragma once

#include <QMetaType>
#include <QString>
#include <QVector>

// One metrics.jsonl logging line.
struct StepPoint {
    qint64 step = 0;              // optimizer steps done
    qint64 maxSteps = 0;
    double epoch = 0;             // fractional, as Hugging Face logs it
    double loss = 0;              // mean training loss since the previous log line
    double learningRate = 0;
    double gradNorm = 0;          // before clipping
    double tokensPerSecond = 0;
    qint64 tokensSeen = 0;        // source + target tokens consumed so far
    double elapsedS = 0;
    double etaS = 0;
};

// One evaluation line.
struct EvalPoint {
    qint64 step = 0;
    double epoch = 0;
    double evalLoss = 0;
    qint64 evalTokens = 0;
    // predict_with_generate: mean ROUGE F-measures (fractions) of the generated validation summaries.
    bool hasRouge = false;
    double rouge1 = 0, rouge2 = 0, rougeL = 0, rougeLsum = 0;
    double genLen = 0;       // mean generated tokens
    qint64 generated = 0;    // examples generated
};

// A run's state, as the engine's RunStatus.
enum class RunState { Running, Paused, Stopped, Finished, Failed };

// "running", "paused", "stopped", "finished", "failed" (the words of status.json).
inline QString runStateName(RunState state) {
    switch (state) {
        case RunState::Running: return QStringLiteral("running");
        case RunState::Paused: return QStringLiteral("paused");
        case RunState::Stopped: return QStringLiteral("stopped");
        case RunState::Finished: return QStringLiteral("finished");
        case RunState::Failed: return QStringLiteral("failed");
    }
    return {};
}

// How Trainer::run() returned (the engine's TrainResult).
struct TrainingOutcome {
    RunState state = RunState::Finished;
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
    QVector<StepPoint> steps;
    QVector<EvalPoint> evals;
};

Q_DECLARE_METATYPE(StepPoint)
Q_DECLARE_METATYPE(EvalPoint)
Q_DECLARE_METATYPE(RunCurves)
Q_DECLARE_METATYPE(RunState)
Q_DECLARE_METATYPE(TrainingOutcome)
