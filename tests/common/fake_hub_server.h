// FakeHub: the Hugging Face Hub in miniature for the tests of engine/hub/ and `sumlab-cli download`.
// Two HTTP/1.1 servers on threads, bound to 127.0.0.1 only (port 0: the kernel picks): the Hub itself
// (/api/{models,datasets}/<repo>/revision/<rev>, [datasets/]<repo>/resolve/<rev>/<file>) and a "CDN" on
// another port that serves LFS files by sha256, as the real Hub redirects to one. Its headers are the Hub's:
// ETag = git blob id (regular files), X-Linked-Etag = sha256 and X-Linked-Size (LFS files, on the 302),
// X-Repo-Commit, X-Error-Code. Faults are switched on per test: drop a connection mid-body, corrupt a file,
// answer 500, serve slowly, demand a token. Every request is recorded.
#pragma once

#include "engine/hub/hub_hash.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace fakehub {

struct Request {
    int port = 0;  // which server got it
    std::string method, path, query;
    std::map<std::string, std::string> headers;  // lowercase names
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

struct Reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool head = false;                       // send the headers (with the body's Content-Length) only
    size_t drop_after = std::string::npos;   // close the connection after this many body bytes
    int slow_chunk_ms = 0;                   // pause between 64 KiB pieces of the body
};

inline std::string status_text(int status) {
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 302: return "Found";
    case 307: return "Temporary Redirect";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 416: return "Range Not Satisfiable";
    case 500: return "Internal Server Error";
    default: return "Status";
    }
}

inline std::string url_decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// One listening socket on 127.0.0.1, one connection at a time, one request per connection.
class HttpServer {
public:
    using Handler = std::function<Reply(const Request&)>;

    explicit HttpServer(Handler handler) : handler_(std::move(handler)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0) {
            ::close(fd_);
            fd_ = -1;
            return;
        }
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    ~HttpServer() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        if (fd_ >= 0) ::close(fd_);
    }
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    int port() const { return port_; }
    bool ok() const { return port_ > 0; }

private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            serve(c);
            ::close(c);
        }
    }

    static bool send_all(int c, const char* data, size_t n) {
        while (n > 0) {
            const ssize_t w = ::send(c, data, n, MSG_NOSIGNAL);
            if (w <= 0) return false;
            data += w;
            n -= static_cast<size_t>(w);
        }
        return true;
    }

    void serve(int c) {
        timeval tv{5, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::string raw;
        char buf[4096];
        while (raw.find("\r\n\r\n") == std::string::npos) {
            const ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) return;
            raw.append(buf, static_cast<size_t>(n));
        }
        Request req;
        req.port = port_;
        const auto line_end = raw.find("\r\n");
        const std::string line = raw.substr(0, line_end);
        const auto sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
        req.method = line.substr(0, sp1);
        std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        const auto q = target.find('?');
        if (q != std::string::npos) {
            req.query = target.substr(q + 1);
            target = target.substr(0, q);
        }
        req.path = target;
        size_t pos = line_end + 2;
        while (true) {
            const auto end = raw.find("\r\n", pos);
            if (end == std::string::npos || end == pos) break;
            const std::string h = raw.substr(pos, end - pos);
            const auto colon = h.find(':');
            if (colon != std::string::npos) {
                std::string name = h.substr(0, colon);
                for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                size_t v = colon + 1;
                while (v < h.size() && h[v] == ' ') ++v;
                req.headers[name] = h.substr(v);
            }
            pos = end + 2;
        }
        Reply reply = handler_(req);
        std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " + status_text(reply.status) + "\r\n";
        for (const auto& [k, v] : reply.headers) head += k + ": " + v + "\r\n";
        head += "Content-Length: " + std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n";
        if (!send_all(c, head.data(), head.size()) || reply.head) return;
        const size_t limit = std::min(reply.drop_after, reply.body.size());
        const size_t piece = reply.slow_chunk_ms > 0 ? 64 * 1024 : limit;
        for (size_t off = 0; off < limit; off += piece) {
            if (!send_all(c, reply.body.data() + off, std::min(piece, limit - off))) return;
            if (reply.slow_chunk_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(reply.slow_chunk_ms));
        }
        if (limit < reply.body.size()) ::shutdown(c, SHUT_RDWR);  // the dropped connection
    }

    Handler handler_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

