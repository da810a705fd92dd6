// sumlab-cli train: full fine-tuning or LoRA into a run folder, flags generated from the settings
// table (engine/training/training_arguments.h). Ctrl-C stops cleanly after writing a checkpoint.
// Data-parallel: the torchrun or SLURM environment makes this process one rank of a run;
// --nproc-per-node N starts N ranks of this same program on this machine and watches them.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "engine/training/distributed.h"
#include "engine/runtime/system_info.h"
#include "engine/training/trainer.h"
#include "base/errors.h"
#include "base/file_util.h"

#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

extern char** environ;

namespace sumlab::cli {

namespace {

std::string format_seconds(double s) {
    int64_t t = static_cast<int64_t>(s + 0.5);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(t / 3600), static_cast<long long>(t / 60 % 60),
                  static_cast<long long>(t % 60));
    return buf;
}

// Turns a flag's text into the JSON value its setting expects (validated later by from_json). A
// nullable setting takes "none" (HF's None); a boolean flag alone means true, and takes true/false too.
nlohmann::json parse_flag(const SettingSpec& s, const std::string& text) {
    if (s.is_nullable && (text == "none" || text == "None" || text == "null")) return nullptr;
    try {
        switch (s.kind) {
            case SettingSpec::Kind::integer: return std::stoll(text);
            case SettingSpec::Kind::real: return std::stod(text);
            case SettingSpec::Kind::boolean:
                if (text.empty() || text == "true" || text == "True" || text == "1" || text == "yes") return true;
                if (text == "false" || text == "False" || text == "0" || text == "no") return false;
                throw std::invalid_argument(text);
            case SettingSpec::Kind::list: {
                std::vector<std::string> items;
                size_t pos = 0;
                while (pos <= text.size()) {
                    size_t comma = text.find(',', pos);
                    if (comma == std::string::npos) comma = text.size();
                    std::string item = text.substr(pos, comma - pos);
                    if (!item.empty()) items.push_back(item);
                    pos = comma + 1;
                }
                return items;
            }
            default: return text;
        }
    } catch (const std::exception&) {
        throw ConfigError(s.flag, s.key, "\"" + text + "\" is not a valid value");
    }
}

// A TCP port nobody listens on now (the kernel's pick), for the workers' TCPStore.
int free_local_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        if (fd >= 0) ::close(fd);
        throw Error("--nproc-per-node: cannot find a free local port for MASTER_PORT (" + std::string(std::strerror(errno)) + ")");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

// This process's own command line minus --nproc-per-node, for the workers.
std::vector<std::string> worker_arguments() {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::vector<std::string> args;
    std::string a;
    while (std::getline(in, a, '\0')) args.push_back(a);
    std::vector<std::string> out;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--nproc-per-node") {
            ++i;
            continue;
        }
        if (args[i].rfind("--nproc-per-node=", 0) == 0) continue;
        out.push_back(args[i]);
    }
    return out;
}

