// The two hashes the Hub names files by: sha256 for LFS files (their X-Linked-Etag) and the git blob
// id for regular files (their ETag). Lowercase hex, OpenSSL's libcrypto underneath.
#pragma once

#include <string>
#include <string_view>

namespace sumlab::hub {

std::string sha256_hex(std::string_view bytes);
// Streams the file; throws FileError naming the path when it cannot be read.
std::string sha256_file_hex(const std::string& path);
// git's blob id: sha1("blob <size>\0" + bytes).
std::string git_blob_sha1_hex(std::string_view bytes);

}  // namespace sumlab::hub
