// Helpers shared by the sumlab-cli subcommands.
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <string>

namespace c10 {
struct Device;
}

namespace sumlab::cli {

// "sumlab-cli 0.1.0 (LibTorch 1.13.1, BLAS ...)"
std::string version_text();

// Writes one JSON value on one line; doubles print as the shortest text that round-trips.
void write_json_line(std::ostream& out, const nlohmann::json& value);

// Formats a double with 17 significant digits (round-trips through JSON parsers).
std::string format_double(double x);

}  // namespace sumlab::cli
