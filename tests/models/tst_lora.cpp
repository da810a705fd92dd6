// models/lora.{h,cpp} as a unit, against PEFT 0.6.2's LoRA (../shared/golden/t5 lora.json and the
// PEFT-written <model>-lora-r4 adapters): which layers get an adapter, B's zero start, scaling
// lora_alpha / r, dropout in training only, merging, and PEFT's key names and counts. Training with
// adapters against PEFT stays in tests/engine/training/tst_trainer.cpp.
#include "tests/common/golden_torch.h"

#include "base/errors.h"
#include "models/checkpoint.h"
#include "models/lora.h"
#include "models/safetensors.h"
#include "models/t5/t5_dropout.h"

#include <QtTest>

#include <map>
#include <set>

using namespace sumlab;
using namespace sumlab::test;

namespace {

// fp32 unit roundoff.
constexpr double kUnitRoundoff = 1.0 / (1 << 24);

// A small random model; inner_dim (8) differs from d_model (12) so A's and B's shapes tell in from out.
T5Config tiny_config(const std::string& feed_forward_proj) {
    T5Config c;
    c.vocab_size = 40;
    c.d_model = 12;
    c.d_kv = 4;
    c.num_heads = 2;
    c.d_ff = 20;
    c.num_layers = 2;
    c.num_decoder_layers = 2;
    c.dropout_rate = 0.0;
    c.feed_forward_proj = feed_forward_proj;
    c.tie_word_embeddings = feed_forward_proj == "relu";
    return c;
}

// The HF paths of the linear layers named in `targets`, from T5's layout (modeling_t5.py) rather than
// from the model: encoder blocks are SelfAttention + DenseReluDense, decoder blocks add EncDecAttention.
std::set<std::string> hf_target_paths(const T5Config& c, const std::vector<std::string>& targets) {
    const std::set<std::string> wanted(targets.begin(), targets.end());
    const std::vector<std::string> attention{"q", "k", "v", "o"};
    const std::vector<std::string> ff = c.is_gated() ? std::vector<std::string>{"wi_0", "wi_1", "wo"} : std::vector<std::string>{"wi", "wo"};
    std::set<std::string> out;
    auto add = [&](const std::string& prefix, const std::vector<std::string>& names) {
        for (const auto& n : names)
            if (wanted.count(n)) out.insert(prefix + n);
    };
    for (int64_t i = 0; i < c.num_layers; ++i) {
        const std::string block = "encoder.block." + std::to_string(i);
        add(block + ".layer.0.SelfAttention.", attention);
        add(block + ".layer.1.DenseReluDense.", ff);
    }
    for (int64_t i = 0; i < c.num_decoder_layers; ++i) {
        const std::string block = "decoder.block." + std::to_string(i);
        add(block + ".layer.0.SelfAttention.", attention);
        add(block + ".layer.1.EncDecAttention.", attention);
        add(block + ".layer.2.DenseReluDense.", ff);
    }
    return out;
}

std::map<std::string, std::shared_ptr<T5LinearImpl>> linear_layers(T5ForConditionalGenerationImpl& model) {
    std::map<std::string, std::shared_ptr<T5LinearImpl>> out;
    for (const auto& item : model.named_modules("", /*include_self=*/false))
        if (auto lin = std::dynamic_pointer_cast<T5LinearImpl>(item.value())) out[item.key()] = lin;
    return out;
}

QStringList sorted(const std::set<std::string>& names) {
    QStringList out;
    for (const auto& n : names) out << QString::fromStdString(n);
    out.sort();
    return out;
}

// Every adapter's B drawn from N(0, 1): PEFT starts B at zero, which would make the adapter invisible.
void randomize_lora_b(T5ForConditionalGenerationImpl& model) {
    torch::NoGradGuard no_grad;
    for (auto& [path, lin] : linear_layers(model))
        if (lin->has_lora()) lin->lora_B.normal_();
}

// W x + s · B (A x) in float64 for x (..., in), and a bound on what fp32 may differ from it: with
// n = in_features, each of the three products and the sum rounds at most γ_(n+r+4) ≈ (n+r+4)·u of
// M = |W| |x| + s |B| (|A| |x|) (Higham, Accuracy and Stability, §3.1; an FMA only lowers it).
std::pair<torch::Tensor, torch::Tensor> hand_lora(const T5LinearImpl& layer, const torch::Tensor& x, double scaling) {
    const auto W = layer.weight.detach().to(torch::kFloat64), A = layer.lora_A.detach().to(torch::kFloat64),
               B = layer.lora_B.detach().to(torch::kFloat64), xd = x.detach().to(torch::kFloat64);
    const auto want = torch::matmul(xd, W.t()) + scaling * torch::matmul(torch::matmul(xd, A.t()), B.t());
    const auto magnitude = torch::matmul(xd.abs(), W.abs().t()) + scaling * torch::matmul(torch::matmul(xd.abs(), A.abs().t()), B.abs().t());
    const double gamma = static_cast<double>(W.size(1) + A.size(0) + 4) * kUnitRoundoff;
    return {want, gamma * magnitude};
}

// Empty when |got - want| <= bound everywhere, else the worst element.
QString exceeds(const torch::Tensor& got, const torch::Tensor& want, const torch::Tensor& bound, const char* what) {
    const auto err = (got.detach().to(torch::kFloat64) - want).abs();
    const auto excess = (err - bound).reshape({-1});
    if (excess.max().item<double>() <= 0) return {};
    const int64_t worst = excess.argmax().item<int64_t>();
    return QString("%1: element %2 is %3 off, bound %4")
        .arg(what)
        .arg(worst)
        .arg(repr(err.reshape({-1})[worst].item<double>()), repr(bound.reshape({-1})[worst].item<double>()));
}

#define VERIFY_EMPTY(message)                                  \
    do {                                                       \
        const QString message_ = (message);                    \
        QVERIFY2(message_.isEmpty(), qPrintable(message_));    \
    } while (0)

// PEFT's in-memory name (…q.lora_A.default.weight) as its adapter file writes it (…q.lora_A.weight).
std::string peft_file_name(std::string name) {
    const std::string adapter = ".default.weight";
    const auto pos = name.rfind(adapter);
    if (pos != std::string::npos && pos + adapter.size() == name.size()) name = name.substr(0, pos) + ".weight";
    return name;
}

}  // namespace

