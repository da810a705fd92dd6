// libFuzzer target: the safetensors reader (header JSON, dtypes, shapes, data offsets, BOOL bytes).
// Every input must end in a parsed file or a sumlab::FileError; anything else is a finding.
#include "fuzz/fuzz_support.h"
#include "base/errors.h"
#include "models/safetensors.h"

#include <torch/torch.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static sumlab::fuzz::MemFile file("fuzz_safetensors");
    const std::string& path = file.write(data, size);
    try {
        sumlab::SafetensorsFile f(path);
        for (const auto& e : f.entries()) {
            torch::Tensor t = f.view(e.name);
            if (t.numel() > 0 && t.numel() <= 4096) (void)f.load(e.name).sum().item<double>();
        }
        (void)f.contains("x");
    } catch (const sumlab::FileError&) {
    }
    return 0;
}
