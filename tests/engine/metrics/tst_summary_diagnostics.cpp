// Tests for engine/metrics/summary_diagnostics: token ranges that reproduce rouge's tokenizer, ROUGE-1/2 matches that
// agree with the scores (clipping, stemming, the reference score_multi picks), unsupported names and numbers,
// and the speaker-tag rules.
#include "engine/metrics/summary_diagnostics.h"

#include <QtTest>

#include <stdexcept>

using sumlab::MarkKind;
using sumlab::Stemming;

namespace {

// The summary's text under every mark of `kind`.
QStringList marked(const std::string& summary, const sumlab::SummaryDiagnostics& d, MarkKind kind) {
    QStringList out;
    for (const sumlab::SummaryMark& m : d.marks)
        if (m.kind == kind) out << QString::fromStdString(summary.substr(m.begin, m.end - m.begin));
    return out;
}

size_t count_true(const std::vector<bool>& flags) { return static_cast<size_t>(std::count(flags.begin(), flags.end(), true)); }

const std::string dialogue =
    "#Person1#: I lost my passport at the airport and missed the flight to Paris.\n"
    "#Person2#: Oh no. Did you call the embassy? It costs 20 dollars to replace it.\n"
    "#Person1#: Not yet, I will call them with Tom tomorrow.";

}  // namespace

class TestSummaryDiagnostics : public QObject {
    Q_OBJECT

private slots:
    void tokenSpansReproduceTokenizer_data();
    void tokenSpansReproduceTokenizer();
    void matchesAgreeWithScores_data();
    void matchesAgreeWithScores();
    void clipsRepeatedTokens();
    void stemmingDecidesMatches();
    void multipleReferencesUseScoreMultisChoice();
    void namesAndNumbers();
    void speakerTags();
    void rejectsNoReference();
};

void TestSummaryDiagnostics::tokenSpansReproduceTokenizer_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("stem");
    QTest::addRow("speaker tags") << QStringLiteral("#Person1# asks #Person2#'s help: 3.5 km, running!") << true;
    QTest::addRow("unstemmed") << QStringLiteral("Running dogs aren't barking at 10:30.") << false;
    QTest::addRow("non-ASCII inside words") << QStringLiteral("The café naïve résumé costs €5 — Kelvin \u212Aing İstanbul") << true;
    QTest::addRow("empty") << QString() << true;
}

void TestSummaryDiagnostics::tokenSpansReproduceTokenizer() {
    QFETCH(QString, text);
    QFETCH(bool, stem);
    const std::string utf8 = text.toStdString();
    const Stemming stemming = stem ? Stemming::porter : Stemming::none;
    const std::vector<sumlab::TokenSpan> spans = sumlab::rouge_token_spans(utf8, stemming);
    QStringList joined, expected;
    for (const sumlab::TokenSpan& span : spans) {
        joined << QString::fromStdString(span.token);
        // Each range tokenises to (at least) its token on its own.
        const auto alone = sumlab::rouge_tokenize(utf8.substr(span.begin, span.end - span.begin), stemming);
        QVERIFY(std::find(alone.begin(), alone.end(), span.token) != alone.end());
    }
    for (const std::string& token : sumlab::rouge_tokenize(utf8, stemming)) expected << QString::fromStdString(token);
    QCOMPARE(joined, expected);
}

void TestSummaryDiagnostics::matchesAgreeWithScores_data() {
    QTest::addColumn<QString>("summary");
    QTest::addColumn<QString>("reference");
    QTest::addColumn<bool>("stem");
    QTest::addRow("lab example") << QStringLiteral("#Person1# is in a hurry. #Person1# wants to buy a car.")
                                 << QStringLiteral("#Person1# wants to buy a new car and #Person2# suggests a used one.") << true;
    QTest::addRow("no overlap") << QStringLiteral("Nothing matches here") << QStringLiteral("entirely different words") << false;
    QTest::addRow("repeats") << QStringLiteral("the cat the cat the cat sat") << QStringLiteral("the cat sat on the cat mat") << false;
    QTest::addRow("stemmed") << QStringLiteral("They were running and jumping dogs") << QStringLiteral("The dog runs and jumps") << true;
}

void TestSummaryDiagnostics::matchesAgreeWithScores() {
    QFETCH(QString, summary);
    QFETCH(QString, reference);
    QFETCH(bool, stem);
    const Stemming stemming = stem ? Stemming::porter : Stemming::none;
    const auto d = sumlab::diagnose_summary(summary.toStdString(), {reference.toStdString()}, "", stemming);
    const sumlab::RougeScores expected = sumlab::RougeScorer(stemming).score(reference.toStdString(), summary.toStdString());
    QCOMPARE(d.scores.rouge1.fmeasure, expected.rouge1.fmeasure);
    QCOMPARE(count_true(d.rouge1_matched), d.rouge1_overlap);
    const double n = static_cast<double>(d.tokens.size());
    QCOMPARE(static_cast<double>(d.rouge1_overlap) / n, expected.rouge1.precision);
    QCOMPARE(static_cast<double>(d.rouge2_overlap) / (n - 1), expected.rouge2.precision);
    // Every matched token has a mark over its text, and nothing else is marked as a ROUGE-1 match.
    int marks = 0;
    for (const auto& m : d.marks) marks += m.kind == MarkKind::rouge1_match;
    QCOMPARE(size_t(marks), d.rouge1_overlap);
}

