// Training-step benchmarks for `sumlab-cli bench`, mirroring the Python reference's workload:
// batch 8, sources padded to 256 with valid lengths 256, 240, ..., 144, targets of 64 tokens,
// dropout 0.1 active; one step = forward + backward + clip to 1.0 + AdamW + zero grad.
#pragma once

#include "engine/bench/bench.h"

namespace sumlab {

// Model arithmetic of one training step (forward + backward; padded positions count, as they are
// computed), in FLOPs. LoRA's backward skips the frozen weights' gradients.
double t5_training_step_flops(const T5Config& config, int64_t batch, int64_t source_len, int64_t target_len, bool lora,
                              int64_t lora_r = 32);

// Fills the declared train_full and train_lora measurements (LoRA r=32, alpha 32, q and v).
void provide_training_benchmarks(BenchRegistry& registry);

}  // namespace sumlab
