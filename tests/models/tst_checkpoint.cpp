// Model folders with something wrong in them: each gets an error naming the file and the problem.
#include "tests/common/golden_torch.h"

#include "models/checkpoint.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "models/safetensors.h"

#include <QtTest>

using namespace sumlab;
using namespace sumlab::test;

class TestCheckpoint : public QObject {
    Q_OBJECT

private slots:
    void bad_model_folder_data();
    void bad_model_folder();
    void save_and_reload_round_trip();
    void save_in_half_precision_data();
    void save_in_half_precision();
    void float16_overflow_refused_before_writing();
};

namespace {

// Copies the tiny-flan folder to `dir`, then lets the test break one thing.
void copy_model(const std::string& src, const QString& dir) {
    for (const char* f : {"config.json", "generation_config.json", "model.safetensors", "spiece.model", "tokenizer_config.json"})
        QVERIFY(QFile::copy(QString::fromStdString(src + "/" + f), dir + "/" + f));
    for (const char* f : {"config.json", "model.safetensors"}) QFile(dir + "/" + f).setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
}

void edit_config(const QString& dir, const std::function<void(nlohmann::json&)>& edit) {
    std::string path = (dir + "/config.json").toStdString();
    auto j = nlohmann::json::parse(read_file(path));
    edit(j);
    write_atomically(path, j.dump(2));
}

void rewrite_weights(const QString& dir, const std::function<void(NamedTensors&)>& edit) {
    std::string path = (dir + "/model.safetensors").toStdString();
    NamedTensors tensors;
    {
        SafetensorsFile f(path);
        for (const auto& e : f.entries()) tensors.emplace_back(e.name, f.load(e.name));
    }
    edit(tensors);
    save_safetensors(path, tensors);
}

}  // namespace

void TestCheckpoint::bad_model_folder_data() {
    QTest::addColumn<QString>("breakage");
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("message");
    QTest::newRow("no config.json") << "rm config.json" << "config.json" << "missing";
    QTest::newRow("no weights") << "rm model.safetensors" << "" << "no weights";
    QTest::newRow("config is not JSON") << "garbage config.json" << "config.json" << "invalid JSON";
    QTest::newRow("d_model does not fit the weights") << "d_model" << "model.safetensors" << "shapes do not fit";
    QTest::newRow("impossible num_heads") << "num_heads" << "config.json" << "num_heads";
    QTest::newRow("unknown feed_forward_proj") << "ff" << "config.json" << "feed_forward_proj";
    QTest::newRow("absurd d_model") << "huge" << "config.json" << "d_model";
    QTest::newRow("missing tensor") << "drop" << "model.safetensors" << "missing tensors: decoder.final_layer_norm.weight";
    QTest::newRow("unexpected tensor") << "extra" << "model.safetensors" << "unexpected tensors";
    QTest::newRow("NaN weight") << "nan" << "model.safetensors" << "NaN";
    QTest::newRow("truncated weights") << "truncate" << "model.safetensors" << "";
}

void TestCheckpoint::bad_model_folder() {
    QFETCH(QString, breakage);
    QFETCH(QString, file);
    QFETCH(QString, message);
    std::string src = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(src + "/model.safetensors");
    QTemporaryDir tmp;
    copy_model(src, tmp.path());
    if (breakage.startsWith("rm ")) QVERIFY(QFile::remove(tmp.filePath(breakage.mid(3))));
    if (breakage == "garbage config.json") write_atomically(tmp.filePath("config.json").toStdString(), "{\"d_model\": 64,");
    if (breakage == "d_model") edit_config(tmp.path(), [](auto& j) { j["d_model"] = 32; });
    if (breakage == "num_heads") edit_config(tmp.path(), [](auto& j) { j["num_heads"] = -4; });
    if (breakage == "ff") edit_config(tmp.path(), [](auto& j) { j["feed_forward_proj"] = "swiglu"; });
    if (breakage == "huge") edit_config(tmp.path(), [](auto& j) { j["d_model"] = 1000000000; });
    if (breakage == "drop")
        rewrite_weights(tmp.path(), [](NamedTensors& t) {
            t.erase(std::remove_if(t.begin(), t.end(), [](auto& p) { return p.first == "decoder.final_layer_norm.weight"; }), t.end());
        });
    if (breakage == "extra") rewrite_weights(tmp.path(), [](NamedTensors& t) { t.emplace_back("encoder.block.9.extra.weight", torch::ones({2})); });
    if (breakage == "nan") rewrite_weights(tmp.path(), [](NamedTensors& t) { t[0].second[0][0] = NAN; });
    if (breakage == "truncate") QVERIFY(QFile::resize(tmp.filePath("model.safetensors"), 1000));
    try {
        load_model(tmp.path().toStdString());
        QFAIL("a broken model folder loaded");
    } catch (const Error& e) {
        QString what = QString::fromUtf8(e.what());
        QVERIFY2(what.contains(tmp.path() + (file.isEmpty() ? "" : "/" + file)), qPrintable(what));
        QVERIFY2(what.contains(message), qPrintable(what));
    }
}

