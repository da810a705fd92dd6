// RunListModel: the runs of a workspace, one row each (name, status, method, model, key hyper-parameters,
// last losses and ROUGE-L, the best checkpoint, start time). Updates keep rows (and so the view's selection) of runs that are still there.
#pragma once

#include "ui/RunRecord.h"

#include <QAbstractTableModel>

class RunListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        NameColumn, StatusColumn, MethodColumn, ModelColumn, LearningRateColumn, EpochsColumn, BatchColumn, RankColumn,
        StepColumn, LossColumn, EvalLossColumn, RougeLColumn, BestColumn, StartedColumn, ColumnCount
    };
    enum Role { DirRole = Qt::UserRole + 1 };

    explicit RunListModel(QObject* parent = nullptr);

    // Replaces the list: rows of runs still present are updated in place, new runs are inserted, gone ones removed.
    void setRuns(const QVector<RunRecord>& runs);
    const RunRecord& run(int row) const { return m_runs.at(row); }
    int rowOfDir(const QString& dir) const;
    bool hasLiveRun() const;

    static QString stateText(sumlab::RunStatus state);

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QVector<RunRecord> m_runs;
};
