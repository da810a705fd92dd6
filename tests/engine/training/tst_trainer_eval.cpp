// The trainer's evaluation beyond the loss, against Hugging Face transformers 4.28's meaning: ROUGE of
// generated summaries (predict_with_generate) equals the rouge code run on the same summaries of the same
// checkpoint; the best checkpoint (metric_for_best_model, greater_is_better) survives save_total_limit and
// becomes final/; early stopping ends the run where EarlyStoppingCallback's rule says; label smoothing equals
// HF's LabelSmoother (tests/engine/training/label_smoothing.json, made by make_label_smoothing_goldens.py) and
// an independent float64 computation; a resumed run keeps its best checkpoint and patience.
#include "tests/common/golden_torch.h"

#include "engine/metrics/bootstrap.h"
#include "engine/data/dialogsum.h"
#include "engine/generation/generation.h"
#include "engine/data/prompt.h"
#include "engine/metrics/rouge.h"
#include "engine/training/run_folder.h"
#include "engine/text/tokenizer.h"
#include "engine/training/trainer.h"
#include "engine/training/trainer_eval.h"
#include "models/checkpoint.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "models/safetensors.h"
#include "tests/common/sanitizer.h"

#include <QtTest>

#include <fstream>
#include <map>

using namespace sumlab;
using namespace sumlab::test;

class TestTrainerEval : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void rouge_at_evaluation_is_rouge_of_its_predictions();
    void best_checkpoint_survives_rotation_and_is_final();
    void rotation_keeps_the_best_as_huggingface_data();
    void rotation_keeps_the_best_as_huggingface();
    void early_stopping_stops_where_huggingface_does_data();
    void early_stopping_stops_where_huggingface_does();
    void label_smoothing_matches_huggingface_data();
    void label_smoothing_matches_huggingface();
    void resume_keeps_the_best_and_the_patience();

private:
    // A DialogSum folder: the first n_train lines of `train_src` as the train split, the first n_dev lines of
    // `dev_src` as the validation split.
    std::string make_data(const QString& name, const std::string& train_src, int n_train, const std::string& dev_src, int n_dev);
    TrainerSetup small_setup(const QString& out, const std::string& data) const;
    QTemporaryDir m_tmp;
    std::string m_model, m_golden_rows, m_train_jsonl, m_dev_jsonl;
    std::string m_same_rows;  // train and validation both the 8 golden rows (the eval loss falls step by step)
};

void TestTrainerEval::initTestCase() {
    m_model = shared_path("golden/t5/tiny-flan");
    m_golden_rows = shared_path("dialogsum/jsonl/dialogsum.test.jsonl");  // rows 0-7 are the goldens' batch
    m_train_jsonl = shared_path("dialogsum/jsonl/dialogsum.train.jsonl");
    m_dev_jsonl = shared_path("dialogsum/jsonl/dialogsum.dev.jsonl");
    for (const std::string& p : {m_model + "/config.json", m_golden_rows, m_train_jsonl, m_dev_jsonl})
        if (!exists(p)) QSKIP(qPrintable(QString("missing %1").arg(QString::fromStdString(p))));
    m_same_rows = make_data("same-rows", m_golden_rows, 8, m_golden_rows, 8);
}

std::string TestTrainerEval::make_data(const QString& name, const std::string& train_src, int n_train, const std::string& dev_src, int n_dev) {
    const std::string dir = m_tmp.filePath(name).toStdString();
    make_writable_dir(dir);
    auto copy = [](const std::string& src, int n, const std::string& dst) {
        std::ifstream in(src);
        std::ofstream out(dst);
        std::string line;
        for (int i = 0; i < n && std::getline(in, line); ++i) out << line << "\n";
    };
    copy(train_src, n_train, dir + "/dialogsum.train.jsonl");
    copy(dev_src, n_dev, dir + "/dialogsum.dev.jsonl");
    return dir;
}

