// libFuzzer target: the readers of a run folder (engine/training/run_folder.h), on files a kill may
// have cut short or anyone may have edited: read_run (run.json typed as RunConfig, metrics.jsonl,
// status.json, checkpoint-N/, final/: what the run list shows), read_run_config (what the Train page
// resumes and re-runs), read_trainer_state on each checkpoint's trainer_state.json (what a resume
// continues from), TrainingArguments::from_json on run.json (`sumlab-cli train --config` takes a
// run.json or its "arguments"), then truncate_metrics (a resume keeping the lines up to its step).
// Input: the step to truncate at (byte 0), then metrics.jsonl, the folder names (one per line),
// the trainer_state.json written into each, run.json ("{}" when absent) and status.json (none when
// absent), separated by "--8<--" lines. Only sumlab::Error may leave them.
#include "engine/training/run_folder.h"
#include "engine/training/training_arguments.h"
#include "fuzz/fuzz_support.h"
#include "base/errors.h"
#include "base/file_util.h"

#include <algorithm>
#include <sys/stat.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    using namespace sumlab;
    const int64_t step = data[0];
    auto parts = fuzz::split_parts(data + 1, size - 1, 5);
    const bool has_run_json = parts.size() > 3, has_status = parts.size() > 4;
    parts.resize(5);
    const std::string run = fuzz::scratch_dir() + "/run";
    remove_tree(run);
    ::mkdir(run.c_str(), 0700);
    const std::string metrics = join_path(run, "metrics.jsonl");
    try {  // setting the folder up is not under test (a name from the input may not be creatable)
        write_atomically(metrics, parts[0]);
        write_atomically(join_path(run, "run.json"), has_run_json ? parts[3] : std::string_view("{}"));
        if (has_status) write_atomically(join_path(run, "status.json"), parts[4]);
        std::string_view names = parts[1];
        for (int n = 0; !names.empty() && n < 16; ++n) {
            const size_t end = std::min(names.find('\n'), names.size());
            std::string name(names.substr(0, end));
            names.remove_prefix(std::min(end + 1, names.size()));
            if (name.empty() || name.size() > 64 || name.find_first_of(std::string("/\0", 2)) != std::string::npos ||
                name == "." || name == ".." || name == "metrics.jsonl" || name == "run.json" || name == "status.json")
                continue;
            const std::string dir = join_path(run, name);
            if (::mkdir(dir.c_str(), 0700) == 0) write_atomically(join_path(dir, "trainer_state.json"), parts[2]);
        }
    } catch (const Error&) {
        return 0;
    }
    int read_run_typed = -1;  // whether read_run typed run.json (-1: read_run refused the folder)
    try {
        const RunInfo info = read_run(run);
        read_run_typed = info.run_config.has_value();
        if (info.run_config.has_value() == !info.config_error.empty()) std::abort();  // one or the other
        nlohmann::json config = info.config;  // as cmd_train.cpp reads --config
        if (config.contains("arguments")) config = config["arguments"];
        (void)TrainingArguments::from_json(config, join_path(run, "run.json"));
    } catch (const Error&) {
    }
    bool typed = false;
    try {
        const RunConfig c = read_run_config(run);  // as the Train page reads it to resume or re-run
        typed = true;
        if (c.max_steps_resolved < 0 || c.started_at < 0) std::abort();
    } catch (const Error&) {
    }
    if (read_run_typed >= 0 && typed != (read_run_typed == 1)) std::abort();  // the one parser, the same verdict
    for (const auto& [n, path] : list_checkpoints(run)) {
        try {
            const SavedTrainerState saved = read_trainer_state(path);
            if (saved.state.global_step < 0 || saved.optimizer_step < 0 || saved.world_size < 1) std::abort();
        } catch (const Error&) {
        }
    }
    try {
        truncate_metrics(metrics, step);
    } catch (const Error&) {
    }
    return 0;
}
