// LibTorch headers come before any Qt header: Qt's `slots` macro breaks them.
#include "engine/data/prompt.h"
#include "engine/generation/system.h"
#include "models/t5/t5_model.h"

#include "ui/AttentionWorker.h"

struct AttentionWorker::Cache {
    QString modelDir, adapterDir;
    std::unique_ptr<sumlab::LoadedSystem> system;  // the last system asked for; one view shows one at a time
};

AttentionWorker::AttentionWorker(QObject* parent) : QObject(parent), m_cache(std::make_unique<Cache>()) {
    qRegisterMetaType<AttentionRequest>();
    qRegisterMetaType<sumlab::CrossAttention>();
}

AttentionWorker::~AttentionWorker() = default;

void AttentionWorker::compute(const AttentionRequest& request) {
    try {
        if (!m_cache->system || m_cache->modelDir != request.system.modelDir || m_cache->adapterDir != request.system.adapterDir) {
            m_cache->system.reset();
            m_cache->system = std::make_unique<sumlab::LoadedSystem>(sumlab::load_system(
                {request.system.modelDir.toStdString(), request.system.adapterDir.toStdString(), "cpu", "float32", "none"}));
            m_cache->modelDir = request.system.modelDir;
            m_cache->adapterDir = request.system.adapterDir;
        }
        const sumlab::PromptTemplate prompt;
        sumlab::CrossAttentionOptions options;
        options.max_source_length = request.maxSourceLength;
        sumlab::CrossAttention attention =
            sumlab::compute_cross_attention(*m_cache->system->model.model, m_cache->system->tokenizer,
                                            prompt.render(request.dialogue.toStdString()), request.summary.toStdString(), options);
        emit ready(request.requestId, attention);
    } catch (const c10::Error& e) {
        m_cache->system.reset();
        emit failed(request.requestId, QString::fromStdString(e.what_without_backtrace()));
    } catch (const std::exception& e) {
        // sumlab errors name the file; the system is dropped so that a fix on disk is seen next time.
        m_cache->system.reset();
        emit failed(request.requestId, QString::fromStdString(e.what()));
    }
}
