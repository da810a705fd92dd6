// The run folder's writers and readers (run_folder.h).
#include "engine/training/run_folder.h"

#include "base/errors.h"
#include "base/file_util.h"

#include <openssl/evp.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <limits>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace sumlab {

namespace {

// A JSON whole number that fits int64_t (get<int64_t>() of 1e300 is undefined behaviour).
bool is_int64(const nlohmann::json& v) {
    return v.is_number_integer() &&
           !(v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
}

}  // namespace

std::string to_string(RunStatus s) {
    switch (s) {
        case RunStatus::running: return "running";
        case RunStatus::paused: return "paused";
        case RunStatus::stopped: return "stopped";
        case RunStatus::finished: return "finished";
        case RunStatus::failed: return "failed";
    }
    return "unknown";
}

RunLock::RunLock(const std::string& run_dir) {
    std::string path = join_path(run_dir, ".lock");
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw FileError(path, std::string("cannot create lock file: ") + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd_);
        fd_ = -1;
        throw FileError(run_dir, "another SumLab process is training into this run folder");
    }
}

RunLock::~RunLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

bool run_is_locked(const std::string& run_dir) {
    std::string path = join_path(run_dir, ".lock");
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    return locked;
}

MetricsWriter::MetricsWriter(const std::string& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "a");
    if (!file_) throw FileError(path, std::string("cannot open for appending: ") + std::strerror(errno));
}

MetricsWriter::~MetricsWriter() {
    if (file_) std::fclose(file_);
}

void MetricsWriter::append(const nlohmann::json& line) {
    std::string text = line.dump() + "\n";
    // Crash-test hook (tests/app/tst_train_crash.cpp): write half the line, flush it and wait, so a
    // SIGKILL leaves a torn last line for the reader to skip. Unset in normal use.
    static const bool stall = [] {
        const char* point = std::getenv("SUMLAB_TEST_STALL");
        return point && std::strcmp(point, "metrics-append") == 0;
    }();
    size_t done = 0;
    if (stall) {
        done = text.size() / 2;
        if (std::fwrite(text.data(), 1, done, file_) != done || std::fflush(file_) != 0)
            throw FileError(path_, std::string("cannot write metrics: ") + std::strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
    if (std::fwrite(text.data() + done, 1, text.size() - done, file_) != text.size() - done || std::fflush(file_) != 0)
        throw FileError(path_, std::string("cannot write metrics: ") + std::strerror(errno));
    ::fdatasync(::fileno(file_));
}

nlohmann::json to_json(const StepMetrics& m) {
    return {{"step", m.step},          {"epoch", m.epoch},         {"loss", m.loss},
            {"learning_rate", m.learning_rate}, {"grad_norm", m.grad_norm}, {"tokens_per_second", m.tokens_per_second},
            {"tokens_seen", m.tokens_seen}, {"elapsed_s", m.elapsed_s}, {"eta_s", m.eta_s}, {"max_steps", m.max_steps}};
}

nlohmann::json to_json(const EvalMetrics& m) {
    nlohmann::json j = {{"step", m.step}, {"epoch", m.epoch}, {"eval_loss", m.eval_loss}, {"eval_tokens", m.eval_tokens}};
    if (m.has_rouge) {
        j["eval_rouge1"] = m.eval_rouge1;
        j["eval_rouge2"] = m.eval_rouge2;
        j["eval_rougeL"] = m.eval_rougeL;
        j["eval_rougeLsum"] = m.eval_rougeLsum;
        j["eval_gen_len"] = m.eval_gen_len;
        j["eval_generated"] = m.eval_generated;
    }
    return j;
}

nlohmann::json to_json(const EvalPredictions& p) {
    nlohmann::json list = nlohmann::json::array();
    for (const EvalPrediction& e : p.examples) list.push_back({{"id", e.id}, {"prediction", e.prediction}, {"reference", e.reference}});
    return {{"step", p.step}, {"epoch", p.epoch}, {"predictions", list}};
}

std::optional<EvalPredictions> eval_predictions_from_json(const nlohmann::json& j) {
    auto is_text = [](const nlohmann::json& o, const char* key) { return o.contains(key) && o[key].is_string(); };
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer() || !j.contains("predictions") || !j["predictions"].is_array())
        return std::nullopt;
    if (j["step"].is_number_unsigned() && j["step"].get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    EvalPredictions p;
    p.step = j["step"].get<int64_t>();
    p.epoch = j.contains("epoch") && j["epoch"].is_number() ? j["epoch"].get<double>() : 0.0;
    for (const auto& e : j["predictions"]) {
        if (!e.is_object() || !is_text(e, "prediction")) return std::nullopt;
        p.examples.push_back({is_text(e, "id") ? e["id"].get<std::string>() : std::string(), e["prediction"].get<std::string>(),
                              is_text(e, "reference") ? e["reference"].get<std::string>() : std::string()});
    }
    return p;
}

void truncate_metrics(const std::string& path, int64_t step) {
    if (!is_file(path)) return;
    std::ifstream in(path);
    std::string line, kept;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        try {
            auto j = nlohmann::json::parse(line);
            if (j.contains("step") && j["step"].is_number_integer() && j["step"].get<int64_t>() > step) continue;
        } catch (const nlohmann::json::exception&) {
            continue;  // a line cut short by a kill
        }
        kept += line + "\n";
    }
    write_atomically(path, kept);
}

void write_status(const std::string& run_dir, RunStatus status, int64_t step, const std::string& message) {
    nlohmann::json j = {{"status", to_string(status)}, {"step", step}};
    if (!message.empty()) j["message"] = message;
    write_atomically(join_path(run_dir, "status.json"), j.dump() + "\n");
}

std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& run_dir) {
    std::vector<std::pair<int64_t, std::string>> out;
    DIR* d = ::opendir(run_dir.c_str());
    if (!d) return out;
    while (auto* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name.rfind("checkpoint-", 0) != 0) continue;
        std::string num = name.substr(11);
        if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) continue;  // skips temporaries
        if (num.size() > 18) continue;  // not a step SumLab wrote (std::stoll would throw out_of_range)
        std::string path = join_path(run_dir, name);
        if (!is_file(join_path(path, "trainer_state.json"))) continue;
        out.emplace_back(std::stoll(num), path);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

