// Where the time of one call goes, by LibTorch operator: self and total time per op name, from
// LibTorch's own (legacy, CPU) profiler. `sumlab-cli bench --profile FILE` writes these tables, so a
// speed change starts from a measured breakdown instead of a guess.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace sumlab {

struct OpTime {
    std::string name;     // "aten::mm", "LinearBackward0" (autograd nodes appear as their own ops)
    int64_t calls = 0;
    double self_ms = 0;   // time inside this op minus the ops it called
    double total_ms = 0;  // including nested ops; an op nested in itself is counted once
};

struct OpProfile {
    double wall_ms = 0;        // the whole call
    std::vector<OpTime> ops;   // by self time, largest first
    std::vector<OpTime> shapes;  // the same per op and input shapes ("aten::mm [2048, 512] [512, 32]"), largest first
};

// Runs `body` once with the profiler on. Ops on other threads that LibTorch propagates the profiler
// to (autograd's device threads, at::launch tasks) are included; OpenBLAS's own threads are not ops.
OpProfile profile_ops(const std::function<void()>& body);

// Fixed-width tables: the top `limit` ops by self time, with shares of the wall time, then the top
// `limit` (op, input shapes) pairs.
void write_op_profile(std::ostream& out, const std::string& title, const OpProfile& profile, size_t limit = 40);

}  // namespace sumlab
