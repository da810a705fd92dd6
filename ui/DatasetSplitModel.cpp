#include "ui/DatasetSplitModel.h"

#include <QFileInfo>
#include <QLocale>
#include <QSet>

DatasetSplitModel::DatasetSplitModel(QObject* parent) : QAbstractTableModel(parent) {}

void DatasetSplitModel::setDataset(const DatasetSnapshot& dataset) {
    beginResetModel();
    m_dataset = dataset;
    m_topicCounts.clear();
    for (const SplitSnapshot& split : m_dataset.splits) {
        QSet<QString> topics;
        for (const DialogueRecord& r : split.dialogues)
            for (const QString& t : r.topics) topics.insert(t);
        m_topicCounts << topics.size();
    }
    endResetModel();
}

void DatasetSplitModel::clear() { setDataset({}); }

int DatasetSplitModel::rowOfSplit(const QString& name) const {
    for (int i = 0; i < m_dataset.splits.size(); ++i)
        if (m_dataset.splits[i].name == name) return i;
    return -1;
}

int DatasetSplitModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_dataset.splits.size(); }

int DatasetSplitModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant DatasetSplitModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const SplitSnapshot& s = m_dataset.splits[index.row()];
    const QLocale locale;
    if (role == SplitNameRole) return s.name;
    if (role == Qt::TextAlignmentRole) {
        const bool numeric = index.column() == DialoguesColumn || index.column() == ReferencesColumn ||
                             index.column() == SkippedColumn || index.column() == TopicsColumn;
        return QVariant::fromValue(numeric ? Qt::AlignRight | Qt::AlignVCenter : Qt::AlignLeft | Qt::AlignVCenter);
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == SkippedColumn && s.skippedCount > 0) {
            QString text = (s.skippedCount == 1 ? tr("1 row skipped:") : tr("%1 rows skipped:").arg(locale.toString(s.skippedCount))) + '\n' + s.skippedDetails.join('\n');
            if (s.skippedCount > s.skippedDetails.size()) text += '\n' + tr("… and %1 more").arg(s.skippedCount - s.skippedDetails.size());
            return text;
        }
        if (index.column() == FileColumn) return s.path;
        return {};
    }
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
        case SplitColumn: return s.name;
        case DialoguesColumn: return locale.toString(s.dialogues.size());
        case ReferencesColumn: return locale.toString(s.referenceCount);
        case SkippedColumn: return locale.toString(s.skippedCount);
        case TopicsColumn: return locale.toString(m_topicCounts.value(index.row()));
        case FormatColumn: return s.format;
        case FileColumn: return QFileInfo(s.path).fileName();
        default: return {};
    }
}

QVariant DatasetSplitModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
        case SplitColumn: return tr("Split");
        case DialoguesColumn: return tr("Dialogues");
        case ReferencesColumn: return tr("Summaries");
        case SkippedColumn: return tr("Skipped");
        case TopicsColumn: return tr("Topics");
        case FormatColumn: return tr("Format");
        case FileColumn: return tr("File");
        default: return {};
    }
}
