// The run folder's writers against its readers (engine/training/run_folder.h): run.json as RunConfig,
// trainer_state.json, metrics.jsonl and eval_predictions.jsonl round trips; bad files named with the
// problem; the status inferred from the files; kills that leave torn lines or half-deleted folders.
#include "engine/training/run_folder.h"
#include "base/errors.h"
#include "base/file_util.h"

#include <QtTest>

using namespace sumlab;

class TestRunFolder : public QObject {
    Q_OBJECT

private slots:
    void run_config_round_trips();
    void bad_run_json_is_named_data();
    void bad_run_json_is_named();
    void read_run_types_run_json();
    void trainer_state_round_trips();
    void metrics_round_trip();
    void status_follows_the_files();
    void read_run_skips_lines_it_cannot_read();
    void discarded_checkpoints_never_look_complete();

private:
    std::string fresh_run(const char* name) {
        const std::string dir = m_tmp.filePath(name).toStdString();
        make_writable_dir(dir);
        return dir;
    }
    QTemporaryDir m_tmp;
};

namespace {

RunConfig sample_config() {
    RunConfig c;
    c.sumlab_version = "9.8.7";
    c.runtime = "LibTorch 1.13.1";
    c.model = "/models/flan-t5-small";
    c.data = "/data/dialogsum";
    c.init_adapter = "/adapters/a";
    c.arguments.method = TrainingMethod::lora;
    c.arguments.learning_rate = 2e-3;
    c.arguments.max_steps = 12;
    c.max_steps_resolved = 12;
    c.train_examples = 100;
    c.validation_examples = 7;
    c.data_sha256 = {{"/data/dialogsum/train.csv", "ab12"}, {"/data/dialogsum/validation.csv", "cd34"}};
    c.resumed_from = "/runs/r/checkpoint-4";
    c.distributed = RunConfig::Distributed{2, "gloo", "torchrun", 16};
    c.started_at = 1700000000;
    c.best_model_checkpoint = "/runs/r/checkpoint-8";
    c.best_metric = 0.25;
    return c;
}

}  // namespace

void TestRunFolder::run_config_round_trips() {
    const std::string dir = fresh_run("config");
    const RunConfig c = sample_config();
    write_run_config(dir, c);
    const RunConfig back = read_run_config(dir);
    QCOMPARE(QString::fromStdString(back.to_json().dump()), QString::fromStdString(c.to_json().dump()));
    QCOMPARE(QString::fromStdString(back.model), QString::fromStdString(c.model));
    QCOMPARE(back.arguments.method, TrainingMethod::lora);
    QCOMPARE(back.arguments.learning_rate, 2e-3);
    QCOMPARE(back.max_steps_resolved, int64_t{12});
    QCOMPARE(back.train_examples, int64_t{100});  // each field, not only the JSON: a key both sides forget would pass that
    QCOMPARE(back.validation_examples, int64_t{7});
    QCOMPARE(QString::fromStdString(back.sumlab_version), QStringLiteral("9.8.7"));
    QCOMPARE(QString::fromStdString(back.runtime), QStringLiteral("LibTorch 1.13.1"));
    QCOMPARE(QString::fromStdString(back.init_adapter), QStringLiteral("/adapters/a"));
    QCOMPARE(QString::fromStdString(back.resumed_from), QStringLiteral("/runs/r/checkpoint-4"));
    QCOMPARE(QString::fromStdString(back.data_sha256.at("/data/dialogsum/validation.csv")), QStringLiteral("cd34"));
    QCOMPARE(QString::fromStdString(back.distributed->launcher), QStringLiteral("torchrun"));
    QCOMPARE(QString::fromStdString(back.best_model_checkpoint), QStringLiteral("/runs/r/checkpoint-8"));
    QCOMPARE(back.data_sha256.size(), size_t{2});
    QVERIFY(back.distributed);
    QCOMPARE(back.distributed->world_size, int64_t{2});
    QCOMPARE(back.distributed->global_batch_size, int64_t{16});
    QCOMPARE(back.started_at, int64_t{1700000000});
    QCOMPARE(*back.best_metric, 0.25);
    // The keys a single-process run without a best omits stay absent, and read back as none.
    RunConfig plain = c;
    plain.distributed.reset();
    plain.resumed_from.clear();
    plain.best_model_checkpoint.clear();
    plain.best_metric.reset();
    const nlohmann::json j = plain.to_json();
    for (const char* key : {"distributed", "resumed_from", "best_model_checkpoint", "best_metric"}) QVERIFY2(!j.contains(key), key);
    const RunConfig back_plain = RunConfig::from_json(j, "run.json");
    QVERIFY(!back_plain.distributed && !back_plain.best_metric && back_plain.resumed_from.empty());
    // A best checkpoint whose metric is not known yet is written as null and read as none.
    plain.best_model_checkpoint = "/runs/r/checkpoint-2";
    QVERIFY(plain.to_json()["best_metric"].is_null());
    QVERIFY(!RunConfig::from_json(plain.to_json(), "run.json").best_metric);
}

