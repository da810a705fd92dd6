// Tests for ui/TrainingEstimate, the Train page's adapter over engine/training/training_estimate: parameter counts of
// the models as the Models page inspects them (ModelInspector, the code the page uses) against the engine's
// count_parameters and PEFT's trainable_parameters (apply_lora), against the published FLAN-T5 counts in
// shared/golden/t5/real_config_counts.json; the memory estimate following the form's values and a continued
// adapter; optimizer steps; and the time estimate's arithmetic and its display on the Train page after a real
// probe step on tiny-flan. How close the memory estimate comes to a measured peak is
// tests/engine/training/tst_training_estimate's; no test here asserts a speed.
#include "models/checkpoint.h"
#include "base/errors.h"
#include "models/lora.h"
#include "models/t5/t5_config.h"

#include <nlohmann/json.hpp>

#include "ui/ModelInspector.h"
#include "ui/ModelRegistry.h"
#include "ui/TrainPage.h"
#include "ui/TrainingEstimate.h"
#include "ui/TrainingSettingsForm.h"
#include "ui_test_support.h"

#include <QJsonArray>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QRegularExpression>
#include <QtTest>

#include <fstream>

class TestTrainingEstimate : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void tinyModels_data();
    void tinyModels();
    void lora_data();
    void lora();
    void publishedCounts_data();
    void publishedCounts();
    void memoryFollowsSettings();
    void continuedAdapter();
    void optimizerSteps();
    void timeArithmetic();
    void timeShownOnTrainPage();

private:
    ModelInfo inspected(const QString& dir);
};

namespace {

QJsonObject loraValues(int r, const QStringList& targets) {
    QJsonObject v = TrainingSettingsForm::defaultValues();
    v.insert(QStringLiteral("method"), QStringLiteral("lora"));
    v.insert(QStringLiteral("r"), r);
    v.insert(QStringLiteral("lora_alpha"), 2 * r);
    v.insert(QStringLiteral("target_modules"), QJsonArray::fromStringList(targets));
    return v;
}

}  // namespace

void TestTrainingEstimate::initTestCase() { ui_test::isolateSettings(); }

// The ModelInfo the Models page keeps for a folder: ModelInspector's own reading of config.json.
ModelInfo TestTrainingEstimate::inspected(const QString& dir) {
    const ModelInfo info = ModelInspector::inspectFolder(dir, QString());
    [&] { QVERIFY2(info.ok, qPrintable(info.error)); }();
    return info;
}

void TestTrainingEstimate::tinyModels_data() {
    QTest::addColumn<QString>("dir");
    QTest::addRow("tiny-flan (gated, untied)") << ui_test::tinyFlan();
    QTest::addRow("tiny-t5v1 (relu, tied, 3/1 layers)") << ui_test::tinyT5v1();
}

void TestTrainingEstimate::tinyModels() {
    QFETCH(QString, dir);
    if (!QFileInfo::exists(dir)) QSKIP(qPrintable(QStringLiteral("model not found at %1").arg(dir)));
    const ModelInfo info = inspected(dir);
    const sumlab::LoadedModel loaded = sumlab::load_model(dir.toStdString());
    const qint64 expected = sumlab::count_parameters(*loaded.model);
    QCOMPARE(TrainingEstimator::parameterCount(info.shape), expected);
    const TrainingEstimate e = TrainingEstimator::estimate(info, TrainingSettingsForm::defaultValues());
    QVERIFY2(e.ok, qPrintable(e.error));
    QCOMPARE(e.baseParameters, expected);
    QCOMPARE(e.trainable, expected);
    QCOMPARE(e.trainablePercent, 100.0);
}

