// SystemPicker: up to four systems for the Compare and Evaluate pages, each a registered model or a registered
// adapter on its base model (from the ModelRegistry). The default is the lab's three when they are registered
// -- original (a pre-trained model), instruct (a fine-tuned model) and PEFT (an adapter) -- else the first
// registered systems. With column names, each row also names its results-CSV column (original_model, ...).
#pragma once

#include "ui/SystemSpec.h"

#include <QVector>
#include <QWidget>

class ModelRegistry;
class QComboBox;
class QLineEdit;

class SystemPicker : public QWidget {
    Q_OBJECT
public:
    static constexpr int MaxSystems = 4;

    SystemPicker(ModelRegistry* registry, const QString& prefix, bool withColumnNames, QWidget* parent = nullptr);

    // Every system the registry can offer, in the order the combo boxes list them.
    QVector<SystemSpec> available() const { return m_available; }
    // The chosen systems, in row order, without empty rows.
    QVector<SystemSpec> systems() const;
    // Chooses these systems (matched by model and adapter folder; column names kept from `systems`).
    void setSystems(const QVector<SystemSpec>& systems);
    // The lab's default choice among `available`.
    static QVector<SystemSpec> labDefaults(const QVector<SystemSpec>& available);

    QComboBox* combo(int row) const { return m_combos.at(row); }

signals:
    void systemsChanged();

private:
    void refresh();

    ModelRegistry* m_registry = nullptr;
    bool m_withColumns = false;
    bool m_userChose = false;
    QVector<SystemSpec> m_available;
    QVector<QComboBox*> m_combos;
    QVector<QLineEdit*> m_columns;
};
