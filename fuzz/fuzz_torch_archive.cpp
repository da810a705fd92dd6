// libFuzzer target: the torch.save reader (zip container and the strict unpickler of data.pkl).
// First byte, bit 0: 0 = the rest is the whole file; 1 = the rest is data.pkl, packed by LibTorch's
// own PyTorchStreamWriter into a valid archive with storages data/0..data/3 (so the mutations reach
// the unpickler instead of dying on zip checksums). Bit 1 adds a "byteorder" record.
// Only sumlab::FileError may leave load_torch_state_dict.
#include "fuzz/fuzz_support.h"
#include "base/errors.h"
#include "models/torch_archive.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

namespace {

std::string pack_archive(const uint8_t* pickle, size_t size, bool with_byteorder) {
    std::string out;
    caffe2::serialize::PyTorchStreamWriter writer([&out](const void* p, size_t n) {
        out.append(static_cast<const char*>(p), n);
        return n;
    });
    writer.writeRecord("data.pkl", pickle, size);
    if (with_byteorder) writer.writeRecord("byteorder", "little", 6);
    // Storages of 8, 16, 64 and 256 bytes; bytes 0/1 first so BoolStorage views can be valid.
    static const std::string storages[] = {std::string(8, '\x01'), std::string(16, '\x00'), std::string(64, '\x3f'),
                                           [] {
                                               std::string s(256, '\0');
                                               for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i);
                                               return s;
                                           }()};
    for (int i = 0; i < 4; ++i)
        writer.writeRecord("data/" + std::to_string(i), storages[i].data(), storages[i].size());
    writer.writeEndOfFile();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    static sumlab::fuzz::MemFile file("fuzz_torch_archive");
    const uint8_t mode = data[0];
    std::string bytes;
    if (mode & 1) bytes = pack_archive(data + 1, size - 1, (mode & 2) != 0);
    else bytes.assign(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::string& path = file.write(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    try {
        auto tensors = sumlab::load_torch_state_dict(path);
        for (auto& [name, t] : tensors) (void)t.sum();
    } catch (const sumlab::FileError&) {
    }
    return 0;
}
