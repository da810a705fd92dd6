#include "ui/ScoreTableModel.h"

#include <QFont>

#include <cmath>
#include <limits>

namespace {

QString points(double fraction) { return QString::number(100.0 * fraction, 'f', 2); }
QString signedPoints(double fraction) { return (fraction >= 0 ? QStringLiteral("+") : QString()) + points(fraction); }
QString formatP(double p) { return p < 0.001 ? QStringLiteral("< 0.001") : QString::number(p, 'f', 3); }
QString csvField(QString s) {
    if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) || s.contains(QLatin1Char('\n')))
        s = QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
    return s;
}
QString markdownRow(const QStringList& cells) {
    QStringList escaped;
    for (QString c : cells) escaped << c.replace(QLatin1Char('|'), QStringLiteral("\\|"));
    return QStringLiteral("| ") + escaped.join(QStringLiteral(" | ")) + QStringLiteral(" |\n");
}

}  // namespace

QString rougeMetricName(int metric) {
    static const char* names[] = {"ROUGE-1", "ROUGE-2", "ROUGE-L", "ROUGE-Lsum"};
    return metric >= 0 && metric < RougeMetricCount ? QString::fromLatin1(names[metric]) : QString();
}

// ---- RougeTableModel ----

RougeTableModel::RougeTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void RougeTableModel::setResult(const ScoreResult& result) {
    beginResetModel();
    m_result = result;
    endResetModel();
}

int RougeTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString RougeTableModel::toMarkdown() const {
    QStringList header;
    for (int c = 0; c < ColumnCount; ++c) header << headerData(c, Qt::Horizontal).toString();
    QString out = markdownRow(header);
    out += QStringLiteral("|---") + QStringLiteral("|--:").repeated(RougeMetricCount) + QStringLiteral("|\n");
    for (int r = 0; r < rowCount(); ++r) {
        QStringList cells;
        for (int c = 0; c < ColumnCount; ++c) cells << data(index(r, c)).toString();
        out += markdownRow(cells);
    }
    return out;
}

// ---- ScoreTableModel ----

ScoreTableModel::ScoreTableModel(QObject* parent) : RougeTableModel(parent) {}

int ScoreTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_result.systems.size(); }

QVariant ScoreTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_result.systems.size() || index.column() >= ColumnCount) return {};
    const SystemScore& s = m_result.systems.at(index.row());
    if (index.column() == SystemColumn) {
        if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole) return s.name;
        if (role == Qt::ToolTipRole) return tr("Column %1_summaries").arg(s.name);
        return {};
    }
    const int metric = index.column() - FirstMetricColumn;
    const MetricInterval& v = s.metrics[metric];
    const bool hasCi = m_result.request.resamples > 0;
    switch (role) {
        case Qt::DisplayRole:
            return hasCi ? QStringLiteral("%1  [%2, %3]").arg(points(v.mean), points(v.low), points(v.high)) : points(v.mean);
        case Qt::AccessibleTextRole:
        case Qt::ToolTipRole:
            return hasCi ? tr("%1 of %2: %3 points, 95% confidence interval %4 to %5")
                               .arg(rougeMetricName(metric), s.name, points(v.mean), points(v.low), points(v.high))
                         : tr("%1 of %2: %3 points").arg(rougeMetricName(metric), s.name, points(v.mean));
        case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
        case MeanRole: return v.mean;
        case LowRole: return v.low;
        case HighRole: return v.high;
        default: return {};
    }
}

QVariant ScoreTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount) return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) return section == SystemColumn ? tr("System") : rougeMetricName(section - FirstMetricColumn);
    if (role == Qt::ToolTipRole && section != SystemColumn)
        return tr("F-measure in points (×100), with its 95% bootstrap confidence interval");
    return {};
}

QString ScoreTableModel::toCsv() const {
    QString out = QStringLiteral("system");
    for (int m = 0; m < RougeMetricCount; ++m) {
        const QString key = rougeMetricName(m).toLower().remove(QLatin1Char('-'));
        out += QStringLiteral(",%1,%1_low,%1_high").arg(key);
    }
    out += QLatin1Char('\n');
    for (const SystemScore& s : m_result.systems) {
        out += csvField(s.name);
        for (const MetricInterval& v : s.metrics) out += QStringLiteral(",%1,%2,%3").arg(v.mean, 0, 'g', 17).arg(v.low, 0, 'g', 17).arg(v.high, 0, 'g', 17);
        out += QLatin1Char('\n');
    }
    return out;
}

