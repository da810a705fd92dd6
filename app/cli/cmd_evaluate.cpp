// `sumlab-cli evaluate`: summaries of a DialogSum split written into the lab's results CSV.
//
//   load the split -> select examples -> check an existing results CSV holds the same examples -> resume from
//   <output>.partial.jsonl -> batched generation (progress on stderr, Ctrl-C stops cleanly) -> the results CSV
//   written atomically -> <output>.provenance.json -> the partial file removed.
//
// Files beside --output:
//   <output>.partial.jsonl     while running: a header line with the settings, then one flushed line per finished
//                              example {"id", "source_fnv1a", "summary", "new_tokens", "hit_max_new_tokens"}.
//                              A rerun with the same settings skips those ids; it is deleted once the CSV is written.
//   <output>.provenance.json   per column: model, adapter, generation settings, prompt, data, split, selection,
//                              max_source_length, SumLab version and date.
// SIGINT and SIGTERM set the generation's cancel flag; the command then exits with 128 + the signal number,
// keeping the partial file. A second signal ends the process at once (the partial file stays consistent). The
// partial file is locked (flock) while a run writes it, so two runs cannot interleave into one output.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "engine/dialogsum.h"
#include "engine/generation.h"
#include "engine/jsonl.h"
#include "engine/prompt.h"
#include "engine/results_csv.h"
#include "engine/system_info.h"
#include "engine/tokenizer.h"
#include "models/checkpoint.h"
#include "models/errors.h"
#include "models/file_util.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace sumlab::cli {
namespace {

constexpr std::string_view default_column = "original_model_summaries";
constexpr int partial_format_version = 1;

// The lab's system columns, in the order the notebook compares them.
const std::vector<std::string>& lab_column_order() {
    static const std::vector<std::string> order{"original_model_summaries", "instruct_model_summaries", "peft_model_summaries"};
    return order;
}

struct EvaluateOptions {
    ModelOptions model;
    GenerationOptions generation;
    std::string data_path;
    std::string split = "test";
    std::string prompt = "dialogsum";
    std::string output;
    std::string column = std::string(default_column);
    size_t limit = 0;
    size_t every = 1;
    size_t sample = 0;
    std::uint64_t seed = 42;
    bool quiet = false;
};

// ---- Ctrl-C ----

static_assert(std::atomic<bool>::is_always_lock_free, "the cancel flag is set from a signal handler");
std::atomic<bool> g_cancel_requested{false};
volatile std::sig_atomic_t g_cancel_signal = 0;

extern "C" void request_cancel(int signo) {
    g_cancel_signal = signo;
    g_cancel_requested.store(true, std::memory_order_relaxed);
}

// Maps SIGINT and SIGTERM onto g_cancel_requested while alive (SA_RESETHAND: a second signal gets the default
// action), and restores the previous handlers.
class CancelOnSignals {
public:
    CancelOnSignals() {
        g_cancel_requested.store(false);
        g_cancel_signal = 0;
        struct sigaction action {};
        action.sa_handler = request_cancel;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESETHAND;
        sigaction(SIGINT, &action, &previous_int_);
        sigaction(SIGTERM, &action, &previous_term_);
    }
    ~CancelOnSignals() {
        sigaction(SIGINT, &previous_int_, nullptr);
        sigaction(SIGTERM, &previous_term_, nullptr);
    }
    CancelOnSignals(const CancelOnSignals&) = delete;
    CancelOnSignals& operator=(const CancelOnSignals&) = delete;

    const std::atomic<bool>* flag() const { return &g_cancel_requested; }
    int signal_number() const { return g_cancel_signal != 0 ? static_cast<int>(g_cancel_signal) : SIGINT; }

private:
    struct sigaction previous_int_ {};
    struct sigaction previous_term_ {};
};

// ---- Small helpers ----

std::string absolute_path(const std::string& path) {
    if (path.empty()) return path;
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
    return ec ? path : absolute.lexically_normal().string();
}

std::string utc_timestamp() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// 64-bit FNV-1a as 16 hex digits: ties a partial line to the exact source text it was generated from.
std::string fnv1a_hex(std::string_view text) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
    return buf;
}

std::string format_duration(double seconds) {
    if (!(seconds >= 0) || seconds > 1e7) return "--:--";
    const auto total = static_cast<long long>(seconds + 0.5);
    char buf[32];
    if (total >= 3600) {
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%02lld:%02lld", total / 60, total % 60);
    }
    return buf;
}

