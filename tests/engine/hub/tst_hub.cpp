// Tests for engine/hub/: the Hub client against a fake Hub on 127.0.0.1 (tst_hub_fake_server.h) serving the tiny
// FLAN-T5 of ../shared/golden/t5 as google/flan-t5-small and a tiny DialogSum as knkarthick/dialogsum. They check
// the cache byte for byte against huggingface_hub's layout, resuming, integrity, errors, offline mode, and that
// a cache laid out by hand the way Python writes it is read. No test reaches any address but 127.0.0.1.
#include "engine/data/dialogsum.h"
#include "engine/hub/hub_client.h"
#include "engine/hub/hub_hash.h"
#include "engine/hub/hub_resolve.h"
#include "base/file_util.h"
#include "tests/common/fake_hub_server.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <map>
#include <optional>
#include <set>

using namespace sumlab;
using namespace sumlab::hub;
namespace fs = std::filesystem;

class TestHub : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void repoIds_data();
    void repoIds();
    void settingsFromEnvironment();
    void selectFiles();
    void downloadByBranch();
    void downloadByCommitHash();
    void secondDownloadAsksOnlyTheApi();
    void resumeAfterDroppedConnection();
    void corruptDownloadIsRejected();
    void notFoundErrors();
    void privateRepoNeedsToken();
    void serverErrorsAreRetried();
    void offlineMode();
    void hubDownFallsBackToCache();
    void cancelKeepsPartialFileAndResumes();
    void pythonWrittenCacheIsRead();
    void datasetDownload();
    void shardedCheckpoint();
    void cacheRemove();
    void resolveModelOrDataset();

private:
    HubSettings settings() const;
    HubClient client() const { return HubClient(settings()); }
    QString cacheDir() const { return m_dir->path() + "/hub"; }

    std::unique_ptr<fakehub::FakeHub> m_hub;
    std::unique_ptr<QTemporaryDir> m_dir;
};

namespace {

const std::string kTinyFlan = SUMLAB_SHARED_DIR "/golden/t5/tiny-flan";
const std::string kMain = "0123456789abcdef0123456789abcdef01234567";
const std::string kOld = "89abcdef0123456789abcdef0123456789abcdef";
const std::string kDataCommit = "fedcba9876543210fedcba9876543210fedcba98";
const std::set<std::string> kLfsNames = {"model.safetensors", "pytorch_model.bin", "spiece.model"};

fakehub::Repo tiny_flan_repo() {
    fakehub::Repo repo;
    repo.id = "google/flan-t5-small";
    std::map<std::string, fakehub::File> files;
    for (const auto& entry : fs::directory_iterator(kTinyFlan)) {
        const std::string name = entry.path().filename().string();
        files[name] = {read_file(entry.path().string()), kLfsNames.count(name) > 0};
    }
    files["README.md"] = {"# tiny flan\n", false};
    files[".gitattributes"] = {"*.safetensors filter=lfs diff=lfs merge=lfs -text\n", false};
    repo.commits[kMain] = files;
    // An older commit with another config: two snapshots share every other blob.
    auto old = files;
    old["config.json"].content += "\n";
    repo.commits[kOld] = old;
    repo.refs["main"] = kMain;
    repo.refs["v0.1"] = kOld;
    return repo;
}

const char* kCsvHeader = "id,dialogue,summary,topic\n";

fakehub::Repo dialogsum_repo() {
    fakehub::Repo repo;
    repo.id = "knkarthick/dialogsum";
    repo.dataset = true;
    std::map<std::string, fakehub::File> files;
    files["train.csv"] = {std::string(kCsvHeader) + "train_0,\"#Person1#: Hi.\n#Person2#: Hello.\",They greet.,greeting\n"
                                                    "train_1,\"#Person1#: Bye.\n#Person2#: See you.\",They part.,farewell\n",
                          true};
    files["validation.csv"] = {std::string(kCsvHeader) + "dev_0,\"#Person1#: Tea?\n#Person2#: Yes.\",Tea is offered.,tea\n", false};
    files["test.csv"] = {std::string(kCsvHeader) + "test_0,\"#Person1#: Late?\n#Person2#: No.\",Not late.,time\n", false};
    files["README.md"] = {"---\nlicense: cc-by-nc-sa-4.0\n---\n", false};
    repo.commits[kDataCommit] = files;
    repo.refs["main"] = kDataCommit;
    return repo;
}

std::string link_target(const std::string& path) {
    std::error_code ec;
    return fs::read_symlink(path, ec).string();
}

int count_requests(const std::vector<fakehub::Request>& requests, const std::string& method, const std::string& path_part) {
    int n = 0;
    for (const auto& r : requests)
        if ((method.empty() || r.method == method) && r.path.find(path_part) != std::string::npos) ++n;
    return n;
}

template <class F>
QString hub_error_text(F&& f, HubError::Kind expected_kind) {
    try {
        f();
    } catch (const HubError& e) {
        if (e.kind() != expected_kind) return QStringLiteral("WRONG KIND: ") + e.what();
        return QString::fromStdString(e.what());
    }
    return QStringLiteral("NO ERROR");
}

// What huggingface_hub's scan_cache_dir() insists on: every ref names an existing snapshot, every snapshot file
// is a relative link that resolves to a blob of the same repository, and the repository folder holds nothing but
// blobs/, refs/ and snapshots/.
void check_python_readable(const std::string& repo_folder) {
    for (const auto& entry : fs::directory_iterator(repo_folder)) {
        const std::string name = entry.path().filename().string();
        QVERIFY2(name == "blobs" || name == "refs" || name == "snapshots", qPrintable(QString::fromStdString(entry.path().string())));
    }
    if (fs::exists(repo_folder + "/refs"))
        for (const auto& ref : fs::recursive_directory_iterator(repo_folder + "/refs")) {
            if (ref.is_directory()) continue;
            const std::string commit = read_file(ref.path().string());
            QVERIFY2(is_commit_hash(commit), qPrintable(QString::fromStdString(ref.path().string() + " = " + commit)));
            QVERIFY(fs::is_directory(repo_folder + "/snapshots/" + commit));
        }
    for (const auto& f : fs::recursive_directory_iterator(repo_folder + "/snapshots")) {
        if (f.is_directory()) continue;
        QVERIFY2(fs::is_symlink(f.symlink_status()), qPrintable(QString::fromStdString(f.path().string())));
        const fs::path target = fs::read_symlink(f.path());
        QVERIFY(target.is_relative());
        const fs::path blob = fs::canonical(f.path());
        QCOMPARE(QString::fromStdString(blob.parent_path().string()),
                 QString::fromStdString(fs::canonical(repo_folder + "/blobs").string()));
    }
}

}  // namespace