// ---- DeltaTableModel ----

DeltaTableModel::DeltaTableModel(QObject* parent) : RougeTableModel(parent) {}

int DeltaTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_result.deltas.size(); }

double DeltaTableModel::percentOf(const PairDelta& d, int metric) {
    return d.baselineMean[metric] != 0 ? 100.0 * d.delta[metric] / d.baselineMean[metric] : std::numeric_limits<double>::quiet_NaN();
}

QString DeltaTableModel::formatDelta(const PairDelta& d, int metric) {
    const double percent = percentOf(d, metric);
    const QString relative = std::isnan(percent) ? QStringLiteral("n/a")
                                                 : (percent >= 0 ? QStringLiteral("+") : QString()) + QString::number(percent, 'f', 1) + QStringLiteral(" %");
    return QStringLiteral("%1 pts (%2) [%3, %4] p = %5")
        .arg(signedPoints(d.delta[metric]), relative, signedPoints(d.low[metric]), signedPoints(d.high[metric]), formatP(d.pValue[metric]));
}

QString DeltaTableModel::pairName(const PairDelta& d) const {
    return QStringLiteral("%1 − %2").arg(m_result.systems.value(d.candidate).name, m_result.systems.value(d.baseline).name);
}

QVariant DeltaTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_result.deltas.size() || index.column() >= ColumnCount) return {};
    const PairDelta& d = m_result.deltas.at(index.row());
    if (index.column() == ComparisonColumn) {
        if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole) return pairName(d);
        if (role == Qt::ToolTipRole) return tr("%1 minus %2 on the same examples").arg(m_result.systems.value(d.candidate).name, m_result.systems.value(d.baseline).name);
        return {};
    }
    const int metric = index.column() - FirstMetricColumn;
    switch (role) {
        case Qt::DisplayRole: return formatDelta(d, metric);
        case Qt::AccessibleTextRole:
        case Qt::ToolTipRole:
            return tr("%1, %2: %3 points (%4 % of the baseline), paired-bootstrap 95% interval %5 to %6, p-value %7")
                .arg(pairName(d), rougeMetricName(metric), signedPoints(d.delta[metric]), QString::number(percentOf(d, metric), 'f', 1),
                     signedPoints(d.low[metric]), signedPoints(d.high[metric]), formatP(d.pValue[metric]));
        case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
        case Qt::FontRole:
            // Bold: the interval excludes zero, a difference the resampling supports.
            if (m_result.request.resamples > 0 && (d.low[metric] > 0 || d.high[metric] < 0)) {
                QFont bold;
                bold.setBold(true);
                return bold;
            }
            return {};
        case DeltaRole: return d.delta[metric];
        case PValueRole: return d.pValue[metric];
        case PercentRole: return percentOf(d, metric);
        default: return {};
    }
}

QVariant DeltaTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount) return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) return section == ComparisonColumn ? tr("Comparison") : QStringLiteral("Δ ") + rougeMetricName(section - FirstMetricColumn);
    if (role == Qt::ToolTipRole && section != ComparisonColumn)
        return tr("Difference of F-measures in points and in percent of the baseline, paired-bootstrap 95% interval and p-value; bold: the interval excludes 0");
    return {};
}

QString DeltaTableModel::toCsv() const {
    QString out = QStringLiteral("candidate,baseline");
    for (int m = 0; m < RougeMetricCount; ++m) {
        const QString key = rougeMetricName(m).toLower().remove(QLatin1Char('-'));
        out += QStringLiteral(",%1_delta,%1_percent,%1_low,%1_high,%1_p_value").arg(key);
    }
    out += QLatin1Char('\n');
    for (const PairDelta& d : m_result.deltas) {
        out += csvField(m_result.systems.value(d.candidate).name) + QLatin1Char(',') + csvField(m_result.systems.value(d.baseline).name);
        for (int m = 0; m < RougeMetricCount; ++m)
            out += QStringLiteral(",%1,%2,%3,%4,%5")
                       .arg(d.delta[m], 0, 'g', 17)
                       .arg(percentOf(d, m), 0, 'g', 17)
                       .arg(d.low[m], 0, 'g', 17)
                       .arg(d.high[m], 0, 'g', 17)
                       .arg(d.pValue[m], 0, 'g', 17);
        out += QLatin1Char('\n');
    }
    return out;
}
