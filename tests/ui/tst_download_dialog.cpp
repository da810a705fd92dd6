// ui/DownloadDialog against the fake Hub on 127.0.0.1: a download on the worker thread ends with the snapshot
// folder (and lists it as cached), Cancel stops a slow download and keeps its partial file, a bad id is
// reported without starting anything; the Models page registers what it downloaded, the Data page loads it.
#include "base/file_util.h"
#include "tests/common/fake_hub_server.h"
#include "tests/ui/ui_test_support.h"
#include "ui/DataPage.h"
#include "ui/DownloadDialog.h"
#include "ui/ModelRegistry.h"
#include "ui/ModelsPage.h"

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

namespace fs = std::filesystem;

class TestDownloadDialog : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void downloadsAndListsCached();
    void cancelKeepsPartialFile();
    void badIdIsReported();
    void modelsPageRegistersDownload();
    void dataPageLoadsDownload();

private:
    std::unique_ptr<fakehub::FakeHub> m_hub;
    std::unique_ptr<QTemporaryDir> m_dir;
};

namespace {
const std::string kTinyFlan = SUMLAB_SHARED_DIR "/golden/t5/tiny-flan";
const std::string kCommit = "1111111111222222222233333333334444444444";
const std::string kDataCommit = "5555555555666666666677777777778888888888";
}  // namespace

void TestDownloadDialog::initTestCase() {
    m_hub = std::make_unique<fakehub::FakeHub>();
    QVERIFY(m_hub->ok());
    fakehub::Repo model;
    model.id = "google/flan-t5-small";
    for (const auto& entry : fs::directory_iterator(kTinyFlan)) {
        const std::string name = entry.path().filename().string();
        model.commits[kCommit][name] = {sumlab::read_file(entry.path().string()), name == "model.safetensors" || name == "spiece.model"};
    }
    model.refs["main"] = kCommit;
    m_hub->add_repo(model);
    fakehub::Repo data;
    data.id = "knkarthick/dialogsum";
    data.dataset = true;
    for (const char* split : {"train", "validation", "test"}) {
        QByteArray csv = "id,dialogue,summary,topic\n";
        for (int i = 0; i < 3; ++i) csv += ui_test::csvRow(QString::fromLatin1(split), i);
        data.commits[kDataCommit][std::string(split) + ".csv"] = {csv.toStdString(), std::string(split) == "train"};
    }
    data.refs["main"] = kDataCommit;
    m_hub->add_repo(data);
    ui_test::isolateSettings();
    QCoreApplication::setApplicationName(QStringLiteral("SumLabTestDownloadDialog"));  // apart from the ui suites run beside it
    QSettings().clear();
    qputenv("HF_ENDPOINT", QByteArray::fromStdString(m_hub->endpoint()));
    qputenv("NO_PROXY", "127.0.0.1,localhost");
    qputenv("no_proxy", "127.0.0.1,localhost");
    for (const char* name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE",
                             "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"})
        qunsetenv(name);
}

void TestDownloadDialog::init() {
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    qputenv("HF_HOME", m_dir->path().toUtf8());
}

void TestDownloadDialog::downloadsAndListsCached() {
    DownloadDialog dialog(DownloadDialog::Kind::Model);
    auto* cached = dialog.findChild<QListWidget*>("hubCachedList");
    QVERIFY(cached);
    QCOMPARE(cached->count(), 0);
    QSignalSpy done(&dialog, &DownloadDialog::downloaded);
    dialog.findChild<QLineEdit*>("hubIdEdit")->setText("google/flan-t5-small");
    dialog.findChild<QPushButton*>("hubDownloadButton")->click();
    QVERIFY(dialog.isRunning());
    QVERIFY(!dialog.findChild<QPushButton*>("hubDownloadButton")->isEnabled());
    QVERIFY(done.wait(30000));
    const QString folder = done.at(0).at(0).toString();
    QCOMPARE(folder, m_dir->path() + "/hub/models--google--flan-t5-small/snapshots/" + QString::fromStdString(kCommit));
    QVERIFY(QFileInfo(folder + "/model.safetensors").isSymLink());
    QCOMPARE(dialog.findChild<QProgressBar*>("hubProgressBar")->value(), dialog.findChild<QProgressBar*>("hubProgressBar")->maximum());
    QVERIFY(!dialog.isRunning());
    QCOMPARE(cached->count(), 1);
    QVERIFY2(cached->item(0)->text().contains("google/flan-t5-small") && cached->item(0)->text().contains("main"),
             qPrintable(cached->item(0)->text()));

    // A cached snapshot is used without the Hub.
    m_hub->clear_requests();
    DownloadDialog again(DownloadDialog::Kind::Model);
    QSignalSpy used(&again, &DownloadDialog::downloaded);
    auto* list = again.findChild<QListWidget*>("hubCachedList");
    list->setCurrentRow(0);
    again.findChild<QPushButton*>("hubUseCachedButton")->click();
    QCOMPARE(used.count(), 1);
    QCOMPARE(used.at(0).at(0).toString(), folder);
    QCOMPARE(int(m_hub->requests().size()), 0);
}

