#include "ui/ExampleDeltaModel.h"

#include "ui/ScoreTableModel.h"

#include <algorithm>
#include <numeric>

ExampleDeltaModel::ExampleDeltaModel(QObject* parent) : QAbstractTableModel(parent) {}

void ExampleDeltaModel::setResult(const ScoreResult& result) {
    m_result = result;
    rebuild();
}

void ExampleDeltaModel::setComparison(int a, int b, int metric, Order order) {
    m_a = a;
    m_b = b;
    m_metric = std::clamp(metric, 0, RougeMetricCount - 1);
    m_orderKind = order;
    rebuild();
}

double ExampleDeltaModel::deltaOf(int row) const {
    return m_result.systems[m_b].perExample[m_metric].value(row) - m_result.systems[m_a].perExample[m_metric].value(row);
}

void ExampleDeltaModel::rebuild() {
    beginResetModel();
    m_order.clear();
    const int n = m_result.systems.size();
    if (m_a >= 0 && m_b >= 0 && m_a < n && m_b < n && m_a != m_b) {
        m_order.resize(m_result.rows.size());
        std::iota(m_order.begin(), m_order.end(), 0);
        // Ties keep file order, so the ranking is the same on every run.
        std::stable_sort(m_order.begin(), m_order.end(), [this](int x, int y) {
            return m_orderKind == Order::WinsFirst ? deltaOf(x) > deltaOf(y) : deltaOf(x) < deltaOf(y);
        });
    }
    endResetModel();
}

int ExampleDeltaModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_order.size(); }
int ExampleDeltaModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ExampleDeltaModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_order.size() || index.column() >= ColumnCount) return {};
    const int row = m_order.at(index.row());
    const ResultRow& r = m_result.rows.at(row);
    const double a = m_result.systems[m_a].perExample[m_metric].value(row);
    const double b = m_result.systems[m_b].perExample[m_metric].value(row);
    if (role == ResultRowRole) return row;
    if (role == DeltaRole) return b - a;
    if (role == Qt::TextAlignmentRole && index.column() != SummaryColumn && index.column() != IdColumn) return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole || role == Qt::AccessibleTextRole) {
        if (index.column() == SummaryColumn) return r.summaries.value(m_b);
        return tr("Row %1: %2 %3 points, %4 %5 points (%6 %7)")
            .arg(row)
            .arg(m_result.systems[m_b].name)
            .arg(100 * b, 0, 'f', 1)
            .arg(m_result.systems[m_a].name)
            .arg(100 * a, 0, 'f', 1)
            .arg(b - a >= 0 ? tr("win by") : tr("loss by"))
            .arg(100 * std::abs(b - a), 0, 'f', 1);
    }
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
        case RankColumn: return index.row() + 1;
        case RowColumn: return row;
        case IdColumn: return r.id;
        case DeltaColumn: return QStringLiteral("%1%2").arg(b - a >= 0 ? QStringLiteral("+") : QString()).arg(100 * (b - a), 0, 'f', 1);
        case AColumn: return QString::number(100 * a, 'f', 1);
        case BColumn: return QString::number(100 * b, 'f', 1);
        case SummaryColumn: return r.summaries.value(m_b).simplified();
        default: return {};
    }
}

QVariant ExampleDeltaModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
    const QString metric = rougeMetricName(m_metric);
    switch (section) {
        case RankColumn: return tr("Rank");
        case RowColumn: return tr("Row");
        case IdColumn: return tr("Id");
        case DeltaColumn: return QStringLiteral("Δ %1").arg(metric);
        case AColumn: return m_result.systems.value(m_a).name;
        case BColumn: return m_result.systems.value(m_b).name;
        case SummaryColumn: return tr("Summary of %1").arg(m_result.systems.value(m_b).name);
        default: return {};
    }
}
