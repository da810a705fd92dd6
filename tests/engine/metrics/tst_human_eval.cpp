// Tests for engine/metrics/human_eval: the seeded sample and its recorded order, the ratings file (one fsync'ed
// line per rating, resume, last rating wins, a torn last line ignored with a warning), the agreement and
// correlation statistics against textbook examples, and the merge of two raters with hand-checked numbers.
//
// Reference values were computed independently with a throwaway pure-Python script written from the
// definitions (exact fractions; Krippendorff's alpha pair-based rather than through the coincidence
// matrix used by the engine):
//   Cohen's kappa, Wikipedia "Cohen's kappa" example (20/5/10/15 of 50):          0.4
//   Fleiss' kappa, Wikipedia "Fleiss' kappa" example (10 subjects, 14 raters):     0.20993070442195524
//   Krippendorff (2011) "Computing Krippendorff's alpha-reliability", 4 coders x 12 units with missing
//   values: nominal 0.743421052631579, ordinal 0.8153875037548813, interval 0.8491071428571428
//   (the paper prints 0.743, 0.815 and 0.849).
//   Wilson 8/10 at 95%: (0.49016247153664183, 0.9433178485456247); 3/7 at 90%: (0.18644319036395612,
//   0.7105229089864071).
#include "engine/metrics/human_eval.h"
#include "base/errors.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <set>

using namespace sumlab;

namespace {

std::optional<double> v(double x) { return x; }
constexpr std::nullopt_t _ = std::nullopt;

QByteArray readAll(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return f.readAll();
}

QList<nlohmann::json> jsonLines(const QString& path) {
    QList<nlohmann::json> out;
    for (const QByteArray& line : readAll(path).split('\n'))
        if (!line.trimmed().isEmpty()) out << nlohmann::json::parse(line.toStdString());
    return out;
}

void appendRaw(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::Append));
    QCOMPARE(f.write(bytes), bytes.size());
}

// A results table of `rows` rows with three systems; ids test_<i>.
ResultsTable table(std::size_t rows) {
    ResultsTable t;
    t.systems = {{"original_model", {}}, {"instruct_model", {}}, {"peft_model", {}}};
    for (std::size_t i = 0; i < rows; ++i) {
        t.ids.push_back("test_" + std::to_string(i));
        t.human_baseline.push_back("person one asks for ticket " + std::to_string(i));
        for (auto& s : t.systems) s.summaries.push_back(s.name + " says ticket " + std::to_string(i));
    }
    return t;
}

// The merge scenario of merge_ref.py: six rows, human "alpha beta gamma delta"; ROUGE-L F deltas (b - a)
// -1, 1/3, 1, 0, 16/35, -16/35.
ResultsTable mergeTable() {
    ResultsTable t;
    t.human_baseline.assign(6, "alpha beta gamma delta");
    t.systems = {{"original_model", {"alpha beta gamma delta", "alpha beta", "zeta", "alpha beta", "alpha", "alpha beta gamma"}},
                 {"peft_model", {"zeta eta", "alpha beta gamma delta", "alpha beta gamma delta", "gamma delta", "alpha beta gamma", "alpha"}}};
    for (int i = 0; i < 6; ++i) t.ids.push_back("test_" + std::to_string(i));
    return t;
}

}  // namespace

class TestHumanEval : public QObject {
    Q_OBJECT

private slots:
    void planIsSeededAndRecordsOrder();
    void planRejectsMissingSystem();
    void planClampsToTableSize();
    void sessionWritesOneLinePerRating();
    void reopenResumesAndLastRatingWins();
    void tornLastLineIsIgnoredWithWarning();
    void tornFirstLineStartsAfresh();
    void badMiddleLineIsAnError();
    void reopenWithOtherPlanIsRefused();
    void recordRejectsMismatch();
    void cohenKappaTextbook();
    void fleissKappaTextbook();
    void krippendorffAlphaTextbook_data();
    void krippendorffAlphaTextbook();
    void correlations();
    void wilsonInterval();
    void mergeTwoRaters();
    void mergeThreeRatersUsesFleiss();
    void mergeRejectsOtherPair();
    void exportsMergedTable();

private:
    // Rates the merge scenario: winners per row for one rater, faithfulness of original / peft per row.
    QString writeRater(const QString& dir, const QString& rater, const QString& winners, const std::vector<int>& faithA,
                       const std::vector<int>& faithB);
};