void TestDownloadDialog::cancelKeepsPartialFile() {
    m_hub->serve_slowly("model.safetensors", 40);
    DownloadDialog dialog(DownloadDialog::Kind::Model);
    auto* status = dialog.findChild<QLabel*>("hubStatusLabel");
    dialog.setRepoId("google/flan-t5-small");
    dialog.start();
    QTRY_VERIFY_WITH_TIMEOUT(status->text().contains("model.safetensors") && dialog.findChild<QProgressBar*>("hubProgressBar")->value() > 0,
                             20000);
    dialog.findChild<QPushButton*>("hubCancelButton")->click();
    QTRY_VERIFY_WITH_TIMEOUT(!dialog.isRunning(), 20000);
    QVERIFY2(status->text().contains("Cancelled"), qPrintable(status->text()));
    bool partial = false;
    for (const auto& f : fs::directory_iterator((m_dir->path() + "/hub/models--google--flan-t5-small/blobs").toStdString()))
        if (f.path().extension() == ".incomplete" && fs::file_size(f.path()) > 0) partial = true;
    QVERIFY(partial);
    QVERIFY(dialog.snapshotFolder().isEmpty());
}

void TestDownloadDialog::badIdIsReported() {
    DownloadDialog dialog(DownloadDialog::Kind::Dataset);
    QCOMPARE(dialog.findChild<QComboBox*>("hubTypeCombo")->currentIndex(), 1);
    dialog.setRepoId("not a repo id");
    dialog.start();
    QVERIFY(!dialog.isRunning());
    QVERIFY2(dialog.statusText().contains("not a Hugging Face Hub repository id"), qPrintable(dialog.statusText()));
}

void TestDownloadDialog::modelsPageRegistersDownload() {
    ModelRegistry registry;
    ModelsPage page(&registry);
    QSignalSpy registered(&registry, &ModelRegistry::registered);
    page.findChild<QPushButton*>("downloadModelButton")->click();
    auto* dialog = page.findChild<DownloadDialog*>();
    QVERIFY(dialog);
    dialog->setRepoId("google/flan-t5-small");
    dialog->start();
    QVERIFY(registered.wait(60000));
    const QString folder = m_dir->path() + "/hub/models--google--flan-t5-small/snapshots/" + QString::fromStdString(kCommit);
    QCOMPARE(registered.at(0).at(0).toString(), folder);
    const int row = registry.rowOfPath(folder);
    QVERIFY(row >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(registry.state(row), ModelRegistry::State::Ready, 60000);
    dialog->close();
}

void TestDownloadDialog::dataPageLoadsDownload() {
    DataPage page(nullptr);
    QSignalSpy finished(&page, &DataPage::loadFinished);
    page.findChild<QPushButton*>("downloadDataButton")->click();
    auto* dialog = page.findChild<DownloadDialog*>();
    QVERIFY(dialog);
    QCOMPARE(dialog->findChild<QComboBox*>("hubTypeCombo")->currentIndex(), 1);
    dialog->setRepoId("knkarthick/dialogsum");
    dialog->start();
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    QCOMPARE(page.loadedPath(), m_dir->path() + "/hub/datasets--knkarthick--dialogsum/snapshots/" + QString::fromStdString(kDataCommit));
    dialog->close();
}

QTEST_MAIN(TestDownloadDialog)
#include "tst_download_dialog.moc"
