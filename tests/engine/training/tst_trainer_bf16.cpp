// bf16 training (`--bf16`, HF's `bf16=True` on the CPU): the first steps against transformers 4.28's
// Trainer under torch.cpu.amp.autocast (tests/engine/training/bf16_autocast.json, made by
// make_bf16_goldens.py with the reference stack), a 60-step curve against SumLab's own fp32 run, and
// the autocast scope itself.
#include "tests/common/golden_torch.h"
#include "tests/common/golden_training.h"

#include "engine/training/run_folder.h"
#include "engine/training/trainer.h"
#include "base/file_util.h"
#include "models/t5/autocast.h"
#include "tests/common/sanitizer.h"

#include <ATen/autocast_mode.h>
#include <QtTest>

#include <fstream>

using namespace sumlab;
using namespace sumlab::test;

class TestTrainerBf16 : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void autocast_scope_restores_the_state();
    void first_steps_match_huggingface_data();
    void first_steps_match_huggingface();
    void follows_the_fp32_curve();

private:
    TrainerSetup setup(const std::string& model, TrainingMethod method, const QString& out, bool bf16) const;
    QTemporaryDir m_tmp;
    std::string m_golden_rows, m_rows64;
};

void TestTrainerBf16::initTestCase() {
    const std::string test_jsonl = shared_path("dialogsum/jsonl/dialogsum.test.jsonl");
    if (!exists(test_jsonl)) QSKIP(qPrintable(QString("missing %1").arg(test_jsonl.c_str())));
    // The goldens train on DialogSum test rows 0-7 (summary1); the curve uses rows 0-63.
    std::ifstream in(test_jsonl);
    m_golden_rows = m_tmp.filePath("golden.jsonl").toStdString();
    m_rows64 = m_tmp.filePath("rows64.jsonl").toStdString();
    std::ofstream golden(m_golden_rows), rows(m_rows64);
    std::string line;
    for (int i = 0; i < 64 && std::getline(in, line); ++i) {
        if (i < 8) golden << line << "\n";
        rows << line << "\n";
    }
}

TrainerSetup TestTrainerBf16::setup(const std::string& model, TrainingMethod method, const QString& out, bool bf16) const {
    TrainerSetup s;
    s.model_dir = shared_path("golden/t5/" + model);
    s.data = m_golden_rows;
    s.output_dir = m_tmp.filePath(out).toStdString();
    s.args = golden_training_arguments(method);
    s.args.bf16 = bf16;
    if (method == TrainingMethod::lora) s.init_adapter = s.model_dir + "-lora-r4";  // the adapter PEFT trained from
    return s;
}

void TestTrainerBf16::autocast_scope_restores_the_state() {
    QVERIFY(!at::autocast::is_cpu_enabled());
    const auto x = torch::randn({4, 8}), w = torch::randn({3, 8});
    {
        Autocast amp(torch::kCPU, true);
        QVERIFY(at::autocast::is_cpu_enabled());
        QCOMPARE(torch::linear(x, w).scalar_type(), torch::kBFloat16);  // linear is on torch's lower-precision list
        QCOMPARE(torch::softmax(x, -1).scalar_type(), torch::kFloat32);  // the rest keeps its input dtype
        {
            Autocast off(torch::kCPU, false);  // a disabled scope changes nothing
            QVERIFY(at::autocast::is_cpu_enabled());
        }
    }
    QVERIFY(!at::autocast::is_cpu_enabled());
    QCOMPARE(torch::linear(x, w).scalar_type(), torch::kFloat32);
}

void TestTrainerBf16::first_steps_match_huggingface_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<bool>("lora");
    QTest::newRow("tiny-flan full") << "tiny-flan" << false;  // gated-gelu, untied lm_head
    QTest::newRow("tiny-flan lora") << "tiny-flan" << true;
    QTest::newRow("tiny-t5v1 full") << "tiny-t5v1" << false;  // relu, tied embeddings
    QTest::newRow("tiny-t5v1 lora") << "tiny-t5v1" << true;
}

