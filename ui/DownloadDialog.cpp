#include "ui/DownloadDialog.h"

#include "engine/hub/hub_client.h"
#include "ui/Accessible.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

using namespace sumlab;

namespace {

QString megabytes(qint64 bytes) { return QLocale().toString(static_cast<double>(bytes) / 1e6, 'f', 1) + QObject::tr(" MB"); }

QString duration(double seconds) {
    if (!(seconds >= 0) || seconds > 1e7) return QObject::tr("unknown");
    const auto s = static_cast<qint64>(seconds + 0.5);
    if (s >= 3600) return QObject::tr("%1 h %2 min").arg(s / 3600).arg(s / 60 % 60);
    if (s >= 60) return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return QObject::tr("%1 s").arg(s);
}

constexpr int kProgressSteps = 1000;  // QProgressBar is int; files may pass 2 GB

}  // namespace

void DownloadWorker::download(const QString& repoId, const QString& revision, bool isDataset) {
    try {
        const hub::RepoType type = isDataset ? hub::RepoType::Dataset : hub::RepoType::Model;
        hub::RepoRef ref = hub::parse_repo_ref(repoId.trimmed().toStdString(), type);
        if (!revision.trimmed().isEmpty()) ref.revision = revision.trimmed().toStdString();
        const hub::HubClient client(hub::HubSettings::from_environment());
        const hub::DownloadResult result = client.download(
            ref, isDataset ? hub::FileSelection::AllFiles : hub::FileSelection::ModelFiles,
            [this](const hub::DownloadProgress& p) {
                emit progress(p.bytes_done, p.bytes_total, p.bytes_per_second, p.eta_seconds, QString::fromStdString(p.file),
                              static_cast<int>(p.files_done), static_cast<int>(p.files_total));
            },
            m_cancel);
        emit finished(QString::fromStdString(result.snapshot_folder), QString::fromStdString(result.note));
    } catch (const Cancelled&) {
        emit cancelled();
    } catch (const std::exception& e) {
        emit failed(QString::fromStdString(e.what()));
    }
}

