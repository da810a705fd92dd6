// Tests for engine/metrics/bootstrap: math.fsum-exact sums, numpy "linear" percentiles, bootstrap intervals against
// rouge_score's BootstrapAggregator ranges in aggregates.json, determinism under a seed, the paired
// bootstrap (identical systems, a clearly better system, antisymmetry) and the speed budget.
#include "engine/metrics/bootstrap.h"

#include <nlohmann/json.hpp>

#include "tests/common/golden.h"
#include "tests/common/sanitizer.h"

#include <QtTest>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

using sumlab::BootstrapOptions;
using sumlab::ConfidenceInterval;
using sumlab::RougeScores;

namespace {

const QString golden_dir = QStringLiteral(SUMLAB_SHARED_DIR "/golden/rouge");

using sumlab::test::read_json;
using sumlab::test::repr;

QString describe(const ConfidenceInterval& ci) { return repr(ci.low) + " " + repr(ci.mid) + " " + repr(ci.high); }

// Deterministic per-example values in [0, 1] (a fixed linear congruential sequence).
std::vector<double> pseudo_scores(size_t n, std::uint64_t seed) {
    std::vector<double> values(n);
    std::uint64_t x = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (double& v : values) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        v = static_cast<double>(x >> 11) / 9007199254740992.0;
    }
    return values;
}

std::vector<RougeScores> score_corpus(const nlohmann::json& corpus) {
    const sumlab::RougeScorer scorer(corpus.at("use_stemmer").get<bool>() ? sumlab::Stemming::porter : sumlab::Stemming::none);
    std::vector<RougeScores> per_example;
    for (const nlohmann::json& input : corpus.at("inputs")) {
        per_example.push_back(scorer.score_multi(input.at("references").get<std::vector<std::string>>(),
                                                 input.at("prediction").get<std::string>()));
    }
    return per_example;
}

}  // namespace

Q_DECLARE_METATYPE(std::vector<double>)

class TestBootstrap : public QObject {
    Q_OBJECT

private slots:
    void exactSum_data();
    void exactSum();
    void exactMeanRejectsEmpty();
    void percentile_data();
    void percentile();
    void goldenIntervals_data();
    void goldenIntervals();
    void deterministicWithSeed();
    void intervalWidthMatchesStandardError();
    void pairedIdenticalSystems();
    void pairedClearlyBetterSystem();
    void pairedIsAntisymmetric();
    void pairedNoisyEqualSystems();
    void invalidArguments();
    void budget();

private:
    nlohmann::json m_corpora;
};

void TestBootstrap::exactSum_data() {
    QTest::addColumn<std::vector<double>>("values");
    QTest::addColumn<double>("sum");
    // CPython's test_math.test_fsum cases (the half-even rounding across partials among them).
    QTest::addRow("empty") << std::vector<double>{} << 0.0;
    QTest::addRow("tenths") << std::vector<double>(10, 0.1) << 1.0;
    QTest::addRow("cancellation") << std::vector<double>{1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50} << 1e-100;
    QTest::addRow("half-even down") << std::vector<double>{std::ldexp(1.0, 53), -0.5, -std::ldexp(1.0, -54)}
                                    << std::ldexp(1.0, 53) - 1.0;
    QTest::addRow("half-even up") << std::vector<double>{std::ldexp(1.0, 53), 1.0, std::ldexp(1.0, -100)}
                                  << std::ldexp(1.0, 53) + 2.0;
    QTest::addRow("half-even up offset") << std::vector<double>{std::ldexp(1.0, 53) + 10.0, 1.0, std::ldexp(1.0, -100)}
                                         << std::ldexp(1.0, 53) + 12.0;
    QTest::addRow("half-even below") << std::vector<double>{std::ldexp(1.0, 53) - 4.0, 0.5, std::ldexp(1.0, -54)}
                                     << std::ldexp(1.0, 53) - 3.0;
    QTest::addRow("tiny tail") << std::vector<double>{1e16, 1.0, 1e-16} << 10000000000000002.0;
    QTest::addRow("exact zero") << std::vector<double>{1e16 - 2.0, 1.0 - std::ldexp(1.0, -53), -(1e16 - 2.0),
                                                       -(1.0 - std::ldexp(1.0, -53))}
                                << 0.0;
    std::vector<double> harmonic;
    for (int n = 1; n <= 1000; ++n) harmonic.push_back(1.0 / n);
    QTest::addRow("harmonic 1000") << harmonic << 0x1.df11f45f4e61ap+2;
    std::vector<double> alternating;
    for (int n = 1; n <= 1000; ++n) alternating.push_back((n % 2 ? -1.0 : 1.0) / n);
    QTest::addRow("alternating harmonic 1000") << alternating << -0x1.62a2af1bd3624p-1;
}