// Full fine-tuning of tiny-flan, one batch of 8 per step (one step per epoch), evaluation and a checkpoint
// at every step, dropout off: the same numbers on every run.
TrainerSetup TestTrainerEval::small_setup(const QString& out, const std::string& data) const {
    TrainerSetup s;
    s.model_dir = m_model;
    s.data = data;
    s.output_dir = m_tmp.filePath(out).toStdString();
    s.args.method = TrainingMethod::full;
    s.args.max_steps = 4;
    s.args.per_device_train_batch_size = 8;
    s.args.learning_rate = 1e-3;
    s.args.lr_scheduler_type = SchedulerType::constant;
    s.args.dropout_rate = 0.0;
    s.args.logging_steps = 1;
    s.args.max_source_length = 96;
    s.args.max_target_length = 32;
    s.args.eval_strategy = IntervalStrategy::steps;
    s.args.eval_steps = 1;
    s.args.save_strategy = IntervalStrategy::steps;
    s.args.save_steps = 1;
    return s;
}

// Every line of a JSON Lines file.
static std::vector<nlohmann::json> json_lines(const std::string& path) {
    std::vector<nlohmann::json> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    return out;
}

static std::vector<nlohmann::json> eval_lines(const std::string& run) {
    std::vector<nlohmann::json> out;
    for (const auto& j : json_lines(run + "/metrics.jsonl"))
        if (j.contains("eval_loss")) out.push_back(j);
    return out;
}

static std::map<std::string, torch::Tensor> weights_of(const std::string& dir) {
    SafetensorsFile f(dir + "/model.safetensors");
    std::map<std::string, torch::Tensor> out;
    for (const auto& e : f.entries()) out[e.name] = f.load(e.name);
    return out;
}

// Whether every tensor of two model folders is equal bit for bit (the first difference in `why`).
static bool same_weights(const std::string& a, const std::string& b, QString* why) {
    const auto wa = weights_of(a), wb = weights_of(b);
    if (wa.size() != wb.size()) {
        *why = QString("%1 tensors vs %2").arg(wa.size()).arg(wb.size());
        return false;
    }
    for (const auto& [name, t] : wa) {
        if (!wb.count(name) || !torch::equal(t, wb.at(name))) {
            *why = QString("%1 differs between %2 and %3").arg(name.c_str(), a.c_str(), b.c_str());
            return false;
        }
    }
    return true;
}