// The same ops as the Python model under autocast. On the kernels the goldens were made with (LibTorch's
// AVX2 set) step 1's loss is HF's bit for bit on both full rows and within 1e-6 with LoRA. Other kernel sets
// (ATEN_CPU_CAPABILITY=default, another oneDNN ISA) may round each bf16 elementwise op differently: each
// logit (~5 in size) moves by up to about one bf16 rounding, 2^-9 relative, ~0.01, with random sign over the
// ~500 label tokens whose mean the loss is, so the loss moves by ~0.01/sqrt(500) ~ 5e-4. The bound is 1e-3
// (measured with the scalar kernels: at most 1.7e-4). The gradient norm, a root of a sum of squares over
// ~10^6 elements, moves less in relative terms; 2e-3 relative (measured: at most 4.7e-4).
// That leaves room for the bf16-vs-fp32 gap itself (2.7e-4..5.4e-4 on these models), so a missing autocast
// is caught by follows_the_fp32_curve and autocast_scope_restores_the_state, not here; this case catches a
// forward that is not HF's (a wrong op, cast or layer) by more than bf16 noise.
// Steps 2 and 3 are not compared: AdamW's first step moves every weight by ~lr·sign(g), and for gradients
// within bf16's noise of zero the sign is rounding's, so the runs' weights part by up to 2·lr (measured
// loss gaps at step 3 up to 1.1e-3); the 60-step curve below bounds where that drift leads.
void TestTrainerBf16::first_steps_match_huggingface() {
    SUMLAB_REQUIRE_SENTENCEPIECE();
    QFETCH(QString, model);
    QFETCH(bool, lora);
    const std::string golden = std::string(SUMLAB_SOURCE_DIR) + "/tests/engine/training/bf16_autocast.json";
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/" + model.toStdString()));
    const auto want = load_json(golden)["models"][model.toStdString()][lora ? "lora_steps" : "full_steps"];
    TrainerSetup s = setup(model.toStdString(), lora ? TrainingMethod::lora : TrainingMethod::full,
                           QString("first-%1-%2").arg(model).arg(lora), true);
    TrainResult r = Trainer(s).run();
    QCOMPARE(r.status, RunStatus::finished);
    const auto logs = read_run(s.output_dir).logs;
    QCOMPARE(logs.size(), want.size());
    const double loss = want[0]["loss"].get<double>(), norm = want[0]["total_grad_norm_before_clip"].get<double>();
    qInfo("step 1: loss %.9g (HF bf16 %.9g), grad norm %.9g (HF bf16 %.9g)", logs[0].loss, loss, logs[0].grad_norm, norm);
    QVERIFY2(std::abs(logs[0].loss - loss) <= 1e-3, "step 1's loss is not HF's bf16 loss");
    QVERIFY2(std::abs(logs[0].grad_norm - norm) <= 2e-3 * norm, "step 1's gradient norm is not HF's bf16 one");
    // run.json says how it was trained.
    QCOMPARE(load_json(s.output_dir + "/run.json")["arguments"]["bf16"].get<bool>(), true);
}

// 60 steps on 64 DialogSum rows (batch 8, lr 1e-3, dropout off): each bf16 loss within 2% of the fp32
// run's at the same step. bf16 keeps 8 significant bits, so one step's loss differs by ~0.1% (the gap of
// the first step above); AdamW's updates of size ~lr then let the two runs' weights drift apart by
// O(lr) per step in directions that do not compound for a model still descending, and 2% is the bound
// the issue sets; the measured worst gap is printed.
void TestTrainerBf16::follows_the_fp32_curve() {
    SUMLAB_REQUIRE_SENTENCEPIECE();
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/tiny-flan"));
    auto run = [&](bool bf16) {
        TrainerSetup s = setup("tiny-flan", TrainingMethod::full, bf16 ? "curve-bf16" : "curve-fp32", bf16);
        s.data = m_rows64;
        s.args.max_steps = 60;
        TrainResult r = Trainer(s).run();
        if (r.status != RunStatus::finished) qWarning("run ended as %d", static_cast<int>(r.status));
        return read_run(s.output_dir).logs;
    };
    const auto fp32 = run(false), bf16 = run(true);
    QCOMPARE(fp32.size(), size_t{60});
    QCOMPARE(bf16.size(), size_t{60});
    double worst = 0.0, first_gap = std::abs(bf16[0].loss - fp32[0].loss);
    for (size_t i = 0; i < fp32.size(); ++i) {
        const double rel = std::abs(bf16[i].loss - fp32[i].loss) / fp32[i].loss;
        worst = std::max(worst, rel);
        QVERIFY2(rel <= 0.02, qPrintable(QString("step %1: bf16 %2, fp32 %3").arg(i + 1).arg(bf16[i].loss).arg(fp32[i].loss)));
    }
    QVERIFY2(first_gap > 0.0, "the bf16 run computed exactly the fp32 losses: autocast did not happen");
    QVERIFY2(fp32.back().loss < 0.9 * fp32.front().loss, "the fp32 run did not learn, so the curves say nothing");
    qInfo("worst relative gap over 60 steps: %.4f%% (first step %.3g)", 100 * worst, first_gap);
}

QTEST_GUILESS_MAIN(TestTrainerBf16)
#include "tst_trainer_bf16.moc"
