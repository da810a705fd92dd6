#include "ui/ModelRegistry.h"

#include "ui/ModelInspector.h"

#include "base/install_paths.h"

#include <QDir>
#include <QFileInfo>
#include <QLocale>
#include <QSettings>

ModelRegistry::ModelRegistry(QObject* parent) : QAbstractTableModel(parent) {
    m_thread.setObjectName(QStringLiteral("ModelInspector"));
    m_inspector = new ModelInspector;
    m_inspector->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_inspector, &QObject::deleteLater);
    connect(m_inspector, &ModelInspector::inspected, this, &ModelRegistry::onInspected);
    m_thread.start();
    for (const std::string& dir : sumlab::builtin_model_dirs())
        m_builtInFolders << QDir::cleanPath(QFileInfo(QString::fromStdString(dir)).absoluteFilePath());
}

void ModelRegistry::setBuiltInFolders(const QStringList& folders) {
    m_builtInFolders.clear();
    for (const QString& f : folders) m_builtInFolders << QDir::cleanPath(QFileInfo(f).absoluteFilePath());
}

ModelRegistry::~ModelRegistry() {
    m_thread.quit();
    m_thread.wait();
}

QString ModelRegistry::kindName(ModelKind kind) { return kind == ModelKind::Adapter ? tr("LoRA adapter") : tr("Model"); }

QString ModelRegistry::formatBytes(qint64 bytes) { return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeSIFormat); }

bool ModelRegistry::addFolder(const QString& path, const QString& basePath) {
    const QString trimmed = path.trimmed();
    if (trimmed.isEmpty()) {
        emit registrationFailed(path, tr("No folder given."));
        return false;
    }
    const QString clean = QDir::cleanPath(QFileInfo(trimmed).absoluteFilePath());
    if (rowOfPath(clean) >= 0) {
        emit registrationFailed(clean, tr("This folder is already registered."));
        return false;
    }
    Entry e;
    e.info.path = clean;
    e.info.name = ModelInspector::displayName(clean);
    e.info.kind = ModelInspector::detectKind(clean);
    e.basePath = basePath.isEmpty() ? QString() : QDir::cleanPath(QFileInfo(basePath).absoluteFilePath());
    const int row = m_entries.size();
    beginInsertRows({}, row, row);
    m_entries.push_back(e);
    endInsertRows();
    startCheck(row);
    emit entriesChanged();
    return true;
}

void ModelRegistry::removeFolder(int row) {
    if (row < 0 || row >= m_entries.size() || m_entries[row].builtIn) return;
    beginRemoveRows({}, row, row);
    m_entries.remove(row);
    endRemoveRows();
    save();
    emit entriesChanged();
}

void ModelRegistry::recheck(int row) {
    if (row < 0 || row >= m_entries.size()) return;
    startCheck(row);
}

void ModelRegistry::setAdapterBase(int row, const QString& basePath) {
    if (row < 0 || row >= m_entries.size()) return;
    m_entries[row].basePath = basePath;
    save();
    startCheck(row);
}

void ModelRegistry::startCheck(int row) {
    Entry& e = m_entries[row];
    e.state = State::Checking;
    e.requestId = m_nextRequest++;
    e.info.kind = ModelInspector::detectKind(e.info.path);
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    const int id = e.requestId;
    const QString path = e.info.path;
    const QString base = e.basePath;
    QMetaObject::invokeMethod(m_inspector, [inspector = m_inspector, id, path, base] { inspector->inspect(id, path, base); },
                              Qt::QueuedConnection);
}

void ModelRegistry::onInspected(int requestId, const ModelInfo& info) {
    const int row = rowOfPath(info.path);
    if (row < 0 || m_entries[row].requestId != requestId) return;  // removed, or checked again since
    Entry& e = m_entries[row];
    if (!info.ok && e.isNew) {
        beginRemoveRows({}, row, row);
        m_entries.remove(row);
        endRemoveRows();
        emit registrationFailed(info.path, info.error);
        emit entriesChanged();
        return;
    }
    const bool wasNew = e.isNew;
    e.isNew = false;
    e.info = info;
    e.state = info.ok ? State::Ready : State::Unavailable;
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    save();
    if (wasNew) emit registered(info.path);
    emit entriesChanged();
}

