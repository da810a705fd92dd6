// Tests for engine/metrics/rouge: bit-exact parity with rouge_score 0.1.2 on the golden cases (single and multi
// reference, with and without the stemmer), the tokenizer's Unicode and invalid-UTF-8 rules, rougeLsum's
// LCS tie-breaking, score_multi's per-type choice, the human ceiling, corpus means and provenance.
#include "engine/metrics/bootstrap.h"
#include "engine/metrics/rouge.h"

#include <nlohmann/json.hpp>

#include "tests/common/golden.h"

#include <QtTest>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

using sumlab::RougeScorer;
using sumlab::RougeScores;
using sumlab::Stemming;

namespace {

const QString golden_dir = QStringLiteral(SUMLAB_SHARED_DIR "/golden/rouge");

using sumlab::test::read_json;
using sumlab::test::repr;

// All twelve values in one line, printed round-trip exact, so a mismatch names the metric and both values.
QString describe(const RougeScores& s) {
    QStringList parts;
    for (sumlab::RougeType type : sumlab::all_rouge_types) {
        for (sumlab::RougeMeasure measure : sumlab::all_rouge_measures) {
            parts << QStringLiteral("%1.%2=%3")
                         .arg(QString::fromLatin1(sumlab::rouge_type_name(type)),
                              QString::fromLatin1(sumlab::rouge_measure_name(measure)), repr(s[type][measure]));
        }
    }
    return parts.join(QLatin1Char(' '));
}

RougeScores from_json(const nlohmann::json& j) {
    RougeScores s;
    for (sumlab::RougeType type : sumlab::all_rouge_types) {
        for (sumlab::RougeMeasure measure : sumlab::all_rouge_measures) {
            s[type][measure] = j.at(sumlab::rouge_type_name(type)).at(sumlab::rouge_measure_name(measure)).get<double>();
        }
    }
    return s;
}

std::vector<std::string> references_of(const nlohmann::json& c) {
    if (c.contains("references")) return c.at("references").get<std::vector<std::string>>();
    return {c.at("reference").get<std::string>()};
}

RougeScores score_case(const nlohmann::json& c) {
    const RougeScorer scorer(c.at("use_stemmer").get<bool>() ? Stemming::porter : Stemming::none);
    const std::vector<std::string> refs = references_of(c);
    if (!c.contains("references")) return scorer.score(refs.front(), c.at("prediction").get<std::string>());
    return scorer.score_multi(refs, c.at("prediction").get<std::string>());
}

std::string bytes(const QByteArray& a) { return std::string(a.constData(), static_cast<size_t>(a.size())); }

}  // namespace

Q_DECLARE_METATYPE(std::vector<std::string>)

class TestRouge : public QObject {
    Q_OBJECT

private slots:
    void tokenize_data();
    void tokenize();
    void score_data();
    void score();
    void goldenCases_data();
    void goldenCases();
    void tieBreak_data();
    void tieBreak();
    void scoreMulti_data();
    void scoreMulti();
    void scoreMultiRejectsNoReferences();
    void humanCeiling();
    void humanCeilingNeedsTwoReferences();
    void corpusMeans_data();
    void corpusMeans();
    void provenance();

private:
    nlohmann::json m_cases;  // every case of cases_single.json and cases_multi.json
};

