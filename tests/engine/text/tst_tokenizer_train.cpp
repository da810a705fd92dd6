// A T5 tokenizer trained on DialogSum (engine/text/tokenizer_train.h): T5's special ids and extra ids, speaker tags
// kept whole, text round trips, byte-identical retraining, transformers' files, and T5Tokenizer (4.28)
// loading the folder and tokenizing as SumLab does.
#include "tests/common/golden.h"

#include "engine/text/tokenizer.h"
#include "engine/text/tokenizer_train.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "tests/common/reference_python.h"
#include "tests/common/sanitizer.h"

#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

using namespace sumlab;
using namespace sumlab::test;

class TestTokenizerTrain : public QObject {
    Q_OBJECT

private slots:
    void training_sentences();
    void files_as_transformers_writes_them();
    void trains_t5_tokenizer();
    void retraining_gives_same_model();
    void refuses_occupied_output();
    void trainer_errors_name_the_input();
    void transformers_tokenizes_identically();
};

namespace {

std::string train_file() { return shared_path("dialogsum/jsonl/dialogsum.train.jsonl"); }

// A handful of rows: trains in well under a second.
TokenizerTrainOptions small_run(const QTemporaryDir& tmp, const char* name) {
    TokenizerTrainOptions o;
    o.data_path = train_file();
    o.output_dir = (tmp.path() + "/" + name).toStdString();
    o.vocab_size = 300;
    o.limit = 30;
    return o;
}

std::vector<DialogSumExample> first_examples(size_t n) {
    LoadOptions load;
    load.split = Split::train;
    DialogSumSplit split = load_dialogsum_file(train_file(), Split::train, load);
    split.examples.resize(std::min(n, split.examples.size()));
    return split.examples;
}

// What T5's normaliser leaves of a text: whitespace runs (newlines included) become one space, ends trimmed.
std::string collapse_whitespace(const std::string& s) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = !out.empty();
        } else {
            if (space) out += ' ';
            space = false;
            out += c;
        }
    }
    return out;
}

// What decode() gives back for a text with no unknown characters: T5's normalised text, then HF's
// clean_up_tokenization (transformers 4.28: " ." -> "." and the like, applied in this order).
std::string round_tripped(const std::string& text) {
    std::string s = collapse_whitespace(text);
    static const std::pair<std::string, std::string> kRules[] = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
        {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kRules) {
        for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
    }
    return s;
}

}  // namespace

void TestTokenizerTrain::training_sentences() {
    DialogSumSplit split;
    DialogSumExample ex;
    ex.id = "train_0";
    ex.dialogue = "#Person1#: Hi.\n#Person2#: Hello.\n";
    ex.references = {"They greet.\n\n  \nBye"};
    split.examples = {ex, ex};
    const std::vector<std::string> one = {"Summarize the following conversation.", "#Person1#: Hi.", "#Person2#: Hello.",
                                          "Summary: ", "They greet.", "Bye"};
    std::vector<std::string> want = one;
    want.insert(want.end(), one.begin(), one.end());
    QCOMPARE(tokenizer_training_sentences(split, resolve_prompt("dialogsum")), want);
    QCOMPARE(tokenizer_training_sentences(split, resolve_prompt("plain")).front(), std::string("#Person1#: Hi."));
}

void TestTokenizerTrain::files_as_transformers_writes_them() {
    // tiny-flan's files were written by T5Tokenizer.save_pretrained (transformers 4.28, extra_ids=100, model_max_length=512).
    const std::string dir = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(dir + "/tokenizer_config.json");
    QCOMPARE(t5_tokenizer_config_json(), read_file(dir + "/tokenizer_config.json"));
    QCOMPARE(t5_special_tokens_map_json(), read_file(dir + "/special_tokens_map.json"));
}

