// The trainer against Hugging Face's Trainer and PEFT (../shared/golden/t5 train.json, lora.json):
// the same losses, gradient norms and weights after AdamW steps; plus exact resume, NaN handling,
// bad configurations and LoRA's untouched base weights. The parts on their own: tst_sampler, tst_optimizer,
// tst_run_folder, tst_training_arguments, tst_lora (adapters, counts, merging).
#include "tests/common/golden_torch.h"
#include "tests/common/golden_training.h"

#include "engine/text/batcher.h"
#include "engine/training/optimizer.h"
#include "engine/training/run_folder.h"
#include "engine/text/tokenizer.h"
#include "engine/training/trainer.h"
#include "engine/training/training_data.h"
#include "models/checkpoint.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "models/lora.h"
#include "models/safetensors.h"
#include "tests/common/sanitizer.h"

#include <QtTest>

#include <fstream>
#include <map>
#include <set>

using namespace sumlab;
using namespace sumlab::test;

class TestTrainer : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void full_fine_tuning_matches_huggingface_data();
    void full_fine_tuning_matches_huggingface();
    void lora_matches_peft_data();
    void lora_matches_peft();
    void trained_adapter_files_match_peft_data();
    void trained_adapter_files_match_peft();
    void saved_adapter_reloads_like_peft_data();
    void saved_adapter_reloads_like_peft();
    void resume_gives_the_same_curve_data();
    void resume_gives_the_same_curve();
    void span_corruption_batches();
    void stop_leaves_a_checkpoint();
    void nan_steps_are_skipped_then_stop_the_run();
    void bad_configuration_data();
    void bad_configuration();
    void overfits_32_dialogues();

private:
    TrainerSetup golden_setup(TrainingMethod method, const QString& out, const std::string& model_dir = {}) const;
    static std::vector<StepMetrics> logs_of(const std::string& run) { return read_run(run).logs; }
    QTemporaryDir m_tmp;
    std::string m_train;  // the 8 golden rows as a train split
    std::string m_model, m_gold;
};

void TestTrainer::initTestCase() {
    m_model = shared_path("golden/t5/tiny-flan");
    m_gold = m_model + ".goldens";
    std::string test_jsonl = shared_path("dialogsum/jsonl/dialogsum.test.jsonl");
    if (!exists(test_jsonl) || !exists(m_gold + "/train.json")) QSKIP(qPrintable(QString("missing %1 or goldens").arg(test_jsonl.c_str())));
    // The goldens train on DialogSum test rows 0-7 (summary1): the same rows, as a train split.
    std::ifstream in(test_jsonl);
    m_train = m_tmp.filePath("train.jsonl").toStdString();
    std::ofstream out(m_train);
    std::string line;
    for (int i = 0; i < 8 && std::getline(in, line); ++i) out << line << "\n";
}

TrainerSetup TestTrainer::golden_setup(TrainingMethod method, const QString& out, const std::string& model_dir) const {
    TrainerSetup s;
    s.model_dir = model_dir.empty() ? m_model : model_dir;
    s.data = m_train;
    s.output_dir = m_tmp.filePath(out).toStdString();
    s.args = golden_training_arguments(method);
    return s;
}

// One row per golden model; a model whose goldens are absent skips, naming the folder.
static void golden_model_rows() {
    QTest::addColumn<QString>("model");
    QTest::newRow("tiny-flan") << "tiny-flan";  // FLAN-T5 style: gated-gelu, untied lm_head
    QTest::newRow("tiny-t5v1") << "tiny-t5v1";  // original T5: relu, tied embeddings
}

using TensorMap = std::map<std::string, torch::Tensor>;

// Every parameter of `m` (detached copies, or the live tensors themselves when `copy` is false).
static TensorMap parameters_of(torch::nn::Module& m, bool copy) {
    TensorMap out;
    for (const auto& p : m.named_parameters()) out[p.key()] = copy ? p.value().detach().clone() : p.value();
    return out;
}

// Every parameter's gradient at this moment (an undefined tensor where there is none).
static TensorMap gradients_of(torch::nn::Module& m) {
    TensorMap out;
    for (const auto& p : m.named_parameters()) out[p.key()] = p.value().grad().defined() ? p.value().grad().clone() : torch::Tensor();
    return out;
}

// The keys of a tensor map or a JSON object, sorted, for a QCOMPARE that shows the difference.
static QStringList sorted_names(const TensorMap& map) {
    QStringList out;
    for (const auto& kv : map) out << QString::fromStdString(kv.first);
    out.sort();
    return out;
}
static QStringList sorted_names(const nlohmann::json& j) {
    QStringList out;
    if (j.is_array())
        for (const auto& n : j) out << QString::fromStdString(n.get<std::string>());
    else
        for (const auto& kv : j.items()) out << QString::fromStdString(kv.key());
    out.sort();
    return out;
}