void TestBootstrap::exactSum() {
    QFETCH(std::vector<double>, values);
    QFETCH(double, sum);
    QCOMPARE(repr(sumlab::exact_sum(values)), repr(sum));
}

void TestBootstrap::exactMeanRejectsEmpty() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::exact_mean({}));
    QCOMPARE(repr(sumlab::exact_mean(std::vector<double>(10, 0.1))), repr(0.1));
}

void TestBootstrap::percentile_data() {
    QTest::addColumn<std::vector<double>>("sorted");
    QTest::addColumn<double>("percent");
    QTest::addColumn<double>("expected");
    // np.percentile(sorted, percent), method "linear": index (n-1)*q between neighbours.
    QTest::addRow("median even") << std::vector<double>{1, 2, 3, 4} << 50.0 << 2.5;
    QTest::addRow("median odd") << std::vector<double>{1, 2, 3} << 50.0 << 2.0;
    QTest::addRow("minimum") << std::vector<double>{1, 2, 3} << 0.0 << 1.0;
    QTest::addRow("maximum") << std::vector<double>{1, 2, 3} << 100.0 << 3.0;
    QTest::addRow("single value") << std::vector<double>{7} << 2.5 << 7.0;
    QTest::addRow("quarter") << std::vector<double>{0, 4, 8, 12, 16} << 25.0 << 4.0;
    QTest::addRow("fraction below half") << std::vector<double>{0, 8} << 25.0 << 2.0;
    QTest::addRow("fraction above half") << std::vector<double>{0, 8} << 75.0 << 6.0;
    QTest::addRow("equal neighbours") << std::vector<double>{0.3, 0.3, 0.3} << 97.5 << 0.3;
}

void TestBootstrap::percentile() {
    QFETCH(std::vector<double>, sorted);
    QFETCH(double, percent);
    QFETCH(double, expected);
    QCOMPARE(repr(sumlab::numpy_percentile(sorted, percent)), repr(expected));
}

void TestBootstrap::goldenIntervals_data() {
    QTest::addColumn<int>("corpus");
    QTest::addColumn<quint64>("seed");
    const QString path = golden_dir + "/aggregates.json";
    if (!read_json(path, &m_corpora)) QSKIP(qPrintable("golden aggregates not found: " + path));
    m_corpora = m_corpora.at("corpora");
    for (size_t i = 0; i < m_corpora.size(); ++i) {
        for (quint64 seed : {quint64{0}, quint64{12345}, quint64{2024}}) {
            QTest::addRow("%s/seed%llu", m_corpora[i].at("id").get<std::string>().c_str(), static_cast<unsigned long long>(seed))
                << static_cast<int>(i) << seed;
        }
    }
}

void TestBootstrap::goldenIntervals() {
    QFETCH(int, corpus);
    QFETCH(quint64, seed);
    const nlohmann::json& c = m_corpora.at(static_cast<size_t>(corpus));
    const std::vector<RougeScores> per_example = score_corpus(c);
    const RougeScores mean = sumlab::mean_rouge(per_example);
    const auto intervals = sumlab::bootstrap_rouge(per_example, BootstrapOptions{1000, 0.95, seed});
    const nlohmann::json& ranges = c.at("bootstrap").at("fmeasure_range_over_seeds_0_19");
    // Tolerances from golden/rouge/README.md: low <= mean <= high, |mid - mean| < 2e-3, and low/high within
    // 3e-3 of the range numpy's BootstrapAggregator gave over seeds 0..19.
    constexpr double mid_tolerance = 2e-3;
    constexpr double bound_tolerance = 3e-3;
    for (sumlab::RougeType type : sumlab::all_rouge_types) {
        const ConfidenceInterval& ci = intervals[type].fmeasure;
        const double m = mean[type].fmeasure;
        const QByteArray what = QByteArray(sumlab::rouge_type_name(type)) + ": " + describe(ci).toLatin1() +
                                " mean " + repr(m).toLatin1();
        QVERIFY2(ci.low <= m && m <= ci.high, what.constData());
        QVERIFY2(std::fabs(ci.mid - m) < mid_tolerance, what.constData());
        const nlohmann::json& range = ranges.at(sumlab::rouge_type_name(type));
        QVERIFY2(ci.low >= range.at("low").at(0).get<double>() - bound_tolerance, what.constData());
        QVERIFY2(ci.low <= range.at("low").at(1).get<double>() + bound_tolerance, what.constData());
        QVERIFY2(ci.high >= range.at("high").at(0).get<double>() - bound_tolerance, what.constData());
        QVERIFY2(ci.high <= range.at("high").at(1).get<double>() + bound_tolerance, what.constData());
    }
}

