// The evaluation pipeline (engine/generation/evaluation.h) called as the CLI and the Evaluate page call it:
// column names, the selected examples with repeated dialogues generated once, an existing results CSV paired by
// id / dialogue / reference, and evaluate_column's provenance (the generation settings as the table writes
// them, max_new_tokens resolved), its refusals, and a cancelled run resumed only with the same settings.
// LibTorch before Qt: Qt's `slots` macro breaks torch headers.
#include "base/errors.h"
#include "base/file_util.h"
#include "engine/generation/evaluation.h"
#include "engine/generation/system.h"

#include "tests/common/golden.h"
#include "tests/common/sanitizer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <atomic>

using namespace sumlab;
using namespace sumlab::test;
using json = nlohmann::json;

class TestEvaluation : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void column_names_data();
    void column_names();
    void repeated_dialogues_are_one_source();
    void rows_are_paired_by_each_key();
    void provenance_records_the_tables_settings();
    void refuses_several_sequences();
    void cancelled_run_resumes_with_the_same_settings();

private:
    std::string model() const { return shared_path("golden/t5/tiny-flan"); }
    EvaluationSpec spec(const std::string& output) const {
        EvaluationSpec s;
        s.model_dir = model();
        s.data_path = m_data;
        s.output = output;
        s.batch_size = 1;
        s.selection.limit = 3;
        s.generation = system_generation_config(model());
        s.generation.max_new_tokens = 3;
        return s;
    }
    std::string out(const char* name) const { return (m_tmp.path() + "/" + name).toStdString(); }

    QTemporaryDir m_tmp;
    std::string m_data;  // a DialogSum test split in HF's CSV layout: rows 0 and 1 share a dialogue
};

void TestEvaluation::initTestCase() {
    QVERIFY(m_tmp.isValid());
    std::string csv = "id,dialogue,summary,topic\n";
    for (int i = 0; i < 6; ++i) {
        const int people = i == 1 ? 2 : i + 2;  // row 1 repeats row 0's dialogue, as the CSV test split does per reference
        csv += "test_" + std::to_string(i) + ",\"#Person1#: A table for " + std::to_string(people) +
               ", please.\n#Person2#: Certainly.\",\"Reference " + std::to_string(i) + ".\",booking\n";
    }
    m_data = out("test.csv");
    write_atomically(m_data, csv);
}

void TestEvaluation::column_names_data() {
    QTest::addColumn<QString>("column");
    QTest::addColumn<bool>("accepted");
    QTest::addRow("lab column") << "peft_model_summaries" << true;
    QTest::addRow("own system") << "beam4_summaries" << true;
    QTest::addRow("the references") << "human_baseline_summaries" << false;
    QTest::addRow("no suffix") << "peft_model" << false;
    QTest::addRow("suffix only") << "_summaries" << false;
    QTest::addRow("a comma") << "a,b_summaries" << false;
}

void TestEvaluation::column_names() {
    QFETCH(QString, column);
    QFETCH(bool, accepted);
    bool was_accepted = true;
    try {
        check_column_name(column.toStdString());
    } catch (const ConfigError& e) {
        was_accepted = false;
        QVERIFY2(QString(e.what()).contains(column), e.what());
    }
    QCOMPARE(was_accepted, accepted);
}

void TestEvaluation::repeated_dialogues_are_one_source() {
    Selection selection;
    selection.limit = 4;
    const EvaluationData data = load_evaluation_data(m_data, Split::test, selection, PromptTemplate());
    QCOMPARE(data.examples.size(), size_t{4});
    QCOMPARE(data.sources.size(), size_t{3});  // test_0 and test_1 share one prompt
    QCOMPARE(data.examples_of_source[0], (std::vector<size_t>{0, 1}));
    QCOMPARE(data.examples[1].source, size_t{0});
    QCOMPARE(data.examples[3].references.front(), std::string("Reference 3."));
    selection.every_kth = 100;
    selection.limit.reset();
    QCOMPARE(load_evaluation_data(m_data, Split::test, selection, PromptTemplate()).examples.size(), size_t{1});
    selection.limit = 0;  // nothing selected: an error naming the file, before any model is loaded
    try {
        load_evaluation_data(m_data, Split::test, selection, PromptTemplate());
        QFAIL("an empty selection was accepted");
    } catch (const ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.path()), QString::fromStdString(m_data));
    }
}

