// The training settings table (engine/training/training_arguments.h) against its three faces: the CLI
// flags, run.json's JSON and the ranges every reader enforces; plus HF's cross-setting refusals.
#include "engine/training/training_arguments.h"
#include "models/t5/generation_config.h"
#include "base/errors.h"

#include <QtTest>

#include <algorithm>
#include <set>

using namespace sumlab;

class TestTrainingArguments : public QObject {
    Q_OBJECT

private slots:
    void table_rows_are_unique_and_flags_follow_keys();
    void json_round_trip_is_exact();
    void ranges_are_refused_data();
    void ranges_are_refused();
    void bad_values_name_the_file_and_key_data();
    void bad_values_name_the_file_and_key();
    void refuses_what_huggingface_refuses_data();
    void refuses_what_huggingface_refuses();
    void metric_names_and_direction_as_huggingface();
    void generation_num_beams_takes_the_generation_tables_range();
};

// Every row has one key and one flag; a flag is the key with dashes ("--lora-" for PEFT's short names).
void TestTrainingArguments::table_rows_are_unique_and_flags_follow_keys() {
    std::set<std::string> keys, flags;
    for (const SettingSpec& s : training_settings()) {
        QVERIFY2(keys.insert(s.key).second, s.key.c_str());
        QVERIFY2(flags.insert(s.flag).second, s.flag.c_str());
        std::string dashed = "--" + s.key;
        std::replace(dashed.begin(), dashed.end(), '_', '-');
        const std::string lora = "--lora-" + dashed.substr(2);
        QVERIFY2(s.flag == dashed || (s.lora_only && s.flag == lora), qPrintable(QString::fromStdString(s.key + " -> " + s.flag)));
        QVERIFY2(!s.help.empty(), s.key.c_str());
        QVERIFY2(s.get && s.set, s.key.c_str());
    }
    // to_json writes exactly the table's keys.
    std::set<std::string> written;
    const nlohmann::json defaults = TrainingArguments().to_json();
    for (const auto& item : defaults.items()) written.insert(item.key());
    QCOMPARE(written, keys);
}

// Every setting changed from its default survives to_json -> from_json (what run.json and --config rely on).
void TestTrainingArguments::json_round_trip_is_exact() {
    TrainingArguments a;
    a.method = TrainingMethod::lora;
    a.lora.r = 16;
    a.lora.lora_alpha = 24;
    a.lora.lora_dropout = 0.2;
    a.lora.target_modules = {"q", "k", "v", "o"};
    a.learning_rate = 3e-4;
    a.num_train_epochs = 2.5;
    a.max_steps = 40;
    a.per_device_train_batch_size = 3;
    a.per_device_eval_batch_size = 5;
    a.gradient_accumulation_steps = 2;
    a.warmup_ratio = 0.25;
    a.lr_scheduler_type = SchedulerType::cosine;
    a.weight_decay = 0.01;
    a.adam_beta1 = 0.8;
    a.adam_beta2 = 0.99;
    a.adam_epsilon = 1e-6;
    a.optim = OptimizerType::adafactor;
    a.adafactor_scale_parameter = true;
    a.max_grad_norm = 0.5;
    a.seed = 7;
    a.logging_steps = 3;
    a.eval_strategy = IntervalStrategy::epoch;
    a.save_strategy = IntervalStrategy::epoch;
    a.save_total_limit = 2;
    a.max_source_length = 100;
    a.max_target_length = 20;
    a.group_by_length = true;
    a.bf16 = true;
    a.dropout_rate = 0.0;
    a.prompt = "Summarize: {dialogue}";
    a.device = "cuda:1";
    a.ddp_timeout = 90;
    a.limit = 10;
    a.every_kth = 3;
    a.label_smoothing_factor = 0.1;
    const nlohmann::json j = a.to_json();
    const TrainingArguments back = TrainingArguments::from_json(j, "round trip");
    QCOMPARE(QString::fromStdString(back.to_json().dump()), QString::fromStdString(j.dump()));
    QCOMPARE(back.lora.r, int64_t{16});
    QCOMPARE(back.lr_scheduler_type, SchedulerType::cosine);
    QCOMPARE(back.optim, OptimizerType::adafactor);
    QVERIFY(back.adafactor_scale_parameter);
    QVERIFY(back.dropout_rate.has_value());
    // A partial object (an older run.json) keeps the defaults of the keys it lacks.
    const TrainingArguments partial = TrainingArguments::from_json({{"learning_rate", 0.001}}, "partial");
    QCOMPARE(partial.learning_rate, 0.001);
    QCOMPARE(partial.per_device_train_batch_size, TrainingArguments().per_device_train_batch_size);
}