void TestRunFolder::bad_run_json_is_named_data() {
    QTest::addColumn<QString>("change");   // a JSON object merged into a valid run.json, or "raw:<text>" for the whole file
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("problem");
    QTest::addRow("not JSON") << "raw:{\"model\": " << "" << "invalid JSON";
    QTest::addRow("not an object") << "raw:[1, 2]" << "" << "not a JSON object";
    QTest::addRow("no arguments") << "raw:{\"model\": \"m\"}" << "arguments" << "is missing";
    QTest::addRow("model a number") << R"({"model": 3})" << "model" << "must be a string";
    QTest::addRow("bad argument") << R"({"arguments": {"learning_rate": "fast"}})" << "learning_rate" << "must be a number";
    QTest::addRow("negative max_steps_resolved") << R"({"max_steps_resolved": -1})" << "max_steps_resolved" << "whole number from 0";
    QTest::addRow("started_at 1e300") << R"({"started_at": 1e300})" << "started_at" << "whole number";
    QTest::addRow("hashes a list") << R"({"data_sha256": ["x"]})" << "data_sha256" << "must be an object";
    QTest::addRow("world of 0") << R"({"distributed": {"world_size": 0}})" << "world_size" << "whole number from 1";
    QTest::addRow("best_metric a string") << R"({"best_metric": "0.1"})" << "best_metric" << "must be a number or null";
}

void TestRunFolder::bad_run_json_is_named() {
    QFETCH(QString, change);
    QFETCH(QString, key);
    QFETCH(QString, problem);
    const std::string dir = fresh_run(qPrintable("bad-" + QString(QTest::currentDataTag()).replace(' ', '-')));
    const std::string path = join_path(dir, "run.json");
    if (change.startsWith("raw:")) {
        write_atomically(path, change.mid(4).toStdString());
    } else {
        nlohmann::json j = sample_config().to_json();
        j.merge_patch(nlohmann::json::parse(change.toStdString()));
        write_atomically(path, j.dump());
    }
    try {
        read_run_config(dir);
        QFAIL("a bad run.json was read");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith(QString::fromStdString(path) + ": "), e.what());
        if (!key.isEmpty()) QVERIFY2(QString(e.what()).contains("'" + key + "'"), e.what());
        QVERIFY2(QString(e.what()).contains(problem), e.what());
    }
}

// read_run types run.json when it can and says why when it cannot; the curves are read either way.
void TestRunFolder::read_run_types_run_json() {
    const std::string dir = fresh_run("typed");
    write_run_config(dir, sample_config());
    write_atomically(join_path(dir, "metrics.jsonl"), to_json(StepMetrics{1, 2, 0.5, 3.0, 1e-3, 1.0, 10.0, 40, 1.0, 1.0}).dump() + "\n");
    RunInfo info = read_run(dir);
    QVERIFY(info.run_config);
    QVERIFY(info.config_error.empty());
    QCOMPARE(QString::fromStdString(info.run_config->model), QStringLiteral("/models/flan-t5-small"));
    QCOMPARE(QString::fromStdString(info.best_model_checkpoint), QStringLiteral("/runs/r/checkpoint-8"));
    QCOMPARE(*info.best_metric, 0.25);
    nlohmann::json j = sample_config().to_json();
    j["arguments"]["per_device_train_batch_size"] = 0;
    write_atomically(join_path(dir, "run.json"), j.dump());
    info = read_run(dir);
    QVERIFY(!info.run_config);
    QVERIFY2(QString::fromStdString(info.config_error).contains("'per_device_train_batch_size'"), info.config_error.c_str());
    QVERIFY2(QString::fromStdString(info.config_error).startsWith(QString::fromStdString(join_path(dir, "run.json"))), info.config_error.c_str());
    QCOMPARE(info.logs.size(), size_t{1});
    QVERIFY(info.config.contains("arguments"));  // the file as it is, for the configuration diff
    QVERIFY_THROWS_EXCEPTION(FileError, read_run(fresh_run("empty")));  // no run.json: not a run folder
}

void TestRunFolder::trainer_state_round_trips() {
    const std::string dir = fresh_run("checkpoint-7");
    SavedTrainerState saved;
    saved.state.global_step = 7;
    saved.state.epoch = 1;
    saved.state.epoch_step = 3;
    saved.state.tokens_seen = 1234;
    saved.state.log_loss_sum = 1.5;
    saved.state.log_steps = 2;
    saved.state.log_tokens = 99;
    saved.state.log_seconds = 0.25;
    saved.state.elapsed_s = 4.5;
    saved.state.bad_steps_in_a_row = 1;
    saved.state.last_loss = 0.75;
    saved.state.best_metric = 0.5;
    saved.state.best_model_checkpoint = "/runs/r/checkpoint-4";
    saved.state.early_stopping_patience_counter = 2;
    saved.optimizer_step = 6;
    saved.world_size = 2;
    saved.global_batch_size = 16;
    saved.log_history = {{{"step", 5}, {"loss", 1.0}}};
    write_trainer_state(dir, saved, 1.75, 20);
    const SavedTrainerState back = read_trainer_state(dir);
    QCOMPARE(QString::fromStdString(back.state.to_json().dump()), QString::fromStdString(saved.state.to_json().dump()));
    QCOMPARE(back.optimizer_step, int64_t{6});
    QCOMPARE(back.world_size, 2);
    QCOMPARE(*back.global_batch_size, int64_t{16});
    QCOMPARE(back.log_history.size(), size_t{1});
    const nlohmann::json file = nlohmann::json::parse(read_file(join_path(dir, "trainer_state.json")));
    QCOMPARE(file["epoch"].get<double>(), 1.75);  // HF's keys for people
    QCOMPARE(file["max_steps"].get<int64_t>(), int64_t{20});
    // A damaged one is named, with the key.
    write_atomically(join_path(dir, "trainer_state.json"), "{\"global_step\": 1}");
    try {
        read_trainer_state(dir);
        QFAIL("a damaged trainer_state.json was read");
    } catch (const FileError& e) {
        QVERIFY2(QString(e.what()).startsWith(QString::fromStdString(join_path(dir, "trainer_state.json")) + ": "), e.what());
        QVERIFY2(QString(e.what()).contains("\"epoch_index\""), e.what());
    }
}