class TestLora : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void attaches_to_exactly_the_targets_data();
    void attaches_to_exactly_the_targets();
    void refuses_targets_it_cannot_place_data();
    void refuses_targets_it_cannot_place();
    void fresh_adapter_leaves_the_output_unchanged();
    void scaling_is_alpha_over_r_data();
    void scaling_is_alpha_over_r();
    void dropout_acts_only_in_training_data();
    void dropout_acts_only_in_training();
    void lora_linear_matches_autograd_reference_data();
    void lora_linear_matches_autograd_reference();
    void merge_folds_adapters_into_the_weights();
    void names_and_counts_match_peft_data();
    void names_and_counts_match_peft();
    void lora_counts_match_peft();
    void lora_adapter_loads_and_merges();

private:
    std::string m_model, m_gold;  // tiny-flan and its goldens
};

void TestLora::initTestCase() {
    torch::manual_seed(0);
    m_model = shared_path("golden/t5/tiny-flan");
    m_gold = m_model + ".goldens";
}

void TestLora::attaches_to_exactly_the_targets_data() {
    QTest::addColumn<QString>("feed_forward");
    QTest::addColumn<QStringList>("targets");
    QTest::newRow("default q,v (gated)") << "gated-gelu" << QStringList{};
    QTest::newRow("k,o (gated)") << "gated-gelu" << QStringList{"k", "o"};
    QTest::newRow("wi_0,wi_1,wo (gated)") << "gated-gelu" << QStringList{"wi_0", "wi_1", "wo"};
    QTest::newRow("wi,wo (relu)") << "relu" << QStringList{"wi", "wo"};
    QTest::newRow("q,k,v,o,wi (relu)") << "relu" << QStringList{"q", "k", "v", "o", "wi"};
}

