// Reading Hugging Face JSON config files (config.json, generation_config.json): size-capped parsing and the
// pieces of error messages shared by T5Config and GenerationConfig.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace sumlab {

// The parsed file; FileError when it is missing or over 16 MiB, ConfigError naming it for invalid JSON.
nlohmann::json parse_json_file(const std::string& path);
// A value for an error message: lists and objects are not printed (a hostile file can nest them
// thousands deep), long strings are cut.
std::string shown_json_value(const nlohmann::json& v);
// A token id at `key` (an eos_token_id may be a list in newer configs; SumLab uses the first); absent or null
// leaves `out` as it is.
void read_token_id(const nlohmann::json& j, const char* key, int64_t& out, const std::string& path);

}  // namespace sumlab