void TestTokenizerTrain::trains_t5_tokenizer() {
    SUMLAB_REQUIRE_SHARED(train_file());
    SUMLAB_REQUIRE_SENTENCEPIECE();
    QTemporaryDir tmp;
    const TokenizerTrainOptions o = small_run(tmp, "tok");
    QElapsedTimer timer;
    timer.start();
    const TokenizerTrainResult r = train_t5_tokenizer(o);
    QVERIFY2(timer.elapsed() < 10000 * sumlab_test::kTimeBudgetScale, qPrintable(QString("%1 ms").arg(timer.elapsed())));
    QCOMPARE(r.examples, size_t{30});
    QCOMPARE(r.pieces, int64_t{300});
    QCOMPARE(r.vocab_size, int64_t{400});
    QCOMPARE(QDir(tmp.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList{"tok"});

    const T5Tokenizer tok = T5Tokenizer::from_directory(o.output_dir);
    QCOMPARE(tok.vocab_size(), int64_t{400});
    QCOMPARE(tok.pad_token_id(), int64_t{0});
    QCOMPARE(tok.eos_token_id(), int64_t{1});
    QCOMPARE(tok.unk_token_id(), int64_t{2});
    QCOMPARE(QString::fromStdString(tok.id_to_token(0)), QString("<pad>"));
    QCOMPARE(QString::fromStdString(tok.id_to_token(1)), QString("</s>"));
    QCOMPARE(QString::fromStdString(tok.id_to_token(2)), QString("<unk>"));
    // T5Tokenizer's extra ids follow the pieces and count down: <extra_id_0> is the last id.
    QCOMPARE(tok.token_to_id("<extra_id_0>"), tok.vocab_size() - 1);
    QCOMPARE(tok.token_to_id("<extra_id_99>"), r.pieces);

    // Speaker tags are one piece, with or without the space before them.
    QCOMPARE(QString::fromStdString(tok.tokenize("#Person1#: Hi").front()), QString::fromUtf8("\xe2\x96\x81#Person1#"));
    const auto pieces = tok.tokenize("They met (#Person2#).");
    QVERIFY2(std::find(pieces.begin(), pieces.end(), "#Person2#") != pieces.end(), nlohmann::json(pieces).dump().c_str());

    int round_trips = 0;
    for (const auto& ex : first_examples(30)) {
        for (const std::string& text : {ex.dialogue, ex.references.front()}) {
            const auto ids = tok.encode(text);
            QCOMPARE(ids.back(), int64_t{1});
            QCOMPARE(QString::fromStdString(tok.decode(ids)), QString::fromStdString(round_tripped(text)));
            ++round_trips;
        }
    }
    QCOMPARE(round_trips, 60);
}

void TestTokenizerTrain::retraining_gives_same_model() {
    SUMLAB_REQUIRE_SHARED(train_file());
    SUMLAB_REQUIRE_SENTENCEPIECE();
    QTemporaryDir tmp;
    const auto a = train_t5_tokenizer(small_run(tmp, "a"));
    const auto b = train_t5_tokenizer(small_run(tmp, "b"));
    QVERIFY(read_file(a.spiece_path) == read_file(b.spiece_path));
    TokenizerTrainOptions bigger = small_run(tmp, "c");
    bigger.vocab_size = 320;
    QVERIFY(read_file(train_t5_tokenizer(bigger).spiece_path) != read_file(a.spiece_path));
}

void TestTokenizerTrain::refuses_occupied_output() {
    QTemporaryDir tmp;
    TokenizerTrainOptions o = small_run(tmp, "taken");
    QVERIFY(QDir(tmp.path()).mkdir("taken"));
    write_atomically(o.output_dir + "/spiece.model", "mine");
    try {
        train_t5_tokenizer(o);
        QFAIL("overwrote a non-empty folder");
    } catch (const FileError& e) {
        QCOMPARE(e.path(), o.output_dir);
        QVERIFY2(std::string(e.what()).find("not empty") != std::string::npos, e.what());
    }
    QCOMPARE(read_file(o.output_dir + "/spiece.model"), std::string("mine"));
}

void TestTokenizerTrain::trainer_errors_name_the_input() {
    SUMLAB_REQUIRE_SHARED(train_file());
    SUMLAB_REQUIRE_SENTENCEPIECE();
    QTemporaryDir tmp;
    TokenizerTrainOptions o = small_run(tmp, "tok");
    o.limit = 3;
    o.vocab_size = 5000;  // far more pieces than three dialogues hold
    try {
        train_t5_tokenizer(o);
        QFAIL("trained 5000 pieces on 3 dialogues");
    } catch (const DataError& e) {
        QCOMPARE(e.path(), train_file());
        QVERIFY2(std::string(e.what()).find("Vocabulary size") != std::string::npos, e.what());
    }
    QVERIFY(!is_directory(o.output_dir));
    QCOMPARE(QDir(tmp.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList{});
}

void TestTokenizerTrain::transformers_tokenizes_identically() {
    SUMLAB_REQUIRE_SHARED(train_file());
    SUMLAB_REQUIRE_SENTENCEPIECE();
    if (QString why = reference_python_unavailable(); !why.isEmpty()) QSKIP(qPrintable(why));
    QTemporaryDir tmp;
    const TokenizerTrainOptions o = small_run(tmp, "tok");
    train_t5_tokenizer(o);
    const T5Tokenizer tok = T5Tokenizer::from_directory(o.output_dir);

    std::vector<std::string> texts;
    const PromptTemplate prompt = resolve_prompt("dialogsum");
    for (const auto& ex : first_examples(40)) {  // 30 seen in training, 10 not
        texts.push_back(prompt.render(ex.dialogue));
        texts.push_back(ex.references.front());
    }
    for (const char* edge : {"", "   ", "They met (#Person2#) and #Person1#'s friend #Person12#.", "#Person1#:#Person2#",
                             "  runs   of\tspace\nand\n\nnewlines  ", "<extra_id_0> masked <extra_id_17></s>", "</s> <pad> <unk>",
                             "caf\xc3\xa9 na\xc3\xafve \xe2\x80\x9cquoted\xe2\x80\x9d \xef\xbc\xa1\xef\xbc\xa2 \xe2\x91\xa0 \xe4\xbd\xa0\xe5\xa5\xbd",
                             "$1,000.50 at 10:30 p.m.", "Mr . Smith , don't ?"})
        texts.push_back(edge);
    const std::string texts_path = (tmp.path() + "/texts.json").toStdString();
    write_atomically(texts_path, nlohmann::json(texts).dump());

    auto py = run_reference_python(SUMLAB_SOURCE_DIR "/tests/engine/text/check_tokenizer_train.py",
                                   {QString::fromStdString(o.output_dir), QString::fromStdString(texts_path)});
    QVERIFY2(py.exit_code == 0, py.err.right(3000).constData());
    const nlohmann::json hf = nlohmann::json::parse(py.out.toStdString());
    QCOMPARE(hf["len"].get<int64_t>(), tok.vocab_size());
    QCOMPARE(hf["pad"].get<int64_t>(), int64_t{0});
    QCOMPARE(hf["eos"].get<int64_t>(), int64_t{1});
    QCOMPARE(hf["unk"].get<int64_t>(), int64_t{2});
    QCOMPARE(hf["extra_id_0"].get<int64_t>(), tok.token_to_id("<extra_id_0>"));
    for (size_t i = 0; i < texts.size(); ++i) {
        const QByteArray tag = QByteArray::number(qulonglong(i)) + ": " + QByteArray::fromStdString(texts[i]).left(60);
        QVERIFY2(tok.encode(texts[i]) == hf["ids"][i].get<std::vector<int64_t>>(), tag);
        QVERIFY2(tok.tokenize(texts[i]) == hf["pieces"][i].get<std::vector<std::string>>(), tag);
        QVERIFY2(tok.decode(tok.encode(texts[i])) == hf["decode"][i].get<std::string>(), tag);
        QVERIFY2(tok.decode(tok.encode(texts[i]), false) == hf["decode_all"][i].get<std::string>(), tag);
    }
}

QTEST_GUILESS_MAIN(TestTokenizerTrain)
#include "tst_tokenizer_train.moc"