DownloadDialog::DownloadDialog(Kind kind, QWidget* parent) : QDialog(parent) {
    setObjectName("downloadDialog");
    setWindowTitle(kind == Kind::Model ? tr("Download a Model from the Hub") : tr("Download a Dataset from the Hub"));
    auto* layout = new QVBoxLayout(this);

    auto* form = new QFormLayout;
    m_idEdit = new QLineEdit(this);
    m_idEdit->setPlaceholderText(kind == Kind::Model ? QStringLiteral("google/flan-t5-base") : QStringLiteral("knkarthick/dialogsum"));
    Accessible::describe(m_idEdit, "hubIdEdit", tr("Repository id"), tr("The Hub repository: organization/name, optionally @revision"));
    m_revisionEdit = new QLineEdit(this);
    m_revisionEdit->setPlaceholderText(QStringLiteral("main"));
    Accessible::describe(m_revisionEdit, "hubRevisionEdit", tr("Revision"), tr("A branch, tag or commit hash (empty: main)"));
    m_typeCombo = new QComboBox(this);
    m_typeCombo->addItem(tr("Model"));
    m_typeCombo->addItem(tr("Dataset"));
    m_typeCombo->setCurrentIndex(kind == Kind::Model ? 0 : 1);
    Accessible::describe(m_typeCombo, "hubTypeCombo", tr("Repository type"),
                         tr("A model brings its configuration, tokenizer and weights (safetensors preferred); a dataset every file"));
    form->addRow(tr("&Repository:"), m_idEdit);
    form->addRow(tr("Re&vision:"), m_revisionEdit);
    form->addRow(tr("&Type:"), m_typeCombo);
    layout->addLayout(form);

    m_progressBar = new QProgressBar(this);
    m_progressBar->setRange(0, kProgressSteps);
    m_progressBar->setValue(0);
    Accessible::describe(m_progressBar, "hubProgressBar", tr("Download progress"), tr("Bytes downloaded of all the files"));
    layout->addWidget(m_progressBar);
    m_statusLabel = new QLabel(tr("Files go to the Hugging Face cache (HF_HUB_CACHE, HF_HOME), shared with Python tools."), this);
    m_statusLabel->setWordWrap(true);
    m_statusLabel->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    Accessible::describe(m_statusLabel, "hubStatusLabel", tr("Download status"), tr("Bytes, speed and time left, or what went wrong"));
    layout->addWidget(m_statusLabel);

    auto* cachedBox = new QGroupBox(tr("Already in the cache"), this);
    auto* cachedLayout = new QVBoxLayout(cachedBox);
    m_cachedList = new QListWidget(cachedBox);
    Accessible::describe(m_cachedList, "hubCachedList", tr("Cached snapshots"), tr("Snapshots in the Hugging Face cache; use one without downloading"));
    m_useCachedButton = new QPushButton(tr("&Use Selected"), cachedBox);
    Accessible::describe(m_useCachedButton, "hubUseCachedButton", tr("Use cached snapshot"), tr("Use the selected cached snapshot folder"));
    cachedLayout->addWidget(m_cachedList);
    cachedLayout->addWidget(m_useCachedButton, 0, Qt::AlignRight);
    layout->addWidget(cachedBox, 1);

    auto* buttons = new QHBoxLayout;
    m_downloadButton = new QPushButton(tr("&Download"), this);
    m_downloadButton->setDefault(true);
    Accessible::describe(m_downloadButton, "hubDownloadButton", tr("Download"), tr("Download the repository into the cache"));
    m_cancelButton = new QPushButton(tr("&Cancel"), this);
    Accessible::describe(m_cancelButton, "hubCancelButton", tr("Cancel download"),
                         tr("Stop the download; the partial file is kept and the next download resumes it"));
    m_closeButton = new QPushButton(tr("Cl&ose"), this);
    Accessible::describe(m_closeButton, "hubCloseButton", tr("Close"), tr("Close this dialog"));
    buttons->addStretch(1);
    buttons->addWidget(m_downloadButton);
    buttons->addWidget(m_cancelButton);
    buttons->addWidget(m_closeButton);
    layout->addLayout(buttons);

    m_worker = new DownloadWorker(&m_cancel);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &DownloadDialog::requestDownload, m_worker, &DownloadWorker::download);
    connect(m_worker, &DownloadWorker::progress, this, &DownloadDialog::onProgress);
    connect(m_worker, &DownloadWorker::finished, this, &DownloadDialog::onFinished);
    connect(m_worker, &DownloadWorker::failed, this, &DownloadDialog::onFailed);
    connect(m_worker, &DownloadWorker::cancelled, this, &DownloadDialog::onCancelled);
    m_thread.start();

    connect(m_downloadButton, &QPushButton::clicked, this, &DownloadDialog::start);
    connect(m_idEdit, &QLineEdit::returnPressed, this, &DownloadDialog::start);
    connect(m_cancelButton, &QPushButton::clicked, this, &DownloadDialog::cancel);
    connect(m_closeButton, &QPushButton::clicked, this, &DownloadDialog::reject);
    connect(m_typeCombo, qOverload<int>(&QComboBox::currentIndexChanged), this, &DownloadDialog::refreshCached);
    connect(m_useCachedButton, &QPushButton::clicked, this, &DownloadDialog::useCached);
    connect(m_cachedList, &QListWidget::itemDoubleClicked, this, &DownloadDialog::useCached);
    setRunning(false);
    refreshCached();
    resize(560, 420);
}

DownloadDialog::~DownloadDialog() {
    m_cancel = true;
    m_thread.quit();
    m_thread.wait();
}

void DownloadDialog::setRepoId(const QString& id) { m_idEdit->setText(id); }

QString DownloadDialog::statusText() const { return m_statusLabel->text(); }

bool DownloadDialog::isDataset() const { return m_typeCombo->currentIndex() == 1; }

void DownloadDialog::setRunning(bool running) {
    m_running = running;
    m_downloadButton->setEnabled(!running);
    m_cancelButton->setEnabled(running);
    m_idEdit->setEnabled(!running);
    m_revisionEdit->setEnabled(!running);
    m_typeCombo->setEnabled(!running);
    m_useCachedButton->setEnabled(!running);
}

