// ModelInspector: validates a model or adapter folder and summarises it, on the ModelRegistry's worker
// thread (loading weights takes seconds for real models). Results leave as ModelInfo values.
#pragma once

#include "ui/ModelInfo.h"

#include <QObject>

class ModelInspector : public QObject {
    Q_OBJECT
public:
    explicit ModelInspector(QObject* parent = nullptr);

    // How lists name a folder: its name, or "run/final" and "run/checkpoint-N" for a run's outputs.
    static QString displayName(const QString& path);
    // The folder's kind from the files in it: an adapter has adapter_config.json.
    static ModelKind detectKind(const QString& path);
    // The base model folder an adapter names in base_model_name_or_path, when that is a folder on disk
    // (absolute, or relative to the adapter's parent folder); else empty.
    static QString resolveAdapterBase(const QString& adapterPath, const QString& baseModelNameOrPath);

    // Synchronous inspection, as the slot does it (for the worker thread; never call on the UI thread).
    static ModelInfo inspectFolder(const QString& path, const QString& basePath);

public slots:
    // Models: loads config.json and the weights (checking every key and shape) and counts parameters.
    // Adapters: reads adapter_config.json; with a base folder (given, or resolved from the adapter's
    // config), attaches the adapter to a model built from the base's config and counts PEFT's numbers.
    void inspect(int requestId, const QString& path, const QString& basePath);

signals:
    void inspected(int requestId, const ModelInfo& info);
};