void TestLora::attaches_to_exactly_the_targets() {
    QFETCH(QString, feed_forward);
    QFETCH(QStringList, targets);
    const T5Config c = tiny_config(feed_forward.toStdString());
    T5ForConditionalGeneration model(c);
    LoraConfig lora;
    lora.r = 3;
    if (!targets.isEmpty()) {
        lora.target_modules.clear();
        for (const QString& t : targets) lora.target_modules.push_back(t.toStdString());
    }
    QVERIFY(targets.isEmpty() == (lora.target_modules == std::vector<std::string>{"q", "v"}));  // PEFT's T5 default
    apply_lora(*model, lora);

    const std::set<std::string> want = hf_target_paths(c, lora.target_modules);
    QVERIFY(!want.empty());
    std::set<std::string> adapted, want_trainable, trainable, want_keys, keys;
    for (const auto& [path, lin] : linear_layers(*model)) {
        if (!lin->has_lora()) continue;
        adapted.insert(path);
        QCOMPARE(lin->lora_A.sizes().vec(), (std::vector<int64_t>{lora.r, lin->in_features()}));
        QCOMPARE(lin->lora_B.sizes().vec(), (std::vector<int64_t>{lin->out_features(), lora.r}));
    }
    QCOMPARE(sorted(adapted), sorted(want));
    // Only the adapters train; their names are the layer's path plus lora_A.weight / lora_B.weight.
    for (const auto& p : want) {
        want_trainable.insert(p + ".lora_A.weight");
        want_trainable.insert(p + ".lora_B.weight");
        want_keys.insert("base_model.model." + p + ".lora_A.weight");
        want_keys.insert("base_model.model." + p + ".lora_B.weight");
    }
    for (const auto& p : model->named_parameters())
        if (p.value().requires_grad()) trainable.insert(p.key());
    QCOMPARE(sorted(trainable), sorted(want_trainable));
    for (const auto& [name, t] : lora_state_dict(*model)) keys.insert(name);
    QCOMPARE(sorted(keys), sorted(want_keys));
}

void TestLora::refuses_targets_it_cannot_place_data() {
    QTest::addColumn<QString>("feed_forward");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("message");
    QTest::newRow("wi on a gated model") << "gated-gelu" << "wi" << "matches no layer";
    QTest::newRow("wi_0 on a relu model") << "relu" << "wi_0" << "matches no layer";
    QTest::newRow("not a T5 layer") << "relu" << "query" << "not a T5 linear layer";
}

void TestLora::refuses_targets_it_cannot_place() {
    QFETCH(QString, feed_forward);
    QFETCH(QString, target);
    QFETCH(QString, message);
    T5ForConditionalGeneration model(tiny_config(feed_forward.toStdString()));
    LoraConfig lora;
    lora.target_modules = {"q", target.toStdString()};
    try {
        apply_lora(*model, lora);
        QFAIL("apply_lora accepted the target");
    } catch (const ConfigError& e) {
        QVERIFY2(QString(e.what()).contains(message) && QString(e.what()).contains("target_modules"), e.what());
    }
}

