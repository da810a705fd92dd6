// DialogueTableModel: the dialogues of one split (id, topic, first line, word count) for the Data page's
// table. DialogueFilterProxy filters it by topic and text.
#pragma once

#include "ui/DatasetSnapshot.h"

#include <QAbstractTableModel>

class DialogueTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { IdColumn, TopicColumn, FirstLineColumn, WordsColumn, ColumnCount };
    // SortRole gives values that sort naturally: file order for ids (train_2 before train_10), numbers for counts.
    enum Role { SortRole = Qt::UserRole + 1 };

    explicit DialogueTableModel(QObject* parent = nullptr);

    void setSplit(const SplitSnapshot& split);
    void clear();
    const SplitSnapshot& split() const { return m_split; }
    const DialogueRecord& record(int row) const { return m_split.dialogues.at(row); }

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    SplitSnapshot m_split;
};
