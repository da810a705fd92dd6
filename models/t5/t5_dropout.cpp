#include "models/t5/t5_dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>

namespace sumlab {

namespace {

// Eight lanes of uint32 / float (GCC and clang vector extensions): with -O2 GCC 12 left the
// scalar loop unvectorised (perf: 9 % of a LoRA step), so the lanes are spelled out.
// The types never cross a call boundary (everything inlines into apply_mask), so GCC's note that
// passing them changes the ABI without AVX does not apply.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef uint32_t u32x8 __attribute__((vector_size(32)));

// An AVX2 clone chosen at load time. Not under ThreadSanitizer: GCC instruments the clones' ifunc
// resolver, which the loader runs before TSan is initialised, so every program would crash at start.
#if defined(__SANITIZE_THREAD__)
#define SUMLAB_MASK_CLONES
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SUMLAB_MASK_CLONES
#endif
#endif
#ifndef SUMLAB_MASK_CLONES
#define SUMLAB_MASK_CLONES __attribute__((target_clones("avx2", "default")))
#endif
typedef int32_t i32x8 __attribute__((vector_size(32)));
typedef float f32x8 __attribute__((vector_size(32)));

// Chris Wellons' "lowbias32" integer hash: two multiply-xorshift rounds with low bias. In place, by
// reference: clang refuses to pass a 256-bit vector by value from the AVX2 clone to a function
// compiled without AVX (it would change the ABI).
inline void lowbias32(u32x8& x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
}

// out[i] (+)= in[i] * scale where element i is kept, else 0 (+ 0): Accumulate adds into `out`, which
// spares the pass and the temporary of a separate sum where a masked gradient joins another.
template <bool Accumulate>
inline void mask_kernel(const float* in, float* out, int64_t begin, int64_t end, uint32_t seed_lo, uint32_t seed_hi,
                        uint32_t threshold, float scale) {
    const u32x8 lane = {0, 1, 2, 3, 4, 5, 6, 7};
    int64_t i = begin;
    for (; i + 8 <= end; i += 8) {
        const u32x8 index = lane + static_cast<uint32_t>(i);
        u32x8 u = index ^ seed_lo;
        lowbias32(u);
        u += seed_hi;
        lowbias32(u);
        const i32x8 keep = u >= threshold;  // all ones where kept
        f32x8 x;
        std::memcpy(&x, in + i, sizeof x);
        x *= scale;
        i32x8 bits;
        std::memcpy(&bits, &x, sizeof bits);
        bits &= keep;
        std::memcpy(&x, &bits, sizeof x);
        if constexpr (Accumulate) {
            f32x8 acc;
            std::memcpy(&acc, out + i, sizeof acc);
            x += acc;
        }
        std::memcpy(out + i, &x, sizeof x);
    }
    for (; i < end; ++i) {
        u32x8 u = (u32x8{} + static_cast<uint32_t>(i)) ^ seed_lo;
        lowbias32(u);
        u += seed_hi;
        lowbias32(u);
        const float kept = u[0] >= threshold ? in[i] * scale : 0.0f;
        out[i] = Accumulate ? out[i] + kept : kept;
    }
}

// Element i is kept when hash(hash(i ^ seed_lo) + seed_hi) >= threshold (= p * 2^32): the mask
// depends only on the seed and the index, never on how the work was split between threads, and is
// branch-free 32-bit integer work (AVX2 clone picked at load time, SSE2 pairs otherwise). Indices
// are taken modulo 2^32: tensors that large are not dropped out.
SUMLAB_MASK_CLONES
void apply_mask(const float* in, float* out, int64_t begin, int64_t end, uint32_t seed_lo, uint32_t seed_hi,
                uint32_t threshold, float scale) {
    mask_kernel<false>(in, out, begin, end, seed_lo, seed_hi, threshold, scale);
}

SUMLAB_MASK_CLONES
void add_mask(const float* in, float* out, int64_t begin, int64_t end, uint32_t seed_lo, uint32_t seed_hi,
              uint32_t threshold, float scale) {
    mask_kernel<true>(in, out, begin, end, seed_lo, seed_hi, threshold, scale);
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
    const float* src = in.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const uint32_t lo = static_cast<uint32_t>(seed), hi = static_cast<uint32_t>(seed >> 32);
    const uint32_t threshold = drop_threshold(p);
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    at::parallel_for(0, in.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
        apply_mask(src, dst, begin, end, lo, hi, threshold, scale);
    });
    return out;
}

void add_dropout_mask(torch::Tensor& out, const torch::Tensor& x, uint64_t seed, double p, double alpha) {
    TORCH_CHECK(out.is_contiguous() && out.sizes() == x.sizes() && out.scalar_type() == torch::kFloat32,
                "add_dropout_mask: out must be a contiguous float tensor of x's shape");
    auto in = x.contiguous();
    const float* src = in.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const uint32_t lo = static_cast<uint32_t>(seed), hi = static_cast<uint32_t>(seed >> 32);
    const uint32_t threshold = drop_threshold(p);
    const float scale = static_cast<float>(alpha / (1.0 - p));
    at::parallel_for(0, in.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
        add_mask(src, dst, begin, end, lo, hi, threshold, scale);
    });
}

void save_dropout_seed(torch::autograd::AutogradContext* ctx, uint64_t seed) {
    ctx->saved_data["seed_hi"] = static_cast<int64_t>(seed >> 32);
    ctx->saved_data["seed_lo"] = static_cast<int64_t>(seed & 0xFFFFFFFFULL);
}

uint64_t saved_dropout_seed(torch::autograd::AutogradContext* ctx) {
    return (static_cast<uint64_t>(ctx->saved_data["seed_hi"].toInt()) << 32) |
           static_cast<uint64_t>(ctx->saved_data["seed_lo"].toInt());
}

namespace {

struct CounterDropout : torch::autograd::Function<CounterDropout> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p) {
        const uint64_t seed = draw_dropout_seed();
        save_dropout_seed(ctx, seed);
        ctx->saved_data["p"] = p;
        return apply_dropout_mask(x, seed, p);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const uint64_t seed = saved_dropout_seed(ctx);
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