std::string sha256_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path, "cannot open to hash");
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

void remove_tree(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        if (DIR* d = ::opendir(path.c_str())) {
            while (auto* e = ::readdir(d)) {
                std::string name = e->d_name;
                if (name == "." || name == "..") continue;
                remove_tree(join_path(path, name));
            }
            ::closedir(d);
        }
        ::rmdir(path.c_str());
    } else {
        ::unlink(path.c_str());
    }
}

void discard_tree(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return;
    const std::string doomed = path + ".deleting";
    remove_tree(doomed);  // left by a kill during an earlier discard
    remove_tree(::rename(path.c_str(), doomed.c_str()) == 0 ? doomed : path);
}

void make_writable_dir(const std::string& path) {
    std::string partial;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        partial = path.substr(0, pos);
        if (partial.empty() || is_directory(partial)) continue;
        if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
            throw FileError(partial, std::string("cannot create folder: ") + std::strerror(errno));
    }
    if (::access(path.c_str(), W_OK) != 0) throw FileError(path, "folder is not writable");
}

// ---- run.json ----

nlohmann::json RunConfig::to_json() const {
    nlohmann::json j;
    j["sumlab_version"] = sumlab_version;
    j["runtime"] = runtime;
    j["model"] = model;
    j["data"] = data;
    j["init_adapter"] = init_adapter;
    j["arguments"] = arguments.to_json();
    j["max_steps_resolved"] = max_steps_resolved;
    j["train_examples"] = train_examples;
    j["validation_examples"] = validation_examples;
    nlohmann::json hashes = nlohmann::json::object();
    for (const auto& [file, hash] : data_sha256) hashes[file] = hash;
    j["data_sha256"] = hashes;
    if (!resumed_from.empty()) j["resumed_from"] = resumed_from;
    if (distributed)
        j["distributed"] = {{"world_size", distributed->world_size}, {"backend", distributed->backend},
                            {"launcher", distributed->launcher}, {"global_batch_size", distributed->global_batch_size}};
    j["started_at"] = started_at;
    if (!best_model_checkpoint.empty()) {
        j["best_model_checkpoint"] = best_model_checkpoint;
        j["best_metric"] = best_metric ? nlohmann::json(*best_metric) : nlohmann::json(nullptr);
    }
    return j;
}

