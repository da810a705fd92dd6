// Blind rating sessions, crash-safe ratings files, and the statistics that merge raters (see human_eval.h).
#include "engine/metrics/human_eval.h"

#include "engine/data/csv.h"
#include "base/errors.h"
#include "base/file_util.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>
#include <stdexcept>

namespace sumlab {
namespace {

constexpr int file_format_version = 1;
constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

// splitmix64 (Steele, Lea & Flood 2014): tiny, portable, good enough for drawing a sample.
class SplitMix64 {
public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, bound), bound >= 1: rejects the low (2^64 mod bound) values, so no modulo bias.
    std::uint64_t below(std::uint64_t bound) {
        const std::uint64_t threshold = (0 - bound) % bound;
        for (;;) {
            const std::uint64_t x = next();
            if (x >= threshold) return x % bound;
        }
    }

private:
    std::uint64_t state_;
};

std::string base_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

const SystemSummaries* find_system(const ResultsTable& table, const std::string& name) {
    for (const auto& s : table.systems)
        if (s.name == name) return &s;
    return nullptr;
}

std::string system_list(const ResultsTable& table) {
    std::string out;
    for (const auto& s : table.systems) out += (out.empty() ? "" : ", ") + s.name;
    return out;
}

std::string errno_text() { return std::strerror(errno); }

// Field access with errors that name the file, the line and the key.
const nlohmann::json& field(const nlohmann::json& j, const char* key, const std::string& path, std::int64_t line) {
    auto it = j.find(key);
    if (it == j.end()) throw DataError(path, line, std::string("has no \"") + key + "\"");
    return *it;
}
std::string string_field(const nlohmann::json& j, const char* key, const std::string& path, std::int64_t line) {
    const auto& v = field(j, key, path, line);
    if (!v.is_string()) throw DataError(path, line, std::string("\"") + key + "\" is not a string");
    return v.get<std::string>();
}
std::uint64_t unsigned_field(const nlohmann::json& j, const char* key, const std::string& path, std::int64_t line) {
    const auto& v = field(j, key, path, line);
    if (!v.is_number_unsigned()) throw DataError(path, line, std::string("\"") + key + "\" is not a non-negative integer");
    return v.get<std::uint64_t>();
}

nlohmann::json scores_to_json(const QualityScores& s) {
    return {{"faithfulness", s.faithfulness}, {"coverage", s.coverage}, {"fluency", s.fluency}};
}
QualityScores scores_from_json(const nlohmann::json& j, const std::string& path, std::int64_t line) {
    if (!j.is_object()) throw DataError(path, line, "scores are not an object");
    QualityScores s;
    for (auto [key, target] : {std::pair<const char*, int*>{"faithfulness", &s.faithfulness}, {"coverage", &s.coverage}, {"fluency", &s.fluency}}) {
        auto it = j.find(key);
        if (it == j.end()) continue;
        if (!it->is_number_integer() || *it < 0 || *it > max_score)
            throw DataError(path, line, std::string("score \"") + key + "\" is not an integer from 0 (not scored) to 5");
        *target = it->get<int>();
    }
    return s;
}

bool scores_in_range(const QualityScores& s) {
    for (int v : {s.faithfulness, s.coverage, s.fluency})
        if (v != 0 && (v < min_score || v > max_score)) return false;
    return true;
}

RatingPlan plan_from_json(const nlohmann::json& j, const std::string& path, std::int64_t line) {
    RatingPlan plan;
    plan.results_path = string_field(j, "results", path, line);
    plan.system_a = string_field(j, "system_a", path, line);
    plan.system_b = string_field(j, "system_b", path, line);
    plan.sample_size = unsigned_field(j, "sample_size", path, line);
    plan.seed = unsigned_field(j, "seed", path, line);
    if (j.contains("table_rows")) plan.table_rows = unsigned_field(j, "table_rows", path, line);
    return plan;
}

// A last line cut short by a crash: no newline after it and not parseable.
struct SplitText {
    std::vector<std::pair<std::int64_t, std::string_view>> lines;  // (1-based line, text) of non-blank lines
    bool last_is_torn = false;   // the last non-blank line has no newline and is not valid JSON
    std::size_t complete_bytes = 0;  // bytes up to and including the last newline
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------

RatingPlan make_rating_plan(const ResultsTable& table, const std::string& results_path, const std::string& system_a,
                            const std::string& system_b, std::size_t sample_size, std::uint64_t seed) {
    if (sample_size == 0) throw std::invalid_argument("the sample size must be at least 1");
    for (const auto* name : {&system_a, &system_b})
        if (!find_system(table, *name))
            throw DataError(results_path, 0,
                            "has no column " + *name + std::string(summaries_column_suffix) + " (its systems: " + system_list(table) + ")");
    if (system_a == system_b) throw DataError(results_path, 0, "the two systems to compare are both " + system_a);

    RatingPlan plan;
    plan.results_path = results_path;
    plan.system_a = system_a;
    plan.system_b = system_b;
    plan.sample_size = sample_size;
    plan.seed = seed;
    plan.table_rows = table.size();
    const std::size_t n = table.size();
    const std::size_t k = std::min(sample_size, n);
    std::vector<std::size_t> rows(n);
    for (std::size_t i = 0; i < n; ++i) rows[i] = i;
    SplitMix64 rng(seed);
    for (std::size_t i = 0; i < k; ++i) {
        std::swap(rows[i], rows[i + rng.below(n - i)]);
        const bool is_swapped = (rng.next() >> 63) != 0;
        RatingItem item;
        item.position = i;
        item.row = rows[i];
        item.id = table.ids.empty() ? std::to_string(rows[i]) : table.ids[rows[i]];
        item.left_system = is_swapped ? system_b : system_a;
        item.right_system = is_swapped ? system_a : system_b;
        plan.items.push_back(std::move(item));
    }
    return plan;
}

const char* choice_name(Choice choice) {
    switch (choice) {
        case Choice::left: return "left";
        case Choice::right: return "right";
        case Choice::tie: break;
    }
    return "tie";
}

const QualityScores& Rating::scores_of(const std::string& system) const {
    if (system == left_system) return left;
    if (system == right_system) return right;
    throw std::invalid_argument("the rating of row " + std::to_string(row) + " does not show " + system);
}

nlohmann::json rating_to_json(const Rating& r) {
    nlohmann::json scores = nlohmann::json::object();
    scores[r.left_system] = scores_to_json(r.left);
    scores[r.right_system] = scores_to_json(r.right);
    return {{"type", "rating"}, {"rater", r.rater},   {"time", r.timestamp}, {"item", r.position},   {"row", r.row},
            {"id", r.id},       {"left", r.left_system}, {"right", r.right_system}, {"choice", choice_name(r.choice)},
            {"winner", r.winner}, {"scores", scores},  {"note", r.note}};
}

Rating rating_from_json(const nlohmann::json& j, const std::string& path, std::int64_t line) {
    Rating r;
    r.rater = string_field(j, "rater", path, line);
    r.timestamp = string_field(j, "time", path, line);
    r.position = unsigned_field(j, "item", path, line);
    r.row = unsigned_field(j, "row", path, line);
    r.id = string_field(j, "id", path, line);
    r.left_system = string_field(j, "left", path, line);
    r.right_system = string_field(j, "right", path, line);
    if (r.left_system == r.right_system) throw DataError(path, line, "\"left\" and \"right\" are the same system");
    const std::string choice = string_field(j, "choice", path, line);
    if (choice == "left") r.choice = Choice::left;
    else if (choice == "right") r.choice = Choice::right;
    else if (choice == "tie") r.choice = Choice::tie;
    else throw DataError(path, line, "\"choice\" is \"" + choice + "\", not left, right or tie");
    r.winner = string_field(j, "winner", path, line);
    const std::string expected = r.choice == Choice::left ? r.left_system : r.choice == Choice::right ? r.right_system : tie_winner;
    if (r.winner != expected)
        throw DataError(path, line, "\"winner\" is \"" + r.winner + "\" but choice " + choice + " means \"" + expected + "\"");
    const auto& scores = field(j, "scores", path, line);
    if (!scores.is_object()) throw DataError(path, line, "\"scores\" is not an object");
    if (auto it = scores.find(r.left_system); it != scores.end()) r.left = scores_from_json(*it, path, line);
    if (auto it = scores.find(r.right_system); it != scores.end()) r.right = scores_from_json(*it, path, line);
    if (j.contains("note")) r.note = string_field(j, "note", path, line);
    return r;
}

nlohmann::json plan_to_json(const RatingPlan& plan) {
    return {{"results", plan.results_path}, {"system_a", plan.system_a}, {"system_b", plan.system_b},
            {"sample_size", plan.sample_size}, {"seed", plan.seed}, {"table_rows", plan.table_rows}};
}

std::string utc_timestamp() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

// ---------------------------------------------------------------------------------------------------------

std::map<std::size_t, Rating> RatingFile::latest() const {
    std::map<std::size_t, Rating> out;
    for (const auto& r : ratings) out[r.position] = r;
    return out;
}

namespace {

SplitText split_lines(const std::string& text) {
    SplitText out;
    std::int64_t line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        const bool has_newline = end != std::string::npos;
        if (!has_newline) end = text.size();
        ++line_no;
        std::string_view line(text.data() + pos, end - pos);
        if (has_newline) out.complete_bytes = end + 1;
        pos = end + 1;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        if (!has_newline && !nlohmann::json::accept(line)) {
            out.last_is_torn = true;
            break;
        }
        out.lines.emplace_back(line_no, line);
    }
    return out;
}

std::string torn_warning(const std::string& path, std::size_t line) {
    return path + ": line " + std::to_string(line) +
           " is incomplete (a write cut short, e.g. by a crash) and was ignored";
}

}  // namespace

RatingFile parse_rating_file(const std::string& text, const std::string& path) {
    RatingFile file;
    file.path = path;
    const SplitText split = split_lines(text);
    if (split.last_is_torn) {
        const auto torn_line = static_cast<std::size_t>(std::count(text.begin(), text.begin() + split.complete_bytes, '\n')) + 1;
        file.warnings.push_back(torn_warning(path, torn_line));
    }
    for (const auto& [line_no, line] : split.lines) {
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            std::string why = e.what();
            const auto bracket = why.find("] ");
            throw DataError(path, line_no, "invalid JSON: " + (bracket == std::string::npos ? why : why.substr(bracket + 2)));
        }
        if (!j.is_object()) throw DataError(path, line_no, "is not a JSON object");
        const std::string type = string_field(j, "type", path, line_no);
        if (type == "session") {
            if (file.plan) throw DataError(path, line_no, "is a second session line");
            file.plan = plan_from_json(j, path, line_no);
            if (j.contains("rater")) file.rater = string_field(j, "rater", path, line_no);
        } else if (type == "rating") {
            file.ratings.push_back(rating_from_json(j, path, line_no));
            if (file.rater.empty()) file.rater = file.ratings.back().rater;
        } else {
            throw DataError(path, line_no, "has unknown type \"" + type + "\"");
        }
    }
    return file;
}