void TestEvaluation::rows_are_paired_by_each_key() {
    Selection selection;
    selection.limit = 3;
    const EvaluationData data = load_evaluation_data(m_data, Split::test, selection, PromptTemplate());
    ResultsTable by_id;
    by_id.ids = {"test_2", "test_0", "test_1"};
    by_id.human_baseline = {"Reference 2.", "Reference 0.", "Reference 1."};
    RowMatch m = match_rows(by_id, data, "r.csv");
    QCOMPARE(m.key, MatchKey::id);
    QCOMPARE(m.row_example, (std::vector<size_t>{2, 0, 1}));
    // No ids: the dialogue with its reference tells test_0 and test_1 (same dialogue) apart.
    ResultsTable by_dialogue;
    by_dialogue.dialogues = {data.examples[1].dialogue, data.examples[2].dialogue, data.examples[0].dialogue};
    by_dialogue.human_baseline = {"Reference 1.", "Reference 2.", "Reference 0."};
    m = match_rows(by_dialogue, data, "r.csv");
    QCOMPARE(m.key, MatchKey::dialogue_and_reference);
    QCOMPARE(m.row_example, (std::vector<size_t>{1, 2, 0}));
    // The lab's own files: the reference alone.
    ResultsTable by_reference;
    by_reference.human_baseline = {"Reference 0.", "Reference 2.", "Reference 1."};
    m = match_rows(by_reference, data, "r.csv");
    QCOMPARE(m.key, MatchKey::reference);
    QCOMPARE(m.row_example, (std::vector<size_t>{0, 2, 1}));
    // Another example's row, or another count, names the file and the row.
    by_reference.human_baseline[1] = "Reference 5.";
    try {
        match_rows(by_reference, data, "r.csv");
        QFAIL("a row of another example was paired");
    } catch (const DataError& e) {
        QVERIFY2(QString(e.what()).contains("r.csv") && QString(e.what()).contains("row 1"), e.what());
    }
    by_id.ids.pop_back();
    by_id.human_baseline.pop_back();
    QVERIFY_THROWS_EXCEPTION(DataError, match_rows(by_id, data, "r.csv"));
    // By id, a reference that differs means other data.
    by_id.ids = {"test_0", "test_1", "test_2"};
    by_id.human_baseline = {"Reference 0.", "Reference 1.", "Other."};
    QVERIFY_THROWS_EXCEPTION(DataError, match_rows(by_id, data, "r.csv"));
}