nlohmann::ordered_json generation_to_json(const GenerationConfig& config) {
    return {{"max_new_tokens", config.resolved_max_new_tokens()},
            {"min_new_tokens", config.min_new_tokens},
            {"min_length", config.min_length},
            {"num_beams", config.num_beams},
            {"early_stopping", config.early_stopping},
            {"length_penalty", config.length_penalty},
            {"no_repeat_ngram_size", config.no_repeat_ngram_size},
            {"repetition_penalty", config.repetition_penalty},
            {"decoder_start_token_id", config.decoder_start_token_id},
            {"eos_token_id", config.eos_token_id},
            {"pad_token_id", config.pad_token_id}};
}

// ---- The examples ----

struct EvalExample {
    std::string id;
    std::string dialogue;
    std::string reference;  // the first reference: "summary", or "summary1" of the JSON Lines test split
    size_t source = 0;      // index into the distinct prompts (the CSV test split repeats each dialogue per reference)
};

struct EvalData {
    DialogSumSplit split;
    std::vector<EvalExample> examples;
    std::vector<std::string> sources;  // distinct rendered prompts, in order of first use
    std::vector<std::vector<size_t>> examples_of_source;
    size_t max_references = 0;
};

EvalData load_examples(const EvaluateOptions& options, const CLI::App& cmd, const PromptTemplate& prompt) {
    LoadOptions load;
    load.split = parse_split(options.split);
    const DialogSumDataset dataset = load_dialogsum(options.data_path, load);
    Selection selection;
    selection.every_kth = options.every;
    if (cmd.count("--sample") > 0) selection.sample_size = options.sample;
    selection.seed = options.seed;
    if (cmd.count("--limit") > 0) selection.limit = options.limit;

    EvalData data;
    data.split = select_examples(dataset.at(*load.split), selection);
    if (data.split.examples.empty()) {
        throw ConfigError("--data", "", "no examples selected from the " + std::string(split_name(*load.split)) +
                                            " split of " + options.data_path);
    }
    std::unordered_map<std::string, size_t> source_index;
    for (const DialogSumExample& e : data.split.examples) {
        std::string source = prompt.render(e.dialogue);
        auto [it, inserted] = source_index.emplace(source, data.sources.size());
        if (inserted) {
            data.sources.push_back(std::move(source));
            data.examples_of_source.emplace_back();
        }
        data.examples_of_source[it->second].push_back(data.examples.size());
        data.examples.push_back({e.id, e.dialogue, e.references.front(), it->second});
        data.max_references = std::max(data.max_references, e.references.size());
    }
    return data;
}

// ---- An existing results CSV ----

enum class MatchKey { id, dialogue_and_reference, reference };

std::string_view match_key_name(MatchKey key) {
    switch (key) {
        case MatchKey::id: return "id";
        case MatchKey::dialogue_and_reference: return "dialogue and human_baseline_summaries";
        case MatchKey::reference: return "human_baseline_summaries";
    }
    return "";
}

// row_example[r]: the example of table row r. Every row and every example is used exactly once.
struct RowMatch {
    std::vector<size_t> row_example;
    MatchKey key = MatchKey::id;
};

