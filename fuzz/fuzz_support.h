// Helpers shared by the libFuzzer targets: the parsers under test read files by path (mmap,
// PyTorchStreamReader, SentencePiece), so the input is written to an in-memory file (memfd) and
// the parser gets its /proc/self/fd path, or to a scratch folder in /dev/shm for folder readers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sumlab::fuzz {

// One memfd reused for every input (creating a file per execution would dominate the run time).
class MemFile {
public:
    explicit MemFile(const char* name) {
        fd_ = ::memfd_create(name, 0);
        if (fd_ < 0) std::abort();
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    const std::string& write(const uint8_t* data, size_t size) {
        if (::ftruncate(fd_, 0) != 0) std::abort();
        size_t done = 0;
        while (done < size) {
            ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
            if (n <= 0) std::abort();
            done += static_cast<size_t>(n);
        }
        return path_;
    }

private:
    int fd_ = -1;
    std::string path_;
};

// A folder of this process in /dev/shm (tmpfs), for readers that take a folder.
inline const std::string& scratch_dir() {
    // Never destroyed: the exit handler below runs after static destructors registered later.
    static const std::string* dir = [] {
        auto* d = new std::string("/dev/shm/sumlab-fuzz-" + std::to_string(::getpid()));
        ::mkdir(d->c_str(), 0700);
        std::atexit([] {  // libFuzzer ends a timed run with exit(); a crash leaves the folder for inspection
            std::error_code ec;
            std::filesystem::remove_all(*dir, ec);
        });
        return d;
    }();
    return *dir;
}

// Writes `bytes` to scratch_dir()/name, or removes the file when `present` is false.
inline std::string put_file(const std::string& name, std::string_view bytes, bool present = true) {
    const std::string path = scratch_dir() + "/" + name;
    ::unlink(path.c_str());
    if (present) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out) std::abort();
    }
    return path;
}

// Splits the input at the separator line "\n--8<--\n" into at most `n` parts (missing parts are absent).
inline std::vector<std::string_view> split_parts(const uint8_t* data, size_t size, size_t n) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> parts;
    constexpr std::string_view sep = "\n--8<--\n";
    while (parts.size() + 1 < n) {
        size_t at = in.find(sep);
        if (at == std::string_view::npos) break;
        parts.push_back(in.substr(0, at));
        in.remove_prefix(at + sep.size());
    }
    parts.push_back(in);
    return parts;
}

}  // namespace sumlab::fuzz
