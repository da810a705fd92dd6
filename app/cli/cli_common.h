// Helpers shared by the sumlab-cli subcommands: the version line, JSON lines, the text helpers of the tables
// and progress lines, and StopOnSignals, the one SIGINT/SIGTERM -> stop flag mapping of every long command.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
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

// ---- Text of tables and progress lines ----

std::string fixed(double x, int decimals);         // "%.*f": fixed(0.51234, 2) == "0.51"
std::string signed_fixed(double x, int decimals);  // "%+.*f": "+0.51", "-0.02"
std::string pad_right(std::string text, size_t width);       // "ab" -> "ab  " (width 4); longer text unchanged
std::string pad_left(const std::string& text, size_t width); // "ab" -> "  ab"
// A duration as "mm:ss", or "h:mm:ss" from an hour on; "--:--" for a negative, NaN or absurd (> 1e7 s) one.
std::string clock_text(double seconds);

// ---- Ctrl-C ----

// While alive, SIGINT and SIGTERM set `stop` (the engine's cancel or stop flag, checked between steps) and are
// remembered; the previous handlers come back on destruction. Interrupted system calls restart. One at a time.
class StopOnSignals {
public:
    enum class SecondSignal {
        is_caught,     // every signal only sets the flag (train, download, the rank launcher)
        ends_process,  // the first sets the flag, a second gets the default action (evaluate: its files stay consistent)
    };
    explicit StopOnSignals(std::atomic<bool>& stop, SecondSignal second = SecondSignal::is_caught);
    ~StopOnSignals();
    StopOnSignals(const StopOnSignals&) = delete;
    StopOnSignals& operator=(const StopOnSignals&) = delete;

    bool is_signalled() const;
    int signal_number() const;  // the signal that arrived, SIGINT when none did
    // "SIGINT" / "SIGTERM", for "stopped by ..." lines.
    std::string signal_name() const;

private:
    struct sigaction previous_int_ {};
    struct sigaction previous_term_ {};
};

}  // namespace sumlab::cli
