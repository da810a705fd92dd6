// Greedy and beam search against Hugging Face generate() (transformers 4.28) on every model and
// mode in ../shared/golden/t5, batched over padded inputs and unbatched.
#include "tests/common/golden_torch.h"

#include "engine/generation/generation.h"
#include "engine/data/prompt.h"
#include "engine/metrics/rouge.h"
#include "engine/generation/system.h"
#include "engine/text/tokenizer.h"
#include "models/checkpoint.h"
#include "base/errors.h"
#include "tests/common/sanitizer.h"

#include <QtTest>

#include <set>

using namespace sumlab;
using namespace sumlab::test;

class TestGeneration : public QObject {
    Q_OBJECT

private slots:
    void matches_huggingface_data();
    void matches_huggingface();
    void no_repeat_ngram_bans_repeats();
    void repetition_penalty_scales_seen_tokens();
    void min_new_tokens_forbids_early_eos();
    void cancel_stops_generation();
    void bfloat16_follows_float32_data();
    void bfloat16_follows_float32();
    void warpers_match_huggingface();
    void sampling_is_seeded();
    void sampling_settings_that_cannot_work_are_refused();
};

namespace {
GenerationConfig config_from(const nlohmann::json& kwargs, const GenerationConfig& base) {
    GenerationConfig c = base;
    if (kwargs.contains("max_new_tokens")) c.max_new_tokens = kwargs["max_new_tokens"].get<int64_t>();
    if (kwargs.contains("num_beams")) c.num_beams = kwargs["num_beams"].get<int64_t>();
    if (kwargs.contains("early_stopping")) c.early_stopping = kwargs["early_stopping"].get<bool>();
    if (kwargs.contains("length_penalty")) c.length_penalty = kwargs["length_penalty"].get<double>();
    if (kwargs.contains("no_repeat_ngram_size")) c.no_repeat_ngram_size = kwargs["no_repeat_ngram_size"].get<int64_t>();
    if (kwargs.contains("repetition_penalty")) c.repetition_penalty = kwargs["repetition_penalty"].get<double>();
    return c;
}

TokenIds expected_ids(const nlohmann::json& ids) {  // after the start token, up to and including </s>
    TokenIds out;
    for (size_t i = 1; i < ids.size(); ++i) {
        out.push_back(ids[i].get<int64_t>());
        if (out.back() == 1) break;
    }
    return out;
}
}  // namespace

void TestGeneration::matches_huggingface_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("mode");
    for (const char* model : {"tiny-flan", "tiny-t5v1"})
        for (const char* mode : {"greedy", "beam4", "greedy_no_repeat_ngram3", "greedy_repetition_penalty1.3"})
            QTest::newRow(qPrintable(QString("%1/%2").arg(mode, model))) << model << mode;
}

void TestGeneration::matches_huggingface() {
    QFETCH(QString, model);
    QFETCH(QString, mode);
    std::string dir = shared_path("golden/t5/" + model.toStdString());
    SUMLAB_REQUIRE_SHARED(dir + ".goldens/generate.json");
    auto gold = load_json(dir + ".goldens/generate.json")["modes"][mode.toStdString()];
    auto meta = load_json(dir + ".goldens/meta.json");
    LoadedModel m = load_model(dir);
    GenerationConfig config = config_from(gold["kwargs"], m.generation);

    Seq2SeqBatch batch;
    batch.input_ids = long_tensor(meta["input_ids"]);
    batch.attention_mask = long_tensor(meta["attention_mask"]);
    auto result = generate(*m.model, batch, config);
    QCOMPARE(result.sequences.size(), gold["batch"].size());
    for (size_t i = 0; i < gold["batch"].size(); ++i) {
        const auto& want = gold["batch"][i];
        bool tie = want.contains("min_top1_top2_margin") && want["min_top1_top2_margin"].get<double>() < 1e-4;
        if (!tie) QVERIFY2(result.sequences[i] == expected_ids(want["ids"]), qPrintable(QString("batched row %1").arg(i)));
        if (gold.contains("sequences_scores"))
            QVERIFY2(std::abs(result.sequence_scores[i] - gold["sequences_scores"][i].get<double>()) < 1e-4,
                     qPrintable(QString("row %1 score %2 vs %3").arg(i).arg(result.sequence_scores[i]).arg(gold["sequences_scores"][i].get<double>())));
    }
    // Unbatched: each row alone, without padding.
    SUMLAB_REQUIRE_SENTENCEPIECE();  // the batched rows above are checked all the same
    T5Tokenizer tok = T5Tokenizer::from_directory(dir);
    for (const auto& u : gold["unbatched"]) {
        int64_t row = u["row"].get<int64_t>();
        int64_t n = batch.attention_mask[row].sum().item<int64_t>();
        Seq2SeqBatch one;
        one.input_ids = batch.input_ids.slice(0, row, row + 1).slice(1, 0, n);
        one.attention_mask = torch::ones_like(one.input_ids);
        auto r = generate(*m.model, one, config);
        QVERIFY2(r.sequences[0] == expected_ids(u["ids"]), qPrintable(QString("unbatched row %1").arg(row)));
        QCOMPARE(tok.decode(r.sequences[0]), u["text"].get<std::string>());
    }
}

