// Agreement statistics and the merge of several raters' ratings files into one report (see human_eval.h).
#include "engine/metrics/human_eval.h"

#include "engine/data/csv.h"
#include "base/errors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace sumlab {
namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Statistics.

double cohen_kappa(const std::vector<int>& rater1, const std::vector<int>& rater2) {
    if (rater1.size() != rater2.size()) throw std::invalid_argument("cohen_kappa: the raters label different numbers of items");
    const double n = static_cast<double>(rater1.size());
    if (rater1.empty()) return nan_value;
    std::map<int, double> c1, c2;
    double agree = 0;
    for (std::size_t i = 0; i < rater1.size(); ++i) {
        c1[rater1[i]] += 1;
        c2[rater2[i]] += 1;
        if (rater1[i] == rater2[i]) agree += 1;
    }
    double expected = 0;
    for (const auto& [label, count] : c1) {
        auto it = c2.find(label);
        if (it != c2.end()) expected += (count / n) * (it->second / n);
    }
    if (expected >= 1) return nan_value;
    return (agree / n - expected) / (1 - expected);
}

double fleiss_kappa(const std::vector<std::vector<int>>& counts) {
    if (counts.empty()) return nan_value;
    const std::size_t k = counts[0].size();
    long raters = -1;
    std::vector<double> totals(k, 0);
    double mean_agreement = 0;
    for (const auto& item : counts) {
        if (item.size() != k) throw std::invalid_argument("fleiss_kappa: items with different numbers of categories");
        long m = 0, sum_sq = 0;
        for (std::size_t j = 0; j < k; ++j) {
            m += item[j];
            sum_sq += static_cast<long>(item[j]) * item[j];
            totals[j] += item[j];
        }
        if (raters < 0) raters = m;
        if (m != raters) throw std::invalid_argument("fleiss_kappa: items with different numbers of ratings");
        if (m < 2) return nan_value;
        mean_agreement += static_cast<double>(sum_sq - m) / (static_cast<double>(m) * (m - 1));
    }
    const double n_items = static_cast<double>(counts.size());
    mean_agreement /= n_items;
    double expected = 0;
    for (double t : totals) {
        const double p = t / (n_items * static_cast<double>(raters));
        expected += p * p;
    }
    if (expected >= 1) return nan_value;
    return (mean_agreement - expected) / (1 - expected);
}

const char* alpha_metric_name(AlphaMetric metric) {
    switch (metric) {
        case AlphaMetric::nominal: return "nominal";
        case AlphaMetric::ordinal: return "ordinal";
        case AlphaMetric::interval: break;
    }
    return "interval";
}

double krippendorff_alpha(const std::vector<std::vector<std::optional<double>>>& units, AlphaMetric metric) {
    std::set<double> distinct;
    for (const auto& unit : units)
        for (const auto& v : unit)
            if (v) distinct.insert(*v);
    const std::vector<double> values(distinct.begin(), distinct.end());
    const std::size_t v = values.size();
    const auto index_of = [&](double x) { return static_cast<std::size_t>(std::lower_bound(values.begin(), values.end(), x) - values.begin()); };

    // Coincidence matrix over pairable values: each ordered pair of values within a unit adds 1 / (m_u - 1).
    std::vector<std::vector<double>> o(v, std::vector<double>(v, 0));
    for (const auto& unit : units) {
        std::vector<std::size_t> present;
        for (const auto& x : unit)
            if (x) present.push_back(index_of(*x));
        const std::size_t m = present.size();
        if (m < 2) continue;
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < m; ++j)
                if (i != j) o[present[i]][present[j]] += 1.0 / static_cast<double>(m - 1);
    }
    std::vector<double> marginal(v, 0);
    double n = 0;
    for (std::size_t c = 0; c < v; ++c) {
        for (std::size_t k = 0; k < v; ++k) marginal[c] += o[c][k];
        n += marginal[c];
    }
    if (n < 2) return nan_value;

    const auto delta2 = [&](std::size_t c, std::size_t k) -> double {
        if (c == k) return 0;
        switch (metric) {
            case AlphaMetric::nominal: return 1;
            case AlphaMetric::interval: return (values[c] - values[k]) * (values[c] - values[k]);
            case AlphaMetric::ordinal: {
                const std::size_t lo = std::min(c, k), hi = std::max(c, k);
                double s = 0;
                for (std::size_t g = lo; g <= hi; ++g) s += marginal[g];
                s -= (marginal[lo] + marginal[hi]) / 2;
                return s * s;
            }
        }
        return 1;
    };
    double observed = 0, expected = 0;
    for (std::size_t c = 0; c < v; ++c)
        for (std::size_t k = 0; k < v; ++k) {
            const double d = delta2(c, k);
            observed += o[c][k] * d;
            expected += marginal[c] * marginal[k] * d;
        }
    if (expected <= 0) return nan_value;
    return 1 - (n - 1) * observed / expected;
}