// Every numeric row refuses a value just outside its range and accepts its bounds, through from_json.
void TestTrainingArguments::ranges_are_refused_data() {
    QTest::addColumn<QString>("key");
    for (const SettingSpec& s : training_settings())
        if (s.kind == SettingSpec::Kind::integer || s.kind == SettingSpec::Kind::real) QTest::addRow("%s", s.key.c_str()) << QString::fromStdString(s.key);
}

void TestTrainingArguments::ranges_are_refused() {
    QFETCH(QString, key);
    const std::string k = key.toStdString();
    const SettingSpec& s = *std::find_if(training_settings().begin(), training_settings().end(), [&](const SettingSpec& r) { return r.key == k; });
    const bool integer = s.kind == SettingSpec::Kind::integer;
    // Integers step by 1; reals by a relative 1e-6 of the bound (or 1e-6 at 0), far above a double's rounding.
    const double below = integer ? s.min - 1 : s.min - std::max(1e-6, std::abs(s.min) * 1e-6);
    const double above = integer ? s.max + 1 : s.max + std::max(1e-6, std::abs(s.max) * 1e-6);
    for (double v : {below, above}) {
        const nlohmann::json value = integer ? nlohmann::json(static_cast<int64_t>(v)) : nlohmann::json(v);
        try {
            TrainingArguments::from_json({{k, value}}, "args.json");
            QFAIL(qPrintable(QStringLiteral("%1 = %2 accepted").arg(key, QString::fromStdString(value.dump()))));
        } catch (const ConfigError& e) {
            QCOMPARE(QString::fromStdString(e.key()), key);
            QVERIFY2(QString(e.what()).startsWith("args.json: ") && QString(e.what()).contains("is outside"), e.what());
        }
    }
    // The bounds themselves pass the row's own check (validate's cross-setting rules aside).
    TrainingArguments a;
    for (double v : {s.min, s.max}) {
        const nlohmann::json value = integer ? nlohmann::json(static_cast<int64_t>(v)) : nlohmann::json(v);
        s.set(a, value);
        QCOMPARE(s.get(a), value);
    }
}

void TestTrainingArguments::bad_values_name_the_file_and_key_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("problem");
    QTest::addRow("unknown key") << QByteArray(R"({"learning_rat": 1})") << "learning_rat" << "is not a training setting";
    QTest::addRow("string for a number") << QByteArray(R"({"learning_rate": "1e-3"})") << "learning_rate" << "must be a number";
    QTest::addRow("real for an integer") << QByteArray(R"({"seed": 1.5})") << "seed" << "must be an integer";
    QTest::addRow("unknown choice") << QByteArray(R"({"lr_scheduler_type": "step"})") << "lr_scheduler_type" << "is not one of";
    QTest::addRow("an optimizer SumLab lacks") << QByteArray(R"({"optim": "adamw_hf"})") << "optim" << "is not one of";
    QTest::addRow("unknown layer") << QByteArray(R"({"target_modules": ["q", "query"]})") << "target_modules" << "is not a T5 linear layer";
    QTest::addRow("null where HF has no None") << QByteArray(R"({"max_steps": null})") << "max_steps" << "must be an integer";
    QTest::addRow("no epochs and no steps") << QByteArray(R"({"num_train_epochs": 0})") << "num_train_epochs" << "must be positive";
    QTest::addRow("not an object") << QByteArray("[1]") << "" << "must be a JSON object";
}

void TestTrainingArguments::bad_values_name_the_file_and_key() {
    QFETCH(QByteArray, json);
    QFETCH(QString, key);
    QFETCH(QString, problem);
    try {
        TrainingArguments::from_json(nlohmann::json::parse(json.toStdString()), "run.json");
        QFAIL("accepted");
    } catch (const ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.path()), QStringLiteral("run.json"));
        QCOMPARE(QString::fromStdString(e.key()), key);
        QVERIFY2(QString(e.what()).contains(problem), e.what());
    }
}

void TestTrainingArguments::refuses_what_huggingface_refuses_data() {
    QTest::addColumn<QString>("what");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("message");
    QTest::newRow("strategies differ") << "strategies" << "load_best_model_at_end" << "save and eval strategy to match";
    QTest::newRow("save_steps not a multiple") << "multiple" << "save_steps" << "round multiple of the evaluation steps";
    QTest::newRow("patience without load_best") << "patience" << "early_stopping_patience" << "load_best_model_at_end";
    QTest::newRow("patience without evaluation") << "no-eval" << "early_stopping_patience" << "eval_strategy";
    QTest::newRow("ROUGE without generation") << "rouge" << "metric_for_best_model" << "predict_with_generate";
}