HubSettings TestHub::settings() const {
    HubSettings s;
    s.endpoint = m_hub->endpoint();
    s.cache_dir = cacheDir().toStdString();
    s.token_path = (m_dir->path() + "/token").toStdString();
    s.max_retries = 3;
    s.retry_initial_ms = 10;
    s.retry_max_ms = 40;
    s.connect_timeout_s = 5;
    s.stall_timeout_s = 10;
    return s;
}

void TestHub::init() {
    // Nothing may go through a proxy: every request stays on 127.0.0.1.
    qputenv("NO_PROXY", "127.0.0.1,localhost");
    qputenv("no_proxy", "127.0.0.1,localhost");
    m_hub = std::make_unique<fakehub::FakeHub>();
    QVERIFY(m_hub->ok());
    m_hub->add_repo(tiny_flan_repo());
    m_hub->add_repo(dialogsum_repo());
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestHub::cleanup() {
    m_hub.reset();
    m_dir.reset();
}

void TestHub::repoIds_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("repoId");
    QTest::addColumn<QString>("revision");
    QTest::addColumn<QString>("folder");
    QTest::addRow("org/name") << "google/flan-t5-small" << true << "google/flan-t5-small" << "main" << "models--google--flan-t5-small";
    QTest::addRow("@commit") << "google/flan-t5-base@" + QString::fromStdString(kMain) << true << "google/flan-t5-base"
                             << QString::fromStdString(kMain) << "models--google--flan-t5-base";
    QTest::addRow("@pr") << "org/m@refs/pr/1" << true << "org/m" << "refs/pr/1" << "models--org--m";
    QTest::addRow("legacy name") << "t5-small" << true << "t5-small" << "main" << "models--t5-small";
    QTest::addRow("double dash") << "org/a--b" << false << "" << "" << "";
    QTest::addRow("two slashes") << "datasets/org/name" << false << "" << "" << "";
    QTest::addRow("leading dot") << "org/.name" << false << "" << "" << "";
    QTest::addRow(".git") << "org/name.git" << false << "" << "" << "";
    QTest::addRow("empty revision") << "org/name@" << false << "" << "" << "";
    QTest::addRow("dotdot revision") << "org/name@../x" << false << "" << "" << "";
}

void TestHub::repoIds() {
    QFETCH(QString, text);
    QFETCH(bool, valid);
    if (!valid) {
        QVERIFY_THROWS_EXCEPTION(ConfigError, parse_repo_ref(text.toStdString(), RepoType::Model));
        return;
    }
    const RepoRef ref = parse_repo_ref(text.toStdString(), RepoType::Model);
    QTEST(QString::fromStdString(ref.repo_id), "repoId");
    QTEST(QString::fromStdString(ref.revision), "revision");
    QTEST(QString::fromStdString(repo_folder_name(ref.repo_id, ref.type)), "folder");
    QCOMPARE(QString::fromStdString(repo_folder_name("knkarthick/dialogsum", RepoType::Dataset)), QStringLiteral("datasets--knkarthick--dialogsum"));
}

