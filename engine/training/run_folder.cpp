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

}  // namespace sumlab
