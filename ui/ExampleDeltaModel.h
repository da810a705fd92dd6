// ExampleDeltaModel: the examples of a scored results CSV ranked by how much system B beats system A on one
// ROUGE F-measure (B − A): the biggest wins first, or the biggest losses first. Activating a row opens that
// example in the Compare page.
#pragma once

#include "ui/EvaluationResults.h"

#include <QAbstractTableModel>

class ExampleDeltaModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { RankColumn, RowColumn, IdColumn, DeltaColumn, AColumn, BColumn, SummaryColumn, ColumnCount };
    enum Role { ResultRowRole = Qt::UserRole + 1, DeltaRole };
    enum class Order { WinsFirst, LossesFirst };

    explicit ExampleDeltaModel(QObject* parent = nullptr);

    void setResult(const ScoreResult& result);
    // systems[b] - systems[a] on `metric` (0..3).
    void setComparison(int a, int b, int metric, Order order);

    int systemA() const { return m_a; }
    int systemB() const { return m_b; }
    // The results-CSV row shown on `row` of this model.
    int resultRow(int row) const { return m_order.value(row, -1); }

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void rebuild();
    double deltaOf(int resultRow) const;

    ScoreResult m_result;
    int m_a = 0;
    int m_b = 1;
    int m_metric = 0;
    Order m_orderKind = Order::WinsFirst;
    QVector<int> m_order;  // results-CSV rows, ranked
};