void TestTrainingEstimate::lora_data() {
    QTest::addColumn<QString>("dir");
    QTest::addColumn<int>("r");
    QTest::addColumn<QStringList>("targets");
    QTest::addColumn<bool>("valid");
    QTest::addRow("tiny-flan r4 q,v") << ui_test::tinyFlan() << 4 << QStringList{"q", "v"} << true;
    QTest::addRow("tiny-flan r8 everything") << ui_test::tinyFlan() << 8 << QStringList{"q", "k", "v", "o", "wi_0", "wi_1", "wo"} << true;
    QTest::addRow("tiny-flan r2 wi (not gated)") << ui_test::tinyFlan() << 2 << QStringList{"wi"} << false;
    QTest::addRow("tiny-t5v1 r4 q,v") << ui_test::tinyT5v1() << 4 << QStringList{"q", "v"} << true;
    QTest::addRow("tiny-t5v1 r3 o,wi,wo") << ui_test::tinyT5v1() << 3 << QStringList{"o", "wi", "wo"} << true;
    QTest::addRow("tiny-t5v1 r2 wi_0 (gated only)") << ui_test::tinyT5v1() << 2 << QStringList{"wi_0"} << false;
}

void TestTrainingEstimate::lora() {
    QFETCH(QString, dir);
    QFETCH(int, r);
    QFETCH(QStringList, targets);
    QFETCH(bool, valid);
    if (!QFileInfo::exists(dir)) QSKIP(qPrintable(QStringLiteral("model not found at %1").arg(dir)));
    const ModelInfo info = inspected(dir);
    const sumlab::T5Config config = sumlab::T5Config::from_file((dir + QStringLiteral("/config.json")).toStdString());
    sumlab::T5ForConditionalGeneration model(config);
    sumlab::LoraConfig lora;
    lora.r = r;
    lora.lora_alpha = 2.0 * r;
    lora.target_modules.clear();
    for (const QString& t : targets) lora.target_modules.push_back(t.toStdString());
    QString error;
    const qint64 estimated = TrainingEstimator::loraParameterCount(info.shape, r, targets, &error);
    const TrainingEstimate e = TrainingEstimator::estimate(info, loraValues(r, targets));
    if (!valid) {
        QCOMPARE(estimated, qint64{-1});
        QVERIFY2(error.contains(targets.front()), qPrintable(error));
        QVERIFY(!e.ok);
        QVERIFY2(e.error.contains(targets.front()), qPrintable(e.error));
        QVERIFY_THROWS_EXCEPTION(sumlab::ConfigError, sumlab::apply_lora(*model, lora));
        return;
    }
    sumlab::apply_lora(*model, lora);
    const sumlab::TrainableReport report = sumlab::trainable_parameters(*model);
    QCOMPARE(estimated, static_cast<qint64>(report.trainable));
    QVERIFY2(e.ok, qPrintable(e.error));
    QCOMPARE(e.trainable, static_cast<qint64>(report.trainable));
    QCOMPARE(e.all, static_cast<qint64>(report.all));
    QCOMPARE(e.trainablePercent, report.percent());
    QCOMPARE(e.savedBytes, 4 * e.trainable);  // adapter_model.safetensors, fp32
}

void TestTrainingEstimate::publishedCounts_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("loraKey");
    QTest::addColumn<int>("r");
    QTest::addRow("flan-t5-small r32") << "google/flan-t5-small" << "lora_r32_alpha32_qv" << 32;
    QTest::addRow("flan-t5-small r8") << "google/flan-t5-small" << "lora_r8_alpha16_qv" << 8;
    QTest::addRow("flan-t5-base r32") << "google/flan-t5-base" << "lora_r32_alpha32_qv" << 32;
    QTest::addRow("flan-t5-base r8") << "google/flan-t5-base" << "lora_r8_alpha16_qv" << 8;
}