struct File {
    std::string content;
    bool lfs = false;
};

struct Repo {
    std::string id;
    bool dataset = false;
    std::map<std::string, std::string> refs;                          // branch or tag -> commit
    std::map<std::string, std::map<std::string, File>> commits;       // commit -> path -> file
    bool is_private = false;                                          // 401 without the right token
};

// The git blob id of an LFS pointer file (the ETag the Hub sends beside X-Linked-Etag).
inline std::string lfs_pointer_oid(const File& f) {
    const std::string pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + sumlab::hub::sha256_hex(f.content) +
                                "\nsize " + std::to_string(f.content.size()) + "\n";
    return sumlab::hub::git_blob_sha1_hex(pointer);
}

class FakeHub {
public:
    FakeHub()
        : hub_([this](const Request& r) { return on_hub(r); }), cdn_([this](const Request& r) { return on_cdn(r); }) {}

    bool ok() const { return hub_.ok() && cdn_.ok(); }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(hub_.port()); }
    int hub_port() const { return hub_.port(); }
    int cdn_port() const { return cdn_.port(); }

    void add_repo(Repo repo) {
        std::lock_guard<std::mutex> lock(mutex_);
        const std::string key = (repo.dataset ? "datasets/" : "") + repo.id;
        repos_[key] = std::move(repo);
    }

    // Faults, matched by file path (the path inside the repository).
    void drop_once(const std::string& file, size_t after_bytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        drop_[file] = after_bytes;
    }
    void corrupt(const std::string& file) {
        std::lock_guard<std::mutex> lock(mutex_);
        corrupt_.insert(file);
    }
    void serve_slowly(const std::string& file, int chunk_ms) {
        std::lock_guard<std::mutex> lock(mutex_);
        slow_[file] = chunk_ms;
    }
    void fail_next(int count, int status = 500) {
        std::lock_guard<std::mutex> lock(mutex_);
        fail_count_ = count;
        fail_status_ = status;
    }
    void require_token(const std::string& token) {
        std::lock_guard<std::mutex> lock(mutex_);
        token_ = token;
    }
    std::vector<Request> requests() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_;
    }
    void clear_requests() {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.clear();
    }
    int failures_sent() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return failures_sent_;
    }