void TestHumanEval::planIsSeededAndRecordsOrder() {
    const ResultsTable t = table(200);
    const RatingPlan p1 = make_rating_plan(t, "/x/results.csv", "original_model", "peft_model", 50, 7);
    const RatingPlan p2 = make_rating_plan(t, "/x/results.csv", "original_model", "peft_model", 50, 7);
    const RatingPlan p3 = make_rating_plan(t, "/x/results.csv", "original_model", "peft_model", 50, 8);
    QCOMPARE(p1.items.size(), size_t(50));
    std::set<std::size_t> rows;
    int swapped = 0;
    bool sameAsP3 = true;
    for (std::size_t i = 0; i < p1.items.size(); ++i) {
        const RatingItem& a = p1.items[i];
        QCOMPARE(a.position, i);
        QCOMPARE(a.row, p2.items[i].row);
        QCOMPARE(a.left_system, p2.items[i].left_system);
        QCOMPARE(a.id, "test_" + std::to_string(a.row));
        QVERIFY(a.row < 200);
        rows.insert(a.row);
        QVERIFY(std::set<std::string>({a.left_system, a.right_system}) == std::set<std::string>({"original_model", "peft_model"}));
        if (a.left_system == "peft_model") ++swapped;
        sameAsP3 = sameAsP3 && a.row == p3.items[i].row;
    }
    QCOMPARE(rows.size(), size_t(50));  // distinct rows
    QVERIFY(!sameAsP3);                 // the seed matters
    // Both orders occur (a fair coin gives 0 or 50 swaps with probability 2^-49).
    QVERIFY2(swapped > 5 && swapped < 45, qPrintable(QString::number(swapped)));
    // Not simply the first rows in order.
    QVERIFY(*rows.rbegin() > 60);
}