void TestTrainingEstimate::publishedCounts() {
    QFETCH(QString, model);
    QFETCH(QString, loraKey);
    QFETCH(int, r);
    const QString path = ui_test::sharedDir() + QStringLiteral("/golden/t5/real_config_counts.json");
    std::ifstream in(path.toStdString());
    if (!in) QSKIP(qPrintable(QStringLiteral("counts not found at %1").arg(path)));
    const nlohmann::json counts = nlohmann::json::parse(in).at(model.toStdString());
    // FLAN-T5: gated-gelu and untied embeddings on top of the published sizes; vocabulary 32128 and 32 relative
    // buckets are T5Config's defaults. The shape is what inspection reads from such a config.json.
    nlohmann::json flan = counts.at("config");
    flan["feed_forward_proj"] = "gated-gelu";
    flan["tie_word_embeddings"] = false;
    ModelInfo info;
    info.shape = TrainingEstimator::shapeOf(sumlab::T5Config::from_json(flan, path.toStdString()));
    info.feedForwardProj = QStringLiteral("gated-gelu");
    QCOMPARE(TrainingEstimator::parameterCount(info.shape), counts.at("total_params").get<qint64>());
    const TrainingEstimate e = TrainingEstimator::estimate(info, loraValues(r, {QStringLiteral("q"), QStringLiteral("v")}));
    QVERIFY2(e.ok, qPrintable(e.error));
    QCOMPARE(e.trainable, counts.at(loraKey.toStdString()).at("trainable_params").get<qint64>());
    QCOMPARE(e.all, counts.at(loraKey.toStdString()).at("all_params_incl_lora").get<qint64>());
    QCOMPARE(e.trainablePercent, counts.at(loraKey.toStdString()).at("trainable_percent").get<double>());
}

void TestTrainingEstimate::memoryFollowsSettings() {
    if (!QFileInfo::exists(ui_test::tinyFlan())) QSKIP(qPrintable(QStringLiteral("model not found at %1").arg(ui_test::tinyFlan())));
    const ModelInfo info = inspected(ui_test::tinyFlan());
    QJsonObject v = TrainingSettingsForm::defaultValues();
    v.insert(QStringLiteral("per_device_train_batch_size"), 4);
    v.insert(QStringLiteral("max_source_length"), 64);
    v.insert(QStringLiteral("max_target_length"), 16);
    const TrainingEstimate full = TrainingEstimator::estimate(info, v);
    QVERIFY2(full.ok, qPrintable(full.error));
    // fp32 full fine-tuning: every parameter has a weight, a gradient and two AdamW moments.
    QCOMPARE(full.weightBytes, 4 * info.parameters);
    QCOMPARE(full.gradientBytes, 4 * info.parameters);
    QCOMPARE(full.optimizerBytes, 8 * info.parameters);
    QCOMPARE(full.savedBytes, 4 * info.parameters);
    QCOMPARE(full.checkpointBytes, 12 * info.parameters);
    QCOMPARE(full.peakBytes, full.weightBytes + full.gradientBytes + full.optimizerBytes + full.activationBytes + full.workingBytes);
    QCOMPARE(full.batch, qint64{4});
    QCOMPARE(full.sourceLength, qint64{64});
    QCOMPARE(full.targetLength, qint64{16});
    QVERIFY(full.activationBytes > 0);
    // The activations follow the batch and the lengths the form sets: twice the batch, twice the activations
    // (every kept tensor is per example, the decoder's (1, heads, t, t) bias aside, which full fine-tuning keeps not).
    QJsonObject bigger = v;
    bigger.insert(QStringLiteral("per_device_train_batch_size"), 8);
    const TrainingEstimate twice = TrainingEstimator::estimate(info, bigger);
    QCOMPARE(twice.activationBytes, 2 * full.activationBytes);
    bigger = v;
    bigger.insert(QStringLiteral("max_source_length"), 128);
    QVERIFY(TrainingEstimator::estimate(info, bigger).activationBytes > full.activationBytes);
    // LoRA keeps less (frozen projections keep no inputs) and holds no full gradients or moments.
    const TrainingEstimate adapter = TrainingEstimator::estimate(info, [&] {
        QJsonObject l = loraValues(4, {QStringLiteral("q"), QStringLiteral("v")});
        for (const char* key : {"per_device_train_batch_size", "max_source_length", "max_target_length"}) l.insert(key, v.value(key));
        return l;
    }());
    QVERIFY2(adapter.ok, qPrintable(adapter.error));
    QVERIFY(adapter.activationBytes < full.activationBytes);
    QCOMPARE(adapter.optimizerBytes, 8 * adapter.trainable);
    // A value the engine refuses is named, not estimated.
    QJsonObject bad = v;
    bad.insert(QStringLiteral("per_device_train_batch_size"), 0);
    const TrainingEstimate refused = TrainingEstimator::estimate(info, bad);
    QVERIFY(!refused.ok);
    QVERIFY2(refused.error.contains(QStringLiteral("per_device_train_batch_size")), qPrintable(refused.error));
    QVERIFY(!TrainingEstimator::estimate(ModelInfo{}, v).ok);
}