// Pairs the rows of an existing results CSV with the selected examples: by id when the file has ids, else by
// dialogue (with the reference to tell the CSV test split's repeated dialogues apart), else by the reference
// summary alone (the lab's own files carry neither id nor dialogue). Throws DataError when they differ.
RowMatch match_rows(const ResultsTable& table, const EvalData& data, const std::string& path) {
    RowMatch match;
    match.key = !table.ids.empty() ? MatchKey::id
                : !table.dialogues.empty() ? MatchKey::dialogue_and_reference
                                           : MatchKey::reference;
    const std::string advice = " A results CSV can only be extended with summaries of the same examples: use the "
                               "--data, --split, --every, --sample and --limit of the run that wrote it, or another --output.";
    if (table.size() != data.examples.size()) {
        throw DataError(path, 0, "holds " + std::to_string(table.size()) + " rows but " + std::to_string(data.examples.size()) +
                                     " examples are selected from " + data.split.path + "." + advice);
    }
    auto key_of_row = [&](size_t r) {
        switch (match.key) {
            case MatchKey::id: return table.ids[r];
            case MatchKey::dialogue_and_reference: return table.dialogues[r] + '\x1f' + table.human_baseline[r];
            case MatchKey::reference: return table.human_baseline[r];
        }
        return std::string();
    };
    auto key_of_example = [&](const EvalExample& e) {
        switch (match.key) {
            case MatchKey::id: return e.id;
            case MatchKey::dialogue_and_reference: return e.dialogue + '\x1f' + e.reference;
            case MatchKey::reference: return e.reference;
        }
        return std::string();
    };
    // Equal keys (a repeated reference) pair up in file order.
    std::unordered_map<std::string, std::vector<size_t>> examples_by_key;
    for (size_t i = data.examples.size(); i-- > 0;) examples_by_key[key_of_example(data.examples[i])].push_back(i);
    match.row_example.resize(table.size());
    for (size_t r = 0; r < table.size(); ++r) {
        auto it = examples_by_key.find(key_of_row(r));
        if (it == examples_by_key.end() || it->second.empty()) {
            const std::string what = match.key == MatchKey::id ? "id \"" + table.ids[r] + "\"" : "its " + std::string(match_key_name(match.key));
            // Data row r is on line r + 2 when no field spans lines; name the row instead of guessing the line.
            throw DataError(path, 0, "row " + std::to_string(r) + " (" + what + ") is not among the examples selected from " +
                                         data.split.path + " (rows matched by " + std::string(match_key_name(match.key)) + ")." + advice);
        }
        match.row_example[r] = it->second.back();
        it->second.pop_back();
        const EvalExample& e = data.examples[match.row_example[r]];
        if (match.key == MatchKey::id && table.human_baseline[r] != e.reference) {
            throw DataError(path, 0, "row " + std::to_string(r) + " (id \"" + e.id +
                                         "\"): human_baseline_summaries differs from that example's reference in " +
                                         data.split.path + "; the file was made from other data." + advice);
        }
    }
    return match;
}

// ---- The partial file ----

struct PartialEntry {
    std::string summary;
    int64_t new_tokens = 0;
    bool hit_max_new_tokens = false;
};

// <output>.partial.jsonl: the finished examples of an interrupted run. Each line is written with one write(2)
// and synced, so a killed run loses at most the batch in progress.
class PartialResults {
public:
    PartialResults(std::string path, nlohmann::ordered_json settings) : path_(std::move(path)), settings_(std::move(settings)) {}
    // Deletes the file when it is ours and holds no finished example (the run failed or stopped before its first
    // batch); another run's file (other settings, or unreadable) is left alone.
    ~PartialResults() {
        if (fd_ < 0) return;
        if (is_ours_ && entries_.empty()) ::unlink(path_.c_str());
        ::close(fd_);
    }
    PartialResults(const PartialResults&) = delete;
    PartialResults& operator=(const PartialResults&) = delete;

    const std::string& path() const { return path_; }

    // Opens (or creates) the file and locks it against a second evaluate writing to the same output. An existing
    // file's settings must equal ours; its finished examples are read, and an incomplete last line (a crash in the
    // middle of a write) is cut off.
    void open() {
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd_ < 0) throw FileError(path_, std::string("cannot open: ") + std::strerror(errno));
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd_);
            fd_ = -1;
            throw FileError(path_, "is in use by another sumlab-cli evaluate writing to the same --output");
        }
        std::string text = read_file(path_);
        const size_t complete = text.rfind('\n');
        text.resize(complete == std::string::npos ? 0 : complete + 1);
        const std::vector<JsonlRecord> records = parse_jsonl(text, path_);
        if (records.empty()) {
            text.clear();
        } else {
            check_header(records.front());
            for (size_t i = 1; i < records.size(); ++i) read_entry(records[i]);
        }
        if (::ftruncate(fd_, static_cast<off_t>(text.size())) != 0) {
            throw FileError(path_, std::string("cannot truncate: ") + std::strerror(errno));
        }
        if (text.empty()) {
            pending_ = nlohmann::ordered_json{{"sumlab_partial", partial_format_version}, {"settings", settings_}}.dump() + "\n";
            flush();
        }
        is_ours_ = true;
    }

    // The finished summary of `id`, when it was generated from this very source text.
    const PartialEntry* find(const std::string& id, const std::string& source_hash) const {
        auto it = entries_.find(id);
        return it != entries_.end() && it->second.first == source_hash ? &it->second.second : nullptr;
    }
    size_t size() const { return entries_.size(); }

    void append(const std::string& id, const std::string& source_hash, const PartialEntry& entry) {
        pending_ += nlohmann::ordered_json{{"id", id},
                                           {"source_fnv1a", source_hash},
                                           {"summary", entry.summary},
                                           {"new_tokens", entry.new_tokens},
                                           {"hit_max_new_tokens", entry.hit_max_new_tokens}}
                        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        pending_ += '\n';
        entries_[id] = {source_hash, entry};
    }

    // Writes the lines appended since the last flush and syncs them to disk.
    void flush() {
        size_t written = 0;
        while (written < pending_.size()) {
            const ssize_t n = ::write(fd_, pending_.data() + written, pending_.size() - written);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw FileError(path_, std::string("cannot write: ") + std::strerror(errno));
            written += static_cast<size_t>(n);
        }
        pending_.clear();
        ::fdatasync(fd_);
    }

    // Deletes the file once the results CSV holds its summaries.
    void remove() {
        if (fd_ < 0) return;
        ::unlink(path_.c_str());
        ::close(fd_);
        fd_ = -1;
    }

