#include "engine/hub/hub_client.h"

#include "engine/hub/hub_hash.h"
#include "engine/hub/hub_parse.h"
#include "base/file_util.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <mutex>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace sumlab::hub {

namespace {

using Clock = std::chrono::steady_clock;

void init_curl() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// urllib.parse.quote: unreserved characters kept, '/' kept only for file paths.
std::string url_quote(const std::string& text, bool keep_slash) {
    static const char* digits = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 15];
        }
    }
    return out;
}

int64_t file_size_or_zero(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

// The status and headers (of the last response of a redirect chain) come from ResponseHeaders.
struct Response : ResponseHeaders {
    CURLcode code = CURLE_OK;
    std::string curl_error;
    std::string body;                            // non-2xx bodies and small 2xx bodies without a sink
    bool cancelled = false;
    std::string sink_error;                      // why the sink refused data (a write error)
};

struct Request {
    bool head = false;
    std::string url;
    std::vector<std::string> headers;
    bool follow_redirects = false;
    // Receives 2xx body bytes with the status and headers of the response they belong to; returns false to stop.
    std::function<bool(const char*, size_t, const ResponseHeaders&)> sink;
    const std::atomic<bool>* cancel = nullptr;
};

struct CallbackState {
    const Request* request;
    Response* response;
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* st = static_cast<CallbackState*>(user);
    st->response->add_line(std::string_view(data, size * count));
    return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* st = static_cast<CallbackState*>(user);
    const size_t n = size * count;
    Response& r = *st->response;
    if (st->request->cancel && st->request->cancel->load()) {
        r.cancelled = true;
        return 0;
    }
    if (r.is_redirect()) return n;  // the body of a redirect that curl follows
    if (r.status >= 200 && r.status < 300 && st->request->sink) return st->request->sink(data, n, r) ? n : 0;
    if (r.body.size() < (8u << 20)) r.body.append(data, n);
    return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* st = static_cast<CallbackState*>(user);
    if (st->request->cancel && st->request->cancel->load()) {
        st->response->cancelled = true;
        return 1;
    }
    return 0;
}

Response perform(const HubSettings& settings, const Request& request) {
    init_curl();
    Response response;
    CallbackState state{&request, &response};
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) throw Error("libcurl: cannot create a transfer");
    curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers, &curl_slist_free_all);
    char error_buffer[CURL_ERROR_SIZE] = {0};
    CURL* h = curl.get();
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "sumlab/" SUMLAB_VERSION "; hf_hub/compatible");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, settings.connect_timeout_s);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, settings.stall_timeout_s);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    if (request.head) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &state);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &state);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &state);
    response.code = curl_easy_perform(h);
    if (response.code != CURLE_OK)
        response.curl_error = error_buffer[0] ? std::string(error_buffer) : std::string(curl_easy_strerror(response.code));
    if (response.cancelled) throw Cancelled();
    return response;
}