void TestTrainingArguments::refuses_what_huggingface_refuses() {
    QFETCH(QString, what);
    QFETCH(QString, key);
    QFETCH(QString, message);
    TrainingArguments a;
    a.eval_strategy = IntervalStrategy::steps;
    a.save_strategy = IntervalStrategy::steps;
    a.load_best_model_at_end = true;
    a.validate("ok");  // the base case is accepted
    if (what == "strategies") a.eval_strategy = IntervalStrategy::epoch;
    if (what == "multiple") a.eval_steps = 200;  // save_steps 500
    if (what == "patience") a.load_best_model_at_end = false;
    if (what == "no-eval") a.eval_strategy = a.save_strategy = IntervalStrategy::no;
    if (what != "rouge") a.early_stopping_patience = what.startsWith("patience") || what == "no-eval" ? 1 : 0;
    if (what == "rouge") a.metric_for_best_model = "rougeL";
    try {
        a.validate("settings");
        QFAIL("accepted");
    } catch (const ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.key()), key);
        QVERIFY2(QString(e.what()).contains(message), e.what());
    }
}

void TestTrainingArguments::metric_names_and_direction_as_huggingface() {
    TrainingArguments a;
    QCOMPARE(QString::fromStdString(a.best_metric_key()), QString());  // HF: metric_for_best_model None, nothing tracked
    a.load_best_model_at_end = true;
    QCOMPARE(QString::fromStdString(a.best_metric_key()), QStringLiteral("eval_loss"));  // "loss" by default, prefixed
    QCOMPARE(a.resolved_greater_is_better(), false);
    a.metric_for_best_model = "rougeL";
    QCOMPARE(QString::fromStdString(a.best_metric_key()), QStringLiteral("eval_rougeL"));
    QCOMPARE(a.resolved_greater_is_better(), true);
    a.metric_for_best_model = "eval_loss";
    QCOMPARE(a.resolved_greater_is_better(), false);
    a.greater_is_better = true;
    QCOMPARE(a.resolved_greater_is_better(), true);
    // Every new setting is a row of the table (CLI flag, run.json key, GUI editor), and run.json round-trips it.
    for (const char* k : {"predict_with_generate", "generation_max_length", "generation_num_beams", "eval_generate_limit",
                          "load_best_model_at_end", "metric_for_best_model", "greater_is_better", "early_stopping_patience",
                          "early_stopping_threshold", "label_smoothing_factor"})
        QVERIFY2(std::any_of(training_settings().begin(), training_settings().end(), [&](const SettingSpec& s) { return s.key == k; }), k);
    a.label_smoothing_factor = 0.1;
    a.generation_num_beams = 4;
    a.predict_with_generate = true;
    a.eval_strategy = IntervalStrategy::steps;  // load_best_model_at_end needs it equal to save_strategy
    const TrainingArguments back = TrainingArguments::from_json(a.to_json(), "round trip");
    QCOMPARE(back.to_json().dump(), a.to_json().dump());
    QVERIFY(!TrainingArguments::from_json(TrainingArguments().to_json(), "defaults").generation_max_length.has_value());
}

// Seq2SeqTrainer's generation_num_beams reaches generate(): a run.json accepted here must not fail at the first
// evaluation, so the training table takes num_beams' bounds from the generation table.
void TestTrainingArguments::generation_num_beams_takes_the_generation_tables_range() {
    const GenerationSettingSpec& beams = generation_setting("num_beams", "test");
    const SettingSpec* row = nullptr;
    for (const SettingSpec& s : training_settings())
        if (s.key == "generation_num_beams") row = &s;
    QVERIFY(row);
    QCOMPARE(row->min, beams.min);
    QCOMPARE(row->max, beams.max);
    nlohmann::json j = TrainingArguments().to_json();
    j["generation_num_beams"] = static_cast<int64_t>(beams.max);
    QCOMPARE(*TrainingArguments::from_json(j, "run.json").generation_num_beams, static_cast<int64_t>(beams.max));
    j["generation_num_beams"] = static_cast<int64_t>(beams.max) + 1;
    QVERIFY_THROWS_EXCEPTION(ConfigError, TrainingArguments::from_json(j, "run.json"));
}

QTEST_GUILESS_MAIN(TestTrainingArguments)
#include "tst_training_arguments.moc"