void TestHub::settingsFromEnvironment() {
    const QByteArray names[] = {"HF_ENDPOINT", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
                                "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "XDG_CACHE_HOME"};
    std::map<QByteArray, std::optional<QByteArray>> saved;
    for (const auto& n : names) {
        saved[n] = qEnvironmentVariableIsSet(n.constData()) ? std::optional<QByteArray>(qgetenv(n.constData())) : std::nullopt;
        qunsetenv(n.constData());
    }
    const QString home = m_dir->path() + "/hfhome";
    QVERIFY(QDir().mkpath(home));
    qputenv("HF_HOME", home.toUtf8());
    qputenv("HF_ENDPOINT", "http://127.0.0.1:9/");
    write_atomically((home + "/token").toStdString(), "hf_from_file\n");

    HubSettings s = HubSettings::from_environment();
    QCOMPARE(QString::fromStdString(s.endpoint), QStringLiteral("http://127.0.0.1:9"));
    QCOMPARE(QString::fromStdString(s.cache_dir), home + "/hub");
    QCOMPARE(QString::fromStdString(s.token), QStringLiteral("hf_from_file"));
    QCOMPARE(QString::fromStdString(s.token_source), home + "/token");
    QVERIFY(!s.offline);

    qputenv("HF_TOKEN", "hf_from_env");
    qputenv("HF_HUB_CACHE", (m_dir->path() + "/elsewhere").toUtf8());
    qputenv("HF_HUB_OFFLINE", "1");
    s = HubSettings::from_environment();
    QCOMPARE(QString::fromStdString(s.token), QStringLiteral("hf_from_env"));
    QCOMPARE(QString::fromStdString(s.token_source), QStringLiteral("HF_TOKEN"));
    QCOMPARE(QString::fromStdString(s.cache_dir), m_dir->path() + "/elsewhere");
    QVERIFY(s.offline);
    qputenv("HF_HUB_OFFLINE", "0");
    QVERIFY(!HubSettings::from_environment().offline);
    qputenv("HF_HUB_OFFLINE", "yes");
    QVERIFY(HubSettings::from_environment().offline);

    for (const auto& [n, v] : saved) {
        if (v) qputenv(n.constData(), *v);
        else qunsetenv(n.constData());
    }
}

void TestHub::selectFiles() {
    const std::vector<std::string> both = {"config.json", "pytorch_model.bin", "model.safetensors", "spiece.model", "README.md",
                                           "tf_model.h5", "generation_config.json", "onnx/model.onnx", "tokenizer.json"};
    auto picked = select_files(both, FileSelection::ModelFiles);
    QCOMPARE(picked, (std::vector<std::string>{"config.json", "generation_config.json", "spiece.model", "tokenizer.json", "model.safetensors"}));
    picked = select_files({"config.json", "pytorch_model.bin", "spiece.model"}, FileSelection::ModelFiles);
    QCOMPARE(picked, (std::vector<std::string>{"config.json", "spiece.model", "pytorch_model.bin"}));
    picked = select_files({"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                           "model.safetensors.index.json", "pytorch_model.bin"},
                          FileSelection::ModelFiles);
    QCOMPARE(picked, (std::vector<std::string>{"config.json", "model.safetensors.index.json"}));
    QCOMPARE(shards_of_index(R"({"metadata":{},"weight_map":{"a":"model-00002-of-00002.safetensors","b":"model-00001-of-00002.safetensors","c":"model-00001-of-00002.safetensors"}})",
                             "model.safetensors.index.json"),
             (std::vector<std::string>{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}));
    QCOMPARE(select_files({"b.csv", "a.csv", "README.md"}, FileSelection::AllFiles), (std::vector<std::string>{"README.md", "a.csv", "b.csv"}));
}

void TestHub::downloadByBranch() {
    HubSettings s = settings();
    s.token = "hf_test_secret";
    s.token_source = "HF_TOKEN";
    const HubClient hub(s);
    std::vector<DownloadProgress> seen;
    const DownloadResult result = hub.download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles,
                                               [&](const DownloadProgress& p) { seen.push_back(p); });
    const std::string repo = cacheDir().toStdString() + "/models--google--flan-t5-small";
    QCOMPARE(QString::fromStdString(result.commit), QString::fromStdString(kMain));
    QCOMPARE(QString::fromStdString(result.snapshot_folder), QString::fromStdString(repo + "/snapshots/" + kMain));
    QCOMPARE(result.files, (std::vector<std::string>{"config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json",
                                                     "spiece.model", "tokenizer_config.json"}));
    QVERIFY(!result.from_cache_only);

    // refs/main holds the commit without a newline, as _cache_commit_hash_for_specific_revision writes it.
    QCOMPARE(QString::fromStdString(read_file(repo + "/refs/main")), QString::fromStdString(kMain));
    for (const auto& f : result.files) {
        const std::string source = read_file(kTinyFlan + "/" + f);
        const std::string etag = kLfsNames.count(f) ? sha256_hex(source) : git_blob_sha1_hex(source);
        QCOMPARE(QString::fromStdString(link_target(result.snapshot_folder + "/" + f)), QString::fromStdString("../../blobs/" + etag));
        QVERIFY2(read_file(repo + "/blobs/" + etag) == source, f.c_str());
    }
    QVERIFY(!fs::exists(result.snapshot_folder + "/pytorch_model.bin"));  // safetensors preferred
    QVERIFY(!fs::exists(result.snapshot_folder + "/README.md"));
    for (const auto& blob : fs::directory_iterator(repo + "/blobs"))
        QVERIFY2(blob.path().extension() != ".incomplete", qPrintable(QString::fromStdString(blob.path().string())));
    check_python_readable(repo);
    QCOMPARE(QString::fromStdString(fs::read_symlink(result.snapshot_folder + "/config.json").string()).count("../"), 2);

    // LFS files came from the CDN (another port), without the token; the Hub itself got the token.
    const auto requests = m_hub->requests();
    int cdn_gets = 0;
    for (const auto& r : requests) {
        if (r.port == m_hub->cdn_port()) {
            ++cdn_gets;
            QVERIFY(r.path.rfind("/cdn/", 0) == 0);
            QVERIFY2(r.header("authorization").empty(), "the token leaked to the CDN");
        } else {
            QCOMPARE(QString::fromStdString(r.header("authorization")), QStringLiteral("Bearer hf_test_secret"));
        }
    }
    QCOMPARE(cdn_gets, 2);  // model.safetensors and spiece.model
    QCOMPARE(count_requests(requests, "GET", "/api/models/google/flan-t5-small/revision/main"), 1);

    QVERIFY(!seen.empty());
    QCOMPARE(seen.back().files_done, seen.back().files_total);
    QCOMPARE(seen.back().files_total, int64_t{6});
    QCOMPARE(seen.back().bytes_done, seen.back().bytes_total);
    int64_t expected_total = 0;
    for (const auto& f : result.files) expected_total += static_cast<int64_t>(fs::file_size(kTinyFlan + "/" + f));
    QCOMPARE(seen.back().bytes_total, expected_total);
    QCOMPARE(result.bytes_downloaded, expected_total);
}

void TestHub::downloadByCommitHash() {
    const DownloadResult result = client().download({"google/flan-t5-small", RepoType::Model, kOld}, FileSelection::ModelFiles);
    const std::string repo = cacheDir().toStdString() + "/models--google--flan-t5-small";
    QCOMPARE(QString::fromStdString(result.commit), QString::fromStdString(kOld));
    QVERIFY(fs::is_directory(repo + "/snapshots/" + kOld));
    QVERIFY(!fs::exists(repo + "/refs"));  // a commit hash is no ref
    QCOMPARE(QString::fromStdString(read_file(result.snapshot_folder + "/config.json")), QString::fromStdString(read_file(kTinyFlan + "/config.json") + "\n"));
    // The tag resolves to the same snapshot and writes refs/v0.1; the blobs stay shared.
    const DownloadResult tagged = client().download({"google/flan-t5-small", RepoType::Model, "v0.1"}, FileSelection::ModelFiles);
    QCOMPARE(QString::fromStdString(tagged.snapshot_folder), QString::fromStdString(result.snapshot_folder));
    QCOMPARE(QString::fromStdString(read_file(repo + "/refs/v0.1")), QString::fromStdString(kOld));
    QCOMPARE(tagged.bytes_downloaded, int64_t{0});
    check_python_readable(repo);
}

void TestHub::secondDownloadAsksOnlyTheApi() {
    const HubClient hub = client();
    hub.download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    m_hub->clear_requests();
    const DownloadResult again = hub.download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    QCOMPARE(again.bytes_downloaded, int64_t{0});
    const auto requests = m_hub->requests();
    QCOMPARE(int(requests.size()), 1);
    QCOMPARE(QString::fromStdString(requests[0].path), QStringLiteral("/api/models/google/flan-t5-small/revision/main"));
    // The other commit needs only its own config: the rest are blobs already there.
    m_hub->clear_requests();
    const DownloadResult old = hub.download({"google/flan-t5-small", RepoType::Model, "v0.1"}, FileSelection::ModelFiles);
    QCOMPARE(old.bytes_downloaded, int64_t(fs::file_size(kTinyFlan + "/config.json") + 1));
    QCOMPARE(count_requests(m_hub->requests(), "GET", "/resolve/"), 1);
}

void TestHub::resumeAfterDroppedConnection() {
    const size_t cut = 700'000;
    m_hub->drop_once("model.safetensors", cut);
    const DownloadResult result = client().download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    QVERIFY(read_file(result.snapshot_folder + "/model.safetensors") == read_file(kTinyFlan + "/model.safetensors"));
    std::vector<fakehub::Request> cdn;
    for (const auto& r : m_hub->requests())
        if (r.port == m_hub->cdn_port() && r.path == "/cdn/" + sha256_hex(read_file(kTinyFlan + "/model.safetensors"))) cdn.push_back(r);
    QCOMPARE(int(cdn.size()), 2);
    QVERIFY(cdn[0].header("range").empty());
    // The second request continues where the bytes stopped (the whole of what arrived was kept).
    QCOMPARE(QString::fromStdString(cdn[1].header("range")), QStringLiteral("bytes=%1-").arg(cut));
}

void TestHub::corruptDownloadIsRejected() {
    m_hub->corrupt("model.safetensors");
    const QString message = hub_error_text(
        [&] { client().download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles); }, HubError::Kind::Integrity);
    QVERIFY2(message.contains("model.safetensors") && message.contains("sha256"), qPrintable(message));
    const std::string repo = cacheDir().toStdString() + "/models--google--flan-t5-small";
    const std::string sha = sha256_hex(read_file(kTinyFlan + "/model.safetensors"));
    QVERIFY(!fs::exists(repo + "/blobs/" + sha));
    QVERIFY(!fs::exists(repo + "/blobs/" + sha + ".incomplete"));
    QVERIFY(!fs::exists(repo + "/snapshots/" + kMain + "/model.safetensors"));
    QVERIFY(!fs::exists(repo + "/refs/main"));
}

