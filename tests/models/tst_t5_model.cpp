// Numerical parity of the T5 forward pass with Hugging Face (../shared/golden/t5), for every model
// there, plus self-consistency checks on a shape no golden covers.
#include "tests/common/golden_torch.h"

#include "engine/text/batcher.h"
#include "models/checkpoint.h"
#include "models/safetensors.h"
#include "models/t5/t5_attention.h"
#include "models/t5/t5_dropout.h"

#include <QtTest>

using namespace sumlab;
using namespace sumlab::test;

class TestT5Model : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { torch::manual_seed(0); }

    void forward_matches_huggingface_data();
    void forward_matches_huggingface();
    void unpadded_row_matches();
    void pytorch_bin_matches_safetensors();
    void cached_decoding_matches_teacher_forcing_data();
    void cached_decoding_matches_teacher_forcing();
    void loss_ignores_padding();
    void dropout_keeps_expected_share_and_scales();
    void dropout_backward_uses_the_forward_mask();
    void dropout_follows_the_torch_generator();
    void training_attention_matches_autograd_reference();
};

void TestT5Model::forward_matches_huggingface_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("tiny-flan") << "tiny-flan";
    QTest::newRow("tiny-t5v1") << "tiny-t5v1";
}

void TestT5Model::forward_matches_huggingface() {
    QFETCH(QString, model);
    std::string dir = shared_path("golden/t5/" + model.toStdString());
    std::string gold = dir + ".goldens";
    SUMLAB_REQUIRE_SHARED(gold + "/forward.json");
    auto meta = load_json(gold + "/meta.json");
    auto fwd = load_json(gold + "/forward.json");
    LoadedModel m = load_model(dir);
    QCOMPARE(count_parameters(*m.model), meta["n_params"].get<int64_t>());

    auto input_ids = long_tensor(meta["input_ids"]);
    auto mask = long_tensor(meta["attention_mask"]);
    auto labels = long_tensor(meta["labels"]);
    // decoder_input_ids = labels shifted right, as HF builds them.
    QCOMPARE(m.model->shift_right(labels).equal(long_tensor(fwd["decoder_input_ids"])), true);

    torch::NoGradGuard no_grad;
    auto out = m.model->forward(input_ids, mask, labels);
    QVERIFY2(std::abs(out.loss.item<double>() - fwd["loss"].get<double>()) < 1e-5,
             qPrintable(QString("loss %1 vs %2").arg(out.loss.item<double>(), 0, 'g', 10).arg(fwd["loss"].get<double>(), 0, 'g', 10)));
    compare_checks(valid_rows(out.encoder_last_hidden_state, mask), fwd["encoder_last_hidden_state_valid"], "encoder states");
    compare_checks(valid_rows(out.logits, labels != -100), fwd["logits_valid"], "logits");

    // Elementwise: rows 0 and last against the stored tensors.
    SafetensorsFile tensors(gold + "/tensors.safetensors");
    const int64_t last = input_ids.size(0) - 1;
    for (auto [row, tag] : {std::pair<int64_t, std::string>{0, "row0"}, {last, "row_last"}}) {
        int64_t n_src = fwd["rows"][row]["n_src"].get<int64_t>();
        int64_t n_tgt = fwd["rows"][row]["n_tgt"].get<int64_t>();
        auto enc = out.encoder_last_hidden_state[row].slice(0, 0, n_src);
        auto logits = out.logits[row].slice(0, 0, n_tgt);
        double enc_diff = (enc - tensors.load("fwd.enc_" + tag)).abs().max().item<double>();
        double logit_diff = (logits - tensors.load("fwd.logits_" + tag)).abs().max().item<double>();
        QVERIFY2(enc_diff <= 1e-4, qPrintable(QString("%1 encoder max diff %2").arg(tag.c_str()).arg(enc_diff)));
        QVERIFY2(logit_diff <= 1e-4, qPrintable(QString("%1 logits max diff %2").arg(tag.c_str()).arg(logit_diff)));
    }
    // Per row: loss and argmax at every valid target position.
    for (int64_t b = 0; b <= last; ++b) {
        const auto& r = fwd["rows"][b];
        int64_t n_tgt = r["n_tgt"].get<int64_t>();
        auto argmax = out.logits[b].slice(0, 0, n_tgt).argmax(-1);
        auto want = torch::tensor(r["argmax"].get<std::vector<int64_t>>(), torch::kLong);
        if (r["top1_minus_top2_min"].get<double>() > 1e-4) QVERIFY2(argmax.equal(want), qPrintable(QString("argmax row %1").arg(b)));
        auto row_loss = torch::nn::functional::cross_entropy(out.logits[b].slice(0, 0, n_tgt), labels[b].slice(0, 0, n_tgt));
        QVERIFY(std::abs(row_loss.item<double>() - r["row_loss_mean"].get<double>()) < 1e-5);
    }
}

