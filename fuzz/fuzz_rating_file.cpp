// libFuzzer target: a rater's JSONL ratings file (engine/metrics/human_eval.cpp), which raters mail around and
// edit by hand: read_rating_file, then what the programs do with one that parses.
// Input: byte 0 the mode, then the file. Mode bit 0: also resume a RatingSession on it (cutting off a
// torn last line, adding a lost newline); bit 1: also merge it, and a copy under a second rater's name,
// against a 4-row results table of its two systems (win rates, bootstrap means, agreement, ROUGE
// correlation, the merged CSV / JSONL / summary).
// Checks: only sumlab::Error leaves the reader; every rating and the plan survive rating_to_json /
// plan_to_json and back unchanged; a resumed session leaves a file that reads back with the same
// ratings and no warning.
#include "engine/metrics/human_eval.h"
#include "engine/metrics/results_csv.h"
#include "fuzz/fuzz_support.h"
#include "base/errors.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>

namespace {

using namespace sumlab;

bool same_scores(const QualityScores& a, const QualityScores& b) {
    return a.faithfulness == b.faithfulness && a.coverage == b.coverage && a.fluency == b.fluency;
}

bool same_rating(const Rating& a, const Rating& b) {
    return a.rater == b.rater && a.timestamp == b.timestamp && a.position == b.position && a.row == b.row && a.id == b.id &&
           a.left_system == b.left_system && a.right_system == b.right_system && a.choice == b.choice && a.winner == b.winner &&
           same_scores(a.left, b.left) && same_scores(a.right, b.right) && a.note == b.note;
}

bool same_ratings(const std::vector<Rating>& a, const std::vector<Rating>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!same_rating(a[i], b[i])) return false;
    return true;
}

// The systems the file compares: its plan's, else those of its first rating.
std::pair<std::string, std::string> systems_of(const RatingFile& file) {
    if (file.plan) return {file.plan->system_a, file.plan->system_b};
    if (!file.ratings.empty()) return {file.ratings[0].left_system, file.ratings[0].right_system};
    return {"a", "b"};
}

ResultsTable table_of(const std::pair<std::string, std::string>& systems) {
    ResultsTable table;
    table.human_baseline = {"the cat sat on the mat", "a dog ran home", "they met at noon", "rain fell all day"};
    table.systems = {{systems.first, {"the cat sat", "a dog ran home", "noon", ""}},
                     {systems.second, {"a cat on a mat", "dogs run", "they met at noon", "rain"}}};
    return table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    static fuzz::MemFile mem("ratings.jsonl");
    const uint8_t mode = data[0];
    const std::string& path = mem.write(data + 1, size - 1);
    RatingFile file;
    try {
        file = read_rating_file(path);
    } catch (const Error&) {
        return 0;
    }

    // What the session and merge code re-reads must come back unchanged.
    for (const Rating& r : file.ratings) {
        const Rating again = rating_from_json(rating_to_json(r), "fuzz-roundtrip", 1);  // must not throw
        if (!same_rating(r, again)) std::abort();
    }
    if (file.plan) {
        nlohmann::json j = plan_to_json(*file.plan);
        j["type"] = "session";
        const RatingFile again = parse_rating_file(j.dump() + "\n", "fuzz-roundtrip");
        const RatingPlan& p = *file.plan;
        const RatingPlan& q = *again.plan;
        if (p.results_path != q.results_path || p.system_a != q.system_a || p.system_b != q.system_b ||
            p.sample_size != q.sample_size || p.seed != q.seed || p.table_rows != q.table_rows)
            std::abort();
    }
    (void)file.latest();

    const ResultsTable table = table_of(systems_of(file));
    if (mode & 1) {
        // Resume the file as the rating page does; the plan is rebuilt from the file's own settings.
        const std::string copy = fuzz::put_file("ratings.jsonl", std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
        try {
            const RatingPlan* old = file.plan ? &*file.plan : nullptr;
            RatingPlan plan = make_rating_plan(table, old ? old->results_path : "results.csv", table.systems[0].name,
                                               table.systems[1].name, old && old->sample_size ? old->sample_size : 3,
                                               old ? old->seed : 1);
            RatingSession session(copy, file.rater.empty() ? "fuzz" : file.rater, plan);
            const RatingFile reread = read_rating_file(copy);  // must not throw
            if (!reread.warnings.empty() || !same_ratings(reread.ratings, file.ratings) || !reread.plan) std::abort();
            if (session.rated_count() != file.latest().size()) std::abort();
        } catch (const Error&) {
        }
    }
    if (mode & 2) {
        RatingFile second = file;
        second.path = "second.jsonl";
        second.rater = file.rater + "-second";
        for (Rating& r : second.ratings) r.rater = second.rater;
        HumanEvalOptions options;
        options.bootstrap = BootstrapOptions{20, 0.95, 0};  // a few resamples: the code path, not the figure
        try {
            const HumanEvalReport report = merge_ratings(table, {file, second}, options);
            if (report.ratings != report.a.wins + report.b.wins + report.ties) std::abort();
            if (report.items > static_cast<std::int64_t>(table.size())) std::abort();
            (void)format_merged_csv(report);
            (void)format_merged_jsonl(report);
            (void)report_summary_json(report).dump();
        } catch (const Error&) {
        }
    }
    return 0;
}