void TestHub::notFoundErrors() {
    const HubClient hub = client();
    QString message = hub_error_text([&] { hub.download({"google/flan-t5-smal", RepoType::Model, "main"}, FileSelection::ModelFiles); },
                                     HubError::Kind::Unauthorized);  // the Hub answers 401 to anonymous requests for unknown repos
    QVERIFY2(message.contains("google/flan-t5-smal") && message.contains("HF_TOKEN"), qPrintable(message));
    message = hub_error_text([&] { hub.download({"google/flan-t5-small", RepoType::Model, "no-such-branch"}, FileSelection::ModelFiles); },
                             HubError::Kind::RevisionNotFound);
    QVERIFY2(message.contains("no-such-branch") && message.contains("google/flan-t5-small") && message.contains("404"), qPrintable(message));
    message = hub_error_text([&] { hub.file_metadata({"google/flan-t5-small", RepoType::Model, "main"}, "tokenizer.json"); },
                             HubError::Kind::EntryNotFound);
    QVERIFY2(message.contains("tokenizer.json") && message.contains("main") && message.contains("404"), qPrintable(message));
    QCOMPARE(m_hub->failures_sent(), 0);
    QVERIFY(!fs::exists(cacheDir().toStdString() + "/models--google--flan-t5-smal"));
}