void TestTrainerEval::rouge_at_evaluation_is_rouge_of_its_predictions() {
    SUMLAB_REQUIRE_SENTENCEPIECE();
    const std::string data = make_data("rouge-data", m_train_jsonl, 8, m_dev_jsonl, 6);
    {
        // References that end in "Person2s": the token person2s, which only the Porter stemmer (rouge_score's
        // use_stemmer) matches to the person2 of the tiny model's "#Person2#", so the stemmer shows in the scores.
        std::vector<nlohmann::json> rows = json_lines(data + "/dialogsum.dev.jsonl");
        std::ofstream out(data + "/dialogsum.dev.jsonl");
        for (auto& row : rows) {
            row["summary"] = row["summary"].get<std::string>() + " Person2s talk.";
            out << row.dump() << "\n";
        }
    }
    TrainerSetup s = small_setup("rouge", data);
    s.args.max_steps = 2;
    s.args.predict_with_generate = true;
    s.args.generation_max_length = 24;
    s.args.generation_num_beams = 2;
    s.args.eval_generate_limit = 4;  // of 6 validation examples: the first 4, each time
    std::vector<EvalMetrics> seen;
    TrainerCallbacks cb;
    cb.on_evaluate = [&](const EvalMetrics& m) { seen.push_back(m); };
    QCOMPARE(Trainer(s, cb).run().status, RunStatus::finished);

    // The same summaries again, independently: each checkpoint, HF's generation settings (the model's
    // generation config, max_length and num_beams from the arguments), the run's prompt and truncation.
    const T5Tokenizer tokenizer = T5Tokenizer::from_directory(m_model);
    GenerationConfig config = load_model(m_model).generation;
    config.max_length = 24;
    config.num_beams = 2;
    const PromptTemplate prompt = resolve_prompt("dialogsum");
    DialogSumDataset dev = load_dialogsum(data);
    const DialogSumSplit* validation = dev.find(Split::validation);
    QVERIFY(validation && validation->examples.size() == 6);
    std::vector<std::string> prompts;
    for (size_t i = 0; i < 4; ++i) prompts.push_back(prompt.render(validation->examples[i].dialogue));

    const auto evals = eval_lines(s.output_dir);
    const auto kept = json_lines(s.output_dir + "/" + kEvalPredictionsFile);
    QCOMPARE(evals.size(), size_t{2});
    QCOMPARE(kept.size(), size_t{2});
    QCOMPARE(seen.size(), size_t{2});
    for (size_t e = 0; e < evals.size(); ++e) {
        const int64_t step = evals[e].at("step").get<int64_t>();
        for (const char* key : {"eval_loss", "eval_rouge1", "eval_rouge2", "eval_rougeL", "eval_rougeLsum", "eval_gen_len", "eval_generated"})
            QVERIFY2(evals[e].contains(key), key);
        QCOMPARE(evals[e].at("eval_generated").get<int64_t>(), int64_t{4});
        LoadedModel at_step = load_model(s.output_dir + "/checkpoint-" + std::to_string(step));
        const auto out = generate_texts(*at_step.model, tokenizer, prompts, config, s.args.per_device_eval_batch_size, s.args.max_source_length);
        const RougeScorer scorer(Stemming::porter);  // `sumlab-cli rouge --stemmer`
        std::vector<RougeScores> per_example;
        double tokens = 0;
        for (size_t i = 0; i < out.size(); ++i) {
            per_example.push_back(scorer.score_multi(validation->examples[i].references, out[i].text));
            for (int64_t id : out[i].token_ids) tokens += id != tokenizer.pad_token_id() ? 1 : 0;
        }
        const RougeScores mean = mean_rouge(per_example);
        std::vector<RougeScores> unstemmed;
        for (size_t i = 0; i < out.size(); ++i)
            unstemmed.push_back(RougeScorer(Stemming::none).score_multi(validation->examples[i].references, out[i].text));
        QVERIFY2(mean_rouge(unstemmed).rouge1.fmeasure != mean.rouge1.fmeasure, "the summaries no longer show the stemmer: change the references");
        // JSON keeps doubles round-trip exact, and both sides run the same arithmetic: equal, not close.
        QCOMPARE(evals[e].at("eval_rouge1").get<double>(), mean.rouge1.fmeasure);
        QCOMPARE(evals[e].at("eval_rouge2").get<double>(), mean.rouge2.fmeasure);
        QCOMPARE(evals[e].at("eval_rougeL").get<double>(), mean.rougeL.fmeasure);
        QCOMPARE(evals[e].at("eval_rougeLsum").get<double>(), mean.rougeLsum.fmeasure);
        QCOMPARE(evals[e].at("eval_gen_len").get<double>(), tokens / 4.0);
        QCOMPARE(seen[e].eval_rougeL, mean.rougeL.fmeasure);
        // The kept summaries are those summaries, with their ids and references.
        QCOMPARE(kept[e].at("step").get<int64_t>(), step);
        const auto& list = kept[e].at("predictions");
        QCOMPARE(list.size(), size_t{4});
        for (size_t i = 0; i < 4; ++i) {
            QCOMPARE(QString::fromStdString(list[i].at("id").get<std::string>()), QString::fromStdString(validation->examples[i].id));
            QCOMPARE(QString::fromStdString(list[i].at("prediction").get<std::string>()), QString::fromStdString(out[i].text));
            QCOMPARE(QString::fromStdString(list[i].at("reference").get<std::string>()),
                     QString::fromStdString(validation->examples[i].references.front()));
        }
    }
    // read_run (the Runs page) reads them back.
    const RunInfo info = read_run(s.output_dir);
    QCOMPARE(info.evals.size(), size_t{2});
    QVERIFY(info.evals.back().has_rouge);
    QCOMPARE(info.evals.back().eval_rougeLsum, evals.back().at("eval_rougeLsum").get<double>());
    QCOMPARE(info.predictions.size(), size_t{2});
    QCOMPARE(info.predictions.back().examples.size(), size_t{4});
}