void TestTrainingEstimate::continuedAdapter() {
    if (!QFileInfo::exists(ui_test::tinyFlanAdapter()))
        QSKIP(qPrintable(QStringLiteral("adapter not found at %1").arg(ui_test::tinyFlanAdapter())));
    const ModelInfo info = ModelInspector::inspectFolder(ui_test::tinyFlanAdapter(), ui_test::tinyFlan());
    QVERIFY2(info.ok, qPrintable(info.error));
    // The form says full fine-tuning; continuing the adapter trains it with its own r and targets.
    const TrainingEstimate e = TrainingEstimator::estimate(info, TrainingSettingsForm::defaultValues(), &info.adapter);
    QVERIFY2(e.ok, qPrintable(e.error));
    QCOMPARE(e.trainable, info.adapterParameters);
    QCOMPARE(e.all, info.allParameters);
}

void TestTrainingEstimate::optimizerSteps() {
    // The engine's suite checks optimizer_steps row by row; here each of the form's values must reach its
    // own field, so every case moves a different argument (a swapped pair changes the result).
    QCOMPARE(TrainingEstimator::optimizerSteps(1000, 2, 100, 10, 1, 1.0, -1), qint64{10});   // limit after every_kth
    QCOMPARE(TrainingEstimator::optimizerSteps(136, 1, 0, 8, 4, 1.0, -1), qint64{5});        // accumulation rounds up
    QCOMPARE(TrainingEstimator::optimizerSteps(128, 1, 0, 8, 1, 2.5, -1), qint64{40});       // fractional epochs
    QCOMPARE(TrainingEstimator::optimizerSteps(12460, 1, 0, 8, 1, 3.0, 50), qint64{50});     // max_steps wins
}

void TestTrainingEstimate::timeArithmetic() {
    StepTimeEstimate t;
    t.ok = true;
    t.forwardBackwardS = 1.5;
    t.optimizerS = 0.25;
    // An optimizer step: `accumulation` forward/backward passes, then one update (binary fractions: exact).
    QCOMPARE(TrainingEstimator::secondsPerStep(t, 1), 1.75);
    QCOMPARE(TrainingEstimator::secondsPerStep(t, 4), 6.25);
    // The probe's time holds for any epochs, accumulation or max_steps (they only multiply it), not for another
    // batch size, length, method or model.
    QJsonObject v = TrainingSettingsForm::defaultValues();
    const QJsonObject key = TrainingEstimator::timingKey(QStringLiteral("/m"), v, nullptr);
    QJsonObject other = v;
    other.insert(QStringLiteral("num_train_epochs"), 7.0);
    other.insert(QStringLiteral("gradient_accumulation_steps"), 4);
    other.insert(QStringLiteral("max_steps"), 10);
    QCOMPARE(TrainingEstimator::timingKey(QStringLiteral("/m"), other, nullptr), key);
    for (const char* name : {"per_device_train_batch_size", "max_source_length", "max_target_length"}) {
        other = v;
        other.insert(QLatin1String(name), 3);
        QVERIFY2(TrainingEstimator::timingKey(QStringLiteral("/m"), other, nullptr) != key, name);
    }
    QVERIFY(TrainingEstimator::timingKey(QStringLiteral("/other"), v, nullptr) != key);
}

