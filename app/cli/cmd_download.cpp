// sumlab-cli download: a model (its config, tokenizer and weights) or a dataset (every file) from the Hugging Face
// Hub into the Hub's own cache, with a progress bar; prints the snapshot folder. SIGINT/SIGTERM stop it with the
// partial file kept, so the same command resumes.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "engine/hub/hub_client.h"

#include <atomic>
#include <iostream>

namespace sumlab::cli {

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
        hub::DownloadResult result;
        {
            std::atomic<bool> cancel{false};
            const StopOnSignals signals(cancel);
            try {
                result = client.download(ref, selection, std::ref(bar), &cancel);
            } catch (const Cancelled&) {
                bar.finish();
                std::cerr << "download: stopped by " << signals.signal_name()
                          << "; the partial file is kept: run the same command again to resume\n";
                throw CLI::RuntimeError(128 + signals.signal_number());
            } catch (...) {
                bar.finish();
                throw;
            }
            bar.finish();
        }
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
