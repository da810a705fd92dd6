// Dropout for T5 training. Same semantics as torch::dropout (each element kept with probability
// 1 - p and scaled by 1 / (1 - p)), but on CPU fp32 the mask comes from a counter-based generator
// (an integer hash of seed and index) seeded once per call from LibTorch's default generator:
// torch 1.13's CPU bernoulli_ draws one mt19937 double per element, which made dropout the
// largest single cost of a flan-t5-small training step (46 ms per 8x6x256x256 attention map
// against 4 ms for its softmax). The mask is not stored: backward regenerates it from the seed,
// so a step keeps no dropout masks alive. Runs stay reproducible and resumable, because the seed
// is drawn from the generator whose state checkpoints save.
#pragma once

#include <torch/csrc/autograd/custom_function.h>
#include <torch/types.h>

namespace sumlab {

// x * mask / (1 - p) with autograd; x itself when !train or p == 0.
torch::Tensor t5_dropout(const torch::Tensor& x, double p, bool train);

// The pieces, for fused functions that recompute a dropout in their own backward:
// a seed from LibTorch's default CPU generator, and x * mask(seed) / (1 - p) without autograd
// (CPU fp32; `x` of any layout, the result contiguous).
uint64_t draw_dropout_seed();
torch::Tensor apply_dropout_mask(const torch::Tensor& x, uint64_t seed, double p);
// A seed kept in a custom autograd function's context for its backward (as two 32-bit halves: IValue
// holds int64, and a bit cast keeps it exact).
void save_dropout_seed(torch::autograd::AutogradContext* ctx, uint64_t seed);
uint64_t saved_dropout_seed(torch::autograd::AutogradContext* ctx);

// out += alpha * x * mask(seed) / (1 - p) in one pass (`out` contiguous fp32 of x's shape).
void add_dropout_mask(torch::Tensor& out, const torch::Tensor& x, uint64_t seed, double p, double alpha);

}  // namespace sumlab