RatingFile read_rating_file(const std::string& path) { return parse_rating_file(read_file(path), path); }

// ---------------------------------------------------------------------------------------------------------

RatingSession::RatingSession(std::string path, std::string rater, RatingPlan plan)
    : path_(std::move(path)), rater_(std::move(rater)), plan_(std::move(plan)) {
    if (rater_.empty()) throw ConfigError(path_, "rater", "is empty: every ratings file names its rater");
    std::string text;
    const bool exists = is_file(path_);
    if (exists) text = read_file(path_);
    const SplitText split = split_lines(text);
    // Empty, or only a fragment of the session line (a crash during the very first write): start afresh.
    const bool is_new = split.lines.empty();

    std::size_t keep_bytes = text.size();
    bool needs_newline = false;
    if (split.last_is_torn) {
        keep_bytes = split.complete_bytes;  // cut the fragment off
        const auto torn_line = static_cast<std::size_t>(std::count(text.begin(), text.begin() + split.complete_bytes, '\n')) + 1;
        warnings_.push_back(torn_warning(path_, torn_line));
    } else if (!text.empty() && text.back() != '\n') {
        needs_newline = true;  // complete JSON whose newline was lost
    }
    if (!is_new) {
        RatingFile file = parse_rating_file(text, path_);
        if (!file.plan) throw ConfigError(path_, "session", "has no session line: it is not a SumLab ratings file");
        const RatingPlan& old = *file.plan;
        const auto differs = [&](const char* key, const std::string& was, const std::string& now) {
            if (was != now)
                throw ConfigError(path_, key, "is " + was + " in this ratings file but " + now +
                                                  " was chosen; pick the file's settings or another ratings file");
        };
        differs("results", base_name(old.results_path), base_name(plan_.results_path));
        differs("system_a", old.system_a, plan_.system_a);
        differs("system_b", old.system_b, plan_.system_b);
        differs("sample_size", std::to_string(old.sample_size), std::to_string(plan_.sample_size));
        differs("seed", std::to_string(old.seed), std::to_string(plan_.seed));
        if (!file.rater.empty()) differs("rater", file.rater, rater_);
        for (const auto& r : file.ratings) {
            if (r.position >= plan_.items.size() || plan_.items[r.position].row != r.row ||
                plan_.items[r.position].left_system != r.left_system)
                throw DataError(path_, 0,
                                "holds a rating of row " + std::to_string(r.row) + " that the sample does not show in that place and order"
                                " (was the results CSV changed?)");
            latest_[r.position] = r;
        }
    }

    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw FileError(path_, "cannot be opened for appending: " + errno_text());
    try {
        if (keep_bytes < text.size() && ::ftruncate(fd_, static_cast<off_t>(keep_bytes)) != 0)
            throw FileError(path_, "cannot cut off its incomplete last line: " + errno_text());
        if (needs_newline) append_line("");
        if (is_new) {
            if (exists && ::ftruncate(fd_, 0) != 0) throw FileError(path_, "cannot be emptied: " + errno_text());
            nlohmann::json session = plan_to_json(plan_);
            session["type"] = "session";
            session["format"] = file_format_version;
            session["rater"] = rater_;
            session["created"] = utc_timestamp();
            append_line(session.dump());
        }
    } catch (...) {
        ::close(fd_);  // the destructor does not run for a throwing constructor
        fd_ = -1;
        throw;
    }
}

