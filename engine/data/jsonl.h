// JSON Lines input and output (one JSON object per line), with line numbers kept for error messages.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sumlab {

struct JsonlRecord {
    std::int64_t line = 0;  // 1-based line number in the file
    nlohmann::json value;
};

// Reads every non-blank line of `path` as a JSON value ("-" reads standard input).
// Throws DataError{path, line} for invalid JSON or invalid UTF-8.
std::vector<JsonlRecord> read_jsonl(const std::string& path);

// Parses JSONL text; `path` only names the source in errors.
std::vector<JsonlRecord> parse_jsonl(const std::string& text, const std::string& path);

// A string field of a record, or a DataError naming path, line and the key.
std::string require_string(const JsonlRecord& record, const std::string& key, const std::string& path);

}  // namespace sumlab
