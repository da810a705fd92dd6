// DownloadDialog: gets a model or a dataset from the Hugging Face Hub into the Hub's own cache (engine/hub) on a
// worker thread: repository id, revision and type, a progress bar with bytes, speed and ETA, and Cancel (which
// keeps the partial file, so the next download resumes it). It also lists what the cache already holds, ready
// to use without a download. `downloaded(folder)` gives the snapshot folder to register or load.
#pragma once

#include <QDialog>
#include <QThread>

#include <atomic>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;

// Runs HubClient::download on its thread; every signal carries plain values.
class DownloadWorker : public QObject {
    Q_OBJECT
public:
    explicit DownloadWorker(std::atomic<bool>* cancel) : m_cancel(cancel) {}

public slots:
    void download(const QString& repoId, const QString& revision, bool isDataset);

signals:
    void progress(qint64 bytesDone, qint64 bytesTotal, double bytesPerSecond, double etaSeconds, const QString& file,
                  int filesDone, int filesTotal);
    void finished(const QString& snapshotFolder, const QString& note);
    void failed(const QString& message);
    void cancelled();

private:
    std::atomic<bool>* m_cancel;
};

class DownloadDialog : public QDialog {
    Q_OBJECT
public:
    enum class Kind { Model, Dataset };
    explicit DownloadDialog(Kind kind, QWidget* parent = nullptr);
    ~DownloadDialog() override;

    void setRepoId(const QString& id);
    bool isRunning() const { return m_running; }
    QString snapshotFolder() const { return m_snapshot; }
    QString statusText() const;

public slots:
    void start();   // the Download button
    void cancel();  // the Cancel button: sets the flag at once (a queued call would wait behind the download)

signals:
    void downloaded(const QString& snapshotFolder);
    void requestDownload(const QString& repoId, const QString& revision, bool isDataset);

protected:
    void reject() override;

private slots:
    void onProgress(qint64 bytesDone, qint64 bytesTotal, double bytesPerSecond, double etaSeconds, const QString& file,
                    int filesDone, int filesTotal);
    void onFinished(const QString& snapshotFolder, const QString& note);
    void onFailed(const QString& message);
    void onCancelled();
    void useCached();

private:
    void setRunning(bool running);
    void refreshCached();
    bool isDataset() const;

    QThread m_thread;
    DownloadWorker* m_worker = nullptr;
    std::atomic<bool> m_cancel{false};
    bool m_running = false;
    bool m_closeRequested = false;  // Close or Escape during a download: close once it stopped
    QString m_snapshot;

    QLineEdit* m_idEdit = nullptr;
    QLineEdit* m_revisionEdit = nullptr;
    QComboBox* m_typeCombo = nullptr;
    QProgressBar* m_progressBar = nullptr;
    QLabel* m_statusLabel = nullptr;
    QPushButton* m_downloadButton = nullptr;
    QPushButton* m_cancelButton = nullptr;
    QPushButton* m_closeButton = nullptr;
    QListWidget* m_cachedList = nullptr;
    QPushButton* m_useCachedButton = nullptr;
};
