// GenerationConfig and its settings table: generation_config.json read as transformers 4.28 reads it (table keys,
// token ids, unknown keys kept out), every value range-checked with the file and key named, written as
// save_pretrained writes it (non-defaults only) and read back unchanged, and one range per setting wherever it is
// used.
#include "base/errors.h"
#include "base/file_util.h"
#include "models/t5/generation_config.h"
#include "models/t5/t5_config.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>

using namespace sumlab;
using json = nlohmann::json;

class TestGenerationConfig : public QObject {
    Q_OBJECT

private slots:
    void reads_what_transformers_writes();
    void bad_values_name_file_and_key_data();
    void bad_values_name_file_and_key();
    void file_round_trip_keeps_every_setting();
    void overrides_are_checked_against_the_table();
    void description_follows_the_table();
    void ranges_are_transformers_data();
    void ranges_are_transformers();
    void help_names_origin_and_sumlab_bounds();

private:
    GenerationConfig read(const json& j) {
        write_atomically((m_dir.path() + "/generation_config.json").toStdString(), j.dump());
        return GenerationConfig::from_model_dir(m_dir.path().toStdString(), m_model);
    }
    QTemporaryDir m_dir;
    T5Config m_model;
};

void TestGenerationConfig::reads_what_transformers_writes() {
    m_model.decoder_start_token_id = 0;
    m_model.eos_token_id = 1;
    // flan-t5's file plus settings a fine-tuned model may carry; "transformers_version" and sampling keys SumLab
    // does not implement are left alone, as transformers keeps unknown attributes.
    const GenerationConfig g = read({{"_from_model_config", true}, {"decoder_start_token_id", 0}, {"eos_token_id", json::array({1, 5})},
                                     {"pad_token_id", 0}, {"transformers_version", "4.28.0"}, {"max_new_tokens", 200}, {"num_beams", 4},
                                     {"no_repeat_ngram_size", 3}, {"repetition_penalty", 1.2}, {"early_stopping", "never"}, {"top_k", 50}});
    QCOMPARE(g.max_new_tokens.value_or(-1), int64_t{200});
    QCOMPARE(g.num_beams, int64_t{4});
    QCOMPARE(g.no_repeat_ngram_size, int64_t{3});
    QCOMPARE(g.repetition_penalty, 1.2);
    QCOMPARE(g.eos_token_id, int64_t{1});  // the first of a list
    QCOMPARE(g.early_stopping, false);     // "never": SumLab's stop rule without early stopping
    QCOMPARE(g.max_length, int64_t{20});   // HF's default stays
    QCOMPARE(g.resolved_max_new_tokens(), int64_t{200});
    QCOMPARE(read({{"max_length", 41}}).resolved_max_new_tokens(), int64_t{40});  // max_length counts the start token
}

void TestGenerationConfig::bad_values_name_file_and_key_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("key");
    QTest::addRow("num_beams above the table's 256") << R"({"num_beams": 257})" << "num_beams";
    QTest::addRow("num_beams 0") << R"({"num_beams": 0})" << "num_beams";
    QTest::addRow("num_beams a string") << R"({"num_beams": "4"})" << "num_beams";
    QTest::addRow("max_new_tokens 2^64-1") << R"({"max_new_tokens": 18446744073709551615})" << "max_new_tokens";
    QTest::addRow("repetition_penalty 0") << R"({"repetition_penalty": 0})" << "repetition_penalty";
    QTest::addRow("early_stopping a number") << R"({"early_stopping": 1})" << "early_stopping";
    QTest::addRow("max_length 1 without max_new_tokens") << R"({"max_length": 1})" << "max_length";
    QTest::addRow("min_new_tokens negative") << R"({"min_new_tokens": -1})" << "min_new_tokens";
}

void TestGenerationConfig::bad_values_name_file_and_key() {
    QFETCH(QString, text);
    QFETCH(QString, key);
    try {
        read(json::parse(text.toStdString()));
        QFAIL("accepted");
    } catch (const ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.key()), key);
        QCOMPARE(QString::fromStdString(e.path()), m_dir.path() + "/generation_config.json");
    }
}

void TestGenerationConfig::file_round_trip_keeps_every_setting() {
    GenerationConfig g;
    g.max_length = 77;
    g.max_new_tokens = 123;
    g.min_length = 3;
    g.min_new_tokens = 4;
    g.num_beams = 5;
    g.early_stopping = true;
    g.length_penalty = 0.5;
    g.no_repeat_ngram_size = 2;
    g.repetition_penalty = 1.5;
    g.do_sample = true;
    g.temperature = 0.7;
    g.top_k = 20;
    g.top_p = 0.9;
    g.typical_p = 0.95;
    g.num_return_sequences = 3;
    g.eos_token_id = 7;
    const nlohmann::ordered_json file = generation_config_file(g);
    // Every row differs from its default here, so every row is written, and read back the same.
    for (const auto& s : generation_settings()) QVERIFY2(file.contains(s.key), s.key.c_str());
    write_atomically((m_dir.path() + "/generation_config.json").toStdString(), file.dump());
    m_model.eos_token_id = 1;
    const GenerationConfig back = GenerationConfig::from_model_dir(m_dir.path().toStdString(), m_model);
    for (const auto& s : generation_settings()) QCOMPARE(QString::fromStdString(s.get(back).dump()), QString::fromStdString(s.get(g).dump()));
    QCOMPARE(back.eos_token_id, int64_t{7});
    // save_pretrained writes only what differs from the defaults, plus the token ids.
    const nlohmann::ordered_json plain = generation_config_file(GenerationConfig{});
    QCOMPARE(QString::fromStdString(plain.dump()), QString(R"({"decoder_start_token_id":0,"eos_token_id":1,"pad_token_id":0})"));
}

