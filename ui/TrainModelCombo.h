// TrainModelCombo: the Train page's model choice. Its items are the registry's Ready models, its adapters that name
// a base model (training continues the adapter), and models that a rerun run named but nobody registered; each item's
// data is {"model": base folder, "adapter": adapter folder or empty}.
#pragma once

#include "ui/ModelInfo.h"

#include <QComboBox>
#include <QString>
#include <QVariantMap>
#include <QVector>

class ModelRegistry;

class TrainModelCombo : public QComboBox {
    Q_OBJECT
public:
    explicit TrainModelCombo(QWidget* parent = nullptr);

    // Refills the items from `registry` plus `extras` ({model, adapter, label}) without emitting a change, keeping
    // the current choice (or the last one saved in the settings, train/model) selected where it is still offered.
    void refresh(const ModelRegistry& registry, const QVector<QVariantMap>& extras);
    // Selects the item for the model or adapter folder `path`; false when none is offered.
    bool selectPath(const QString& path);

    QString modelDir() const;    // the chosen base model folder
    QString adapterDir() const;  // the chosen adapter folder, empty when a base model is chosen
    QString chosenPath() const;  // the adapter folder if any, else the base model folder
    // The chosen entry of `registry` when it is Ready, else nullptr; `adapter` is set when an adapter is chosen.
    const ModelInfo* chosenModel(const ModelRegistry& registry, const AdapterSummary** adapter) const;

private:
    void addChoice(const QString& modelDir, const QString& adapterDir, const QString& label);
};
