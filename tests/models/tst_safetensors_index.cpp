// Tests models/safetensors_index: a two-shard checkpoint written in a temporary folder reads like one
// file; every broken index (bad JSON, missing shard, a name its shard lacks, a path leaving the folder)
// is a FileError naming the index, and a broken shard is one naming the shard.
#include "base/errors.h"
#include "models/safetensors.h"
#include "models/safetensors_index.h"

#include <torch/types.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <string>

using sumlab::FileError;
using sumlab::SafetensorsIndex;

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

bool write_all(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

// "" when equal; otherwise what differs.
QString difference(const torch::Tensor& actual, const torch::Tensor& expected) {
    if (actual.scalar_type() != expected.scalar_type() || actual.sizes() != expected.sizes())
        return QStringLiteral("dtype or shape differ: %1 vs %2").arg(qs(actual.toString()), qs(expected.toString()));
    if (torch::equal(actual, expected)) return {};
    return QStringLiteral("values differ, max |difference| %1")
        .arg((actual.to(torch::kFloat64) - expected.to(torch::kFloat64)).abs().max().item<double>());
}

const QByteArray kGoodIndex = R"({"metadata": {"total_size": 44, "note": "two shards"},
  "weight_map": {"a": "model-00001-of-00002.safetensors",
                 "b": "model-00001-of-00002.safetensors",
                 "c": "model-00002-of-00002.safetensors"}})";

}  // namespace

class TestSafetensorsIndex : public QObject {
    Q_OBJECT

private slots:
    void init();
    void readsTwoShards();
    void rejectsBadIndex_data();
    void rejectsBadIndex();
    void reportsBrokenShard();

private:
    QString path(const QString& name) const { return dir_->filePath(name); }
    std::unique_ptr<QTemporaryDir> dir_;
    const torch::Tensor a_ = torch::arange(6, torch::kFloat32).reshape({2, 3});
    const torch::Tensor b_ = torch::tensor({int64_t{4}, int64_t{5}});
    const torch::Tensor c_ = torch::tensor({0.5, 0.25}, torch::kBFloat16);
};

// A fresh folder with the two shards of a good checkpoint (a, b in the first; c and an unlisted
// tensor in the second) and its index.
void TestSafetensorsIndex::init() {
    dir_ = std::make_unique<QTemporaryDir>();
    QVERIFY2(dir_->isValid(), qPrintable(dir_->errorString()));
    sumlab::save_safetensors(path("model-00001-of-00002.safetensors").toStdString(), {{"a", a_}, {"b", b_}});
    sumlab::save_safetensors(path("model-00002-of-00002.safetensors").toStdString(),
                             {{"c", c_}, {"unlisted", torch::ones({1})}});
    QVERIFY(write_all(path("model.safetensors.index.json"), kGoodIndex));
}

void TestSafetensorsIndex::readsTwoShards() {
    SafetensorsIndex index(path("model.safetensors.index.json").toStdString());
    QCOMPARE(index.shards().size(), size_t{2});
    QCOMPARE(index.tensors().size(), size_t{3});
    QCOMPARE(index.contains("unlisted"), false);
    QCOMPARE(qs(index.metadata().at("total_size")), QStringLiteral("44"));
    QCOMPARE(qs(index.metadata().at("note")), QStringLiteral("two shards"));

    const sumlab::ShardedTensor& c = index.find("c");
    QCOMPARE(qs(c.file->path()), path("model-00002-of-00002.safetensors"));
    QCOMPARE(qs(c.entry->dtype), QStringLiteral("BF16"));
    QCOMPARE(qs(index.find("a").file->path()), path("model-00001-of-00002.safetensors"));

    QCOMPARE(difference(index.view("a"), a_), QString());
    QCOMPARE(difference(index.view("b"), b_), QString());
    QCOMPARE(difference(index.view("c"), c_), QString());
    QCOMPARE(difference(index.load("c"), c_.to(torch::kFloat32)), QString());
    QVERIFY_THROWS_EXCEPTION(FileError, index.find("unlisted"));
}

// Each row replaces the index (and maybe removes a shard); opening must name the index and the problem.
void TestSafetensorsIndex::rejectsBadIndex_data() {
    QTest::addColumn<QByteArray>("index");
    QTest::addColumn<QString>("remove");  // a shard to delete first, or ""
    QTest::addColumn<QString>("problem");
    QTest::addRow("not JSON") << QByteArray("{\"weight_map\": ") << "" << "is not valid JSON";
    QTest::addRow("NUL after JSON") << QByteArray("{\"weight_map\": {\"a\": \"x\"}}\0junk", 31) << ""
                                    << "contains a NUL byte";
    QTest::addRow("not an object") << QByteArray("[]") << "" << "is not a JSON object";
    QTest::addRow("no weight_map") << QByteArray(R"({"metadata": {}})") << "" << "has no 'weight_map'";
    QTest::addRow("weight_map not an object") << QByteArray(R"({"weight_map": ["a"]})") << "" << "'weight_map' is not an object";
    QTest::addRow("empty weight_map") << QByteArray(R"({"weight_map": {}})") << "" << "lists no tensors";
    QTest::addRow("metadata not an object")
        << QByteArray(R"({"metadata": 3, "weight_map": {"a": "model-00001-of-00002.safetensors"}})") << ""
        << "'metadata' is not an object";
    QTest::addRow("shard name not a string") << QByteArray(R"({"weight_map": {"a": 1}})") << "" << "is not a file name";
    QTest::addRow("shard outside the folder")
        << QByteArray(R"({"weight_map": {"a": "../model-00001-of-00002.safetensors"}})") << ""
        << "not a file inside the checkpoint folder";
    QTest::addRow("absolute shard path")
        << QByteArray(R"({"weight_map": {"a": "/etc/passwd"}})") << "" << "not a file inside the checkpoint folder";
    QTest::addRow("missing shard") << kGoodIndex << "model-00002-of-00002.safetensors"
                                   << "model-00002-of-00002.safetensors (holding 'c') does not exist";
    QTest::addRow("name missing from its shard")
        << QByteArray(R"({"weight_map": {"a": "model-00001-of-00002.safetensors",
                                         "c": "model-00001-of-00002.safetensors"}})")
        << "" << "maps 'c' to shard";
}

void TestSafetensorsIndex::rejectsBadIndex() {
    QFETCH(QByteArray, index);
    QFETCH(QString, remove);
    QFETCH(QString, problem);
    const QString file = path("model.safetensors.index.json");
    QVERIFY(write_all(file, index));
    if (!remove.isEmpty()) QVERIFY(QFile::remove(path(remove)));
    try {
        SafetensorsIndex opened(file.toStdString());
        QFAIL("the index was accepted");
    } catch (const FileError& e) {
        QCOMPARE(qs(e.path()), file);
        QVERIFY2(QString::fromUtf8(e.what()).contains(problem), e.what());
    }
}

void TestSafetensorsIndex::reportsBrokenShard() {
    const QString shard = path("model-00002-of-00002.safetensors");
    QVERIFY(write_all(shard, QByteArray(4, '\0')));
    try {
        SafetensorsIndex opened(path("model.safetensors.index.json").toStdString());
        QFAIL("a broken shard was accepted");
    } catch (const FileError& e) {
        QCOMPARE(qs(e.path()), shard);
        QVERIFY2(QString::fromUtf8(e.what()).contains("too short"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestSafetensorsIndex)
#include "tst_safetensors_index.moc"
