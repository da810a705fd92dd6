// LibTorch headers come before any Qt header: Qt's `slots` macro breaks them.
#include "engine/generation/evaluation.h"
#include "engine/generation/system.h"
#include "base/errors.h"

#include <c10/util/Exception.h>

#include "ui/EvaluationWorker.h"

#include <QElapsedTimer>

EvaluationWorker::EvaluationWorker(QObject* parent) : QObject(parent) { qRegisterMetaType<EvaluationRequest>(); }

void EvaluationWorker::run(const EvaluationRequest& request) {
    m_running.store(true);
    int failed = 0;
    bool stopped = false;
    for (int i = 0; i < request.systems.size() && !stopped; ++i) {
        const SystemSpec& system = request.systems[i];
        emit systemStarted(i, request.systems.size());
        try {
            sumlab::EvaluationSpec spec;
            spec.model_dir = system.modelDir.toStdString();
            spec.adapter_dir = system.adapterDir.toStdString();
            spec.max_source_length = request.generation.maxSourceLength;
            spec.batch_size = request.batchSize;
            spec.data_path = request.dataPath.toStdString();
            const auto split = sumlab::parse_split(request.split.toStdString());
            if (!split) throw sumlab::ConfigError("split", "", "unknown split \"" + request.split.toStdString() + "\"");
            spec.split = *split;
            if (request.sampleSize > 0) spec.selection.sample_size = static_cast<size_t>(request.sampleSize);
            spec.selection.seed = request.seed;
            if (request.limit > 0) spec.selection.limit = static_cast<size_t>(request.limit);
            spec.output = request.output.toStdString();
            spec.column = system.column.toStdString() + "_summaries";
            spec.generation = request.generation.appliedTo(sumlab::system_generation_config(spec.model_dir));
            spec.dtype = request.generation.dtype;
            spec.quantize = request.generation.quantize;

            sumlab::EvaluationCallbacks callbacks;
            callbacks.cancel = &m_stop;
            callbacks.pause = &m_pause;
            callbacks.on_progress = [this, i](size_t done, size_t total) { emit progress(i, static_cast<int>(done), static_cast<int>(total)); };
            QElapsedTimer sinceStep;
            sinceStep.start();
            callbacks.on_step = [this, i, &sinceStep](int64_t step, int64_t max_steps) {
                if (sinceStep.elapsed() < 100) return;  // the UI needs no more than ten updates a second
                sinceStep.restart();
                emit stepDone(i, static_cast<int>(step), static_cast<int>(max_steps));
            };
            const sumlab::EvaluationOutcome outcome = sumlab::evaluate_column(spec, callbacks);
            if (outcome.is_stopped) {
                stopped = true;
                break;
            }
            QString message = tr("%1: %2 summaries (%3 generated, %4 resumed) in %5 s")
                                  .arg(system.label)
                                  .arg(outcome.examples)
                                  .arg(outcome.generated)
                                  .arg(outcome.resumed_examples)
                                  .arg(outcome.elapsed_s, 0, 'f', 1);
            if (outcome.hit_max_new_tokens * 2 > outcome.examples)
                message += tr("; %1 stopped at max_new_tokens before </s>").arg(outcome.hit_max_new_tokens);
            emit systemFinished(i, message);
        } catch (const c10::Error& e) {
            ++failed;
            emit systemFailed(i, tr("%1: %2").arg(system.label, QString::fromStdString(e.what_without_backtrace())));
        } catch (const std::exception& e) {
            ++failed;
            emit systemFailed(i, tr("%1: %2").arg(system.label, QString::fromStdString(e.what())));
        }
    }
    m_running.store(false);
    emit finished(stopped, failed, request.output);
}