// PEFT's in-memory LoRA name (base_model.model.<path>.lora_A.default.weight) as SumLab's parameter
// name (<path>.lora_A.weight).
static std::string sumlab_lora_name(std::string peft) {
    const std::string prefix = "base_model.model.", adapter = ".default.weight";
    if (peft.rfind(prefix, 0) == 0) peft = peft.substr(prefix.size());
    if (peft.size() > adapter.size() && peft.compare(peft.size() - adapter.size(), adapter.size(), adapter) == 0)
        peft = peft.substr(0, peft.size() - adapter.size()) + ".weight";
    return peft;
}


// Fails with the message when `mismatch` (a QString) is not empty.
#define VERIFY_NO_MISMATCH(mismatch)                    \
    do {                                                \
        const QString message_ = (mismatch);            \
        QVERIFY2(message_.isEmpty(), qPrintable(message_)); \
    } while (0)

// A logged step against the reference's: loss abs 1e-5, total grad norm (before clipping) rel 1e-5.
static QString step_mismatch(const StepMetrics& got, const nlohmann::json& want) {
    const double loss = want.at("loss").get<double>(), norm = want.at("total_grad_norm_before_clip").get<double>();
    if (std::abs(got.loss - loss) >= 1e-5) return QString("step %1 loss %2 vs %3").arg(got.step).arg(repr(got.loss), repr(loss));
    if (rel_diff(got.grad_norm, norm) >= 1e-5) return QString("step %1 grad norm %2 vs %3").arg(got.step).arg(repr(got.grad_norm), repr(norm));
    return {};
}

// Each parameter after the trainer's first step against torch 1.13's AdamW of the trainer's own step-1
// gradients (clipped as clip_grad_norm_ clips them, by the logged total norm), decaying all but `no_decay`.
static QString adamw_step_mismatch(const TensorMap& before, const TensorMap& grads, const TensorMap& after,
                                   const std::set<std::string>& no_decay, double total_norm, const TrainingArguments& args) {
    const double clip_factor = std::min(1.0, args.max_grad_norm / (total_norm + 1e-6));
    for (const auto& [name, p0] : before) {
        const torch::Tensor want = adamw_first_step(p0, grads.at(name), clip_factor, args.learning_rate, args.adam_beta1, args.adam_beta2,
                                                    args.adam_epsilon, no_decay.count(name) ? 0.0 : args.weight_decay);
        const torch::Tensor err = (after.at(name).to(torch::kFloat64) - want).abs();
        const torch::Tensor excess = err - adamw_rounding_bound(p0, args.learning_rate);
        if (excess.max().item<double>() > 0) {
            const int64_t worst = excess.argmax().item<int64_t>();
            return QString("%1 after step 1: element %2 is %3 from torch's AdamW step").arg(name.c_str()).arg(worst).arg(repr(err.reshape({-1})[worst].item<double>()));
        }
    }
    return {};
}

void TestTrainer::full_fine_tuning_matches_huggingface_data() { golden_model_rows(); }

