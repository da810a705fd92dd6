// `sumlab-cli download` and `sumlab-cli cache` against the fake Hub of tests/common/fake_hub_server.h
// (127.0.0.1 only), then the "done when": `generate --model google/flan-t5-small` runs from the cache with
// HF_HUB_OFFLINE=1 and writes what the same model from its own folder writes.
#include "base/file_util.h"
#include "tests/common/sanitizer.h"
#include "tests/common/fake_hub_server.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

namespace fs = std::filesystem;

class TestHubCli : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void downloadThenGenerateOffline();
    void datasetDownloadThenDataOffline();
    void errorsAreOneLine();

private:
    struct Run {
        int code;
        QString out, err;
    };
    Run run(const QStringList& args, bool offline = false) const;

    std::unique_ptr<fakehub::FakeHub> m_hub;
    QTemporaryDir m_dir;
};

namespace {

const std::string kTinyFlan = SUMLAB_SHARED_DIR "/golden/t5/tiny-flan";
const std::string kCommit = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const std::string kDataCommit = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";

QString snapshot_path(const QString& home, const QString& folder, const std::string& commit) {
    return home + "/hub/" + folder + "/snapshots/" + QString::fromStdString(commit);
}

}  // namespace

void TestHubCli::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_hub = std::make_unique<fakehub::FakeHub>();
    QVERIFY(m_hub->ok());
    fakehub::Repo model;
    model.id = "google/flan-t5-small";
    for (const auto& entry : fs::directory_iterator(kTinyFlan)) {
        const std::string name = entry.path().filename().string();
        const bool lfs = name == "model.safetensors" || name == "pytorch_model.bin" || name == "spiece.model";
        model.commits[kCommit][name] = {sumlab::read_file(entry.path().string()), lfs};
    }
    model.refs["main"] = kCommit;
    m_hub->add_repo(model);
    fakehub::Repo data;
    data.id = "knkarthick/dialogsum";
    data.dataset = true;
    const std::string header = "id,dialogue,summary,topic\n";
    data.commits[kDataCommit]["train.csv"] = {header + "train_0,\"#Person1#: Hi.\n#Person2#: Hello.\",They greet.,greeting\n", true};
    data.commits[kDataCommit]["validation.csv"] = {header + "dev_0,\"#Person1#: Tea?\n#Person2#: Yes.\",Tea is offered.,tea\n", false};
    data.commits[kDataCommit]["test.csv"] = {header + "test_0,\"#Person1#: Late?\n#Person2#: No.\",Not late.,time\n"
                                                      "test_1,\"#Person1#: Why?\n#Person2#: Rain.\",It rains.,weather\n",
                                             false};
    data.refs["main"] = kDataCommit;
    m_hub->add_repo(data);
}

TestHubCli::Run TestHubCli::run(const QStringList& args, bool offline) const {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE",
                             "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                             "ALL_PROXY", "all_proxy"})
        env.remove(name);
    env.insert("HF_HOME", m_dir.path() + "/hf");
    env.insert("HF_ENDPOINT", QString::fromStdString(m_hub->endpoint()));
    env.insert("NO_PROXY", "127.0.0.1,localhost");
    if (offline) env.insert("HF_HUB_OFFLINE", "1");
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(SUMLAB_BIN_DIR "/sumlab-cli"), args);
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished();
        return {-1, {}, "timed out"};
    }
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

void TestHubCli::downloadThenGenerateOffline() {
    const QString home = m_dir.path() + "/hf";
    Run r = run({"download", "google/flan-t5-small"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QString snapshot = snapshot_path(home, "models--google--flan-t5-small", kCommit);
    QCOMPARE(r.out.trimmed(), snapshot);
    QVERIFY2(r.err.contains("download:"), qPrintable(r.err));
    QVERIFY(QFileInfo(snapshot + "/model.safetensors").isSymLink());
    QVERIFY(!QFileInfo::exists(snapshot + "/pytorch_model.bin"));
    QCOMPARE(QString::fromStdString(sumlab::read_file((home + "/hub/models--google--flan-t5-small/refs/main").toStdString())),
             QString::fromStdString(kCommit));

    const QString input = m_dir.path() + "/input.jsonl";
    {
        QFile f(input);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"id\": \"a\", \"text\": \"summarize: the cat sat on the mat\"}\n{\"id\": \"b\", \"text\": \"hello there\"}\n");
    }
    m_hub->clear_requests();
    const QString fromHub = m_dir.path() + "/from_hub.jsonl", fromFolder = m_dir.path() + "/from_folder.jsonl";
    r = run({"generate", "--model", "google/flan-t5-small", "--input", input, "--output", fromHub, "--max-new-tokens", "8", "--quiet"}, true);
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(r.err);  // the model was found in the cache offline all the same
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(int(m_hub->requests().size()), 0);  // offline: the Hub was not asked
    r = run({"generate", "--model", QString::fromStdString(kTinyFlan), "--input", input, "--output", fromFolder, "--max-new-tokens", "8",
             "--quiet"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const std::string a = sumlab::read_file(fromHub.toStdString()), b = sumlab::read_file(fromFolder.toStdString());
    QVERIFY(!a.empty());
    QCOMPARE(QString::fromStdString(a), QString::fromStdString(b));

    r = run({"cache", "list"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("google/flan-t5-small") && r.out.contains(QString::fromStdString(kCommit)) && r.out.contains("main"),
             qPrintable(r.out));
    r = run({"cache", "remove", "google/flan-t5-small"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(!QFileInfo::exists(home + "/hub/models--google--flan-t5-small"));
}

void TestHubCli::datasetDownloadThenDataOffline() {
    Run r = run({"download", "knkarthick/dialogsum", "--repo-type", "dataset", "--quiet"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.out.trimmed(), snapshot_path(m_dir.path() + "/hf", "datasets--knkarthick--dialogsum", kDataCommit));
    r = run({"data", "--data", "knkarthick/dialogsum", "--json"}, true);
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("datasets--knkarthick--dialogsum"), qPrintable(r.out));
}

void TestHubCli::errorsAreOneLine() {
    Run r = run({"generate", "--model", "google/flan-t5-base", "--input", "x.jsonl", "--output", "y.jsonl"}, true);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("google/flan-t5-base") && r.err.contains("HF_HUB_OFFLINE"), qPrintable(r.err));
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    r = run({"download", "google/no-such-model"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("google/no-such-model") && r.err.contains("HF_TOKEN"), qPrintable(r.err));
    r = run({"download", "google/flan-t5-small", "--revision", "nope"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("revision 'nope' not found"), qPrintable(r.err));
}

QTEST_GUILESS_MAIN(TestHubCli)
#include "tst_hub_cli.moc"
