// libFuzzer target: the JSON configs of a model folder and an adapter folder.
// The first byte picks the parser, the rest is the file: config.json (T5Config::from_file),
// generation_config.json (GenerationConfig::from_model_dir), adapter_config.json (LoraConfig, as
// load_adapter reads it), model.safetensors.index.json (SafetensorsIndex, beside one small valid
// shard "model-00001-of-00002.safetensors"). Only sumlab::Error may leave a parser.
#include "fuzz/fuzz_support.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "models/lora.h"
#include "models/safetensors_index.h"
#include "models/t5/t5_config.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const uint8_t which = data[0] % 4;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        if (which == 0) {
            const std::string path = sumlab::fuzz::put_file("config.json", text);
            sumlab::T5Config c = sumlab::T5Config::from_file(path);
            (void)c.to_json().dump();
            (void)c.ff_kind();
        } else if (which == 1) {
            sumlab::fuzz::put_file("generation_config.json", text);
            sumlab::GenerationConfig g = sumlab::GenerationConfig::from_model_dir(sumlab::fuzz::scratch_dir(), sumlab::T5Config{});
            (void)g.resolved_max_new_tokens();
        } else if (which == 3) {
            static const bool shard = [] {  // {"w": F32 [2], "b": I64 [1]}
                const char header[] = R"({"b":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
                std::string file(8, '\0');
                file[0] = static_cast<char>(sizeof header - 1);
                file += std::string(header, sizeof header - 1) + std::string(16, '\0');
                sumlab::fuzz::put_file("model-00001-of-00002.safetensors", file);
                return true;
            }();
            (void)shard;
            const std::string path = sumlab::fuzz::put_file("model.safetensors.index.json", text);
            sumlab::SafetensorsIndex index(path);
            for (const auto& [name, where] : index.tensors()) (void)index.load(name);
        } else {
            const std::string path = sumlab::fuzz::put_file("adapter_config.json", text);
            sumlab::LoraConfig c = sumlab::LoraConfig::from_file(path);
            c.validate(path);
            (void)c.to_json().dump();
        }
    } catch (const sumlab::Error&) {
    }
    return 0;
}