// B starts at zero, so a fresh adapter adds exact zeros: the logits are bitwise those of the base model.
void TestLora::fresh_adapter_leaves_the_output_unchanged() {
    torch::manual_seed(1);
    const T5Config c = tiny_config("gated-gelu");
    T5ForConditionalGeneration model(c);
    model->eval();
    const auto ids = torch::randint(2, c.vocab_size, {2, 7}, torch::kLong);
    auto mask = torch::ones({2, 7}, torch::kLong);
    mask[1].slice(0, 5).fill_(0);
    auto labels = torch::randint(2, c.vocab_size, {2, 4}, torch::kLong);
    labels[1][3] = -100;
    torch::Tensor before_logits, before_loss;
    {
        torch::NoGradGuard no_grad;
        const auto out = model->forward(ids, mask, labels);
        before_logits = out.logits;
        before_loss = out.loss;
    }
    LoraConfig lora;
    lora.r = 4;
    lora.lora_alpha = 32;
    lora.target_modules = {"q", "k", "v", "o", "wi_0", "wi_1", "wo"};
    apply_lora(*model, lora);
    for (const auto& [path, lin] : linear_layers(*model)) {
        if (!lin->has_lora()) continue;
        QVERIFY2(torch::equal(lin->lora_B, torch::zeros_like(lin->lora_B)), path.c_str());
        // A: nn.Linear's kaiming_uniform(a=√5), i.e. U(-1/√in, 1/√in), and not zero.
        const double bound = 1.0 / std::sqrt(static_cast<double>(lin->in_features()));
        QVERIFY2(lin->lora_A.abs().max().item<double>() <= bound, path.c_str());
        QVERIFY2(lin->lora_A.abs().max().item<double>() > bound / 2, path.c_str());
    }
    torch::NoGradGuard no_grad;
    const auto after = model->forward(ids, mask, labels);
    QVERIFY2(torch::equal(after.logits, before_logits),
             qPrintable(QString("logits moved by %1").arg(repr((after.logits - before_logits).abs().max().item<double>()))));
    QCOMPARE(after.loss.item<double>(), before_loss.item<double>());
}

void TestLora::scaling_is_alpha_over_r_data() {
    QTest::addColumn<qint64>("r");
    QTest::addColumn<double>("alpha");
    QTest::newRow("r4 alpha8 (the goldens)") << qint64{4} << 8.0;
    QTest::newRow("r8 alpha32 (4)") << qint64{8} << 32.0;
    QTest::newRow("r16 alpha8 (0.5)") << qint64{16} << 8.0;
    QTest::newRow("r3 alpha5 (5/3)") << qint64{3} << 5.0;
}

// An adapted layer computes W x + (alpha/r)·B A x: fp32 against the float64 hand computation, on the
// plain path (no grad) and the fused autograd node (grad on).
void TestLora::scaling_is_alpha_over_r() {
    QFETCH(qint64, r);
    QFETCH(double, alpha);
    torch::manual_seed(2);
    T5ForConditionalGeneration model(tiny_config("gated-gelu"));
    LoraConfig lora;
    lora.r = r;
    lora.lora_alpha = alpha;
    apply_lora(*model, lora);
    randomize_lora_b(*model);
    const double scaling = alpha / static_cast<double>(r);
    for (const std::string path : {"encoder.block.0.layer.0.SelfAttention.q", "decoder.block.1.layer.1.EncDecAttention.v"}) {
        auto layer = linear_layers(*model).at(path);
        QCOMPARE(layer->lora_scaling(), scaling);
        const auto x = torch::randn({3, 5, layer->in_features()});
        const auto [want, bound] = hand_lora(*layer, x, scaling);
        for (bool training : {false, true}) {
            layer->train(training);
            {
                torch::NoGradGuard no_grad;
                VERIFY_EMPTY(exceeds(layer->forward(x), want, bound, (path + (training ? " train, no grad" : " eval, no grad")).c_str()));
            }
            VERIFY_EMPTY(exceeds(layer->forward(x.clone().requires_grad_()), want, bound, (path + (training ? " train, grad" : " eval, grad")).c_str()));
        }
    }
}

void TestLora::dropout_acts_only_in_training_data() {
    QTest::addColumn<double>("dropout");
    QTest::newRow("dropout 0.3") << 0.3;
    QTest::newRow("dropout 0") << 0.0;
}