void TestHub::privateRepoNeedsToken() {
    fakehub::Repo secret = tiny_flan_repo();
    secret.id = "acme/private-t5";
    secret.is_private = true;
    m_hub->add_repo(secret);
    m_hub->require_token("hf_right");
    HubSettings s = settings();
    QString message = hub_error_text([&] { HubClient(s).download({"acme/private-t5", RepoType::Model, "main"}, FileSelection::ModelFiles); },
                                     HubError::Kind::Unauthorized);
    QVERIFY2(message.contains("acme/private-t5") && message.contains("HF_TOKEN") && message.contains("401"), qPrintable(message));
    s.token = "hf_wrong_value";
    s.token_source = "HF_TOKEN";
    message = hub_error_text([&] { HubClient(s).download({"acme/private-t5", RepoType::Model, "main"}, FileSelection::ModelFiles); },
                             HubError::Kind::RepoNotFound);
    QVERIFY2(message.contains("token from HF_TOKEN"), qPrintable(message));
    QVERIFY2(!message.contains("hf_wrong_value"), "the token was printed");
    s.token = "hf_right";
    const DownloadResult ok = HubClient(s).download({"acme/private-t5", RepoType::Model, "main"}, FileSelection::ModelFiles);
    QVERIFY(is_file(ok.snapshot_folder + "/model.safetensors"));
}