void TestRouge::tokenize_data() {
    QTest::addColumn<QByteArray>("text");  // UTF-8 (or deliberately invalid) bytes
    QTest::addColumn<bool>("stem");
    QTest::addColumn<QString>("tokens");  // joined by single spaces

    QTest::addRow("lowercase and punctuation") << QByteArray("Hello, World! It's #Person1#.") << false << "hello world it s person1";
    QTest::addRow("underscore and hyphen split") << QByteArray("snake_case well-known") << false << "snake case well known";
    QTest::addRow("whitespace kinds") << QByteArray("a\tb\r\nc\xC2\xA0" "d\xE2\x80\xA8" "e") << false << "a b c d e";
    QTest::addRow("empty") << QByteArray("") << false << "";
    QTest::addRow("punctuation only") << QByteArray("... !!! ---") << false << "";
    QTest::addRow("accents dropped") << QByteArray("caf\xC3\xA9 na\xC3\xAFve") << false << "caf na ve";
    QTest::addRow("sharp s splits") << QByteArray("Stra\xC3\x9F" "e") << false << "stra e";
    QTest::addRow("dotted capital I") << QByteArray("\xC4\xB0stanbul") << false << "i stanbul";
    QTest::addRow("kelvin sign") << QByteArray("5\xE2\x84\xAA" "elvin") << false << "5kelvin";
    QTest::addRow("fullwidth dropped") << QByteArray("\xEF\xBC\xA1\xEF\xBC\xA2 \xEF\xBC\x91\xEF\xBC\x92 ok") << false << "ok";
    QTest::addRow("superscript dropped") << QByteArray("x\xC2\xB2y") << false << "x y";
    QTest::addRow("greek and cyrillic dropped") << QByteArray("\xCE\xA3\xCF\x83 \xD0\x9C\xD0\xB8\xD1\x80 abc") << false << "abc";
    QTest::addRow("cjk and emoji dropped") << QByteArray("\xE4\xB8\xAD\xE6\x96\x87ok\xF0\x9F\x98\x80" "fine") << false << "ok fine";
    QTest::addRow("digits kept") << QByteArray("In 1990, 3.5% of 2,000") << false << "in 1990 3 5 of 2 000";
    QTest::addRow("control characters split") << QByteArray("a\x01" "b\x7F" "c") << false << "a b c";
    // Invalid UTF-8: each maximal ill-formed subsequence is one separator; the bytes after it are read normally.
    QTest::addRow("invalid lead byte") << QByteArray("ab\xFF" "cd") << false << "ab cd";
    QTest::addRow("truncated sequence") << QByteArray("ab\xE2\x84" "cd") << false << "ab cd";
    QTest::addRow("truncated at end") << QByteArray("ab\xC4") << false << "ab";
    QTest::addRow("overlong A is not a") << QByteArray("x\xC1\x81y") << false << "x y";
    QTest::addRow("lead then ASCII") << QByteArray("x\xC3" "Ay") << false << "x ay";
    QTest::addRow("stray continuation") << QByteArray("x\x80\xBFy") << false << "x y";
    QTest::addRow("surrogate encoding") << QByteArray("x\xED\xA0\x80y") << false << "x y";
    QTest::addRow("dotted I after broken lead") << QByteArray("\xE2\xC4\xB0x") << false << "i x";
    // Stemming applies to tokens longer than 3 characters only.
    QTest::addRow("stem skies sky") << QByteArray("The skies, the sky") << true << "the sky the sky";
    QTest::addRow("stem short words kept") << QByteArray("was has ties its") << true << "was has tie its";
    QTest::addRow("stem digits") << QByteArray("1990s mp3s") << true << "1990 mp3";
    QTest::addRow("stem frequent words") << QByteArray("They used days trying buying") << true << "they use day tri buy";
    QTest::addRow("stem after lowering") << QByteArray("SKIES Running") << true << "sky run";
    QTest::addRow("no stem") << QByteArray("They used days") << false << "they used days";
}

void TestRouge::tokenize() {
    QFETCH(QByteArray, text);
    QFETCH(bool, stem);
    QFETCH(QString, tokens);
    const std::vector<std::string> got = sumlab::rouge_tokenize(bytes(text), stem ? Stemming::porter : Stemming::none);
    QStringList joined;
    for (const std::string& t : got) joined << QString::fromStdString(t);
    QCOMPARE(joined.join(QLatin1Char(' ')), tokens);
    QCOMPARE(RougeScorer(stem ? Stemming::porter : Stemming::none).tokenize(bytes(text)), got);
}

