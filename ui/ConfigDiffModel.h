// ConfigDiffModel: the configurations (run.json, flattened to dotted keys) of the selected runs side by
// side, one row per setting and one column per run; settings whose values differ are bold, and the model
// can show only those.
#pragma once

#include "ui/RunRecord.h"

#include <QAbstractTableModel>
#include <QStringList>

class ConfigDiffModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Role { DiffersRole = Qt::UserRole + 1 };

    explicit ConfigDiffModel(QObject* parent = nullptr);

    void setRuns(const QVector<RunRecord>& runs);
    void setOnlyDifferences(bool only);
    bool onlyDifferences() const { return m_onlyDifferences; }
    // The setting names shown, top to bottom.
    QStringList keys() const;

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row {
        QString key;
        QStringList values;  // one per run; a missing key is a null QString
        bool differs = false;
    };
    void rebuild();

    QVector<RunRecord> m_runs;
    QVector<Row> m_all;
    QVector<Row> m_rows;
    bool m_onlyDifferences = true;
};
