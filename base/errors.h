// Error types thrown inside models/ and engine/ and caught once per boundary
// (the CLI turns them into a one-line message and an exit code, the GUI worker into failed(QString)).
// Each carries where the problem is, so the message can name the file, key or line.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace sumlab {

// Base of every SumLab error; what() is a complete, user-readable sentence.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A file that cannot be opened, read or written, or whose bytes are not what its format says.
class FileError : public Error {
public:
    FileError(std::string path, const std::string& problem);
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// A configuration value that is missing, of the wrong type, or impossible.
class ConfigError : public Error {
public:
    ConfigError(std::string path, std::string key, const std::string& problem);
    const std::string& path() const { return path_; }
    const std::string& key() const { return key_; }

private:
    std::string path_;
    std::string key_;
};

// A data record that cannot be used; line is 1-based, 0 when unknown.
class DataError : public Error {
public:
    DataError(std::string path, std::int64_t line, const std::string& problem);
    const std::string& path() const { return path_; }
    std::int64_t line() const { return line_; }

private:
    std::string path_;
    std::int64_t line_;
};

// The user asked the engine to stop (cancellation flag seen between steps).
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

}  // namespace sumlab
