// libFuzzer target: loading a spiece.model through the dlopen'ed SentencePiece plugin, then
// tokenizing and decoding with it. SentencePiece itself is Debian's uninstrumented library, so
// coverage feedback comes from our side only; the target still catches crashes and leaks there.
// Only sumlab::Error may leave T5Tokenizer.
#include "engine/text/tokenizer.h"
#include "fuzz/fuzz_support.h"
#include "base/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sumlab;
    static fuzz::MemFile file("fuzz_spiece_model");
    const std::string& path = file.write(data, size);
    try {
        T5Tokenizer tokenizer(path, 3);
        const auto ids = tokenizer.encode("#Person1#: Hello <extra_id_0> world! </s> \xc3\xa9t\xc3\xa9", true, 16);
        (void)tokenizer.decode(ids, false);
        (void)tokenizer.decode({0, 1, 2, 5, tokenizer.vocab_size() - 1, tokenizer.vocab_size() + 3}, true);
    } catch (const Error&) {
    }
    return 0;
}