void TestT5Model::unpadded_row_matches() {
    std::string dir = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(dir + ".goldens/forward.json");
    auto meta = load_json(dir + ".goldens/meta.json");
    auto fwd = load_json(dir + ".goldens/forward.json");
    LoadedModel m = load_model(dir);
    int64_t n_src = fwd["rows"][0]["n_src"].get<int64_t>(), n_tgt = fwd["rows"][0]["n_tgt"].get<int64_t>();
    auto ids = long_tensor(meta["input_ids"]).slice(0, 0, 1).slice(1, 0, n_src);
    auto labels = long_tensor(meta["labels"]).slice(0, 0, 1).slice(1, 0, n_tgt);
    torch::NoGradGuard no_grad;
    auto out = m.model->forward(ids, torch::ones_like(ids), labels);
    QVERIFY(std::abs(out.loss.item<double>() - fwd["row0_unpadded"]["loss"].get<double>()) < 1e-5);
    compare_checks(out.logits, fwd["row0_unpadded"]["logits"], "unpadded logits");
}

void TestT5Model::pytorch_bin_matches_safetensors() {
    std::string dir = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(dir + "/pytorch_model.bin");
    // A folder with only the .bin (and the config) loads through the torch.save reader.
    QTemporaryDir tmp;
    for (const char* f : {"config.json", "pytorch_model.bin", "generation_config.json"})
        QVERIFY(QFile::copy(QString::fromStdString(dir + "/" + f), tmp.filePath(f)));
    LoadedModel from_bin = load_model(tmp.path().toStdString());
    LoadedModel from_st = load_model(dir);
    QCOMPARE(from_bin.format, std::string("pytorch"));
    QCOMPARE(from_st.format, std::string("safetensors"));
    auto a = from_bin.model->named_parameters();
    auto b = from_st.model->named_parameters();
    QCOMPARE(a.size(), b.size());
    for (const auto& p : a) QVERIFY2(p.value().equal(b[p.key()]), p.key().c_str());
}

void TestT5Model::cached_decoding_matches_teacher_forcing_data() {
    QTest::addColumn<QString>("ff");
    QTest::addColumn<bool>("tied");
    QTest::newRow("gated-silu/untied/5x12") << "gated-silu" << false;
    QTest::newRow("relu/tied/5x12") << "relu" << true;
}

// A shape no golden covers (inner dim 60 != d_model 80, 3 encoder / 2 decoder blocks): decoding one
// token at a time with the key/value cache must give the logits of the teacher-forced pass.
void TestT5Model::cached_decoding_matches_teacher_forcing() {
    QFETCH(QString, ff);
    QFETCH(bool, tied);
    nlohmann::json j = {{"vocab_size", 300}, {"d_model", 80}, {"d_kv", 12}, {"d_ff", 96}, {"num_layers", 3},
                        {"num_decoder_layers", 2}, {"num_heads", 5}, {"feed_forward_proj", ff.toStdString()},
                        {"tie_word_embeddings", tied}, {"relative_attention_num_buckets", 16},
                        {"relative_attention_max_distance", 20}};
    T5Config config = T5Config::from_json(j, "test");
    T5ForConditionalGeneration model(config);
    model->eval();
    torch::NoGradGuard no_grad;
    auto ids = torch::randint(2, 300, {3, 40}, torch::kLong);
    auto mask = torch::ones_like(ids);
    mask[1].slice(0, 25).fill_(0);
    mask[2].slice(0, 7).fill_(0);
    auto labels = torch::randint(2, 300, {3, 30}, torch::kLong);
    auto full = model->forward(ids, mask, labels);
    auto dec_in = model->shift_right(labels);
    auto state = model->start_decoding(mask, 16);  // shorter than the target: the bias extends itself
    std::vector<torch::Tensor> steps;
    for (int64_t t = 0; t < labels.size(1); ++t)
        steps.push_back(model->decode_step(dec_in.slice(1, t, t + 1), full.encoder_last_hidden_state, state));
    auto stepped = torch::cat(steps, 1);
    double diff = (stepped - full.logits).abs().max().item<double>();
    QVERIFY2(diff < 1e-4, qPrintable(QString("max diff %1").arg(diff)));
    // Padding in the source must not change a row's result.
    auto alone = model->forward(ids.slice(0, 2, 3).slice(1, 0, 7), torch::ones({1, 7}, torch::kLong), labels.slice(0, 2, 3));
    QVERIFY((alone.logits - full.logits.slice(0, 2, 3)).abs().max().item<double>() < 1e-4);
}

