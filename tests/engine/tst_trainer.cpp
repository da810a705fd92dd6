// The trainer against Hugging Face's Trainer and PEFT (../shared/golden/t5 train.json, lora.json):
// the same losses, gradient norms and weights after AdamW steps; plus exact resume, NaN handling,
// bad configurations and LoRA's untouched base weights.
#include "tests/common/golden_torch.h"

#include "engine/batcher.h"
#include "engine/optimizer.h"
#include "engine/run_folder.h"
#include "engine/tokenizer.h"
#include "engine/trainer.h"
#include "models/checkpoint.h"
#include "models/errors.h"
#include "models/file_util.h"
#include "models/lora.h"
#include "models/safetensors.h"
#include "tests/common/sanitizer.h"

#include <QtTest>

#include <fstream>

using namespace sumlab;
using namespace sumlab::test;

class TestTrainer : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void full_fine_tuning_matches_huggingface();
    void lora_matches_peft();
    void read_run_skips_lines_it_cannot_read();
    void discarded_checkpoints_never_look_complete();
    void lora_counts_match_peft();
    void lora_adapter_loads_and_merges();
    void resume_gives_the_same_curve();
    void stop_leaves_a_checkpoint();
    void nan_steps_are_skipped_then_stop_the_run();
    void bad_configuration_data();
    void bad_configuration();
    void schedules();
    void overfits_32_dialogues();

private:
    TrainerSetup golden_setup(TrainingMethod method, const QString& out) const;
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

TrainerSetup TestTrainer::golden_setup(TrainingMethod method, const QString& out) const {
    TrainerSetup s;
    s.model_dir = m_model;
    s.data = m_train;
    s.output_dir = m_tmp.filePath(out).toStdString();
    s.args.method = method;
    s.args.max_steps = 3;
    s.args.per_device_train_batch_size = 8;  // one batch holding every example, as the goldens
    s.args.learning_rate = 1e-3;
    s.args.weight_decay = 0.01;
    s.args.lr_scheduler_type = SchedulerType::constant;
    s.args.dropout_rate = 0.0;
    s.args.logging_steps = 1;
    s.args.save_strategy = IntervalStrategy::no;
    return s;
}

void TestTrainer::full_fine_tuning_matches_huggingface() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // Trainer::run() tokenizes the data first
    auto gold = load_json(m_gold + "/train.json");
    TrainerSetup setup = golden_setup(TrainingMethod::full, "full");
    TrainResult r = Trainer(setup).run();
    QCOMPARE(r.status, RunStatus::finished);
    auto logs = logs_of(setup.output_dir);
    QCOMPARE(logs.size(), size_t{3});
    for (size_t k = 0; k < 3; ++k) {
        const auto& step = gold["steps"][k];
        QVERIFY2(std::abs(logs[k].loss - step["loss"].get<double>()) < 1e-5, qPrintable(QString("step %1 loss %2").arg(k + 1).arg(logs[k].loss)));
        QVERIFY2(rel_diff(logs[k].grad_norm, step["total_grad_norm_before_clip"].get<double>()) < 1e-5,
                 qPrintable(QString("step %1 grad norm %2").arg(k + 1).arg(logs[k].grad_norm)));
    }
    // The weights after three AdamW steps: sums and norms of every parameter.
    LoadedModel trained = load_model(r.final_dir);
    auto params = trained.model->named_parameters();
    for (const auto& [name, want] : gold["params_after_3_steps"].items()) {
        auto* p = params.find(name);
        QVERIFY2(p, name.c_str());
        QVERIFY2(rel_diff(p->to(torch::kFloat64).norm().item<double>(), want["norm"].get<double>()) < 1e-5, name.c_str());
        QVERIFY2(std::abs(p->to(torch::kFloat64).sum().item<double>() - want["sum"].get<double>()) < 1e-4 * std::max(1.0, want["abs_sum"].get<double>() / 1000), name.c_str());
    }
    // The loss after three steps, evaluated like the reference (dropout off).
    auto meta = load_json(m_gold + "/meta.json");
    torch::NoGradGuard no_grad;
    auto out = trained.model->forward(long_tensor(meta["input_ids"]), long_tensor(meta["attention_mask"]), long_tensor(meta["labels"]));
    QVERIFY2(std::abs(out.loss.item<double>() - gold["loss_after_3_steps_train_mode"].get<double>()) < 1e-4, qPrintable(QString::number(out.loss.item<double>(), 'g', 10)));
}

void TestTrainer::lora_matches_peft() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // Trainer::run() tokenizes the data first
    auto gold = load_json(m_gold + "/lora.json");
    TrainerSetup setup = golden_setup(TrainingMethod::lora, "lora");
    setup.init_adapter = m_model + "-lora-r4";
    TrainResult r = Trainer(setup).run();
    auto logs = logs_of(setup.output_dir);
    QCOMPARE(logs.size(), size_t{3});
    for (size_t k = 0; k < 3; ++k) {
        const auto& step = gold["train_steps"][k];
        QVERIFY2(std::abs(logs[k].loss - step["loss"].get<double>()) < 1e-5, qPrintable(QString("step %1 loss %2").arg(k + 1).arg(logs[k].loss)));
        QVERIFY2(rel_diff(logs[k].grad_norm, step["total_grad_norm_before_clip"].get<double>()) < 1e-5, "grad norm");
    }
    // Base weights untouched, bit for bit; the adapter carries the reference's values.
    LoadedModel base = load_model(m_model);
    LoadedModel tuned = load_model(m_model);
    load_adapter(*tuned.model, r.final_dir);
    auto tuned_params = tuned.model->named_parameters();
    for (const auto& p : base.model->named_parameters()) QVERIFY2(p.value().equal(tuned_params[p.key()]), p.key().c_str());
    auto meta = load_json(m_gold + "/meta.json");
    torch::NoGradGuard no_grad;
    auto out = tuned.model->forward(long_tensor(meta["input_ids"]), long_tensor(meta["attention_mask"]), long_tensor(meta["labels"]));
    QVERIFY2(std::abs(out.loss.item<double>() - gold["loss_after_3_steps"].get<double>()) < 1e-4, qPrintable(QString::number(out.loss.item<double>(), 'g', 10)));
}

