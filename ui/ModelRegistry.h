// ModelRegistry: the model and adapter folders the user registered, as a table model shared by the
// Models, Data and Train pages, persisted in QSettings ("models/entries"). Every folder is checked by a
// ModelInspector on the registry's own thread; a new folder that fails the check is not kept (the
// reason comes with registrationFailed), a remembered one that fails later stays, marked unavailable.
// The models shipped with SumLab (base/install_paths.h) come first, built in: listed without being
// registered, never removed, never written to QSettings, so they work offline on a fresh install.
#pragma once

#include "ui/ModelInfo.h"

#include <QAbstractTableModel>
#include <QStringList>
#include <QThread>
#include <QVector>

class ModelInspector;

class ModelRegistry : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { NameColumn, KindColumn, ParametersColumn, FormatColumn, StatusColumn, PathColumn, ColumnCount };
    enum Role { PathRole = Qt::UserRole + 1, KindRole, StateRole };
    enum class State { Checking, Ready, Unavailable };

    explicit ModelRegistry(QObject* parent = nullptr);
    ~ModelRegistry() override;

    // Registers a folder (cleaned to an absolute path) and starts checking it. An adapter may name its base
    // folder; otherwise the base comes from its adapter_config.json when that names a folder on disk.
    // Returns false (and emits registrationFailed) for an empty path or one already registered.
    bool addFolder(const QString& path, const QString& basePath = QString());
    void removeFolder(int row);
    // Checks the folder again (after it changed on disk, or with another base for an adapter).
    void recheck(int row);
    void setAdapterBase(int row, const QString& basePath);

    // Re-reads the list (the built-in folders, then QSettings') and checks every folder again.
    void restore();
    // The built-in model folders restore() lists (by default those SumLab ships; tests set their own).
    void setBuiltInFolders(const QStringList& folders);
    bool isBuiltIn(int row) const { return m_entries.at(row).builtIn; }

    int rowOfPath(const QString& path) const;
    State state(int row) const { return m_entries.at(row).state; }
    const ModelInfo& info(int row) const { return m_entries.at(row).info; }
    // Ready entries of one kind, in table order.
    QVector<ModelInfo> readyEntries(ModelKind kind) const;
    bool isChecking() const;

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString kindName(ModelKind kind);
    static QString formatBytes(qint64 bytes);

signals:
    void registered(const QString& path);
    void registrationFailed(const QString& path, const QString& reason);
    // Any entry added, removed or re-checked (for combo boxes that list the ready entries).
    void entriesChanged();

private slots:
    void onInspected(int requestId, const ModelInfo& info);

private:
    struct Entry {
        ModelInfo info;
        QString basePath;  // chosen by the user for an adapter
        State state = State::Checking;
        bool isNew = true;  // registered in this session and not yet checked once
        bool builtIn = false;
        int requestId = 0;
    };
    void startCheck(int row);
    void save() const;

    QVector<Entry> m_entries;
    QStringList m_builtInFolders;
    QThread m_thread;
    ModelInspector* m_inspector = nullptr;
    int m_nextRequest = 1;
};
