// HubClient: the Hugging Face Hub's HTTP API as huggingface_hub uses it, over libcurl.
//
//   repo_info()      GET  {endpoint}/api/{models|datasets}/{repo}/revision/{rev}  -> commit "sha", "siblings"
//   file_metadata()  HEAD {endpoint}/[datasets/]{repo}/resolve/{rev}/{file}       -> X-Repo-Commit, ETag or
//                    X-Linked-Etag (the sha256 of an LFS file), Content-Length or X-Linked-Size, and for LFS
//                    files a redirect Location (a CDN) that the GET then uses without the token
//   download()       the selected files into the HubCache: blobs/<etag>.incomplete grown by GET (resumed with
//                    Range after a dropped connection or a cancel), checked (size; sha256 for LFS files),
//                    renamed to blobs/<etag>, then linked from snapshots/<commit>/ and refs/<revision> written
//
// Connection errors, 5xx, 408 and 429 are retried with exponential backoff; 401/403/404 are not and become a
// HubError naming the repository, revision or file. With HF_HUB_OFFLINE=1 nothing touches the network.
#pragma once

#include "engine/hub/hub_cache.h"
#include "engine/hub/hub_files.h"
#include "engine/hub/hub_parse.h"
#include "engine/hub/hub_settings.h"
#include "engine/hub/hub_types.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sumlab::hub {

struct DownloadProgress {
    std::string file;          // being transferred now
    int64_t files_done = 0;
    int64_t files_total = 0;
    int64_t bytes_done = 0;    // of the files to download, including what earlier runs had left in .incomplete
    int64_t bytes_total = 0;
    double bytes_per_second = 0;  // over this run's transfer
    double eta_seconds = -1;      // -1 while unknown
};
using ProgressCallback = std::function<void(const DownloadProgress&)>;

struct DownloadResult {
    RepoRef ref;
    std::string commit;
    std::string snapshot_folder;
    std::vector<std::string> files;  // inside the snapshot
    int64_t bytes_downloaded = 0;    // transferred by this run
    bool from_cache_only = false;    // offline, or the Hub unreachable and the cache had the snapshot
    std::string note;                // why the cache was used without asking the Hub, when it was
};

class HubClient {
public:
    explicit HubClient(HubSettings settings = HubSettings::from_environment());

    const HubSettings& settings() const { return settings_; }
    HubCache cache() const { return HubCache(settings_.cache_dir); }

    std::string api_url(const RepoRef& ref) const;
    std::string file_url(const RepoRef& ref, const std::string& file) const;

    RepoInfo repo_info(const RepoRef& ref, const std::atomic<bool>* cancel = nullptr) const;
    FileMetadata file_metadata(const RepoRef& ref, const std::string& file, const std::atomic<bool>* cancel = nullptr) const;

    // Brings the selected files of `ref` into the cache and returns its snapshot. Files whose snapshot link
    // already exists are not fetched again. Offline (or with the Hub unreachable and the snapshot cached) the
    // cache alone answers. Throws HubError, FileError, or Cancelled when *cancel became true (the partial
    // .incomplete file stays, and the next call resumes it).
    DownloadResult download(const RepoRef& ref, FileSelection selection, const ProgressCallback& progress = {},
                            const std::atomic<bool>* cancel = nullptr) const;

    // The snapshot from the cache alone (what HF_HUB_OFFLINE=1 gives); HubError(Offline) naming the repository,
    // revision and cache folder when it is not there.
    DownloadResult cached_snapshot(const RepoRef& ref, FileSelection selection) const;

private:
    HubSettings settings_;
};

}  // namespace sumlab::hub
