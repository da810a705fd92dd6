// Tests for ui/TrainingEstimate: parameter counts from config arithmetic against the engine's
// count_parameters and PEFT's trainable_parameters (apply_lora) on the tiny models, against the published
// FLAN-T5 counts in shared/golden/t5/real_config_counts.json, memory and sizes, and optimizer steps.
#include "models/checkpoint.h"
#include "models/errors.h"
#include "models/lora.h"

#include <nlohmann/json.hpp>

#include "ui/TrainingEstimate.h"
#include "ui_test_support.h"

#include <fstream>

#include <QtTest>

class TestTrainingEstimate : public QObject {
    Q_OBJECT

private slots:
    void tinyModels_data();
    void tinyModels();
    void lora_data();
    void lora();
    void publishedCounts_data();
    void publishedCounts();
    void sizesAndMemory();
    void optimizerSteps_data();
    void optimizerSteps();
};

namespace {

ModelShape shapeOf(const sumlab::T5Config& c) {
    ModelShape s;
    s.vocabSize = c.vocab_size;
    s.dModel = c.d_model;
    s.dKv = c.d_kv;
    s.dFf = c.d_ff;
    s.numLayers = c.num_layers;
    s.numDecoderLayers = c.num_decoder_layers;
    s.numHeads = c.num_heads;
    s.relativeAttentionNumBuckets = c.relative_attention_num_buckets;
    s.isGated = c.is_gated();
    s.tieWordEmbeddings = c.tie_word_embeddings;
    return s;
}

}  // namespace

void TestTrainingEstimate::tinyModels_data() {
    QTest::addColumn<QString>("dir");
    QTest::addRow("tiny-flan (gated, untied)") << ui_test::tinyFlan();
    QTest::addRow("tiny-t5v1 (relu, tied, 3/1 layers)") << ui_test::tinyT5v1();
}

void TestTrainingEstimate::tinyModels() {
    QFETCH(QString, dir);
    if (!QFileInfo::exists(dir)) QSKIP(qPrintable(QStringLiteral("model not found at %1").arg(dir)));
    const sumlab::LoadedModel loaded = sumlab::load_model(dir.toStdString());
    QCOMPARE(TrainingEstimator::parameterCount(shapeOf(loaded.config)), static_cast<qint64>(sumlab::count_parameters(*loaded.model)));
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
    const sumlab::T5Config config = sumlab::T5Config::from_file((dir + QStringLiteral("/config.json")).toStdString());
    sumlab::T5ForConditionalGeneration model(config);
    sumlab::LoraConfig lora;
    lora.r = r;
    lora.lora_alpha = 2.0 * r;
    lora.target_modules.clear();
    for (const QString& t : targets) lora.target_modules.push_back(t.toStdString());
    QString error;
    const qint64 estimated = TrainingEstimator::loraParameterCount(shapeOf(config), r, targets, &error);
    if (!valid) {
        QCOMPARE(estimated, qint64{-1});
        QVERIFY2(error.contains(targets.front()), qPrintable(error));
        QVERIFY_THROWS_EXCEPTION(sumlab::ConfigError, sumlab::apply_lora(*model, lora));
        return;
    }
    sumlab::apply_lora(*model, lora);
    const sumlab::TrainableReport report = sumlab::trainable_parameters(*model);
    QCOMPARE(estimated, static_cast<qint64>(report.trainable));
    const TrainingEstimate e = TrainingEstimator::estimate(shapeOf(config), true, r, targets);
    QVERIFY(e.ok);
    QCOMPARE(e.all, static_cast<qint64>(report.all));
    QCOMPARE(e.trainablePercent, report.percent());
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
    const nlohmann::json& c = counts.at("config");
    // FLAN-T5: vocabulary 32128, gated-gelu, untied embeddings, 32 relative buckets.
    ModelShape s;
    s.vocabSize = 32128;
    s.dModel = c.at("d_model").get<qint64>();
    s.dKv = c.at("d_kv").get<qint64>();
    s.numHeads = c.at("num_heads").get<qint64>();
    s.dFf = c.at("d_ff").get<qint64>();
    s.numLayers = c.at("num_layers").get<qint64>();
    s.numDecoderLayers = c.at("num_decoder_layers").get<qint64>();
    s.isGated = true;
    s.tieWordEmbeddings = false;
    QCOMPARE(TrainingEstimator::parameterCount(s), counts.at("total_params").get<qint64>());
    const TrainingEstimate e = TrainingEstimator::estimate(s, true, r, {QStringLiteral("q"), QStringLiteral("v")});
    QVERIFY(e.ok);
    QCOMPARE(e.trainable, counts.at(loraKey.toStdString()).at("trainable_params").get<qint64>());
    QCOMPARE(e.all, counts.at(loraKey.toStdString()).at("all_params_incl_lora").get<qint64>());
    QCOMPARE(e.trainablePercent, counts.at(loraKey.toStdString()).at("trainable_percent").get<double>());
}

