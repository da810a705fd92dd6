#include "base/errors.h"

namespace sumlab {

FileError::FileError(std::string path, const std::string& problem)
    : Error(path + ": " + problem), path_(std::move(path)) {}

ConfigError::ConfigError(std::string path, std::string key, const std::string& problem)
    : Error(path + ": " + (key.empty() ? std::string() : "'" + key + "': ") + problem),
      path_(std::move(path)), key_(std::move(key)) {}

DataError::DataError(std::string path, std::int64_t line, const std::string& problem)
    : Error(path + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + problem),
      path_(std::move(path)), line_(line) {}

}  // namespace sumlab