// lora_dropout drops the adapter's input in train() only: eval() gives the hand computation whatever
// the RNG; train() with dropout > 0 draws a new mask per call, and with 0 gives eval()'s numbers exactly.
void TestLora::dropout_acts_only_in_training() {
    QFETCH(double, dropout);
    torch::manual_seed(3);
    T5ForConditionalGeneration model(tiny_config("relu"));
    LoraConfig lora;
    lora.r = 4;
    lora.lora_alpha = 8;
    lora.lora_dropout = dropout;
    apply_lora(*model, lora);
    randomize_lora_b(*model);
    auto layer = linear_layers(*model).at("encoder.block.1.layer.0.SelfAttention.v");
    const auto x = torch::randn({4, 6, layer->in_features()});
    const auto [want, bound] = hand_lora(*layer, x, 2.0);
    auto forward = [&](bool training, bool grad, int seed) {
        layer->train(training);
        torch::manual_seed(seed);
        if (grad) return layer->forward(x.clone().requires_grad_()).detach();
        torch::NoGradGuard no_grad;
        return layer->forward(x);
    };
    for (bool grad : {false, true}) {  // the plain path and the fused autograd node
        const char* mode = grad ? "grad" : "no grad";
        const auto eval1 = forward(false, grad, 11), eval2 = forward(false, grad, 12);
        QVERIFY2(torch::equal(eval1, eval2), mode);
        VERIFY_EMPTY(exceeds(eval1, want, bound, mode));
        const auto train1 = forward(true, grad, 11), train2 = forward(true, grad, 12);
        if (dropout > 0) {
            QVERIFY2(!torch::equal(train1, eval1), mode);
            QVERIFY2(!torch::equal(train1, train2), mode);
        } else {
            QVERIFY2(torch::equal(train1, eval1), mode);
            QVERIFY2(torch::equal(train2, eval1), mode);
        }
    }
    // Dropout acts on the adapter's input only, never on W x: with B = 0 train() gives eval()'s numbers.
    {
        torch::NoGradGuard no_grad;
        layer->lora_B.zero_();
    }
    for (bool grad : {false, true}) QVERIFY2(torch::equal(forward(true, grad, 13), forward(false, grad, 13)), grad ? "B = 0, grad" : "B = 0, no grad");
}

// T5Linear with an adapter runs as one fused autograd node (t5_linear.cpp); it must give the outputs
// and every gradient of PEFT's composition y = x Wᵀ + s · (dropout(x) Aᵀ) Bᵀ built from autograd ops,
// with the same dropout mask (same seed), for trainable and frozen base weights.
void TestLora::lora_linear_matches_autograd_reference_data() {
    QTest::addColumn<double>("dropout");
    QTest::addColumn<bool>("frozen_weight");
    QTest::newRow("dropout 0.2, frozen W") << 0.2 << true;
    QTest::newRow("dropout 0.2, trainable W") << 0.2 << false;
    QTest::newRow("no dropout, trainable W") << 0.0 << false;
}

