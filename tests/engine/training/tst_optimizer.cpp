// AdamW and the learning-rate schedules (engine/training/optimizer.h) against hand-computed values:
// torch 1.13's AdamW update written out in double precision, HF's get_linear_schedule_with_warmup /
// get_cosine_schedule_with_warmup / get_constant_schedule lambdas at known steps, clip_grad_norm_.
#include "engine/training/optimizer.h"
#include "base/errors.h"

#include <QtTest>

#include <map>

#include <cmath>

using namespace sumlab;

class TestOptimizer : public QObject {
    Q_OBJECT

private slots:
    void adamw_matches_a_hand_computed_step();
    void adafactor_matches_transformers_data();
    void adafactor_matches_transformers();
    void adafactor_state_round_trips_and_refuses_adamw_state();
    void no_decay_for_biases_and_layer_norms();
    void state_round_trips_and_refuses_other_shapes();
    void schedules_data();
    void schedules();
    void clipping_scales_to_the_max_norm();
};

namespace {

// torch.optim.AdamW's update of one element (torch 1.13, single-tensor), in double.
struct HandAdamW {
    double p, m = 0, v = 0;
    void step(double g, double lr, double b1, double b2, double eps, double wd, int t) {
        p *= 1 - lr * wd;
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        const double m_hat = m / (1 - std::pow(b1, t)), v_hat_sqrt = std::sqrt(v) / std::sqrt(1 - std::pow(b2, t));
        p -= lr * m_hat / (v_hat_sqrt + eps);
    }
};

}  // namespace

void TestOptimizer::adamw_matches_a_hand_computed_step() {
    TrainingArguments args;
    args.weight_decay = 0.1;
    args.adam_beta1 = 0.9;
    args.adam_beta2 = 0.99;
    args.adam_epsilon = 1e-3;  // large enough to matter in the denominator
    torch::Tensor w = torch::tensor({0.5, -1.0, 2.0}, torch::kDouble).requires_grad_(true);
    Optimizer adamw({{"encoder.block.0.layer.0.SelfAttention.q.weight", w}}, args);
    std::vector<HandAdamW> hand{{0.5}, {-1.0}, {2.0}};
    const std::vector<std::vector<double>> grads{{0.2, -0.05, 1.0}, {-0.1, 0.3, 0.0}, {0.4, 0.4, -2.0}};
    const std::vector<double> lrs{0.1, 0.05, 0.02};  // a schedule's changing rate
    for (size_t t = 0; t < grads.size(); ++t) {
        w.mutable_grad() = torch::tensor(grads[t], torch::kDouble);
        adamw.step(lrs[t]);
        for (size_t i = 0; i < hand.size(); ++i) {
            hand[i].step(grads[t][i], lrs[t], 0.9, 0.99, 1e-3, 0.1, static_cast<int>(t + 1));
            // Both sides in double, the same operations in another order: a few ulps of values near 1.
            QVERIFY2(std::abs(w[static_cast<int64_t>(i)].item<double>() - hand[i].p) < 1e-12,
                     qPrintable(QString("step %1 element %2: %3 vs %4").arg(t + 1).arg(i).arg(w[static_cast<int64_t>(i)].item<double>(), 0, 'g', 17).arg(hand[i].p, 0, 'g', 17)));
        }
    }
    QCOMPARE(adamw.step_count(), int64_t{3});
    adamw.zero_grad();
    QCOMPARE(w.grad().abs().sum().item<double>(), 0.0);
}

// transformers 4.28's Adafactor (lr 0.1/0.05/0.02 over three steps, relative_step False, weight decay
// 0.1 on the matrix and none on the vector, float64) printed these parameters; a matrix takes the
// factored path, a vector the unfactored one.
void TestOptimizer::adafactor_matches_transformers_data() {
    QTest::addColumn<bool>("scale_parameter");
    QTest::addColumn<std::vector<double>>("matrix");
    QTest::addColumn<std::vector<double>>("vector");
    QTest::newRow("scale_parameter") << true
                                     << std::vector<double>{0.43168745567006417, -0.91832567131013965, 1.8969109138819069,
                                                            0.091785775480004758, 0.036273197366857725, -0.24302772735090589}
                                     << std::vector<double>{0.16768474624592802, -0.38317670623655209, 0.029448304014947965};
    QTest::newRow("HF Trainer's (no scaling)") << false
                                               << std::vector<double>{0.42809886310160661, -0.91774441296569698, 1.8925795097574087,
                                                                      0.082266834285073115, 0.027060853907611308, -0.24312422069801531}
                                               << std::vector<double>{0.074310900230577043, -0.33916403984124549, -0.027208873687998916};
}

