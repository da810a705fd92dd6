// Gradient checkpointing (models/t5/checkpointing.h) on the golden models (../shared/golden/t5): one training
// forward and backward in train mode with dropout 0.1, with and without checkpointing, full fine-tuning and
// LoRA (with lora_dropout), fp32 and under bf16 autocast. The loss, the CPU generator's state after the step
// and the gradients are compared bit for bit: each block's recompute is the same sequence of operations on the
// same values (same grad mode, autocast state and RNG state, hence the same dropout seeds and bf16 casts).
//
// One sum is grouped differently, so one set of gradients cannot be compared bitwise: the encoder output's
// gradient is the sum of 2 x decoder-layers terms (each decoder block's cross-attention k and v). Autograd adds
// them one by one in arrival order, ((k1 + v1) + k0) + v0, while a checkpointed block returns its own k + v, so
// the sum becomes (k1 + v1) + (k0 + v0): the same terms, each association within (n - 1) u sum|terms| of the
// exact sum (u = 2^-24), and no arithmetic bound carries that through the encoder's backward. So where the
// decoder has more than one block the encoder's gradients are checked against an uncheckpointed encoder backward
// driven by the checkpointed run's encoder-output gradient, again bitwise (the decoder's, lm_head's and the
// loss stay compared with the uncheckpointed run; `shared`, the sum of both embeddings' gradients, is compared
// where the decoder has one block). With one decoder block (tiny-t5v1) everything is compared with the
// uncheckpointed run directly.
#include "tests/common/golden_torch.h"

#include "models/checkpoint.h"
#include "models/lora.h"
#include "models/t5/autocast.h"
#include "models/t5/checkpointing.h"

#include <torch/csrc/autograd/function.h>

#include <QtTest>

#include <map>
#include <set>

using namespace sumlab;
using namespace sumlab::test;

namespace {

// Nodes of the graph behind `t` whose name contains `needle`.
int count_nodes(const torch::Tensor& t, const std::string& needle) {
    std::set<torch::autograd::Node*> seen;
    std::vector<torch::autograd::Node*> todo;
    if (t.grad_fn()) todo.push_back(t.grad_fn().get());
    int n = 0;
    while (!todo.empty()) {
        auto* node = todo.back();
        todo.pop_back();
        if (!seen.insert(node).second) continue;
        if (node->name().find(needle) != std::string::npos) ++n;
        for (const auto& edge : node->next_edges())
            if (edge.function) todo.push_back(edge.function.get());
    }
    return n;
}

struct StepResult {
    torch::Tensor loss;
    torch::Tensor encoder_output_grad;
    std::map<std::string, torch::Tensor> grads;
    torch::Tensor rng_after;
    int checkpoints = 0;
};

struct GoldenBatch {
    torch::Tensor input_ids, attention_mask, labels;
};

// One training step's forward (under autocast when bf16, as the trainer runs it) and backward.
StepResult train_step(T5ForConditionalGenerationImpl& model, const GoldenBatch& b, bool checkpointing, bool bf16) {
    model.set_gradient_checkpointing(checkpointing);
    model.train();
    for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
    torch::manual_seed(1234);
    StepResult r;
    torch::Tensor encoder_output;
    {
        Autocast amp(torch::kCPU, bf16);
        auto out = model.forward(b.input_ids, b.attention_mask, b.labels);
        r.loss = out.loss;
        encoder_output = out.encoder_last_hidden_state;
        encoder_output.retain_grad();
    }
    r.checkpoints = count_nodes(r.loss, "CheckpointFunction");
    r.loss.backward();
    r.loss = r.loss.detach();
    if (encoder_output.grad().defined()) r.encoder_output_grad = encoder_output.grad().clone();
    for (const auto& p : model.named_parameters())
        if (p.value().requires_grad()) r.grads[p.key()] = p.value().grad().defined() ? p.value().grad().clone() : torch::Tensor();
    r.rng_after = at::detail::getDefaultCPUGenerator().get_state();
    return r;
}

// The encoder alone, uncheckpointed, backpropagating `upstream` from its output: the gradients of "encoder."
// parameters. The encoder runs first in a step, so from the same seed it draws the same dropout seeds.
std::map<std::string, torch::Tensor> encoder_grads(T5ForConditionalGenerationImpl& model, const GoldenBatch& b,
                                                   const torch::Tensor& upstream, bool bf16) {
    model.set_gradient_checkpointing(false);
    model.train();
    for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
    torch::manual_seed(1234);
    torch::Tensor encoder_output;
    {
        Autocast amp(torch::kCPU, bf16);
        encoder_output = model.encode(b.input_ids, b.attention_mask);
    }
    encoder_output.backward(upstream);
    std::map<std::string, torch::Tensor> grads;
    for (const auto& p : model.named_parameters())
        if (p.value().requires_grad() && p.key().rfind("encoder.", 0) == 0) grads[p.key()] = p.value().grad().clone();
    return grads;
}

QString difference(const std::string& name, const torch::Tensor& want, const torch::Tensor& got) {
    const double diff = (want.to(torch::kFloat64) - got.to(torch::kFloat64)).abs().max().item<double>();
    return QString("%1: gradients differ, max abs %2 (norm %3)")
        .arg(QString::fromStdString(name))
        .arg(diff, 0, 'g', 6)
        .arg(want.norm().item<double>(), 0, 'g', 6);
}

}  // namespace

