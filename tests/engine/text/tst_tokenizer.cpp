// T5Tokenizer against Hugging Face's slow T5Tokenizer (transformers 4.28) on every case in
// ../shared/golden/t5: dialogue prompts, summaries and edge strings; ids, pieces and decoded text.
#include "tests/common/golden.h"

#include "engine/text/tokenizer.h"
#include "base/errors.h"
#include "tests/common/sanitizer.h"

#include <QtTest>

using namespace sumlab;
using namespace sumlab::test;

class TestTokenizer : public QObject {
    Q_OBJECT

private slots:
    void matches_huggingface_data();
    void matches_huggingface();
    void special_ids();
    void truncation_keeps_eos();
    void missing_or_corrupt_model();
};

void TestTokenizer::matches_huggingface_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("tiny-flan") << "tiny-flan";
    QTest::newRow("tiny-t5v1") << "tiny-t5v1";
}

void TestTokenizer::matches_huggingface() {
    QFETCH(QString, model);
    std::string dir = shared_path("golden/t5/" + model.toStdString());
    SUMLAB_REQUIRE_SHARED(dir + ".goldens/tokenizer.json");
    SUMLAB_REQUIRE_SENTENCEPIECE();
    auto gold = load_json(dir + ".goldens/tokenizer.json");
    T5Tokenizer tok = T5Tokenizer::from_directory(dir);
    QCOMPARE(tok.vocab_size(), gold["vocab_size_len_tokenizer"].get<int64_t>());
    int checked = 0;
    for (const auto& s : gold["sources"]) {
        std::string text = s["text"];
        auto ids = s["input_ids"].get<std::vector<int64_t>>();
        QCOMPARE(tok.encode(text), ids);
        QCOMPARE(tok.encode(text, true, 512), s["input_ids_trunc512"].get<std::vector<int64_t>>());
        std::vector<std::string> pieces;  // HF's convert_ids_to_tokens(input_ids)
        for (int64_t id : ids) pieces.push_back(tok.id_to_token(id));
        QCOMPARE(pieces, s["pieces"].get<std::vector<std::string>>());
        QCOMPARE(tok.decode(ids, false), s["decode"].get<std::string>());
        QCOMPARE(tok.decode(ids, true), s["decode_skip_special"].get<std::string>());
        ++checked;
    }
    for (const auto& l : gold["labels"]) {
        auto ids = l["input_ids"].get<std::vector<int64_t>>();
        QCOMPARE(tok.encode(l["text"].get<std::string>()), ids);
        QCOMPARE(tok.decode(ids, true), l["decode_skip_special"].get<std::string>());
        ++checked;
    }
    for (const auto& e : gold["edge"]) {
        std::string text = e["text"];
        const QByteArray tag = QByteArray::fromStdString(text).left(40);
        auto ids = e["input_ids"].get<std::vector<int64_t>>();
        QVERIFY2(tok.tokenize(text) == e["tokenize"].get<std::vector<std::string>>(), tag);
        QVERIFY2(tok.encode(text) == ids, tag);
        QVERIFY2(tok.encode(text, false) == e["input_ids_no_eos"].get<std::vector<int64_t>>(), tag);
        QCOMPARE(tok.decode(ids, false), e["decode"].get<std::string>());
        QCOMPARE(tok.decode(ids, true), e["decode_skip_special"].get<std::string>());
        ++checked;
    }
    for (const auto& [id, token] : gold["first_ids_to_tokens"].items()) QCOMPARE(tok.id_to_token(std::stoll(id)), token.get<std::string>());
    for (const auto& [id, token] : gold["last_ids_to_tokens"].items()) QCOMPARE(tok.id_to_token(std::stoll(id)), token.get<std::string>());
    QVERIFY(checked > 30);
}

void TestTokenizer::special_ids() {
    std::string dir = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(dir + "/spiece.model");
    SUMLAB_REQUIRE_SENTENCEPIECE();
    T5Tokenizer tok = T5Tokenizer::from_directory(dir);
    QCOMPARE(tok.pad_token_id(), int64_t{0});
    QCOMPARE(tok.eos_token_id(), int64_t{1});
    QCOMPARE(tok.unk_token_id(), int64_t{2});
    // Extra ids count down from the end of the tokenizer's vocabulary.
    QCOMPARE(tok.token_to_id("<extra_id_0>"), tok.vocab_size() - 1);
    QCOMPARE(tok.token_to_id("<extra_id_99>"), tok.vocab_size() - 100);
    QCOMPARE(tok.id_to_token(tok.vocab_size() - 1), std::string("<extra_id_0>"));
    QCOMPARE(tok.encode(""), std::vector<int64_t>{1});
}

void TestTokenizer::truncation_keeps_eos() {
    std::string dir = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(dir + "/spiece.model");
    SUMLAB_REQUIRE_SENTENCEPIECE();
    T5Tokenizer tok = T5Tokenizer::from_directory(dir);
    auto full = tok.encode("one two three four five six seven eight nine ten");
    auto cut = tok.encode("one two three four five six seven eight nine ten", true, 4);
    QCOMPARE(cut.size(), size_t{4});
    QCOMPARE(cut.back(), int64_t{1});
    QCOMPARE(std::vector<int64_t>(cut.begin(), cut.begin() + 3), std::vector<int64_t>(full.begin(), full.begin() + 3));
}

void TestTokenizer::missing_or_corrupt_model() {
    QTemporaryDir tmp;
    try {
        T5Tokenizer::from_directory(tmp.path().toStdString());
        QFAIL("a folder without spiece.model gave a tokenizer");
    } catch (const FileError& e) {
        QVERIFY(QString(e.what()).contains("spiece.model"));
    }
    QFile bad(tmp.filePath("spiece.model"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("this is not a sentencepiece model");
    bad.close();
    try {
        T5Tokenizer::from_directory(tmp.path().toStdString());
        QFAIL("a corrupt spiece.model gave a tokenizer");
    } catch (const FileError& e) {
        QVERIFY2(QString(e.what()).contains(tmp.filePath("spiece.model")), e.what());
    }
}

QTEST_GUILESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