double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y) {
    if (x.size() != y.size()) throw std::invalid_argument("pearson_correlation: x and y differ in length");
    const std::size_t n = x.size();
    if (n < 2) return nan_value;
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < n; ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx <= 0 || syy <= 0) return nan_value;
    return sxy / std::sqrt(sxx * syy);
}

namespace {
std::vector<double> average_ranks(const std::vector<double>& x) {
    std::vector<std::size_t> order(x.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
    std::vector<double> ranks(x.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
        const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
        for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
        i = j + 1;
    }
    return ranks;
}
}  // namespace

double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y) {
    if (x.size() != y.size()) throw std::invalid_argument("spearman_correlation: x and y differ in length");
    return pearson_correlation(average_ranks(x), average_ranks(y));
}

namespace {
// The standard normal quantile by bisection on erfc: slow but exact to double precision, and only
// called a few times per report.
double normal_quantile(double p) {
    double lo = -40, hi = 40;
    for (int i = 0; i < 200; ++i) {
        const double mid = (lo + hi) / 2;
        if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p) lo = mid;
        else hi = mid;
    }
    return (lo + hi) / 2;
}
}  // namespace

ConfidenceInterval wilson_interval(std::int64_t successes, std::int64_t trials, double confidence) {
    if (trials <= 0) return {};
    if (successes < 0 || successes > trials) throw std::invalid_argument("wilson_interval: successes outside 0..trials");
    if (!(confidence > 0 && confidence < 1)) throw std::invalid_argument("wilson_interval: confidence outside (0, 1)");
    const double n = static_cast<double>(trials);
    const double p = static_cast<double>(successes) / n;
    const double z = normal_quantile((1 + confidence) / 2);
    const double z2 = z * z;
    const double center = (p + z2 / (2 * n)) / (1 + z2 / n);
    const double half = z / (1 + z2 / n) * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    return {std::max(0.0, center - half), p, std::min(1.0, center + half)};
}

// ---------------------------------------------------------------------------------------------------------
// Merging.