class TestGradientCheckpointing : public QObject {
    Q_OBJECT

private slots:
    void same_loss_and_gradients_data();
    void same_loss_and_gradients();
    void evaluation_is_not_checkpointed();
};

void TestGradientCheckpointing::same_loss_and_gradients_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<bool>("lora");
    QTest::addColumn<bool>("bf16");
    for (const char* m : {"tiny-flan", "tiny-t5v1"})
        for (bool lora : {false, true})
            for (bool bf16 : {false, true})
                QTest::addRow("%s/%s/%s", m, lora ? "lora" : "full", bf16 ? "bf16" : "fp32") << QString(m) << lora << bf16;
}

void TestGradientCheckpointing::same_loss_and_gradients() {
    QFETCH(QString, model);
    QFETCH(bool, lora);
    QFETCH(bool, bf16);
    const std::string dir = shared_path("golden/t5/" + model.toStdString());
    SUMLAB_REQUIRE_SHARED(dir + ".goldens/meta.json");
    const auto meta = load_json(dir + ".goldens/meta.json");
    const GoldenBatch batch{long_tensor(meta["input_ids"]), long_tensor(meta["attention_mask"]), long_tensor(meta["labels"])};
    LoadedModel m = load_model(dir, torch::kCPU, /*dropout_rate=*/0.1);  // dropout on: the RNG must be replayed
    if (lora) {
        LoraConfig config;
        config.r = 4;
        config.lora_alpha = 8;
        config.lora_dropout = 0.05;
        config.target_modules = {"q", "v", "wo"};
        apply_lora(*m.model, config);
        // PEFT starts B at zero, which would hide A's gradient and make the adapter a no-op.
        torch::NoGradGuard no_grad;
        auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
        for (auto& p : m.model->named_parameters())
            if (p.key().find("lora_B") != std::string::npos) p.value().normal_(0.0, 0.1, gen);
    }
    const int64_t blocks = m.config.num_layers + m.config.num_decoder_layers;

    StepResult plain, ckpt;
    try {
        plain = train_step(*m.model, batch, false, bf16);
        ckpt = train_step(*m.model, batch, true, bf16);
    } catch (const std::exception& e) {
        QFAIL(e.what());
    }
    QCOMPARE(plain.checkpoints, 0);
    QCOMPARE(ckpt.checkpoints, static_cast<int>(blocks));  // every block was checkpointed

    QVERIFY2(torch::equal(plain.loss, ckpt.loss),
             qPrintable(QString("loss %1 vs %2").arg(plain.loss.item<double>(), 0, 'g', 12).arg(ckpt.loss.item<double>(), 0, 'g', 12)));
    QCOMPARE(ckpt.grads.size(), plain.grads.size());
    QVERIFY2(ckpt.encoder_output_grad.defined(), "no gradient reached the encoder output with checkpointing");
    const bool regrouped = m.config.num_decoder_layers > 1;  // see the top of the file
    const auto encoder_reference = regrouped ? encoder_grads(*m.model, batch, ckpt.encoder_output_grad, bf16)
                                             : std::map<std::string, torch::Tensor>{};
    if (!regrouped) QVERIFY2(torch::equal(plain.encoder_output_grad, ckpt.encoder_output_grad), "encoder output's gradient");
    int nonzero = 0, compared = 0, skipped = 0;
    for (const auto& [name, g] : plain.grads) {
        const torch::Tensor& h = ckpt.grads.at(name);
        QVERIFY2(g.defined(), qPrintable(QString::fromStdString(name + ": no gradient without checkpointing")));
        QVERIFY2(h.defined(), qPrintable(QString::fromStdString(name + ": no gradient with checkpointing")));
        nonzero += g.abs().sum().item<double>() > 0;
        if (regrouped && name == "shared.weight") {
            ++skipped;
            continue;
        }
        const bool encoder = name.rfind("encoder.", 0) == 0;
        const torch::Tensor& want = regrouped && encoder ? encoder_reference.at(name) : g;
        QVERIFY2(torch::equal(want, h), qPrintable(difference(name, want, h)));
        ++compared;
    }
    QCOMPARE(compared + skipped, static_cast<int>(plain.grads.size()));
    QVERIFY(skipped <= 1);
    QVERIFY(nonzero > 0);
    // The recompute's draws are undone (fork_rng): the next step starts from the same generator state.
    QVERIFY2(torch::equal(plain.rng_after, ckpt.rng_after), "the CPU generator's state after the step differs");
}

void TestGradientCheckpointing::evaluation_is_not_checkpointed() {
    const std::string dir = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(dir + ".goldens/meta.json");
    const auto meta = load_json(dir + ".goldens/meta.json");
    LoadedModel m = load_model(dir);
    m.model->set_gradient_checkpointing(true);
    auto ids = long_tensor(meta["input_ids"]), mask = long_tensor(meta["attention_mask"]), labels = long_tensor(meta["labels"]);
    m.model->eval();  // HF: only `self.gradient_checkpointing and self.training`
    QCOMPARE(count_nodes(m.model->forward(ids, mask, labels).loss, "CheckpointFunction"), 0);
    m.model->train();
    torch::NoGradGuard no_grad;  // nothing to recompute for
    QVERIFY(!m.model->forward(ids, mask, labels).loss.requires_grad());
}

QTEST_GUILESS_MAIN(TestGradientCheckpointing)
#include "tst_gradient_checkpointing.moc"
