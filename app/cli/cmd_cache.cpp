// sumlab-cli cache list|remove: the Hugging Face cache as huggingface_hub's scan_cache_dir() sees it
// (repositories, revisions with their refs, sizes on disk), and removal of a repository or one revision
// with the blobs only it used.
#include "app/cli/commands.h"
#include "engine/hub/hub_cache.h"
#include "engine/hub/hub_settings.h"

#include <cstdio>
#include <iostream>
#include <optional>

namespace sumlab::cli {

namespace {
std::string human_size(int64_t bytes) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1000 && unit < 4) {
        value /= 1000;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    return buf;
}
}  // namespace

void add_cache_command(CLI::App& app) {
    auto* cache = app.add_subcommand("cache", "List or remove what is in the Hugging Face cache");
    cache->require_subcommand(1);

    auto* list = cache->add_subcommand("list", "Repositories, revisions (with their refs) and sizes on disk");
    list->callback([] {
        const hub::HubCache store(hub::HubSettings::from_environment().cache_dir);
        const hub::CacheScan scan = store.scan();
        std::cout << "Cache: " << store.root() << "\n";
        if (scan.repos.empty()) std::cout << "(empty)\n";
        int64_t total = 0;
        for (const auto& repo : scan.repos) {
            total += repo.size_on_disk;
            std::cout << repo.repo_id << "  " << hub::repo_type_name(repo.type) << "  " << human_size(repo.size_on_disk) << "  "
                      << repo.file_count << " files\n";
            for (const auto& rev : repo.revisions) {
                std::string refs;
                for (const auto& r : rev.refs) refs += (refs.empty() ? "" : ", ") + r;
                std::cout << "    " << rev.commit << "  " << (refs.empty() ? "(detached)" : refs) << "  " << human_size(rev.size_on_disk)
                          << "  " << rev.files.size() << " files  " << rev.snapshot_path << "\n";
            }
        }
        if (!scan.repos.empty()) std::cout << "Total: " << human_size(total) << "\n";
        for (const auto& w : scan.warnings) std::cerr << "cache: warning: " << w << "\n";
    });

    struct RemoveOpts {
        std::string id, revision, repo_type = "model";
    };
    auto o = std::make_shared<RemoveOpts>();
    auto* remove = cache->add_subcommand("remove", "Remove a cached repository, or one revision (branch, tag or commit) of it");
    remove->add_option("id", o->id, "Repository id, e.g. google/flan-t5-small")->required();
    remove->add_option("--revision", o->revision, "Only this revision (its snapshot, refs and the blobs no other snapshot uses)");
    remove->add_option("--repo-type", o->repo_type, "model or dataset (default model)")->check(CLI::IsMember({"model", "dataset"}));
    remove->callback([o] {
        const hub::HubCache store(hub::HubSettings::from_environment().cache_dir);
        const hub::RepoType type = hub::parse_repo_type(o->repo_type);
        const hub::RepoRef ref = hub::parse_repo_ref(o->id, type);
        std::optional<std::string> revision;
        if (!o->revision.empty()) revision = o->revision;
        else if (o->id.find('@') != std::string::npos) revision = ref.revision;
        const hub::RemoveReport report = store.remove(ref.repo_id, type, revision);
        std::cout << "Removed " << (report.removed_repo ? hub::describe(ref) : std::to_string(report.removed_snapshots.size()) + " revision(s) of " + hub::describe(ref))
                  << ", " << human_size(report.freed_bytes) << " freed\n";
    });
}

}  // namespace sumlab::cli
