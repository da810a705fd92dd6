#include "ui/SystemPicker.h"

#include "ui/Accessible.h"
#include "ui/ModelInspector.h"
#include "ui/ModelRegistry.h"

#include <QComboBox>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QRegularExpressionValidator>
#include <QSignalBlocker>

namespace {

// A results-CSV system name from a folder name: lower case, [a-z0-9_] only.
QString columnFromName(const QString& name) {
    QString column = name.toLower();
    column.replace(QRegularExpression(QStringLiteral("[^a-z0-9_]+")), QStringLiteral("_"));
    column.remove(QRegularExpression(QStringLiteral("^_+|_+$")));
    return column.isEmpty() ? QStringLiteral("system") : column;
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
                             tr("A registered model, or an adapter on its base model (register them on the Models page)"));
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
                const int i = combo->currentIndex() - 1;
                if (i >= 0 && i < m_available.size()) m_columns[row]->setText(m_available[i].column);
                else m_columns[row]->clear();
            });
        }
    }
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(perSystem + 1, 1);
    connect(m_registry, &ModelRegistry::entriesChanged, this, &SystemPicker::refresh);
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

void SystemPicker::refresh() {
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
    for (QComboBox* combo : m_combos) {
        const QSignalBlocker block(combo);
        combo->clear();
        combo->addItem(tr("(none)"));
        for (const SystemSpec& s : m_available) combo->addItem(s.label);
    }
    setSystems(m_userChose && !previous.isEmpty() ? previous : labDefaults(m_available));
}

QVector<SystemSpec> SystemPicker::systems() const {
    QVector<SystemSpec> out;
    for (int row = 0; row < m_combos.size(); ++row) {
        const int i = m_combos[row]->currentIndex() - 1;
        if (i < 0 || i >= m_available.size()) continue;
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
            for (int i = 0; i < m_available.size(); ++i)
                if (m_available[i].modelDir == systems[row].modelDir && m_available[i].adapterDir == systems[row].adapterDir) index = i + 1;
        }
        m_combos[row]->setCurrentIndex(index);
        if (m_withColumns && row < systems.size() && index > 0) m_columns[row]->setText(systems[row].column);
    }
    emit systemsChanged();
}