// What MetricsWriter appends, read_run reads back field for field.
void TestRunFolder::metrics_round_trip() {
    const std::string dir = fresh_run("metrics");
    write_atomically(join_path(dir, "run.json"), "{}\n");
    const StepMetrics step{4, 10, 0.4, 2.25, 5e-4, 0.75, 321.5, 4000, 12.5, 18.75};
    EvalMetrics eval;
    eval.step = 4;
    eval.epoch = 0.4;
    eval.eval_loss = 2.5;
    eval.eval_tokens = 77;
    eval.has_rouge = true;
    eval.eval_rouge1 = 0.3;
    eval.eval_rouge2 = 0.1;
    eval.eval_rougeL = 0.25;
    eval.eval_rougeLsum = 0.26;
    eval.eval_gen_len = 12.5;
    eval.eval_generated = 3;
    {
        MetricsWriter metrics(join_path(dir, "metrics.jsonl"));
        metrics.append(to_json(step));
        metrics.append(to_json(eval));
        MetricsWriter predictions(join_path(dir, kEvalPredictionsFile));
        predictions.append(to_json(EvalPredictions{4, 0.4, {{"test_1", "a summary", "the reference"}}}));
    }
    const RunInfo info = read_run(dir);
    QCOMPARE(info.logs.size(), size_t{1});
    QCOMPARE(QString::fromStdString(to_json(info.logs[0]).dump()), QString::fromStdString(to_json(step).dump()));
    QCOMPARE(info.evals.size(), size_t{1});
    QCOMPARE(QString::fromStdString(to_json(info.evals[0]).dump()), QString::fromStdString(to_json(eval).dump()));
    QCOMPARE(info.predictions.size(), size_t{1});
    QCOMPARE(QString::fromStdString(info.predictions[0].examples[0].prediction), QStringLiteral("a summary"));
    QCOMPARE(QString::fromStdString(info.predictions[0].examples[0].reference), QStringLiteral("the reference"));
    // A resume keeps the lines up to its step.
    truncate_metrics(join_path(dir, "metrics.jsonl"), 3);
    QVERIFY(read_run(dir).logs.empty());
}

void TestRunFolder::status_follows_the_files() {
    const std::string dir = fresh_run("status");
    write_atomically(join_path(dir, "run.json"), "{}\n");
    QCOMPARE(read_run(dir).status, RunStatus::stopped);  // no status.json yet
    write_status(dir, RunStatus::running, 3);
    RunInfo info = read_run(dir);
    QCOMPARE(info.status, RunStatus::failed);  // running, but nobody holds the lock: its process died
    QCOMPARE(QString::fromStdString(info.error), QStringLiteral("the training process ended unexpectedly"));
    {
        RunLock lock(dir);
        QCOMPARE(read_run(dir).status, RunStatus::running);
        write_status(dir, RunStatus::paused, 3);
        QCOMPARE(read_run(dir).status, RunStatus::paused);
        QVERIFY_THROWS_EXCEPTION(FileError, RunLock{dir});  // one trainer per folder (flock is per open file)
    }
    write_status(dir, RunStatus::failed, 3, "out of memory");
    info = read_run(dir);
    QCOMPARE(info.status, RunStatus::failed);
    QCOMPARE(QString::fromStdString(info.error), QStringLiteral("out of memory"));
    write_status(dir, RunStatus::finished, 9);
    QCOMPARE(read_run(dir).status, RunStatus::stopped);  // finished needs final/
    make_writable_dir(join_path(dir, "final"));
    QCOMPARE(read_run(dir).status, RunStatus::finished);
}

// A metrics line of the wrong shape (found by reading the fuzz target's input space) must cost that
// line only: the Runs page reads folders being written by other machines.
void TestRunFolder::read_run_skips_lines_it_cannot_read() {
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
void TestRunFolder::discarded_checkpoints_never_look_complete() {
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

QTEST_GUILESS_MAIN(TestRunFolder)
#include "tst_run_folder.moc"