void DownloadDialog::start() {
    if (m_running) return;
    const QString id = m_idEdit->text().trimmed();
    const hub::RepoType type = isDataset() ? hub::RepoType::Dataset : hub::RepoType::Model;
    try {
        hub::parse_repo_ref(id.toStdString(), type);  // a typo is reported here, before any thread work
    } catch (const std::exception& e) {
        m_statusLabel->setText(QString::fromStdString(e.what()));
        return;
    }
    m_cancel = false;
    m_closeRequested = false;
    m_snapshot.clear();
    m_progressBar->setValue(0);
    m_statusLabel->setText(tr("Asking the Hub about %1 …").arg(id));
    setRunning(true);
    emit requestDownload(id, m_revisionEdit->text(), isDataset());
}

void DownloadDialog::cancel() {
    if (!m_running) return;
    m_cancel = true;
    m_statusLabel->setText(tr("Cancelling …"));
}

void DownloadDialog::reject() {
    if (m_running) {
        m_closeRequested = true;
        cancel();
        return;  // closes once the worker reports
    }
    QDialog::reject();
}

void DownloadDialog::onProgress(qint64 bytesDone, qint64 bytesTotal, double bytesPerSecond, double etaSeconds, const QString& file,
                                int filesDone, int filesTotal) {
    if (m_cancel) return;
    m_progressBar->setValue(bytesTotal > 0 ? static_cast<int>(static_cast<double>(bytesDone) / static_cast<double>(bytesTotal) * kProgressSteps) : 0);
    m_statusLabel->setText(tr("%1 of %2 · %3/s · %4 left · %5 (file %6 of %7)")
                               .arg(megabytes(bytesDone), megabytes(bytesTotal), megabytes(static_cast<qint64>(bytesPerSecond)),
                                    duration(etaSeconds), file)
                               .arg(std::min(filesDone + 1, filesTotal))
                               .arg(filesTotal));
}

void DownloadDialog::onFinished(const QString& snapshotFolder, const QString& note) {
    setRunning(false);
    m_snapshot = snapshotFolder;
    m_progressBar->setValue(kProgressSteps);
    m_statusLabel->setText(note.isEmpty() ? tr("Done: %1").arg(snapshotFolder) : tr("Done (%1): %2").arg(note, snapshotFolder));
    refreshCached();
    emit downloaded(snapshotFolder);
}

void DownloadDialog::onFailed(const QString& message) {
    setRunning(false);
    m_statusLabel->setText(message);
    if (m_closeRequested) QDialog::reject();
}

void DownloadDialog::onCancelled() {
    setRunning(false);
    m_statusLabel->setText(tr("Cancelled; the partial download is kept and the next download resumes it."));
    if (m_closeRequested) QDialog::reject();
}

void DownloadDialog::refreshCached() {
    m_cachedList->clear();
    const hub::RepoType type = isDataset() ? hub::RepoType::Dataset : hub::RepoType::Model;
    const hub::HubCache cache(hub::HubSettings::from_environment().cache_dir);
    for (const hub::CachedRepo& repo : cache.scan().repos) {
        if (repo.type != type) continue;
        for (const hub::CachedRevision& rev : repo.revisions) {
            QString refs;
            for (const auto& r : rev.refs) refs += (refs.isEmpty() ? "" : ", ") + QString::fromStdString(r);
            auto* item = new QListWidgetItem(tr("%1 @ %2 (%3)")
                                                 .arg(QString::fromStdString(repo.repo_id),
                                                      refs.isEmpty() ? QString::fromStdString(rev.commit.substr(0, 10)) : refs,
                                                      megabytes(rev.size_on_disk)),
                                             m_cachedList);
            item->setData(Qt::UserRole, QString::fromStdString(rev.snapshot_path));
            item->setToolTip(QString::fromStdString(rev.snapshot_path));
        }
    }
}

void DownloadDialog::useCached() {
    const QListWidgetItem* item = m_cachedList->currentItem();
    if (m_running || item == nullptr) return;
    m_snapshot = item->data(Qt::UserRole).toString();
    m_statusLabel->setText(tr("Using %1").arg(m_snapshot));
    emit downloaded(m_snapshot);
}