// Connection trouble, 5xx, 408 and 429: what huggingface_hub's http_backoff retries. A host name that does not
// resolve is not retried: that is a machine without network (or a wrong HF_ENDPOINT), told at once.
bool is_transient(const Response& r) {
    switch (r.code) {
    case CURLE_OK:
        return r.status >= 500 || r.status == 429 || r.status == 408;
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

// Sleeps the backoff of retry `attempt` (0-based), a 429's Retry-After when it asks for longer (up to a minute),
// waking up early on cancel.
void backoff(const HubSettings& settings, int attempt, const Response& r, const std::atomic<bool>* cancel) {
    int64_t wait_ms = settings.retry_initial_ms;
    for (int i = 0; i < attempt && wait_ms < settings.retry_max_ms; ++i) wait_ms *= 2;
    wait_ms = std::min(wait_ms, settings.retry_max_ms);
    if (r.status == 429)
        if (const auto asked = retry_after_ms(r, 60'000)) wait_ms = std::max(wait_ms, *asked);
    const auto until = Clock::now() + std::chrono::milliseconds(wait_ms);
    while (Clock::now() < until) {
        if (cancel && cancel->load()) throw Cancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(50, wait_ms)));
    }
}

Response with_retries(const HubSettings& settings, const Request& request, int& tries) {
    for (int attempt = 0;; ++attempt) {
        Response r = perform(settings, request);
        tries = attempt + 1;
        if (!is_transient(r) || attempt >= settings.max_retries) return r;
        backoff(settings, attempt, r, request.cancel);
    }
}

std::string tries_text(int tries) { return tries > 1 ? " (" + std::to_string(tries) + " tries)" : ""; }

// hf_raise_for_status with messages that say which repository, revision or file, and what to do.
void raise_for_status(const HubSettings& settings, const Response& r, const std::string& url, const RepoRef& ref,
                      const std::string& file, int tries) {
    const std::string repo = repo_type_name(ref.type) + " repository '" + ref.repo_id + "'";
    if (r.code != CURLE_OK)
        throw HubError(HubError::Kind::Network, 0,
                       "cannot reach the Hub at " + settings.endpoint + " for " + repo + ": " + r.curl_error + tries_text(tries) +
                           "; check the connection (or HF_ENDPOINT), or set HF_HUB_OFFLINE=1 to use the cache only");
    if (r.status < 400) return;
    const int status = static_cast<int>(r.status);
    const std::string code = r.header("x-error-code");
    const std::string server_says = server_message(r, r.body);
    const std::string detail = " (HTTP " + std::to_string(status) + (server_says.empty() ? "" : ": " + server_says) + ")";
    const std::string token_hint =
        settings.token.empty()
            ? "a private or gated repository needs a token: set HF_TOKEN, or save one in " + settings.token_path
            : "the token from " + settings.token_source + " was sent and does not give access to it";
    if (code == "RevisionNotFound")
        throw HubError(HubError::Kind::RevisionNotFound, status, "revision '" + ref.revision + "' not found in " + repo + detail);
    if (code == "EntryNotFound" || (status == 404 && !file.empty() && code.empty()))
        throw HubError(HubError::Kind::EntryNotFound, status,
                       "file '" + file + "' not found in " + repo + " at revision '" + ref.revision + "'" + detail);
    if (code == "GatedRepo")
        throw HubError(HubError::Kind::Unauthorized, status,
                       repo + " is gated" + detail + ": accept its conditions on " + settings.endpoint + "/" +
                           (ref.type == RepoType::Dataset ? "datasets/" : "") + ref.repo_id + ", then " +
                           (settings.token.empty() ? "set HF_TOKEN to a token of that account" : token_hint));
    if (code == "RepoNotFound" || status == 401 || status == 404)
        throw HubError(status == 401 ? HubError::Kind::Unauthorized : HubError::Kind::RepoNotFound, status,
                       repo + " not found at " + settings.endpoint + detail + ": check the id (and --revision); " + token_hint);
    if (status == 403)
        throw HubError(HubError::Kind::Unauthorized, status, "access to " + repo + " is forbidden" + detail + ": " + token_hint);
    if (status >= 500 || status == 429 || status == 408)
        throw HubError(HubError::Kind::Server, status,
                       "the Hub at " + settings.endpoint + " failed for " + url + detail + tries_text(tries) + "; try again later");
    throw HubError(HubError::Kind::Protocol, status, "unexpected answer from " + url + detail);
}

std::vector<std::string> auth_headers(const HubSettings& settings, const std::string& url) {
    std::vector<std::string> headers;
    // The token goes to the Hub only, never to the CDN a download is redirected to.
    if (!settings.token.empty() && origin_of(url) == origin_of(settings.endpoint))
        headers.push_back("Authorization: Bearer " + settings.token);
    return headers;
}

// Holds huggingface_hub's per-blob lock (.locks/<repo>/<etag>.lock, flock) so two processes, Python's
// included, do not download the same blob at once.
class BlobLock {
public:
    BlobLock(const std::string& path, const std::atomic<bool>* cancel) {
        make_directories(fs::path(path).parent_path().string());
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) return;  // a read-only .locks folder: go on without the lock, like WeakFileLock
        while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            if (cancel && cancel->load()) {
                ::close(fd_);
                throw Cancelled();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    ~BlobLock() {
        if (fd_ >= 0) {
            ::flock(fd_, LOCK_UN);
            ::close(fd_);
        }
    }
    BlobLock(const BlobLock&) = delete;
    BlobLock& operator=(const BlobLock&) = delete;

private:
    int fd_ = -1;
};

// Counts bytes for the progress callback and calls it at most ten times a second (and at each file's end).
class ProgressMeter {
public:
    ProgressMeter(const ProgressCallback& callback) : callback_(callback) {}
    DownloadProgress state;
    int64_t transferred = 0;  // by this run

    void emit(bool force) {
        if (!callback_) return;
        const auto now = Clock::now();
        if (!force && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        const double seconds = std::chrono::duration<double>(now - start_).count();
        state.bytes_per_second = seconds > 0.05 ? static_cast<double>(transferred) / seconds : 0.0;
        state.eta_seconds = state.bytes_per_second > 0
                                ? static_cast<double>(std::max<int64_t>(0, state.bytes_total - state.bytes_done)) / state.bytes_per_second
                                : -1.0;
        callback_(state);
    }

private:
    const ProgressCallback& callback_;
    Clock::time_point start_ = Clock::now();
    Clock::time_point last_{};
};

// GETs `url` into `incomplete`, appending to what is already there (Range), until it holds `size` bytes.
void fetch_into(const HubSettings& settings, const std::string& url, const std::string& incomplete, int64_t size,
                const RepoRef& ref, const std::string& file, ProgressMeter& meter, const std::atomic<bool>* cancel) {
    int failures = 0;
    const int64_t done_before_file = meter.state.bytes_done;
    while (true) {
        int64_t have = file_size_or_zero(incomplete);
        if (have > size) {
            ::truncate(incomplete.c_str(), 0);
            have = 0;
        }
        meter.state.bytes_done = done_before_file + have;
        if (have == size) return;
        const int fd = ::open(incomplete.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) throw FileError(incomplete, std::string("cannot open for writing: ") + std::strerror(errno));
        Request request;
        request.url = url;
        request.headers = auth_headers(settings, url);
        if (have > 0) request.headers.push_back("Range: bytes=" + std::to_string(have) + "-");
        request.follow_redirects = true;
        request.cancel = cancel;
        int64_t on_disk = have;
        bool first = true;
        std::string write_error;
        std::string range_error;
        request.sink = [&](const char* data, size_t n, const ResponseHeaders& response) {
            if (first) {
                first = false;
                if (have > 0 && response.status == 206 && content_range_start(response) != have) {
                    // Bytes from elsewhere in the file would be appended at `have`.
                    range_error = "the server resumed '" + file + "' with Content-Range '" + response.header("content-range") +
                                  "' where byte " + std::to_string(have) + " was asked for";
                    return false;
                }
                if (have > 0 && response.status != 206) {  // the server ignored the Range: start over (http_get does too)
                    if (::ftruncate(fd, 0) != 0) {
                        write_error = std::strerror(errno);
                        return false;
                    }
                    on_disk = 0;
                }
            }
            for (size_t off = 0; off < n;) {
                const ssize_t w = ::write(fd, data + off, n - off);
                if (w < 0) {
                    if (errno == EINTR) continue;
                    write_error = std::strerror(errno);
                    return false;
                }
                off += static_cast<size_t>(w);
            }
            on_disk += static_cast<int64_t>(n);
            meter.transferred += static_cast<int64_t>(n);
            meter.state.bytes_done = done_before_file + on_disk;
            meter.emit(false);
            return true;
        };
        Response r;
        try {
            r = perform(settings, request);
        } catch (...) {
            ::close(fd);
            throw;
        }
        const bool synced = ::fsync(fd) == 0;
        ::close(fd);
        if (!write_error.empty()) throw FileError(incomplete, "write failed: " + write_error);
        if (!range_error.empty()) throw HubError(HubError::Kind::Protocol, static_cast<int>(r.status), range_error + " (" + url + ")");
        if (r.code == CURLE_OK && (r.status == 200 || r.status == 206)) {
            if (!synced) throw FileError(incomplete, std::string("fsync failed: ") + std::strerror(errno));
            if (file_size_or_zero(incomplete) >= size) return;  // a longer file fails the size check after this
        }
        if (r.code == CURLE_OK && r.status == 416) {  // our Range is past what the server has: start over
            ::truncate(incomplete.c_str(), 0);
            if (++failures > settings.max_retries) raise_for_status(settings, r, url, ref, file, failures);
            continue;
        }
        const bool progressed = file_size_or_zero(incomplete) > have;
        const bool short_body = r.code == CURLE_OK && (r.status == 200 || r.status == 206);
        if (!is_transient(r) && !short_body) raise_for_status(settings, r, url, ref, file, failures + 1);
        // Bytes arrived: the connection works, so the retry budget starts again (as http_get's _nb_retries).
        failures = progressed ? 0 : failures + 1;
        if (failures > settings.max_retries) {
            if (short_body)
                throw HubError(HubError::Kind::Network, 0, "the download of '" + file + "' from " + url + " keeps ending early");
            raise_for_status(settings, r, url, ref, file, failures);
        }
        backoff(settings, std::max(0, failures - 1), r, cancel);
    }
}

}  // namespace

HubClient::HubClient(HubSettings settings) : settings_(std::move(settings)) {}

std::string HubClient::api_url(const RepoRef& ref) const {
    return settings_.endpoint + "/api/" + repo_type_name(ref.type) + "s/" + ref.repo_id + "/revision/" + url_quote(ref.revision, false);
}

std::string HubClient::file_url(const RepoRef& ref, const std::string& file) const {
    return settings_.endpoint + "/" + (ref.type == RepoType::Dataset ? "datasets/" : "") + ref.repo_id + "/resolve/" +
           url_quote(ref.revision, false) + "/" + url_quote(file, true);
}

RepoInfo HubClient::repo_info(const RepoRef& ref, const std::atomic<bool>* cancel) const {
    if (settings_.offline)
        throw HubError(HubError::Kind::Offline, 0, "HF_HUB_OFFLINE=1: not asking the Hub about " + describe(ref));
    Request request;
    request.url = api_url(ref);
    request.headers = auth_headers(settings_, request.url);
    request.follow_redirects = true;
    request.cancel = cancel;
    int tries = 0;
    const Response r = with_retries(settings_, request, tries);
    raise_for_status(settings_, r, request.url, ref, "", tries);
    return parse_repo_info(r.body, request.url, static_cast<int>(r.status));
}

FileMetadata HubClient::file_metadata(const RepoRef& ref, const std::string& file, const std::atomic<bool>* cancel) const {
    if (settings_.offline)
        throw HubError(HubError::Kind::Offline, 0, "HF_HUB_OFFLINE=1: not asking the Hub about " + file + " of " + describe(ref));
    std::string url = file_url(ref, file);
    Response r;
    int tries = 0;
    // Relative redirects (a renamed repository) are followed; an absolute one is the CDN that serves the bytes.
    for (int hop = 0; hop < 10; ++hop) {
        Request request;
        request.head = true;
        request.url = url;
        request.headers = auth_headers(settings_, url);
        request.headers.push_back("Accept-Encoding: identity");  // the real size, not a compressed one
        request.cancel = cancel;
        r = with_retries(settings_, request, tries);
        const std::string location = r.header("location");
        if (r.code == CURLE_OK && r.is_redirect() && !location.empty() && location[0] == '/') {
            url = origin_of(url) + location;
            continue;
        }
        break;
    }
    raise_for_status(settings_, r, url, ref, file, tries);
    return parse_file_metadata(r, url);
}

namespace {
std::vector<std::string> list_snapshot(const std::string& folder) {
    std::vector<std::string> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (!fs::is_directory(it->path())) files.push_back(fs::relative(it->path(), folder).string());
    std::sort(files.begin(), files.end());
    return files;
}

// The snapshot of `ref` from the cache alone; `why` ends the error when it is missing, `note` says why the cache
// answered when it is there.
DownloadResult snapshot_from_cache(const HubCache& cache, const RepoRef& ref, FileSelection selection, const std::string& why,
                                   const std::string& note) {
    const auto commit = cache.cached_commit(ref);
    const std::string where = " in the Hugging Face cache at " + cache.root();
    if (!commit) {
        std::string missing;
        if (!is_directory(cache.repo_folder(ref.repo_id, ref.type)))
            missing = describe(ref) + " is not" + where;
        else if (is_commit_hash(ref.revision))
            missing = "commit " + ref.revision + " of " + describe(ref) + " is not" + where + " (no snapshots/" + ref.revision + ")";
        else
            missing = "revision '" + ref.revision + "' of " + describe(ref) + " is not" + where + " (no refs/" + ref.revision + " with its snapshot)";
        throw HubError(HubError::Kind::Offline, 0, missing + "; " + why);
    }
    DownloadResult result;
    result.ref = ref;
    result.commit = *commit;
    result.snapshot_folder = cache.snapshot_folder(ref, *commit);
    result.files = list_snapshot(result.snapshot_folder);
    result.from_cache_only = true;
    result.note = note;
    if (selection == FileSelection::ModelFiles && !cache.has_snapshot_file(ref, *commit, "config.json") &&
        !cache.has_snapshot_file(ref, *commit, "adapter_config.json"))
        throw HubError(HubError::Kind::Offline, 0,
                       "the cached snapshot " + result.snapshot_folder + " of " + describe(ref) + " has no config.json; " + why);
    return result;
}

const char* kOfflineWhy = "HF_HUB_OFFLINE=1 allows the cache only: unset it, or run `sumlab-cli download` where the Hub can be reached";
const char* kOfflineNote = "HF_HUB_OFFLINE=1: taken from the cache without asking the Hub";
}  // namespace

DownloadResult HubClient::cached_snapshot(const RepoRef& ref, FileSelection selection) const {
    return snapshot_from_cache(cache(), ref, selection, kOfflineWhy, kOfflineNote);
}

DownloadResult HubClient::download(const RepoRef& ref, FileSelection selection, const ProgressCallback& progress,
                                   const std::atomic<bool>* cancel) const {
    const HubCache store = cache();
    if (settings_.offline) return cached_snapshot(ref, selection);
    RepoInfo info;
    try {
        // With the snapshot cached, one try: an unreachable Hub falls back to the cache at once, as
        // snapshot_download does, instead of after a minute of backoff.
        HubSettings ask = settings_;
        if (store.cached_commit(ref)) ask.max_retries = 0;
        info = HubClient(ask).repo_info(ref, cancel);
    } catch (const HubError& e) {
        // As snapshot_download: a Hub that cannot be asked (down, unreachable, refusing) leaves the cache to
        // answer; a revision the Hub says does not exist does not.
        if (e.kind() == HubError::Kind::RevisionNotFound || !store.cached_commit(ref)) throw;
        const std::string because = std::string("the cached snapshot is used because ") + e.what();
        return snapshot_from_cache(store, ref, selection, because, because);
    }
    const RepoRef at_commit{ref.repo_id, ref.type, info.commit};
    std::vector<std::string> files = select_files(info.files, selection);
    for (const auto& f : files)
        if (!is_safe_relative_path(f))
            throw HubError(HubError::Kind::Protocol, 0, api_url(ref) + " lists an unsafe file name '" + f + "'");
    if (selection == FileSelection::ModelFiles &&
        std::find(files.begin(), files.end(), "config.json") == files.end() &&
        std::find(files.begin(), files.end(), "adapter_config.json") == files.end())
        throw HubError(HubError::Kind::EntryNotFound, 0,
                       describe(ref) + " at revision '" + ref.revision + "' has no config.json: not a transformers model");
    if (files.empty())
        throw HubError(HubError::Kind::EntryNotFound, 0, describe(ref) + " at revision '" + ref.revision + "' has no files");

    ProgressMeter meter(progress);
    DownloadResult result;
    result.ref = ref;
    result.commit = info.commit;
    result.snapshot_folder = store.snapshot_folder(ref, info.commit);
    std::map<std::string, std::string> etag_of;  // files fetched or found as blobs, to link at the end

    // Brings the files that have no snapshot link yet into blobs/ (metadata of all first, for the totals).
    auto fetch = [&](const std::vector<std::string>& wanted) {
        std::vector<std::pair<std::string, FileMetadata>> pending;
        for (const auto& f : wanted) {
            if (store.has_snapshot_file(at_commit, info.commit, f)) continue;
            FileMetadata m = file_metadata(at_commit, f, cancel);
            meter.state.bytes_total += m.size;
            if (is_file(store.blob_path(at_commit, m.etag))) meter.state.bytes_done += m.size;
            pending.emplace_back(f, std::move(m));
        }
        meter.state.files_total += static_cast<int64_t>(pending.size());
        for (const auto& [f, m] : pending) {
            const std::string blob = store.blob_path(at_commit, m.etag);
            meter.state.file = f;
            meter.emit(true);
            if (!is_file(blob)) {
                make_directories(fs::path(blob).parent_path().string());
                BlobLock lock(store.lock_path(at_commit, m.etag), cancel);
                if (!is_file(blob)) {  // another process may have finished it while we waited
                    const std::string incomplete = blob + ".incomplete";
                    const int64_t before = meter.transferred;
                    fetch_into(settings_, m.location, incomplete, m.size, at_commit, f, meter, cancel);
                    result.bytes_downloaded += meter.transferred - before;
                    const int64_t got = file_size_or_zero(incomplete);
                    if (got != m.size) {
                        ::unlink(incomplete.c_str());
                        throw HubError(HubError::Kind::Integrity, 0,
                                       "'" + f + "' of " + describe(ref) + " arrived with " + std::to_string(got) + " bytes, the Hub says " +
                                           std::to_string(m.size) + "; the partial file was deleted: run the download again");
                    }
                    if (m.is_lfs()) {
                        const std::string sha = sha256_file_hex(incomplete);
                        if (sha != m.etag) {
                            ::unlink(incomplete.c_str());
                            throw HubError(HubError::Kind::Integrity, 0,
                                           "'" + f + "' of " + describe(ref) + " is corrupt: its sha256 is " + sha + ", the Hub says " +
                                               m.etag + "; the download was deleted: run it again");
                        }
                    }
                    if (::rename(incomplete.c_str(), blob.c_str()) != 0)
                        throw FileError(blob, std::string("cannot rename the finished download into place: ") + std::strerror(errno));
                }
            }
            etag_of[f] = m.etag;
            ++meter.state.files_done;
            meter.emit(true);
        }
    };

    fetch(files);
    // A sharded checkpoint: its index names the shards.
    std::vector<std::string> shards;
    for (const auto& f : files) {
        if (!is_weights_index(f)) continue;
        const auto it = etag_of.find(f);
        const std::string path = it != etag_of.end() ? store.blob_path(at_commit, it->second) : result.snapshot_folder + "/" + f;
        for (const auto& s : shards_of_index(read_file(path), f)) {
            if (!is_safe_relative_path(s)) throw HubError(HubError::Kind::Protocol, 0, f + " names an unsafe shard '" + s + "'");
            shards.push_back(s);
        }
    }
    fetch(shards);
    files.insert(files.end(), shards.begin(), shards.end());

    // Links last, refs after the snapshot exists: scan_cache_dir() rejects refs to a missing snapshot.
    for (const auto& [f, etag] : etag_of) store.link_snapshot_file(at_commit, info.commit, f, etag);
    make_directories(result.snapshot_folder);
    store.write_ref(ref, info.commit);
    result.files = files;
    std::sort(result.files.begin(), result.files.end());
    return result;
}

}  // namespace sumlab::hub