void TestCheckpoint::save_and_reload_round_trip() {
    std::string src = shared_path("golden/t5/tiny-t5v1");
    SUMLAB_REQUIRE_SHARED(src + "/model.safetensors");
    LoadedModel m = load_model(src);
    QTemporaryDir tmp;
    save_model(*m.model, m.generation, tmp.path().toStdString());
    LoadedModel again = load_model(tmp.path().toStdString());
    QCOMPARE(again.config.to_json(), m.config.to_json());
    auto a = m.model->named_parameters();
    for (const auto& p : again.model->named_parameters()) QVERIFY2(p.value().equal(a[p.key()]), p.key().c_str());
    // The tied model is saved de-aliased, as save_pretrained does: no lm_head.weight.
    SafetensorsFile f((tmp.path() + "/model.safetensors").toStdString());
    QVERIFY(!f.contains("lm_head.weight"));
    QVERIFY(f.contains("shared.weight"));
}

void TestCheckpoint::save_in_half_precision_data() {
    QTest::addColumn<int>("dtype");
    QTest::addColumn<QString>("stored");
    QTest::newRow("float16") << int(torch::kFloat16) << "F16";
    QTest::newRow("bfloat16") << int(torch::kBFloat16) << "BF16";
}

// model.half().save_pretrained(): every tensor stored in the dtype, config.json saying so, and loading gives
// back exactly the rounded weights in fp32 (what from_pretrained without torch_dtype does).
void TestCheckpoint::save_in_half_precision() {
    QFETCH(int, dtype);
    QFETCH(QString, stored);
    const auto type = static_cast<torch::ScalarType>(dtype);
    std::string src = shared_path("golden/t5/tiny-t5v1");
    SUMLAB_REQUIRE_SHARED(src + "/model.safetensors");
    LoadedModel m = load_model(src);
    QTemporaryDir tmp;
    save_model(*m.model, m.generation, tmp.path().toStdString(), type);
    SafetensorsFile f((tmp.path() + "/model.safetensors").toStdString());
    QVERIFY(!f.entries().empty());
    for (const auto& e : f.entries()) QCOMPARE(QString::fromStdString(e.dtype), stored);
    auto config = nlohmann::json::parse(read_file((tmp.path() + "/config.json").toStdString()));
    QCOMPARE(QString::fromStdString(config.at("torch_dtype").get<std::string>()), QString::fromUtf8(torch_dtype_name(type)));
    LoadedModel again = load_model(tmp.path().toStdString());
    auto a = m.model->named_parameters();
    bool any_rounded = false;
    for (const auto& p : again.model->named_parameters()) {
        QCOMPARE(p.value().scalar_type(), torch::kFloat32);
        QVERIFY2(p.value().equal(a[p.key()].to(type).to(torch::kFloat32)), p.key().c_str());
        any_rounded = any_rounded || !p.value().equal(a[p.key()]);
    }
    QVERIFY2(any_rounded, "the weights came back unrounded: nothing was stored in half precision");
}

// A weight beyond float16's 65504 would be stored as inf: refused, naming the tensor, and the folder left alone.
void TestCheckpoint::float16_overflow_refused_before_writing() {
    std::string src = shared_path("golden/t5/tiny-t5v1");
    SUMLAB_REQUIRE_SHARED(src + "/model.safetensors");
    LoadedModel m = load_model(src);
    {
        torch::NoGradGuard no_grad;
        m.model->named_parameters()["shared.weight"].index_put_({0, 0}, 1e5);
    }
    QTemporaryDir tmp;
    const QString out = tmp.path() + "/out";
    try {
        save_model(*m.model, m.generation, out.toStdString(), torch::kFloat16);
        QFAIL("a weight of 1e5 was saved as float16");
    } catch (const FileError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains("shared.weight"), e.what());
    }
    QVERIFY2(!QFileInfo::exists(out), "the refused save left a folder behind");
    save_model(*m.model, m.generation, out.toStdString(), torch::kBFloat16);  // bfloat16 has fp32's range
}

QTEST_GUILESS_MAIN(TestCheckpoint)
#include "tst_checkpoint.moc"