void TestHumanEval::planRejectsMissingSystem() {
    const ResultsTable t = table(3);
    try {
        make_rating_plan(t, "/x/results.csv", "original_model", "chatgpt", 2, 0);
        QFAIL("no error");
    } catch (const DataError& e) {
        const QString what = QString::fromUtf8(e.what());
        QVERIFY2(what.contains("/x/results.csv") && what.contains("chatgpt_summaries") && what.contains("peft_model"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(DataError, make_rating_plan(t, "r.csv", "peft_model", "peft_model", 2, 0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, make_rating_plan(t, "r.csv", "original_model", "peft_model", 0, 0));
}

void TestHumanEval::planClampsToTableSize() {
    const RatingPlan p = make_rating_plan(table(4), "r.csv", "original_model", "peft_model", 50, 1);
    QCOMPARE(p.items.size(), size_t(4));
    QCOMPARE(p.sample_size, size_t(50));
    std::set<std::size_t> rows;
    for (const auto& item : p.items) rows.insert(item.row);
    QCOMPARE(rows.size(), size_t(4));
}

void TestHumanEval::sessionWritesOneLinePerRating() {
    QTemporaryDir dir;
    const QString path = dir.filePath("ann.jsonl");
    const RatingPlan plan = make_rating_plan(table(20), "/data/results.csv", "original_model", "peft_model", 5, 3);
    RatingSession session(path.toStdString(), "ann", plan);
    QCOMPARE(session.rated_count(), size_t(0));
    QCOMPARE(session.next_unrated(), size_t(0));
    QCOMPARE(jsonLines(path).size(), 1);  // the session line is on disk before any rating

    Rating r = session.make_rating(0, Choice::left);
    r.left = {5, 4, 3};
    r.right = {2, 0, 1};
    r.note = "B invents a \"ticket\"";
    session.record(r);
    session.record(session.make_rating(1, Choice::tie));
    // Each record() is on disk at once, without closing the session.
    const auto lines = jsonLines(path);
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines[0]["type"], "session");
    QCOMPARE(lines[0]["rater"], "ann");
    QCOMPARE(lines[0]["seed"], 3);
    QCOMPARE(lines[0]["system_a"], "original_model");
    const auto& first = lines[1];
    QCOMPARE(first["type"], "rating");
    QCOMPARE(first["row"].get<std::size_t>(), plan.items[0].row);
    QCOMPARE(first["left"].get<std::string>(), plan.items[0].left_system);
    QCOMPARE(first["right"].get<std::string>(), plan.items[0].right_system);
    QCOMPARE(first["choice"], "left");
    QCOMPARE(first["winner"].get<std::string>(), plan.items[0].left_system);  // stored as the system that won
    QCOMPARE(first["scores"][plan.items[0].left_system]["faithfulness"], 5);
    QCOMPARE(first["scores"][plan.items[0].right_system]["coverage"], 0);
    QCOMPARE(first["note"], "B invents a \"ticket\"");
    QVERIFY(QString::fromStdString(first["time"].get<std::string>()).endsWith('Z'));
    QCOMPARE(lines[2]["winner"], "tie");
    QCOMPARE(session.rated_count(), size_t(2));
    QCOMPARE(session.next_unrated(), size_t(2));
    QCOMPARE(session.next_unrated(4), size_t(4));
}

void TestHumanEval::reopenResumesAndLastRatingWins() {
    QTemporaryDir dir;
    const QString path = dir.filePath("bob.jsonl");
    const RatingPlan plan = make_rating_plan(table(20), "/data/results.csv", "original_model", "peft_model", 4, 11);
    {
        RatingSession s(path.toStdString(), "bob", plan);
        s.record(s.make_rating(0, Choice::left));
        s.record(s.make_rating(1, Choice::right));
        Rating again = s.make_rating(0, Choice::right);  // changes his mind
        again.note = "second look";
        s.record(again);
    }
    // The results file may have moved: only its name must match.
    RatingPlan moved = plan;
    moved.results_path = "/elsewhere/results.csv";
    RatingSession s(path.toStdString(), "bob", moved);
    QVERIFY(s.warnings().empty());
    QCOMPARE(s.rated_count(), size_t(2));
    QCOMPARE(s.next_unrated(), size_t(2));
    QCOMPARE(s.rating(0)->choice, Choice::right);
    QCOMPARE(s.rating(0)->note, std::string("second look"));
    QVERIFY(!s.rating(3));
    s.record(s.make_rating(2, Choice::tie));
    s.record(s.make_rating(3, Choice::tie));
    QCOMPARE(s.next_unrated(), s.size());
    const RatingFile f = read_rating_file(path.toStdString());
    QCOMPARE(f.ratings.size(), size_t(5));   // every line is kept
    QCOMPARE(f.latest().size(), size_t(4));  // the last one per item counts
    QCOMPARE(f.latest().at(0).winner, plan.items[0].right_system);
    QCOMPARE(jsonLines(path).size(), 6);     // one session line only
}

void TestHumanEval::tornLastLineIsIgnoredWithWarning() {
    QTemporaryDir dir;
    const QString path = dir.filePath("cat.jsonl");
    const RatingPlan plan = make_rating_plan(table(20), "results.csv", "original_model", "peft_model", 3, 5);
    {
        RatingSession s(path.toStdString(), "cat", plan);
        s.record(s.make_rating(0, Choice::left));
    }
    // A crash in the middle of the second write.
    appendRaw(path, R"({"type":"rating","rater":"cat","time":"2026-)");
    const RatingFile f = read_rating_file(path.toStdString());
    QCOMPARE(f.ratings.size(), size_t(1));
    QCOMPARE(f.warnings.size(), size_t(1));
    QVERIFY2(QString::fromStdString(f.warnings[0]).contains("line 3"), f.warnings[0].c_str());
    {
        RatingSession s(path.toStdString(), "cat", plan);
        QCOMPARE(s.warnings().size(), size_t(1));
        QCOMPARE(s.rated_count(), size_t(1));
        s.record(s.make_rating(1, Choice::right));
    }
    // The fragment was cut off, so the next rating is a clean line and the file reads without warnings.
    const RatingFile g = read_rating_file(path.toStdString());
    QVERIFY(g.warnings.empty());
    QCOMPARE(g.ratings.size(), size_t(2));
    const QList<QByteArray> raw = readAll(path).split('\n');
    QCOMPARE(raw.size(), 4);  // session, two ratings, and the empty rest after the last newline
    for (int i = 0; i < 3; ++i) QVERIFY2(nlohmann::json::accept(raw[i].toStdString()), raw[i].constData());

    // A complete line that lost only its newline is kept, and the next line starts on a line of its own.
    Rating r = RatingSession(path.toStdString(), "cat", plan).make_rating(2, Choice::tie);
    appendRaw(path, QByteArray::fromStdString(rating_to_json(r).dump()));
    {
        RatingSession s(path.toStdString(), "cat", plan);
        QCOMPARE(s.rated_count(), size_t(3));
        s.record(s.make_rating(0, Choice::tie));
    }
    const RatingFile h = read_rating_file(path.toStdString());
    QVERIFY(h.warnings.empty());
    QCOMPARE(h.ratings.size(), size_t(4));
}

void TestHumanEval::tornFirstLineStartsAfresh() {
    QTemporaryDir dir;
    const QString path = dir.filePath("dan.jsonl");
    appendRaw(path, R"({"type":"session","results":"res)");
    const RatingPlan plan = make_rating_plan(table(5), "results.csv", "original_model", "peft_model", 2, 0);
    RatingSession s(path.toStdString(), "dan", plan);
    QCOMPARE(s.warnings().size(), size_t(1));
    const auto lines = jsonLines(path);
    QCOMPARE(lines.size(), 1);
    QCOMPARE(lines[0]["rater"], "dan");
}

void TestHumanEval::badMiddleLineIsAnError() {
    const std::string text = "{\"type\":\"session\",\"results\":\"r.csv\",\"system_a\":\"a\",\"system_b\":\"b\",\"sample_size\":2,\"seed\":0}\n"
                             "{\"type\":\"rating\", broken\n"
                             "{\"type\":\"rating\"}\n";
    try {
        parse_rating_file(text, "/r/eve.jsonl");
        QFAIL("no error");
    } catch (const DataError& e) {
        QCOMPARE(e.line(), std::int64_t(2));
        QCOMPARE(e.path(), std::string("/r/eve.jsonl"));
    }
    // A torn line without newline at the end, but a missing field elsewhere, is still an error.
    try {
        parse_rating_file("{\"type\":\"rating\",\"rater\":\"x\"}\n", "f.jsonl");
        QFAIL("no error");
    } catch (const DataError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains("time"), e.what());
    }
}

void TestHumanEval::reopenWithOtherPlanIsRefused() {
    QTemporaryDir dir;
    const QString path = dir.filePath("fay.jsonl");
    const ResultsTable t = table(20);
    { RatingSession s(path.toStdString(), "fay", make_rating_plan(t, "results.csv", "original_model", "peft_model", 3, 5)); }
    const auto refusedKey = [&](const RatingPlan& plan, const std::string& rater) -> std::string {
        try {
            RatingSession s(path.toStdString(), rater, plan);
        } catch (const ConfigError& e) {
            return e.key();
        }
        return "(accepted)";
    };
    QCOMPARE(refusedKey(make_rating_plan(t, "results.csv", "original_model", "peft_model", 3, 6), "fay"), std::string("seed"));
    QCOMPARE(refusedKey(make_rating_plan(t, "results.csv", "instruct_model", "peft_model", 3, 5), "fay"), std::string("system_a"));
    QCOMPARE(refusedKey(make_rating_plan(t, "other.csv", "original_model", "peft_model", 3, 5), "fay"), std::string("results"));
    QCOMPARE(refusedKey(make_rating_plan(t, "results.csv", "original_model", "peft_model", 3, 5), "gus"), std::string("rater"));
    QCOMPARE(refusedKey(make_rating_plan(t, "results.csv", "original_model", "peft_model", 3, 5), "fay"), std::string("(accepted)"));
}

void TestHumanEval::recordRejectsMismatch() {
    QTemporaryDir dir;
    const RatingPlan plan = make_rating_plan(table(20), "results.csv", "original_model", "peft_model", 3, 5);
    RatingSession s(dir.filePath("h.jsonl").toStdString(), "h", plan);
    Rating r = s.make_rating(0, Choice::left);
    std::swap(r.left_system, r.right_system);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, s.record(r));
    r = s.make_rating(0, Choice::left);
    r.left.fluency = 6;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, s.record(r));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, s.make_rating(3, Choice::tie));
    QCOMPARE(s.rated_count(), size_t(0));
    QCOMPARE(jsonLines(dir.filePath("h.jsonl")).size(), 1);
}