void TestGeneration::no_repeat_ngram_bans_repeats() {
    auto scores = torch::zeros({1, 10});
    // Sequence 0 3 4 5 3: the bigram (3, 4) happened, so after a final 3 the token 4 is banned.
    apply_no_repeat_ngram(scores, {{0, 3, 4, 5, 3}}, 2);
    QCOMPARE(scores[0][4].item<float>(), -std::numeric_limits<float>::infinity());
    QCOMPARE(scores[0][5].item<float>(), 0.0f);
    auto s3 = torch::zeros({1, 10});
    apply_no_repeat_ngram(s3, {{0, 3, 4, 5, 3}}, 3);  // (5, 3) never preceded anything: no ban
    QCOMPARE(torch::isinf(s3).sum().item<int64_t>(), int64_t{0});
}

void TestGeneration::repetition_penalty_scales_seen_tokens() {
    auto scores = torch::tensor({{2.0f, -2.0f, 1.0f, 4.0f}});
    apply_repetition_penalty(scores, torch::tensor({{0, 1, 1}}, torch::kLong), 2.0);
    QCOMPARE(scores[0][0].item<float>(), 1.0f);   // positive: divided
    QCOMPARE(scores[0][1].item<float>(), -4.0f);  // negative: multiplied, once although seen twice
    QCOMPARE(scores[0][3].item<float>(), 4.0f);   // unseen: unchanged
}

void TestGeneration::min_new_tokens_forbids_early_eos() {
    std::string dir = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(dir + "/model.safetensors");
    LoadedModel m = load_model(dir);
    SUMLAB_REQUIRE_SENTENCEPIECE();
    T5Tokenizer tok = T5Tokenizer::from_directory(dir);
    GenerationConfig c = m.generation;
    c.max_new_tokens = 12;
    c.min_new_tokens = 12;
    auto out = generate_texts(*m.model, tok, {"#Person1#: Hi.\n#Person2#: Hello."}, c, 1, 512);
    QCOMPARE(out[0].token_ids.size(), size_t{12});
    QVERIFY(out[0].hit_max_new_tokens);
}

void TestGeneration::cancel_stops_generation() {
    std::string dir = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(dir + "/model.safetensors");
    LoadedModel m = load_model(dir);
    SUMLAB_REQUIRE_SENTENCEPIECE();
    T5Tokenizer tok = T5Tokenizer::from_directory(dir);
    std::atomic<bool> cancel{false};
    GenerationCallbacks cb;
    cb.cancel = &cancel;
    int steps = 0;
    cb.on_step = [&](int64_t, int64_t) {
        if (++steps == 3) cancel = true;
    };
    GenerationConfig c = m.generation;
    c.max_new_tokens = 30;
    c.min_new_tokens = 30;
    QVERIFY_THROWS_EXCEPTION(Cancelled, generate_texts(*m.model, tok, {"hello"}, c, 1, 512, cb));
    QCOMPARE(steps, 3);
}

void TestGeneration::bfloat16_follows_float32_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("tiny-flan") << "tiny-flan";
    QTest::newRow("tiny-t5v1") << "tiny-t5v1";
}