RunConfig RunConfig::from_json(const nlohmann::json& j, const std::string& path) {
    if (!j.is_object()) throw ConfigError(path, "", "not a SumLab run.json: not a JSON object");
    for (const char* key : {"model", "arguments"})
        if (!j.contains(key)) throw ConfigError(path, key, "is missing: not a SumLab run.json");
    // Each reader leaves `out` as it is when the key is absent (files of older versions).
    auto text = [&](const nlohmann::json& o, const char* key, std::string& out) {
        const auto it = o.find(key);
        if (it == o.end()) return;
        if (!it->is_string()) throw ConfigError(path, key, "must be a string");
        out = it->get<std::string>();
    };
    auto count = [&](const nlohmann::json& o, const char* key, int64_t& out, int64_t min) {
        const auto it = o.find(key);
        if (it == o.end()) return;
        if (!is_int64(*it) || it->get<int64_t>() < min)
            throw ConfigError(path, key, "must be a whole number from " + std::to_string(min));
        out = it->get<int64_t>();
    };
    RunConfig c;
    text(j, "sumlab_version", c.sumlab_version);
    text(j, "runtime", c.runtime);
    text(j, "model", c.model);
    text(j, "data", c.data);
    text(j, "init_adapter", c.init_adapter);
    text(j, "resumed_from", c.resumed_from);
    c.arguments = TrainingArguments::from_json(j["arguments"], path);
    count(j, "max_steps_resolved", c.max_steps_resolved, 0);
    count(j, "train_examples", c.train_examples, 0);
    count(j, "validation_examples", c.validation_examples, 0);
    count(j, "started_at", c.started_at, 0);
    if (j.contains("data_sha256")) {
        if (!j["data_sha256"].is_object()) throw ConfigError(path, "data_sha256", "must be an object of file names and hashes");
        for (const auto& item : j["data_sha256"].items()) {
            if (!item.value().is_string()) throw ConfigError(path, "data_sha256", "the hash of " + item.key() + " is not a string");
            c.data_sha256[item.key()] = item.value().get<std::string>();
        }
    }
    if (j.contains("distributed")) {
        const nlohmann::json& d = j["distributed"];
        if (!d.is_object()) throw ConfigError(path, "distributed", "must be an object");
        RunConfig::Distributed dist;
        count(d, "world_size", dist.world_size, 1);
        text(d, "backend", dist.backend);
        text(d, "launcher", dist.launcher);
        count(d, "global_batch_size", dist.global_batch_size, 0);
        c.distributed = dist;
    }
    if (j.contains("best_model_checkpoint") && !j["best_model_checkpoint"].is_null()) text(j, "best_model_checkpoint", c.best_model_checkpoint);
    if (j.contains("best_metric") && !j["best_metric"].is_null()) {
        if (!j["best_metric"].is_number()) throw ConfigError(path, "best_metric", "must be a number or null");
        c.best_metric = j["best_metric"].get<double>();
    }
    return c;
}

namespace {

nlohmann::json parse_json_file(const std::string& path) {
    try {
        return nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw FileError(path, std::string("invalid JSON: ") + e.what());
    }
}

std::string run_json_of(const std::string& run_dir) {
    const std::string path = join_path(run_dir, "run.json");
    if (!is_file(path)) throw FileError(run_dir, "is not a SumLab run folder (no run.json)");
    return path;
}

}  // namespace