void ModelRegistry::restore() {
    QSettings settings;
    const int n = settings.beginReadArray(QStringLiteral("models/entries"));
    QVector<Entry> entries;
    for (const QString& path : m_builtInFolders) {
        Entry e;
        e.info.path = path;
        e.info.name = ModelInspector::displayName(path);
        e.isNew = false;
        e.builtIn = true;
        entries.push_back(e);
    }
    for (int i = 0; i < n; ++i) {
        settings.setArrayIndex(i);
        Entry e;
        e.info.path = settings.value(QStringLiteral("path")).toString();
        if (e.info.path.isEmpty() || m_builtInFolders.contains(QDir::cleanPath(e.info.path))) continue;
        e.info.name = ModelInspector::displayName(e.info.path);
        e.basePath = settings.value(QStringLiteral("base")).toString();
        e.isNew = false;
        entries.push_back(e);
    }
    settings.endArray();
    beginResetModel();
    m_entries = entries;
    endResetModel();
    for (int row = 0; row < m_entries.size(); ++row) startCheck(row);
    emit entriesChanged();
}

void ModelRegistry::save() const {
    QSettings settings;
    settings.remove(QStringLiteral("models/entries"));
    settings.beginWriteArray(QStringLiteral("models/entries"));
    int i = 0;
    for (const Entry& e : m_entries) {
        if (e.isNew || e.builtIn) continue;  // only the user's folders that passed a check once are remembered
        settings.setArrayIndex(i++);
        settings.setValue(QStringLiteral("path"), e.info.path);
        settings.setValue(QStringLiteral("base"), e.basePath);
    }
    settings.endArray();
}

int ModelRegistry::rowOfPath(const QString& path) const {
    const QString clean = QDir::cleanPath(path);
    for (int i = 0; i < m_entries.size(); ++i)
        if (m_entries[i].info.path == clean) return i;
    return -1;
}

QVector<ModelInfo> ModelRegistry::readyEntries(ModelKind kind) const {
    QVector<ModelInfo> out;
    for (const Entry& e : m_entries)
        if (e.state == State::Ready && e.info.kind == kind) out << e.info;
    return out;
}

bool ModelRegistry::isChecking() const {
    for (const Entry& e : m_entries)
        if (e.state == State::Checking) return true;
    return false;
}

int ModelRegistry::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_entries.size(); }

int ModelRegistry::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ModelRegistry::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const Entry& e = m_entries[index.row()];
    const ModelInfo& i = e.info;
    const QLocale locale;
    switch (role) {
        case PathRole: return i.path;
        case KindRole: return static_cast<int>(i.kind);
        case StateRole: return static_cast<int>(e.state);
        case Qt::ToolTipRole:
            if (e.state == State::Unavailable) return i.error;
            return i.path;
        case Qt::TextAlignmentRole:
            return QVariant::fromValue(index.column() == ParametersColumn ? Qt::AlignRight | Qt::AlignVCenter : Qt::AlignLeft | Qt::AlignVCenter);
        case Qt::DisplayRole:
            switch (index.column()) {
                case NameColumn: return i.name;
                case KindColumn: return kindName(i.kind);
                case ParametersColumn:
                    if (e.state != State::Ready) return QString();
                    if (i.kind == ModelKind::Adapter) return i.adapterParameters > 0 ? locale.toString(i.adapterParameters) : QString();
                    return locale.toString(i.parameters);
                case FormatColumn: return e.state == State::Ready ? i.weightsFormat : QString();
                case StatusColumn:
                    switch (e.state) {
                        case State::Checking: return tr("Checking…");
                        case State::Unavailable: return tr("Unavailable: %1").arg(i.error);
                        case State::Ready:
                            if (i.kind == ModelKind::Adapter && i.basePath.isEmpty()) return tr("Ready (choose its base model)");
                            return e.builtIn ? tr("Ready (built in, works offline)") : tr("Ready");
                    }
                    return {};
                case PathColumn: return i.path;
                default: return {};
            }
        default: return {};
    }
}

QVariant ModelRegistry::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
        case NameColumn: return tr("Name");
        case KindColumn: return tr("Kind");
        case ParametersColumn: return tr("Parameters");
        case FormatColumn: return tr("Format");
        case StatusColumn: return tr("Status");
        case PathColumn: return tr("Folder");
        default: return {};
    }
}