void TestTrainer::full_fine_tuning_matches_huggingface() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // Trainer::run() tokenizes the data first
    QFETCH(QString, model);
    const std::string model_dir = shared_path("golden/t5/" + model.toStdString()), gold_dir = model_dir + ".goldens";
    SUMLAB_REQUIRE_SHARED(gold_dir + "/train.json");
    SUMLAB_REQUIRE_SHARED(gold_dir + "/tensors.safetensors");
    auto gold = load_json(gold_dir + "/train.json");
    SafetensorsFile tensors(gold_dir + "/tensors.safetensors");
    TrainerSetup setup = golden_setup(TrainingMethod::full, "full-" + model, model_dir);
    // What the trainer held: the weights before and after step 1's update, and step 1's gradients before clipping.
    TensorMap step0_params, step1_grads, step1_params;
    TrainerCallbacks cb;
    cb.after_backward = [&](torch::nn::Module& m, int64_t step) {
        if (step == 0) step1_grads = gradients_of(m);
    };
    cb.before_step = [&](torch::nn::Module& m, int64_t step) {
        if (step == 0) step0_params = parameters_of(m, true);
        if (step == 1) step1_params = parameters_of(m, true);
    };
    TrainResult r = Trainer(setup, cb).run();
    QCOMPARE(r.status, RunStatus::finished);
    // In the order things happen, so the first failure is the earliest divergence. Step 1: the loss,
    // then parameter by parameter: every named parameter (a tied model has no lm_head) has HF's gradient ...
    auto logs = logs_of(setup.output_dir);
    QCOMPARE(logs.size(), size_t{3});
    const auto& step1 = gold["steps"][0];
    VERIFY_NO_MISMATCH(step_mismatch(logs[0], step1));
    QCOMPARE(sorted_names(step1_grads), sorted_names(gold["named_parameters"]));
    for (const auto& [name, want] : step1["grads"].items()) {
        VERIFY_NO_MISMATCH(grad_summary_mismatch(step1_grads.at(name), want, name));
    }
    const std::string grad_prefix = "train_step1_grad.", param_prefix = "train_step1_param.";
    int whole_grads = 0, whole_params = 0;
    for (const auto& e : tensors.entries()) {
        if (e.name.rfind(grad_prefix, 0) != 0) continue;
        const std::string name = e.name.substr(grad_prefix.size());
        QVERIFY2(step1_grads.count(name), name.c_str());
        VERIFY_NO_MISMATCH(grad_tensor_mismatch(step1_grads.at(name), tensors.load(e.name), name));
        ++whole_grads;
    }
    QVERIFY2(whole_grads > 0, "tensors.safetensors holds no train_step1_grad.* tensor");
    // ... and the update AdamW makes of it: torch 1.13's step with HF's decay groups (no_decay_params),
    // elementwise to fp32 rounding (a missed decay, p * lr * wd, is 40 times that) ...
    QCOMPARE(sorted_names(step1_params), sorted_names(step1["params_after_step"]));
    const std::set<std::string> no_decay = gold["no_decay_params"].get<std::set<std::string>>();
    VERIFY_NO_MISMATCH(adamw_step_mismatch(step0_params, step1_grads, step1_params, no_decay, logs[0].grad_norm, setup.args));
    // ... which gives the reference's weights after one step.
    for (const auto& [name, want] : step1["params_after_step"].items()) {
        VERIFY_NO_MISMATCH(param_summary_mismatch(step1_params.at(name), want, name));
    }
    for (const auto& e : tensors.entries()) {
        if (e.name.rfind(param_prefix, 0) != 0) continue;
        const std::string name = e.name.substr(param_prefix.size());
        QVERIFY2(step1_params.count(name), name.c_str());
        // Elementwise, each within what one AdamW step can make of gradients within tolerance.
        const std::string grad_name = grad_prefix + name;
        QVERIFY2(tensors.contains(grad_name), qPrintable(QString("%1 lacks %2").arg(tensors.path().c_str(), grad_name.c_str())));
        const double clip_factor = std::min(1.0, setup.args.max_grad_norm / (step1["total_grad_norm_before_clip"].get<double>() + 1e-6));
        const torch::Tensor want = tensors.load(e.name), err = (step1_params.at(name) - want).abs().to(torch::kFloat64);
        const torch::Tensor excess = err - adamw_step1_bound(want, tensors.load(grad_name), setup.args.learning_rate, setup.args.adam_epsilon, clip_factor);
        const int64_t worst = excess.argmax().item<int64_t>();
        QVERIFY2(excess.max().item<double>() <= 0,
                 qPrintable(QString("%1 after step 1: element %2 is %3 off, beyond its bound").arg(name.c_str()).arg(worst).arg(repr(err.reshape({-1})[worst].item<double>()))));
        ++whole_params;
    }
    QVERIFY2(whole_params > 0, "tensors.safetensors holds no train_step1_param.* tensor");
    // Steps 2 and 3; then the weights after three AdamW steps: sums and norms of every parameter.
    for (size_t k = 1; k < 3; ++k) VERIFY_NO_MISMATCH(step_mismatch(logs[k], gold["steps"][k]));
    LoadedModel trained = load_model(r.final_dir);
    auto params = trained.model->named_parameters();
    for (const auto& [name, want] : gold["params_after_3_steps"].items()) {
        auto* p = params.find(name);
        QVERIFY2(p, name.c_str());
        QVERIFY2(rel_diff(p->to(torch::kFloat64).norm().item<double>(), want["norm"].get<double>()) < 1e-5, name.c_str());
        QVERIFY2(std::abs(p->to(torch::kFloat64).sum().item<double>() - want["sum"].get<double>()) < 1e-4 * std::max(1.0, want["abs_sum"].get<double>() / 1000), name.c_str());
    }
    // The loss after three steps, evaluated like the reference (dropout off).
    auto meta = load_json(gold_dir + "/meta.json");
    torch::NoGradGuard no_grad;
    auto out = trained.model->forward(long_tensor(meta["input_ids"]), long_tensor(meta["attention_mask"]), long_tensor(meta["labels"]));
    QVERIFY2(std::abs(out.loss.item<double>() - gold["loss_after_3_steps_train_mode"].get<double>()) < 1e-4, qPrintable(QString::number(out.loss.item<double>(), 'g', 10)));
}

void TestTrainer::lora_matches_peft_data() { golden_model_rows(); }

