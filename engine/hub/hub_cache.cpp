#include "engine/hub/hub_cache.h"

#include "base/file_util.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <system_error>
#include <unistd.h>

namespace fs = std::filesystem;

namespace sumlab::hub {

void make_directories(const std::string& path) {
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec && !fs::is_directory(path)) throw FileError(path, "cannot create folder: " + ec.message());
}

HubCache::HubCache(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string HubCache::repo_folder(const std::string& repo_id, RepoType type) const {
    return join_path(root_, repo_folder_name(repo_id, type));
}

std::string HubCache::snapshot_folder(const RepoRef& ref, const std::string& commit) const {
    return repo_folder(ref.repo_id, ref.type) + "/snapshots/" + commit;
}

std::string HubCache::blob_path(const RepoRef& ref, const std::string& etag) const {
    return repo_folder(ref.repo_id, ref.type) + "/blobs/" + etag;
}

std::string HubCache::lock_path(const RepoRef& ref, const std::string& etag) const {
    return root_ + "/.locks/" + repo_folder_name(ref.repo_id, ref.type) + "/" + etag + ".lock";
}

std::optional<std::string> HubCache::cached_commit(const RepoRef& ref) const {
    std::string commit;
    if (is_commit_hash(ref.revision)) {
        commit = ref.revision;
    } else {
        const std::string ref_file = repo_folder(ref.repo_id, ref.type) + "/refs/" + ref.revision;
        if (!is_file(ref_file)) return std::nullopt;
        commit = read_file(ref_file);  // Python writes it without a newline; tolerate one
        while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r' || commit.back() == ' ')) commit.pop_back();
    }
    if (!is_directory(snapshot_folder(ref, commit))) return std::nullopt;
    return commit;
}

bool HubCache::has_snapshot_file(const RepoRef& ref, const std::string& commit, const std::string& file) const {
    return is_file(snapshot_folder(ref, commit) + "/" + file);  // stat() follows the link: a dangling one is false
}

void HubCache::write_ref(const RepoRef& ref, const std::string& commit) const {
    if (ref.revision == commit) return;
    const std::string path = repo_folder(ref.repo_id, ref.type) + "/refs/" + ref.revision;
    if (is_file(path) && read_file(path) == commit) return;  // a read-only cache stays untouched
    make_directories(fs::path(path).parent_path().string());
    write_atomically(path, commit);
}

void HubCache::link_snapshot_file(const RepoRef& ref, const std::string& commit, const std::string& file,
                                  const std::string& etag) const {
    const fs::path link = fs::path(snapshot_folder(ref, commit)) / file;
    make_directories(link.parent_path().string());
    // os.path.relpath(blob, dirname(link)): one "../" per folder below the repository folder.
    const size_t depth = 2 + static_cast<size_t>(std::count(file.begin(), file.end(), '/'));
    std::string target;
    for (size_t i = 0; i < depth; ++i) target += "../";
    target += "blobs/" + etag;
    std::error_code ec;
    if (fs::is_symlink(link, ec) && fs::read_symlink(link, ec).string() == target) return;
    std::random_device rd;
    const fs::path tmp = link.parent_path() / (".tmp-link-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_symlink(target, tmp, ec);
    if (ec) throw FileError(link.string(), "cannot create the link to " + target + ": " + ec.message());
    fs::rename(tmp, link, ec);
    if (ec) {
        fs::remove(tmp);
        throw FileError(link.string(), "cannot put the link in place: " + ec.message());
    }
}

namespace {
// Parses "models--org--name" back into a type and id; false for anything else.
bool parse_repo_folder(const std::string& name, RepoType& type, std::string& repo_id) {
    const auto sep = name.find("--");
    if (sep == std::string::npos) return false;
    const std::string kind = name.substr(0, sep);
    if (kind == "models") type = RepoType::Model;
    else if (kind == "datasets") type = RepoType::Dataset;
    else return false;
    repo_id = name.substr(sep + 2);
    for (size_t p = repo_id.find("--"); p != std::string::npos; p = repo_id.find("--", p + 1)) repo_id.replace(p, 2, "/");
    return !repo_id.empty();
}

// refs/** files: commit hash -> ref names ("main", "refs/pr/1").
std::map<std::string, std::vector<std::string>> read_refs(const fs::path& repo_path) {
    std::map<std::string, std::vector<std::string>> refs;
    const fs::path refs_dir = repo_path / "refs";
    std::error_code ec;
    if (!fs::is_directory(refs_dir, ec)) return refs;
    for (auto it = fs::recursive_directory_iterator(refs_dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        std::string commit = read_file(it->path().string());
        while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r')) commit.pop_back();
        refs[commit].push_back(fs::relative(it->path(), refs_dir).string());
    }
    for (auto& [commit, names] : refs) std::sort(names.begin(), names.end());
    return refs;
}

CachedRepo scan_repo(const fs::path& repo_path, RepoType type, const std::string& repo_id) {
    CachedRepo repo;
    repo.repo_id = repo_id;
    repo.type = type;
    repo.path = repo_path.string();
    const fs::path snapshots = repo_path / "snapshots";
    if (!fs::is_directory(snapshots)) throw Error("snapshots folder missing in " + repo.path);
    auto refs = read_refs(repo_path);
    std::map<std::string, int64_t> all_blobs;  // canonical blob path -> size
    for (const auto& entry : fs::directory_iterator(snapshots)) {
        if (!entry.is_directory()) throw Error("a file among the snapshots: " + entry.path().string());
        CachedRevision rev;
        rev.commit = entry.path().filename().string();
        rev.snapshot_path = entry.path().string();
        std::set<std::string> blobs;
        for (const auto& f : fs::recursive_directory_iterator(entry.path())) {
            if (fs::is_directory(f.path())) continue;
            std::error_code ec;
            const fs::path blob = fs::canonical(f.path(), ec);
            if (ec) throw Error("blob missing (broken symlink): " + f.path().string());
            const auto size = static_cast<int64_t>(fs::file_size(blob));
            rev.files.push_back(fs::relative(f.path(), entry.path()).string());
            if (blobs.insert(blob.string()).second) rev.size_on_disk += size;
            all_blobs[blob.string()] = size;
        }
        std::sort(rev.files.begin(), rev.files.end());
        auto r = refs.find(rev.commit);
        if (r != refs.end()) {
            rev.refs = r->second;
            refs.erase(r);
        }
        repo.revisions.push_back(std::move(rev));
    }
    if (!refs.empty()) throw Error("refs point to commits without a snapshot in " + repo.path);
    for (const auto& [path, size] : all_blobs) repo.size_on_disk += size;
    repo.file_count = static_cast<int64_t>(all_blobs.size());
    std::sort(repo.revisions.begin(), repo.revisions.end(),
              [](const CachedRevision& a, const CachedRevision& b) { return a.commit < b.commit; });
    return repo;
}
}  // namespace

CacheScan HubCache::scan() const {
    CacheScan result;
    std::error_code ec;
    if (!fs::is_directory(root_, ec)) return result;
    for (const auto& entry : fs::directory_iterator(root_)) {
        const std::string name = entry.path().filename().string();
        if (name == ".locks" || name == "CACHEDIR.TAG" || name == ".DS_Store") continue;
        RepoType type;
        std::string repo_id;
        if (!entry.is_directory() || !parse_repo_folder(name, type, repo_id)) {
            result.warnings.push_back(entry.path().string() + ": not a Hugging Face cache folder");
            continue;
        }
        try {
            result.repos.push_back(scan_repo(entry.path(), type, repo_id));
        } catch (const std::exception& e) {
            result.warnings.push_back(entry.path().string() + ": " + e.what());
        }
    }
    std::sort(result.repos.begin(), result.repos.end(), [](const CachedRepo& a, const CachedRepo& b) {
        return std::make_pair(a.type, a.repo_id) < std::make_pair(b.type, b.repo_id);
    });
    return result;
}

RemoveReport HubCache::remove(const std::string& repo_id, RepoType type, const std::optional<std::string>& revision) const {
    const fs::path repo_path = repo_folder(repo_id, type);
    const RepoRef ref{repo_id, type, revision.value_or("main")};
    if (!fs::is_directory(repo_path))
        throw ConfigError(root_, "", describe(ref) + " is not in the cache");
    RemoveReport report;
    CachedRepo repo;
    try {
        repo = scan_repo(repo_path, type, repo_id);
    } catch (const std::exception&) {
        if (revision) throw;
        repo.path = repo_path.string();  // a broken repository folder can still be removed whole
    }
    std::vector<const CachedRevision*> doomed;
    if (revision) {
        for (const auto& rev : repo.revisions)
            if (rev.commit == *revision || std::find(rev.refs.begin(), rev.refs.end(), *revision) != rev.refs.end())
                doomed.push_back(&rev);
        if (doomed.empty())
            throw ConfigError(root_, "", "revision '" + *revision + "' of " + describe(ref) + " is not in the cache");
    }
    if (!revision || doomed.size() == repo.revisions.size()) {
        report.freed_bytes = repo.size_on_disk;
        for (const auto& rev : repo.revisions) {
            report.removed_snapshots.push_back(rev.commit);
            report.removed_refs.insert(report.removed_refs.end(), rev.refs.begin(), rev.refs.end());
        }
        fs::remove_all(repo_path);
        std::error_code ec;
        fs::remove_all(fs::path(root_) / ".locks" / repo_folder_name(repo_id, type), ec);
        report.removed_repo = true;
        return report;
    }
    // Blobs still reached from a snapshot that stays are kept (DeleteCacheStrategy's rule).
    std::set<std::string> kept_blobs;
    for (const auto& rev : repo.revisions) {
        if (std::find(doomed.begin(), doomed.end(), &rev) != doomed.end()) continue;
        for (const auto& f : rev.files) kept_blobs.insert(fs::canonical(fs::path(rev.snapshot_path) / f).string());
    }
    for (const CachedRevision* rev : doomed) {
        for (const auto& f : rev->files) {
            std::error_code ec;
            const fs::path blob = fs::canonical(fs::path(rev->snapshot_path) / f, ec);
            if (ec || kept_blobs.count(blob.string())) continue;
            const auto size = static_cast<int64_t>(fs::file_size(blob, ec));
            if (fs::remove(blob, ec)) report.freed_bytes += size;
        }
        for (const auto& name : rev->refs) {
            fs::remove(repo_path / "refs" / name);
            report.removed_refs.push_back(name);
        }
        fs::remove_all(rev->snapshot_path);
        report.removed_snapshots.push_back(rev->commit);
    }
    return report;
}

}  // namespace sumlab::hub