void TestRouge::score_data() {
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("prediction");
    QTest::addColumn<QString>("expected");  // describe() of the expected scores

    const auto row = [](double p1, double r1, double p2, double r2, double pl, double rl, double ps, double rs) {
        RougeScores s;
        s.rouge1 = {p1, r1, sumlab::rouge_fmeasure(p1, r1)};
        s.rouge2 = {p2, r2, sumlab::rouge_fmeasure(p2, r2)};
        s.rougeL = {pl, rl, sumlab::rouge_fmeasure(pl, rl)};
        s.rougeLsum = {ps, rs, sumlab::rouge_fmeasure(ps, rs)};
        return describe(s);
    };
    QTest::addRow("identical") << "the cat sat" << "the cat sat" << row(1, 1, 1, 1, 1, 1, 1, 1);
    QTest::addRow("both empty") << "" << "" << row(0, 0, 0, 0, 0, 0, 0, 0);
    QTest::addRow("empty prediction") << "the cat" << "" << row(0, 0, 0, 0, 0, 0, 0, 0);
    QTest::addRow("punctuation only prediction") << "the cat" << "?!" << row(0, 0, 0, 0, 0, 0, 0, 0);
    // 4 target tokens, 3 prediction tokens, 2 shared unigrams, no shared bigram, LCS 2.
    QTest::addRow("partial overlap") << "the cat sat down" << "a cat down"
                                     << row(2.0 / 3, 2.0 / 4, 0.0 / 2, 0.0 / 3, 2.0 / 3, 2.0 / 4, 2.0 / 3, 2.0 / 4);
    // Repeated tokens are clipped to the smaller count.
    QTest::addRow("clipped counts") << "a a b" << "a a a a" << row(2.0 / 4, 2.0 / 3, 1.0 / 3, 1.0 / 2, 2.0 / 4, 2.0 / 3, 2.0 / 4, 2.0 / 3);
    // Without newlines rougeLsum equals rougeL; with them the union LCS over lines differs.
    QTest::addRow("lsum reorders sentences") << "a b\nc d" << "c d\na b" << row(1, 1, 2.0 / 3, 2.0 / 3, 2.0 / 4, 2.0 / 4, 1, 1);
    QTest::addRow("empty lines ignored") << "a b\n\n\nc" << "\na b c\n" << row(1, 1, 1, 1, 1, 1, 1, 1);
    // "\r" separates tokens but not lines: the prediction is one line "c a b", which contains both target lines.
    QTest::addRow("carriage return is no line break") << "a b\r\nc" << "c\ra b" << row(1, 1, 1.0 / 2, 1.0 / 2, 2.0 / 3, 2.0 / 3, 1, 1);
}

void TestRouge::score() {
    QFETCH(QString, target);
    QFETCH(QString, prediction);
    QFETCH(QString, expected);
    QCOMPARE(describe(RougeScorer().score(target.toStdString(), prediction.toStdString())), expected);
}

void TestRouge::goldenCases_data() {
    QTest::addColumn<int>("index");
    m_cases = nlohmann::json::array();
    for (const char* file : {"cases_single.json", "cases_multi.json"}) {
        const QString path = golden_dir + QLatin1Char('/') + QLatin1String(file);
        nlohmann::json golden;
        if (!read_json(path, &golden)) QSKIP(qPrintable("golden ROUGE cases not found: " + path));
        for (const nlohmann::json& c : golden.at("cases")) m_cases.push_back(c);
    }
    QCOMPARE(m_cases.size(), size_t{802 + 212});
    for (size_t i = 0; i < m_cases.size(); ++i) {
        QTest::addRow("%s", m_cases[i].at("id").get<std::string>().c_str()) << static_cast<int>(i);
    }
}

void TestRouge::goldenCases() {
    QFETCH(int, index);
    const nlohmann::json& c = m_cases.at(static_cast<size_t>(index));
    QCOMPARE(describe(score_case(c)), describe(from_json(c.at("scores"))));
}

void TestRouge::tieBreak_data() {
    QTest::addColumn<std::vector<std::string>>("targets");
    QTest::addColumn<QString>("prediction");
    QTest::addColumn<bool>("stem");
    QTest::addColumn<QString>("expected");  // rougeLsum "precision recall"

    // LCS("a b", "b a") ties; rouge_score's backtrack moves up on ties and takes "a" of the first target line,
    // which uses up the only "a" of the prediction, so the second line's "a" is no hit: hits = 1.
    // Breaking ties to the left would take "b" and then "a": hits = 2.
    QTest::addRow("tie moves up") << std::vector<std::string>{"a b\na"} << "b a" << false << repr(1.0 / 2) + " " + repr(1.0 / 3);
    // Mirror case: moving up takes "b", leaving the prediction's "a" for the second line: hits = 2.
    QTest::addRow("tie mirror") << std::vector<std::string>{"b a\na"} << "a b" << false << repr(2.0 / 2) + " " + repr(2.0 / 3);
    // A strictly larger left cell moves left: "b" against "b a" must find the "b" (moving up would lose it).
    QTest::addRow("strict left") << std::vector<std::string>{"b\na"} << "b a" << false << repr(1.0) + " " + repr(1.0);

    const QString path = golden_dir + "/tiebreak_sensitive_ids.json";
    nlohmann::json ids;
    if (!read_json(path, &ids)) QSKIP(qPrintable("golden tie-break ids not found: " + path));
    std::set<std::string> wanted;
    for (const nlohmann::json& id : ids.at("alt_backtrack_rougeLsum_sensitive_case_ids")) wanted.insert(id.get<std::string>());
    QCOMPARE(wanted.size(), size_t{117});
    for (const char* file : {"cases_single.json", "cases_multi.json"}) {
        const QString cases_path = golden_dir + QLatin1Char('/') + QLatin1String(file);
        nlohmann::json golden;
        if (!read_json(cases_path, &golden)) QSKIP(qPrintable("golden ROUGE cases not found: " + cases_path));
        for (const nlohmann::json& c : golden.at("cases")) {
            const std::string id = c.at("id").get<std::string>();
            if (!wanted.count(id)) continue;
            wanted.erase(id);
            const nlohmann::json& lsum = c.at("scores").at("rougeLsum");
            QTest::addRow("%s", id.c_str()) << references_of(c)
                                            << QString::fromStdString(c.at("prediction").get<std::string>())
                                            << c.at("use_stemmer").get<bool>()
                                            << repr(lsum.at("precision").get<double>()) + " " + repr(lsum.at("recall").get<double>());
        }
    }
    QCOMPARE(wanted.size(), size_t{0});
}