namespace {

struct RaterRatings {
    std::string rater;
    std::string path;
    std::map<std::size_t, Rating> by_row;  // latest rating per results row
};

SystemTally::Mean mean_with_interval(const std::vector<double>& values, const BootstrapOptions& options) {
    SystemTally::Mean m;
    m.count = static_cast<std::int64_t>(values.size());
    if (values.empty()) return m;
    const double mean = exact_mean(values);
    m.ci = {mean, mean, mean};
    if (options.resamples > 0) {
        const auto ci = bootstrap_mean_intervals({values}, options).at(0);
        m.ci.low = ci.low;
        m.ci.high = ci.high;
    }
    return m;
}

int score_of(const QualityScores& s, int criterion) {
    return criterion == 0 ? s.faithfulness : criterion == 1 ? s.coverage : s.fluency;
}
constexpr const char* criterion_names[] = {"faithfulness", "coverage", "fluency"};

// Agreement over units x raters (nullopt: that rater did not rate the unit); values are small ints.
AgreementResult agreement(const std::string& name, const std::vector<std::vector<std::optional<double>>>& units, std::size_t raters) {
    AgreementResult out;
    out.name = name;
    std::vector<std::vector<std::optional<double>>> pairable;
    for (const auto& u : units)
        if (std::count_if(u.begin(), u.end(), [](const auto& x) { return x.has_value(); }) >= 2) pairable.push_back(u);
    out.units = static_cast<std::int64_t>(pairable.size());
    if (pairable.empty()) return out;
    if (raters == 2) {
        std::vector<int> r1, r2;
        for (const auto& u : pairable) {
            r1.push_back(static_cast<int>(*u[0]));
            r2.push_back(static_cast<int>(*u[1]));
        }
        out.cohen_kappa = cohen_kappa(r1, r2);
    }
    std::set<int> categories;
    for (const auto& u : pairable)
        for (const auto& x : u)
            if (x) categories.insert(static_cast<int>(*x));
    const std::vector<int> cats(categories.begin(), categories.end());
    std::vector<std::vector<int>> counts;
    for (const auto& u : pairable) {
        if (std::any_of(u.begin(), u.end(), [](const auto& x) { return !x.has_value(); })) continue;
        std::vector<int> row(cats.size(), 0);
        for (const auto& x : u) ++row[static_cast<std::size_t>(std::lower_bound(cats.begin(), cats.end(), static_cast<int>(*x)) - cats.begin())];
        counts.push_back(std::move(row));
    }
    if (!counts.empty()) out.fleiss_kappa = fleiss_kappa(counts);
    out.alpha_nominal = krippendorff_alpha(pairable, AlphaMetric::nominal);
    out.alpha_ordinal = krippendorff_alpha(pairable, AlphaMetric::ordinal);
    out.alpha_interval = krippendorff_alpha(pairable, AlphaMetric::interval);
    return out;
}

// The pair of systems: from the first file that names one (its plan, else its first rating), and both in `table`.
void choose_systems(const ResultsTable& table, const std::vector<RatingFile>& files, HumanEvalReport& report) {
    for (const auto& f : files) {
        if (f.plan) {
            report.system_a = f.plan->system_a;
            report.system_b = f.plan->system_b;
            break;
        }
        if (!f.ratings.empty()) {
            report.system_a = std::min(f.ratings[0].left_system, f.ratings[0].right_system);
            report.system_b = std::max(f.ratings[0].left_system, f.ratings[0].right_system);
            break;
        }
    }
    if (report.system_a.empty()) throw DataError(files[0].path, 0, "holds no ratings");
    for (const auto* name : {&report.system_a, &report.system_b})
        if (!table.find_system(*name))
            throw DataError(files[0].path, 0,
                            "rates " + *name + ", which the results CSV does not have (its systems: " + table.system_names() + ")");
    report.a.system = report.system_a;
    report.b.system = report.system_b;
}

// Each file's latest ratings by row, after checking that the file rates the report's pair on rows of `table`
// and that no rater has two files. Adds the raters' names and the files' warnings to `report`.
std::vector<RaterRatings> collect_raters(const ResultsTable& table, const std::vector<RatingFile>& files, HumanEvalReport& report) {
    const std::set<std::string> pair{report.system_a, report.system_b};
    std::vector<RaterRatings> raters;
    std::set<std::string> names;
    for (const auto& f : files) {
        RaterRatings rr;
        rr.path = f.path;
        rr.rater = f.rater_name();
        if (!names.insert(rr.rater).second)
            throw DataError(f.path, 0, "is a second file of rater " + rr.rater + "; merge one file per rater");
        if (f.plan && std::set<std::string>{f.plan->system_a, f.plan->system_b} != pair)
            throw DataError(f.path, 0, "compares " + f.plan->system_a + " with " + f.plan->system_b + ", not " + report.system_a +
                                           " with " + report.system_b);
        for (const auto& [position, r] : f.latest()) {
            if (std::set<std::string>{r.left_system, r.right_system} != pair)
                throw DataError(f.path, 0, "rates " + r.left_system + " against " + r.right_system + ", not " + report.system_a +
                                               " against " + report.system_b);
            if (r.row >= table.size())
                throw DataError(f.path, 0, "rates row " + std::to_string(r.row) + " but the results CSV has " +
                                               std::to_string(table.size()) + " rows");
            if (!table.ids.empty() && table.ids[r.row] != r.id)
                throw DataError(f.path, 0, "rates row " + std::to_string(r.row) + " as id " + r.id + ", but the results CSV's row has id " +
                                               table.ids[r.row] + " (another results file?)");
            rr.by_row[r.row] = r;  // the same row twice in one file only happens with two plans; the later wins
        }
        report.warnings.insert(report.warnings.end(), f.warnings.begin(), f.warnings.end());
        report.raters.push_back(rr.rater);
        raters.push_back(std::move(rr));
    }
    return raters;
}

// Per-row ROUGE of both systems against the human summary, computed once per rated row.
class RowRouge {
public:
    RowRouge(const ResultsTable& table, const HumanEvalReport& report, const HumanEvalOptions& options)
        : table_(table), scorer_(options.stemming), type_(options.rouge_type),
          a_(table.find_system(report.system_a)), b_(table.find_system(report.system_b)) {}