private:
    static Reply error(int status, const std::string& code, const std::string& message, const std::string& commit = {}) {
        Reply r;
        r.status = status;
        r.headers = {{"Content-Type", "application/json"}, {"X-Error-Code", code}, {"X-Error-Message", message}};
        if (!commit.empty()) r.headers.push_back({"X-Repo-Commit", commit});
        r.body = "{\"error\":\"" + message + "\"}";
        return r;
    }

    // The file's bytes as served (flipped first byte when corrupted), with Range and the drop fault applied.
    Reply serve_bytes(const Request& req, const std::string& file, const std::string& content, Reply r) {
        std::string body = content;
        if (corrupt_.count(file) && !body.empty()) body[body.size() / 2] = static_cast<char>(body[body.size() / 2] ^ 0x5a);
        const std::string range = req.header("range");
        if (!range.empty() && range.rfind("bytes=", 0) == 0) {
            const size_t from = std::stoull(range.substr(6));
            if (from >= body.size()) return error(416, "", "range not satisfiable");
            r.status = 206;
            r.headers.push_back({"Content-Range", "bytes " + std::to_string(from) + "-" + std::to_string(body.size() - 1) + "/" +
                                                      std::to_string(body.size())});
            body = body.substr(from);
        }
        r.body = std::move(body);
        r.head = req.method == "HEAD";
        if (req.method == "GET") {
            auto d = drop_.find(file);
            if (d != drop_.end()) {
                r.drop_after = d->second;
                drop_.erase(d);
            }
            auto s = slow_.find(file);
            if (s != slow_.end()) r.slow_chunk_ms = s->second;
        }
        return r;
    }

    Reply on_hub(const Request& req) {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(req);
        if (fail_count_ > 0) {
            --fail_count_;
            ++failures_sent_;
            return error(fail_status_, "", "the fake Hub is having a bad day");
        }
        std::string path = req.path;
        bool api = false;
        if (path.rfind("/api/models/", 0) == 0) {
            path = path.substr(12);
            api = true;
        } else if (path.rfind("/api/datasets/", 0) == 0) {
            path = "datasets/" + path.substr(14);
            api = true;
        } else {
            path = path.substr(1);
        }
        // <repo key>/revision/<rev>   or   <repo key>/resolve/<rev>/<file>
        const std::string marker = api ? "/revision/" : "/resolve/";
        const auto m = path.find(marker);
        if (m == std::string::npos) return error(404, "", "no such route " + req.path);
        const std::string key = path.substr(0, m);
        std::string rest = path.substr(m + marker.size());
        auto repo_it = repos_.find(key);
        const bool authorized = repo_it != repos_.end() && (!repo_it->second.is_private || req.header("authorization") == "Bearer " + token_);
        if (repo_it == repos_.end() || !authorized)
            return error(req.header("authorization").empty() ? 401 : 404, "RepoNotFound", "Repository not found");
        const Repo& repo = repo_it->second;
        std::string revision, file;
        if (api) {
            revision = url_decode(rest);
        } else {
            const auto slash = rest.find('/');
            revision = url_decode(rest.substr(0, slash));
            file = slash == std::string::npos ? "" : url_decode(rest.substr(slash + 1));
        }
        std::string commit = revision;
        if (!repo.commits.count(commit)) {
            auto ref = repo.refs.find(revision);
            if (ref == repo.refs.end()) return error(404, "RevisionNotFound", "Invalid rev id: " + revision);
            commit = ref->second;
        }
        const auto& files = repo.commits.at(commit);
        if (api) {
            Reply r;
            r.headers = {{"Content-Type", "application/json"}};
            std::string siblings;
            for (const auto& [name, f] : files) siblings += std::string(siblings.empty() ? "" : ",") + "{\"rfilename\":\"" + name + "\"}";
            r.body = "{\"_id\":\"fake\",\"id\":\"" + repo.id + "\",\"sha\":\"" + commit + "\",\"siblings\":[" + siblings + "]}";
            return r;
        }
        auto f = files.find(file);
        if (f == files.end()) return error(404, "EntryNotFound", file + " does not exist on \"" + revision + "\"", commit);
        Reply r;
        r.headers.push_back({"X-Repo-Commit", commit});
        if (f->second.lfs) {
            const std::string sha = sumlab::hub::sha256_hex(f->second.content);
            r.status = 302;
            r.headers.push_back({"ETag", "\"" + lfs_pointer_oid(f->second) + "\""});
            r.headers.push_back({"X-Linked-Etag", "\"" + sha + "\""});
            r.headers.push_back({"X-Linked-Size", std::to_string(f->second.content.size())});
            r.headers.push_back({"Location", "http://127.0.0.1:" + std::to_string(cdn_.port()) + "/cdn/" + sha + "?name=" + file +
                                                 "&signature=fake"});
            r.body = "Found. Redirecting";
            r.head = req.method == "HEAD";
            return r;
        }
        r.headers.push_back({"ETag", "\"" + sumlab::hub::git_blob_sha1_hex(f->second.content) + "\""});
        return serve_bytes(req, file, f->second.content, r);
    }

    Reply on_cdn(const Request& req) {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(req);
        if (req.path.rfind("/cdn/", 0) != 0) return error(404, "", "no such object");
        const std::string sha = req.path.substr(5);
        for (const auto& [key, repo] : repos_)
            for (const auto& [commit, files] : repo.commits)
                for (const auto& [name, f] : files)
                    if (f.lfs && sumlab::hub::sha256_hex(f.content) == sha) return serve_bytes(req, name, f.content, Reply{});
        return error(404, "", "no such object");
    }

    mutable std::mutex mutex_;
    std::map<std::string, Repo> repos_;
    std::map<std::string, size_t> drop_;
    std::set<std::string> corrupt_;
    std::map<std::string, int> slow_;
    int fail_count_ = 0;
    int fail_status_ = 500;
    int failures_sent_ = 0;
    std::string token_;
    std::vector<Request> requests_;
    HttpServer hub_;  // last: they stop (join their threads) before the state above goes
    HttpServer cdn_;
};

}  // namespace fakehub
