#include "ui/ConfigDiffModel.h"

#include <QFont>
#include <QHash>

ConfigDiffModel::ConfigDiffModel(QObject* parent) : QAbstractTableModel(parent) {}

void ConfigDiffModel::setRuns(const QVector<RunRecord>& runs) {
    beginResetModel();
    m_runs = runs;
    m_all.clear();
    QHash<QString, int> rowOfKey;
    for (int run = 0; run < runs.size(); ++run) {
        for (const auto& [key, value] : runs[run].config) {
            auto it = rowOfKey.constFind(key);
            int row = it == rowOfKey.constEnd() ? -1 : *it;
            if (row < 0) {
                row = m_all.size();
                rowOfKey.insert(key, row);
                Row r;
                r.key = key;
                for (int i = 0; i < runs.size(); ++i) r.values << QString();
                m_all << r;
            }
            m_all[row].values[run] = value;
        }
    }
    for (Row& r : m_all) {
        for (const QString& v : r.values) r.differs = r.differs || v != r.values.front() || v.isNull() != r.values.front().isNull();
    }
    rebuild();
    endResetModel();
}

void ConfigDiffModel::setOnlyDifferences(bool only) {
    if (only == m_onlyDifferences) return;
    beginResetModel();
    m_onlyDifferences = only;
    rebuild();
    endResetModel();
}

void ConfigDiffModel::rebuild() {
    m_rows.clear();
    // With a single run there is nothing to differ from: show its whole configuration.
    const bool filter = m_onlyDifferences && m_runs.size() > 1;
    for (const Row& r : m_all)
        if (!filter || r.differs) m_rows << r;
}

QStringList ConfigDiffModel::keys() const {
    QStringList out;
    for (const Row& r : m_rows) out << r.key;
    return out;
}

int ConfigDiffModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_rows.size(); }

int ConfigDiffModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : 1 + m_runs.size(); }

QVariant ConfigDiffModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const Row& r = m_rows[index.row()];
    switch (role) {
        case Qt::DisplayRole:
        case Qt::ToolTipRole:
            if (index.column() == 0) return r.key;
            return r.values.value(index.column() - 1).isNull() ? tr("(not set)") : r.values.value(index.column() - 1);
        case Qt::FontRole:
            if (r.differs && m_runs.size() > 1) {
                QFont bold;
                bold.setBold(true);
                return bold;
            }
            return {};
        case DiffersRole: return r.differs;
        default: return {};
    }
}

QVariant ConfigDiffModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
    if (section == 0) return tr("Setting");
    if (section - 1 < m_runs.size()) return m_runs[section - 1].name;
    return {};
}