// HF's _save_checkpoint rule applied to the logged evaluations (one per saved step): the checkpoint of the
// first strictly better value.
static int64_t best_step_by_rule(const std::vector<nlohmann::json>& evals, const char* key, bool greater_is_better) {
    int64_t best_step = -1;
    double best = 0;
    for (const auto& e : evals) {
        const double v = e.at(key).get<double>();
        if (best_step < 0 || (greater_is_better ? v > best : v < best)) {
            best = v;
            best_step = e.at("step").get<int64_t>();
        }
    }
    return best_step;
}

void TestTrainerEval::best_checkpoint_survives_rotation_and_is_final() {
    SUMLAB_REQUIRE_SENTENCEPIECE();
    TrainerSetup s = small_setup("best", m_same_rows);
    s.args.save_total_limit = 2;
    s.args.load_best_model_at_end = true;
    s.args.metric_for_best_model = "loss";
    s.args.greater_is_better = true;  // inverted: the highest eval loss is "best", so an old checkpoint stays best
    const TrainResult r = Trainer(s).run();
    QCOMPARE(r.status, RunStatus::finished);
    const auto evals = eval_lines(s.output_dir);
    QCOMPARE(evals.size(), size_t{4});
    const int64_t best = best_step_by_rule(evals, "eval_loss", true);
    // The case needs the best to be older than the newest two (training on the evaluated rows lowers the loss).
    QVERIFY2(best >= 1 && best <= 2, qPrintable(QString("the best is checkpoint-%1: the data no longer makes the case").arg(best)));
    const std::string best_dir = join_path(s.output_dir, "checkpoint-" + std::to_string(best));
    const double best_loss = evals[static_cast<size_t>(best - 1)].at("eval_loss").get<double>();

    // Rotation kept the best and the newest (save_total_limit 2), nothing else.
    QStringList kept;
    for (const auto& c : list_checkpoints(s.output_dir)) kept << QString::number(c.first);
    QCOMPARE(kept, (QStringList{QString::number(best), QStringLiteral("4")}));
    // final/ is the best checkpoint's weights bit for bit, not the last step's.
    QString why;
    QVERIFY2(same_weights(best_dir, s.output_dir + "/final", &why), qPrintable(why));
    QVERIFY(!same_weights(s.output_dir + "/checkpoint-4", s.output_dir + "/final", &why));
    // trainer_state.json, run.json and the result record it as HF's TrainerState does.
    const auto state = load_json(s.output_dir + "/checkpoint-4/trainer_state.json");
    QCOMPARE(QString::fromStdString(state.at("best_model_checkpoint").get<std::string>()), QString::fromStdString(best_dir));
    QCOMPARE(state.at("best_metric").get<double>(), best_loss);
    const auto first_state = load_json(s.output_dir + "/checkpoint-" + std::to_string(best) + "/trainer_state.json");
    QCOMPARE(QString::fromStdString(first_state.at("best_model_checkpoint").get<std::string>()), QString::fromStdString(best_dir));
    QCOMPARE(state.at("log_history").size(), size_t{8});  // 4 logging lines, 4 evaluations
    const auto run_json = load_json(s.output_dir + "/run.json");
    QCOMPARE(QString::fromStdString(run_json.at("best_model_checkpoint").get<std::string>()), QString::fromStdString(best_dir));
    QCOMPARE(run_json.at("best_metric").get<double>(), best_loss);
    QCOMPARE(QString::fromStdString(r.best_model_checkpoint), QString::fromStdString(best_dir));
    QCOMPARE(read_run(s.output_dir).best_model_checkpoint, best_dir);
}