private:
    void check_header(const JsonlRecord& header) {
        const nlohmann::json& h = header.value;
        if (!h.is_object() || !h.contains("sumlab_partial") || !h.contains("settings")) {
            throw DataError(path_, header.line, "is not a SumLab partial-results file (delete it to start over)");
        }
        if (h["sumlab_partial"] != partial_format_version) {
            throw DataError(path_, header.line, "has an unsupported format version (delete it to start over)");
        }
        const nlohmann::json& was = h["settings"];
        const nlohmann::json now = settings_;
        std::string differences;
        for (const auto& [key, value] : now.items()) {
            if (!was.contains(key) || was[key] != value) {
                differences += (differences.empty() ? "" : "; ") + key + " was " +
                               (was.contains(key) ? was[key].dump() : std::string("absent")) + ", now " + value.dump();
            }
        }
        if (!differences.empty()) {
            throw ConfigError(path_, "settings",
                              "holds summaries of an interrupted run with other settings (" + differences +
                                  "). Rerun with that run's settings to continue it, or delete the file to start over.");
        }
    }

    void read_entry(const JsonlRecord& record) {
        if (!record.value.is_object()) throw DataError(path_, record.line, "expected a JSON object");
        PartialEntry entry;
        entry.summary = require_string(record, "summary", path_);
        const std::string id = require_string(record, "id", path_);
        const std::string hash = require_string(record, "source_fnv1a", path_);
        const auto tokens = record.value.find("new_tokens");
        const auto hit = record.value.find("hit_max_new_tokens");
        if (tokens == record.value.end() || !tokens->is_number_integer() || hit == record.value.end() || !hit->is_boolean()) {
            throw DataError(path_, record.line, "needs integer \"new_tokens\" and boolean \"hit_max_new_tokens\"");
        }
        entry.new_tokens = tokens->get<int64_t>();
        entry.hit_max_new_tokens = hit->get<bool>();
        entries_[id] = {hash, std::move(entry)};
    }

    std::string path_;
    nlohmann::ordered_json settings_;
    std::unordered_map<std::string, std::pair<std::string, PartialEntry>> entries_;  // id -> (source hash, entry)
    std::string pending_;
    int fd_ = -1;
    bool is_ours_ = false;  // opened with our settings: we may delete it
};

// ---- Progress on stderr ----

// "evaluate: [#######.............]  120/500  3.52 ex/s  ETA 01:48", redrawn in place on a terminal (also during
// a batch, with its decoding step), one line per batch otherwise.
class ProgressBar {
public:
    ProgressBar(size_t total, size_t already_done, bool enabled)
        : total_(total), done_(already_done), start_done_(already_done), enabled_(enabled && total > 0),
          is_tty_(::isatty(STDERR_FILENO) == 1), start_(Clock::now()), last_draw_(start_) {}

    void step(int64_t step, int64_t max_steps) {
        if (!enabled_ || !is_tty_) return;
        const auto now = Clock::now();
        if (now - last_draw_ < std::chrono::milliseconds(100)) return;
        draw("  step " + std::to_string(step) + "/" + std::to_string(max_steps));
    }

    void advance(size_t examples) {
        done_ += examples;
        if (enabled_) draw("");
    }

    void finish() {
        if (enabled_ && is_tty_) std::cerr << "\n";
        enabled_ = false;
    }

    double elapsed_s() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

private:
    using Clock = std::chrono::steady_clock;

