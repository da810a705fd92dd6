// libFuzzer target: the run-folder readers of engine/run_folder.cpp that a resumed run and the run
// list use on files a kill may have cut short: truncate_metrics on metrics.jsonl (keeps the lines up
// to a step, drops torn ones) and list_checkpoints on checkpoint-N folders.
// Input: metrics.jsonl, then "--8<--" lines separating a list of folder names (one per line) and the
// trainer_state.json written into each. The first byte is the step to truncate at.
// Only sumlab::Error may leave them. (read_run, in engine/trainer.cpp, is not reached: see RELIABILITY.md.)
#include "engine/run_folder.h"
#include "fuzz/fuzz_support.h"
#include "models/errors.h"
#include "models/file_util.h"

#include <algorithm>
#include <sys/stat.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    using namespace sumlab;
    const int64_t step = data[0];
    auto parts = fuzz::split_parts(data + 1, size - 1, 3);
    parts.resize(3);
    const std::string run = fuzz::scratch_dir() + "/run";
    remove_tree(run);
    ::mkdir(run.c_str(), 0700);
    const std::string metrics = join_path(run, "metrics.jsonl");
    try {  // setting the folder up is not under test (a name from the input may not be creatable)
        write_atomically(metrics, parts[0]);
        std::string_view names = parts[1];
        for (int n = 0; !names.empty() && n < 16; ++n) {
            const size_t end = std::min(names.find('\n'), names.size());
            std::string name(names.substr(0, end));
            names.remove_prefix(std::min(end + 1, names.size()));
            if (name.empty() || name.size() > 64 || name.find_first_of(std::string("/\0", 2)) != std::string::npos ||
                name == "." || name == ".." || name == "metrics.jsonl")
                continue;
            const std::string dir = join_path(run, name);
            if (::mkdir(dir.c_str(), 0700) == 0) write_atomically(join_path(dir, "trainer_state.json"), parts[2]);
        }
    } catch (const Error&) {
        return 0;
    }
    try {
        truncate_metrics(metrics, step);
        for (const auto& [n, path] : list_checkpoints(run)) (void)is_file(join_path(path, "trainer_state.json"));
    } catch (const Error&) {
    }
    return 0;
}
