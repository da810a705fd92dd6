// models/t5/t5_config: config.json as transformers 4.28's T5Config reads it -- its defaults, num_decoder_layers
// following num_layers, the feed-forward kinds, the golden models' files round-tripping, and bad files refused
// with the file and the key named.
#include "models/t5/t5_config.h"
#include "base/errors.h"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <fstream>

using namespace sumlab;
using nlohmann::json;

class TestT5Config : public QObject {
    Q_OBJECT
private slots:
    void defaults_are_transformers_4_28s();
    void decoder_layers_follow_encoder_layers();
    void feed_forward_kinds();
    void golden_configs_round_trip();
    void bad_values_name_the_file_and_key_data();
    void bad_values_name_the_file_and_key();
};

// transformers 4.28 T5Config.__init__'s defaults (configuration_t5.py), what an absent key means.
void TestT5Config::defaults_are_transformers_4_28s() {
    const T5Config c = T5Config::from_json(json::object(), "config.json");
    QCOMPARE(c.vocab_size, int64_t{32128});
    QCOMPARE(c.d_model, int64_t{512});
    QCOMPARE(c.d_kv, int64_t{64});
    QCOMPARE(c.d_ff, int64_t{2048});
    QCOMPARE(c.num_layers, int64_t{6});
    QCOMPARE(c.num_decoder_layers, int64_t{6});
    QCOMPARE(c.num_heads, int64_t{8});
    QCOMPARE(c.relative_attention_num_buckets, int64_t{32});
    QCOMPARE(c.relative_attention_max_distance, int64_t{128});
    QCOMPARE(c.dropout_rate, 0.1);
    QCOMPARE(c.layer_norm_epsilon, 1e-6);
    QCOMPARE(c.feed_forward_proj, std::string("relu"));
    QVERIFY(c.tie_word_embeddings);
    QCOMPARE(c.pad_token_id, int64_t{0});
    QCOMPARE(c.eos_token_id, int64_t{1});
    QCOMPARE(c.decoder_start_token_id, int64_t{0});
}

// HF: num_decoder_layers = num_decoder_layers if not None else num_layers.
void TestT5Config::decoder_layers_follow_encoder_layers() {
    QCOMPARE(T5Config::from_json(json{{"num_layers", 3}}, "c").num_decoder_layers, int64_t{3});
    QCOMPARE(T5Config::from_json(json{{"num_layers", 3}, {"num_decoder_layers", nullptr}}, "c").num_decoder_layers, int64_t{3});
    QCOMPARE(T5Config::from_json(json{{"num_layers", 3}, {"num_decoder_layers", 5}}, "c").num_decoder_layers, int64_t{5});
}

// "gated-gelu" is T5 v1.1 / FLAN-T5's; HF splits feed_forward_proj on "-" into gated + activation.
void TestT5Config::feed_forward_kinds() {
    const std::pair<const char*, FeedForwardKind> kinds[] = {
        {"relu", FeedForwardKind::relu},           {"gated-gelu", FeedForwardKind::gated_gelu},
        {"gated-silu", FeedForwardKind::gated_silu}, {"gated-relu", FeedForwardKind::gated_relu},
        {"gelu", FeedForwardKind::gelu},           {"silu", FeedForwardKind::silu}};
    for (const auto& [name, kind] : kinds) {
        const T5Config c = T5Config::from_json(json{{"feed_forward_proj", name}}, "c");
        QVERIFY2(c.ff_kind() == kind, name);
        QCOMPARE(c.is_gated(), std::string(name).rfind("gated-", 0) == 0);
    }
    try {
        T5Config::from_json(json{{"feed_forward_proj", "gated-swish-x"}}, "models/x/config.json");
        QFAIL("an unknown feed_forward_proj was accepted");
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        QVERIFY2(what.find("models/x/config.json") != std::string::npos && what.find("feed_forward_proj") != std::string::npos, e.what());
    }
}

// The golden models' config.json (written by transformers): read, written back, read again, nothing lost.
void TestT5Config::golden_configs_round_trip() {
    for (const char* name : {"tiny-flan", "tiny-t5v1"}) {
        const std::string path = std::string(SUMLAB_SHARED_DIR) + "/golden/t5/" + name + "/config.json";
        if (!std::ifstream(path)) QSKIP(qPrintable(QString::fromStdString("missing " + path)));
        const T5Config a = T5Config::from_file(path);
        std::ifstream in(path);
        const json original = json::parse(in);
        const json written = a.to_json();
        QCOMPARE(written.value("model_type", std::string()), std::string("t5"));
        // Every field SumLab keeps has the value transformers wrote.
        for (const char* key : {"vocab_size", "d_model", "d_kv", "d_ff", "num_layers", "num_decoder_layers", "num_heads",
                                "relative_attention_num_buckets", "relative_attention_max_distance", "dropout_rate",
                                "layer_norm_epsilon", "feed_forward_proj", "tie_word_embeddings", "pad_token_id",
                                "eos_token_id", "decoder_start_token_id"})
            if (original.contains(key)) QVERIFY2(written.at(key) == original.at(key), (std::string(name) + ": " + key).c_str());
        const T5Config b = T5Config::from_json(written, "written");
        QCOMPARE(b.to_json(), written);
    }
}

void TestT5Config::bad_values_name_the_file_and_key_data() {
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("key");
    QTest::newRow("text for an integer") << R"({"d_model": "big"})" << "d_model";
    QTest::newRow("negative heads") << R"({"num_heads": -8})" << "num_heads";
    QTest::newRow("zero layers") << R"({"num_layers": 0})" << "num_layers";
    QTest::newRow("one bucket") << R"({"relative_attention_num_buckets": 1})" << "relative_attention_num_buckets";
    QTest::newRow("dropout above 1") << R"({"dropout_rate": 1.5})" << "dropout_rate";
    QTest::newRow("tie as text") << R"({"tie_word_embeddings": "yes"})" << "tie_word_embeddings";
    QTest::newRow("absurd size") << R"({"vocab_size": 9000000, "d_model": 65536})" << "";
}

void TestT5Config::bad_values_name_the_file_and_key() {
    QFETCH(QString, body);
    QFETCH(QString, key);
    try {
        T5Config::from_json(json::parse(body.toStdString()), "runs/a/config.json");
        QFAIL("a bad config.json was accepted");
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        QVERIFY2(what.find("runs/a/config.json") != std::string::npos, e.what());
        QVERIFY2(what.find(key.toStdString()) != std::string::npos, e.what());
    }
}

QTEST_APPLESS_MAIN(TestT5Config)
#include "tst_t5_config.moc"
