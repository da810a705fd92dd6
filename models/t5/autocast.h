// Autocast: Hugging Face's mixed precision (the Trainer's `bf16=True`, torch.autocast). Inside the
// scope LibTorch's own autocast dispatch runs matmuls and linears in `dtype` and everything else
// (layer norms, softmax, the loss, the residual stream) in fp32, so the same op lists torch applies
// to a Python model apply here; weights, gradients and optimizer state stay fp32. As in the Trainer,
// only the forward and the loss run inside; backward follows the recorded casts.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace sumlab {

class Autocast {
public:
    // enabled = false leaves the state as it is (so callers can write `Autocast amp(device, args.bf16)`).
    Autocast(c10::Device device, bool enabled, c10::ScalarType dtype = c10::kBFloat16);
    ~Autocast();
    Autocast(const Autocast&) = delete;
    Autocast& operator=(const Autocast&) = delete;

private:
    bool active_ = false, cuda_ = false, was_enabled_ = false;
    c10::ScalarType was_dtype_ = c10::kBFloat16;
};

// Whether autocast is on for this device type on the calling thread (fused fp32 kernels step aside).
bool autocast_enabled(c10::DeviceType device);

}  // namespace sumlab