RunConfig read_run_config(const std::string& run_dir) {
    const std::string path = run_json_of(run_dir);
    return RunConfig::from_json(parse_json_file(path), path);
}

void write_run_config(const std::string& run_dir, const RunConfig& config) {
    write_atomically(join_path(run_dir, "run.json"), config.to_json().dump(2) + "\n");
}

// ---- trainer_state.json ----

nlohmann::json TrainerState::to_json() const {
    return {{"global_step", global_step}, {"epoch_index", epoch}, {"epoch_step", epoch_step}, {"tokens_seen", tokens_seen},
            {"log_loss_sum", log_loss_sum}, {"log_steps", log_steps}, {"log_tokens", log_tokens}, {"log_seconds", log_seconds},
            {"elapsed_s", elapsed_s}, {"bad_steps_in_a_row", bad_steps_in_a_row}, {"last_loss", last_loss},
            // HF TrainerState's keys: null until a best is known.
            {"best_metric", best_metric ? nlohmann::json(*best_metric) : nlohmann::json(nullptr)},
            {"best_model_checkpoint", best_model_checkpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(best_model_checkpoint)},
            {"early_stopping_patience_counter", early_stopping_patience_counter}};
}

TrainerState TrainerState::from_json(const nlohmann::json& j, const std::string& path) {
    if (!j.is_object()) throw FileError(path, "not a SumLab trainer state: not a JSON object");
    auto field = [&](const char* key, bool is_count) -> const nlohmann::json& {
        const auto it = j.find(key);
        if (it == j.end()) throw FileError(path, std::string("not a SumLab trainer state: no \"") + key + "\"");
        if (is_count ? !is_int64(*it) : !it->is_number())
            throw FileError(path, std::string("not a SumLab trainer state: \"") + key + "\" is not " +
                                      (is_count ? "a whole number" : "a number"));
        return *it;
    };
    auto count = [&](const char* key) { return field(key, true).get<int64_t>(); };
    auto number = [&](const char* key) { return field(key, false).get<double>(); };
    TrainerState s;
    s.global_step = count("global_step");
    s.epoch = count("epoch_index");
    s.epoch_step = count("epoch_step");
    s.tokens_seen = count("tokens_seen");
    s.log_loss_sum = number("log_loss_sum");
    s.log_steps = count("log_steps");
    s.log_tokens = count("log_tokens");
    s.log_seconds = number("log_seconds");
    s.elapsed_s = number("elapsed_s");
    s.bad_steps_in_a_row = count("bad_steps_in_a_row");
    s.last_loss = number("last_loss");
    if (s.global_step < 0 || s.epoch < 0 || s.epoch_step < 0) throw FileError(path, "negative step counts");
    // Keys of later versions: absent (older checkpoints) or null mean none.
    if (j.contains("best_metric") && !j["best_metric"].is_null()) s.best_metric = number("best_metric");
    if (j.contains("best_model_checkpoint") && !j["best_model_checkpoint"].is_null()) {
        if (!j["best_model_checkpoint"].is_string()) throw FileError(path, "not a SumLab trainer state: \"best_model_checkpoint\" is not a path");
        s.best_model_checkpoint = j["best_model_checkpoint"].get<std::string>();
    }
    if (j.contains("early_stopping_patience_counter")) s.early_stopping_patience_counter = count("early_stopping_patience_counter");
    return s;
}

void write_trainer_state(const std::string& checkpoint_dir, const SavedTrainerState& saved, double epoch, int64_t max_steps) {
    nlohmann::json ts = saved.state.to_json();
    ts["epoch"] = epoch;
    ts["log_history"] = nlohmann::json::array();
    for (const auto& line : saved.log_history) ts["log_history"].push_back(line);
    ts["max_steps"] = max_steps;
    ts["optimizer_step"] = saved.optimizer_step;
    ts["world_size"] = saved.world_size;
    if (saved.global_batch_size) ts["global_batch_size"] = *saved.global_batch_size;
    write_atomically(join_path(checkpoint_dir, "trainer_state.json"), ts.dump(2) + "\n");
}

