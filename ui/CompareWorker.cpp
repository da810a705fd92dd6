// LibTorch headers come before any Qt header: Qt's `slots` macro breaks them.
#include "engine/generation/evaluation.h"
#include "engine/generation/generation.h"
#include "engine/data/prompt.h"
#include "engine/generation/system.h"
#include "base/errors.h"

#include "ui/CompareWorker.h"

#include <QElapsedTimer>

#include <map>
#include <tuple>

namespace {

}  // namespace

struct CompareWorker::Cache {
    // At most a handful of systems are compared; keeping them all avoids reloading on every click.
    std::map<std::tuple<QString, QString, std::string, std::string>, std::shared_ptr<sumlab::LoadedSystem>> systems;  // model, adapter, dtype, quantize
};

CompareWorker::CompareWorker(QObject* parent) : QObject(parent), m_cache(std::make_unique<Cache>()) {
    qRegisterMetaType<CompareRequest>();
}

CompareWorker::~CompareWorker() = default;

void CompareWorker::generate(const CompareRequest& request) {
    const sumlab::PromptTemplate prompt;
    const std::string source = prompt.render(request.dialogue.toStdString());
    bool stopped = false;
    for (int i = 0; i < request.systems.size() && !stopped; ++i) {
        const SystemSpec& system = request.systems[i];
        emit systemStarted(request.requestId, i);
        QElapsedTimer timer;
        timer.start();
        const auto key = std::make_tuple(system.modelDir, system.adapterDir, request.generation.dtype, request.generation.quantize);
        try {
            std::shared_ptr<sumlab::LoadedSystem>& loaded = m_cache->systems[key];
            if (!loaded)
                loaded = std::make_shared<sumlab::LoadedSystem>(
                    sumlab::load_system({system.modelDir.toStdString(), system.adapterDir.toStdString(), "cpu", request.generation.dtype,
                                                                request.generation.quantize}));
            const sumlab::GenerationConfig config = request.generation.appliedTo(loaded->generation);
            sumlab::GenerationCallbacks callbacks;
            callbacks.cancel = &m_stop;
            const int id = request.requestId;
            callbacks.on_step = [this, id, i](int64_t step, int64_t max_steps) {
                emit stepDone(id, i, static_cast<int>(step), static_cast<int>(max_steps));
            };
            const std::vector<sumlab::TextGeneration> out = sumlab::generate_texts(
                *loaded->model.model, loaded->tokenizer, {source}, config, 1, request.generation.maxSourceLength, callbacks);
            // Several samples of one system (num_return_sequences): numbered, one paragraph each.
            QString text = QString::fromStdString(out.front().text);
            bool hit_max = out.front().hit_max_new_tokens;
            if (out.size() > 1) {
                QStringList samples;
                for (size_t k = 0; k < out.size(); ++k) {
                    samples << QString("%1. %2").arg(k + 1).arg(QString::fromStdString(out[k].text));
                    hit_max = hit_max || out[k].hit_max_new_tokens;
                }
                text = samples.join("\n\n");
            }
            emit summaryReady(id, i, text, hit_max, timer.elapsed() / 1000.0);
        } catch (const sumlab::Cancelled&) {
            stopped = true;
        } catch (const c10::Error& e) {
            m_cache->systems.erase(key);
            emit systemFailed(request.requestId, i, QString::fromStdString(e.what_without_backtrace()));
        } catch (const std::exception& e) {
            // sumlab errors name the file; the failed system is dropped from the cache so a fix on disk is seen.
            m_cache->systems.erase(key);
            emit systemFailed(request.requestId, i, QString::fromStdString(e.what()));
        }
    }
    emit finished(request.requestId, stopped);
}
