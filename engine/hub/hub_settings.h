// Where the Hub is and where its cache lives, read from the environment as huggingface_hub's constants.py
// reads it: HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE, HF_TOKEN / HF_TOKEN_PATH / $HF_HOME/token.
// The token is never printed or logged: messages name only where it came from (token_source).
#pragma once

#include <cstdint>
#include <string>

namespace sumlab::hub {

struct HubSettings {
    std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT, trailing '/' removed
    std::string cache_dir;                            // HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub
    std::string token_path;                           // HF_TOKEN_PATH, else $HF_HOME/token
    std::string token;                                // HF_TOKEN, else the token file's first line; empty = anonymous
    std::string token_source;                         // "HF_TOKEN" or the token file path (for messages)
    bool offline = false;                             // HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) in 1/ON/YES/TRUE
    int max_retries = 5;                              // transient failures (connection, 5xx, 429) retried this often
    int64_t retry_initial_ms = 1000;                  // first backoff; doubles each retry up to retry_max_ms
    int64_t retry_max_ms = 8000;
    long connect_timeout_s = 10;                      // huggingface_hub's DEFAULT_ETAG_TIMEOUT
    long stall_timeout_s = 30;                        // a transfer that receives nothing this long is retried

    static HubSettings from_environment();
};

// huggingface_hub's _is_true: "1", "ON", "YES", "TRUE" in any case.
bool env_flag_is_true(const char* value);

}  // namespace sumlab::hub