void TestHumanEval::cohenKappaTextbook() {
    std::vector<int> a, b;
    const auto add = [&](int n, int x, int y) {
        for (int i = 0; i < n; ++i) {
            a.push_back(x);
            b.push_back(y);
        }
    };
    add(20, 1, 1);
    add(5, 1, 0);
    add(10, 0, 1);
    add(15, 0, 0);
    QCOMPARE(cohen_kappa(a, b), 0.4);
    QCOMPARE(cohen_kappa(a, a), 1.0);
    QVERIFY(std::isnan(cohen_kappa({1, 1}, {1, 1})));  // chance agreement 1: undefined
}

void TestHumanEval::fleissKappaTextbook() {
    const std::vector<std::vector<int>> counts{{0, 0, 0, 0, 14}, {0, 2, 6, 4, 2}, {0, 0, 3, 5, 6}, {0, 3, 9, 2, 0}, {2, 2, 8, 1, 1},
                                               {7, 7, 0, 0, 0},  {3, 2, 6, 3, 0}, {2, 5, 3, 2, 2}, {6, 5, 2, 1, 0}, {0, 2, 2, 3, 7}};
    QVERIFY(std::abs(fleiss_kappa(counts) - 0.20993070442195524) < 1e-12);
    // Two raters (Scott's pi), by hand: P = (1 + 1 + 0 + 1) / 4, p = (5/8, 3/8), P_e = 34/64, kappa = 14/30.
    QVERIFY(std::abs(fleiss_kappa({{2, 0}, {0, 2}, {1, 1}, {2, 0}}) - 14.0 / 30) < 1e-12);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fleiss_kappa({{2, 0}, {1, 1, 0}}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fleiss_kappa({{2, 0}, {3, 0}}));
}