void TestT5Model::loss_ignores_padding() {
    T5Config config = T5Config::from_json({{"vocab_size", 50}, {"d_model", 16}, {"d_kv", 4}, {"d_ff", 32}, {"num_layers", 1},
                                           {"num_heads", 4}, {"feed_forward_proj", "gated-gelu"}, {"tie_word_embeddings", false}},
                                          "test");
    T5ForConditionalGeneration model(config);
    model->eval();
    torch::NoGradGuard no_grad;
    auto batch = make_batch({{5, 6, 7, 1}, {8, 1}}, {{9, 10, 1}, {11, 12, 13, 14, 1}}, 0);
    auto out = model->forward(batch.input_ids, batch.attention_mask, batch.labels);
    QCOMPARE(out.label_tokens, int64_t{8});
    // Mean over the 8 label tokens of the batch, not the mean of the two row means.
    auto a = model->forward(batch.input_ids.slice(0, 0, 1).slice(1, 0, 4), torch::ones({1, 4}, torch::kLong), batch.labels.slice(0, 0, 1).slice(1, 0, 3));
    auto b = model->forward(batch.input_ids.slice(0, 1, 2).slice(1, 0, 2), torch::ones({1, 2}, torch::kLong), batch.labels.slice(0, 1, 2));
    double want = (a.loss_sum.item<double>() + b.loss_sum.item<double>()) / 8.0;
    QVERIFY(std::abs(out.loss.item<double>() - want) < 1e-5);
}

void TestT5Model::dropout_keeps_expected_share_and_scales() {
    auto x = torch::ones({4, 6, 128, 129});  // odd sizes and more than one parallel chunk
    for (double p : {0.05, 0.1, 0.5}) {
        auto y = sumlab::t5_dropout(x, p, true);
        const double n = static_cast<double>(x.numel());
        const double kept = y.ne(0).sum().item<double>() / n;
        // Binomial standard error is below 0.0015 here; 5 sigma keeps the test deterministic in practice.
        QVERIFY2(std::abs(kept - (1.0 - p)) < 0.0075, qPrintable(QString("p=%1 kept %2").arg(p).arg(kept)));
        auto nonzero = y.masked_select(y.ne(0));
        QVERIFY(torch::allclose(nonzero, torch::full_like(nonzero, 1.0 / (1.0 - p))));
        QCOMPARE(y.sizes(), x.sizes());
    }
    QVERIFY(sumlab::t5_dropout(x, 0.1, false).equal(x));
    QVERIFY(sumlab::t5_dropout(x, 0.0, true).equal(x));
    // Neighbouring elements must not be correlated (their hash inputs differ in one bit).
    auto y = sumlab::t5_dropout(torch::ones({1 << 20}), 0.5, true).ne(0).to(torch::kFloat64);
    auto pairs = y.view({-1, 2});
    const double both = (pairs.select(1, 0) * pairs.select(1, 1)).mean().item<double>();
    QVERIFY2(std::abs(both - 0.25) < 0.005, qPrintable(QString::number(both)));
}