void TestGeneration::bfloat16_follows_float32() {
    // --dtype bfloat16 casts every weight as model.to(torch.bfloat16). The teacher-forced loss stays within 2% of
    // fp32's (the bound; bf16's 8-bit mantissa moves it by ~0.02% here). Greedy summaries of these random
    // tiny models flip wherever fp32's top-2 margin (down to 1e-4) is below bf16's rounding, so they are compared
    // by ROUGE-L against fp32's: a wrong cast (a weight left fp32 where bf16 is expected, an overflowing mask)
    // gives unrelated text, which scores like a different model's output (below 0.3 here).
    QFETCH(QString, model);
    const std::string dir = shared_path("golden/t5/" + model.toStdString()), gold = dir + ".goldens";
    SUMLAB_REQUIRE_SHARED(gold + "/meta.json");
    SUMLAB_REQUIRE_SENTENCEPIECE();
    LoadedSystem fp32 = load_system({dir}), bf16 = load_system({dir, "", "cpu", "bfloat16"});
    QCOMPARE(bf16.model.model->shared->weight.scalar_type(), torch::kBFloat16);
    const auto meta = load_json(gold + "/meta.json");
    const auto ids = long_tensor(meta["input_ids"]), mask = long_tensor(meta["attention_mask"]), labels = long_tensor(meta["labels"]);
    double loss32 = 0, loss16 = 0;
    {
        torch::NoGradGuard no_grad;
        loss32 = fp32.model.model->forward(ids, mask, labels).loss.item<double>();
        loss16 = bf16.model.model->forward(ids, mask, labels).loss.item<double>();
    }
    QVERIFY2(std::abs(loss16 - loss32) <= 0.02 * loss32, qPrintable(QString("loss %1 (bf16) vs %2").arg(loss16).arg(loss32)));

    const auto tok = load_json(gold + "/tokenizer.json");
    std::vector<std::string> sources;
    for (const auto& s : tok["sources"]) sources.push_back(s["text"].get<std::string>());
    GenerationConfig config = fp32.generation;
    config.max_new_tokens = 40;
    const auto a = generate_texts(*fp32.model.model, fp32.tokenizer, sources, config, 8, 512);
    const auto b = generate_texts(*bf16.model.model, bf16.tokenizer, sources, config, 8, 512);
    RougeScorer scorer;
    double rouge_l = 0;
    int same = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        same += a[i].token_ids == b[i].token_ids;
        rouge_l += scorer.score(a[i].text, b[i].text).rougeL.fmeasure;
    }
    rouge_l /= static_cast<double>(a.size());
    // Against another model's summaries of the same dialogues: what unrelated output scores.
    LoadedSystem other = load_system({shared_path(model == "tiny-flan" ? "golden/t5/tiny-t5v1" : "golden/t5/tiny-flan")});
    const auto c = generate_texts(*other.model.model, other.tokenizer, sources, config, 8, 512);
    double unrelated = 0;
    for (size_t i = 0; i < a.size(); ++i) unrelated += scorer.score(a[i].text, c[i].text).rougeL.fmeasure;
    unrelated /= static_cast<double>(a.size());
    qInfo("%s: bf16 loss %.6f vs fp32 %.6f; %d of %zu greedy summaries identical; ROUGE-L vs fp32 %.3f (another model's: %.3f)",
          qPrintable(model), loss16, loss32, same, a.size(), rouge_l, unrelated);
    QVERIFY2(rouge_l >= 0.5 && rouge_l > unrelated + 0.2, qPrintable(QString("ROUGE-L %1, unrelated %2").arg(rouge_l).arg(unrelated)));
}

