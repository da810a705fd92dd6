#include "models/t5/autocast.h"

#include <ATen/autocast_mode.h>

namespace sumlab {

Autocast::Autocast(c10::Device device, bool enabled, c10::ScalarType dtype) {
    if (!enabled) return;
    active_ = true;
    cuda_ = device.is_cuda();
    if (cuda_) {
        was_enabled_ = at::autocast::is_enabled();
        was_dtype_ = at::autocast::get_autocast_gpu_dtype();
        at::autocast::set_enabled(true);
        at::autocast::set_autocast_gpu_dtype(dtype);
    } else {
        was_enabled_ = at::autocast::is_cpu_enabled();
        was_dtype_ = at::autocast::get_autocast_cpu_dtype();
        at::autocast::set_cpu_enabled(true);
        at::autocast::set_autocast_cpu_dtype(dtype);
    }
    at::autocast::increment_nesting();
}

Autocast::~Autocast() {
    if (!active_) return;
    // Leaving the outermost scope drops the cached bf16 copies of the weights, as torch.autocast's exit does.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    if (cuda_) {
        at::autocast::set_enabled(was_enabled_);
        at::autocast::set_autocast_gpu_dtype(was_dtype_);
    } else {
        at::autocast::set_cpu_enabled(was_enabled_);
        at::autocast::set_autocast_cpu_dtype(was_dtype_);
    }
}

bool autocast_enabled(c10::DeviceType device) {
    return device == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}

}  // namespace sumlab