void TestTrainerEval::rotation_keeps_the_best_as_huggingface_data() {
    QTest::addColumn<QList<int>>("checkpoints");
    QTest::addColumn<int>("best");  // 0: none
    QTest::addColumn<int>("limit");
    QTest::addColumn<QList<int>>("deleted");
    // Worked through transformers 4.28's _sorted_checkpoints / _rotate_checkpoints by hand.
    QTest::newRow("no best: the oldest go") << QList<int>{1, 2, 3} << 0 << 2 << QList<int>{1};
    QTest::newRow("oldest is best") << QList<int>{1, 2, 3} << 1 << 2 << QList<int>{2};
    QTest::newRow("newest is best") << QList<int>{1, 2, 3} << 3 << 2 << QList<int>{1};
    QTest::newRow("middle best of five, limit 3") << QList<int>{1, 2, 3, 4, 5} << 2 << 3 << QList<int>{1, 3};
    QTest::newRow("limit 1 keeps best and newest") << QList<int>{1, 2} << 1 << 1 << QList<int>{};
    QTest::newRow("limit 1, best oldest of three") << QList<int>{1, 2, 3} << 1 << 1 << QList<int>{2};
    QTest::newRow("limit 1, newest best") << QList<int>{1, 2, 3} << 3 << 1 << QList<int>{1, 2};
    QTest::newRow("under the limit") << QList<int>{1, 2} << 1 << 3 << QList<int>{};
    QTest::newRow("no limit") << QList<int>{1, 2, 3} << 1 << 0 << QList<int>{};
}

void TestTrainerEval::rotation_keeps_the_best_as_huggingface() {
    QFETCH(QList<int>, checkpoints);
    QFETCH(int, best);
    QFETCH(int, limit);
    QFETCH(QList<int>, deleted);
    auto path = [](int step) { return "/runs/a/checkpoint-" + std::to_string(step); };
    std::vector<std::string> all;
    for (int c : checkpoints) all.push_back(path(c));
    // The best as a resumed run may hold it: the same folder under another path.
    const std::string best_path = best ? "/moved/a/checkpoint-" + std::to_string(best) : std::string();
    QList<int> got;
    for (const std::string& d : checkpoints_to_delete(all, best_path, limit)) got << std::stoi(d.substr(d.rfind('-') + 1));
    std::sort(got.begin(), got.end());
    QCOMPARE(got, deleted);
}

void TestTrainerEval::early_stopping_stops_where_huggingface_does_data() {
    QTest::addColumn<bool>("greater");
    QTest::addColumn<int>("patience");
    QTest::addColumn<double>("threshold");
    QTest::addColumn<bool>("stops");  // whether the case must end early (guards against data that stopped making it)
    QTest::newRow("never improves (inverted direction), patience 2") << true << 2 << 0.0 << true;
    QTest::newRow("improvements below the threshold, patience 1") << false << 1 << 10.0 << true;
    QTest::newRow("improving run goes on") << false << 1 << 0.0 << false;
}

void TestTrainerEval::early_stopping_stops_where_huggingface_does() {
    SUMLAB_REQUIRE_SENTENCEPIECE();
    QFETCH(bool, greater);
    QFETCH(int, patience);
    QFETCH(double, threshold);
    QFETCH(bool, stops);
    TrainerSetup s = small_setup(QString("early-%1").arg(QTest::currentDataTag()).replace(' ', '-').replace(',', '-'), m_same_rows);
    s.args.max_steps = 5;
    s.args.load_best_model_at_end = true;
    s.args.metric_for_best_model = "eval_loss";
    s.args.greater_is_better = greater;
    s.args.early_stopping_patience = patience;
    s.args.early_stopping_threshold = threshold;
    const TrainResult r = Trainer(s).run();
    QCOMPARE(r.status, RunStatus::finished);
    // EarlyStoppingCallback replayed on the logged evaluations: checked against the best before each
    // evaluation's checkpoint updates it (_save_checkpoint runs after on_evaluate).
    int64_t expected = s.args.max_steps, counter = 0;
    std::optional<double> best;
    for (const auto& e : eval_lines(s.output_dir)) {
        const double v = e.at("eval_loss").get<double>();
        const bool better = best && (greater ? v > *best : v < *best);
        counter = !best || (better && std::abs(v - *best) > threshold) ? 0 : counter + 1;
        if (!best || better) best = v;
        if (counter >= patience) {
            expected = e.at("step").get<int64_t>();
            break;
        }
    }
    QCOMPARE(expected < s.args.max_steps, stops);
    QCOMPARE(r.global_step, expected);
    QCOMPARE(static_cast<int64_t>(eval_lines(s.output_dir).size()), expected);  // nothing ran after the stop
    const RunInfo info = read_run(s.output_dir);
    QCOMPARE(info.status, RunStatus::finished);
    if (stops) {
        QVERIFY2(QString::fromStdString(r.message).contains("early stopping"), r.message.c_str());
        QCOMPARE(QString::fromStdString(info.error), QString::fromStdString(r.message));  // status.json says why
    } else {
        QVERIFY2(r.message.empty(), r.message.c_str());
    }
}