void TestBootstrap::deterministicWithSeed() {
    const std::vector<std::vector<double>> columns{pseudo_scores(300, 1), pseudo_scores(300, 2)};
    const auto a = sumlab::bootstrap_mean_intervals(columns, BootstrapOptions{500, 0.95, 42});
    const auto b = sumlab::bootstrap_mean_intervals(columns, BootstrapOptions{500, 0.95, 42});
    const auto c = sumlab::bootstrap_mean_intervals(columns, BootstrapOptions{500, 0.95, 43});
    QCOMPARE(a.size(), size_t{2});
    for (size_t k = 0; k < a.size(); ++k) {
        QCOMPARE(describe(a[k]), describe(b[k]));
        QVERIFY2(describe(a[k]) != describe(c[k]), "another seed must draw other resamples");
    }
}

void TestBootstrap::intervalWidthMatchesStandardError() {
    // For n = 2000 values the percentile interval of the mean approaches mean +- 1.96 * sd / sqrt(n);
    // a resampler that is not uniform over the examples (or reuses indices) breaks this.
    const std::vector<double> values = pseudo_scores(2000, 7);
    const double mean = sumlab::exact_mean(values);
    double squares = 0;
    for (double v : values) squares += (v - mean) * (v - mean);
    const double standard_error = std::sqrt(squares / static_cast<double>(values.size() - 1)) / std::sqrt(2000.0);
    const ConfidenceInterval ci = sumlab::bootstrap_mean_intervals({values}, BootstrapOptions{4000, 0.95, 3}).front();
    const double half_width = (ci.high - ci.low) / 2;
    QVERIFY2(std::fabs(half_width / (1.96 * standard_error) - 1) < 0.08, qPrintable(describe(ci) + " se " + repr(standard_error)));
    QVERIFY2(std::fabs(ci.mid - mean) < 0.3 * standard_error, qPrintable(describe(ci) + " mean " + repr(mean)));
}

void TestBootstrap::pairedIdenticalSystems() {
    const std::vector<std::vector<double>> system{pseudo_scores(400, 11), pseudo_scores(400, 12)};
    const std::vector<sumlab::PairedDelta> deltas = sumlab::paired_bootstrap(system, system, BootstrapOptions{1000, 0.95, 5});
    QCOMPARE(deltas.size(), system.size());
    for (size_t k = 0; k < deltas.size(); ++k) {
        const sumlab::PairedDelta& d = deltas[k];
        QCOMPARE(repr(d.baseline_mean), repr(sumlab::exact_mean(system[k])));
        QCOMPARE(repr(d.candidate_mean), repr(d.baseline_mean));
        QCOMPARE(repr(d.delta), repr(0.0));
        QCOMPARE(repr(d.ci.low), repr(0.0));
        QCOMPARE(repr(d.ci.mid), repr(0.0));
        QCOMPARE(repr(d.ci.high), repr(0.0));
        QCOMPARE(repr(d.p_value), repr(1.0));
    }
}

