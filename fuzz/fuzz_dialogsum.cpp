// libFuzzer target: DialogSum loading (CSV through engine/data/csv.cpp, JSON Lines, Python dict literals),
// then selection and length statistics on what was loaded.
// First byte: bits 0-1 the format (csv, jsonl, python-literal, detect from the text), bit 2 the
// bad-row policy (fail / skip). Only sumlab::Error may leave the loader.
#include "engine/data/dialogsum.h"
#include "base/errors.h"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    using namespace sumlab;
    const uint8_t mode = data[0];
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    LoadOptions options;
    options.on_bad_row = (mode & 4) ? BadRowPolicy::skip : BadRowPolicy::fail;
    DataFormat format = DataFormat::csv;
    switch (mode & 3) {
        case 0: format = DataFormat::csv; break;
        case 1: format = DataFormat::jsonl; break;
        case 2: format = DataFormat::python_literal; break;
        default: format = detect_format("fuzz.jsonl", text); break;
    }
    try {
        DialogSumSplit split = parse_dialogsum(text, format, Split::train, "fuzz", options);
        Selection selection;
        selection.every_kth = 1 + (mode >> 4);
        selection.sample_size = split.examples.size() / 2;
        DialogSumSplit kept = select_examples(split, selection);
        (void)to_json(split_statistics(kept)).dump();
    } catch (const Error&) {
    }
    // The Python literal parser is also reached line by line; give it the whole text once.
    if ((mode & 3) == 2) {
        try {
            (void)parse_python_literal(text, "fuzz", 1);
        } catch (const DataError&) {
        }
    }
    return 0;
}