    // (rouge of system_a, rouge of system_b) for `row`.
    std::pair<double, double> operator()(std::size_t row) {
        auto it = cache_.find(row);
        if (it != cache_.end()) return it->second;
        const double a = scorer_.score(table_.human_baseline[row], a_->summaries[row])[type_].fmeasure;
        const double b = scorer_.score(table_.human_baseline[row], b_->summaries[row])[type_].fmeasure;
        return cache_[row] = {a, b};
    }

private:
    const ResultsTable& table_;
    const RougeScorer scorer_;
    const RougeType type_;
    const SystemSummaries* a_;
    const SystemSummaries* b_;
    std::map<std::size_t, std::pair<double, double>> cache_;
};

// Calls f(criterion, system 0 (a) or 1 (b), score) for every score a rating gives (0, not scored, is left out).
template <class F>
void for_each_score(const Rating& r, const HumanEvalReport& report, const F& f) {
    for (int c = 0; c < 3; ++c) {
        if (int s = score_of(r.scores_of(report.system_a), c)) f(c, 0, s);
        if (int s = score_of(r.scores_of(report.system_b), c)) f(c, 1, s);
    }
}

// Wins, ties, win rates and mean scores over every rater's latest ratings, and the merged table (by rater,
// then item position). Returns each rated row's preferences: +1 b won, -1 a won, 0 tie.
std::map<std::size_t, std::vector<double>> tally_ratings(const std::vector<RaterRatings>& raters, RowRouge& rouge,
                                                        const HumanEvalOptions& options, HumanEvalReport& report) {
    std::vector<double> scores[2][3];  // [system a/b][criterion]
    std::map<std::size_t, std::vector<double>> preference_by_row;
    for (const auto& rr : raters) {
        std::vector<std::pair<std::size_t, const Rating*>> in_order;
        for (const auto& [row, r] : rr.by_row) in_order.emplace_back(r.position, &r);
        std::sort(in_order.begin(), in_order.end());
        for (const auto& [position, r] : in_order) {
            ++report.ratings;
            if (r->winner == report.system_a) ++report.a.wins;
            else if (r->winner == report.system_b) ++report.b.wins;
            else ++report.ties;
            for_each_score(*r, report, [&](int c, int system, int s) { scores[system][c].push_back(s); });
            preference_by_row[r->row].push_back(r->winner == report.system_b ? 1.0 : r->winner == report.system_a ? -1.0 : 0.0);
            const auto [ra, rb] = rouge(r->row);
            report.merged.push_back({*r, ra, rb});
        }
    }
    report.items = static_cast<std::int64_t>(preference_by_row.size());
    const double confidence = options.bootstrap.confidence;
    report.a.win_rate = wilson_interval(report.a.wins, report.ratings, confidence);
    report.b.win_rate = wilson_interval(report.b.wins, report.ratings, confidence);
    report.tie_rate = wilson_interval(report.ties, report.ratings, confidence);
    for (int s = 0; s < 2; ++s) {
        SystemTally& t = s == 0 ? report.a : report.b;
        t.faithfulness = mean_with_interval(scores[s][0], options.bootstrap);
        t.coverage = mean_with_interval(scores[s][1], options.bootstrap);
        t.fluency = mean_with_interval(scores[s][2], options.bootstrap);
    }
    return preference_by_row;
}

// Agreement: units are rows for the preference (a < tie < b, so the ordinal alpha means something too)
// and (row, system) pairs for the 1-5 scores.
void add_agreement(const std::vector<RaterRatings>& raters, HumanEvalReport& report) {
    std::set<std::size_t> rows;
    for (const auto& rr : raters)
        for (const auto& [row, r] : rr.by_row) rows.insert(row);
    std::vector<std::vector<std::optional<double>>> preference_units;
    std::vector<std::vector<std::optional<double>>> score_units[3];
    for (std::size_t row : rows) {
        std::vector<std::optional<double>> pref(raters.size());
        std::vector<std::optional<double>> crit[3][2];
        for (auto& c : crit)
            for (auto& s : c) s.resize(raters.size());
        for (std::size_t k = 0; k < raters.size(); ++k) {
            auto it = raters[k].by_row.find(row);
            if (it == raters[k].by_row.end()) continue;
            const Rating& r = it->second;
            pref[k] = r.winner == report.system_a ? 0.0 : r.winner == report.system_b ? 2.0 : 1.0;
            for_each_score(r, report, [&](int c, int system, int s) { crit[c][system][k] = s; });
        }
        preference_units.push_back(std::move(pref));
        for (int c = 0; c < 3; ++c)
            for (int s = 0; s < 2; ++s) score_units[c].push_back(std::move(crit[c][s]));
    }
    report.agreement.push_back(agreement("preference", preference_units, raters.size()));
    for (int c = 0; c < 3; ++c) report.agreement.push_back(agreement(criterion_names[c], score_units[c], raters.size()));
}

// Spearman and Pearson between each row's mean preference and its ROUGE delta (b - a).
void add_correlation(const std::map<std::size_t, std::vector<double>>& preference_by_row, RowRouge& rouge, HumanEvalReport& report) {
    std::vector<double> preference, delta;
    for (const auto& [row, prefs] : preference_by_row) {
        double sum = 0;
        for (double p : prefs) sum += p;
        preference.push_back(sum / static_cast<double>(prefs.size()));
        const auto [ra, rb] = rouge(row);
        delta.push_back(rb - ra);
    }
    report.correlation_points = static_cast<std::int64_t>(preference.size());
    report.spearman = spearman_correlation(preference, delta);
    report.pearson = pearson_correlation(preference, delta);
}

}  // namespace

