#include "ui/DialogueTableModel.h"

#include <QLocale>

DialogueTableModel::DialogueTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void DialogueTableModel::setSplit(const SplitSnapshot& split) {
    beginResetModel();
    m_split = split;
    endResetModel();
}

void DialogueTableModel::clear() { setSplit({}); }

int DialogueTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_split.dialogues.size(); }

int DialogueTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant DialogueTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const DialogueRecord& r = m_split.dialogues[index.row()];
    switch (role) {
        case Qt::DisplayRole:
            switch (index.column()) {
                case IdColumn: return r.id;
                case TopicColumn: return r.topics.join(QStringLiteral(" / "));
                case FirstLineColumn: return r.firstLine;
                case WordsColumn: return QLocale().toString(r.wordCount);
                default: return {};
            }
        case SortRole:
            switch (index.column()) {
                case IdColumn: return r.line;
                case TopicColumn: return r.topic().toLower();
                case FirstLineColumn: return r.firstLine.toLower();
                case WordsColumn: return r.wordCount;
                default: return {};
            }
        case Qt::ToolTipRole:
            if (index.column() == FirstLineColumn) return r.firstLine;
            if (index.column() == TopicColumn && r.topics.size() > 1) return r.topics.join('\n');
            return {};
        case Qt::TextAlignmentRole:
            return QVariant::fromValue(index.column() == WordsColumn ? Qt::AlignRight | Qt::AlignVCenter : Qt::AlignLeft | Qt::AlignVCenter);
        default: return {};
    }
}

QVariant DialogueTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
        case IdColumn: return tr("Id");
        case TopicColumn: return tr("Topic");
        case FirstLineColumn: return tr("First line");
        case WordsColumn: return tr("Words");
        default: return {};
    }
}