void TestTrainer::lora_matches_peft() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // Trainer::run() tokenizes the data first
    QFETCH(QString, model);
    const std::string model_dir = shared_path("golden/t5/" + model.toStdString()), gold_dir = model_dir + ".goldens";
    SUMLAB_REQUIRE_SHARED(gold_dir + "/lora.json");
    SUMLAB_REQUIRE_SHARED(gold_dir + "/tensors.safetensors");
    SUMLAB_REQUIRE_SHARED(model_dir + "-lora-r4/adapter_model.safetensors");
    auto gold = load_json(gold_dir + "/lora.json");
    SafetensorsFile tensors(gold_dir + "/tensors.safetensors");
    TrainerSetup setup = golden_setup(TrainingMethod::lora, "lora-" + model, model_dir);
    setup.init_adapter = model_dir + "-lora-r4";
    // The trained model's own tensors (live, so they show its weights after the last step), step 1's
    // gradients before clipping, and the adapter after step 1's update.
    TensorMap live, step0_params, step1_grads, step1_params;
    TrainerCallbacks cb;
    cb.after_backward = [&](torch::nn::Module& m, int64_t step) {
        if (step == 0) step1_grads = gradients_of(m);
    };
    cb.before_step = [&](torch::nn::Module& m, int64_t step) {
        if (step == 0) live = parameters_of(m, false);
        if (step == 0) step0_params = parameters_of(m, true);
        if (step == 1) step1_params = parameters_of(m, true);
    };
    TrainResult r = Trainer(setup, cb).run();
    QCOMPARE(r.status, RunStatus::finished);
    std::set<std::string> lora_names;
    for (const auto& n : gold["lora_param_names"]) lora_names.insert(sumlab_lora_name(n.get<std::string>()));
    QCOMPARE(lora_names.size(), gold["lora_param_names"].size());
    // The trained model's frozen base tensors, in memory after the last step, equal the model file bit for bit.
    SafetensorsFile base_file(model_dir + "/model.safetensors");
    int base_count = 0;
    for (const auto& [name, t] : live) {
        if (lora_names.count(name)) continue;
        QVERIFY2(base_file.contains(name), qPrintable(QString("%1 is not in %2").arg(name.c_str(), base_file.path().c_str())));
        QVERIFY2(torch::equal(t, base_file.load(name)), qPrintable(QString("base weight %1 changed during LoRA training").arg(name.c_str())));
        ++base_count;
    }
    QVERIFY(base_count > 0);
    // Step 1: base parameters got no gradient at all (PEFT: grad is None); the loss; each adapter tensor's
    // gradient and value after the update PEFT's.
    QCOMPARE(gold["train_steps"][0]["base_grads_are_none"].get<bool>(), true);
    QCOMPARE(sorted_names(step1_grads), sorted_names(live));
    for (const auto& [name, g] : step1_grads)
        if (!lora_names.count(name)) QVERIFY2(!g.defined(), qPrintable(QString("frozen %1 has a gradient").arg(name.c_str())));
    auto logs = logs_of(setup.output_dir);
    QCOMPARE(logs.size(), size_t{3});
    VERIFY_NO_MISMATCH(step_mismatch(logs[0], gold["train_steps"][0]));
    QCOMPARE(gold["train_steps"][0]["grads"].size(), lora_names.size());
    for (const auto& [peft_name, want] : gold["train_steps"][0]["grads"].items()) {
        VERIFY_NO_MISMATCH(grad_summary_mismatch(step1_grads.at(sumlab_lora_name(peft_name)), want, peft_name));
    }
    const std::string grad_prefix = "lora_step1_grad.";
    int whole_grads = 0;
    for (const auto& e : tensors.entries()) {
        if (e.name.rfind(grad_prefix, 0) != 0) continue;
        const std::string name = sumlab_lora_name(e.name.substr(grad_prefix.size()));
        QVERIFY2(lora_names.count(name), name.c_str());
        VERIFY_NO_MISMATCH(grad_tensor_mismatch(step1_grads.at(name), tensors.load(e.name), name));
        ++whole_grads;
    }
    QCOMPARE(static_cast<size_t>(whole_grads), lora_names.size());  // "all LoRA grads"
    // The adapter after one AdamW step: the update torch 1.13 makes of these gradients (PEFT's decay
    // groups, lora_no_decay_params), and the reference's values.
    TensorMap adapter0, adapter_grads, adapter1;
    for (const auto& name : lora_names) {
        adapter0[name] = step0_params.at(name);
        adapter_grads[name] = step1_grads.at(name);
        adapter1[name] = step1_params.at(name);
    }
    std::set<std::string> no_decay;
    for (const auto& n : gold["lora_no_decay_params"]) no_decay.insert(sumlab_lora_name(n.get<std::string>()));
    VERIFY_NO_MISMATCH(adamw_step_mismatch(adapter0, adapter_grads, adapter1, no_decay, logs[0].grad_norm, setup.args));
    QCOMPARE(gold["train_steps"][0]["lora_params_after_step"].size(), lora_names.size());
    for (const auto& [peft_name, want] : gold["train_steps"][0]["lora_params_after_step"].items()) {
        VERIFY_NO_MISMATCH(param_summary_mismatch(step1_params.at(sumlab_lora_name(peft_name)), want, peft_name));
    }
    for (size_t k = 1; k < 3; ++k)
        VERIFY_NO_MISMATCH(step_mismatch(logs[k], gold["train_steps"][k]));
    // final/ holds exactly the trained adapter: reloaded onto the base it gives the in-memory tensors
    // bit for bit, and the reference's loss after three steps.
    LoadedModel tuned = load_model(model_dir);
    load_adapter(*tuned.model, r.final_dir);
    for (const auto& p : tuned.model->named_parameters())
        QVERIFY2(torch::equal(p.value(), live.at(p.key())), qPrintable(QString("%1 differs after reloading final/").arg(p.key().c_str())));
    auto meta = load_json(gold_dir + "/meta.json");
    torch::NoGradGuard no_grad;
    auto out = tuned.model->forward(long_tensor(meta["input_ids"]), long_tensor(meta["attention_mask"]), long_tensor(meta["labels"]));
    QVERIFY2(std::abs(out.loss.item<double>() - gold["loss_after_3_steps"].get<double>()) < 1e-4, qPrintable(QString::number(out.loss.item<double>(), 'g', 10)));
}