void TestRouge::tieBreak() {
    QFETCH(std::vector<std::string>, targets);
    QFETCH(QString, prediction);
    QFETCH(bool, stem);
    QFETCH(QString, expected);
    const RougeScorer scorer(stem ? Stemming::porter : Stemming::none);
    const RougeScores s = scorer.score_multi(targets, prediction.toStdString());
    QCOMPARE(repr(s.rougeLsum.precision) + " " + repr(s.rougeLsum.recall), expected);
}

void TestRouge::scoreMulti_data() {
    QTest::addColumn<std::vector<std::string>>("references");
    QTest::addColumn<QString>("prediction");
    QTest::addColumn<QString>("rouge1");  // "precision recall" of the chosen reference
    QTest::addColumn<QString>("rouge2");

    // Both references give rouge1 F = 2/3; np.argmax keeps the first.
    QTest::addRow("tie keeps first") << std::vector<std::string>{"a b c d", "a"} << "a b"
                                     << repr(1.0) + " " + repr(0.5) << repr(1.0) + " " + repr(1.0 / 3);
    QTest::addRow("tie keeps first reversed") << std::vector<std::string>{"a", "a b c d"} << "a b"
                                              << repr(0.5) + " " + repr(1.0) << repr(1.0) + " " + repr(1.0 / 3);
    // rouge1 prefers the first reference, rouge2 the second.
    QTest::addRow("types choose separately") << std::vector<std::string>{"b a d c", "a b x y z"} << "a b c d"
                                             << repr(1.0) + " " + repr(1.0) << repr(1.0 / 3) + " " + repr(1.0 / 4);
    QTest::addRow("single reference equals score") << std::vector<std::string>{"the cat sat"} << "the cat"
                                                   << repr(1.0) + " " + repr(2.0 / 3) << repr(1.0) + " " + repr(1.0 / 2);
}

void TestRouge::scoreMulti() {
    QFETCH(std::vector<std::string>, references);
    QFETCH(QString, prediction);
    QFETCH(QString, rouge1);
    QFETCH(QString, rouge2);
    const RougeScorer scorer;
    const RougeScores s = scorer.score_multi(references, prediction.toStdString());
    QCOMPARE(repr(s.rouge1.precision) + " " + repr(s.rouge1.recall), rouge1);
    QCOMPARE(repr(s.rouge2.precision) + " " + repr(s.rouge2.recall), rouge2);
    if (references.size() == 1) QCOMPARE(describe(s), describe(scorer.score(references.front(), prediction.toStdString())));
}

void TestRouge::scoreMultiRejectsNoReferences() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, RougeScorer().score_multi({}, "a"));
}

void TestRouge::humanCeiling() {
    const RougeScorer scorer;
    // Each reference against the other two: rouge1 (P, R) = (2/3, 1), (1, 2/3), (1, 1/3), F = 0.8, 0.8, 0.5.
    const RougeScores s = scorer.human_ceiling({"a b c", "a b", "c"});
    QCOMPARE(s.rouge1.precision, (2.0 / 3 + 1 + 1) / 3);
    QCOMPARE(s.rouge1.recall, (1 + 2.0 / 3 + 1.0 / 3) / 3);
    QCOMPARE(s.rouge1.fmeasure, (sumlab::rouge_fmeasure(2.0 / 3, 1) + sumlab::rouge_fmeasure(1, 2.0 / 3) + 0.5) / 3);
    const RougeScores same = scorer.human_ceiling({"the cat sat", "The cat sat."});
    QCOMPARE(describe(same), describe(scorer.score("the cat sat", "the cat sat")));
}