void TestT5Model::dropout_backward_uses_the_forward_mask() {
    auto x = (torch::rand({3, 257}) + 0.5).requires_grad_(true);
    auto y = sumlab::t5_dropout(x, 0.3, true);
    auto g = torch::randn({3, 257});
    (y * g).sum().backward();
    // d(sum(y*g))/dx = g * mask / (1 - p), and mask / (1 - p) = y / x.
    QVERIFY(torch::allclose(x.grad(), g * (y.detach() / x.detach()), 1e-5, 1e-6));
    // A non-contiguous input gives the same values as its contiguous copy under the same seed.
    auto base = torch::rand({64, 48});
    torch::manual_seed(7);
    auto a = sumlab::t5_dropout(base.t(), 0.2, true);
    torch::manual_seed(7);
    auto b = sumlab::t5_dropout(base.t().contiguous(), 0.2, true);
    QVERIFY(a.equal(b));
}

void TestT5Model::dropout_follows_the_torch_generator() {
    auto x = torch::ones({1000});
    torch::manual_seed(123);
    auto a = sumlab::t5_dropout(x, 0.1, true);
    auto a2 = sumlab::t5_dropout(x, 0.1, true);
    torch::manual_seed(123);
    auto b = sumlab::t5_dropout(x, 0.1, true);
    QVERIFY(a.equal(b));        // reproducible from the seed, which checkpoints save
    QVERIFY(!a.equal(a2));      // and a fresh mask on every call
}

// With frozen projections (LoRA) T5Attention trains through one fused node that keeps the attention
// map once and regenerates its dropout mask in backward; it must give the outputs and gradients of
// the same operations composed with autograd, dropout included.
void TestT5Model::training_attention_matches_autograd_reference() {
    using namespace sumlab;
    T5Config config;
    config.d_model = 32;
    config.d_kv = 8;
    config.num_heads = 4;
    config.dropout_rate = 0.2;
    T5Attention attention(config, /*is_decoder=*/false, /*has_relative_attention_bias=*/true);
    // The fused path serves frozen projections (LoRA); the adapters and the bias table learn.
    for (auto* layer : {&attention->q, &attention->k, &attention->v, &attention->o}) (*layer)->weight.requires_grad_(false);
    attention->q->add_lora(4, 8.0, 0.0);
    attention->v->add_lora(4, 8.0, 0.0);
    {
        torch::NoGradGuard no_grad;
        attention->q->lora_B.normal_();  // PEFT starts B at zero, which would hide A's gradient
        attention->v->lora_B.normal_();
    }
    attention->train();
    auto hidden = torch::randn({3, 7, config.d_model}, torch::requires_grad());
    auto bias_table = attention->relative_attention_bias->weight;
    auto mask = torch::zeros({3, 1, 1, 7});
    mask.select(3, 6).select(0, 1).fill_(-1e9);  // one padded key
    auto grad_out = torch::randn({3, 7, config.d_model});

    auto run = [&](bool reference) {
        attention->zero_grad();
        hidden.mutable_grad() = torch::Tensor();
        torch::manual_seed(11);
        auto bias = attention->compute_bias(7, 7) + mask;
        torch::Tensor out;
        if (!reference) {
            out = attention->forward(hidden, {}, bias);
        } else {
            auto heads = [&](const torch::Tensor& x) { return x.view({3, 7, 4, 8}).transpose(1, 2); };
            auto q = heads(attention->q->forward(hidden)), k = heads(attention->k->forward(hidden)),
                 v = heads(attention->v->forward(hidden));
            auto probs = torch::softmax(torch::matmul(q, k.transpose(-1, -2)) + bias, -1);
            auto seed = draw_dropout_seed();
            auto keep = apply_dropout_mask(torch::ones_like(probs), seed, config.dropout_rate);
            out = attention->o->forward(torch::matmul(probs * keep, v).transpose(1, 2).reshape({3, 7, 32}));
        }
        (out * grad_out).sum().backward();
        return std::vector<torch::Tensor>{out.detach(), hidden.grad().clone(), bias_table.grad().clone(),
                                          attention->q->lora_A.grad().clone(), attention->v->lora_B.grad().clone()};
    };
    auto fused = run(false);
    auto reference = run(true);
    const char* names[] = {"output", "input grad", "position bias grad", "q lora_A grad", "v lora_B grad"};
    for (size_t i = 0; i < fused.size(); ++i)
        QVERIFY2(torch::allclose(fused[i], reference[i], 1e-5, 1e-6), names[i]);
    QVERIFY(fused[0].eq(0).sum().item<int64_t>() == 0);  // dropout acts on the maps, not the output
}

QTEST_GUILESS_MAIN(TestT5Model)
#include "tst_t5_model.moc"