void TestTrainer::trained_adapter_files_match_peft_data() { golden_model_rows(); }

// An adapter SumLab trains with PEFT's settings (r 4, alpha 8, q and v, dropout 0) is written as PEFT
// wrote the reference adapter: the same adapter_config.json and the same tensor names, shapes and dtypes.
void TestTrainer::trained_adapter_files_match_peft() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // Trainer::run() tokenizes the data first
    QFETCH(QString, model);
    const std::string model_dir = shared_path("golden/t5/" + model.toStdString()), peft_dir = model_dir + "-lora-r4";
    SUMLAB_REQUIRE_SHARED(peft_dir + "/adapter_config.json");
    SUMLAB_REQUIRE_SHARED(peft_dir + "/adapter_model.safetensors");
    TrainerSetup setup = golden_setup(TrainingMethod::lora, "adapter-files-" + model, model_dir);
    setup.args.max_steps = 1;
    setup.args.lora = LoraConfig{};
    setup.args.lora.r = 4;
    setup.args.lora.lora_alpha = 8;
    setup.args.lora.lora_dropout = 0.0;
    setup.args.lora.target_modules = {"q", "v"};
    TrainResult r = Trainer(setup).run();
    QCOMPARE(r.status, RunStatus::finished);
    // Every field PEFT 0.6.2 wrote, with the same value and JSON type (8, not 8.0), and none other;
    // base_model_name_or_path alone legitimately differs: each tool records the base it was given
    // (PEFT the folder name the reference used, SumLab the folder it trained on).
    auto ours = load_json(r.final_dir + "/adapter_config.json"), peft = load_json(peft_dir + "/adapter_config.json");
    QCOMPARE(sorted_names(ours), sorted_names(peft));
    for (const auto& [key, want] : peft.items()) {
        if (key == "base_model_name_or_path") {
            QCOMPARE(ours[key].get<std::string>(), setup.model_dir);
            continue;
        }
        QVERIFY2(ours[key].dump() == want.dump(), qPrintable(QString("adapter_config.json \"%1\": SumLab %2, PEFT %3").arg(key.c_str(), ours[key].dump().c_str(), want.dump().c_str())));
    }
    // The same tensors under the same names (PEFT's file names, without ".default"), shapes and dtypes,
    // and the same __metadata__.
    SafetensorsFile our_file(r.final_dir + "/adapter_model.safetensors"), peft_file(peft_dir + "/adapter_model.safetensors");
    QStringList our_names, peft_names;
    for (const auto& e : our_file.entries()) our_names << QString::fromStdString(e.name);
    for (const auto& e : peft_file.entries()) peft_names << QString::fromStdString(e.name);
    QCOMPARE(our_names, peft_names);
    for (const auto& want : peft_file.entries()) {
        const SafetensorsEntry& got = our_file.entry(want.name);
        QVERIFY2(got.shape == want.shape, want.name.c_str());
        QCOMPARE(QString::fromStdString(got.dtype), QString::fromStdString(want.dtype));
    }
    QVERIFY2(our_file.metadata() == peft_file.metadata(), "adapter_model.safetensors __metadata__ differs from PEFT's");
}

