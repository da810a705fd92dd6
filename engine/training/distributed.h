// Data-parallel training on PyTorch's own collective engine (c10d, ProcessGroupGloo over a
// TCPStore), as torch.distributed with backend="gloo" does it. The environment says where a
// process stands: torchrun's RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT, or
// SLURM's SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID (master: MASTER_ADDR, else
// SLURM_LAUNCH_NODE_IPADDR). A world of one process needs no context at all: the trainer takes
// its single-process path and never touches c10d.
//
// Every collective is bounded by a timeout: a rank that dies breaks its TCP pairs at once, a rank
// that hangs is given up after `timeout`; either way the others throw DistributedError naming the
// operation, never hang.
#pragma once

#include "base/errors.h"

#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sumlab {

// Where this process stands in a distributed run (all fields as torchrun names them).
struct DistributedEnv {
    int rank = 0;                  // RANK / SLURM_PROCID
    int world_size = 1;            // WORLD_SIZE / SLURM_NTASKS
    int local_rank = 0;            // LOCAL_RANK / SLURM_LOCALID (picks cuda:N)
    std::string master_addr;       // MASTER_ADDR / SLURM_LAUNCH_NODE_IPADDR
    int master_port = 29500;       // MASTER_PORT, torchrun's default 29500
    std::string source;            // "torchrun", "slurm", or "" for a single process

    bool is_distributed() const { return world_size > 1; }
};

// Reads the torchrun variables (when RANK and WORLD_SIZE are set), else SLURM's (when
// SLURM_PROCID and SLURM_NTASKS are set), else returns a world of one. A ConfigError names the
// variable that is missing or malformed.
DistributedEnv distributed_env_from_environment();

// DistributedSampler's shards: engine/training/sampler.h (distributed_sampler_indices).

// A collective failed: a peer died, hung past the timeout, or could not be reached.
class DistributedError : public Error {
public:
    using Error::Error;
};

// True when this build has ProcessGroupGloo (compiled with USE_C10D_GLOO against libgloo-dev).
bool distributed_available();

class DistributedContext {
public:
    // Connects to the TCPStore on master_addr:master_port (rank 0 serves it) and forms the Gloo
    // group; waits at most `timeout` for every rank to arrive.
    DistributedContext(const DistributedEnv& env, std::chrono::milliseconds timeout);
    ~DistributedContext();
    DistributedContext(const DistributedContext&) = delete;
    DistributedContext& operator=(const DistributedContext&) = delete;

    int rank() const { return env_.rank; }
    int world_size() const { return env_.world_size; }
    bool is_main() const { return env_.rank == 0; }
    const DistributedEnv& env() const { return env_; }

    // Copies rank 0's values into every rank's tensors, in place (flattened into buckets).
    void broadcast(const std::vector<torch::Tensor>& tensors);
    // Rank 0's text to every rank.
    std::string broadcast_string(const std::string& text);
    // Sums the gradients of `params` over all ranks, in place, in flattened buckets of about
    // `bucket_bytes` (DDP's bucket_cap_mb = 25). A parameter without a gradient gets zeros, so
    // every rank reduces the same layout.
    void allreduce_gradients(const std::vector<torch::Tensor>& params, int64_t bucket_bytes = 25LL << 20);
    // Element-wise sum (or max) over ranks of a few doubles.
    std::vector<double> allreduce_sum(std::vector<double> values);
    std::vector<double> allreduce_max(std::vector<double> values);
    // Rank 0 says it finished `what` (a checkpoint write); the others wait for that word up to
    // `timeout`, which may be far longer than the collectives' (writing a large model takes time).
    void wait_for_main(const std::string& what, std::chrono::milliseconds timeout);

private:
    struct Impl;
    DistributedEnv env_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sumlab
