#include "engine/hub/hub_types.h"

#include <cctype>

namespace sumlab::hub {

std::string repo_type_name(RepoType type) { return type == RepoType::Dataset ? "dataset" : "model"; }

RepoType parse_repo_type(const std::string& text, const std::string& option) {
    if (text == "model") return RepoType::Model;
    if (text == "dataset") return RepoType::Dataset;
    throw ConfigError(option, "", "'" + text + "' is not a repository type: use model or dataset");
}

namespace {
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// One part of a repo id: [\w\-.]+ starting and ending with a word character (the \b of validate_repo_id).
bool is_valid_part(const std::string& part) {
    if (part.empty() || !is_word_char(part.front()) || !is_word_char(part.back())) return false;
    for (char c : part)
        if (!is_word_char(c) && c != '-' && c != '.') return false;
    return true;
}
}  // namespace

bool is_valid_repo_id(const std::string& repo_id) {
    // validate_repo_id: "--" and ".." are forbidden, the name has 96 characters at most, no ".git" ending.
    if (repo_id.find("--") != std::string::npos || repo_id.find("..") != std::string::npos) return false;
    if (repo_id.size() >= 4 && repo_id.compare(repo_id.size() - 4, 4, ".git") == 0) return false;
    const auto slash = repo_id.find('/');
    const std::string name = slash == std::string::npos ? repo_id : repo_id.substr(slash + 1);
    if (name.size() > 96 || !is_valid_part(name)) return false;
    if (slash == std::string::npos) return true;
    return name.find('/') == std::string::npos && is_valid_part(repo_id.substr(0, slash));
}

bool is_commit_hash(const std::string& revision) {
    if (revision.size() != 40) return false;
    for (char c : revision)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

bool is_safe_relative_path(const std::string& path) {
    if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos || path.find('\0') != std::string::npos)
        return false;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const std::string part = path.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") return false;
        start = end + 1;
    }
    return true;
}

RepoRef parse_repo_ref(const std::string& text, RepoType type) {
    RepoRef ref;
    ref.type = type;
    const auto at = text.find('@');
    ref.repo_id = text.substr(0, at);
    if (at != std::string::npos) {
        ref.revision = text.substr(at + 1);
        if (ref.revision.empty()) throw ConfigError(text, "", "the revision after '@' is empty (use org/name@main or a commit hash)");
        if (!is_safe_relative_path(ref.revision))
            throw ConfigError(text, "", "'" + ref.revision + "' is not a usable revision name");
    }
    if (!is_valid_repo_id(ref.repo_id))
        throw ConfigError(text, "", "'" + ref.repo_id + "' is not a Hugging Face Hub repository id (expected org/name, "
                                    "letters, digits, '-', '_' and '.', without '--' or '..')");
    return ref;
}

std::string repo_folder_name(const std::string& repo_id, RepoType type) {
    std::string name = repo_type_name(type) + "s";
    size_t start = 0;
    while (true) {
        const auto slash = repo_id.find('/', start);
        name += "--" + repo_id.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return name;
}

std::string describe(const RepoRef& ref) { return ref.repo_id + " (" + repo_type_name(ref.type) + ")"; }

}  // namespace sumlab::hub
