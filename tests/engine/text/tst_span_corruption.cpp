// T5's span corruption (engine/text/span_corruption.h) as HF's DataCollatorForT5MLM builds it: how
// many tokens and spans are hidden, where (kept first, hidden last, every split equally likely), the
// input and labels with their sentinels, that input and labels together give the text back, and that a
// seed always draws the same spans.
#include "engine/text/span_corruption.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <vector>

using namespace sumlab;

class TestSpanCorruption : public QObject {
    Q_OBJECT

private slots:
    void counts_as_hf_data();
    void counts_as_hf();
    void every_split_equally_likely();
    void input_and_labels();
    void input_and_labels_restore_the_tokens();
    void same_seed_same_spans();
    void refuses_too_few_sentinels();
    void text_infilling_labels_are_the_text();
};

namespace {

// The runs of equal values in a mask: (is_hidden, length).
std::vector<std::pair<bool, int>> runs(const std::vector<bool>& mask) {
    std::vector<std::pair<bool, int>> out;
    for (bool m : mask) {
        if (out.empty() || out.back().first != m) out.push_back({m, 0});
        ++out.back().second;
    }
    return out;
}

TokenIds sentinels(int n) {
    TokenIds s;
    for (int k = 0; k < n; ++k) s.push_back(1000 - k);  // as T5: <extra_id_0> the highest id
    return s;
}

}  // namespace

// HF: hidden = clamp(round(length x density), 1, length - 1), spans = max(round(min(hidden, kept) / mean), 1),
// numpy's round is half-to-even. Rows whose products land on .5 check the rounding rule.
void TestSpanCorruption::counts_as_hf_data() {
    QTest::addColumn<int>("length");
    QTest::addColumn<double>("density");
    QTest::addColumn<double>("mean");
    QTest::addColumn<int>("hidden");
    QTest::addColumn<int>("spans");
    QTest::newRow("t5 default, 511 tokens") << 511 << 0.15 << 3.0 << 77 << 26;   // 76.65 -> 77, 25.67 -> 26
    QTest::newRow("half to even: 2.5 -> 2") << 10 << 0.25 << 1.0 << 2 << 2;      // 2.5 -> 2 (not 3)
    QTest::newRow("half to even: 3.5 -> 4") << 14 << 0.25 << 1.0 << 4 << 4;      // 3.5 -> 4
    QTest::newRow("spans: 7.5 -> 8") << 100 << 0.15 << 2.0 << 15 << 8;           // 15 / 2 = 7.5 -> 8
    QTest::newRow("at least one hidden") << 3 << 0.01 << 3.0 << 1 << 1;
    QTest::newRow("at least one kept") << 4 << 1.0 << 1.0 << 3 << 1;             // spans from min(3, 1) = 1
    QTest::newRow("spans bounded by the kept tokens") << 10 << 0.8 << 1.0 << 8 << 2;
    QTest::newRow("two tokens") << 2 << 0.15 << 3.0 << 1 << 1;
}

void TestSpanCorruption::counts_as_hf() {
    QFETCH(int, length);
    QFETCH(double, density);
    QFETCH(double, mean);
    QFETCH(int, hidden);
    QFETCH(int, spans);
    QCOMPARE(noise_span_count(length, density, mean), int64_t{spans});
    for (uint64_t seed = 0; seed < 50; ++seed) {
        std::mt19937_64 rng(seed);
        const std::vector<bool> mask = random_spans_noise_mask(length, density, mean, rng);
        QCOMPARE(static_cast<int>(mask.size()), length);
        QCOMPARE(static_cast<int>(std::count(mask.begin(), mask.end(), true)), hidden);
        const auto r = runs(mask);
        QCOMPARE(static_cast<int>(r.size()), 2 * spans);  // kept, hidden, kept, hidden, ...
        QCOMPARE(r.front().first, false);
        QCOMPARE(r.back().first, true);
    }
}

// 12 tokens at density 0.5, mean 2: 6 hidden in 3 spans and 6 kept in 3 runs; each has C(5, 2) = 10
// compositions, so each of the 100 masks should come up 1% of the time. 20,000 draws: 200 expected per
// mask, standard deviation about 14; the bound of 200 +- 80 is more than 5.6 of them, yet a shuffle
// that favours the first places (Fisher-Yates off by one) moves whole compositions far outside it.
void TestSpanCorruption::every_split_equally_likely() {
    std::map<std::vector<bool>, int> seen;
    constexpr int kDraws = 20000;
    for (uint64_t seed = 0; seed < kDraws; ++seed) {
        std::mt19937_64 rng(span_corruption_seed(7, 0, seed));
        ++seen[random_spans_noise_mask(12, 0.5, 2.0, rng)];
    }
    QCOMPARE(static_cast<int>(seen.size()), 100);
    for (const auto& [mask, count] : seen) {
        if (count < 120 || count > 280) {
            QString bits;
            for (bool b : mask) bits += b ? 'x' : '.';
            QFAIL(qPrintable(QString("mask %1 drawn %2 times of %3, expected about 200").arg(bits).arg(count).arg(kDraws)));
        }
    }
}