void TestTrainingEstimate::timeShownOnTrainPage() {
    if (!QFileInfo::exists(ui_test::tinyFlan())) QSKIP(qPrintable(QStringLiteral("model not found at %1").arg(ui_test::tinyFlan())));
    ModelRegistry registry;
    QSignalSpy registered(&registry, &ModelRegistry::registered);
    QVERIFY(registry.addFolder(ui_test::tinyFlan()));
    QVERIFY(registered.wait(60000));
    TrainPage page(&registry);
    const QString data = QStringLiteral("/nonexistent/dialogsum");  // the estimate needs only its train count
    page.setDatasetInfo(data, 400000);  // many steps: the run's total is minutes even at tiny-flan's speed
    page.setDataPath(data);
    QVERIFY(page.selectModel(ui_test::tinyFlan()));
    QJsonObject v = TrainingSettingsForm::defaultValues();
    v.insert(QStringLiteral("per_device_train_batch_size"), 4);
    v.insert(QStringLiteral("max_source_length"), 32);
    v.insert(QStringLiteral("max_target_length"), 8);
    v.insert(QStringLiteral("num_train_epochs"), 3.0);
    page.form()->setValues(v);
    auto* label = page.findChild<QLabel*>(QStringLiteral("timeEstimateLabel"));
    auto* button = page.findChild<QPushButton*>(QStringLiteral("timeStepButton"));
    QVERIFY(label && button);
    QVERIFY2(label->text().contains(QStringLiteral("not measured")), qPrintable(label->text()));
    QVERIFY(button->isEnabled());
    button->click();
    QVERIFY(page.isTimingStep());
    QVERIFY(!button->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!page.isTimingStep(), 120000);
    QVERIFY2(page.measuredStepTime().ok, qPrintable(page.measuredStepTime().error));
    QVERIFY(page.isStepTimeCurrent());

    // What the label says is the arithmetic on what was measured: 400,000 dialogues, batch 4, 3 epochs = 300,000 steps.
    const QLocale locale;
    auto check = [&](qint64 accumulation, qint64 steps) {
        const double perStep = TrainingEstimator::secondsPerStep(page.measuredStepTime(), accumulation);
        const QString text = label->text();
        QVERIFY2(text.startsWith(locale.toString(perStep, 'g', 3) + QStringLiteral(" s per optimizer step (") +
                                 locale.toString(accumulation) + QStringLiteral(" × ")),
                 qPrintable(text));
        const QRegularExpressionMatch m =
            QRegularExpression(QStringLiteral("; (\\S+) steps ≈ (\\d+):(\\d\\d):(\\d\\d)")).match(text);
        QVERIFY2(m.hasMatch(), qPrintable(text));
        QCOMPARE(m.captured(1), locale.toString(steps));
        const qint64 shown = m.captured(2).toLongLong() * 3600 + m.captured(3).toLongLong() * 60 + m.captured(4).toLongLong();
        QCOMPARE(shown, static_cast<qint64>(std::llround(perStep * static_cast<double>(steps))));  // whole seconds shown
    };
    check(1, 300000);
    // Accumulation: half the optimizer steps (rounded up per epoch), each two passes; no new probe needed.
    v.insert(QStringLiteral("gradient_accumulation_steps"), 2);
    page.form()->setValues(v);
    QVERIFY(page.isStepTimeCurrent());
    check(2, 150000);
    // Another batch size: the measured time no longer applies.
    v.insert(QStringLiteral("per_device_train_batch_size"), 8);
    page.form()->setValues(v);
    QVERIFY(!page.isStepTimeCurrent());
    QVERIFY2(label->text().contains(QStringLiteral("other settings")), qPrintable(label->text()));
}

QTEST_MAIN(TestTrainingEstimate)
#include "tst_trainingestimate.moc"
