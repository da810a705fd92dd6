#include "base/install_paths.h"

#include "base/file_util.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <unistd.h>

namespace sumlab {

std::string executable_dir() {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return ".";
    const std::string path(buf, static_cast<size_t>(n));
    return path.substr(0, path.find_last_of('/'));
}

std::string data_dir() {
    if (const char* env = std::getenv("SUMLAB_DATA_DIR"); env && *env) return env;
    return executable_dir() + "/../share/sumlab";
}

std::vector<std::string> builtin_model_dirs(const std::string& models_root) {
    std::vector<std::string> out;
    DIR* d = ::opendir(models_root.c_str());
    if (!d) return out;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.empty() || name[0] == '.') continue;
        const std::string dir = join_path(models_root, name);
        if (is_file(join_path(dir, "config.json"))) out.push_back(dir);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace sumlab
