// AttentionWorker: computes the cross-attention of one generated summary over its dialogue
// (engine/generation/cross_attention.h) on its own QThread, the qtbase worker pattern of CompareWorker. The
// system is loaded in float32 without quantisation (the view shows what fp32 computes, whatever the Compare page
// generated with) and kept for the next request. Signals carry values: the result is copied out of the engine.
#pragma once

#include "engine/generation/cross_attention.h"
#include "ui/SystemSpec.h"

#include <QObject>
#include <QString>

#include <memory>

struct AttentionRequest {
    int requestId = 0;
    SystemSpec system;
    QString dialogue;            // rendered with the lab's prompt, as CompareWorker renders it
    QString summary;             // the summary the system generated
    int maxSourceLength = 512;   // as the generation truncated the prompt
};
Q_DECLARE_METATYPE(AttentionRequest)
Q_DECLARE_METATYPE(sumlab::CrossAttention)

class AttentionWorker : public QObject {
    Q_OBJECT
public:
    explicit AttentionWorker(QObject* parent = nullptr);
    ~AttentionWorker() override;

public slots:
    void compute(const AttentionRequest& request);

signals:
    void ready(int requestId, const sumlab::CrossAttention& attention);
    void failed(int requestId, const QString& error);

private:
    struct Cache;
    std::unique_ptr<Cache> m_cache;
};