// tests/engine/generation/warpers.json: transformers 4.28's _get_logits_warper applied to seeded random logits
// (make_warper_goldens.py). Each case's settings go through the settings table as generation_config.json
// keys; the filtered tokens must be HF's exactly and the kept scores HF's to fp32 rounding. A case with
// temperature 1.8 before top_p 0.8 keeps other tokens than top_p before temperature would, so the order
// is checked too.
void TestGeneration::warpers_match_huggingface() {
    const auto gold = load_json(std::string(SUMLAB_SOURCE_DIR) + "/tests/engine/generation/warpers.json");
    std::vector<float> flat;
    for (const auto& row : gold["logits"])
        for (const auto& v : row) flat.push_back(v.get<float>());
    const int64_t rows = static_cast<int64_t>(gold["logits"].size());
    const auto logits = torch::tensor(flat).reshape({rows, -1});
    QVERIFY(gold["cases"].size() >= 10);
    for (const auto& c : gold["cases"]) {
        nlohmann::json settings = c["settings"];
        settings["do_sample"] = true;
        GenerationConfig config;
        config.apply_json(settings, "warpers.json");
        auto scores = logits.clone();
        apply_warpers(scores, config);
        const QString what = QString::fromStdString(c["settings"].dump());
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t t = 0; t < logits.size(1); ++t) {
                const auto& want = c["warped"][static_cast<size_t>(r)][static_cast<size_t>(t)];
                const float got = scores[r][t].item<float>();
                if (want.is_null()) {
                    QVERIFY2(std::isinf(got) && got < 0, qPrintable(QString("%1 row %2: token %3 kept, HF filters it").arg(what).arg(r).arg(t)));
                } else {
                    const double w = want.get<double>();
                    QVERIFY2(std::isfinite(got), qPrintable(QString("%1 row %2: token %3 filtered, HF keeps it").arg(what).arg(r).arg(t)));
                    QVERIFY2(std::abs(got - w) <= 2e-7 * std::max(1.0, std::abs(w)), qPrintable(QString("%1 row %2 token %3: %4 vs %5").arg(what).arg(r).arg(t).arg(got).arg(w)));
                }
            }
    }
}

// With do_sample the summary is drawn, not chosen: top_k 1 leaves only the argmax, so it is greedy's
// summary; a seed gives the same samples every time and another seed others; num_return_sequences
// returns that many different samples per input, next to each other.
void TestGeneration::sampling_is_seeded() {
    const std::string dir = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(dir + "/model.safetensors");
    SUMLAB_REQUIRE_SENTENCEPIECE();
    LoadedSystem s = load_system({dir});
    const std::vector<std::string> sources = {"#Person1#: Where is the station?\n#Person2#: Two blocks north.",
                                              "#Person1#: I would like a table for two.\n#Person2#: This way, please."};
    GenerationConfig greedy = s.generation;
    greedy.max_new_tokens = 20;
    GenerationConfig sample = greedy;
    sample.do_sample = true;
    auto run = [&](const GenerationConfig& c) {
        std::vector<TokenIds> ids;
        for (const auto& g : generate_texts(*s.model.model, s.tokenizer, sources, c, 2, 512)) ids.push_back(g.token_ids);
        return ids;
    };
    GenerationConfig top1 = sample;
    top1.top_k = 1;
    top1.temperature = 1.7;
    QVERIFY2(run(top1) == run(greedy), "top_k 1 sampling is not greedy search");
    sample.top_k = 0;  // the whole distribution: a random tiny model's is flat, so draws differ
    sample.seed = 7;
    const auto first = run(sample);
    QVERIFY2(run(sample) == first, "the same seed drew different summaries");
    sample.seed = 8;
    QVERIFY2(run(sample) != first, "seeds 7 and 8 drew the same summaries");
    QVERIFY2(first != run(greedy), "sampling gave greedy's summaries");
    sample.num_return_sequences = 3;
    const auto three = run(sample);
    QCOMPARE(three.size(), size_t{6});
    for (size_t input = 0; input < 2; ++input) {
        const std::set<TokenIds> distinct(three.begin() + static_cast<long>(3 * input), three.begin() + static_cast<long>(3 * input + 3));
        QVERIFY2(distinct.size() == 3, qPrintable(QString("input %1: %2 distinct of 3 samples").arg(input).arg(distinct.size())));
    }
}

void TestGeneration::sampling_settings_that_cannot_work_are_refused() {
    const std::string dir = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(dir + ".goldens/meta.json");
    LoadedModel m = load_model(dir);
    const auto meta = load_json(dir + ".goldens/meta.json");
    Seq2SeqBatch batch;
    batch.input_ids = long_tensor(meta["input_ids"]);
    batch.attention_mask = long_tensor(meta["attention_mask"]);
    GenerationConfig several = m.generation;
    several.num_return_sequences = 2;  // greedy search has one answer
    QVERIFY_THROWS_EXCEPTION(ConfigError, generate(*m.model, batch, several));
}

QTEST_GUILESS_MAIN(TestGeneration)
#include "tst_generation.moc"
