#include "engine/hub/hub_hash.h"

#include "base/errors.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

namespace sumlab::hub {

namespace {
struct DigestContext {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
    explicit DigestContext(const EVP_MD* md) {
        if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) throw Error("OpenSSL: cannot start a digest");
    }
    void update(const void* data, size_t size) { EVP_DigestUpdate(ctx.get(), data, size); }
    std::string hex() {
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_DigestFinal_ex(ctx.get(), out, &n);
        static const char* digits = "0123456789abcdef";
        std::string text;
        for (unsigned int i = 0; i < n; ++i) {
            text += digits[out[i] >> 4];
            text += digits[out[i] & 15];
        }
        return text;
    }
};
}  // namespace

std::string sha256_hex(std::string_view bytes) {
    DigestContext d(EVP_sha256());
    d.update(bytes.data(), bytes.size());
    return d.hex();
}

std::string sha256_file_hex(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError(path, std::string("cannot open: ") + std::strerror(errno));
    DigestContext d(EVP_sha256());
    std::vector<char> buffer(1 << 20);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        d.update(buffer.data(), static_cast<size_t>(in.gcount()));
    }
    if (in.bad()) throw FileError(path, "read failed while hashing");
    return d.hex();
}

std::string git_blob_sha1_hex(std::string_view bytes) {
    DigestContext d(EVP_sha1());
    const std::string header = "blob " + std::to_string(bytes.size());
    d.update(header.data(), header.size() + 1);  // with its '\0'
    d.update(bytes.data(), bytes.size());
    return d.hex();
}

}  // namespace sumlab::hub