void TestHumanEval::krippendorffAlphaTextbook_data() {
    QTest::addColumn<int>("metric");
    QTest::addColumn<double>("expected");
    QTest::addRow("nominal") << int(AlphaMetric::nominal) << 0.743421052631579;
    QTest::addRow("ordinal") << int(AlphaMetric::ordinal) << 0.8153875037548813;
    QTest::addRow("interval") << int(AlphaMetric::interval) << 0.8491071428571428;
}

void TestHumanEval::krippendorffAlphaTextbook() {
    QFETCH(int, metric);
    QFETCH(double, expected);
    // Krippendorff (2011), units as rows, coders A-D as columns.
    const std::vector<std::vector<std::optional<double>>> units{
        {v(1), v(1), _, v(1)},    {v(2), v(2), v(3), v(2)}, {v(3), v(3), v(3), v(3)}, {v(3), v(3), v(3), v(3)},
        {v(2), v(2), v(2), v(2)}, {v(1), v(2), v(3), v(4)}, {v(4), v(4), v(4), v(4)}, {v(1), v(1), v(2), v(1)},
        {v(2), v(2), v(2), v(2)}, {_, v(5), v(5), v(5)},    {_, _, v(1), v(1)},       {_, v(3), _, _}};
    const double alpha = krippendorff_alpha(units, static_cast<AlphaMetric>(metric));
    QVERIFY2(std::abs(alpha - expected) < 1e-12, qPrintable(QString::number(alpha, 'g', 17)));
    // Perfect agreement gives 1; no pairable values give NaN.
    QCOMPARE(krippendorff_alpha({{v(1), v(1)}, {v(2), v(2)}}, static_cast<AlphaMetric>(metric)), 1.0);
    QVERIFY(std::isnan(krippendorff_alpha({{v(1), _}, {_, v(2)}}, static_cast<AlphaMetric>(metric))));
}

