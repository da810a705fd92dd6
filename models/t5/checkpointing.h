// Gradient checkpointing: PyTorch 1.13's torch.utils.checkpoint (use_reentrant=True), which Hugging Face
// 4.28 wraps around every T5Block when `gradient_checkpointing=True`. Forward keeps only a segment's inputs;
// backward reruns the segment with grad enabled, under the RNG state and the autocast state its forward ran
// with (the same dropout masks, the same bf16 casts), backpropagates through the recomputed graph — which
// accumulates the segment's parameter gradients into their .grad, as the reentrant checkpoint does — and
// returns the inputs' gradients. Losses and gradients equal those without it (tst_gradient_checkpointing).
#pragma once

#include <torch/types.h>

#include <functional>
#include <vector>

namespace sumlab {

using CheckpointedFunction = std::function<torch::Tensor(const std::vector<torch::Tensor>&)>;

// fn(inputs), remembering for backward only `inputs` (undefined ones are passed through as undefined).
// `parameters_need_grad`: whether any parameter fn uses requires grad. PyTorch's reentrant checkpoint gives a
// segment none of whose inputs requires grad no gradients at all (PEFT works around it with
// enable_input_require_grads); here such a segment still connects to the graph, so its parameters get the
// gradients they would get without checkpointing.
//
// Not checkpointed (fn runs as it is) when grad mode is off or nothing can need a gradient. Like the
// reentrant original, it supports backward() only: torch::autograd::grad() over a checkpointed graph, or
// backward() with `inputs`, does not reach the segments' parameters. fn must be deterministic given the RNG
// state and must not change state outside its output (no caches).
torch::Tensor checkpoint(const CheckpointedFunction& fn, const std::vector<torch::Tensor>& inputs, bool parameters_need_grad);

}  // namespace sumlab
