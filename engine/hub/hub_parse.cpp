#include "engine/hub/hub_parse.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace sumlab::hub {

namespace {

bool is_hex(const std::string& s, size_t length) {
    return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The decimal digits of `text` from `pos` on (`pos` is moved past them) as a number, or `limit` + 1
// for anything larger, however many digits; nullopt when there is no digit. `limit` < INT64_MAX.
std::optional<int64_t> read_decimal(std::string_view text, size_t& pos, int64_t limit) {
    if (pos >= text.size() || !is_digit(text[pos])) return std::nullopt;
    int64_t value = 0;
    for (; pos < text.size() && is_digit(text[pos]); ++pos) {
        const int digit = text[pos] - '0';
        if (value > limit) continue;
        value = value > (limit - digit) / 10 ? limit + 1 : value * 10 + digit;
    }
    return value;
}

// A value from the server shown in a message: control characters replaced, long ones cut.
std::string shown(const std::string& value, size_t max_chars = 120) {
    std::string out;
    for (size_t i = 0; i < value.size() && i < max_chars; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
    }
    if (value.size() > max_chars) out += "...";
    return out;
}

HubError protocol_error(int http_status, const std::string& message) {
    return HubError(HubError::Kind::Protocol, http_status, message);
}

}  // namespace

bool FileMetadata::is_lfs() const { return is_hex(etag, 64); }

void ResponseHeaders::add_line(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    if (line.rfind("HTTP/", 0) == 0) {  // each response of a redirect chain starts over
        headers.clear();
        status = 0;
        size_t pos = line.find(' ');
        if (pos == std::string_view::npos) return;
        while (pos < line.size() && line[pos] == ' ') ++pos;
        const size_t start = pos;
        const auto code = read_decimal(line, pos, 999);
        if (code && *code >= 100 && pos - start == 3 && (pos == line.size() || line[pos] == ' ')) status = static_cast<long>(*code);
        return;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    size_t start = colon + 1;
    while (start < line.size() && (line[start] == ' ' || line[start] == '\t')) ++start;
    headers[name] = std::string(line.substr(start));
}

std::string ResponseHeaders::header(const std::string& lowercase_name) const {
    auto it = headers.find(lowercase_name);
    return it == headers.end() ? std::string() : it->second;
}

std::string normalize_etag(std::string etag) {
    if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
    etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
    return etag;
}

std::string origin_of(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return {};
    const auto path = url.find('/', scheme + 3);
    std::string origin = url.substr(0, path);
    std::transform(origin.begin(), origin.end(), origin.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return origin;
}

RepoInfo parse_repo_info(const std::string& body, const std::string& url, int http_status) {
    const std::string what = url + " did not answer the Hub's repository JSON (\"sha\", \"siblings\"): ";
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception& e) {
        throw protocol_error(http_status, what + e.what());
    }
    if (!j.is_object()) throw protocol_error(http_status, what + "not a JSON object");
    const auto sha = j.find("sha");
    if (sha == j.end() || !sha->is_string()) throw protocol_error(http_status, what + "no \"sha\" string");
    RepoInfo info;
    info.commit = sha->get<std::string>();
    if (!is_commit_hash(info.commit))
        throw protocol_error(http_status, url + " gave '" + shown(info.commit) + "' as the commit");
    const auto siblings = j.find("siblings");
    if (siblings == j.end() || siblings->is_null()) return info;
    if (!siblings->is_array()) throw protocol_error(http_status, what + "\"siblings\" is not a list");
    for (size_t i = 0; i < siblings->size(); ++i) {
        const auto& sibling = (*siblings)[i];
        const auto name = sibling.is_object() ? sibling.find("rfilename") : sibling.end();
        if (!sibling.is_object() || name == sibling.end() || !name->is_string())
            throw protocol_error(http_status, what + "siblings[" + std::to_string(i) + "] has no \"rfilename\" string");
        info.files.push_back(name->get<std::string>());
    }
    return info;
}

FileMetadata parse_file_metadata(const ResponseHeaders& r, const std::string& url) {
    const int status = static_cast<int>(r.status);
    const std::string where = " for " + url;
    FileMetadata m;
    m.commit = r.header("x-repo-commit");
    if (m.commit.empty())
        throw protocol_error(status, "no X-Repo-Commit header" + where + ": " + origin_of(url) +
                                         " does not answer like the Hugging Face Hub (check HF_ENDPOINT and proxies)");
    const std::string linked = r.header("x-linked-etag");
    m.etag = normalize_etag(linked.empty() ? r.header("etag") : linked);
    // The etag names the blob file (and its .incomplete and .lock): one visible-ASCII file name.
    const bool usable_etag = !m.etag.empty() && m.etag.size() <= 200 && is_safe_relative_path(m.etag) &&
                             std::all_of(m.etag.begin(), m.etag.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '/'; });
    if (!usable_etag) throw protocol_error(status, "no usable ETag" + where);

    const std::string location = r.header("location");
    if (location.empty()) {
        m.location = url;
    } else {
        const bool clean = std::none_of(location.begin(), location.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
        if (clean && location[0] == '/' && location.rfind("//", 0) != 0 && !origin_of(url).empty())
            m.location = origin_of(url) + location;
        else if (clean && (location.rfind("https://", 0) == 0 || location.rfind("http://", 0) == 0))
            m.location = location;
        else
            throw protocol_error(status, "unusable redirect Location '" + shown(location) + "'" + where);
    }

    std::string size = r.header("x-linked-size");
    if (size.empty() && !r.is_redirect()) size = r.header("content-length");
    size_t pos = 0;
    const auto value = read_decimal(size, pos, kMaxHubFileSize);
    if (!value || pos != size.size())
        throw protocol_error(status, "no file size (Content-Length or X-Linked-Size)" + where);
    if (*value > kMaxHubFileSize)
        throw protocol_error(status, "the file size " + shown(size) + where + " is beyond any file the Hub stores (1 TiB)");
    m.size = *value;
    return m;
}

std::optional<int64_t> retry_after_ms(const ResponseHeaders& r, int64_t cap_ms) {
    const std::string text = r.header("retry-after");
    size_t pos = 0;
    const auto seconds = read_decimal(text, pos, cap_ms / 1000 + 1);
    if (!seconds) return std::nullopt;
    return std::min(cap_ms, *seconds * 1000);
}

std::optional<int64_t> content_range_start(const ResponseHeaders& r) {
    const std::string text = r.header("content-range");
    if (text.rfind("bytes ", 0) != 0) return std::nullopt;
    constexpr int64_t limit = int64_t{1} << 62;
    size_t pos = 6;
    const auto first = read_decimal(text, pos, limit);
    if (!first || pos >= text.size() || text[pos] != '-') return std::nullopt;
    ++pos;
    const auto last = read_decimal(text, pos, limit);
    if (!last || *last < *first || pos >= text.size() || text[pos] != '/') return std::nullopt;
    ++pos;
    if (pos + 1 == text.size() && text[pos] == '*') return first;
    const auto total = read_decimal(text, pos, limit);
    if (!total || pos != text.size() || *total <= *last) return std::nullopt;
    return first;
}

std::string server_message(const ResponseHeaders& r, const std::string& body) {
    std::string says = r.header("x-error-message");
    if (says.empty() && body.size() < 300 && body.find('<') == std::string::npos) says = body;
    return shown(says, 300);
}

}  // namespace sumlab::hub