void TestLora::lora_linear_matches_autograd_reference() {
    QFETCH(double, dropout);
    QFETCH(bool, frozen_weight);
    T5Linear layer(12, 10);
    layer->add_lora(4, 8.0, dropout);  // scaling 2
    {
        torch::NoGradGuard no_grad;
        layer->lora_B.normal_();  // PEFT starts B at zero, which would hide A's gradient
    }
    layer->weight.requires_grad_(!frozen_weight);
    layer->train();
    auto x = torch::randn({3, 5, 12}, torch::requires_grad());
    auto grad_out = torch::randn({3, 5, 10});

    auto run = [&](bool reference) {
        layer->zero_grad();
        x.mutable_grad() = torch::Tensor();
        torch::manual_seed(5);
        torch::Tensor y;
        if (!reference) {
            y = layer->forward(x);
        } else {
            auto h = x;
            if (dropout > 0) h = x * apply_dropout_mask(torch::ones_like(x), draw_dropout_seed(), dropout);
            y = torch::linear(x, layer->weight) + torch::linear(torch::linear(h, layer->lora_A), layer->lora_B) * 2.0;
        }
        (y * grad_out).sum().backward();
        std::vector<torch::Tensor> out{y.detach(), x.grad().clone(), layer->lora_A.grad().clone(), layer->lora_B.grad().clone()};
        if (!frozen_weight) out.push_back(layer->weight.grad().clone());
        return out;
    };
    auto fused = run(false);
    auto reference = run(true);
    const char* names[] = {"output", "input grad", "lora_A grad", "lora_B grad", "weight grad"};
    for (size_t i = 0; i < fused.size(); ++i)
        QVERIFY2(torch::allclose(fused[i], reference[i], 1e-5, 1e-6), names[i]);
    if (frozen_weight) QVERIFY(!layer->weight.grad().defined());
    // The mask really differs between calls: a second forward with another seed changes the output.
    if (dropout > 0) {
        torch::manual_seed(6);
        QVERIFY(!layer->forward(x).detach().equal(fused[0]));
    }
}

// merge_lora folds s·B·A into every adapted weight, leaves the others bitwise alone, and removes the
// adapters: the merged layer computes what the adapted one did, and the parameter names are the base model's.
void TestLora::merge_folds_adapters_into_the_weights() {
    torch::manual_seed(4);
    T5ForConditionalGeneration model(tiny_config("gated-gelu"));
    model->eval();
    std::set<std::string> base_names;
    for (const auto& p : model->named_parameters()) base_names.insert(p.key());
    LoraConfig lora;
    lora.r = 4;
    lora.lora_alpha = 12;  // scaling 3
    lora.target_modules = {"q", "v", "wo"};
    apply_lora(*model, lora);
    randomize_lora_b(*model);

    std::map<std::string, torch::Tensor> untouched, want, bound;
    const auto x = torch::randn({5, 12});
    std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> layer_out;  // adapted output and its bound vs exact
    for (const auto& [path, lin] : linear_layers(*model)) {
        if (!lin->has_lora()) {
            untouched[path] = lin->weight.detach().clone();
            continue;
        }
        const auto W = lin->weight.detach().to(torch::kFloat64), A = lin->lora_A.detach().to(torch::kFloat64),
                   B = lin->lora_B.detach().to(torch::kFloat64);
        want[path] = W + 3.0 * torch::matmul(B, A);
        // fl(W + s·fl(B A)): the r-term products, the scaling and the sum round at most γ_(r+2) of |W| + s|B||A|.
        bound[path] = static_cast<double>(lora.r + 2) * kUnitRoundoff * (W.abs() + 3.0 * torch::matmul(B.abs(), A.abs()));
        if (lin->in_features() == 12) {
            torch::NoGradGuard no_grad;
            layer_out[path] = {lin->forward(x), hand_lora(*lin, x, 3.0).second};
        }
    }
    QVERIFY(!layer_out.empty());
    merge_lora(*model);

    std::set<std::string> names;
    for (const auto& p : model->named_parameters()) names.insert(p.key());
    QCOMPARE(sorted(names), sorted(base_names));
    QVERIFY(lora_state_dict(*model).empty());
    for (const auto& [path, lin] : linear_layers(*model)) {
        QVERIFY2(!lin->has_lora(), path.c_str());
        if (untouched.count(path)) {
            QVERIFY2(torch::equal(lin->weight, untouched.at(path)), path.c_str());
            continue;
        }
        VERIFY_EMPTY(exceeds(lin->weight, want.at(path), bound.at(path), path.c_str()));
        auto it = layer_out.find(path);
        if (it == layer_out.end()) continue;
        // Merged and adapted outputs each lie within their bound of W x + s·B A x; the merged one's is
        // that of the fp32 product with W' plus |W' - exact W'| |x|, below the adapted one's bound: twice it covers both.
        torch::NoGradGuard no_grad;
        const auto merged = lin->forward(x);
        VERIFY_EMPTY(exceeds(merged, it->second.first.to(torch::kFloat64), 2.0 * it->second.second, (path + " output").c_str()));
    }
}