    void draw(const std::string& suffix) {
        last_draw_ = Clock::now();
        constexpr size_t width = 24;
        const size_t filled = total_ ? std::min(width, done_ * width / total_) : width;
        const double elapsed = elapsed_s();
        const double rate = elapsed > 0 ? static_cast<double>(done_ - start_done_) / elapsed : 0.0;
        char numbers[96];
        std::snprintf(numbers, sizeof numbers, "  %zu/%zu  %.2f ex/s  ETA %s", done_, total_, rate,
                      rate > 0 ? format_duration(static_cast<double>(total_ - done_) / rate).c_str() : "--:--");
        std::string line = "evaluate: [" + std::string(filled, '#') + std::string(width - filled, '.') + "]" + numbers + suffix;
        if (is_tty_) {
            std::cerr << "\r" << line << "\x1b[K" << std::flush;
        } else {
            std::cerr << line << "\n" << std::flush;
        }
    }

    size_t total_;
    size_t done_;
    size_t start_done_;
    bool enabled_;
    bool is_tty_;
    Clock::time_point start_;
    Clock::time_point last_draw_;
};

// ---- Writing the results ----

// Where a new column goes: before the first existing lab column that comes later in the lab's order, else last.
size_t insertion_position(const std::vector<SystemSummaries>& systems, const std::string& column) {
    const auto& order = lab_column_order();
    const auto rank = std::find(order.begin(), order.end(), column);
    if (rank == order.end()) return systems.size();
    for (size_t i = 0; i < systems.size(); ++i) {
        const auto other = std::find(order.begin(), order.end(), systems[i].name + std::string(summaries_column_suffix));
        if (other != order.end() && other > rank) return i;
    }
    return systems.size();
}

// The results table: the existing one with `column` added or replaced (rows as `match` pairs them), or a new
// one in the selection's order with id, dialogue and the first reference.
ResultsTable build_table(const EvalData& data, const std::vector<std::string>& summaries, const std::string& column,
                         const std::optional<ResultsTable>& existing, const std::optional<RowMatch>& match) {
    const std::string name = column.substr(0, column.size() - summaries_column_suffix.size());
    ResultsTable table;
    std::vector<size_t> row_example;
    if (existing) {
        table = *existing;
        row_example = match->row_example;
    } else {
        for (size_t i = 0; i < data.examples.size(); ++i) {
            row_example.push_back(i);
            table.human_baseline.push_back(data.examples[i].reference);
        }
    }
    if (table.ids.empty()) {
        for (size_t example : row_example) table.ids.push_back(data.examples[example].id);
    }
    if (table.dialogues.empty()) {
        for (size_t example : row_example) table.dialogues.push_back(data.examples[example].dialogue);
    }
    SystemSummaries system{name, {}};
    for (size_t example : row_example) system.summaries.push_back(summaries[example]);
    auto same = std::find_if(table.systems.begin(), table.systems.end(), [&](const SystemSummaries& s) { return s.name == name; });
    if (same != table.systems.end()) {
        *same = std::move(system);
    } else {
        table.systems.insert(table.systems.begin() + static_cast<std::ptrdiff_t>(insertion_position(table.systems, column)),
                             std::move(system));
    }
    return table;
}

nlohmann::ordered_json read_provenance(const std::string& path) {
    if (!is_file(path)) return {{"format", "sumlab-results-provenance"}, {"version", 1}, {"columns", nlohmann::ordered_json::object()}};
    nlohmann::ordered_json j;
    try {
        j = nlohmann::ordered_json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw DataError(path, 0, std::string("is not valid JSON (") + e.what() + "); fix or delete it");
    }
    if (!j.is_object() || !j.contains("columns") || !j["columns"].is_object()) {
        throw DataError(path, 0, "is not a SumLab provenance file (no \"columns\" object); fix or delete it");
    }
    return j;
}

struct RunFacts {
    GenerationConfig generation;
    size_t generated = 0;
    size_t resumed = 0;
    size_t hit_max_new_tokens = 0;
    size_t sources_truncated = 0;
    double elapsed_s = 0;
};

