// The one place where "a model or a dataset" given by the user becomes a folder: a local folder as it is,
// or a Hub id ("google/flan-t5-base", "google/flan-t5-base@<revision>") resolved through the Hugging Face
// cache: downloaded when missing (HubClient::download), from the cache alone when HF_HUB_OFFLINE=1.
// Used by every sumlab-cli option that takes a model or data folder, and by the GUI.
#pragma once

#include "engine/hub/hub_client.h"

#include <atomic>
#include <string>

namespace sumlab::hub {

// True when `text` is not an existing path and reads as a Hub id: one '/', no leading '.', '/' or '~',
// valid as a repository id, optionally followed by "@revision".
bool looks_like_hub_id(const std::string& text);

// `text` itself when it is an existing file or folder; else the snapshot folder of the Hub id it names.
// Throws ConfigError when it is neither a path nor a Hub id, HubError when the Hub or the cache cannot give it.
std::string resolve_model_or_dataset(const std::string& text, RepoType type, const ProgressCallback& progress = {},
                                     const std::atomic<bool>* cancel = nullptr);
// The same with explicit settings (tests, and the GUI's dialog).
std::string resolve_model_or_dataset(const HubClient& client, const std::string& text, RepoType type,
                                     const ProgressCallback& progress = {}, const std::atomic<bool>* cancel = nullptr);

}  // namespace sumlab::hub
