// DistributedContext over c10d's ProcessGroupGloo. libtorch_cpu exports it; its headers need
// USE_C10D_GLOO (Torch's CMake targets define it) and gloo's own headers from libgloo-dev
// (SUMLAB_HAS_GLOO). Tensors on an accelerator travel through CPU copies: Gloo is a CPU
// transport, and this keeps the code free of NCCL, which Debian's LibTorch lacks.
#include "engine/training/distributed.h"

#include <torch/torch.h>
#if defined(USE_C10D_GLOO) && defined(SUMLAB_HAS_GLOO)
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <cstdlib>
#include <cstring>

namespace sumlab {

namespace {

const char* env_or_null(const char* name) {
    const char* v = std::getenv(name);
    return v && *v ? v : nullptr;
}

int env_int(const char* name, int min, int max) {
    const char* v = env_or_null(name);
    if (!v) throw ConfigError("environment", name, "is not set");
    char* end = nullptr;
    long x = std::strtol(v, &end, 10);
    if (*end != '\0' || x < min || x > max)
        throw ConfigError("environment", name, "\"" + std::string(v) + "\" is not an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return static_cast<int>(x);
}

}  // namespace

DistributedEnv distributed_env_from_environment() {
    DistributedEnv env;
    const int max_world = 1 << 20;
    if (env_or_null("RANK") || env_or_null("WORLD_SIZE")) {
        env.source = "torchrun";
        env.world_size = env_int("WORLD_SIZE", 1, max_world);
        env.rank = env_int("RANK", 0, env.world_size - 1);
        env.local_rank = env_or_null("LOCAL_RANK") ? env_int("LOCAL_RANK", 0, max_world) : 0;
        if (env.world_size > 1 && !env_or_null("MASTER_ADDR")) throw ConfigError("environment", "MASTER_ADDR", "is not set (the address of rank 0's machine)");
        if (env_or_null("MASTER_ADDR")) env.master_addr = env_or_null("MASTER_ADDR");
    } else if (env_or_null("SLURM_PROCID") && env_or_null("SLURM_NTASKS")) {
        env.source = "slurm";
        env.world_size = env_int("SLURM_NTASKS", 1, max_world);
        env.rank = env_int("SLURM_PROCID", 0, env.world_size - 1);
        env.local_rank = env_or_null("SLURM_LOCALID") ? env_int("SLURM_LOCALID", 0, max_world) : 0;
        if (const char* a = env_or_null("MASTER_ADDR")) env.master_addr = a;
        else if (const char* b = env_or_null("SLURM_LAUNCH_NODE_IPADDR")) env.master_addr = b;
        else if (env.world_size > 1)
            throw ConfigError("environment", "MASTER_ADDR", "is not set and SLURM gave no SLURM_LAUNCH_NODE_IPADDR (export MASTER_ADDR in the batch script)");
    } else {
        return env;
    }
    if (env_or_null("MASTER_PORT")) env.master_port = env_int("MASTER_PORT", 1, 65535);
    if (env.world_size == 1) env.source.clear();
    return env;
}

#if defined(USE_C10D_GLOO) && defined(SUMLAB_HAS_GLOO)

bool distributed_available() { return true; }

struct DistributedContext::Impl {
    c10::intrusive_ptr<c10d::TCPStore> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

namespace {

// Runs one collective; a c10 error (peer reset, timeout) becomes a DistributedError naming it.
template <typename F>
void collective(const DistributedContext& ctx, const char* what, std::chrono::milliseconds timeout, F&& f) {
    try {
        f()->wait();  // Gloo's own timeout (Options::timeout) bounds every operation
    } catch (const std::exception& e) {
        throw DistributedError("rank " + std::to_string(ctx.rank()) + " of " + std::to_string(ctx.world_size()) + ": " + what +
                               " failed: another rank died or did not answer within " + std::to_string(timeout.count() / 1000) +
                               " s (--ddp-timeout); the last checkpoint is kept. Gloo said: " + e.what());
    }
}

// Packs tensors into flat buckets of at most bucket_bytes (a tensor larger than that gets its own),
// runs op on each bucket and copies the result back.
template <typename Op>
void bucketed(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes, Op&& op) {
    size_t i = 0;
    while (i < tensors.size()) {
        size_t j = i;
        int64_t bytes = 0;
        const auto dtype = tensors[i].scalar_type();
        while (j < tensors.size() && tensors[j].scalar_type() == dtype &&
               (j == i || bytes + static_cast<int64_t>(tensors[j].numel() * tensors[j].element_size()) <= bucket_bytes)) {
            bytes += static_cast<int64_t>(tensors[j].numel() * tensors[j].element_size());
            ++j;
        }
        std::vector<torch::Tensor> flat;
        for (size_t k = i; k < j; ++k) flat.push_back(tensors[k].detach().reshape(-1).to(torch::kCPU));
        torch::Tensor bucket = torch::cat(flat);
        op(bucket);
        int64_t offset = 0;
        torch::NoGradGuard no_grad;
        for (size_t k = i; k < j; ++k) {
            const int64_t n = tensors[k].numel();
            tensors[k].copy_(bucket.narrow(0, offset, n).view(tensors[k].sizes()));
            offset += n;
        }
        i = j;
    }
}

}  // namespace

DistributedContext::DistributedContext(const DistributedEnv& env, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout), impl_(std::make_unique<Impl>()) {
    const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
    try {
        c10d::TCPStoreOptions options;
        options.port = static_cast<uint16_t>(env.master_port);
        options.isServer = env.rank == 0;
        options.numWorkers = env.world_size;
        options.waitWorkers = true;
        options.timeout = timeout;
        impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
        auto prefixed = c10::make_intrusive<c10d::PrefixStore>("sumlab", impl_->store);
        auto pg_options = c10d::ProcessGroupGloo::Options::create();
        pg_options->timeout = timeout;
        // The interface that reaches the master; GLOO_SOCKET_IFNAME overrides it, as in PyTorch.
        if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
            pg_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
        else if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost")
            pg_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        else
            pg_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, env.rank, env.world_size, pg_options);
    } catch (const std::exception& e) {
        throw DistributedError("rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + ": cannot form the process group at " +
                               where + " within " + std::to_string(timeout.count() / 1000) + " s (every rank must start, with the same MASTER_ADDR and MASTER_PORT): " +
                               e.what());
    }
}

DistributedContext::~DistributedContext() = default;

void DistributedContext::broadcast(const std::vector<torch::Tensor>& tensors) {
    bucketed(tensors, 25LL << 20, [&](torch::Tensor& bucket) {
        std::vector<at::Tensor> v{bucket};
        collective(*this, "broadcast", timeout_, [&] { return impl_->group->broadcast(v); });
    });
}

std::string DistributedContext::broadcast_string(const std::string& text) {
    torch::Tensor size = torch::tensor({static_cast<int64_t>(text.size())}, torch::kLong);
    broadcast({size});
    torch::Tensor bytes = torch::zeros({size.item<int64_t>()}, torch::kUInt8);
    if (is_main() && !text.empty()) std::memcpy(bytes.data_ptr<uint8_t>(), text.data(), text.size());
    if (bytes.numel() > 0) {
        std::vector<at::Tensor> v{bytes};
        collective(*this, "broadcast", timeout_, [&] { return impl_->group->broadcast(v); });
    }
    return std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), static_cast<size_t>(bytes.numel()));
}

