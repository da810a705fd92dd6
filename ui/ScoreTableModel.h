// ScoreTableModel and DeltaTableModel: the Evaluate page's two tables over a ScoreResult.
//   ScoreTableModel  one row per system: ROUGE-1, ROUGE-2, ROUGE-L, ROUGE-Lsum F-measures in points with 95% CIs.
//   DeltaTableModel  one row per pair (every later system minus every earlier one, as the lab compares them):
//                    the difference in points, in percent of the baseline, its paired-bootstrap CI and p-value.
// Both export themselves as CSV (numbers unformatted, 0..1) and Markdown (as shown).
#pragma once

#include "ui/EvaluationResults.h"

#include <QAbstractTableModel>

QString rougeMetricName(int metric);  // "ROUGE-1", "ROUGE-2", "ROUGE-L", "ROUGE-Lsum"

// What both tables share: the ScoreResult they show, a label column followed by one column per ROUGE
// metric, and the Markdown export (the header and every cell as displayed).
class RougeTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum { LabelColumn = 0, FirstMetricColumn = 1, ColumnCount = 1 + RougeMetricCount };

    void setResult(const ScoreResult& result);
    const ScoreResult& result() const { return m_result; }
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QString toMarkdown() const;

protected:
    explicit RougeTableModel(QObject* parent);
    ScoreResult m_result;
};

class ScoreTableModel : public RougeTableModel {
    Q_OBJECT
public:
    enum { SystemColumn = LabelColumn };
    enum Role { MeanRole = Qt::UserRole + 1, LowRole, HighRole };

    explicit ScoreTableModel(QObject* parent = nullptr);
    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    QString toCsv() const;
};

class DeltaTableModel : public RougeTableModel {
    Q_OBJECT
public:
    enum { ComparisonColumn = LabelColumn };
    enum Role { DeltaRole = Qt::UserRole + 1, PValueRole, PercentRole };

    explicit DeltaTableModel(QObject* parent = nullptr);
    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // "+3.20 pts (+8.1 %) [+1.10, +5.30] p = 0.004"; percent is "n/a" when the baseline mean is 0.
    static QString formatDelta(const PairDelta& d, int metric);
    static double percentOf(const PairDelta& d, int metric);  // NaN when the baseline mean is 0
    QString toCsv() const;

private:
    QString pairName(const PairDelta& d) const;
};