RatingSession::~RatingSession() {
    if (fd_ >= 0) ::close(fd_);
}

void RatingSession::append_line(const std::string& line) {
    const std::string bytes = line + "\n";
    // One write() for the whole line: a crash leaves a prefix of it at most, which the reader ignores.
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw FileError(path_, "could not be written: " + errno_text());
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd_) != 0) throw FileError(path_, "could not be synced to disk: " + errno_text());
}

std::optional<Rating> RatingSession::rating(std::size_t position) const {
    auto it = latest_.find(position);
    if (it == latest_.end()) return std::nullopt;
    return it->second;
}

std::size_t RatingSession::next_unrated(std::size_t from) const {
    const std::size_t n = plan_.items.size();
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t p = (from + k) % n;
        if (!latest_.count(p)) return p;
    }
    return n;
}

Rating RatingSession::make_rating(std::size_t position, Choice choice) const {
    if (position >= plan_.items.size()) throw std::invalid_argument("item " + std::to_string(position) + " is outside the sample");
    const RatingItem& item = plan_.items[position];
    Rating r;
    r.rater = rater_;
    r.timestamp = utc_timestamp();
    r.position = position;
    r.row = item.row;
    r.id = item.id;
    r.left_system = item.left_system;
    r.right_system = item.right_system;
    r.choice = choice;
    r.winner = choice == Choice::left ? item.left_system : choice == Choice::right ? item.right_system : tie_winner;
    return r;
}

