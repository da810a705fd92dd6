// HubCache: huggingface_hub's cache folder, read and written exactly as Python does, so a model that
// `transformers` downloaded is found here and one SumLab downloads is found by `transformers`:
//
//   <cache>/models--google--flan-t5-small/
//       blobs/<etag>                        file contents; etag = git blob id, or sha256 for LFS files
//       blobs/<etag>.incomplete             a download in progress (resumed with an HTTP Range request)
//       refs/main                           the commit hash the branch or tag pointed to (no newline)
//       snapshots/<commit>/config.json  ->  ../../blobs/<etag>   (relative symlinks)
//   <cache>/.locks/models--google--flan-t5-small/<etag>.lock     flock()ed as Python's filelock does
//
// Nothing else is written into a repository folder: huggingface_hub's scan_cache_dir() reports
// any stray file as a corrupted cache.
#pragma once

#include "engine/hub/hub_types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sumlab::hub {

struct CachedRevision {
    std::string commit;
    std::vector<std::string> refs;   // "main", "v1.0", ... that point to this commit
    std::vector<std::string> files;  // paths inside the snapshot, sorted
    int64_t size_on_disk = 0;        // distinct blobs of this snapshot
    std::string snapshot_path;
};

struct CachedRepo {
    std::string repo_id;
    RepoType type = RepoType::Model;
    std::string path;
    int64_t size_on_disk = 0;  // all blobs, each counted once
    int64_t file_count = 0;    // distinct blobs reached from snapshots
    std::vector<CachedRevision> revisions;
};

// What scan() could not read (a folder it does not understand, a broken symlink): it skips the repository
// and says why, as scan_cache_dir() collects CorruptedCacheException warnings.
struct CacheScan {
    std::vector<CachedRepo> repos;
    std::vector<std::string> warnings;
};

struct RemoveReport {
    std::vector<std::string> removed_snapshots;  // commit hashes
    std::vector<std::string> removed_refs;
    int64_t freed_bytes = 0;
    bool removed_repo = false;  // the whole repository folder went
};

class HubCache {
public:
    explicit HubCache(std::string root);
    const std::string& root() const { return root_; }

    std::string repo_folder(const std::string& repo_id, RepoType type) const;
    std::string snapshot_folder(const RepoRef& ref, const std::string& commit) const;
    std::string blob_path(const RepoRef& ref, const std::string& etag) const;
    std::string lock_path(const RepoRef& ref, const std::string& etag) const;

    // The commit a revision resolves to from the cache alone: itself for a commit hash with a snapshot,
    // else the content of refs/<revision> when that snapshot exists. nullopt when not cached.
    std::optional<std::string> cached_commit(const RepoRef& ref) const;
    // True when snapshots/<commit>/<file> exists and its link reaches a blob.
    bool has_snapshot_file(const RepoRef& ref, const std::string& commit, const std::string& file) const;

    // Writes refs/<revision> = commit (atomically; only when it changed; never for a commit hash).
    void write_ref(const RepoRef& ref, const std::string& commit) const;
    // snapshots/<commit>/<file> -> relative link to blobs/<etag> (os.path.relpath, as _create_symlink does),
    // replacing an older link atomically.
    void link_snapshot_file(const RepoRef& ref, const std::string& commit, const std::string& file,
                            const std::string& etag) const;

    CacheScan scan() const;
    // Removes one revision (a ref name or a commit hash): its snapshot, the refs pointing to it, and the blobs
    // no other snapshot uses; the whole repository folder when no revision is given or none remains.
    // Throws ConfigError when the repository or revision is not in the cache.
    RemoveReport remove(const std::string& repo_id, RepoType type, const std::optional<std::string>& revision) const;

private:
    std::string root_;
};

// Creates every missing folder of `path` (mkdir -p); throws FileError naming the path.
void make_directories(const std::string& path);

}  // namespace sumlab::hub