void TestEvaluation::provenance_records_the_tables_settings() {
    SUMLAB_REQUIRE_SHARED(model() + "/config.json");
    SUMLAB_REQUIRE_SENTENCEPIECE();
    EvaluationSpec s = spec(out("prov.csv"));
    s.generation.max_new_tokens.reset();
    s.generation.max_length = 4;  // max_length counts the start token: 3 new tokens
    s.generation.num_beams = 2;
    s.generation.no_repeat_ngram_size = 2;
    const EvaluationOutcome outcome = evaluate_column(s);
    QVERIFY(!outcome.is_stopped);
    QCOMPARE(outcome.examples, size_t{3});
    QCOMPARE(outcome.generated, size_t{2});  // test_0 and test_1 share their dialogue
    QCOMPARE(outcome.max_new_tokens, int64_t{3});
    QVERIFY(!is_file(outcome.partial_path));
    const json column = json::parse(read_file(outcome.provenance_path))["columns"]["original_model_summaries"];
    const json generation = column["generation"];
    // Every row of the table, under its HF key, plus the token ids; max_new_tokens is what was generated with.
    for (const auto& row : generation_settings()) QVERIFY2(generation.contains(row.key), row.key.c_str());
    QCOMPARE(QString::fromStdString(generation.value("max_new_tokens", json()).dump()), QString("3"));
    QCOMPARE(generation["max_length"].get<int64_t>(), int64_t{4});
    QCOMPARE(generation["num_beams"].get<int64_t>(), int64_t{2});
    QCOMPARE(generation["no_repeat_ngram_size"].get<int64_t>(), int64_t{2});
    QCOMPARE(generation["eos_token_id"].get<int64_t>(), s.generation.eos_token_id);
    QVERIFY(!generation.contains("seed"));  // only sampling draws
    QCOMPARE(QString::fromStdString(generation.dump()), QString::fromStdString(json(generation_to_json(s.generation)).dump()));
    QCOMPARE(column["dtype"].get<std::string>(), std::string("float32"));
    QCOMPARE(column["examples"].get<int64_t>(), int64_t{3});
    QCOMPARE(column["distinct_sources"].get<int64_t>(), int64_t{2});
    QCOMPARE(read_results_csv(s.output).systems.front().summaries.size(), size_t{3});
}

void TestEvaluation::refuses_several_sequences() {
    SUMLAB_REQUIRE_SHARED(model() + "/config.json");
    EvaluationSpec s = spec(out("several.csv"));
    s.generation.do_sample = true;
    s.generation.num_return_sequences = 2;
    try {
        evaluate_column(s);
        QFAIL("two sequences per dialogue were accepted");
    } catch (const ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.key()), QString("num_return_sequences"));
    }
    QVERIFY(!is_file(s.output));
    s.generation.num_return_sequences = 1;
    s.generation.temperature = 0.0;  // HF: strictly positive
    try {
        evaluate_column(s);
        QFAIL("temperature 0 was accepted");
    } catch (const ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.key()), QString("temperature"));
    }
}

void TestEvaluation::cancelled_run_resumes_with_the_same_settings() {
    SUMLAB_REQUIRE_SHARED(model() + "/config.json");
    SUMLAB_REQUIRE_SENTENCEPIECE();
    const EvaluationSpec s = spec(out("resume.csv"));
    std::atomic<bool> cancel{false};
    EvaluationCallbacks callbacks;
    callbacks.cancel = &cancel;
    callbacks.on_progress = [&](size_t done, size_t) {
        if (done > 0) cancel.store(true);  // after the first batch: test_0 and test_1 (one dialogue)
    };
    const EvaluationOutcome stopped = evaluate_column(s, callbacks);
    QVERIFY(stopped.is_stopped);
    QCOMPARE(stopped.finished_examples, size_t{2});
    QVERIFY(is_file(stopped.partial_path));
    QVERIFY(!is_file(s.output));
    // Other settings: the partial file is another run's, and the error names what differs.
    EvaluationSpec other = s;
    other.generation.num_beams = 2;
    try {
        evaluate_column(other);
        QFAIL("a partial file of other settings was continued");
    } catch (const ConfigError& e) {
        QVERIFY2(QString(e.what()).contains("num_beams"), e.what());
    }
    QVERIFY(is_file(stopped.partial_path));
    const EvaluationOutcome resumed = evaluate_column(s);
    QVERIFY(!resumed.is_stopped);
    QCOMPARE(resumed.resumed_examples, size_t{2});
    QCOMPARE(resumed.generated, size_t{1});
    QCOMPARE(read_results_csv(s.output).systems.front().summaries.size(), size_t{3});
    QVERIFY(!is_file(stopped.partial_path));
}

QTEST_GUILESS_MAIN(TestEvaluation)
#include "tst_evaluation.moc"