void TestOptimizer::adafactor_matches_transformers() {
    QFETCH(bool, scale_parameter);
    QFETCH(std::vector<double>, matrix);
    QFETCH(std::vector<double>, vector);
    TrainingArguments args;
    args.optim = OptimizerType::adafactor;
    args.adafactor_scale_parameter = scale_parameter;
    args.weight_decay = 0.1;
    auto opts = torch::TensorOptions().dtype(torch::kDouble);
    torch::Tensor w = torch::tensor({0.5, -1.0, 2.0, 0.25, 0.1, -0.3}, opts).view({2, 3}).requires_grad_(true);
    torch::Tensor b = torch::tensor({0.2, -0.4, 0.05}, opts).requires_grad_(true);
    // The vector is named as a bias: the Trainer's rule puts it in the group without decay.
    Optimizer adafactor({{"encoder.block.0.layer.0.SelfAttention.q.weight", w}, {"lm_head.bias", b}}, args);
    const std::vector<std::vector<double>> gw{{0.2, -0.05, 1.0, 0.3, 0.0, -0.6}, {-0.1, 0.3, 0.0, 0.05, 0.7, 0.2}, {0.4, 0.4, -2.0, 1e-3, -0.2, 0.9}};
    const std::vector<std::vector<double>> gb{{0.1, -0.2, 0.3}, {0.0, 0.5, -0.1}, {2.0, -1.0, 0.01}};
    const std::vector<double> lrs{0.1, 0.05, 0.02};
    for (size_t t = 0; t < lrs.size(); ++t) {
        w.mutable_grad() = torch::tensor(gw[t], opts).view({2, 3});
        b.mutable_grad() = torch::tensor(gb[t], opts);
        adafactor.step(lrs[t]);
    }
    // Both in double, the same operations grouped a little differently: a few ulps of values near 1.
    for (int64_t i = 0; i < 6; ++i)
        QVERIFY2(std::abs(w.view(-1)[i].item<double>() - matrix[static_cast<size_t>(i)]) < 1e-12,
                 qPrintable(QString("matrix element %1: %2 vs %3").arg(i).arg(w.view(-1)[i].item<double>(), 0, 'g', 17).arg(matrix[static_cast<size_t>(i)], 0, 'g', 17)));
    for (int64_t i = 0; i < 3; ++i)
        QVERIFY2(std::abs(b[i].item<double>() - vector[static_cast<size_t>(i)]) < 1e-12,
                 qPrintable(QString("vector element %1: %2 vs %3").arg(i).arg(b[i].item<double>(), 0, 'g', 17).arg(vector[static_cast<size_t>(i)], 0, 'g', 17)));
}

void TestOptimizer::adafactor_state_round_trips_and_refuses_adamw_state() {
    TrainingArguments args;
    args.optim = OptimizerType::adafactor;
    torch::Tensor w = torch::ones({2, 3}).requires_grad_(true), v = torch::ones({3}).requires_grad_(true);
    Optimizer a({{"w", w}, {"v", v}}, args);
    w.mutable_grad() = torch::full({2, 3}, 0.5);
    v.mutable_grad() = torch::full({3}, 0.25);
    a.step(0.1);
    const auto state = a.state_tensors();
    // Factored: a row and a column mean for the matrix (2 and 3 numbers, not 6), the full square for the vector.
    QCOMPARE(state.size(), size_t{3});
    std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
    QCOMPARE(by_name.at("exp_avg_sq_row.w").sizes().vec(), (std::vector<int64_t>{2}));
    QCOMPARE(by_name.at("exp_avg_sq_col.w").sizes().vec(), (std::vector<int64_t>{3}));
    QCOMPARE(by_name.at("exp_avg_sq.v").sizes().vec(), (std::vector<int64_t>{3}));
    // The weights as a checkpoint holds them after that step, and the optimizer state beside them.
    torch::Tensor w2 = w.detach().clone().requires_grad_(true), v2 = v.detach().clone().requires_grad_(true);
    Optimizer b({{"w", w2}, {"v", v2}}, args);
    b.load_state(state, 1, "optimizer.safetensors");
    // Resumed, the next step is the one the uninterrupted optimizer takes.
    for (auto* o : {&a, &b}) {
        std::vector<torch::Tensor> params = o == &a ? std::vector<torch::Tensor>{w, v} : std::vector<torch::Tensor>{w2, v2};
        params[0].mutable_grad() = torch::full({2, 3}, -0.3);
        params[1].mutable_grad() = torch::full({3}, 0.7);
        o->step(0.05);
    }
    QVERIFY(torch::equal(w, w2));
    QVERIFY(torch::equal(v, v2));
    // An AdamW checkpoint has other names: refused with the file's name, not read as zeros.
    Optimizer adamw({{"w", torch::ones({2, 3}).requires_grad_(true)}, {"v", torch::ones({3}).requires_grad_(true)}}, TrainingArguments{});
    try {
        b.load_state(adamw.state_tensors(true), 1, "optimizer.safetensors");
        QFAIL("AdamW's state was loaded into Adafactor");
    } catch (const FileError& e) {
        QVERIFY2(QString(e.what()).startsWith("optimizer.safetensors: ") && QString(e.what()).contains("another optimizer"), e.what());
    }
}

