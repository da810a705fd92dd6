// RunScanner: lists the run folders of a workspace (subfolders with run.json) and reads each with the
// engine's read_run, on the Runs page's worker thread. A folder whose files have not changed since the
// last scan is not read again, so polling a live run every few seconds stays cheap.
#pragma once

#include "ui/RunRecord.h"

#include <QHash>
#include <QObject>

class RunScanner : public QObject {
    Q_OBJECT
public:
    explicit RunScanner(QObject* parent = nullptr);

    // Reads one run folder (what scan does per folder), for the worker thread.
    static RunRecord readRun(const QString& dir);

public slots:
    void scan(int requestId, const QString& workspace);

signals:
    // Every run of the workspace, newest first.
    void scanned(int requestId, const QString& workspace, const QVector<RunRecord>& runs);

private:
    struct Cached {
        QString stamp;
        RunRecord record;
    };
    QHash<QString, Cached> m_cache;
};