nlohmann::ordered_json column_provenance(const EvaluateOptions& options, const CLI::App& cmd, const EvalData& data,
                                         const PromptTemplate& prompt, const RunFacts& facts) {
    nlohmann::ordered_json selection = {{"every", options.every},
                                        {"sample", cmd.count("--sample") > 0 ? nlohmann::json(options.sample) : nlohmann::json(nullptr)},
                                        {"seed", options.seed},
                                        {"limit", cmd.count("--limit") > 0 ? nlohmann::json(options.limit) : nlohmann::json(nullptr)}};
    return {{"model", absolute_path(options.model.model)},
            {"adapter", options.model.adapter.empty() ? nlohmann::json(nullptr) : nlohmann::json(absolute_path(options.model.adapter))},
            {"generation", generation_to_json(facts.generation)},
            {"prompt", prompt.text()},
            {"data", absolute_path(data.split.path)},
            {"split", std::string(split_name(data.split.split))},
            {"selection", selection},
            {"examples", data.examples.size()},
            {"distinct_sources", data.sources.size()},
            {"max_source_length", options.model.max_source_length},
            {"sources_truncated", facts.sources_truncated},
            {"batch_size", options.model.batch_size},
            {"device", options.model.device},
            {"generated", facts.generated},
            {"resumed_examples", facts.resumed},
            {"hit_max_new_tokens", facts.hit_max_new_tokens},
            {"elapsed_s", facts.elapsed_s},
            {"sumlab_version", SUMLAB_VERSION},
            {"runtime", runtime_versions()},
            {"date", utc_timestamp()}};
}

nlohmann::ordered_json reference_provenance(const EvalData& data) {
    std::string reference = "summary";
    if (data.max_references > 1) {
        reference = "summary1, the first of " + std::to_string(data.max_references) +
                    " references (rouge --results scores against this one only)";
    }
    return {{"data", absolute_path(data.split.path)},
            {"split", std::string(split_name(data.split.split))},
            {"reference", reference},
            {"examples", data.examples.size()},
            {"date", utc_timestamp()}};
}

void check_column_name(const std::string& column) {
    const bool has_suffix = column.size() > summaries_column_suffix.size() &&
                            column.compare(column.size() - summaries_column_suffix.size(), std::string::npos,
                                           summaries_column_suffix) == 0;
    if (!has_suffix || column == human_summaries_column) {
        throw ConfigError("--column", "", "\"" + column + "\" is not a system column: use <system>_summaries, e.g. "
                                              "original_model_summaries, instruct_model_summaries or peft_model_summaries");
    }
    if (column.find_first_of(",\"\r\n") != std::string::npos) {
        throw ConfigError("--column", "", "\"" + column + "\" may not contain commas, quotes or line breaks");
    }
}

// ---- The command ----

// Which distinct sources the partial file already holds a summary for (same id, same source text).
struct WorkList {
    std::vector<std::string> source_hash;              // per distinct source
    std::vector<std::optional<PartialEntry>> summary;  // per distinct source, once finished
    std::vector<size_t> pending;                       // distinct sources still to generate, in order
    size_t resumed_examples = 0;
};

WorkList plan_work(const EvalData& data, const PartialResults& partial) {
    WorkList work;
    work.source_hash.resize(data.sources.size());
    work.summary.resize(data.sources.size());
    for (size_t s = 0; s < data.sources.size(); ++s) {
        work.source_hash[s] = fnv1a_hex(data.sources[s]);
        for (size_t example : data.examples_of_source[s]) {
            if (const PartialEntry* entry = partial.find(data.examples[example].id, work.source_hash[s])) {
                work.summary[s] = *entry;
                break;
            }
        }
        if (work.summary[s]) {
            work.resumed_examples += data.examples_of_source[s].size();
        } else {
            work.pending.push_back(s);
        }
    }
    return work;
}

