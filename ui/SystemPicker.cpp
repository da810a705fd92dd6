#include "ui/SystemPicker.h"

#include "ui/Accessible.h"
#include "ui/ModelInspector.h"
#include "ui/ModelRegistry.h"

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QRegularExpressionValidator>
#include <QSignalBlocker>

#include <algorithm>

namespace {

// A results-CSV system name from a folder name: lower case, [a-z0-9_] only.
QString columnFromName(const QString& name) {
    QString column = name.toLower();
    column.replace(QRegularExpression(QStringLiteral("[^a-z0-9_]+")), QStringLiteral("_"));
    column.remove(QRegularExpression(QStringLiteral("^_+|_+$")));
    return column.isEmpty() ? QStringLiteral("system") : column;
}

// The same system: the same model and adapter folders, however their paths are spelt.
bool sameFolders(const SystemSpec& a, const SystemSpec& b) {
    return QDir::cleanPath(a.modelDir) == QDir::cleanPath(b.modelDir) && QDir::cleanPath(a.adapterDir) == QDir::cleanPath(b.adapterDir);
}

}  // namespace

SystemPicker::SystemPicker(ModelRegistry* registry, const QString& prefix, bool withColumnNames, QWidget* parent)
    : QWidget(parent), m_registry(registry), m_withColumns(withColumnNames) {
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    // Two systems per line: four lines of full-width combo boxes would crowd the pages' results.
    const int perSystem = m_withColumns ? 4 : 2;
    for (int row = 0; row < MaxSystems; ++row) {
        const int line = row / 2, base = (row % 2) * perSystem;
        auto* label = new QLabel(tr("System &%1").arg(row + 1), this);
        auto* combo = new QComboBox(this);
        combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        combo->setMinimumContentsLength(12);
        Accessible::describe(combo, QStringLiteral("%1SystemCombo%2").arg(prefix).arg(row + 1).toLatin1().constData(),
                             tr("System %1").arg(row + 1),
                             tr("A registered model, or an adapter on its base model (register them on the Models page), or a run's final model or checkpoint (from the Runs page)"));
        label->setBuddy(combo);
        grid->addWidget(label, line, base);
        grid->addWidget(combo, line, base + 1);
        m_combos << combo;
        connect(combo, &QComboBox::activated, this, [this] {
            m_userChose = true;
            emit systemsChanged();
        });
        if (m_withColumns) {
            auto* column = new QLineEdit(this);
            column->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[A-Za-z0-9_]+")), column));
            column->setPlaceholderText(tr("column"));
            column->setMinimumWidth(60);
            column->setMaximumWidth(160);
            Accessible::describe(column, QStringLiteral("%1SystemColumnEdit%2").arg(prefix).arg(row + 1).toLatin1().constData(),
                                 tr("Column of system %1").arg(row + 1),
                                 tr("The results-CSV column: <name>_summaries (the lab: original_model, instruct_model, peft_model)"));
            grid->addWidget(column, line, base + 2);
            grid->addWidget(new QLabel(QStringLiteral("_summaries"), this), line, base + 3);
            m_columns << column;
            connect(combo, &QComboBox::currentIndexChanged, this, [this, row, combo] {
                const int i = chosenIndex(row);
                if (i >= 0) m_columns[row]->setText(m_available[i].column);
                else m_columns[row]->clear();
            });
        }
    }
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(perSystem + 1, 1);
    connect(m_registry, &ModelRegistry::entriesChanged, this, [this] { refresh(); });
    refresh();
}

QVector<SystemSpec> SystemPicker::labDefaults(const QVector<SystemSpec>& available) {
    QVector<SystemSpec> chosen;
    auto pick = [&](const QString& column) {
        for (const SystemSpec& s : available)
            if (s.column == column) {
                chosen << s;
                return;
            }
    };
    pick(QStringLiteral("original_model"));
    pick(QStringLiteral("instruct_model"));
    pick(QStringLiteral("peft_model"));
    if (chosen.isEmpty()) chosen = available.mid(0, MaxSystems);
    return chosen;
}

QVector<SystemSpec> SystemPicker::systemsOfRun(const RunRecord& run) {
    QVector<SystemSpec> out;
    if (!run.isReadable || run.modelDir.isEmpty()) return out;
    const bool lora = run.method == QLatin1String("lora");
    QStringList folders;
    if (!run.finalDir.isEmpty()) folders << run.finalDir;
    for (auto it = run.checkpoints.crbegin(); it != run.checkpoints.crend(); ++it) folders << *it;
    const qint64 best = run.bestStep();
    const QString bestName = best >= 0 ? QStringLiteral("checkpoint-%1").arg(best) : QString();
    for (const QString& folder : folders) {
        const QString name = QFileInfo(folder).fileName();
        SystemSpec s;
        s.label = QStringLiteral("%1 / %2").arg(run.name, name) + (name == bestName ? QStringLiteral(" ★") : QString());
        s.column = columnFromName(run.name + QLatin1Char('_') + name);
        if (lora) {
            s.modelDir = QDir::cleanPath(run.modelDir);
            s.adapterDir = QDir::cleanPath(folder);
        } else {
            s.modelDir = QDir::cleanPath(folder);
        }
        out << s;
    }
    return out;
}