void TestHub::serverErrorsAreRetried() {
    m_hub->fail_next(2, 500);
    const DownloadResult result = client().download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    QVERIFY(is_file(result.snapshot_folder + "/config.json"));
    QCOMPARE(m_hub->failures_sent(), 2);
    QCOMPARE(count_requests(m_hub->requests(), "GET", "/api/models/"), 3);

    // A Hub that keeps failing: 1 try + max_retries, then a message with the status.
    QTemporaryDir other;
    HubSettings s = settings();
    s.cache_dir = other.path().toStdString();
    m_hub->clear_requests();
    m_hub->fail_next(1000, 503);
    const QString message = hub_error_text([&] { HubClient(s).download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles); },
                                           HubError::Kind::Server);
    QVERIFY2(message.contains("503") && message.contains("4 tries"), qPrintable(message));
    QCOMPARE(int(m_hub->requests().size()), s.max_retries + 1);
    m_hub->fail_next(0);
}

void TestHub::offlineMode() {
    client().download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    m_hub->clear_requests();
    HubSettings s = settings();
    s.offline = true;
    const HubClient offline(s);
    DownloadResult result = offline.download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    QVERIFY(result.from_cache_only);
    QCOMPARE(QString::fromStdString(result.commit), QString::fromStdString(kMain));
    QVERIFY(is_file(result.snapshot_folder + "/model.safetensors"));
    result = offline.download({"google/flan-t5-small", RepoType::Model, kMain}, FileSelection::ModelFiles);
    QCOMPARE(QString::fromStdString(result.commit), QString::fromStdString(kMain));
    QCOMPARE(int(m_hub->requests().size()), 0);

    QString message = hub_error_text([&] { offline.download({"google/flan-t5-small", RepoType::Model, "v0.1"}, FileSelection::ModelFiles); },
                                     HubError::Kind::Offline);
    QVERIFY2(message.contains("v0.1") && message.contains("google/flan-t5-small") && message.contains("HF_HUB_OFFLINE"), qPrintable(message));
    message = hub_error_text([&] { offline.download({"google/flan-t5-base", RepoType::Model, "main"}, FileSelection::ModelFiles); },
                             HubError::Kind::Offline);
    QVERIFY2(message.contains("google/flan-t5-base") && message.contains(cacheDir()), qPrintable(message));
    message = hub_error_text([&] { offline.download({"google/flan-t5-small", RepoType::Model, kOld}, FileSelection::ModelFiles); },
                             HubError::Kind::Offline);
    QVERIFY2(message.contains(QString::fromStdString(kOld)), qPrintable(message));
    QCOMPARE(int(m_hub->requests().size()), 0);
}

void TestHub::hubDownFallsBackToCache() {
    client().download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    m_hub->fail_next(1000, 500);
    const DownloadResult result = client().download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    QVERIFY(result.from_cache_only);
    QVERIFY2(QString::fromStdString(result.note).contains("500"), result.note.c_str());
    QCOMPARE(QString::fromStdString(result.commit), QString::fromStdString(kMain));
    m_hub->fail_next(0);
    // Nothing cached for this revision: the Hub's error comes through.
    m_hub->fail_next(1000, 500);
    QVERIFY_THROWS_EXCEPTION(HubError, client().download({"google/flan-t5-small", RepoType::Model, "v0.1"}, FileSelection::ModelFiles));
    m_hub->fail_next(0);
}

void TestHub::cancelKeepsPartialFileAndResumes() {
    m_hub->serve_slowly("model.safetensors", 30);
    std::atomic<bool> cancel{false};
    int64_t bytes_at_start = -1;  // of model.safetensors: cancel once some of its bytes arrived
    auto progress = [&](const DownloadProgress& p) {
        if (p.file != "model.safetensors") return;
        if (bytes_at_start < 0) bytes_at_start = p.bytes_done;
        else if (p.bytes_done > bytes_at_start) cancel = true;
    };
    QVERIFY_THROWS_EXCEPTION(Cancelled, client().download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles,
                                                          progress, &cancel));
    const std::string sha = sha256_hex(read_file(kTinyFlan + "/model.safetensors"));
    const std::string incomplete = cacheDir().toStdString() + "/models--google--flan-t5-small/blobs/" + sha + ".incomplete";
    QVERIFY(is_file(incomplete));
    const auto partial = static_cast<int64_t>(fs::file_size(incomplete));
    QVERIFY2(partial > 0 && partial < static_cast<int64_t>(fs::file_size(kTinyFlan + "/model.safetensors")), qPrintable(QString::number(partial)));
    QVERIFY(!fs::exists(cacheDir().toStdString() + "/models--google--flan-t5-small/refs/main"));

    m_hub->clear_requests();
    const DownloadResult result = client().download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    QVERIFY(read_file(result.snapshot_folder + "/model.safetensors") == read_file(kTinyFlan + "/model.safetensors"));
    bool resumed = false;
    for (const auto& r : m_hub->requests())
        if (r.port == m_hub->cdn_port() && r.header("range") == "bytes=" + std::to_string(partial) + "-") resumed = true;
    QVERIFY(resumed);
    QVERIFY(!is_file(incomplete));
}