void TestHumanEval::correlations() {
    const std::vector<double> x{1, 2, 2, 3, 5, 4}, y{0.1, 0.3, 0.2, 0.2, 0.9, 0.5};
    QVERIFY(std::abs(pearson_correlation(x, y) - 0.9076923076923078) < 1e-12);
    QVERIFY(std::abs(spearman_correlation(x, y) - 0.8676470588235294) < 1e-12);  // ties share their mean rank
    QVERIFY(std::isnan(pearson_correlation({1, 1, 1}, {1, 2, 3})));
    QVERIFY(std::isnan(spearman_correlation({1}, {2})));
}

void TestHumanEval::wilsonInterval() {
    ConfidenceInterval ci = wilson_interval(8, 10, 0.95);
    QVERIFY(std::abs(ci.low - 0.49016247153664183) < 1e-9);
    QVERIFY(std::abs(ci.high - 0.9433178485456247) < 1e-9);
    QCOMPARE(ci.mid, 0.8);
    ci = wilson_interval(3, 7, 0.90);
    QVERIFY(std::abs(ci.low - 0.18644319036395612) < 1e-9);
    QVERIFY(std::abs(ci.high - 0.7105229089864071) < 1e-9);
    ci = wilson_interval(0, 10);
    QCOMPARE(ci.low, 0.0);
    QVERIFY(std::abs(ci.high - 0.27753279986288915) < 1e-9);
    QCOMPARE(wilson_interval(0, 0).high, 0.0);
}

QString TestHumanEval::writeRater(const QString& dir, const QString& rater, const QString& winners, const std::vector<int>& faithA,
                                  const std::vector<int>& faithB) {
    const QString path = QDir(dir).filePath(rater + ".jsonl");
    const RatingPlan plan = make_rating_plan(mergeTable(), "results.csv", "original_model", "peft_model", 6, 42);
    RatingSession s(path.toStdString(), rater.toStdString(), plan);
    for (std::size_t p = 0; p < plan.items.size(); ++p) {
        const RatingItem& item = plan.items[p];
        const QChar w = winners.at(static_cast<int>(item.row));
        const std::string winner = w == 'a' ? "original_model" : w == 'b' ? "peft_model" : "tie";
        const Choice choice = winner == "tie" ? Choice::tie : winner == item.left_system ? Choice::left : Choice::right;
        Rating r = s.make_rating(p, choice);
        QualityScores a{faithA[item.row], 3, 4}, b{faithB[item.row], 0, 4};
        r.left = item.left_system == "original_model" ? a : b;
        r.right = item.left_system == "original_model" ? b : a;
        s.record(r);
    }
    return path;
}