void TestGenerationConfig::overrides_are_checked_against_the_table() {
    GenerationConfig g;
    apply_generation_settings(g, {{"num_beams", 4}, {"max_new_tokens", 60}}, "generation settings");
    QCOMPARE(g.num_beams, int64_t{4});
    QCOMPARE(g.max_new_tokens.value_or(-1), int64_t{60});
    QVERIFY_THROWS_EXCEPTION(ConfigError, apply_generation_settings(g, {{"num_beams", 1000}}, "generation settings"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, apply_generation_settings(g, {{"num_beam", 2}}, "generation settings"));
    QCOMPARE(g.num_beams, int64_t{4});  // a refused value changes nothing
    // The form's values are the is_form rows, in table order.
    std::vector<std::string> form;
    for (const auto& s : generation_settings())
        if (s.is_form) form.push_back(s.key);
    std::vector<std::string> keys;
    const json values = generation_form_values(g);
    for (const auto& item : values.items()) keys.push_back(item.key());
    std::sort(keys.begin(), keys.end());
    std::sort(form.begin(), form.end());
    QCOMPARE(keys, form);
}

void TestGenerationConfig::description_follows_the_table() {
    QCOMPARE(QString::fromStdString(describe_generation({{"repetition_penalty", 1.5}, {"num_beams", 4}, {"other", 1}})),
             QString("num_beams=4, repetition_penalty=1.5"));
}

void TestGenerationConfig::ranges_are_transformers_data() {
    // transformers 4.28's checks: TemperatureLogitsWarper and RepetitionPenaltyLogitsProcessor want a strictly
    // positive float, TopPLogitsWarper 0 <= top_p <= 1, TypicalLogitsWarper 0 < typical_p (1 = not added).
    QTest::addColumn<QString>("key");
    QTest::addColumn<double>("value");
    QTest::addColumn<bool>("accepted");
    QTest::addRow("temperature 1e-9") << "temperature" << 1e-9 << true;
    QTest::addRow("temperature 0") << "temperature" << 0.0 << false;
    QTest::addRow("repetition_penalty 1e-4") << "repetition_penalty" << 1e-4 << true;
    QTest::addRow("repetition_penalty 0") << "repetition_penalty" << 0.0 << false;
    QTest::addRow("typical_p 0") << "typical_p" << 0.0 << false;
    QTest::addRow("typical_p 1") << "typical_p" << 1.0 << true;
    QTest::addRow("top_p 0") << "top_p" << 0.0 << true;
    QTest::addRow("top_p above 1") << "top_p" << 1.01 << false;
    QTest::addRow("length_penalty negative") << "length_penalty" << -2.0 << true;
}

void TestGenerationConfig::ranges_are_transformers() {
    QFETCH(QString, key);
    QFETCH(double, value);
    QFETCH(bool, accepted);
    GenerationConfig g;
    bool was_accepted = true;
    try {
        apply_generation_settings(g, {{key.toStdString(), value}}, "generation settings");
    } catch (const ConfigError& e) {
        was_accepted = false;
        QCOMPARE(QString::fromStdString(e.key()), key);
        // The message shows the row's range, an excluded bound as "(".
        QVERIFY2(QString(e.what()).contains(QString::fromStdString(generation_range_text(generation_setting(key.toStdString(), "")))), e.what());
    }
    QCOMPARE(was_accepted, accepted);
}

void TestGenerationConfig::help_names_origin_and_sumlab_bounds() {
    QCOMPARE(QString::fromStdString(generation_range_text(generation_setting("temperature", ""))), QString("(0.0, 100.0]"));
    QCOMPARE(QString::fromStdString(generation_range_text(generation_setting("num_beams", ""))), QString("[1, 256]"));
    QCOMPARE(generation_lowest_value(generation_setting("temperature", ""), 0.001), 0.001);
    QCOMPARE(generation_lowest_value(generation_setting("num_beams", ""), 1), 1.0);
    for (const auto& s : generation_settings()) {
        QVERIFY2(QString::fromStdString(generation_setting_help(s)).endsWith(QString("(Hugging Face: %1)").arg(s.key.c_str())), s.key.c_str());
        // transformers bounds only top_p and typical_p above (by 1); every other number's bound is SumLab's and
        // its help says so and why.
        if (s.kind == GenerationSettingSpec::Kind::boolean || s.key == "top_p" || s.key == "typical_p") continue;
        const std::string bound = QString::number(s.max, 'g', 10).toStdString();  // "256", "100", "1000000"
        QVERIFY2(s.help.find("SumLab's") != std::string::npos && s.help.find(bound) != std::string::npos, s.key.c_str());
    }
}

QTEST_GUILESS_MAIN(TestGenerationConfig)
#include "tst_generation_config.moc"
