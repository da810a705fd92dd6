// Names shared by the Hub client and its cache: repository types, "org/name@revision" references, the
// cache's folder names, and HubError, the one error type of engine/hub/ (a sumlab::Error, so the CLI and
// the GUI worker catch it like every other engine error). Mirrors huggingface_hub's constants.py.
#pragma once

#include "base/errors.h"

#include <string>

namespace sumlab::hub {

enum class RepoType { Model, Dataset };

std::string repo_type_name(RepoType type);  // "model" / "dataset", as huggingface_hub's repo_type
// Parses "model" or "dataset"; throws ConfigError naming `option` otherwise.
RepoType parse_repo_type(const std::string& text, const std::string& option = "--repo-type");

// A repository at one revision (branch, tag or 40-hex commit hash; huggingface_hub's DEFAULT_REVISION is "main").
struct RepoRef {
    std::string repo_id;
    RepoType type = RepoType::Model;
    std::string revision = "main";
};

// "org/name" or "org/name@revision" (also "name" alone, as legacy ids like "t5-small"); throws ConfigError
// when the id is not one the Hub accepts (huggingface_hub's validate_repo_id).
RepoRef parse_repo_ref(const std::string& text, RepoType type);
bool is_valid_repo_id(const std::string& repo_id);
// True for a full commit hash (huggingface_hub's REGEX_COMMIT_HASH: ^[0-9a-f]{40}$).
bool is_commit_hash(const std::string& revision);
// A path inside a repository that is safe to join below a snapshot folder (no "..", not absolute).
bool is_safe_relative_path(const std::string& path);

// "models--org--name" / "datasets--org--name" (huggingface_hub's repo_folder_name).
std::string repo_folder_name(const std::string& repo_id, RepoType type);
// "google/flan-t5-small (model)" for messages.
std::string describe(const RepoRef& ref);

class HubError : public Error {
public:
    enum class Kind {
        RepoNotFound,      // 404, or 401 without a valid token (the Hub hides private repositories)
        RevisionNotFound,  // the branch, tag or commit does not exist
        EntryNotFound,     // the file does not exist at that revision
        Unauthorized,      // 401 / 403: private or gated, token missing or refused
        Server,            // 5xx or 429 after the retries
        Network,           // no connection, timeout, TLS failure (after the retries)
        Offline,           // HF_HUB_OFFLINE=1 and the cache lacks what was asked for
        Integrity,         // size or sha256 of a download does not match the Hub's metadata
        Protocol,          // the server did not answer like the Hub (missing X-Repo-Commit, ETag, size)
    };
    HubError(Kind kind, int http_status, const std::string& message)
        : Error(message), kind_(kind), http_status_(http_status) {}
    Kind kind() const { return kind_; }
    int http_status() const { return http_status_; }  // 0 when no HTTP answer came

private:
    Kind kind_;
    int http_status_;
};

}  // namespace sumlab::hub