void TestTrainerEval::label_smoothing_matches_huggingface_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<double>("epsilon");
    QTest::newRow("tiny-flan/0.0") << "tiny-flan" << 0.0;  // the plain loss: the setup is the goldens'
    QTest::newRow("tiny-flan/0.1") << "tiny-flan" << 0.1;
    QTest::newRow("tiny-flan/0.3") << "tiny-flan" << 0.3;
    QTest::newRow("tiny-t5v1/0.1") << "tiny-t5v1" << 0.1;  // tied embeddings: logits rescaled by d_model^-0.5
}

void TestTrainerEval::label_smoothing_matches_huggingface() {
    SUMLAB_REQUIRE_SENTENCEPIECE();
    QFETCH(QString, model);
    QFETCH(double, epsilon);
    const std::string model_dir = shared_path("golden/t5/" + model.toStdString());
    const std::string meta_path = model_dir + ".goldens/meta.json";
    SUMLAB_REQUIRE_SHARED(meta_path);
    const auto golden = load_json(std::string(SUMLAB_SOURCE_DIR) + "/tests/engine/training/label_smoothing.json");
    char key[16];
    std::snprintf(key, sizeof key, "%.1f", epsilon);
    const double hf = golden.at("models").at(model.toStdString()).at("loss").at(key).get<double>();

    // 1. Independently, in float64 from the model's logits on the goldens' batch: HF's formula.
    const auto meta = load_json(meta_path);
    LoadedModel m = load_model(model_dir);
    // Float32 logits and sums over 338 positions x 2112 classes: relative error ~1e-6 of a loss ~6.
    const double tolerance = 1e-5;
    {
    torch::NoGradGuard no_grad;  // this block only: the trainer below needs gradients
    const torch::Tensor ids = long_tensor(meta.at("input_ids")), mask = long_tensor(meta.at("attention_mask")), labels = long_tensor(meta.at("labels"));
    const torch::Tensor logits = m.model->forward(ids, mask, {}, m.model->shift_right(labels)).logits;
    const torch::Tensor lp = torch::log_softmax(logits.to(torch::kFloat64), -1);
    const torch::Tensor active = labels.ne(-100);
    const double n = active.sum().item<double>(), vocab = static_cast<double>(lp.size(-1));
    const double nll = -lp.gather(-1, labels.clamp_min(0).unsqueeze(-1)).squeeze(-1).masked_select(active).sum().item<double>();
    const double smooth = -lp.sum(-1).masked_select(active).sum().item<double>();
    const double independent = (1 - epsilon) * nll / n + epsilon * smooth / (n * vocab);
    QVERIFY2(std::abs(independent - hf) < tolerance, qPrintable(QString("float64 %1 vs HF %2").arg(repr(independent), repr(hf))));
    const double engine = label_smoothed_loss_sum(logits, labels, epsilon).item<double>() / n;
    QVERIFY2(std::abs(engine - independent) < tolerance, qPrintable(QString("label_smoothed_loss_sum %1 vs %2").arg(repr(engine), repr(independent))));
    }

    // 2. The trainer: its first logged loss (before any update) and, with learning_rate 0 so the weights
    // stay, its eval loss on the same rows (Seq2SeqTrainer smooths the eval loss too).
    TrainerSetup s;
    s.model_dir = model_dir;
    s.data = m_same_rows;
    s.output_dir = m_tmp.filePath(QString("smooth-%1-%2").arg(model).arg(key)).toStdString();
    s.args.max_steps = 1;
    s.args.per_device_train_batch_size = 8;
    s.args.learning_rate = 0.0;
    s.args.dropout_rate = 0.0;
    s.args.logging_steps = 1;
    s.args.save_strategy = IntervalStrategy::no;
    s.args.eval_strategy = IntervalStrategy::steps;
    s.args.eval_steps = 1;
    s.args.label_smoothing_factor = epsilon;
    QCOMPARE(Trainer(s).run().status, RunStatus::finished);
    const RunInfo info = read_run(s.output_dir);
    QCOMPARE(info.logs.size(), size_t{1});
    QCOMPARE(info.evals.size(), size_t{1});
    QVERIFY2(std::abs(info.logs[0].loss - hf) < tolerance, qPrintable(QString("train loss %1 vs HF %2").arg(repr(info.logs[0].loss), repr(hf))));
    QVERIFY2(std::abs(info.evals[0].eval_loss - hf) < tolerance, qPrintable(QString("eval loss %1 vs HF %2").arg(repr(info.evals[0].eval_loss), repr(hf))));
}