void TestTrainer::lora_counts_match_peft() {
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

void TestTrainer::lora_adapter_loads_and_merges() {
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
    QVERIFY((merged.logits - out.logits).abs().max().item<double>() <= 1e-4);
    QVERIFY(std::abs(merged.loss.item<double>() - gold["forward_eval_merged"]["loss"].get<double>()) < 1e-5);
    compare_checks(m.model->named_parameters()["encoder.block.0.layer.0.SelfAttention.q.weight"], gold["merged_q0_weight_checks"], "merged q0");
    // An adapter made for another base model is refused, naming the file.
    LoadedModel other = load_model(shared_path("golden/t5/tiny-t5v1"));
    try {
        load_adapter(*other.model, m_model + "-lora-r4");
        QFAIL("a tiny-flan adapter loaded into tiny-t5v1");
    } catch (const FileError& e) {
        QVERIFY2(QString(e.what()).contains("adapter_model.safetensors"), e.what());
    }
}

void TestTrainer::resume_gives_the_same_curve() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // Trainer::run() tokenizes the data first
    // Dropout on, so the restored random state matters; six steps, batches of 4 over two epochs.
    auto make = [&](const QString& out) {
        TrainerSetup s = golden_setup(TrainingMethod::full, out);
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

void TestTrainer::schedules() {
    QCOMPARE(schedule_factor(SchedulerType::linear, 0, 2, 10), 0.0);
    QCOMPARE(schedule_factor(SchedulerType::linear, 1, 2, 10), 0.5);
    QCOMPARE(schedule_factor(SchedulerType::linear, 2, 2, 10), 1.0);
    QCOMPARE(schedule_factor(SchedulerType::linear, 6, 2, 10), 0.5);
    QCOMPARE(schedule_factor(SchedulerType::constant, 0, 2, 10), 1.0);
    QVERIFY(std::abs(schedule_factor(SchedulerType::cosine, 6, 2, 10) - 0.5) < 1e-12);
    QVERIFY(!decays("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"));
    QVERIFY(!decays("decoder.final_layer_norm.weight"));
    QVERIFY(decays("encoder.block.0.layer.0.SelfAttention.q.weight"));
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

// A metrics line of the wrong shape (found by reading the fuzz target's input space) must cost that
// line only: the Runs page reads folders being written by other machines.
void TestTrainer::read_run_skips_lines_it_cannot_read() {
    const std::string dir = m_tmp.filePath("odd-metrics").toStdString();
    QVERIFY(QDir().mkpath(QString::fromStdString(dir)));
    write_atomically(dir + "/run.json", "{}\n");
    write_atomically(dir + "/metrics.jsonl",
                     "{\"step\":1,\"loss\":2.5}\n"
                     "{\"step\":2,\"loss\":\"x\"}\n"
                     "{\"step\":[3],\"eval_loss\":1.0}\n"
                     "not json\n"
                     "{\"step\":4,\"loss\":1.5}\n"
                     "{\"step\":5,\"lo");
    RunInfo info = read_run(dir);
    QCOMPARE(static_cast<int>(info.logs.size()), 2);
    QCOMPARE(info.logs[0].step, int64_t{1});
    QCOMPARE(info.logs[1].step, int64_t{4});
    QCOMPARE(info.logs[1].loss, 1.5);
    QVERIFY(info.evals.empty());
}

// Pruning a checkpoint (save_total_limit) or replacing final/ deletes file by file; a kill in the middle
// must not leave a half-deleted folder under a name that means "complete", where a resume or the run
// list would take it for one.
void TestTrainer::discarded_checkpoints_never_look_complete() {
    using namespace sumlab;
    QTemporaryDir dir;
    const std::string run = dir.path().toStdString();
    auto make_checkpoint = [&](const std::string& name) {
        const std::string path = join_path(run, name);
        make_writable_dir(join_path(path, "sub"));
        write_atomically(join_path(path, "trainer_state.json"), "{}\n");
        write_atomically(join_path(path, "sub/weights"), "x");
        return path;
    };
    const std::string second = make_checkpoint("checkpoint-2");
    make_checkpoint("checkpoint-4");
    // What a kill during an earlier discard of checkpoint-2 leaves behind.
    make_checkpoint("checkpoint-2.deleting");
    discard_tree(second);
    QVERIFY(!is_directory(second));
    QVERIFY(!is_directory(second + ".deleting"));
    const auto left = list_checkpoints(run);
    QCOMPARE(left.size(), size_t{1});
    QCOMPARE(left[0].first, int64_t{4});
    // A folder being discarded is never listed, whatever it still holds.
    make_checkpoint("checkpoint-6.deleting");
    QCOMPARE(list_checkpoints(run).size(), size_t{1});
    discard_tree(join_path(run, "absent"));  // nothing to do, no error
}

QTEST_GUILESS_MAIN(TestTrainer)
#include "tst_trainer.moc"