void TestSummaryDiagnostics::clipsRepeatedTokens() {
    const std::string summary = "the the the cat";
    const auto d = sumlab::diagnose_summary(summary, {"the cat"}, "", Stemming::none);
    QCOMPARE(d.rouge1_matched, (std::vector<bool>{true, false, false, true}));
    QCOMPARE(d.rouge2_matched, (std::vector<bool>{false, false, true, true}));
    QCOMPARE(d.rouge2_overlap, size_t{1});
}

void TestSummaryDiagnostics::stemmingDecidesMatches() {
    const std::string summary = "dogs running";
    const std::string reference = "the dog runs";
    const auto plain = sumlab::diagnose_summary(summary, {reference}, "", Stemming::none);
    const auto stemmed = sumlab::diagnose_summary(summary, {reference}, "", Stemming::porter);
    QCOMPARE(marked(summary, plain, MarkKind::rouge1_match), QStringList{});
    QCOMPARE(marked(summary, stemmed, MarkKind::rouge1_match), (QStringList{"dogs", "running"}));
    // Stemmed, "dogs running" is the reference's bigram "dog run".
    QCOMPARE(marked(summary, stemmed, MarkKind::rouge2_match), (QStringList{"dogs", "running"}));
    QCOMPARE(marked(summary, plain, MarkKind::rouge2_match), QStringList{});
}

void TestSummaryDiagnostics::multipleReferencesUseScoreMultisChoice() {
    const std::string summary = "a bird flew away quickly";
    const std::vector<std::string> references{"the cat sat", "a bird flew away", "quickly"};
    const auto d = sumlab::diagnose_summary(summary, references, "", Stemming::none);
    QCOMPARE(d.rouge1_reference, size_t{1});
    QCOMPARE(d.rouge2_reference, size_t{1});
    QCOMPARE(d.scores.rouge1.fmeasure, sumlab::RougeScorer().score_multi(references, summary).rouge1.fmeasure);
    QCOMPARE(marked(summary, d, MarkKind::rouge1_match), (QStringList{"a", "bird", "flew", "away"}));
}

void TestSummaryDiagnostics::namesAndNumbers() {
    const std::string summary = "#Person1# lost a passport in Paris and pays 30 dollars, not twenty, with Tom and Mary. Mary helps.";
    const auto d = sumlab::diagnose_summary(summary, {"x"}, dialogue, Stemming::porter);
    QCOMPARE(marked(summary, d, MarkKind::unsupported_number), (QStringList{"30", "twenty"}));
    // "Paris" and "Tom" are in the dialogue; a sentence's first word is never taken for a name.
    QCOMPARE(marked(summary, d, MarkKind::unsupported_name), QStringList{"Mary"});
    const auto supported = sumlab::diagnose_summary("It costs 20 dollars in Paris.", {"x"}, dialogue, Stemming::porter);
    QCOMPARE(marked("It costs 20 dollars in Paris.", supported, MarkKind::unsupported_number), QStringList{});
}

void TestSummaryDiagnostics::speakerTags() {
    // #Person1# lost the passport and missed the flight; saying #Person2# did is a swap.
    const std::string swapped = "#Person2# lost the passport at the airport and missed the flight.";
    const auto d = sumlab::diagnose_summary(swapped, {"x"}, dialogue, Stemming::porter);
    QCOMPARE(marked(swapped, d, MarkKind::speaker_tag), QStringList{"#Person2#"});
    QCOMPARE(marked(swapped, d, MarkKind::speaker_swap), QStringList{"#Person2#"});
    const std::string right = "#Person1# lost the passport at the airport and missed the flight.";
    QCOMPARE(marked(right, sumlab::diagnose_summary(right, {"x"}, dialogue, Stemming::porter), MarkKind::speaker_swap), QStringList{});
    // Two speakers in one sentence are not judged.
    const std::string both = "#Person2# asks #Person1# about the passport, airport and flight.";
    QCOMPARE(marked(both, sumlab::diagnose_summary(both, {"x"}, dialogue, Stemming::porter), MarkKind::speaker_swap), QStringList{});
    const std::string unknown = "#Person3# calls the embassy. #Person1# agrees.";
    const auto u = sumlab::diagnose_summary(unknown, {"x"}, dialogue, Stemming::porter);
    QCOMPARE(marked(unknown, u, MarkKind::unknown_speaker), QStringList{"#Person3#"});
    QCOMPARE(marked(unknown, u, MarkKind::speaker_tag), (QStringList{"#Person3#", "#Person1#"}));
}

void TestSummaryDiagnostics::rejectsNoReference() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::diagnose_summary("a", {}, "", Stemming::none));
}

QTEST_GUILESS_MAIN(TestSummaryDiagnostics)
#include "tst_summary_diagnostics.moc"