void TestTrainer::saved_adapter_reloads_like_peft_data() { golden_model_rows(); }

// lora.json's forward_eval_reloaded_adapter_loss is PEFT saving the adapter (its initial state, the
// files in <model>-lora-r4), reloading it with PeftModel.from_pretrained and evaluating; the reload
// changed nothing (reload_logits_sum_diff 0). Here SumLab saves that same adapter with the writer the
// trainer uses for checkpoint-N/ and final/, reloads it onto a fresh base, and must do the same.
void TestTrainer::saved_adapter_reloads_like_peft() {
    QFETCH(QString, model);
    const std::string model_dir = shared_path("golden/t5/" + model.toStdString()), gold_dir = model_dir + ".goldens";
    SUMLAB_REQUIRE_SHARED(gold_dir + "/lora.json");
    SUMLAB_REQUIRE_SHARED(model_dir + "-lora-r4/adapter_model.safetensors");
    auto gold = load_json(gold_dir + "/lora.json");
    auto meta = load_json(gold_dir + "/meta.json");
    LoadedModel original = load_model(model_dir);
    const LoraConfig config = load_adapter(*original.model, model_dir + "-lora-r4");
    const std::string saved = m_tmp.filePath("saved-adapter-" + model).toStdString();
    save_adapter(*original.model, config, saved);
    LoadedModel reloaded = load_model(model_dir);
    load_adapter(*reloaded.model, saved);
    original.model->eval();
    reloaded.model->eval();
    torch::NoGradGuard no_grad;
    auto ids = long_tensor(meta["input_ids"]), mask = long_tensor(meta["attention_mask"]), labels = long_tensor(meta["labels"]);
    auto before = original.model->forward(ids, mask, labels), after = reloaded.model->forward(ids, mask, labels);
    // The loss: abs 1e-5 (the README's loss tolerance). The logits: identical, as in the reference,
    // since the same fp32 weights go through the same arithmetic.
    const double want = gold["forward_eval_reloaded_adapter_loss"].get<double>();
    QVERIFY2(std::abs(after.loss.item<double>() - want) < 1e-5, qPrintable(QString("reloaded loss %1 vs %2").arg(repr(after.loss.item<double>()), repr(want))));
    QCOMPARE(gold["reload_logits_sum_diff"].get<double>(), 0.0);
    QVERIFY2(torch::equal(after.logits, before.logits),
             qPrintable(QString("reloading changed the logits by up to %1").arg(repr((after.logits - before.logits).abs().max().item<double>()))));
}

// Under span_corruption the hidden spans depend on the epoch, so a resume must draw the same ones.
void TestTrainer::resume_gives_the_same_curve_data() {
    QTest::addColumn<QString>("objective");
    QTest::newRow("seq2seq") << "seq2seq";
    QTest::newRow("span_corruption") << "span_corruption";
    QTest::newRow("text_infilling") << "text_infilling";
}

void TestTrainer::resume_gives_the_same_curve() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // Trainer::run() tokenizes the data first
    QFETCH(QString, objective);
    // Dropout on, so the restored random state matters; six steps, batches of 4 over two epochs.
    auto make = [&](const QString& out) {
        TrainerSetup s = golden_setup(TrainingMethod::full, objective + "-" + out);
        if (objective == "span_corruption") s.args.objective = TrainingObjective::span_corruption;
        if (objective == "text_infilling") s.args.objective = TrainingObjective::text_infilling;
        s.args.max_steps = 6;
        s.args.per_device_train_batch_size = 4;
        s.args.dropout_rate = 0.1;
        s.args.lr_scheduler_type = SchedulerType::linear;
        s.args.max_source_length = 96;
        return s;
    };
    TrainerSetup straight = make("straight");
    Trainer(straight).run();
    TrainerSetup interrupted = make("interrupted");
    TrainerControl control;
    TrainerCallbacks cb;
    cb.on_log = [&](const StepMetrics& m) {
        if (m.step == 3) control.stop = true;
    };
    TrainResult first = Trainer(interrupted, cb, &control).run();
    QCOMPARE(first.status, RunStatus::stopped);
    QCOMPARE(first.global_step, int64_t{3});
    interrupted.resume_from = "last";
    TrainResult second = Trainer(interrupted).run();
    QCOMPARE(second.status, RunStatus::finished);
    auto a = logs_of(straight.output_dir), b = logs_of(interrupted.output_dir);
    QCOMPARE(b.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i) {
        QCOMPARE(b[i].step, a[i].step);
        QVERIFY2(std::abs(a[i].loss - b[i].loss) < 1e-6, qPrintable(QString("step %1: %2 vs %3").arg(a[i].step).arg(a[i].loss).arg(b[i].loss)));
    }
    LoadedModel ma = load_model(straight.output_dir + "/final"), mb = load_model(interrupted.output_dir + "/final");
    auto pb = mb.model->named_parameters();
    for (const auto& p : ma.model->named_parameters()) QVERIFY2(torch::allclose(p.value(), pb[p.key()], 0, 1e-6), p.key().c_str());
}