void TestHub::pythonWrittenCacheIsRead() {
    // Laid out by hand as huggingface_hub's hf_hub_download leaves it (relative links, refs/main without newline,
    // a .locks folder beside the repositories, an older ref).
    const std::string repo = cacheDir().toStdString() + "/models--google--flan-t5-small";
    std::map<std::string, std::string> etags;
    for (const auto& entry : fs::directory_iterator(kTinyFlan)) {
        const std::string name = entry.path().filename().string();
        if (name == "pytorch_model.bin") continue;
        const std::string bytes = read_file(entry.path().string());
        etags[name] = kLfsNames.count(name) ? sha256_hex(bytes) : git_blob_sha1_hex(bytes);
        make_directories(repo + "/blobs");
        write_atomically(repo + "/blobs/" + etags[name], bytes);
        make_directories(repo + "/snapshots/" + kMain);
        fs::create_symlink("../../blobs/" + etags[name], repo + "/snapshots/" + kMain + "/" + name);
    }
    make_directories(repo + "/refs");
    write_atomically(repo + "/refs/main", kMain);
    make_directories(cacheDir().toStdString() + "/.locks/models--google--flan-t5-small");

    HubSettings s = settings();
    s.offline = true;
    DownloadResult result = HubClient(s).download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    QCOMPARE(QString::fromStdString(result.snapshot_folder), QString::fromStdString(repo + "/snapshots/" + kMain));

    const CacheScan scan = HubCache(cacheDir().toStdString()).scan();
    QVERIFY2(scan.warnings.empty(), scan.warnings.empty() ? "" : scan.warnings[0].c_str());
    QCOMPARE(int(scan.repos.size()), 1);
    QCOMPARE(QString::fromStdString(scan.repos[0].repo_id), QStringLiteral("google/flan-t5-small"));
    QCOMPARE(int(scan.repos[0].revisions.size()), 1);
    QCOMPARE(scan.repos[0].revisions[0].refs, std::vector<std::string>{"main"});
    int64_t size = 0;
    for (const auto& [name, etag] : etags) size += static_cast<int64_t>(fs::file_size(repo + "/blobs/" + etag));
    QCOMPARE(scan.repos[0].size_on_disk, size);
    QCOMPARE(scan.repos[0].file_count, int64_t(etags.size()));

    // Online, the Hub is asked which commit main is, and nothing else is fetched.
    m_hub->clear_requests();
    result = client().download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    QCOMPARE(result.bytes_downloaded, int64_t{0});
    QCOMPARE(int(m_hub->requests().size()), 1);
}

void TestHub::datasetDownload() {
    const DownloadResult result = client().download({"knkarthick/dialogsum", RepoType::Dataset, "main"}, FileSelection::AllFiles);
    const std::string repo = cacheDir().toStdString() + "/datasets--knkarthick--dialogsum";
    QCOMPARE(QString::fromStdString(result.snapshot_folder), QString::fromStdString(repo + "/snapshots/" + kDataCommit));
    QCOMPARE(result.files, (std::vector<std::string>{"README.md", "test.csv", "train.csv", "validation.csv"}));
    QCOMPARE(count_requests(m_hub->requests(), "GET", "/api/datasets/knkarthick/dialogsum/revision/main"), 1);
    QVERIFY(count_requests(m_hub->requests(), "HEAD", "/datasets/knkarthick/dialogsum/resolve/" + kDataCommit + "/train.csv") == 1);
    check_python_readable(repo);
    const DialogSumDataset data = load_dialogsum(result.snapshot_folder);
    QCOMPARE(int(data.splits.size()), 3);
    QCOMPARE(int(data.at(Split::train).examples.size()), 2);
    QCOMPARE(QString::fromStdString(data.at(Split::test).examples[0].references.at(0)), QStringLiteral("Not late."));
}