void TestHumanEval::mergeTwoRaters() {
    QTemporaryDir dir;
    const QString ann = writeRater(dir.path(), "ann", "aabtba", {5, 4, 1, 4, 2, 5}, {1, 5, 5, 4, 4, 2});
    const QString bob = writeRater(dir.path(), "bob", "abbtaa", {5, 3, 2, 4, 3, 4}, {2, 5, 4, 4, 4, 1});
    HumanEvalOptions options;
    options.stemming = Stemming::none;
    options.bootstrap.resamples = 200;
    const HumanEvalReport r =
        merge_ratings(mergeTable(), {read_rating_file(ann.toStdString()), read_rating_file(bob.toStdString())}, options);
    QCOMPARE(r.system_a, std::string("original_model"));
    QCOMPARE(r.raters, (std::vector<std::string>{"ann", "bob"}));
    QCOMPARE(r.ratings, std::int64_t(12));
    QCOMPARE(r.items, std::int64_t(6));
    QCOMPARE(r.a.wins, std::int64_t(6));
    QCOMPARE(r.b.wins, std::int64_t(4));
    QCOMPARE(r.ties, std::int64_t(2));
    QCOMPARE(r.a.win_rate.mid, 0.5);
    QVERIFY(r.a.win_rate.low < 0.5 && r.a.win_rate.high > 0.5);
    QCOMPARE(r.a.faithfulness.count, std::int64_t(12));
    QCOMPARE(r.a.faithfulness.ci.mid, 3.5);
    QVERIFY(std::abs(r.b.faithfulness.ci.mid - 41.0 / 12) < 1e-12);
    QVERIFY(r.a.faithfulness.ci.low < 3.5 && r.a.faithfulness.ci.high > 3.5);
    QCOMPARE(r.b.coverage.count, std::int64_t(0));  // coverage of peft was never scored

    QCOMPARE(r.agreement.size(), size_t(4));
    const AgreementResult& pref = r.agreement[0];
    QCOMPARE(pref.name, std::string("preference"));
    QCOMPARE(pref.units, std::int64_t(6));
    // By hand: agreement on 4 of 6 rows, both raters 3 a / 2 b / 1 tie, so p_e = 14/36 and kappa = 5/11.
    QVERIFY(std::abs(pref.cohen_kappa - 5.0 / 11) < 1e-12);
    QVERIFY(std::abs(pref.alpha_nominal - 0.5) < 1e-12);
    const AgreementResult& faith = r.agreement[1];
    QCOMPARE(faith.name, std::string("faithfulness"));
    QCOMPARE(faith.units, std::int64_t(12));
    QVERIFY(std::abs(faith.alpha_interval - 0.8473933649289099) < 1e-12);
    QVERIFY(std::abs(faith.alpha_ordinal - 0.8303794992175274) < 1e-12);
    QVERIFY(std::abs(faith.alpha_nominal - 0.25116279069767444) < 1e-12);
    QVERIFY(std::isnan(r.agreement[3].alpha_interval));  // fluency: every score is 4, so no disagreement is expected
    QCOMPARE(r.agreement[3].units, std::int64_t(12));
    QCOMPARE(r.correlation_points, std::int64_t(6));
    QVERIFY2(std::abs(r.pearson - 0.9421215516562399) < 1e-12, qPrintable(QString::number(r.pearson, 'g', 17)));
    QVERIFY2(std::abs(r.spearman - 0.9258200997725515) < 1e-12, qPrintable(QString::number(r.spearman, 'g', 17)));
    QCOMPARE(r.merged.size(), size_t(12));
    QCOMPARE(r.merged[0].rating.rater, std::string("ann"));
    QCOMPARE(r.merged[11].rating.rater, std::string("bob"));
}

void TestHumanEval::mergeThreeRatersUsesFleiss() {
    QTemporaryDir dir;
    const QString ann = writeRater(dir.path(), "ann", "aabtba", {5, 4, 1, 4, 2, 5}, {1, 5, 5, 4, 4, 2});
    const QString bob = writeRater(dir.path(), "bob", "abbtaa", {5, 3, 2, 4, 3, 4}, {2, 5, 4, 4, 4, 1});
    const QString cy = writeRater(dir.path(), "cy", "aabtaa", {5, 3, 2, 4, 3, 4}, {2, 5, 4, 4, 4, 1});
    const ResultsTable t = mergeTable();
    const HumanEvalReport r = merge_ratings(
        t, {read_rating_file(ann.toStdString()), read_rating_file(bob.toStdString()), read_rating_file(cy.toStdString())}, {});
    const AgreementResult& pref = r.agreement[0];
    QVERIFY(std::isnan(pref.cohen_kappa));  // only for two raters
    // Per-row counts (a, tie, b): rows 0-5 -> aaa, aba, bbb, ttt, bab, aaa.
    const double expected = fleiss_kappa({{3, 0, 0}, {2, 0, 1}, {0, 0, 3}, {0, 3, 0}, {2, 0, 1}, {3, 0, 0}});
    QCOMPARE(pref.fleiss_kappa, expected);
    QVERIFY(pref.fleiss_kappa > 0.5 && pref.fleiss_kappa < 1);

    // A file of the same rater twice is refused.
    QVERIFY_THROWS_EXCEPTION(DataError, merge_ratings(t, {read_rating_file(ann.toStdString()), read_rating_file(ann.toStdString())}, {}));
}