void TestBootstrap::pairedClearlyBetterSystem() {
    const QString path = golden_dir + "/aggregates.json";
    nlohmann::json aggregates;
    if (!read_json(path, &aggregates)) QSKIP(qPrintable("golden aggregates not found: " + path));
    // Baseline: the perturbed predictions of the multi-reference corpus; candidate: the first reference itself.
    const nlohmann::json& corpus = aggregates.at("corpora").at(2);
    const std::vector<RougeScores> baseline = score_corpus(corpus);
    const sumlab::RougeScorer scorer(sumlab::Stemming::porter);
    std::vector<RougeScores> candidate;
    for (const nlohmann::json& input : corpus.at("inputs")) {
        const auto refs = input.at("references").get<std::vector<std::string>>();
        candidate.push_back(scorer.score_multi(refs, refs.front()));
    }
    const auto deltas = sumlab::paired_bootstrap_rouge(baseline, candidate, BootstrapOptions{1000, 0.95, 9});
    const RougeScores baseline_mean = sumlab::mean_rouge(baseline);
    const RougeScores candidate_mean = sumlab::mean_rouge(candidate);
    for (sumlab::RougeType type : sumlab::all_rouge_types) {
        const sumlab::PairedDelta& d = deltas[type].fmeasure;
        QCOMPARE(repr(d.baseline_mean), repr(baseline_mean[type].fmeasure));
        QCOMPARE(repr(d.candidate_mean), repr(candidate_mean[type].fmeasure));
        QCOMPARE(repr(d.delta), repr(candidate_mean[type].fmeasure - baseline_mean[type].fmeasure));
        QVERIFY2(d.ci.low > 0, qPrintable(describe(d.ci)));
        QVERIFY2(d.ci.low <= d.delta && d.delta <= d.ci.high, qPrintable(describe(d.ci) + " delta " + repr(d.delta)));
        QCOMPARE(repr(d.p_value), repr(2.0 / 1001));
    }
}

void TestBootstrap::pairedIsAntisymmetric() {
    const std::vector<std::vector<double>> a{pseudo_scores(250, 21)};
    const std::vector<std::vector<double>> b{pseudo_scores(250, 22)};
    const BootstrapOptions options{800, 0.9, 77};
    const sumlab::PairedDelta forward = sumlab::paired_bootstrap(a, b, options).front();
    const sumlab::PairedDelta backward = sumlab::paired_bootstrap(b, a, options).front();
    QCOMPARE(repr(forward.delta), repr(-backward.delta));
    // Percentile positions mirror only up to rounding of (n-1)*q, so the bounds agree to ~1e-16 (QCOMPARE's fuzzy 1e-12).
    QCOMPARE(forward.ci.low, -backward.ci.high);
    QCOMPARE(forward.ci.high, -backward.ci.low);
    QCOMPARE(forward.p_value, backward.p_value);
}

void TestBootstrap::pairedNoisyEqualSystems() {
    // Two independent draws from one distribution: the interval should cover 0 and p should not be small.
    const std::vector<std::vector<double>> a{pseudo_scores(1000, 31)};
    const std::vector<std::vector<double>> b{pseudo_scores(1000, 32)};
    const sumlab::PairedDelta d = sumlab::paired_bootstrap(a, b, BootstrapOptions{1000, 0.95, 1}).front();
    const QString what = describe(d.ci) + " p " + repr(d.p_value);
    QVERIFY2(d.ci.low < 0 && 0 < d.ci.high, qPrintable(what));
    QVERIFY2(d.p_value > 0.05, qPrintable(what));
    QVERIFY2(d.p_value <= 1, qPrintable(what));
}

void TestBootstrap::invalidArguments() {
    const std::vector<std::vector<double>> one{{0.5, 0.25}};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::bootstrap_mean_intervals(one, BootstrapOptions{0, 0.95, 0}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::bootstrap_mean_intervals(one, BootstrapOptions{10, 1.5, 0}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::bootstrap_mean_intervals({}, BootstrapOptions{}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::bootstrap_mean_intervals({{}}, BootstrapOptions{}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::bootstrap_mean_intervals({{0.5}, {0.5, 0.5}}, BootstrapOptions{}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::paired_bootstrap(one, {{0.5}}, BootstrapOptions{}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sumlab::paired_bootstrap(one, {}, BootstrapOptions{}));
}

void TestBootstrap::budget() {
    // The budget: 1,500 examples x 3 references, 1,000 resamples, all four ROUGE types, under 0.5 s
    // for the statistics once the per-example scores exist.
    const sumlab::RougeBenchTimings t = sumlab::bench_rouge_bootstrap(1500, 3, 1000);
    qInfo("scoring %d x %d references x 2 systems: %.1f ms; bootstrap_rouge: %.1f ms; paired_bootstrap_rouge: %.1f ms",
          t.examples, t.references, t.scoring_ms, t.bootstrap_ms, t.paired_ms);
    QVERIFY2(t.bootstrap_ms + t.paired_ms < 500 * sumlab_test::kTimeBudgetScale, qPrintable(QString::number(t.bootstrap_ms + t.paired_ms) + " ms"));
}

QTEST_GUILESS_MAIN(TestBootstrap)
#include "tst_bootstrap.moc"