void SystemPicker::setRunSystems(const QVector<SystemSpec>& systems) {
    // The Runs page rescans every few seconds; an unchanged list must not reset the combo boxes.
    if (systems == m_runSystems) return;
    m_runSystems = systems;
    refresh(true);  // a run's new checkpoint must not undo the systems chosen
}

bool SystemPicker::selectSystem(const SystemSpec& system) {
    int found = -1;
    for (int i = 0; i < m_available.size() && found < 0; ++i)
        if (sameFolders(m_available[i], system)) found = i;
    if (found < 0) return false;
    m_userChose = true;
    int target = MaxSystems - 1;
    for (int row = MaxSystems - 1; row >= 0; --row) {
        if (chosenIndex(row) == found) return true;
        if (chosenIndex(row) < 0) target = row;
    }
    m_combos[target]->setCurrentIndex(m_combos[target]->findData(found));
    emit systemsChanged();
    return true;
}

int SystemPicker::chosenIndex(int row) const {
    const QVariant data = m_combos[row]->currentData();
    const int i = data.isValid() ? data.toInt() : -1;
    return i >= 0 && i < m_available.size() ? i : -1;
}

void SystemPicker::refresh(bool keepChoice) {
    const QVector<SystemSpec> previous = systems();
    m_available.clear();
    // The lab's roles go to the first pre-trained model, the first fine-tuned one and the first adapter.
    bool haveOriginal = false, haveInstruct = false, havePeft = false;
    QVector<ModelInfo> models = m_registry->readyEntries(ModelKind::Model);
    for (const ModelInfo& info : models) {
        SystemSpec s;
        s.modelDir = info.path;
        const bool pretrained = info.origin == tr("Pre-trained");
        if (pretrained && !haveOriginal) {
            haveOriginal = true;
            s.column = QStringLiteral("original_model");
            s.label = tr("original (%1)").arg(info.name);
        } else if (!pretrained && !haveInstruct) {
            haveInstruct = true;
            s.column = QStringLiteral("instruct_model");
            s.label = tr("instruct (%1)").arg(info.name);
        } else {
            s.column = columnFromName(info.name);
            s.label = info.name;
        }
        m_available << s;
    }
    for (const ModelInfo& info : m_registry->readyEntries(ModelKind::Adapter)) {
        if (info.basePath.isEmpty()) continue;  // an adapter without a known base cannot generate
        SystemSpec s;
        s.modelDir = info.basePath;
        s.adapterDir = info.path;
        const QString base = ModelInspector::displayName(info.basePath);
        if (!havePeft) {
            havePeft = true;
            s.column = QStringLiteral("peft_model");
            s.label = tr("PEFT (%1 on %2)").arg(info.name, base);
        } else {
            s.column = columnFromName(info.name);
            s.label = tr("%1 on %2").arg(info.name, base);
        }
        m_available << s;
    }
    m_registeredCount = m_available.size();
    for (const SystemSpec& s : m_runSystems) {
        bool registered = false;
        for (int i = 0; i < m_registeredCount && !registered; ++i) registered = sameFolders(m_available[i], s);
        if (!registered) m_available << s;
    }
    for (QComboBox* combo : m_combos) {
        const QSignalBlocker block(combo);
        combo->clear();
        combo->addItem(tr("(none)"), -1);
        for (int i = 0; i < m_available.size(); ++i) {
            const SystemSpec& s = m_available[i];
            if (i == m_registeredCount) combo->insertSeparator(combo->count());  // the runs' systems below
            combo->addItem(s.label, i);
            if (i >= m_registeredCount)
                combo->setItemData(combo->count() - 1,
                                   s.adapterDir.isEmpty() ? tr("Model folder %1").arg(s.modelDir) : tr("LoRA adapter %1 on %2").arg(s.adapterDir, s.modelDir),
                                   Qt::ToolTipRole);
        }
    }
    // The lab's default roles are registered systems; a run's checkpoint is only chosen on purpose.
    setSystems((m_userChose || keepChoice) && !previous.isEmpty() ? previous : labDefaults(m_available.mid(0, m_registeredCount)));
}

QVector<SystemSpec> SystemPicker::systems() const {
    QVector<SystemSpec> out;
    for (int row = 0; row < m_combos.size(); ++row) {
        const int i = chosenIndex(row);
        if (i < 0) continue;
        SystemSpec s = m_available[i];
        if (m_withColumns && !m_columns[row]->text().isEmpty()) s.column = m_columns[row]->text();
        out << s;
    }
    return out;
}

void SystemPicker::setSystems(const QVector<SystemSpec>& systems) {
    for (int row = 0; row < m_combos.size(); ++row) {
        int index = 0;
        if (row < systems.size()) {
            for (int i = 0; i < m_available.size() && index == 0; ++i)
                if (sameFolders(m_available[i], systems[row])) index = m_combos[row]->findData(i);
        }
        m_combos[row]->setCurrentIndex(std::max(index, 0));
        if (m_withColumns && row < systems.size() && index > 0) m_columns[row]->setText(systems[row].column);
    }
    emit systemsChanged();
}
