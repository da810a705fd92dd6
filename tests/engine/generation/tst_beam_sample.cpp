// Beam-search sampling (do_sample with num_beams > 1), as transformers 4.28's beam_sample: all beams start
// at score 0, the warpers see the running beam scores and keep at least 2 tokens, 2 x num_beams candidates
// are drawn without replacement and sorted, and num_return_sequences runs one beam search per sample. On the
// golden models with a fixed seed SumLab draws the same tokens as transformers after torch.manual_seed
// (both are LibTorch 1.13's multinomial on the CPU generator).
#include "tests/common/golden_torch.h"
#include "tests/common/reference_python.h"

#include "engine/generation/generation.h"
#include "models/checkpoint.h"
#include "models/t5/t5_model.h"
#include "base/errors.h"

#include <QtTest>

#include <set>

using namespace sumlab;
using namespace sumlab::test;

class TestBeamSample : public QObject {
    Q_OBJECT

private slots:
    void matches_huggingface_data();
    void matches_huggingface();
    void seeded_and_distinct();
};

namespace {

struct Golden {
    LoadedModel model;
    Seq2SeqBatch batch;
};

Golden golden(const QString& name, int64_t rows) {
    const std::string dir = shared_path("golden/t5/" + name.toStdString());
    Golden g{load_model(dir), {}};
    const auto meta = load_json(dir + ".goldens/meta.json");
    g.batch.input_ids = long_tensor(meta["input_ids"]).narrow(0, 0, rows);
    g.batch.attention_mask = long_tensor(meta["attention_mask"]).narrow(0, 0, rows);
    return g;
}

GenerationConfig beam_sampling(const LoadedModel& m, const nlohmann::json& settings, int64_t seed) {
    GenerationConfig c = m.generation;
    c.do_sample = true;
    c.seed = seed;
    c.max_new_tokens = settings.value("max_new_tokens", 12);
    c.num_beams = settings.value("num_beams", 1);
    c.top_k = settings.value("top_k", 50);
    c.top_p = settings.value("top_p", 1.0);
    c.temperature = settings.value("temperature", 1.0);
    c.num_return_sequences = settings.value("num_return_sequences", 1);
    return c;
}

}  // namespace

void TestBeamSample::matches_huggingface_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("settings");
    QTest::addColumn<int>("seed");
    for (const char* model : {"tiny-flan", "tiny-t5v1"}) {
        QTest::addRow("%s/beams3-topk20", model) << model << R"({"num_beams": 3, "top_k": 20, "max_new_tokens": 12})" << 3;
        QTest::addRow("%s/beams2-topp0.9-temp0.7", model) << model << R"({"num_beams": 2, "top_k": 0, "top_p": 0.9, "temperature": 0.7, "max_new_tokens": 12})" << 11;
        QTest::addRow("%s/beams2-return2", model) << model << R"({"num_beams": 2, "top_k": 10, "num_return_sequences": 2, "max_new_tokens": 10})" << 5;
    }
}

void TestBeamSample::matches_huggingface() {
    QFETCH(QString, model);
    QFETCH(QString, settings);
    QFETCH(int, seed);
    const std::string dir = shared_path("golden/t5/" + model.toStdString());
    SUMLAB_REQUIRE_SHARED(dir + ".goldens/meta.json");
    const QString why = reference_python_unavailable();
    if (!why.isEmpty()) QSKIP(qPrintable(why));
    constexpr int64_t kRows = 3;
    auto py = run_reference_python(SUMLAB_SOURCE_DIR "/tests/engine/generation/check_beam_sample.py",
                                   {QString::fromStdString(dir), QString::fromStdString(dir + ".goldens/meta.json"), QString::number(kRows),
                                    settings, QString::number(seed)});
    QVERIFY2(py.exit_code == 0, py.err.right(3000).constData());
    const auto want = nlohmann::json::parse(py.out.toStdString());
    Golden g = golden(model, kRows);
    const GenerationResult got = generate(*g.model.model, g.batch, beam_sampling(g.model, nlohmann::json::parse(settings.toStdString()), seed));
    QCOMPARE(got.sequences.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
        QVERIFY2(got.sequences[i] == want[i].get<TokenIds>(), qPrintable(QString("sequence %1: %2").arg(i).arg(QString::fromStdString(want[i].dump()))));
}

// A seed always draws the same summaries, another seed others, and the samples of one input differ.
void TestBeamSample::seeded_and_distinct() {
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/tiny-flan.goldens/meta.json"));
    Golden g = golden("tiny-flan", 2);
    const nlohmann::json settings = {{"num_beams", 3}, {"top_k", 0}, {"num_return_sequences", 3}, {"max_new_tokens", 12}};
    const auto a = generate(*g.model.model, g.batch, beam_sampling(g.model, settings, 7)).sequences;
    QCOMPARE(a.size(), size_t{6});
    QVERIFY(generate(*g.model.model, g.batch, beam_sampling(g.model, settings, 7)).sequences == a);
    QVERIFY(generate(*g.model.model, g.batch, beam_sampling(g.model, settings, 8)).sequences != a);
    for (size_t input = 0; input < 2; ++input) {
        const std::set<TokenIds> distinct(a.begin() + static_cast<long>(3 * input), a.begin() + static_cast<long>(3 * input + 3));
        QVERIFY2(distinct.size() > 1, qPrintable(QString("input %1: all three samples are the same").arg(input)));
    }
}

QTEST_GUILESS_MAIN(TestBeamSample)
#include "tst_beam_sample.moc"