void TestRouge::humanCeilingNeedsTwoReferences() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, RougeScorer().human_ceiling({"only one"}));
}

void TestRouge::corpusMeans_data() {
    QTest::addColumn<int>("corpus");
    const QString path = golden_dir + "/aggregates.json";
    nlohmann::json aggregates;
    if (!read_json(path, &aggregates)) QSKIP(qPrintable("golden aggregates not found: " + path));
    m_cases = aggregates.at("corpora");
    for (size_t i = 0; i < m_cases.size(); ++i) QTest::addRow("%s", m_cases[i].at("id").get<std::string>().c_str()) << static_cast<int>(i);
}

void TestRouge::corpusMeans() {
    QFETCH(int, corpus);
    const nlohmann::json& c = m_cases.at(static_cast<size_t>(corpus));
    const RougeScorer scorer(c.at("use_stemmer").get<bool>() ? Stemming::porter : Stemming::none);
    std::vector<RougeScores> per_example;
    for (const nlohmann::json& input : c.at("inputs")) {
        per_example.push_back(scorer.score_multi(input.at("references").get<std::vector<std::string>>(),
                                                 input.at("prediction").get<std::string>()));
    }
    QCOMPARE(per_example.size(), c.at("n").get<size_t>());
    // evaluate's use_aggregator=False lists: per-example fmeasure, exact.
    const nlohmann::json& lists = c.at("evaluate_compute").at("use_aggregator_false");
    for (sumlab::RougeType type : sumlab::all_rouge_types) {
        const nlohmann::json& expected = lists.at(sumlab::rouge_type_name(type));
        for (size_t i = 0; i < per_example.size(); ++i) {
            QCOMPARE(repr(per_example[i][type].fmeasure), repr(expected.at(i).get<double>()));
        }
    }
    // The mean is math.fsum / n, exact.
    QCOMPARE(describe(sumlab::mean_rouge(per_example)), describe(from_json(c.at("mean"))));
}

void TestRouge::provenance() {
    sumlab::RougeProvenance p;
    p.stemming = Stemming::porter;
    p.examples = 500;
    p.min_references = 1;
    p.max_references = 3;
    const QString plain = QString::fromStdString(p.describe());
    QVERIFY2(plain.contains("Porter stemmer (NLTK 3.8) on"), qPrintable(plain));
    QVERIFY2(plain.contains("split on \"\\n\""), qPrintable(plain));
    QVERIFY2(plain.contains("1-3 references per example"), qPrintable(plain));
    QVERIFY2(plain.contains("mean over 500 examples"), qPrintable(plain));
    QVERIFY2(!plain.contains("bootstrap"), qPrintable(plain));

    p.bootstrap_resamples = 1000;
    p.seed = 7;
    const QString with_ci = QString::fromStdString(p.describe());
    QVERIFY2(with_ci.contains("95% CI: percentile bootstrap, 1000 resamples, seed 7"), qPrintable(with_ci));

    const nlohmann::json j = p.to_json();
    QCOMPARE(QString::fromStdString(j.at("stemmer").get<std::string>()), QStringLiteral("porter (nltk 3.8)"));
    QCOMPARE(QString::fromStdString(j.at("rougeLsum_split").get<std::string>()), QStringLiteral("\n"));
    QCOMPARE(j.at("references").at("max").get<int>(), 3);
    QCOMPARE(QString::fromStdString(j.at("aggregation").get<std::string>()), QStringLiteral("mean"));
    QCOMPARE(j.at("bootstrap").at("resamples").get<int>(), 1000);

    p.stemming = Stemming::none;
    p.aggregation = sumlab::Aggregation::bootstrap_median;
    const QString median = QString::fromStdString(p.describe());
    QVERIFY2(median.contains("stemmer off"), qPrintable(median));
    QVERIFY2(median.contains("median of 1000 bootstrap means over 500 examples"), qPrintable(median));
}

QTEST_GUILESS_MAIN(TestRouge)
#include "tst_rouge.moc"
