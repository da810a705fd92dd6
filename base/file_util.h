// Small file helpers shared by every writer: nothing the user had is overwritten by a half-written file.
#pragma once

#include <string>
#include <string_view>

namespace sumlab {

// Reads a whole file; throws FileError naming the path when it cannot.
std::string read_file(const std::string& path);

// Writes `contents` to `path` atomically: a temporary file in the same folder, fsync, rename,
// fsync of the folder. A crash at any moment leaves either the old file or the new one.
void write_atomically(const std::string& path, std::string_view contents);

// True when `path` names an existing regular file / directory.
bool is_file(const std::string& path);
bool is_directory(const std::string& path);

// `dir` + "/" + `name`, without doubling the slash.
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace sumlab