HumanEvalReport merge_ratings(const ResultsTable& table, const std::vector<RatingFile>& files, const HumanEvalOptions& options) {
    if (files.empty()) throw std::invalid_argument("merge_ratings: no ratings files");
    HumanEvalReport report;
    choose_systems(table, files, report);
    const std::vector<RaterRatings> raters = collect_raters(table, files, report);
    RowRouge rouge(table, report, options);
    const auto preference_by_row = tally_ratings(raters, rouge, options, report);
    add_agreement(raters, report);
    add_correlation(preference_by_row, rouge, report);
    report.rouge_name = std::string(rouge_type_name(options.rouge_type)) + " F-measure, Porter stemmer " +
                        (options.stemming == Stemming::porter ? "on" : "off");
    return report;
}

namespace {
std::string score_text(int s) { return s == 0 ? std::string() : std::to_string(s); }
std::string number_text(double x) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6f", x);
    return buffer;
}
nlohmann::json number_or_null(double x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); }
nlohmann::json interval_json(const ConfidenceInterval& ci) { return {{"low", ci.low}, {"mid", ci.mid}, {"high", ci.high}}; }
}  // namespace

std::string format_merged_csv(const HumanEvalReport& report) {
    std::vector<std::string> header{"rater", "time", "item", "row", "id", "left", "right", "choice", "winner"};
    for (const auto* system : {&report.system_a, &report.system_b})
        for (const char* c : criterion_names) header.push_back(*system + "_" + c);
    header.insert(header.end(), {"note", "rouge_" + report.system_a, "rouge_" + report.system_b, "rouge_delta"});
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : report.merged) {
        const Rating& r = m.rating;
        std::vector<std::string> row{r.rater, r.timestamp, std::to_string(r.position), std::to_string(r.row), r.id, r.left_system,
                                     r.right_system, choice_name(r.choice), r.winner};
        for (const auto* system : {&report.system_a, &report.system_b}) {
            const QualityScores& s = r.scores_of(*system);
            for (int c = 0; c < 3; ++c) row.push_back(score_text(score_of(s, c)));
        }
        row.insert(row.end(), {r.note, number_text(m.rouge_a), number_text(m.rouge_b), number_text(m.rouge_b - m.rouge_a)});
        rows.push_back(std::move(row));
    }
    return format_csv(header, rows);
}