SavedTrainerState read_trainer_state(const std::string& checkpoint_dir) {
    const std::string path = join_path(checkpoint_dir, "trainer_state.json");
    if (!is_file(path)) throw FileError(checkpoint_dir, "is not a checkpoint (no trainer_state.json)");
    const nlohmann::json j = parse_json_file(path);
    SavedTrainerState saved;
    saved.state = TrainerState::from_json(j, path);
    // Keys later versions added: absent in older checkpoints, of the wrong type in a damaged one.
    auto optional_count = [&](const char* key, int64_t min, int64_t max) -> std::optional<int64_t> {
        const auto it = j.find(key);
        if (it == j.end()) return std::nullopt;
        if (!is_int64(*it) || it->get<int64_t>() < min || it->get<int64_t>() > max)
            throw FileError(path, std::string("\"") + key + "\" must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
        return it->get<int64_t>();
    };
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    saved.optimizer_step = optional_count("optimizer_step", 0, kMax).value_or(saved.state.global_step);
    saved.world_size = static_cast<int>(optional_count("world_size", 1, std::numeric_limits<int>::max()).value_or(1));
    saved.global_batch_size = optional_count("global_batch_size", 1, kMax);
    if (j.contains("log_history") && j["log_history"].is_array())
        for (const auto& line : j["log_history"])
            if (line.is_object()) saved.log_history.push_back(line);
    return saved;
}

// ---- The whole folder ----

namespace {

// A count of a metrics line (absent: 0); nullopt for anything but a whole number that fits, where
// json::value<int64_t> would convert 1e300 (undefined behaviour) or wrap 2^64-1.
std::optional<int64_t> count_field(const nlohmann::json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end()) return 0;
    if (!is_int64(*it)) return std::nullopt;
    return it->get<int64_t>();
}

// Adds one metrics line to `info`; a line with a count that is not one is skipped (other values
// of the wrong type throw json::exception, which skips the line too).
void read_metrics_line(const nlohmann::json& j, RunInfo& info) {
    const auto step = count_field(j, "step");
    if (!step) return;
    if (j.contains("eval_loss")) {
        EvalMetrics m;
        const auto tokens = count_field(j, "eval_tokens");
        if (!tokens) return;
        m.step = *step;
        m.epoch = j.value("epoch", 0.0);
        m.eval_loss = j.value("eval_loss", 0.0);
        m.eval_tokens = *tokens;
        if (j.contains("eval_rouge1")) {
            const auto generated = count_field(j, "eval_generated");
            if (!generated) return;
            m.has_rouge = true;
            m.eval_rouge1 = j.value("eval_rouge1", 0.0);
            m.eval_rouge2 = j.value("eval_rouge2", 0.0);
            m.eval_rougeL = j.value("eval_rougeL", 0.0);
            m.eval_rougeLsum = j.value("eval_rougeLsum", 0.0);
            m.eval_gen_len = j.value("eval_gen_len", 0.0);
            m.eval_generated = *generated;
        }
        info.evals.push_back(m);
    } else if (j.contains("loss")) {
        StepMetrics m;
        const auto max_steps = count_field(j, "max_steps"), tokens_seen = count_field(j, "tokens_seen");
        if (!max_steps || !tokens_seen) return;
        m.step = *step;
        m.max_steps = *max_steps;
        m.epoch = j.value("epoch", 0.0);
        m.loss = j.value("loss", 0.0);
        m.learning_rate = j.value("learning_rate", 0.0);
        m.grad_norm = j.value("grad_norm", 0.0);
        m.tokens_per_second = j.value("tokens_per_second", 0.0);
        m.tokens_seen = *tokens_seen;
        m.elapsed_s = j.value("elapsed_s", 0.0);
        m.eta_s = j.value("eta_s", 0.0);
        info.logs.push_back(m);
    }
}

}  // namespace

