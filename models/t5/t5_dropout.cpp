#include "models/t5/t5_dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>

namespace sumlab {

namespace {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

inline uint64_t splitmix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// Element i is dropped when its 32-bit uniform falls below `threshold` (= p * 2^32).
// Each 64-bit draw serves elements 2k and 2k+1, so the mask depends only on seed and index,
// never on how the work was split between threads.
template <typename Fn>
void for_each_keep(int64_t n, uint64_t seed, uint32_t threshold, Fn&& fn) {
    const int64_t pairs = (n + 1) / 2;
    at::parallel_for(0, pairs, 1 << 15, [&](int64_t begin, int64_t end) {
        for (int64_t k = begin; k < end; ++k) {
            uint64_t z = splitmix64(seed + static_cast<uint64_t>(k + 1) * kGolden);
            const int64_t i = 2 * k;
            fn(i, static_cast<uint32_t>(z) >= threshold);
            if (i + 1 < n) fn(i + 1, static_cast<uint32_t>(z >> 32) >= threshold);
        }
    });
}

// out = in * keep * scale over contiguous fp32 buffers.
void apply_mask(const float* in, float* out, int64_t n, uint64_t seed, uint32_t threshold, float scale) {
    for_each_keep(n, seed, threshold, [&](int64_t i, bool keep) { out[i] = keep ? in[i] * scale : 0.0f; });
}

uint32_t drop_threshold(double p) {
    const double t = std::round(p * 4294967296.0);
    return t >= 4294967295.0 ? std::numeric_limits<uint32_t>::max() : static_cast<uint32_t>(t);
}

}  // namespace

uint64_t draw_dropout_seed() {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return gen.get<at::CPUGeneratorImpl>()->random64();
}

torch::Tensor apply_dropout_mask(const torch::Tensor& x, uint64_t seed, double p) {
    auto in = x.contiguous();
    auto out = torch::empty_like(in);
    apply_mask(in.data_ptr<float>(), out.data_ptr<float>(), in.numel(), seed, drop_threshold(p),
               static_cast<float>(1.0 / (1.0 - p)));
    return out;
}

namespace {

struct CounterDropout : torch::autograd::Function<CounterDropout> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p) {
        const uint64_t seed = draw_dropout_seed();
        // Seeds travel as two 32-bit halves: IValue holds int64, and a bit cast keeps it exact.
        ctx->saved_data["seed_hi"] = static_cast<int64_t>(seed >> 32);
        ctx->saved_data["seed_lo"] = static_cast<int64_t>(seed & 0xFFFFFFFFULL);
        ctx->saved_data["p"] = p;
        return apply_dropout_mask(x, seed, p);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const uint64_t seed = (static_cast<uint64_t>(ctx->saved_data["seed_hi"].toInt()) << 32) |
                              static_cast<uint64_t>(ctx->saved_data["seed_lo"].toInt());
        const double p = ctx->saved_data["p"].toDouble();
        return {apply_dropout_mask(grads[0], seed, p), torch::Tensor()};
    }
};

}  // namespace

torch::Tensor t5_dropout(const torch::Tensor& x, double p, bool train) {
    if (!train || p <= 0.0) return x;
    if (p >= 1.0) return torch::zeros_like(x);
    // Other devices and dtypes have fast generators of their own.
    if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32) return torch::dropout(x, p, true);
    return CounterDropout::apply(x, p);
}

}  // namespace sumlab