std::string format_merged_jsonl(const HumanEvalReport& report) {
    std::string out;
    for (const auto& m : report.merged) {
        nlohmann::json j = rating_to_json(m.rating);
        j.erase("type");
        j["rouge"] = {{report.system_a, m.rouge_a}, {report.system_b, m.rouge_b}};
        j["rouge_delta"] = m.rouge_b - m.rouge_a;
        out += j.dump() + "\n";
    }
    return out;
}

nlohmann::json report_summary_json(const HumanEvalReport& report) {
    nlohmann::json systems = nlohmann::json::array();
    for (const SystemTally* t : {&report.a, &report.b}) {
        nlohmann::json s = {{"system", t->system}, {"wins", t->wins}, {"win_rate", interval_json(t->win_rate)}};
        for (auto [name, mean] : {std::pair<const char*, const SystemTally::Mean*>{"faithfulness", &t->faithfulness},
                                  {"coverage", &t->coverage},
                                  {"fluency", &t->fluency}})
            s[name] = {{"count", mean->count}, {"mean", interval_json(mean->ci)}};
        systems.push_back(std::move(s));
    }
    nlohmann::json agreement = nlohmann::json::array();
    for (const auto& a : report.agreement)
        agreement.push_back({{"name", a.name},
                             {"units", a.units},
                             {"cohen_kappa", number_or_null(a.cohen_kappa)},
                             {"fleiss_kappa", number_or_null(a.fleiss_kappa)},
                             {"krippendorff_alpha_nominal", number_or_null(a.alpha_nominal)},
                             {"krippendorff_alpha_ordinal", number_or_null(a.alpha_ordinal)},
                             {"krippendorff_alpha_interval", number_or_null(a.alpha_interval)}});
    return {{"system_a", report.system_a},
            {"system_b", report.system_b},
            {"raters", report.raters},
            {"ratings", report.ratings},
            {"items", report.items},
            {"ties", report.ties},
            {"tie_rate", interval_json(report.tie_rate)},
            {"systems", systems},
            {"agreement", agreement},
            {"correlation", {{"rouge", report.rouge_name},
                             {"points", report.correlation_points},
                             {"spearman", number_or_null(report.spearman)},
                             {"pearson", number_or_null(report.pearson)}}}};
}

}  // namespace sumlab