// torchrun's job on one machine: start N ranks with RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and
// MASTER_PORT set, forward SIGINT/SIGTERM to them, and when one fails stop the others (SIGTERM,
// then SIGKILL after 10 s) and report which rank it was. Returns the exit code.
int launch_workers(int nproc) {
    std::vector<std::string> args = worker_arguments();
    if (args.empty()) throw Error("--nproc-per-node: cannot read this process's command line");
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) throw Error("--nproc-per-node: cannot find this program's path");
    exe[n] = '\0';
    const std::string master_addr = std::getenv("MASTER_ADDR") ? std::getenv("MASTER_ADDR") : "127.0.0.1";
    const int master_port = std::getenv("MASTER_PORT") ? std::atoi(std::getenv("MASTER_PORT")) : free_local_port();

    std::atomic<bool> stop{false};  // only the signal matters here: it is forwarded to the ranks
    const StopOnSignals signals(stop);

    std::vector<pid_t> pids(static_cast<size_t>(nproc), 0);
    for (int rank = 0; rank < nproc; ++rank) {
        std::vector<std::string> env;
        for (char** e = environ; *e; ++e) {
            std::string kv = *e;
            std::string key = kv.substr(0, kv.find('='));
            if (key == "RANK" || key == "LOCAL_RANK" || key == "WORLD_SIZE" || key == "LOCAL_WORLD_SIZE" || key == "MASTER_ADDR" || key == "MASTER_PORT") continue;
            env.push_back(kv);
        }
        env.push_back("RANK=" + std::to_string(rank));
        env.push_back("LOCAL_RANK=" + std::to_string(rank));
        env.push_back("WORLD_SIZE=" + std::to_string(nproc));
        env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
        env.push_back("MASTER_ADDR=" + master_addr);
        env.push_back("MASTER_PORT=" + std::to_string(master_port));
        std::vector<char*> argv, envp;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        pid_t pid = 0;
        if (int err = ::posix_spawn(&pid, exe, nullptr, nullptr, argv.data(), envp.data()); err != 0) {
            for (pid_t p : pids)
                if (p > 0) ::kill(p, SIGKILL);
            throw Error("--nproc-per-node: cannot start rank " + std::to_string(rank) + ": " + std::strerror(err));
        }
        pids[static_cast<size_t>(rank)] = pid;
    }

    using Clock = std::chrono::steady_clock;
    int alive = nproc;
    int failed_rank = -1;
    pid_t failed_pid = 0;
    std::string failure;
    bool forwarded = false, terminated = false, killed = false;
    Clock::time_point terminated_at;
    while (alive > 0) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            auto it = std::find(pids.begin(), pids.end(), pid);
            if (it == pids.end()) continue;
            const int rank = static_cast<int>(it - pids.begin());
            *it = 0;
            --alive;
            const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            // After a forwarded Ctrl-C, exiting with 128+signo is the ranks' clean stop.
            const bool stopped = forwarded && WIFEXITED(status) && WEXITSTATUS(status) == 128 + signals.signal_number();
            if (!ok && !stopped && failed_rank < 0) {
                failed_rank = rank;
                failed_pid = pid;
                failure = WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")"
                                              : "exited with code " + std::to_string(WEXITSTATUS(status));
            }
            continue;
        }
        if (signals.is_signalled() && !forwarded) {
            for (pid_t p : pids)
                if (p > 0) ::kill(p, signals.signal_number());
            forwarded = true;
        }
        if (failed_rank >= 0 && !terminated) {
            for (pid_t p : pids)
                if (p > 0) ::kill(p, SIGTERM);
            terminated = true;
            terminated_at = Clock::now();
        }
        if (terminated && !killed && Clock::now() - terminated_at > std::chrono::seconds(10)) {
            for (pid_t p : pids)
                if (p > 0) ::kill(p, SIGKILL);
            killed = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (failed_rank >= 0)
        throw Error("rank " + std::to_string(failed_rank) + " of " + std::to_string(nproc) + " (pid " + std::to_string(failed_pid) + ") " + failure +
                    "; the other ranks were stopped");
    return signals.is_signalled() ? 128 + signals.signal_number() : 0;
}

// The progress line and evaluation lines on standard error (none when quiet or on ranks above 0).
TrainerCallbacks progress_callbacks(bool tty) {
    TrainerCallbacks cb;
    cb.on_log = [tty](const StepMetrics& m) {
        if (!tty) return;
        const int width = 30;
        int filled = m.max_steps ? static_cast<int>(width * m.step / m.max_steps) : 0;
        std::fprintf(stderr, "\r[%s%s] step %lld/%lld  epoch %.2f  loss %.4f  lr %.2e  %.0f tok/s  elapsed %s  eta %s ",
                     std::string(static_cast<size_t>(filled), '#').c_str(), std::string(static_cast<size_t>(width - filled), '.').c_str(),
                     static_cast<long long>(m.step), static_cast<long long>(m.max_steps), m.epoch, m.loss, m.learning_rate,
                     m.tokens_per_second, format_seconds(m.elapsed_s).c_str(), format_seconds(m.eta_s).c_str());
        std::fflush(stderr);
    };
    cb.on_evaluate = [tty](const EvalMetrics& m) {
        if (!tty) return;
        std::fprintf(stderr, "\neval: step %lld  eval_loss %.4f", static_cast<long long>(m.step), m.eval_loss);
        if (m.has_rouge)
            std::fprintf(stderr, "  rouge1 %.4f  rouge2 %.4f  rougeL %.4f  rougeLsum %.4f  gen_len %.1f (%lld examples)", m.eval_rouge1,
                         m.eval_rouge2, m.eval_rougeL, m.eval_rougeLsum, m.eval_gen_len, static_cast<long long>(m.eval_generated));
        std::fprintf(stderr, "\n");
    };
    cb.on_message = [](const std::string& msg) { std::fprintf(stderr, "\ntrain: %s\n", msg.c_str()); };
    return cb;
}

}  // namespace