void RatingSession::record(const Rating& rating) {
    if (rating.position >= plan_.items.size()) throw std::invalid_argument("item " + std::to_string(rating.position) + " is outside the sample");
    const RatingItem& item = plan_.items[rating.position];
    if (rating.row != item.row || rating.left_system != item.left_system || rating.right_system != item.right_system)
        throw std::invalid_argument("the rating does not match item " + std::to_string(rating.position) + " of the sample");
    const std::string expected =
        rating.choice == Choice::left ? item.left_system : rating.choice == Choice::right ? item.right_system : tie_winner;
    if (rating.winner != expected) throw std::invalid_argument("the winner does not match the choice");
    if (!scores_in_range(rating.left) || !scores_in_range(rating.right)) throw std::invalid_argument("scores go from 1 to 5 (0: not scored)");
    append_line(rating_to_json(rating).dump());
    latest_[rating.position] = rating;
}

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

}  // namespace

HumanEvalReport merge_ratings(const ResultsTable& table, const std::vector<RatingFile>& files, const HumanEvalOptions& options) {
    if (files.empty()) throw std::invalid_argument("merge_ratings: no ratings files");
    HumanEvalReport report;
    // The pair of systems comes from the first file that names one.
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
    const SystemSummaries* sys_a = find_system(table, report.system_a);
    const SystemSummaries* sys_b = find_system(table, report.system_b);
    for (const auto* name : {&report.system_a, &report.system_b})
        if (!find_system(table, *name))
            throw DataError(files[0].path, 0,
                            "rates " + *name + ", which the results CSV does not have (its systems: " + system_list(table) + ")");

    const std::set<std::string> pair{report.system_a, report.system_b};
    std::vector<RaterRatings> raters;
    std::set<std::string> names;
    for (const auto& f : files) {
        RaterRatings rr;
        rr.path = f.path;
        rr.rater = f.rater.empty() ? base_name(f.path) : f.rater;
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

    // Per-row ROUGE of both systems against the human summary, computed once per rated row.
    const RougeScorer scorer(options.stemming);
    std::map<std::size_t, std::pair<double, double>> rouge;
    const auto rouge_of = [&](std::size_t row) {
        auto it = rouge.find(row);
        if (it != rouge.end()) return it->second;
        const double a = scorer.score(table.human_baseline[row], sys_a->summaries[row])[options.rouge_type].fmeasure;
        const double b = scorer.score(table.human_baseline[row], sys_b->summaries[row])[options.rouge_type].fmeasure;
        return rouge[row] = {a, b};
    };

    report.a.system = report.system_a;
    report.b.system = report.system_b;
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
            for (int c = 0; c < 3; ++c) {
                if (int s = score_of(r->scores_of(report.system_a), c)) scores[0][c].push_back(s);
                if (int s = score_of(r->scores_of(report.system_b), c)) scores[1][c].push_back(s);
            }
            preference_by_row[r->row].push_back(r->winner == report.system_b ? 1.0 : r->winner == report.system_a ? -1.0 : 0.0);
            const auto [ra, rb] = rouge_of(r->row);
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

    // Agreement: units are rows for the preference (a < tie < b, so the ordinal alpha means something too)
    // and (row, system) pairs for the 1-5 scores.
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
            for (int c = 0; c < 3; ++c) {
                if (int s = score_of(r.scores_of(report.system_a), c)) crit[c][0][k] = s;
                if (int s = score_of(r.scores_of(report.system_b), c)) crit[c][1][k] = s;
            }
        }
        preference_units.push_back(std::move(pref));
        for (int c = 0; c < 3; ++c)
            for (int s = 0; s < 2; ++s) score_units[c].push_back(std::move(crit[c][s]));
    }
    report.agreement.push_back(agreement("preference", preference_units, raters.size()));
    for (int c = 0; c < 3; ++c) report.agreement.push_back(agreement(criterion_names[c], score_units[c], raters.size()));

    std::vector<double> preference, delta;
    for (const auto& [row, prefs] : preference_by_row) {
        double sum = 0;
        for (double p : prefs) sum += p;
        preference.push_back(sum / static_cast<double>(prefs.size()));
        const auto [ra, rb] = rouge_of(row);
        delta.push_back(rb - ra);
    }
    report.correlation_points = static_cast<std::int64_t>(preference.size());
    report.spearman = spearman_correlation(preference, delta);
    report.pearson = pearson_correlation(preference, delta);
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