void TestOptimizer::no_decay_for_biases_and_layer_norms() {
    QVERIFY(!decays("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"));
    QVERIFY(!decays("decoder.final_layer_norm.weight"));
    QVERIFY(!decays("encoder.block.1.layer.1.layer_norm.weight"));
    QVERIFY(decays("encoder.block.0.layer.0.SelfAttention.q.weight"));
    // A layer norm's weight is not decayed by AdamW: with a zero gradient it does not move at all.
    TrainingArguments args;
    args.weight_decay = 0.5;
    torch::Tensor norm = torch::ones({2}, torch::kDouble).requires_grad_(true), q = torch::ones({2}, torch::kDouble).requires_grad_(true);
    Optimizer adamw({{"decoder.final_layer_norm.weight", norm}, {"decoder.block.0.layer.0.SelfAttention.q.weight", q}}, args);
    norm.mutable_grad() = torch::zeros({2}, torch::kDouble);
    q.mutable_grad() = torch::zeros({2}, torch::kDouble);
    adamw.step(0.1);
    QCOMPARE(norm[0].item<double>(), 1.0);
    QCOMPARE(q[0].item<double>(), 1.0 - 0.1 * 0.5);  // p *= 1 - lr * wd, the same double operations
}

void TestOptimizer::state_round_trips_and_refuses_other_shapes() {
    TrainingArguments args;
    torch::Tensor w = torch::ones({3}).requires_grad_(true);
    Optimizer a({{"w", w}}, args);
    w.mutable_grad() = torch::full({3}, 0.5);
    a.step(0.1);
    const auto state = a.state_tensors();
    QCOMPARE(state.size(), size_t{2});
    torch::Tensor w2 = torch::ones({3}).requires_grad_(true);
    Optimizer b({{"w", w2}}, args);
    b.load_state(state, a.step_count(), "optimizer.safetensors");
    QCOMPARE(b.step_count(), int64_t{1});
    QVERIFY(torch::equal(b.params()[0].exp_avg, a.params()[0].exp_avg));
    QVERIFY(torch::equal(b.params()[0].exp_avg_sq, a.params()[0].exp_avg_sq));
    torch::Tensor wide = torch::ones({4}).requires_grad_(true);
    Optimizer c({{"w", wide}}, args);
    try {
        c.load_state(state, 1, "optimizer.safetensors");
        QFAIL("a state of another shape was loaded");
    } catch (const FileError& e) {
        QVERIFY2(QString(e.what()).startsWith("optimizer.safetensors: ") && QString(e.what()).contains("wrong shape"), e.what());
    }
    Optimizer d({{"other", torch::ones({3}).requires_grad_(true)}}, args);
    QVERIFY_THROWS_EXCEPTION(FileError, d.load_state(state, 1, "optimizer.safetensors"));  // lacks "other" after a step
}