void TestLora::names_and_counts_match_peft_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("tiny-flan") << "tiny-flan";  // gated-gelu, untied
    QTest::newRow("tiny-t5v1") << "tiny-t5v1";  // relu, tied, 3 encoder / 1 decoder blocks
}

// PEFT 0.6.2's get_peft_model(r=4, alpha=8, q,v) on the same base model: the same adapter tensors under
// the same names and shapes (lora.json's in-memory names; the PEFT-written adapter file's keys), and
// the same trainable and total counts.
void TestLora::names_and_counts_match_peft() {
    QFETCH(QString, model);
    const std::string dir = shared_path("golden/t5/" + model.toStdString()), gold_dir = dir + ".goldens";
    SUMLAB_REQUIRE_SHARED(gold_dir + "/lora.json");
    SUMLAB_REQUIRE_SHARED(dir + "-lora-r4/adapter_model.safetensors");
    const auto gold = load_json(gold_dir + "/lora.json");
    LoadedModel m = load_model(dir);
    LoraConfig lora;
    lora.r = 4;
    lora.lora_alpha = 8;
    apply_lora(*m.model, lora);

    std::map<std::string, std::vector<int64_t>> got, want;
    for (const auto& [name, t] : lora_state_dict(*m.model)) got[name] = t.sizes().vec();
    for (const auto& [name, shape] : gold["lora_param_shapes"].items()) want[peft_file_name(name)] = shape.get<std::vector<int64_t>>();
    QCOMPARE(want.size(), gold["lora_param_names"].size());
    std::set<std::string> got_names, want_names, file_names, trainable;
    for (const auto& kv : got) got_names.insert(kv.first);
    for (const auto& kv : want) want_names.insert(kv.first);
    QCOMPARE(sorted(got_names), sorted(want_names));
    for (const auto& [name, shape] : want) QCOMPARE(got.at(name), shape);
    SafetensorsFile file(dir + "-lora-r4/adapter_model.safetensors");
    for (const auto& e : file.entries()) file_names.insert(e.name);
    QCOMPARE(sorted(got_names), sorted(file_names));
    // The trainable parameters are exactly the adapters (PEFT freezes the rest).
    for (const auto& p : m.model->named_parameters())
        if (p.value().requires_grad()) trainable.insert("base_model.model." + p.key());
    QCOMPARE(sorted(trainable), sorted(want_names));
    const TrainableReport report = trainable_parameters(*m.model);
    QCOMPARE(report.trainable, gold["trainable_params"].get<int64_t>());
    QCOMPARE(report.all, gold["all_params_incl_lora"].get<int64_t>());
    QCOMPARE(count_parameters(*m.model, /*trainable_only=*/true), gold["trainable_params"].get<int64_t>());
    QCOMPARE(report.peft_text(), gold["print_trainable_parameters"].get<std::string>());
}