// The batches span_corruption trains on: the prompt's tokens with spans behind sentinels, the labels
// the hidden spans; together they give the prompt back. Other spans in another epoch, the same spans
// for the same epoch; the seq2seq objective's labels stay the summary.
void TestTrainer::span_corruption_batches() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // the data is tokenized
    const T5Tokenizer tokenizer = T5Tokenizer::from_directory(m_model);
    TrainingArguments args = golden_training_arguments(TrainingMethod::full);
    const TrainingData plain = prepare_training_data(m_train, args, tokenizer);
    args.objective = TrainingObjective::span_corruption;
    const TrainingData data = prepare_training_data(m_train, args, tokenizer);
    QVERIFY(data.corruption.has_value());
    const BatchIndices rows = {0, 1, 2};
    const Seq2SeqBatch a = training_batch(data, rows, args, 0, tokenizer.pad_token_id(), torch::kCPU);
    QVERIFY(torch::equal(a.input_ids, training_batch(data, rows, args, 0, tokenizer.pad_token_id(), torch::kCPU).input_ids));
    QVERIFY(!torch::equal(a.labels, training_batch(data, rows, args, 1, tokenizer.pad_token_id(), torch::kCPU).labels));
    const TokenIds& summary = plain.train[0].target;
    QVERIFY(torch::equal(training_batch(plain, rows, args, 0, tokenizer.pad_token_id(), torch::kCPU).labels[0].narrow(0, 0, static_cast<int64_t>(summary.size())),
                         torch::tensor(summary)));
    const int64_t first_sentinel = tokenizer.token_to_id("<extra_id_0>");
    for (size_t r = 0; r < rows.size(); ++r) {
        std::vector<int64_t> input, labels;
        for (int64_t i = 0; i < a.input_ids.size(1); ++i)
            if (a.attention_mask[r][i].item<int64_t>()) input.push_back(a.input_ids[r][i].item<int64_t>());
        for (int64_t i = 0; i < a.labels.size(1); ++i)
            if (a.labels[r][i].item<int64_t>() != -100) labels.push_back(a.labels[r][i].item<int64_t>());
        QCOMPARE(labels.front(), first_sentinel);
        std::map<int64_t, std::vector<int64_t>> hidden;
        int64_t current = -1;
        for (size_t i = 0; i + 1 < labels.size(); ++i) {
            if (labels[i] > first_sentinel - 100 && labels[i] <= first_sentinel) current = labels[i];
            else hidden[current].push_back(labels[i]);
        }
        std::vector<int64_t> restored;
        for (int64_t id : input) {
            if (hidden.count(id)) restored.insert(restored.end(), hidden[id].begin(), hidden[id].end());
            else restored.push_back(id);
        }
        QCOMPARE(restored, data.train[r].source);  // </s> closes both
        const size_t length = data.train[r].source.size() - 1, kept = input.size() - 1 - hidden.size();
        QCOMPARE(static_cast<double>(length - kept), std::nearbyint(static_cast<double>(length) * args.mlm_probability));
    }
    args.predict_with_generate = true;
    QVERIFY_THROWS_EXCEPTION(ConfigError, args.validate("test"));

    // text_infilling: the same inputs; the labels are the prompt itself, cut at max_target_length.
    args.predict_with_generate = false;
    args.objective = TrainingObjective::text_infilling;
    args.max_target_length = 40;
    const TrainingData infilling = prepare_training_data(m_train, args, tokenizer);
    const Seq2SeqBatch b = training_batch(infilling, rows, args, 0, tokenizer.pad_token_id(), torch::kCPU);
    QVERIFY(torch::equal(b.input_ids, a.input_ids));
    for (size_t r = 0; r < rows.size(); ++r) {
        const TokenIds& prompt = infilling.train[r].source;
        TokenIds expected(prompt.begin(), prompt.begin() + std::min<std::ptrdiff_t>(39, static_cast<std::ptrdiff_t>(prompt.size()) - 1));
        expected.push_back(tokenizer.eos_token_id());
        std::vector<int64_t> labels;
        for (int64_t i = 0; i < b.labels.size(1); ++i)
            if (b.labels[r][i].item<int64_t>() != -100) labels.push_back(b.labels[r][i].item<int64_t>());
        QCOMPARE(labels, expected);
    }
    args.predict_with_generate = true;
    QVERIFY_THROWS_EXCEPTION(ConfigError, args.validate("test"));
}

