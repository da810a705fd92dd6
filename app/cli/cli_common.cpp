#include "app/cli/cli_common.h"

#include "engine/runtime/system_info.h"
#include "base/errors.h"

#include <torch/cuda.h>
#include <torch/types.h>

#include <cstdio>
#include <ostream>

namespace sumlab::cli {

std::string version_text() {
    return std::string("sumlab-cli ") + SUMLAB_VERSION + " (" + sumlab::runtime_versions() + ")";
}

void write_json_line(std::ostream& out, const nlohmann::json& value) {
    out << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

std::string format_double(double x) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

std::string fixed(double x, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
    return buf;
}

std::string signed_fixed(double x, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%+.*f", decimals, x);
    return buf;
}

std::string pad_right(std::string text, size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text;
}

std::string pad_left(const std::string& text, size_t width) {
    return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

std::string clock_text(double seconds) {
    if (!(seconds >= 0) || seconds > 1e7) return "--:--";
    const auto total = static_cast<long long>(seconds + 0.5);
    char buf[32];
    if (total >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
    else std::snprintf(buf, sizeof buf, "%02lld:%02lld", total / 60, total % 60);
    return buf;
}

namespace {
// What the handler may touch: lock-free atomics and a sig_atomic_t.
static_assert(std::atomic<std::atomic<bool>*>::is_always_lock_free && std::atomic<bool>::is_always_lock_free,
              "the stop flag is set from a signal handler");
std::atomic<std::atomic<bool>*> g_stop_flag{nullptr};
volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int signo) {
    g_stop_signal = signo;
    if (std::atomic<bool>* stop = g_stop_flag.load()) stop->store(true);
}
}  // namespace

StopOnSignals::StopOnSignals(std::atomic<bool>& stop, SecondSignal second) {
    g_stop_signal = 0;
    g_stop_flag.store(&stop);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART | (second == SecondSignal::ends_process ? SA_RESETHAND : 0);
    sigaction(SIGINT, &action, &previous_int_);
    sigaction(SIGTERM, &action, &previous_term_);
}

StopOnSignals::~StopOnSignals() {
    sigaction(SIGINT, &previous_int_, nullptr);
    sigaction(SIGTERM, &previous_term_, nullptr);
    g_stop_flag.store(nullptr);
}

bool StopOnSignals::is_signalled() const { return g_stop_signal != 0; }

int StopOnSignals::signal_number() const { return g_stop_signal != 0 ? static_cast<int>(g_stop_signal) : SIGINT; }

std::string StopOnSignals::signal_name() const { return signal_number() == SIGTERM ? "SIGTERM" : "SIGINT"; }

}  // namespace sumlab::cli
