// sumlab-cli train: full fine-tuning or LoRA into a run folder, flags generated from the settings
// table (engine/training_arguments.h). Ctrl-C stops cleanly after writing a checkpoint.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "engine/trainer.h"
#include "models/errors.h"
#include "models/file_util.h"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>

namespace sumlab::cli {

namespace {

TrainerControl* g_control = nullptr;
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_signal(int signo) {
    g_signal = signo;
    if (g_control) g_control->stop.store(true);
}

std::string format_seconds(double s) {
    int64_t t = static_cast<int64_t>(s + 0.5);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(t / 3600), static_cast<long long>(t / 60 % 60),
                  static_cast<long long>(t % 60));
    return buf;
}

// Turns a flag's text into the JSON value its setting expects (validated later by from_json).
nlohmann::json parse_flag(const SettingSpec& s, const std::string& text) {
    try {
        switch (s.kind) {
            case SettingSpec::Kind::integer: return std::stoll(text);
            case SettingSpec::Kind::real: return std::stod(text);
            case SettingSpec::Kind::boolean: return text == "true" || text == "1" || text == "yes";
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

}  // namespace

void add_train_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("train", "Fine-tune a model (full or LoRA) on DialogSum into a run folder");
    struct Opts {
        TrainerSetup setup;
        std::string config;
        std::map<std::string, std::string> values;
        bool group_by_length = false;
        bool quiet = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("--model", o->setup.model_dir, "Base model folder")->required();
    cmd->add_option("--data", o->setup.data, "DialogSum folder or file (CSV, JSONL or Python-literal lines)")->required();
    cmd->add_option("--output", o->setup.output_dir, "Run folder (run.json, metrics.jsonl, checkpoint-N/, final/)")->required();
    cmd->add_option("--init-adapter", o->setup.init_adapter, "LoRA: start from this PEFT adapter instead of a fresh one");
    cmd->add_option("--config", o->config, "Read settings from a JSON file (a run.json or its \"arguments\"); flags override it");
    cmd->add_option("--resume", o->setup.resume_from, "Resume from a checkpoint-N folder (no value: the newest in --output)")
        ->expected(0, 1)
        ->default_str("last");
    cmd->add_flag("--quiet", o->quiet, "No progress bar");
    for (const auto& s : training_settings()) {
        if (s.kind == SettingSpec::Kind::boolean) {
            cmd->add_flag(s.flag, o->group_by_length, s.help + " (Hugging Face: " + s.key + ")");
            continue;
        }
        std::string help = s.help + " (Hugging Face: " + s.key + ")";
        if (!s.choices.empty()) {
            help += " [";
            for (size_t i = 0; i < s.choices.size(); ++i) help += (i ? "|" : "") + s.choices[i];
            help += "]";
        }
        std::string key = s.key;
        cmd->add_option_function<std::string>(s.flag, [o, key](const std::string& v) { o->values[key] = v; }, help);
    }
    cmd->callback([o, cmd] {
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
        }
        if (o->group_by_length) j["group_by_length"] = true;
        if (cmd->count("--resume") && o->setup.resume_from.empty()) o->setup.resume_from = "last";
        o->setup.args = TrainingArguments::from_json(j, o->config.empty() ? "command line" : o->config);

        TrainerControl control;
        g_control = &control;
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        TrainerCallbacks cb;
        const bool tty = !o->quiet;
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
            if (tty) std::fprintf(stderr, "\neval: step %lld  eval_loss %.4f\n", static_cast<long long>(m.step), m.eval_loss);
        };
        cb.on_message = [](const std::string& msg) { std::fprintf(stderr, "\ntrain: %s\n", msg.c_str()); };
        Trainer trainer(o->setup, cb, &control);
        TrainResult r = trainer.run();
        g_control = nullptr;
        if (tty) std::fprintf(stderr, "\n");
        nlohmann::json out = {{"status", to_string(r.status)}, {"global_step", r.global_step}, {"final_loss", r.final_loss},
                              {"final_dir", r.final_dir}, {"last_checkpoint", r.last_checkpoint}};
        write_json_line(std::cout, out);
        if (g_signal) {
            std::fflush(stdout);
            std::_Exit(128 + g_signal);
        }
    });
}

}  // namespace sumlab::cli