void TestTrainer::stop_leaves_a_checkpoint() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // Trainer::run() tokenizes the data first
    TrainerSetup s = golden_setup(TrainingMethod::lora, "stopped");
    s.args.max_steps = 50;
    TrainerControl control;
    control.stop = true;  // stop before the first step
    TrainResult r = Trainer(s, {}, &control).run();
    QCOMPARE(r.status, RunStatus::stopped);
    QVERIFY(is_file(r.last_checkpoint + "/adapter_model.safetensors"));
    QVERIFY(is_file(r.last_checkpoint + "/trainer_state.json"));
    QCOMPARE(read_run(s.output_dir).status, RunStatus::stopped);
    // A half-written checkpoint (a kill during the save) is never taken for a complete one.
    make_writable_dir(s.output_dir + "/checkpoint-7.tmp");
    QCOMPARE(list_checkpoints(s.output_dir).size(), size_t{1});
}

void TestTrainer::nan_steps_are_skipped_then_stop_the_run() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // Trainer::run() tokenizes the data first
    TrainerSetup s = golden_setup(TrainingMethod::full, "nan");
    s.args.max_steps = 10;
    s.args.save_strategy = IntervalStrategy::steps;
    s.args.save_steps = 1;
    TrainerCallbacks cb;
    std::vector<std::string> messages;
    cb.on_message = [&](const std::string& m) { messages.push_back(m); };
    cb.before_step = [](torch::nn::Module& model, int64_t step) {
        if (step >= 2) {  // from the third step on, poison a weight
            torch::NoGradGuard no_grad;
            model.named_parameters()["decoder.final_layer_norm.weight"].fill_(NAN);
        }
    };
    try {
        Trainer(s, cb).run();
        QFAIL("a run whose loss stays NaN finished");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("NaN"), e.what());
    }
    QCOMPARE(messages.size(), size_t{3});
    RunInfo info = read_run(s.output_dir);
    QCOMPARE(info.status, RunStatus::failed);
    QVERIFY(info.last_checkpoint.find("checkpoint-") != std::string::npos);
}

void TestTrainer::bad_configuration_data() {
    QTest::addColumn<QString>("what");
    QTest::addColumn<QString>("message");
    QTest::newRow("rank 0") << "rank0" << "r";
    QTest::newRow("unknown target module") << "target" << "target_modules";
    QTest::newRow("target absent from a gated model") << "wi" << "matches no layer";
    QTest::newRow("data without summaries") << "columns" << "summary";
    QTest::newRow("adapter for another base") << "adapter" << "adapter shapes do not fit";
}

void TestTrainer::bad_configuration() {
    QFETCH(QString, what);
    QFETCH(QString, message);
    TrainerSetup s = golden_setup(TrainingMethod::lora, "bad-" + what);
    if (what == "rank0") s.args.lora.r = 0;
    if (what == "target") s.args.lora.target_modules = {"q", "query"};
    if (what == "wi") s.args.lora.target_modules = {"wi"};
    if (what == "columns") {
        s.data = m_tmp.filePath("train.csv").toStdString();
        std::ofstream(s.data) << "id,dialogue,topic\nx,#Person1#: hi,greeting\n";
    }
    if (what == "adapter") s.init_adapter = shared_path("golden/t5/tiny-t5v1-lora-r4");
    try {
        Trainer(s).run();
        QFAIL("a bad configuration trained");
    } catch (const Error& e) {
        // Rows refused after the tokenizer loads cannot be checked where SentencePiece is refused.
        if (sumlab_test::is_sentencepiece_refusal(e.what())) QSKIP(SUMLAB_SENTENCEPIECE_REFUSED_MESSAGE);
        QVERIFY2(QString(e.what()).contains(message), e.what());
    }
}


// A tiny model trained long enough on 32 DialogSum dialogues must memorise them.
void TestTrainer::overfits_32_dialogues() {
    std::string csv = shared_path("dialogsum/csv/train.csv");
    SUMLAB_REQUIRE_SHARED(csv);
    SUMLAB_REQUIRE_SENTENCEPIECE();
    TrainerSetup s = golden_setup(TrainingMethod::full, "overfit");
    s.data = csv;
    s.args.limit = 32;
    s.args.max_steps = 200;
    s.args.learning_rate = 3e-3;
    s.args.logging_steps = 25;
    s.args.max_source_length = 64;
    s.args.max_target_length = 32;
    Trainer(s).run();
    auto logs = logs_of(s.output_dir);
    QCOMPARE(logs.size(), size_t{8});
    QVERIFY2(logs.back().loss < 0.5 && logs.back().loss < logs.front().loss / 8,
             qPrintable(QString("loss went from %1 to %2").arg(logs.front().loss).arg(logs.back().loss)));
}



QTEST_GUILESS_MAIN(TestTrainer)
#include "tst_trainer.moc"
