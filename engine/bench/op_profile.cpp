#include "engine/bench/op_profile.h"

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <ostream>

namespace sumlab {

namespace prof = torch::autograd::profiler;

OpProfile profile_ops(const std::function<void()>& body) {
    prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU, /*report_input_shapes=*/true));
    const auto start = std::chrono::steady_clock::now();
    try {
        body();
    } catch (...) {
        prof::disableProfilerLegacy();
        throw;
    }
    OpProfile profile;
    profile.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const prof::thread_event_lists lists = prof::disableProfilerLegacy();

    std::map<std::string, OpTime> by_name, by_shape;
    for (const auto& list : lists) {
        // Push/pop pairs nest per thread; a frame's self time is its span minus its children's spans.
        struct Frame {
            const prof::LegacyEvent* push;
            double children_us;
        };
        std::vector<Frame> stack;
        for (const prof::LegacyEvent& e : list) {
            if (e.kind() == prof::EventKind::PushRange) {
                stack.push_back({&e, 0.0});
            } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
                const Frame frame = stack.back();
                stack.pop_back();
                const double span = frame.push->cpuElapsedUs(e);
                OpTime& op = by_name[frame.push->name()];
                op.name = frame.push->name();
                op.calls += 1;
                op.self_ms += (span - frame.children_us) / 1000.0;
                const bool nested_in_itself =
                    std::any_of(stack.begin(), stack.end(), [&](const Frame& f) { return op.name == f.push->name(); });
                if (!nested_in_itself) op.total_ms += span / 1000.0;
                std::string shaped = op.name;
                for (const auto& dims : frame.push->shapes()) {
                    if (dims.empty()) continue;
                    shaped += " [";
                    for (size_t i = 0; i < dims.size(); ++i) shaped += (i ? ", " : "") + std::to_string(dims[i]);
                    shaped += "]";
                }
                OpTime& shape = by_shape[shaped];
                shape.name = shaped;
                shape.calls += 1;
                shape.self_ms += (span - frame.children_us) / 1000.0;
                if (!nested_in_itself) shape.total_ms += span / 1000.0;
                if (!stack.empty()) stack.back().children_us += span;
            }
        }
    }
    const auto by_self = [](const OpTime& a, const OpTime& b) { return a.self_ms > b.self_ms; };
    for (auto& [name, op] : by_name) profile.ops.push_back(std::move(op));
    std::sort(profile.ops.begin(), profile.ops.end(), by_self);
    for (auto& [name, op] : by_shape) profile.shapes.push_back(std::move(op));
    std::sort(profile.shapes.begin(), profile.shapes.end(), by_self);
    return profile;
}

void write_op_profile(std::ostream& out, const std::string& title, const OpProfile& profile, size_t limit) {
    double self_sum = 0;
    for (const OpTime& op : profile.ops) self_sum += op.self_ms;
    char line[256];
    out << "== " << title << "\n";
    std::snprintf(line, sizeof line, "wall %.1f ms; ops' self time %.1f ms (%.0f %%); the rest is outside LibTorch ops\n",
                  profile.wall_ms, self_sum, profile.wall_ms > 0 ? 100.0 * self_sum / profile.wall_ms : 0.0);
    out << line;
    const auto table = [&](const std::vector<OpTime>& rows, const char* heading, int width) {
        std::snprintf(line, sizeof line, "%-*s %8s %11s %7s %11s\n", width, heading, "calls", "self ms", "self %", "total ms");
        out << line;
        for (size_t i = 0; i < rows.size() && i < limit; ++i) {
            const OpTime& op = rows[i];
            std::snprintf(line, sizeof line, "%-*.*s %8lld %11.2f %7.1f %11.2f\n", width, width, op.name.c_str(),
                          static_cast<long long>(op.calls), op.self_ms,
                          profile.wall_ms > 0 ? 100.0 * op.self_ms / profile.wall_ms : 0.0, op.total_ms);
            out << line;
        }
        out << "\n";
    };
    table(profile.ops, "op", 44);
    table(profile.shapes, "op [input shapes]", 72);
}

}  // namespace sumlab