// print_trainable_parameters for other ranks and FLAN-T5-small's real shape.
void TestLora::lora_counts_match_peft() {
    SUMLAB_REQUIRE_SHARED(m_gold + "/lora.json");
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/real_config_counts.json"));
    auto gold = load_json(m_gold + "/lora.json");
    LoadedModel m = load_model(m_model);
    LoraConfig c;
    c.r = 4;
    c.lora_alpha = 8;
    apply_lora(*m.model, c);
    QCOMPARE(trainable_parameters(*m.model).peft_text(), gold["print_trainable_parameters"].get<std::string>());
    LoadedModel m8 = load_model(m_model);
    const auto& c8 = gold["count_r8_alpha16_dropout0.05"];
    LoraConfig r8;
    r8.r = 8;
    r8.lora_alpha = 16;
    r8.lora_dropout = 0.05;
    apply_lora(*m8.model, r8);
    QCOMPARE(trainable_parameters(*m8.model).peft_text(), c8["print_trainable_parameters"].get<std::string>());
    // FLAN-T5-small's real shape (random weights): the published PEFT numbers.
    auto real = load_json(shared_path("golden/t5/real_config_counts.json"))["google/flan-t5-small"];
    nlohmann::json cfg = real["config"];
    cfg["vocab_size"] = 32128;
    cfg["feed_forward_proj"] = "gated-gelu";
    cfg["tie_word_embeddings"] = false;
    T5ForConditionalGeneration small(T5Config::from_json(cfg, "flan-t5-small"));
    QCOMPARE(count_parameters(*small), real["total_params"].get<int64_t>());
    LoraConfig lab;
    lab.r = 32;
    lab.lora_alpha = 32;
    apply_lora(*small, lab);
    QCOMPARE(trainable_parameters(*small).peft_text(), real["lora_r32_alpha32_qv"]["print_trainable_parameters"].get<std::string>());
}

// The PEFT-written adapter against PEFT's forward, before and after merge_and_unload.
void TestLora::lora_adapter_loads_and_merges() {
    SUMLAB_REQUIRE_SHARED(m_gold + "/lora.json");
    SUMLAB_REQUIRE_SHARED(m_model + "-lora-r4/adapter_model.safetensors");
    SafetensorsFile tensors(m_gold + "/tensors.safetensors");
    auto gold = load_json(m_gold + "/lora.json");
    auto meta = load_json(m_gold + "/meta.json");
    auto fwd = load_json(m_gold + "/forward.json");
    LoadedModel m = load_model(m_model);
    load_adapter(*m.model, m_model + "-lora-r4");
    m.model->eval();
    torch::NoGradGuard no_grad;
    auto ids = long_tensor(meta["input_ids"]), mask = long_tensor(meta["attention_mask"]), labels = long_tensor(meta["labels"]);
    auto out = m.model->forward(ids, mask, labels);
    QVERIFY(std::abs(out.loss.item<double>() - gold["forward_eval_with_adapter"]["loss"].get<double>()) < 1e-5);
    int64_t n_tgt = fwd["rows"][0]["n_tgt"].get<int64_t>();
    QVERIFY((out.logits[0].slice(0, 0, n_tgt) - tensors.load("lora_eval.logits_row0")).abs().max().item<double>() <= 1e-4);
    merge_lora(*m.model);
    auto merged = m.model->forward(ids, mask, labels);
    QVERIFY((merged.logits - out.logits).abs().max().item<double>() <= 1e-4);  // the README's merged vs unmerged tolerance
    QVERIFY(std::abs(merged.loss.item<double>() - gold["forward_eval_merged"]["loss"].get<double>()) < 1e-5);
    compare_checks(m.model->named_parameters()["encoder.block.0.layer.0.SelfAttention.q.weight"], gold["merged_q0_weight_checks"], "merged q0");
    std::set<std::string> merged_names, want_merged;
    for (const auto& p : m.model->named_parameters()) merged_names.insert(p.key());
    for (const auto& n : gold["merged_param_names"]) want_merged.insert(n.get<std::string>());
    QCOMPARE(sorted(merged_names), sorted(want_merged));
    // An adapter made for another base model is refused, naming the file.
    LoadedModel other = load_model(shared_path("golden/t5/tiny-t5v1"));
    try {
        load_adapter(*other.model, m_model + "-lora-r4");
        QFAIL("a tiny-flan adapter loaded into tiny-t5v1");
    } catch (const FileError& e) {
        QVERIFY2(QString(e.what()).contains("adapter_model.safetensors"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestLora)
#include "tst_lora.moc"
