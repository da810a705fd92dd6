// Rating plans, ratings, the raters' crash-safe JSONL files and resumable sessions (see ratings_file.h).
#include "engine/metrics/ratings_file.h"

#include "base/errors.h"
#include "base/file_util.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace sumlab {
namespace {

constexpr int file_format_version = 1;

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

std::string errno_text() { return std::strerror(errno); }

// The fields of one JSONL line, read with errors that name the file, the line and the key.
struct LineFields {
    const nlohmann::json& j;
    const std::string& path;
    std::int64_t line;

    const nlohmann::json& at(const char* key) const {
        auto it = j.find(key);
        if (it == j.end()) throw DataError(path, line, std::string("has no \"") + key + "\"");
        return *it;
    }
    std::string text(const char* key) const {
        const auto& v = at(key);
        if (!v.is_string()) throw DataError(path, line, std::string("\"") + key + "\" is not a string");
        return v.get<std::string>();
    }
    std::uint64_t count(const char* key) const {
        const auto& v = at(key);
        if (!v.is_number_unsigned()) throw DataError(path, line, std::string("\"") + key + "\" is not a non-negative integer");
        return v.get<std::uint64_t>();
    }
};

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

// The winner a choice means: the left or right system, or "tie".
std::string winner_of(Choice choice, const std::string& left_system, const std::string& right_system) {
    return choice == Choice::left ? left_system : choice == Choice::right ? right_system : tie_winner;
}

// The line a torn last line is on: the one after the last newline.
std::size_t torn_line_number(const std::string& text, std::size_t complete_bytes) {
    return static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(complete_bytes), '\n')) + 1;
}

// A braced list evaluates left to right, so the first bad key in this order is the one an error names.
RatingPlan plan_from_json(const nlohmann::json& j, const std::string& path, std::int64_t line) {
    const LineFields in{j, path, line};
    return RatingPlan{in.text("results"), in.text("system_a"), in.text("system_b"), in.count("sample_size"), in.count("seed"),
                      j.contains("table_rows") ? in.count("table_rows") : 0, {}};
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
        if (!table.find_system(*name))
            throw DataError(results_path, 0,
                            "has no column " + *name + std::string(summaries_column_suffix) + " (its systems: " + table.system_names() + ")");
    if (system_a == system_b) throw DataError(results_path, 0, "the two systems to compare are both " + system_a);

    RatingPlan plan{results_path, system_a, system_b, sample_size, seed, table.size(), {}};
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
    const LineFields in{j, path, line};
    // In braces, left to right: a line with several bad keys names the first of these.
    Rating r{in.text("rater"), in.text("time"), in.count("item"), in.count("row"), in.text("id"), in.text("left"), in.text("right")};
    if (r.left_system == r.right_system) throw DataError(path, line, "\"left\" and \"right\" are the same system");
    const std::string choice = in.text("choice");
    if (choice == "left") r.choice = Choice::left;
    else if (choice == "right") r.choice = Choice::right;
    else if (choice == "tie") r.choice = Choice::tie;
    else throw DataError(path, line, "\"choice\" is \"" + choice + "\", not left, right or tie");
    r.winner = in.text("winner");
    const std::string expected = winner_of(r.choice, r.left_system, r.right_system);
    if (r.winner != expected)
        throw DataError(path, line, "\"winner\" is \"" + r.winner + "\" but choice " + choice + " means \"" + expected + "\"");
    const auto& scores = in.at("scores");
    if (!scores.is_object()) throw DataError(path, line, "\"scores\" is not an object");
    if (auto it = scores.find(r.left_system); it != scores.end()) r.left = scores_from_json(*it, path, line);
    if (auto it = scores.find(r.right_system); it != scores.end()) r.right = scores_from_json(*it, path, line);
    if (j.contains("note")) r.note = in.text("note");
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

std::string RatingFile::rater_name() const { return rater.empty() ? base_name(path) : rater; }

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
        file.warnings.push_back(torn_warning(path, torn_line_number(text, split.complete_bytes)));
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
        const LineFields in{j, path, line_no};
        const std::string type = in.text("type");
        if (type == "session") {
            if (file.plan) throw DataError(path, line_no, "is a second session line");
            file.plan = plan_from_json(j, path, line_no);
            if (j.contains("rater")) file.rater = in.text("rater");
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
        warnings_.push_back(torn_warning(path_, torn_line_number(text, split.complete_bytes)));
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
    r.winner = winner_of(choice, item.left_system, item.right_system);
    return r;
}

void RatingSession::record(const Rating& rating) {
    if (rating.position >= plan_.items.size()) throw std::invalid_argument("item " + std::to_string(rating.position) + " is outside the sample");
    const RatingItem& item = plan_.items[rating.position];
    if (rating.row != item.row || rating.left_system != item.left_system || rating.right_system != item.right_system)
        throw std::invalid_argument("the rating does not match item " + std::to_string(rating.position) + " of the sample");
    if (rating.winner != winner_of(rating.choice, item.left_system, item.right_system)) throw std::invalid_argument("the winner does not match the choice");
    if (!scores_in_range(rating.left) || !scores_in_range(rating.right)) throw std::invalid_argument("scores go from 1 to 5 (0: not scored)");
    append_line(rating_to_json(rating).dump());
    latest_[rating.position] = rating;
}

}  // namespace sumlab