void TestHub::shardedCheckpoint() {
    fakehub::Repo repo;
    repo.id = "acme/sharded-t5";
    const std::string commit = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
    auto& files = repo.commits[commit];
    files["config.json"] = {"{}", false};
    files["model.safetensors.index.json"] = {
        R"({"metadata":{"total_size":8},"weight_map":{"a.weight":"model-00001-of-00002.safetensors","b.weight":"model-00002-of-00002.safetensors"}})", false};
    files["model-00001-of-00002.safetensors"] = {std::string(3000, 'a'), true};
    files["model-00002-of-00002.safetensors"] = {std::string(5000, 'b'), true};
    files["model-00003-of-00002.safetensors"] = {"not in the index", true};
    files["pytorch_model.bin"] = {"pickles", true};
    repo.refs["main"] = commit;
    m_hub->add_repo(repo);
    const DownloadResult result = client().download({"acme/sharded-t5", RepoType::Model, "main"}, FileSelection::ModelFiles);
    QCOMPARE(result.files, (std::vector<std::string>{"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                                                     "model.safetensors.index.json"}));
    QVERIFY(read_file(result.snapshot_folder + "/model-00002-of-00002.safetensors") == std::string(5000, 'b'));
    QVERIFY(!fs::exists(result.snapshot_folder + "/model-00003-of-00002.safetensors"));
    QVERIFY(!fs::exists(result.snapshot_folder + "/pytorch_model.bin"));
    check_python_readable(cacheDir().toStdString() + "/models--acme--sharded-t5");
}

void TestHub::cacheRemove() {
    const HubClient hub = client();
    hub.download({"google/flan-t5-small", RepoType::Model, "main"}, FileSelection::ModelFiles);
    hub.download({"google/flan-t5-small", RepoType::Model, "v0.1"}, FileSelection::ModelFiles);
    const HubCache cache(cacheDir().toStdString());
    const std::string repo = cache.repo_folder("google/flan-t5-small", RepoType::Model);
    const std::string old_config = git_blob_sha1_hex(read_file(kTinyFlan + "/config.json") + "\n");
    const std::string weights = sha256_hex(read_file(kTinyFlan + "/model.safetensors"));
    QVERIFY(is_file(repo + "/blobs/" + old_config));

    RemoveReport report = cache.remove("google/flan-t5-small", RepoType::Model, std::string("v0.1"));
    QCOMPARE(report.removed_snapshots, std::vector<std::string>{kOld});
    QCOMPARE(report.removed_refs, std::vector<std::string>{"v0.1"});
    QCOMPARE(report.freed_bytes, int64_t(fs::file_size(kTinyFlan + "/config.json") + 1));
    QVERIFY(!is_file(repo + "/blobs/" + old_config));
    QVERIFY(is_file(repo + "/blobs/" + weights));  // still used by main
    QVERIFY(!fs::exists(repo + "/refs/v0.1"));
    QVERIFY(!fs::exists(repo + "/snapshots/" + kOld));
    check_python_readable(repo);
    QVERIFY_THROWS_EXCEPTION(ConfigError, cache.remove("google/flan-t5-small", RepoType::Model, std::string("v0.1")));

    report = cache.remove("google/flan-t5-small", RepoType::Model, std::nullopt);
    QVERIFY(report.removed_repo);
    QVERIFY(!fs::exists(repo));
    QVERIFY(cache.scan().repos.empty());
    QVERIFY_THROWS_EXCEPTION(ConfigError, cache.remove("google/flan-t5-small", RepoType::Model, std::nullopt));
}

void TestHub::resolveModelOrDataset() {
    const HubClient hub = client();
    QVERIFY(!looks_like_hub_id(kTinyFlan));
    QVERIFY(!looks_like_hub_id("./google/flan"));
    QVERIFY(looks_like_hub_id("google/flan-t5-small@main"));
    QCOMPARE(QString::fromStdString(resolve_model_or_dataset(hub, kTinyFlan, RepoType::Model)), QString::fromStdString(kTinyFlan));
    QCOMPARE(int(m_hub->requests().size()), 0);
    const std::string folder = resolve_model_or_dataset(hub, "google/flan-t5-small@" + kOld, RepoType::Model);
    QVERIFY(QString::fromStdString(folder).endsWith(QString::fromStdString("/snapshots/" + kOld)));
    QVERIFY(is_file(folder + "/model.safetensors"));
    const std::string data = resolve_model_or_dataset(hub, "knkarthick/dialogsum", RepoType::Dataset);
    QVERIFY(is_file(data + "/train.csv"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, resolve_model_or_dataset(hub, "./no/such/folder", RepoType::Model));
    const QString message = hub_error_text([&] { resolve_model_or_dataset(hub, "runs/missing", RepoType::Model); }, HubError::Kind::Unauthorized);
    QVERIFY2(message.contains("not a local folder") && message.contains("runs/missing"), qPrintable(message));
}

QTEST_GUILESS_MAIN(TestHub)
#include "tst_hub.moc"
