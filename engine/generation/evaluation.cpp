// Evaluation (see evaluation.h): examples, row matching, the partial file, the results table and provenance.
#include "engine/generation/evaluation.h"

#include "engine/generation/system.h"

#include "engine/generation/generation.h"
#include "engine/data/jsonl.h"
#include "engine/runtime/system_info.h"
#include "engine/text/tokenizer.h"
#include "models/checkpoint.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "models/lora.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <thread>
#include <unordered_map>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace sumlab {
namespace {

constexpr int partial_format_version = 1;


// The lab's system columns, in the order the notebook compares them.
const std::vector<std::string>& lab_column_order() {
    static const std::vector<std::string> order{"original_model_summaries", "instruct_model_summaries", "peft_model_summaries"};
    return order;
}

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
            throw FileError(path_, "is in use by another sumlab-cli evaluate or workbench evaluation writing to the same output");
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
// one in the selection's order with id, dialogue and the references.
ResultsTable build_table(const EvaluationData& data, const std::vector<std::string>& summaries, const std::string& column,
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
            table.human_baseline.push_back(data.examples[i].references.front());
        }
        // Every reference of a multi-reference split survives: human_baseline_summaries_2, _3, ...
        for (size_t k = 1; k < data.max_references; ++k) {
            std::vector<std::string>& column = table.more_references.emplace_back();
            for (const EvaluationExample& e : data.examples) column.push_back(k < e.references.size() ? e.references[k] : std::string());
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

nlohmann::ordered_json column_provenance(const EvaluationSpec& spec, const EvaluationData& data, const RunFacts& facts) {
    const Selection& s = spec.selection;
    nlohmann::ordered_json selection = {{"every", s.every_kth},
                                        {"sample", s.sample_size ? nlohmann::json(*s.sample_size) : nlohmann::json(nullptr)},
                                        {"seed", s.seed},
                                        {"limit", s.limit ? nlohmann::json(*s.limit) : nlohmann::json(nullptr)}};
    return {{"model", absolute_path(spec.model_dir)},
            {"adapter", spec.adapter_dir.empty() ? nlohmann::json(nullptr) : nlohmann::json(absolute_path(spec.adapter_dir))},
            {"generation", generation_to_json(facts.generation)},
            {"prompt", spec.prompt.text()},
            {"data", absolute_path(data.split.path)},
            {"split", std::string(split_name(data.split.split))},
            {"selection", selection},
            {"examples", data.examples.size()},
            {"distinct_sources", data.sources.size()},
            {"max_source_length", spec.max_source_length},
            {"sources_truncated", facts.sources_truncated},
            {"batch_size", spec.batch_size},
            {"device", spec.device},
            {"dtype", spec.dtype},
            {"quantize", spec.quantize},
            {"generated", facts.generated},
            {"resumed_examples", facts.resumed},
            {"hit_max_new_tokens", facts.hit_max_new_tokens},
            {"elapsed_s", facts.elapsed_s},
            {"sumlab_version", SUMLAB_VERSION},
            {"runtime", runtime_versions()},
            {"date", utc_timestamp()}};
}

nlohmann::ordered_json reference_provenance(const EvaluationData& data) {
    std::string reference = "summary";
    if (data.max_references > 1) {
        reference = "summary1..summary" + std::to_string(data.max_references) +
                    " in human_baseline_summaries, human_baseline_summaries_2.. (rouge --results scores against the first only)";
    }
    return {{"data", absolute_path(data.split.path)},
            {"split", std::string(split_name(data.split.split))},
            {"reference", reference},
            {"examples", data.examples.size()},
            {"date", utc_timestamp()}};
}

// ---- The command ----

// Which distinct sources the partial file already holds a summary for (same id, same source text).
struct WorkList {
    std::vector<std::string> source_hash;              // per distinct source
    std::vector<std::optional<PartialEntry>> summary;  // per distinct source, once finished
    std::vector<size_t> pending;                       // distinct sources still to generate, in order
    size_t resumed_examples = 0;
};

WorkList plan_work(const EvaluationData& data, const PartialResults& partial) {
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
}  // namespace

EvaluationData load_evaluation_data(const std::string& data_path, Split split, const Selection& selection,
                                    const PromptTemplate& prompt) {
    LoadOptions load;
    load.split = split;
    const DialogSumDataset dataset = load_dialogsum(data_path, load);
    EvaluationData data;
    data.split = select_examples(dataset.at(split), selection);
    if (data.split.examples.empty()) {
        throw ConfigError(data_path, "", "no examples selected from the " + std::string(split_name(split)) + " split");
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
        data.examples.push_back({e.id, e.dialogue, e.references, it->second});
        data.max_references = std::max(data.max_references, e.references.size());
    }
    return data;
}

std::string_view match_key_name(MatchKey key) {
    switch (key) {
        case MatchKey::id: return "id";
        case MatchKey::dialogue_and_reference: return "dialogue and human_baseline_summaries";
        case MatchKey::reference: return "human_baseline_summaries";
    }
    return "";
}

// Pairs the rows of an existing results CSV with the selected examples: by id when the file has ids, else by
// dialogue (with the reference to tell the CSV test split's repeated dialogues apart), else by the reference
// summary alone (the lab's own files carry neither id nor dialogue). Throws DataError when they differ.
RowMatch match_rows(const ResultsTable& table, const EvaluationData& data, const std::string& path) {
    RowMatch match;
    match.key = !table.ids.empty() ? MatchKey::id
                : !table.dialogues.empty() ? MatchKey::dialogue_and_reference
                                           : MatchKey::reference;
    const std::string advice = " A results CSV can only be extended with summaries of the same examples: use the "
                               "data, split and selection (--data, --split, --every, --sample, --limit) of the run that "
                               "wrote it, or another output file.";
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
    auto key_of_example = [&](const EvaluationExample& e) {
        switch (match.key) {
            case MatchKey::id: return e.id;
            case MatchKey::dialogue_and_reference: return e.dialogue + '\x1f' + e.references.front();
            case MatchKey::reference: return e.references.front();
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
        const EvaluationExample& e = data.examples[match.row_example[r]];
        if (match.key == MatchKey::id && table.human_baseline[r] != e.references.front()) {
            throw DataError(path, 0, "row " + std::to_string(r) + " (id \"" + e.id +
                                         "\"): human_baseline_summaries differs from that example's reference in " +
                                         data.split.path + "; the file was made from other data." + advice);
        }
    }
    return match;
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

namespace {

// Waits while `pause` is set (and no cancel); throws Cancelled once `cancel` is set.
void hold_while_paused(const EvaluationCallbacks& callbacks) {
    while (callbacks.pause && callbacks.pause->load() && !(callbacks.cancel && callbacks.cancel->load())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (callbacks.cancel && callbacks.cancel->load()) throw Cancelled();
}

// Generates the pending sources batch by batch, each finished batch appended to the partial file.
void generate_pending(const EvaluationSpec& spec, const EvaluationData& data, const EvaluationCallbacks& callbacks, WorkList& work,
                      PartialResults& partial, RunFacts& facts, size_t& done) {
    LoadedSystem system = load_system({spec.model_dir, spec.adapter_dir, spec.device, spec.dtype, spec.quantize});
    LoadedModel& model = system.model;
    const T5Tokenizer& tokenizer = system.tokenizer;
    GenerationCallbacks generation_callbacks;
    generation_callbacks.cancel = callbacks.cancel;
    generation_callbacks.on_step = [&callbacks](int64_t step, int64_t max_steps) {
        hold_while_paused(callbacks);
        if (callbacks.on_step) callbacks.on_step(step, max_steps);
    };
    const size_t batch = static_cast<size_t>(spec.batch_size);
    for (size_t start = 0; start < work.pending.size(); start += batch) {
        hold_while_paused(callbacks);
        const size_t end = std::min(work.pending.size(), start + batch);
        std::vector<std::string> texts;
        for (size_t i = start; i < end; ++i) texts.push_back(data.sources[work.pending[i]]);
        // Sampling: each batch's draws are seeded by the seed and its first dialogue's index.
        GenerationConfig batch_generation = facts.generation;
        batch_generation.seed = facts.generation.seed + static_cast<int64_t>(work.pending[start]);
        const std::vector<TextGeneration> out = generate_texts(*model.model, tokenizer, texts, batch_generation, spec.batch_size,
                                                               spec.max_source_length, generation_callbacks);
        for (size_t i = start; i < end; ++i) {
            const size_t s = work.pending[i];
            const TextGeneration& g = out[i - start];
            const PartialEntry entry{g.text, static_cast<int64_t>(g.token_ids.size()), g.hit_max_new_tokens};
            for (size_t example : data.examples_of_source[s]) partial.append(data.examples[example].id, work.source_hash[s], entry);
            done += data.examples_of_source[s].size();
            work.summary[s] = entry;
        }
        partial.flush();
        facts.generated += end - start;
        if (callbacks.on_progress) callbacks.on_progress(done, data.examples.size());
    }
}

size_t count_truncated_sources(const EvaluationSpec& spec, const EvaluationData& data) {
    const T5Tokenizer tokenizer = T5Tokenizer::from_directory(spec.model_dir);
    size_t truncated = 0;
    for (const std::string& source : data.sources) {
        if (static_cast<int64_t>(tokenizer.encode(source, true).size()) > spec.max_source_length) ++truncated;
    }
    return truncated;
}

}  // namespace

EvaluationOutcome evaluate_column(const EvaluationSpec& spec, const EvaluationCallbacks& callbacks) {
    check_column_name(spec.column);
    if (spec.batch_size < 1) throw ConfigError("batch_size", "", "must be at least 1");
    const EvaluationData data = load_evaluation_data(spec.data_path, spec.split, spec.selection, spec.prompt);

    // An existing results CSV must hold the same examples; find out before generating anything.
    std::optional<ResultsTable> existing;
    std::optional<RowMatch> match;
    if (is_file(spec.output)) {
        existing = read_results_csv(spec.output);
        match = match_rows(*existing, data, spec.output);
    }
    EvaluationOutcome outcome;
    outcome.provenance_path = spec.output + ".provenance.json";
    nlohmann::ordered_json provenance = read_provenance(outcome.provenance_path);

    RunFacts facts;
    facts.generation = spec.generation;
    facts.generation.validate("generation settings");
    if (facts.generation.num_return_sequences != 1)
        throw ConfigError("generation settings", "num_return_sequences",
                          "must be 1 for evaluate: ROUGE scores one summary per dialogue (generate draws several)");
    facts.sources_truncated = count_truncated_sources(spec, data);

    // Resume: the partial file of an interrupted run with the same settings.
    nlohmann::ordered_json settings = {{"column", spec.column},
                                             {"model", absolute_path(spec.model_dir)},
                                             {"adapter", absolute_path(spec.adapter_dir)},
                                             {"prompt", spec.prompt.text()},
                                             {"max_source_length", spec.max_source_length},
                                             {"dtype", spec.dtype},
                                             {"generation", generation_to_json(facts.generation)}};
    // Only when set, so that partial files of fp32 runs from before the option still resume.
    if (spec.quantize != "none") settings["quantize"] = spec.quantize;
    PartialResults partial(spec.output + ".partial.jsonl", settings);
    partial.open();
    WorkList work = plan_work(data, partial);
    facts.resumed = work.resumed_examples;
    outcome.examples = data.examples.size();
    outcome.distinct_sources = data.sources.size();
    outcome.resumed_examples = work.resumed_examples;
    outcome.partial_path = partial.path();
    outcome.sources_truncated = facts.sources_truncated;
    outcome.max_new_tokens = facts.generation.resolved_max_new_tokens();
    if (callbacks.on_plan) callbacks.on_plan({data.examples.size(), data.sources.size(), work.resumed_examples, data.split.path, partial.path()});
    if (callbacks.on_progress) callbacks.on_progress(work.resumed_examples, data.examples.size());

    const auto started = std::chrono::steady_clock::now();
    size_t done = work.resumed_examples;
    try {
        if (!work.pending.empty()) generate_pending(spec, data, callbacks, work, partial, facts, done);
    } catch (const Cancelled&) {
        outcome.is_stopped = true;
        outcome.generated = facts.generated;
        outcome.finished_examples = done;
        outcome.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        return outcome;
    }
    facts.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    std::vector<std::string> summaries;
    for (const EvaluationExample& example : data.examples) {
        const PartialEntry& entry = *work.summary[example.source];
        summaries.push_back(entry.summary);
        if (entry.hit_max_new_tokens) ++facts.hit_max_new_tokens;
    }

    // The CSV first, then its provenance; the partial file goes last, so a crash in between loses nothing.
    write_results_csv(spec.output, build_table(data, summaries, spec.column, existing, match));
    nlohmann::ordered_json& columns = provenance["columns"];
    if (!existing) columns = nlohmann::ordered_json::object();  // a provenance file beside a deleted CSV is stale
    const std::string human_column(human_summaries_column);
    if (!columns.contains(human_column)) columns[human_column] = reference_provenance(data);
    columns[spec.column] = column_provenance(spec, data, facts);
    write_atomically(outcome.provenance_path, provenance.dump(2) + "\n");
    partial.remove();

    outcome.generated = facts.generated;
    outcome.finished_examples = done;
    outcome.hit_max_new_tokens = facts.hit_max_new_tokens;
    outcome.elapsed_s = facts.elapsed_s;
    outcome.extended_existing = existing.has_value();
    outcome.replaced_column = existing && std::any_of(existing->systems.begin(), existing->systems.end(), [&](const SystemSummaries& s) {
                                  return s.name + std::string(summaries_column_suffix) == spec.column;
                              });
    if (match) outcome.matched_by = match->key;
    return outcome;
}

}  // namespace sumlab