// Generates the pending sources batch by batch, each finished batch appended to the partial file. SIGINT or
// SIGTERM stops between decoding steps: the partial file is kept and CLI::RuntimeError carries 128 + signo.
void generate_pending(const EvaluateOptions& options, const EvalData& data, const GenerationConfig& generation,
                      WorkList& work, PartialResults& partial, ProgressBar& progress, RunFacts& facts) {
    CancelOnSignals cancel;
    LoadedModel model = options.model.load();
    const T5Tokenizer tokenizer = T5Tokenizer::from_directory(options.model.model);
    GenerationCallbacks callbacks;
    callbacks.cancel = cancel.flag();
    callbacks.on_step = [&progress](int64_t step, int64_t max_steps) { progress.step(step, max_steps); };
    const size_t batch = static_cast<size_t>(options.model.batch_size);
    try {
        for (size_t start = 0; start < work.pending.size(); start += batch) {
            if (cancel.flag()->load()) throw Cancelled();
            const size_t end = std::min(work.pending.size(), start + batch);
            std::vector<std::string> texts;
            for (size_t i = start; i < end; ++i) texts.push_back(data.sources[work.pending[i]]);
            const std::vector<TextGeneration> out = generate_texts(*model.model, tokenizer, texts, generation, options.model.batch_size,
                                                                   options.model.max_source_length, callbacks);
            size_t examples_done = 0;
            for (size_t i = start; i < end; ++i) {
                const size_t s = work.pending[i];
                const TextGeneration& g = out[i - start];
                const PartialEntry entry{g.text, static_cast<int64_t>(g.token_ids.size()), g.hit_max_new_tokens};
                for (size_t example : data.examples_of_source[s]) partial.append(data.examples[example].id, work.source_hash[s], entry);
                examples_done += data.examples_of_source[s].size();
                work.summary[s] = entry;
            }
            partial.flush();
            facts.generated += end - start;
            progress.advance(examples_done);
        }
    } catch (const Cancelled&) {
        progress.finish();
        const int signo = cancel.signal_number();
        std::cerr << "evaluate: stopped by " << (signo == SIGTERM ? "SIGTERM" : "SIGINT") << "; " << partial.size()
                  << " finished examples are kept in " << partial.path() << "; run the same command again to continue\n";
        throw CLI::RuntimeError(128 + signo);
    }
}

size_t count_truncated_sources(const EvaluateOptions& options, const EvalData& data) {
    const T5Tokenizer tokenizer = T5Tokenizer::from_directory(options.model.model);
    size_t truncated = 0;
    for (const std::string& source : data.sources) {
        if (static_cast<int64_t>(tokenizer.encode(source, true).size()) > options.model.max_source_length) ++truncated;
    }
    return truncated;
}

void print_summary(const EvaluateOptions& options, const EvalData& data, const std::optional<ResultsTable>& existing,
                   const std::optional<RowMatch>& match, const RunFacts& facts) {
    if (!options.quiet) {
        const bool replaced = existing && std::any_of(existing->systems.begin(), existing->systems.end(), [&](const SystemSummaries& s) {
                                  return s.name + std::string(summaries_column_suffix) == options.column;
                              });
        std::cerr << "evaluate: " << (replaced ? "replaced " : existing ? "added " : "wrote ") << options.column << " ("
                  << data.examples.size() << " rows";
        if (match) std::cerr << ", matched by " << match_key_name(match->key);
        std::cerr << ") in " << options.output << "; provenance in " << options.output << ".provenance.json\n";
        if (facts.sources_truncated > 0) {
            std::cerr << "evaluate: note: " << facts.sources_truncated << " prompts are longer than --max-source-length "
                      << options.model.max_source_length << " tokens and were truncated\n";
        }
    }
    if (facts.hit_max_new_tokens * 2 > data.examples.size()) {
        const int64_t limit = facts.generation.resolved_max_new_tokens();
        std::cerr << "evaluate: warning: " << facts.hit_max_new_tokens << " of " << data.examples.size()
                  << " summaries stopped at max_new_tokens (" << limit << ") before </s>, so they may be cut short"
                  << (limit < 200 ? "; the lab generates with --max-new-tokens 200" : "") << "\n";
    }
}

