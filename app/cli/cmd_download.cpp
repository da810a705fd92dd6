// sumlab-cli download: a model (its config, tokenizer and weights) or a dataset (every file) from the Hugging Face
// Hub into the Hub's own cache, with a progress bar; prints the snapshot folder. SIGINT/SIGTERM stop it with the
// partial file kept, so the same command resumes.
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "engine/hub/hub_client.h"

#include <atomic>
#include <csignal>
#include <iostream>

namespace sumlab::cli {

namespace {
std::atomic<bool> g_download_cancel{false};
volatile std::sig_atomic_t g_download_signal = 0;

extern "C" void on_download_signal(int signo) {
    g_download_signal = signo;
    g_download_cancel.store(true);
}
}  // namespace

void add_download_command(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "download",
        "Download a model or dataset from the Hugging Face Hub into its cache ($HF_HUB_CACHE, else $HF_HOME/hub, else "
        "~/.cache/huggingface/hub) and print the snapshot folder. Honours HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE.");
    struct Opts {
        std::string id, revision, repo_type = "model";
        bool all_files = false, quiet = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("id", o->id, "Repository id: google/flan-t5-small, knkarthick/dialogsum, or org/name@revision")->required();
    cmd->add_option("--revision", o->revision, "Branch, tag or commit hash (default main)");
    cmd->add_option("--repo-type", o->repo_type, "model or dataset (default model)")->check(CLI::IsMember({"model", "dataset"}));
    cmd->add_flag("--all-files", o->all_files, "Every file of a model repository, not only what SumLab loads");
    cmd->add_flag("--quiet", o->quiet, "No progress on standard error");
    cmd->callback([o] {
        const hub::RepoType type = hub::parse_repo_type(o->repo_type);
        hub::RepoRef ref = hub::parse_repo_ref(o->id, type);
        if (!o->revision.empty()) {
            if (o->id.find('@') != std::string::npos && ref.revision != o->revision)
                throw ConfigError("--revision", "", "'" + o->revision + "' contradicts the revision in '" + o->id + "'");
            ref.revision = o->revision;
        }
        const hub::FileSelection selection =
            type == hub::RepoType::Dataset || o->all_files ? hub::FileSelection::AllFiles : hub::FileSelection::ModelFiles;
        const hub::HubClient client;
        HubProgressBar bar(!o->quiet);
        g_download_cancel.store(false);
        auto previous_int = std::signal(SIGINT, on_download_signal);
        auto previous_term = std::signal(SIGTERM, on_download_signal);
        hub::DownloadResult result;
        try {
            result = client.download(ref, selection, std::ref(bar), &g_download_cancel);
        } catch (const Cancelled&) {
            bar.finish();
            std::signal(SIGINT, previous_int);
            std::signal(SIGTERM, previous_term);
            const int signo = g_download_signal != 0 ? static_cast<int>(g_download_signal) : SIGINT;
            std::cerr << "download: stopped by " << (signo == SIGTERM ? "SIGTERM" : "SIGINT")
                      << "; the partial file is kept: run the same command again to resume\n";
            throw CLI::RuntimeError(128 + signo);
        } catch (...) {
            bar.finish();
            std::signal(SIGINT, previous_int);
            std::signal(SIGTERM, previous_term);
            throw;
        }
        bar.finish();
        std::signal(SIGINT, previous_int);
        std::signal(SIGTERM, previous_term);
        if (!o->quiet) {
            if (result.from_cache_only)
                std::cerr << "download: " << result.note << "\n";
            else
                std::cerr << "download: " << hub::describe(ref) << " at " << ref.revision << " = commit " << result.commit << ", "
                          << result.files.size() << " files, " << result.bytes_downloaded << " bytes transferred\n";
        }
        std::cout << result.snapshot_folder << "\n";
    });
}

}  // namespace sumlab::cli