void DistributedContext::allreduce_gradients(const std::vector<torch::Tensor>& params, int64_t bucket_bytes) {
    std::vector<torch::Tensor> grads;
    grads.reserve(params.size());
    for (const auto& p : params) {
        torch::Tensor p_mut = p;
        if (!p_mut.grad().defined()) p_mut.mutable_grad() = torch::zeros_like(p_mut);
        grads.push_back(p_mut.grad());
    }
    bucketed(grads, bucket_bytes, [&](torch::Tensor& bucket) {
        std::vector<at::Tensor> v{bucket};
        collective(*this, "gradient allreduce", timeout_, [&] { return impl_->group->allreduce(v); });
    });
}

namespace {
std::vector<double> reduce_doubles(DistributedContext& ctx, c10d::ProcessGroupGloo& group, std::vector<double> values, c10d::ReduceOp op,
                                   std::chrono::milliseconds timeout) {
    torch::Tensor t = torch::tensor(values, torch::kFloat64);
    std::vector<at::Tensor> v{t};
    c10d::AllreduceOptions options;
    options.reduceOp = op;
    collective(ctx, "allreduce", timeout, [&] { return group.allreduce(v, options); });
    auto acc = t.accessor<double, 1>();
    for (size_t i = 0; i < values.size(); ++i) values[i] = acc[static_cast<int64_t>(i)];
    return values;
}
}  // namespace

std::vector<double> DistributedContext::allreduce_sum(std::vector<double> values) {
    return reduce_doubles(*this, *impl_->group, std::move(values), c10d::ReduceOp::SUM, timeout_);
}

std::vector<double> DistributedContext::allreduce_max(std::vector<double> values) {
    return reduce_doubles(*this, *impl_->group, std::move(values), c10d::ReduceOp::MAX, timeout_);
}

void DistributedContext::wait_for_main(const std::string& what, std::chrono::milliseconds timeout) {
    const std::string key = "sumlab/done/" + what;
    try {
        if (is_main()) impl_->store->set(key, std::vector<uint8_t>{1});
        else impl_->store->wait({key}, timeout);
    } catch (const std::exception& e) {
        throw DistributedError("rank " + std::to_string(rank()) + " of " + std::to_string(world_size()) + ": waiting for rank 0 to finish " + what +
                               " failed (rank 0 died, or took more than " + std::to_string(timeout.count() / 1000) + " s): " + e.what());
    }
}

#else  // no Gloo in this build: a world of one still works, more processes are refused up front.

bool distributed_available() { return false; }

struct DistributedContext::Impl {};

DistributedContext::DistributedContext(const DistributedEnv& env, std::chrono::milliseconds timeout) : env_(env), timeout_(timeout) {
    throw ConfigError("environment", "WORLD_SIZE",
                      std::to_string(env.world_size) + " processes asked for, but this SumLab was built without Gloo (install libgloo-dev and rebuild)");
}
DistributedContext::~DistributedContext() = default;
void DistributedContext::broadcast(const std::vector<torch::Tensor>&) {}
std::string DistributedContext::broadcast_string(const std::string& text) { return text; }
void DistributedContext::allreduce_gradients(const std::vector<torch::Tensor>&, int64_t) {}
std::vector<double> DistributedContext::allreduce_sum(std::vector<double> values) { return values; }
std::vector<double> DistributedContext::allreduce_max(std::vector<double> values) { return values; }
void DistributedContext::wait_for_main(const std::string&, std::chrono::milliseconds) {}

#endif

}  // namespace sumlab
