#include "ui/RunListModel.h"

#include <QFileInfo>
#include <QHash>
#include <QLocale>
#include <QSet>

#include <cmath>

RunListModel::RunListModel(QObject* parent) : QAbstractTableModel(parent) {}

QString RunListModel::stateText(sumlab::RunStatus state) {
    switch (state) {
        case sumlab::RunStatus::running: return tr("running");
        case sumlab::RunStatus::paused: return tr("paused");
        case sumlab::RunStatus::stopped: return tr("stopped");
        case sumlab::RunStatus::finished: return tr("finished");
        case sumlab::RunStatus::failed: return tr("failed");
    }
    return {};
}

void RunListModel::setRuns(const QVector<RunRecord>& runs) {
    QHash<QString, int> incoming;
    for (int i = 0; i < runs.size(); ++i) incoming.insert(runs[i].dir, i);
    // Gone runs, bottom up so the rows above keep their numbers.
    for (int row = m_runs.size() - 1; row >= 0; --row) {
        if (incoming.contains(m_runs[row].dir)) continue;
        beginRemoveRows({}, row, row);
        m_runs.remove(row);
        endRemoveRows();
    }
    QSet<QString> present;
    for (int row = 0; row < m_runs.size(); ++row) {
        m_runs[row] = runs[incoming.value(m_runs[row].dir)];
        present.insert(m_runs[row].dir);
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    }
    // New runs go on top in the scanner's order (newest first): they started after the ones listed.
    QVector<RunRecord> added;
    for (const RunRecord& r : runs)
        if (!present.contains(r.dir)) added << r;
    if (added.isEmpty()) return;
    beginInsertRows({}, 0, added.size() - 1);
    for (int i = 0; i < added.size(); ++i) m_runs.insert(i, added[i]);
    endInsertRows();
}

int RunListModel::rowOfDir(const QString& dir) const {
    for (int i = 0; i < m_runs.size(); ++i)
        if (m_runs[i].dir == dir) return i;
    return -1;
}

bool RunListModel::hasLiveRun() const {
    for (const RunRecord& r : m_runs)
        if (r.state == sumlab::RunStatus::running || r.state == sumlab::RunStatus::paused) return true;
    return false;
}

int RunListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_runs.size(); }

int RunListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const RunRecord& r = m_runs[index.row()];
    const QLocale locale;
    auto real = [&](double v, char format, int precision) { return std::isnan(v) ? QString() : locale.toString(v, format, precision); };
    switch (role) {
        case DirRole: return r.dir;
        case Qt::ToolTipRole:
            if (!r.isReadable) return r.readError;
            if (index.column() == StatusColumn && !r.error.isEmpty()) return r.error;
            if (index.column() == ModelColumn) return r.modelDir;
            if (index.column() == BestColumn && !r.bestCheckpoint.isEmpty())
                return tr("%1: %2 %3").arg(r.bestCheckpoint, r.bestMetricName, locale.toString(r.bestMetric, 'g', 6));
            return r.dir;
        case Qt::TextAlignmentRole: {
            const bool numeric = index.column() >= LearningRateColumn && index.column() <= RougeLColumn;
            return QVariant::fromValue(numeric ? Qt::AlignRight | Qt::AlignVCenter : Qt::AlignLeft | Qt::AlignVCenter);
        }
        case Qt::DisplayRole:
            switch (index.column()) {
                case NameColumn: return r.name;
                case StatusColumn: return r.isReadable ? stateText(r.state) : tr("unreadable");
                case MethodColumn: return r.method;
                case ModelColumn: return QFileInfo(r.initAdapter.isEmpty() ? r.modelDir : r.initAdapter).fileName();
                case LearningRateColumn: return std::isnan(r.learningRate) ? QString() : QString::number(r.learningRate, 'g', 4);
                case EpochsColumn: return real(r.epochs, 'g', 4);
                case BatchColumn: return r.batchSize > 0 ? (r.gradientAccumulation > 1 ? QStringLiteral("%1×%2").arg(r.batchSize).arg(r.gradientAccumulation)
                                                                                         : QString::number(r.batchSize))
                                                          : QString();
                case RankColumn: return r.method == QLatin1String("lora") && r.loraR > 0 ? QString::number(r.loraR) : QString();
                case StepColumn: return r.maxSteps > 0 ? QStringLiteral("%1/%2").arg(r.step).arg(r.maxSteps) : QString::number(r.step);
                case LossColumn: return real(r.lastLoss, 'f', 4);
                case EvalLossColumn: return real(r.lastEvalLoss, 'f', 4);
                case RougeLColumn: return real(r.lastRougeL, 'f', 4);
                case BestColumn: return r.bestStep() >= 0 ? QStringLiteral("checkpoint-%1").arg(r.bestStep()) : QString();
                case StartedColumn: return r.startedAt.isValid() ? locale.toString(r.startedAt, QLocale::ShortFormat) : QString();
                default: return {};
            }
        default: return {};
    }
}

QVariant RunListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
        case NameColumn: return tr("Run");
        case StatusColumn: return tr("Status");
        case MethodColumn: return tr("Method");
        case ModelColumn: return tr("Model");
        case LearningRateColumn: return tr("LR");
        case EpochsColumn: return tr("Epochs");
        case BatchColumn: return tr("Batch");
        case RankColumn: return tr("r");
        case StepColumn: return tr("Step");
        case LossColumn: return tr("Train loss");
        case EvalLossColumn: return tr("Eval loss");
        case RougeLColumn: return tr("ROUGE-L");
        case BestColumn: return tr("Best");
        case StartedColumn: return tr("Started");
        default: return {};
    }
}