// The example in span_corruption.h's header.
void TestSpanCorruption::input_and_labels() {
    const TokenIds tokens = {11, 12, 13, 14, 15, 16, 17, 18};  // A .. H
    const std::vector<bool> mask = {false, false, true, true, false, false, false, true};
    const CorruptedExample c = corrupt_spans(tokens, mask, sentinels(100), /*eos*/ 1);
    QCOMPARE(c.input_ids, (TokenIds{11, 12, 1000, 15, 16, 17, 999, 1}));
    QCOMPARE(c.labels, (TokenIds{1000, 13, 14, 999, 18, 1}));
}

// Putting each label span back where the input's matching sentinel stands gives the tokens again.
void TestSpanCorruption::input_and_labels_restore_the_tokens() {
    std::mt19937_64 lengths(3);
    for (int trial = 0; trial < 200; ++trial) {
        const int length = 2 + static_cast<int>(lengths() % 300);
        TokenIds tokens(static_cast<size_t>(length));
        std::iota(tokens.begin(), tokens.end(), 3);
        std::mt19937_64 rng(span_corruption_seed(42, 1, static_cast<uint64_t>(trial)));
        const auto mask = random_spans_noise_mask(length, 0.15, 3.0, rng);
        const CorruptedExample c = corrupt_spans(tokens, mask, sentinels(100), 1);
        QCOMPARE(c.input_ids.back(), int64_t{1});
        QCOMPARE(c.labels.back(), int64_t{1});
        std::map<int64_t, TokenIds> hidden;  // sentinel -> the tokens after it in the labels
        int64_t current = -1;
        for (size_t i = 0; i + 1 < c.labels.size(); ++i) {
            if (c.labels[i] > 900) current = c.labels[i];
            else hidden[current].push_back(c.labels[i]);
        }
        TokenIds restored;
        for (size_t i = 0; i + 1 < c.input_ids.size(); ++i) {
            if (c.input_ids[i] > 900) restored.insert(restored.end(), hidden[c.input_ids[i]].begin(), hidden[c.input_ids[i]].end());
            else restored.push_back(c.input_ids[i]);
        }
        QCOMPARE(restored, tokens);
        QCOMPARE(hidden.size(), static_cast<size_t>(noise_span_count(length, 0.15, 3.0)));
    }
}

// A resumed run must hide the same spans: the corruption depends on (seed, epoch, example) alone.
void TestSpanCorruption::same_seed_same_spans() {
    SpanCorruptor corrupt;
    corrupt.sentinel_ids = sentinels(100);
    TokenIds source(200);
    std::iota(source.begin(), source.end(), 3);
    source.push_back(corrupt.eos_token_id);  // as the tokenizer encodes a prompt
    const auto a = corrupt(source, span_corruption_seed(42, 3, 17));
    const auto b = corrupt(source, span_corruption_seed(42, 3, 17));
    QCOMPARE(a.input_ids, b.input_ids);
    QCOMPARE(a.labels, b.labels);
    QCOMPARE(std::count(a.input_ids.begin(), a.input_ids.end(), corrupt.eos_token_id), 1L);  // the prompt's </s> is not corrupted
    int differ = 0;
    for (uint64_t other : {span_corruption_seed(42, 4, 17), span_corruption_seed(42, 3, 18), span_corruption_seed(43, 3, 17)})
        differ += corrupt(source, other).input_ids != a.input_ids;
    QCOMPARE(differ, 3);  // another epoch, example or seed: other spans
}

void TestSpanCorruption::refuses_too_few_sentinels() {
    const TokenIds tokens = {11, 12, 13, 14, 15, 16};
    const std::vector<bool> mask = {false, true, false, true, false, true};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, corrupt_spans(tokens, mask, sentinels(2), 1));
    QCOMPARE(corrupt_spans(tokens, mask, sentinels(3), 1).input_ids, (TokenIds{11, 1000, 13, 999, 15, 998, 1}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, corrupt_spans(tokens, std::vector<bool>(5, false), sentinels(3), 1));
}

// Text infilling hides the same spans in the input; its labels are the tokens themselves, cut as a
// target is cut (the first ones, then </s>).
void TestSpanCorruption::text_infilling_labels_are_the_text() {
    SpanCorruptor spans;
    spans.sentinel_ids = sentinels(100);
    SpanCorruptor infilling = spans;
    TokenIds source(200);
    std::iota(source.begin(), source.end(), 3);
    source.push_back(spans.eos_token_id);
    for (int64_t limit : {500, 201, 64}) {
        infilling.full_labels_max_length = limit;
        const uint64_t seed = span_corruption_seed(7, 0, static_cast<uint64_t>(limit));
        const CorruptedExample c = infilling(source, seed);
        QCOMPARE(c.input_ids, spans(source, seed).input_ids);
        QVERIFY(std::count_if(c.input_ids.begin(), c.input_ids.end(), [](int64_t id) { return id > 900; }) > 0);
        const size_t kept = std::min<size_t>(200, static_cast<size_t>(limit - 1));
        TokenIds expected(source.begin(), source.begin() + static_cast<std::ptrdiff_t>(kept));
        expected.push_back(spans.eos_token_id);
        QCOMPARE(c.labels, expected);
    }
}

QTEST_GUILESS_MAIN(TestSpanCorruption)
#include "tst_span_corruption.moc"