void TestTrainingEstimate::sizesAndMemory() {
    ModelShape s;
    s.vocabSize = 100;
    s.dModel = 8;
    s.dKv = 2;
    s.numHeads = 4;
    s.dFf = 16;
    s.numLayers = 1;
    s.numDecoderLayers = 1;
    s.relativeAttentionNumBuckets = 4;
    s.isGated = false;
    s.tieWordEmbeddings = true;
    // shared 800; encoder 4*8*8 + 2*8*16 + 2*8 = 528, bias 16, final norm 8; decoder 2*256 + 256 + 24 = 792, bias 16, norm 8.
    QCOMPARE(TrainingEstimator::parameterCount(s), qint64{800 + 528 + 16 + 8 + 792 + 16 + 8});
    const qint64 n = TrainingEstimator::parameterCount(s);
    const TrainingEstimate full = TrainingEstimator::estimate(s, false, 0, {});
    QVERIFY(full.ok);
    QCOMPARE(full.trainable, n);
    QCOMPARE(full.trainablePercent, 100.0);
    QCOMPARE(full.savedBytes, 4 * n);
    QCOMPARE(full.weightBytes, 4 * n);
    QCOMPARE(full.gradientBytes, 4 * n);
    QCOMPARE(full.optimizerBytes, 8 * n);
    QCOMPARE(full.totalBytes, 16 * n);
    QCOMPARE(full.checkpointBytes, 12 * n);
    // LoRA r2 on q: three attention layers (encoder self, decoder self and cross), 2 * (8 + 8) each.
    const TrainingEstimate lora = TrainingEstimator::estimate(s, true, 2, {QStringLiteral("q")});
    QVERIFY(lora.ok);
    QCOMPARE(lora.trainable, qint64{3 * 2 * 16});
    QCOMPARE(lora.all, n + 96);
    QCOMPARE(lora.savedBytes, qint64{4 * 96});
    QCOMPARE(lora.totalBytes, 4 * (n + 96) + 12 * 96);
    const TrainingEstimate none = TrainingEstimator::estimate(s, true, 2, {});
    QVERIFY(!none.ok);
    QVERIFY(!TrainingEstimator::estimate(ModelShape{}, false, 0, {}).ok);
}

void TestTrainingEstimate::optimizerSteps_data() {
    QTest::addColumn<qint64>("examples");
    QTest::addColumn<qint64>("everyKth");
    QTest::addColumn<qint64>("limit");
    QTest::addColumn<qint64>("batch");
    QTest::addColumn<qint64>("accumulation");
    QTest::addColumn<double>("epochs");
    QTest::addColumn<qint64>("maxSteps");
    QTest::addColumn<qint64>("expected");
    QTest::addRow("DialogSum train, batch 8") << qint64{12460} << qint64{1} << qint64{0} << qint64{8} << qint64{1} << 1.0 << qint64{-1} << qint64{1558};
    QTest::addRow("quick demo (every 100th)") << qint64{12460} << qint64{100} << qint64{0} << qint64{8} << qint64{1} << 1.0 << qint64{-1} << qint64{16};
    QTest::addRow("accumulation rounds up") << qint64{136} << qint64{1} << qint64{0} << qint64{8} << qint64{4} << 1.0 << qint64{-1} << qint64{5};
    QTest::addRow("fractional epochs") << qint64{128} << qint64{1} << qint64{0} << qint64{8} << qint64{1} << 2.5 << qint64{-1} << qint64{40};
    QTest::addRow("limit after every_kth") << qint64{1000} << qint64{2} << qint64{100} << qint64{10} << qint64{1} << 1.0 << qint64{-1} << qint64{10};
    QTest::addRow("max_steps wins") << qint64{12460} << qint64{1} << qint64{0} << qint64{8} << qint64{1} << 3.0 << qint64{50} << qint64{50};
    QTest::addRow("no data") << qint64{0} << qint64{1} << qint64{0} << qint64{8} << qint64{1} << 1.0 << qint64{-1} << qint64{0};
}

void TestTrainingEstimate::optimizerSteps() {
    QFETCH(qint64, examples);
    QFETCH(qint64, everyKth);
    QFETCH(qint64, limit);
    QFETCH(qint64, batch);
    QFETCH(qint64, accumulation);
    QFETCH(double, epochs);
    QFETCH(qint64, maxSteps);
    QFETCH(qint64, expected);
    QCOMPARE(TrainingEstimator::optimizerSteps(examples, everyKth, limit, batch, accumulation, epochs, maxSteps), expected);
}

QTEST_MAIN(TestTrainingEstimate)
#include "tst_trainingestimate.moc"
