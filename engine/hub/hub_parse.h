// What SumLab reads from the Hub's answers, as pure functions of the bytes: the repository JSON of
// GET /api/{models|datasets}/{repo}/revision/{rev}, and the headers of a file's HEAD (X-Repo-Commit,
// ETag / X-Linked-Etag, Content-Length / X-Linked-Size, Location), a 429's Retry-After, a 206's
// Content-Range and the X-Error-* headers of a refusal. hub_client.cpp feeds them what libcurl
// delivers; fuzz/fuzz_hub_responses.cpp feeds them arbitrary bytes. Whatever the server sends, each
// either returns a checked value or throws HubError (Kind::Protocol) naming the URL: nothing else.
#pragma once

#include "engine/hub/hub_types.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sumlab::hub {

struct RepoInfo {
    std::string commit;              // the "sha" the revision resolves to
    std::vector<std::string> files;  // "siblings" rfilename
};

struct FileMetadata {
    std::string commit;    // X-Repo-Commit
    std::string etag;      // X-Linked-Etag or ETag, quotes and W/ removed: the blob's name
    std::string location;  // where to GET it (a CDN for LFS files)
    int64_t size = 0;      // X-Linked-Size or Content-Length
    bool is_lfs() const;   // the etag is a sha256
};

// The largest file size believed (1 TiB; the Hub stores files of up to 50 GB): sums of many sizes
// stay far from int64's end.
constexpr int64_t kMaxHubFileSize = int64_t{1} << 40;

// The headers of one HTTP response, filled line by line as libcurl hands them over. A status line
// ("HTTP/1.1 302 Found", "HTTP/2 200") starts a new response, so after a redirect chain only the last
// response's headers remain.
struct ResponseHeaders {
    long status = 0;                             // 0 until a status line with a 3-digit code came
    std::map<std::string, std::string> headers;  // lowercase names; a repeated name keeps its last value

    void add_line(std::string_view line);        // one line, with or without its CRLF
    std::string header(const std::string& lowercase_name) const;  // "" when absent
    bool is_redirect() const { return status >= 300 && status < 400; }
};

// The repository JSON: {"sha": "<40 hex>", "siblings": [{"rfilename": "..."}, ...]} ("siblings" may be
// absent). `url` and `http_status` go into the error.
RepoInfo parse_repo_info(const std::string& body, const std::string& url, int http_status);

// A file's metadata from the headers of the HEAD of `url` (the last URL asked: relative Locations are
// resolved against it). Needs X-Repo-Commit, an ETag usable as a file name and a decimal size up to
// kMaxHubFileSize.
FileMetadata parse_file_metadata(const ResponseHeaders& response, const std::string& url);

// A 429's Retry-After in delay-seconds, as milliseconds capped at `cap_ms`; nullopt when absent or
// not delay-seconds (an HTTP date is ignored, as the backoff then decides).
std::optional<int64_t> retry_after_ms(const ResponseHeaders& response, int64_t cap_ms);

// The first byte of a 206's "Content-Range: bytes FIRST-LAST/TOTAL" (TOTAL may be *); nullopt when the
// header is absent or malformed.
std::optional<int64_t> content_range_start(const ResponseHeaders& response);

// What the server says about a refusal, for messages: X-Error-Message, else a short body that is not
// HTML; control characters replaced, at most 300 characters. "" when there is nothing to say.
std::string server_message(const ResponseHeaders& response, const std::string& body);

// huggingface_hub's _normalize_etag: W/"x" and "x" both give x.
std::string normalize_etag(std::string etag);
// "http://host:port" of a URL, lowercased ("" without "://"): decides whether the token may be sent.
std::string origin_of(const std::string& url);

}  // namespace sumlab::hub