RunInfo read_run(const std::string& dir) {
    RunInfo info;
    info.dir = dir;
    const std::string run_json = run_json_of(dir);
    info.config = parse_json_file(run_json);
    try {
        info.run_config = RunConfig::from_json(info.config, run_json);
    } catch (const Error& e) {
        info.config_error = e.what();  // the curves and the status are still worth showing
    }
    std::string metrics = join_path(dir, "metrics.jsonl");
    if (is_file(metrics)) {
        std::string text = read_file(metrics);
        size_t pos = 0;
        while (pos < text.size()) {
            size_t end = text.find('\n', pos);
            if (end == std::string::npos) break;  // a line still being written
            std::string line = text.substr(pos, end - pos);
            pos = end + 1;
            // A line cut short by a kill, or one with a value of the wrong type, is skipped: the
            // curve keeps every line that can be read.
            try {
                auto j = nlohmann::json::parse(line);
                read_metrics_line(j, info);
            } catch (const nlohmann::json::exception&) {
                continue;
            }
        }
    }
    const std::string predictions = join_path(dir, kEvalPredictionsFile);
    if (is_file(predictions)) {
        const std::string text = read_file(predictions);
        size_t pos = 0;
        while (pos < text.size()) {
            const size_t end = text.find('\n', pos);
            if (end == std::string::npos) break;  // a line still being written
            try {
                if (auto p = eval_predictions_from_json(nlohmann::json::parse(text.substr(pos, end - pos)))) info.predictions.push_back(*p);
            } catch (const nlohmann::json::exception&) {
            }
            pos = end + 1;
        }
    }
    if (info.run_config) {
        info.best_model_checkpoint = info.run_config->best_model_checkpoint;
        if (!info.best_model_checkpoint.empty()) info.best_metric = info.run_config->best_metric;
    }
    auto checkpoints = list_checkpoints(dir);
    if (!checkpoints.empty()) info.last_checkpoint = checkpoints.back().second;
    std::string recorded = "stopped";
    std::string status_path = join_path(dir, "status.json");
    if (is_file(status_path)) {
        try {
            auto s = nlohmann::json::parse(read_file(status_path));
            recorded = s.value("status", "stopped");
            info.error = s.value("message", "");
        } catch (const nlohmann::json::exception&) {
        }
    }
    const bool live = run_is_locked(dir);
    if (is_directory(join_path(dir, "final")) && recorded == "finished") info.status = RunStatus::finished;
    else if (live) info.status = recorded == "paused" ? RunStatus::paused : RunStatus::running;
    else if (recorded == "failed") info.status = RunStatus::failed;
    else if (recorded == "running" || recorded == "paused") {
        info.status = RunStatus::failed;  // its process died without a word
        if (info.error.empty()) info.error = "the training process ended unexpectedly";
    } else info.status = RunStatus::stopped;
    return info;
}

// (<name>.tmp-<pid>-<n> are write_atomically's temporaries; <name>.deleting, discard_tree's.)
void remove_stale_temporaries(const std::string& run_dir) {
    auto ends_with = [](const std::string& s, const std::string& tail) {
        return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
    };
    std::vector<std::string> doomed;
    if (DIR* d = ::opendir(run_dir.c_str())) {
        while (auto* e = ::readdir(d)) {
            const std::string name = e->d_name;
            const bool is_temporary_file = name.find(".tmp-") != std::string::npos &&
                                           name.find_first_not_of("0123456789-", name.rfind(".tmp-") + 5) == std::string::npos;
            if (ends_with(name, ".deleting") || ends_with(name, ".tmp") || is_temporary_file) doomed.push_back(join_path(run_dir, name));
        }
        ::closedir(d);
    }
    for (const auto& path : doomed) remove_tree(path);
}

}  // namespace sumlab
