// libFuzzer target: the lab's results CSV (engine/metrics/results_csv.cpp), read, written back and re-read:
// a table that parses must survive its own round trip unchanged. Only sumlab::Error may leave it.
#include "engine/metrics/results_csv.h"
#include "base/errors.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sumlab;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ResultsTable table;
    try {
        table = parse_results_csv(text, "fuzz.csv");
    } catch (const Error&) {
        return 0;
    }
    const std::string written = format_results_csv(table);
    ResultsTable again = parse_results_csv(written, "fuzz-roundtrip.csv");  // must not throw
    if (again.human_baseline != table.human_baseline || again.systems.size() != table.systems.size()) std::abort();
    return 0;
}
