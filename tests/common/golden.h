// Helpers for the golden tests: where ../shared is, reading its JSON, and the checksum dict
// {shape, sum, abs_sum, sq_sum, max, min} the Python reference computed in float64.
#pragma once

#include <nlohmann/json.hpp>

#include <QString>
#include <QtTest>

#include <cstdio>
#include <fstream>
#include <string>

namespace sumlab::test {

inline std::string shared_path(const std::string& rel) { return std::string(SUMLAB_SHARED_DIR) + "/" + rel; }

inline bool exists(const std::string& path) { return std::ifstream(path).good(); }

inline nlohmann::json load_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
}

// Reads a JSON file; false when it cannot be opened (the caller skips, naming the path).
inline bool read_json(const QString& path, nlohmann::json* value) {
    std::ifstream in(path.toStdString(), std::ios::binary);
    if (!in) return false;
    *value = nlohmann::json::parse(in);
    return true;
}

// A double printed round-trip exact (%.17g), so a mismatch shows both values in full.
inline QString repr(double x) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return QString::fromLatin1(buf);
}

// Relative difference with a floor so values near zero compare absolutely.
inline double rel_diff(double got, double want) { return std::abs(got - want) / std::max(1.0, std::abs(want)); }

}  // namespace sumlab::test

// QSKIP with the path that was looked for, as the suites do when ../shared is absent.
#define SUMLAB_REQUIRE_SHARED(path)                                                                   \
    do {                                                                                              \
        if (!sumlab::test::exists(path)) QSKIP(qPrintable(QString("missing %1").arg(QString::fromStdString(path)))); \
    } while (0)