void TestHumanEval::mergeRejectsOtherPair() {
    QTemporaryDir dir;
    const QString ann = writeRater(dir.path(), "ann", "aabtba", {5, 4, 1, 4, 2, 5}, {1, 5, 5, 4, 4, 2});
    ResultsTable t3 = mergeTable();
    t3.systems.push_back({"instruct_model", t3.systems[0].summaries});
    const QString other = dir.filePath("zed.jsonl");
    {
        RatingSession s(other.toStdString(), "zed", make_rating_plan(t3, "results.csv", "original_model", "instruct_model", 2, 0));
        s.record(s.make_rating(0, Choice::tie));
    }
    try {
        merge_ratings(t3, {read_rating_file(ann.toStdString()), read_rating_file(other.toStdString())}, {});
        QFAIL("no error");
    } catch (const DataError& e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains("zed.jsonl"), e.what());
    }
    // Ratings of a row the results file does not have (another, shorter results CSV).
    ResultsTable shorter = mergeTable();
    shorter.human_baseline.resize(2);
    for (auto& s : shorter.systems) s.summaries.resize(2);
    shorter.ids.resize(2);
    QVERIFY_THROWS_EXCEPTION(DataError, merge_ratings(shorter, {read_rating_file(ann.toStdString())}, {}));
}

void TestHumanEval::exportsMergedTable() {
    QTemporaryDir dir;
    const QString ann = writeRater(dir.path(), "ann", "aabtba", {5, 4, 1, 4, 2, 5}, {1, 5, 5, 4, 4, 2});
    HumanEvalOptions options;
    options.stemming = Stemming::none;
    const HumanEvalReport r = merge_ratings(mergeTable(), {read_rating_file(ann.toStdString())}, options);
    const std::string csv = format_merged_csv(r);
    const QStringList lines = QString::fromStdString(csv).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 7);
    QCOMPARE(lines[0], QStringLiteral("rater,time,item,row,id,left,right,choice,winner,original_model_faithfulness,original_model_coverage,"
                                      "original_model_fluency,peft_model_faithfulness,peft_model_coverage,peft_model_fluency,note,"
                                      "rouge_original_model,rouge_peft_model,rouge_delta"));
    // Row 2: original "zeta" (0) against peft = the reference (1).
    bool found = false;
    for (const QString& line : lines)
        if (line.contains(",2,test_2,")) {
            found = true;
            QVERIFY2(line.endsWith(",0.000000,1.000000,1.000000"), qPrintable(line));
            QVERIFY2(line.contains(",peft_model,1,3,4,5,,4,"), qPrintable(line));
        }
    QVERIFY(found);
    const QStringList jsonl = QString::fromStdString(format_merged_jsonl(r)).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(jsonl.size(), 6);
    for (const QString& line : jsonl) {
        const auto j = nlohmann::json::parse(line.toStdString());
        QCOMPARE(j["rater"], "ann");
        QVERIFY(std::abs(j["rouge_delta"].get<double>() - (j["rouge"]["peft_model"].get<double>() - j["rouge"]["original_model"].get<double>())) < 1e-15);
    }
    const auto summary = report_summary_json(r);
    QCOMPARE(summary["systems"][0]["wins"], 3);
    QVERIFY(summary["agreement"][0]["cohen_kappa"].is_null());  // one rater: no agreement
}

QTEST_GUILESS_MAIN(TestHumanEval)
#include "tst_human_eval.moc"
