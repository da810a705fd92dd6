#include "engine/hub/hub_settings.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

namespace sumlab::hub {

namespace {
std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// os.path.expanduser for a leading "~".
std::string expand_user(const std::string& path) {
    if (path.empty() || path[0] != '~' || (path.size() > 1 && path[1] != '/')) return path;
    return env("HOME") + path.substr(1);
}

std::string trim(std::string s) {
    auto not_space = [](unsigned char c) { return std::isspace(c) == 0; };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
}
}  // namespace

bool env_flag_is_true(const char* value) {
    if (value == nullptr) return false;
    std::string v(value);
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

HubSettings HubSettings::from_environment() {
    HubSettings s;
    std::string endpoint = env("HF_ENDPOINT");
    if (!endpoint.empty()) {
        while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
        s.endpoint = endpoint;
    }
    const std::string xdg = env("XDG_CACHE_HOME");
    std::string hf_home = env("HF_HOME");
    if (hf_home.empty()) hf_home = (xdg.empty() ? expand_user("~/.cache") : xdg) + "/huggingface";
    hf_home = expand_user(hf_home);
    // HF_HUB_CACHE, then the legacy HUGGINGFACE_HUB_CACHE, then $HF_HOME/hub.
    std::string cache = env("HF_HUB_CACHE");
    if (cache.empty()) cache = env("HUGGINGFACE_HUB_CACHE");
    s.cache_dir = expand_user(cache.empty() ? hf_home + "/hub" : cache);

    std::string token_path = env("HF_TOKEN_PATH");
    s.token_path = expand_user(token_path.empty() ? hf_home + "/token" : token_path);
    // huggingface_hub's get_token: HF_TOKEN (or the legacy HUGGING_FACE_HUB_TOKEN), then the token file.
    for (const char* name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
        std::string t = trim(env(name));
        if (!t.empty()) {
            s.token = t;
            s.token_source = name;
            break;
        }
    }
    if (s.token.empty()) {
        std::ifstream in(s.token_path);
        std::string line;
        if (in && std::getline(in, line) && !trim(line).empty()) {
            s.token = trim(line);
            s.token_source = s.token_path;
        }
    }
    const char* offline = std::getenv("HF_HUB_OFFLINE");
    if (offline == nullptr || *offline == '\0') offline = std::getenv("TRANSFORMERS_OFFLINE");
    s.offline = env_flag_is_true(offline);
    return s;
}

}  // namespace sumlab::hub
