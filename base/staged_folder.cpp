#include "base/staged_folder.h"

#include "base/errors.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace sumlab {

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string strip_trailing_slashes(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    return path;
}

std::string parent_of(const std::string& path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
    auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// mkdir -p
void make_folders(const std::string& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) throw FileError(dir, "exists and is not a folder");
        return;
    }
    std::string parent = parent_of(dir);
    if (parent != dir) make_folders(parent);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) throw FileError(dir, "cannot create folder: " + errno_text());
}

// Removes the temporary folder and the plain files in it (all this class's users write there).
void remove_folder(const std::string& dir) {
    if (DIR* d = ::opendir(dir.c_str())) {
        std::vector<std::string> names;
        while (dirent* e = ::readdir(d)) {
            std::string name = e->d_name;
            if (name != "." && name != "..") names.push_back(name);
        }
        ::closedir(d);
        for (const auto& n : names) ::unlink((dir + "/" + n).c_str());
    }
    ::rmdir(dir.c_str());
}

void sync_folder(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

}  // namespace

void require_free_output_folder(const std::string& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return;  // absent: will be created
    if (!S_ISDIR(st.st_mode)) throw FileError(dir, "exists and is not a folder; choose another output folder");
    DIR* d = ::opendir(dir.c_str());
    if (!d) throw FileError(dir, "exists and cannot be read: " + errno_text());
    bool empty = true;
    while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") {
            empty = false;
            break;
        }
    }
    ::closedir(d);
    if (!empty) throw FileError(dir, "already exists and is not empty; refusing to overwrite it (choose another output folder or remove it)");
}

StagedFolder::StagedFolder(std::string final_dir) : final_(strip_trailing_slashes(std::move(final_dir))) {
    if (final_.empty()) throw FileError(final_, "empty output folder name");
    require_free_output_folder(final_);
    std::string parent = parent_of(final_);
    make_folders(parent);
    // A hidden sibling: same file system, so the final rename is atomic.
    std::string templ = parent + "/." + base_of(final_) + ".partial-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) throw FileError(final_, "cannot create a temporary folder beside it: " + errno_text());
    temp_ = buf.data();
    ::chmod(temp_.c_str(), 0755);  // mkdtemp makes it 0700; a model folder is as readable as any other
}

StagedFolder::~StagedFolder() {
    if (!committed_) remove_folder(temp_);
}

void StagedFolder::commit() {
    if (committed_) return;
    sync_folder(temp_);
    // rename(2) replaces an empty folder and fails with ENOTEMPTY/EEXIST on a non-empty one, so a folder
    // someone filled since the constructor checked it is still never overwritten.
    if (::rename(temp_.c_str(), final_.c_str()) != 0) {
        const int err = errno;
        if (err == ENOTEMPTY || err == EEXIST)
            throw FileError(final_, "already exists and is not empty; refusing to overwrite it (choose another output folder or remove it)");
        throw FileError(final_, std::string("cannot move the finished folder into place: ") + std::strerror(err));
    }
    committed_ = true;
    sync_folder(parent_of(final_));
}

}  // namespace sumlab