void TestTrainerEval::resume_keeps_the_best_and_the_patience() {
    SUMLAB_REQUIRE_SENTENCEPIECE();
    auto make = [&](const QString& out) {
        TrainerSetup s = small_setup(out, m_same_rows);
        s.args.max_steps = 6;
        s.args.save_total_limit = 1;
        s.args.load_best_model_at_end = true;
        s.args.greater_is_better = true;  // the first checkpoint stays best; patience 2 ends the run at step 3
        s.args.early_stopping_patience = 2;
        s.args.predict_with_generate = true;  // for eval_predictions.jsonl; the metric stays the loss
        s.args.eval_generate_limit = 2;
        s.args.generation_max_length = 8;
        return s;
    };
    TrainerSetup straight = make("resume-straight");
    const TrainResult a = Trainer(straight).run();
    QCOMPARE(a.global_step, int64_t{3});

    TrainerSetup interrupted = make("resume-interrupted");
    TrainerControl control;
    TrainerCallbacks cb;
    cb.on_log = [&](const StepMetrics& m) {
        if (m.step == 2) control.stop = true;
    };
    QCOMPARE(Trainer(interrupted, cb, &control).run().status, RunStatus::stopped);
    // Resume from the older checkpoint: its trainer_state.json holds the best and the patience counter of step 1,
    // and the lines logged after it (metrics and kept predictions of step 2) are logged again.
    interrupted.resume_from = interrupted.output_dir + "/checkpoint-1";
    const TrainResult b = Trainer(interrupted).run();
    QCOMPARE(b.status, RunStatus::finished);
    QCOMPARE(b.global_step, a.global_step);
    QCOMPARE(QString::fromStdString(b.message), QString::fromStdString(a.message));
    QCOMPARE(QString::fromStdString(b.best_model_checkpoint), QString::fromStdString(interrupted.output_dir + "/checkpoint-1"));
    QVERIFY(a.best_metric && b.best_metric);
    QCOMPARE(*b.best_metric, *a.best_metric);
    QString why;
    QVERIFY2(same_weights(straight.output_dir + "/final", interrupted.output_dir + "/final", &why), qPrintable(why));
    QVERIFY2(same_weights(interrupted.output_dir + "/checkpoint-1", interrupted.output_dir + "/final", &why), qPrintable(why));
    QList<int64_t> steps;
    for (const auto& p : json_lines(interrupted.output_dir + "/" + kEvalPredictionsFile)) steps << p.at("step").get<int64_t>();
    QCOMPARE(steps, (QList<int64_t>{1, 2, 3}));
}




QTEST_GUILESS_MAIN(TestTrainerEval)
#include "tst_trainer_eval.moc"