void run_evaluate(const EvaluateOptions& options, const CLI::App& cmd) {
    check_column_name(options.column);
    const PromptTemplate prompt = resolve_prompt(options.prompt);
    const EvalData data = load_examples(options, cmd, prompt);

    // An existing results CSV must hold the same examples; find out before generating anything.
    std::optional<ResultsTable> existing;
    std::optional<RowMatch> match;
    if (is_file(options.output)) {
        existing = read_results_csv(options.output);
        match = match_rows(*existing, data, options.output);
    }
    const std::string provenance_path = options.output + ".provenance.json";
    nlohmann::ordered_json provenance = read_provenance(provenance_path);

    RunFacts facts;
    facts.generation = GenerationConfig::from_model_dir(options.model.model,
                                                        T5Config::from_file(join_path(options.model.model, "config.json")));
    options.generation.apply(facts.generation);
    facts.generation.validate("command line");
    facts.sources_truncated = count_truncated_sources(options, data);

    // Resume: the partial file of an interrupted run with the same settings.
    const nlohmann::ordered_json settings = {{"column", options.column},
                                             {"model", absolute_path(options.model.model)},
                                             {"adapter", absolute_path(options.model.adapter)},
                                             {"prompt", prompt.text()},
                                             {"max_source_length", options.model.max_source_length},
                                             {"generation", generation_to_json(facts.generation)}};
    PartialResults partial(options.output + ".partial.jsonl", settings);
    partial.open();
    WorkList work = plan_work(data, partial);
    facts.resumed = work.resumed_examples;
    if (!options.quiet) {
        std::cerr << "evaluate: " << data.examples.size() << " " << split_name(data.split.split) << " examples from "
                  << data.split.path;
        if (data.sources.size() != data.examples.size()) std::cerr << " (" << data.sources.size() << " distinct dialogues)";
        std::cerr << " -> " << options.column << " of " << options.output << "\n";
        if (work.resumed_examples > 0) {
            std::cerr << "evaluate: resuming: " << work.resumed_examples << " of " << data.examples.size()
                      << " examples already done in " << partial.path() << "\n";
        }
    }

    ProgressBar progress(data.examples.size(), work.resumed_examples, !options.quiet);
    if (!work.pending.empty()) generate_pending(options, data, facts.generation, work, partial, progress, facts);
    progress.finish();
    facts.elapsed_s = progress.elapsed_s();

    std::vector<std::string> summaries;
    for (const EvalExample& example : data.examples) {
        const PartialEntry& entry = *work.summary[example.source];
        summaries.push_back(entry.summary);
        if (entry.hit_max_new_tokens) ++facts.hit_max_new_tokens;
    }

    // The CSV first, then its provenance; the partial file goes last, so a crash in between loses nothing.
    write_results_csv(options.output, build_table(data, summaries, options.column, existing, match));
    nlohmann::ordered_json& columns = provenance["columns"];
    if (!existing) columns = nlohmann::ordered_json::object();  // a provenance file beside a deleted CSV is stale
    const std::string human_column(human_summaries_column);
    if (!columns.contains(human_column)) columns[human_column] = reference_provenance(data);
    columns[options.column] = column_provenance(options, cmd, data, prompt, facts);
    write_atomically(provenance_path, provenance.dump(2) + "\n");
    partial.remove();

    print_summary(options, data, existing, match, facts);
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
    auto options = std::make_shared<EvaluateOptions>();
    CLI::App* cmd = app.add_subcommand(
        "evaluate",
        "Summarize a DialogSum split with a model and write (or extend) the lab's results CSV: id, dialogue, "
        "human_baseline_summaries and one <system>_summaries column per model. Resumable; Ctrl-C keeps the work done.");
    options->model.add_to(*cmd, false);
    options->generation.add_to(*cmd);
    cmd->add_option("--data", options->data_path,
                    "DialogSum folder or file (Hugging Face CSV, the JSON Lines release or Python-literal lines).")
        ->required();
    cmd->add_option("--split", options->split, "train, validation (dev, val) or test (default test).")
        ->check([](const std::string& value) -> std::string {
            return parse_split(value) ? std::string() : "unknown split \"" + value + "\" (train, validation, test)";
        });
    cmd->add_option("--every", options->every, "Keep every K-th example, starting with the first.")->check(CLI::PositiveNumber);
    cmd->add_option("--sample", options->sample, "Then a random sample of N examples, kept in file order.");
    cmd->add_option("--seed", options->seed, "Seed of --sample (default 42).");
    cmd->add_option("--limit", options->limit, "Then only the first N examples.");
    cmd->add_option("--prompt", options->prompt,
                    "Prompt preset (dialogsum, plain) or a template with {dialogue} (default dialogsum, the lab's prompt).");
    cmd->add_option("--output", options->output,
                    "Results CSV to write; when it exists, --column is added to it (or replaced) for the same examples.")
        ->required();
    cmd->add_option("--column", options->column,
                    "Column for the summaries: original_model_summaries (default), instruct_model_summaries, "
                    "peft_model_summaries or any <system>_summaries.");
    cmd->add_flag("--quiet", options->quiet, "No progress on standard error (warnings are still printed).");
    cmd->footer(
        "Generation settings default to the model's generation_config.json (Hugging Face: at most 19 new tokens); the "
        "lab generates with --max-new-tokens 200. While running, finished summaries go to <output>.partial.jsonl; "
        "rerunning the same command continues from there. <output>.provenance.json records, per column, how it was made.");
    cmd->callback([options, cmd] { run_evaluate(*options, *cmd); });
}

}  // namespace sumlab::cli