// HF's lr_lambda of each scheduler, evaluated here by hand at known steps (warm-up 2 of 10 steps).
void TestOptimizer::schedules_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<qint64>("step");
    QTest::addColumn<qint64>("warmup");
    QTest::addColumn<double>("factor");
    const auto linear = static_cast<int>(SchedulerType::linear), cosine = static_cast<int>(SchedulerType::cosine),
               constant = static_cast<int>(SchedulerType::constant);
    // get_linear_schedule_with_warmup: step / warmup, then (total - step) / (total - warmup).
    QTest::addRow("linear warm-up start") << linear << qint64{0} << qint64{2} << 0.0;
    QTest::addRow("linear warm-up half") << linear << qint64{1} << qint64{2} << 0.5;
    QTest::addRow("linear peak") << linear << qint64{2} << qint64{2} << 1.0;
    QTest::addRow("linear decay") << linear << qint64{6} << qint64{2} << 4.0 / 8.0;
    QTest::addRow("linear step 9") << linear << qint64{9} << qint64{2} << 1.0 / 8.0;
    QTest::addRow("linear end") << linear << qint64{10} << qint64{2} << 0.0;
    QTest::addRow("linear no warm-up") << linear << qint64{0} << qint64{0} << 1.0;
    QTest::addRow("linear no warm-up step 3") << linear << qint64{3} << qint64{0} << 7.0 / 10.0;
    // get_cosine_schedule_with_warmup (num_cycles 0.5): 0.5 * (1 + cos(pi * progress)).
    QTest::addRow("cosine warm-up") << cosine << qint64{1} << qint64{2} << 0.5;
    QTest::addRow("cosine peak") << cosine << qint64{2} << qint64{2} << 1.0;
    QTest::addRow("cosine quarter") << cosine << qint64{4} << qint64{2} << 0.5 * (1 + std::cos(M_PI * 0.25));
    QTest::addRow("cosine half") << cosine << qint64{6} << qint64{2} << 0.5;
    QTest::addRow("cosine end") << cosine << qint64{10} << qint64{2} << 0.0;
    // HF's "constant" is get_constant_schedule: no warm-up.
    QTest::addRow("constant ignores warm-up") << constant << qint64{0} << qint64{2} << 1.0;
    QTest::addRow("constant late") << constant << qint64{9} << qint64{2} << 1.0;
}

void TestOptimizer::schedules() {
    QFETCH(int, type);
    QFETCH(qint64, step);
    QFETCH(qint64, warmup);
    QFETCH(double, factor);
    // The formulas agree to rounding: 1e-12 is ~4500 ulps of 1, room for cos and a division.
    const double got = schedule_factor(static_cast<SchedulerType>(type), step, warmup, 10);
    QVERIFY2(std::abs(got - factor) < 1e-12, qPrintable(QString("%1 vs %2").arg(got, 0, 'g', 17).arg(factor, 0, 'g', 17)));
}

void TestOptimizer::clipping_scales_to_the_max_norm() {
    torch::Tensor a = torch::zeros({2}, torch::kDouble).requires_grad_(true), b = torch::zeros({1}, torch::kDouble).requires_grad_(true);
    a.mutable_grad() = torch::tensor({3.0, 0.0}, torch::kDouble);
    b.mutable_grad() = torch::tensor({4.0}, torch::kDouble);
    QCOMPARE(clip_grad_norm({a, b}, 1.0), 5.0);  // the norm before clipping: sqrt(9 + 16)
    // Scaled by max_norm / (norm + 1e-6), as torch's clip_grad_norm_.
    const double coef = 1.0 / (5.0 + 1e-6);
    QVERIFY(std::abs(a.grad()[0].item<double>() - 3.0 * coef) < 1e-15);
    QVERIFY(std::abs(b.grad()[0].item<double>() - 4.0 * coef) < 1e-15);
    // Below the max (and with 0: no clipping) the gradients stay as they are.
    a.mutable_grad() = torch::tensor({0.3, 0.0}, torch::kDouble);
    QVERIFY(std::abs(clip_grad_norm({a}, 1.0) - 0.3) < 1e-15);
    QCOMPARE(a.grad()[0].item<double>(), 0.3);
    a.mutable_grad() = torch::tensor({30.0, 0.0}, torch::kDouble);
    QCOMPARE(clip_grad_norm({a}, 0.0), 30.0);
    QCOMPARE(a.grad()[0].item<double>(), 30.0);
}

QTEST_GUILESS_MAIN(TestOptimizer)
#include "tst_optimizer.moc"