void add_train_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("train", "Fine-tune a model (full or LoRA) on DialogSum into a run folder");
    struct Opts {
        TrainerSetup setup;
        std::string config;
        std::map<std::string, std::string> values;
        std::map<std::string, std::string> boolean_values;  // a boolean flag's optional value, read when the flag is given
        bool quiet = false;
        int nproc_per_node = 1;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("--model", o->setup.model_dir, "Base model folder, or a Hub id (org/name[@revision])")->required()->transform(hub_folder(hub::RepoType::Model));
    cmd->add_option("--data", o->setup.data, "DialogSum folder or file (CSV, JSONL or Python-literal lines), or a Hub dataset id")->required()->transform(hub_folder(hub::RepoType::Dataset));
    cmd->add_option("--output", o->setup.output_dir, "Run folder (run.json, metrics.jsonl, checkpoint-N/, final/)")->required();
    cmd->add_option("--init-adapter", o->setup.init_adapter, "LoRA: start from this PEFT adapter instead of a fresh one");
    cmd->add_option("--config", o->config, "Read settings from a JSON file (a run.json or its \"arguments\"); flags override it");
    cmd->add_option("--resume", o->setup.resume_from, "Resume from a checkpoint-N folder (no value: the newest in --output)")
        ->expected(0, 1)
        ->default_str("last");
    cmd->add_flag("--quiet", o->quiet, "No progress bar");
    cmd->add_option("--nproc-per-node", o->nproc_per_node,
                    "Start this many data-parallel processes on this machine (as torchrun does); "
                    "per_device_train_batch_size is per process. Without it, RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT "
                    "(torchrun) or SLURM_PROCID/SLURM_NTASKS (srun) make this process one rank")
        ->check(CLI::Range(1, 1024));
    for (const auto& s : training_settings()) {
        if (s.kind == SettingSpec::Kind::boolean) {
            cmd->add_option(s.flag, o->boolean_values[s.key], setting_help(s) + (s.is_nullable ? " [true|false|none]" : " [true|false]"))
                ->expected(0, 1)
                ->type_name("[BOOL]");
            continue;
        }
        std::string help = setting_help(s);
        if (!s.choices.empty()) {
            help += " [";
            for (size_t i = 0; i < s.choices.size(); ++i) help += (i ? "|" : "") + s.choices[i];
            help += "]";
        }
        std::string key = s.key;
        const char* type = s.kind == SettingSpec::Kind::integer ? "INT"
                           : s.kind == SettingSpec::Kind::real ? "FLOAT"
                           : s.kind == SettingSpec::Kind::list ? "LIST"
                           : s.kind == SettingSpec::Kind::choice ? "CHOICE" : "TEXT";
        cmd->add_option_function<std::string>(s.flag, [o, key](const std::string& v) { o->values[key] = v; }, help)->type_name(type);
    }
    cmd->callback([o, cmd] {
        o->setup.distributed = distributed_env_from_environment();
        if (o->nproc_per_node > 1) {
            if (o->setup.distributed.source == "torchrun" || std::getenv("RANK"))
                throw ConfigError("--nproc-per-node", "RANK", "is already set: this process is a rank of another launcher; drop --nproc-per-node");
            if (!distributed_available())
                throw ConfigError("--nproc-per-node", "nproc_per_node", "this SumLab was built without Gloo (install libgloo-dev and rebuild)");
            std::fflush(stdout);
            int code = launch_workers(o->nproc_per_node);
            if (code != 0) std::_Exit(code);
            return;
        }
        const bool is_main = o->setup.distributed.rank == 0;
        nlohmann::json j = nlohmann::json::object();
        if (!o->config.empty()) {
            try {
                j = nlohmann::json::parse(read_file(o->config));
            } catch (const nlohmann::json::exception& e) {
                throw ConfigError(o->config, "", std::string("invalid JSON: ") + e.what());
            }
            if (j.contains("arguments")) j = j["arguments"];
        } else {
            j = TrainingArguments().to_json();
        }
        for (const auto& s : training_settings()) {
            auto it = o->values.find(s.key);
            if (it != o->values.end()) j[s.key] = parse_flag(s, it->second);
            if (s.kind == SettingSpec::Kind::boolean && cmd->count(s.flag)) j[s.key] = parse_flag(s, o->boolean_values[s.key]);
        }
        if (cmd->count("--resume") && o->setup.resume_from.empty()) o->setup.resume_from = "last";
        o->setup.args = TrainingArguments::from_json(j, o->config.empty() ? "command line" : o->config);

        if (o->setup.args.bf16 && is_main && o->setup.args.device == "cpu") {
            const std::string warning = bf16_speed_warning();
            if (!warning.empty()) std::fprintf(stderr, "train: --bf16: %s\n", warning.c_str());
        }
        TrainerControl control;
        const StopOnSignals signals(control.stop);
        const bool tty = !o->quiet && is_main;
        const TrainerCallbacks cb = progress_callbacks(tty);
        Trainer trainer(o->setup, cb, &control);
        TrainResult r = trainer.run();
        if (tty) std::fprintf(stderr, "\n");
        nlohmann::json out = {{"status", to_string(r.status)}, {"global_step", r.global_step}, {"final_loss", r.final_loss},
                              {"final_dir", r.final_dir}, {"last_checkpoint", r.last_checkpoint}};
        if (!r.message.empty()) out["message"] = r.message;
        if (!r.best_model_checkpoint.empty()) {
            out["best_model_checkpoint"] = r.best_model_checkpoint;
            out["best_metric"] = r.best_metric ? nlohmann::json(*r.best_metric) : nlohmann::json(nullptr);
        }
        if (!r.message.empty() && is_main) std::fprintf(stderr, "train: %s\n", r.message.c_str());
        if (is_main) write_json_line(std::cout, out);
        if (signals.is_signalled()) {
            std::fflush(stdout);
            std::_Exit(128 + signals.signal_number());
        }
    });
}

}  // namespace sumlab::cli
