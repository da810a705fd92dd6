// SystemPicker: up to four systems for the Compare and Evaluate pages, each a registered model or a registered
// adapter on its base model (from the ModelRegistry), or -- listed under those -- a training run's final/ or
// checkpoint-N folder (systemsOfRun: fed from the Runs page's scans by MainWindow). The default is the lab's three when they are registered
// -- original (a pre-trained model), instruct (a fine-tuned model) and PEFT (an adapter) -- else the first
// registered systems. With column names, each row also names its results-CSV column (original_model, ...).
#pragma once

#include "ui/RunRecord.h"
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

    // Every system the registry and the runs can offer, in the order the combo boxes list them.
    QVector<SystemSpec> available() const { return m_available; }
    // A run's final/ and checkpoints (newest first) as systems, labelled "run-name / checkpoint-140" (★ on the
    // best checkpoint): a LoRA run's folders are adapters on its base model (run.json's model), a full run's
    // are model folders (the trainer copies the tokenizer into them). None for a run whose run.json is unreadable.
    static QVector<SystemSpec> systemsOfRun(const RunRecord& run);
    // The runs' systems listed under the registered ones (registered folders are not listed twice).
    void setRunSystems(const QVector<SystemSpec>& systems);
    QVector<SystemSpec> runSystems() const { return m_runSystems; }
    // Chooses `system` (one of available(), matched by folders) as well: in the first empty row, else the last
    // row; nothing changes when it is chosen already. False when it is not available.
    bool selectSystem(const SystemSpec& system);
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
    // Lists the registry's and the runs' systems again; the choice is kept when the user made it or `keepChoice`,
    // else it becomes the lab's default.
    void refresh(bool keepChoice = false);
    // The index into m_available that row `row` shows, or -1 for "(none)".
    int chosenIndex(int row) const;

    ModelRegistry* m_registry = nullptr;
    bool m_withColumns = false;
    bool m_userChose = false;
    QVector<SystemSpec> m_available;
    int m_registeredCount = 0;  // m_available's first entries come from the registry, the rest from runs
    QVector<SystemSpec> m_runSystems;
    QVector<QComboBox*> m_combos;
    QVector<QLineEdit*> m_columns;
};
