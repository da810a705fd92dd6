// Where SumLab's own files are, found from the running executable so the build tree and an installed
// package use one rule: <bin>/../share/sumlab. The build mirrors the install there (build/share/sumlab is
// a link to resources/), so `build/bin/sumlab` and `/usr/bin/sumlab` find the same built-in models.
#pragma once

#include <string>
#include <vector>

namespace sumlab {

// The folder of the running executable (/proc/self/exe), or "." when it cannot be read.
std::string executable_dir();

// <executable_dir>/../share/sumlab, where the .deb installs SumLab's data (built-in models); the
// environment variable SUMLAB_DATA_DIR, when set, names another (a relocated install; the GUI tests'
// empty one, so a shipped model does not change what they count).
std::string data_dir();

// The model folders shipped with SumLab: each subfolder of `models_root` that holds a config.json,
// sorted by name. `models_root` defaults to data_dir()/models; a missing root gives none.
std::vector<std::string> builtin_model_dirs(const std::string& models_root = data_dir() + "/models");

}  // namespace sumlab
