#include "engine/hub/hub_resolve.h"

#include "base/file_util.h"

#include <sys/stat.h>

namespace sumlab::hub {

namespace {
bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}
}  // namespace

bool looks_like_hub_id(const std::string& text) {
    if (text.empty() || exists(text)) return false;
    const char first = text.front();
    if (first == '.' || first == '/' || first == '~') return false;
    const std::string id = text.substr(0, text.find('@'));
    return id.find('/') != std::string::npos && is_valid_repo_id(id);
}

std::string resolve_model_or_dataset(const HubClient& client, const std::string& text, RepoType type,
                                     const ProgressCallback& progress, const std::atomic<bool>* cancel) {
    if (exists(text)) return text;
    if (!looks_like_hub_id(text))
        throw ConfigError(text, "", "no such file or folder (nor a Hugging Face Hub id like org/name or org/name@revision)");
    const RepoRef ref = parse_repo_ref(text, type);
    const FileSelection selection = type == RepoType::Model ? FileSelection::ModelFiles : FileSelection::AllFiles;
    try {
        return client.download(ref, selection, progress, cancel).snapshot_folder;
    } catch (const HubError& e) {
        if (e.kind() != HubError::Kind::RepoNotFound && e.kind() != HubError::Kind::Unauthorized &&
            e.kind() != HubError::Kind::Offline)
            throw;
        // A mistyped local path reads as a Hub id too: say both.
        throw HubError(e.kind(), e.http_status(), "'" + text + "' is not a local folder, and on the Hub: " + e.what());
    }
}

std::string resolve_model_or_dataset(const std::string& text, RepoType type, const ProgressCallback& progress,
                                     const std::atomic<bool>* cancel) {
    if (exists(text)) return text;
    return resolve_model_or_dataset(HubClient(HubSettings::from_environment()), text, type, progress, cancel);
}

}  // namespace sumlab::hub
