// DatasetSplitModel: one row per loaded split of a dataset (name, dialogues, references, skipped rows,
// topics, format, file), for the Data page's split table.
#pragma once

#include "ui/DatasetSnapshot.h"

#include <QAbstractTableModel>

class DatasetSplitModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { SplitColumn, DialoguesColumn, ReferencesColumn, SkippedColumn, TopicsColumn, FormatColumn, FileColumn, ColumnCount };
    enum Role { SplitNameRole = Qt::UserRole + 1 };

    explicit DatasetSplitModel(QObject* parent = nullptr);

    void setDataset(const DatasetSnapshot& dataset);
    void clear();
    const DatasetSnapshot& dataset() const { return m_dataset; }
    // The row of the split named `name`, or -1.
    int rowOfSplit(const QString& name) const;

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    DatasetSnapshot m_dataset;
    QVector<int> m_topicCounts;  // distinct topics per split
};
