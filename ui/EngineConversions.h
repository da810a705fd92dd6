// EngineConversions: engine values (engine/training/trainer.h) copied into the UI's Qt value types. Only for .cpp
// files that already include LibTorch headers (this one includes engine/training/trainer.h; put it before Qt headers).
#pragma once

#include "engine/training/trainer.h"

#include "ui/TrainingMetrics.h"

inline StepPoint toStepPoint(const sumlab::StepMetrics& m) {
    StepPoint p;
    p.step = m.step;
    p.maxSteps = m.max_steps;
    p.epoch = m.epoch;
    p.loss = m.loss;
    p.learningRate = m.learning_rate;
    p.gradNorm = m.grad_norm;
    p.tokensPerSecond = m.tokens_per_second;
    p.tokensSeen = m.tokens_seen;
    p.elapsedS = m.elapsed_s;
    p.etaS = m.eta_s;
    return p;
}

inline EvalPoint toEvalPoint(const sumlab::EvalMetrics& m) {
    EvalPoint p;
    p.step = m.step;
    p.epoch = m.epoch;
    p.evalLoss = m.eval_loss;
    p.evalTokens = m.eval_tokens;
    p.hasRouge = m.has_rouge;
    p.rouge1 = m.eval_rouge1;
    p.rouge2 = m.eval_rouge2;
    p.rougeL = m.eval_rougeL;
    p.rougeLsum = m.eval_rougeLsum;
    p.genLen = m.eval_gen_len;
    p.generated = m.eval_generated;
    return p;
}

inline RunState toRunState(sumlab::RunStatus s) {
    switch (s) {
        case sumlab::RunStatus::running: return RunState::Running;
        case sumlab::RunStatus::paused: return RunState::Paused;
        case sumlab::RunStatus::stopped: return RunState::Stopped;
        case sumlab::RunStatus::finished: return RunState::Finished;
        case sumlab::RunStatus::failed: return RunState::Failed;
    }
    return RunState::Failed;
}
