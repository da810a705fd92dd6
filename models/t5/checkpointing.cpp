// models/t5/checkpointing: the reentrant checkpoint as a custom autograd function (see checkpointing.h),
// following torch/utils/checkpoint.py of PyTorch 1.13 (CheckpointFunction).
#include "models/t5/checkpointing.h"

#include <ATen/autocast_mode.h>
#include <ATen/core/ivalue.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/torch.h>

#include <algorithm>
#include <mutex>
#include <utility>

namespace sumlab {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// torch.cpu.amp.autocast / torch.cuda.amp.autocast's settings, as _get_autocast_kwargs records them.
struct AutocastState {
    bool cpu_enabled = false, gpu_enabled = false, cache_enabled = true;
    c10::ScalarType cpu_dtype = c10::kBFloat16, gpu_dtype = c10::kHalf;

    static AutocastState current() {
        AutocastState s;
        s.cpu_enabled = at::autocast::is_cpu_enabled();
        s.cpu_dtype = at::autocast::get_autocast_cpu_dtype();
        s.gpu_enabled = at::autocast::is_enabled();
        s.gpu_dtype = at::autocast::get_autocast_gpu_dtype();
        s.cache_enabled = at::autocast::is_autocast_cache_enabled();
        return s;
    }
    void apply() const {
        at::autocast::set_cpu_enabled(cpu_enabled);
        at::autocast::set_autocast_cpu_dtype(cpu_dtype);
        at::autocast::set_enabled(gpu_enabled);
        at::autocast::set_autocast_gpu_dtype(gpu_dtype);
        at::autocast::set_autocast_cache_enabled(cache_enabled);
    }
};

// A recorded autocast state for one scope, enabled or not (the recompute must not inherit the backward's),
// then the previous one; leaving the outermost scope drops the cached casts, as autocast's __exit__ does.
class AutocastScope {
public:
    explicit AutocastScope(const AutocastState& state) : previous_(AutocastState::current()) {
        state.apply();
        at::autocast::increment_nesting();
    }
    ~AutocastScope() {
        if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
        previous_.apply();
    }
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    AutocastState previous_;
};

// The default generators' states: the CPU one (dropout's seeds, t5_dropout.cpp; torch::dropout elsewhere)
// and those of the CUDA devices the inputs live on (get_device_states).
struct RngStates {
    at::Tensor cpu;
    std::vector<std::pair<c10::Device, at::Tensor>> cuda;

    static RngStates capture(const std::vector<c10::Device>& cuda_devices) {
        RngStates s;
        {
            at::Generator gen = at::detail::getDefaultCPUGenerator();
            std::lock_guard<std::mutex> lock(gen.mutex());
            s.cpu = gen.get_state();
        }
        for (const c10::Device& device : cuda_devices) {
            at::Generator gen = at::globalContext().defaultGenerator(device);
            std::lock_guard<std::mutex> lock(gen.mutex());
            s.cuda.emplace_back(device, gen.get_state());
        }
        return s;
    }
    void restore() const {
        {
            at::Generator gen = at::detail::getDefaultCPUGenerator();
            std::lock_guard<std::mutex> lock(gen.mutex());
            gen.set_state(cpu);
        }
        for (const auto& [device, state] : cuda) {
            at::Generator gen = at::globalContext().defaultGenerator(device);
            std::lock_guard<std::mutex> lock(gen.mutex());
            gen.set_state(state);
        }
    }
};

// torch.random.fork_rng: whatever the recompute draws, the generators leave the scope as they entered it,
// so a checkpointed step leaves the same RNG state for the next step as an uncheckpointed one.
class RngFork {
public:
    explicit RngFork(const std::vector<c10::Device>& cuda_devices) : saved_(RngStates::capture(cuda_devices)) {}
    ~RngFork() { saved_.restore(); }
    RngFork(const RngFork&) = delete;
    RngFork& operator=(const RngFork&) = delete;

private:
    RngStates saved_;
};

// What backward needs besides the saved inputs: the function and the state its forward ran under. An IValue
// capsule, since AutogradContext::saved_data holds IValues only (LibTorch 1.13 has no other slot for a closure).
struct CheckpointClosure : torch::CustomClassHolder {
    CheckpointedFunction fn;
    size_t arity = 0;            // fn's arguments
    std::vector<size_t> places;  // the argument each defined input is
    AutocastState autocast;
    std::vector<c10::Device> cuda_devices;
    RngStates rng;

    torch::Tensor call(const std::vector<torch::Tensor>& defined) const {
        std::vector<torch::Tensor> args(arity);
        for (size_t i = 0; i < defined.size(); ++i) args[places[i]] = defined[i];
        return fn(args);
    }
};

// detach_variable: the same values, cut from the graph, requiring grad where the originals do.
std::vector<torch::Tensor> detached(const std::vector<torch::Tensor>& inputs) {
    std::vector<torch::Tensor> out;
    out.reserve(inputs.size());
    for (const torch::Tensor& t : inputs) out.push_back(t.detach().requires_grad_(t.requires_grad()));
    return out;
}

// What the segment is given: a view of each leaf that requires grad. Autocast caches the bf16 cast of a
// leaf that requires grad (weights), so the leaves themselves would share one cast between their uses (the
// decoder's cross-attention k and v both read the encoder output) and sum those uses' gradients in bf16,
// where without checkpointing the input is no leaf, each use casts it, and the gradients are summed in fp32.
std::vector<torch::Tensor> uncached(const std::vector<torch::Tensor>& leaves) {
    std::vector<torch::Tensor> out;
    out.reserve(leaves.size());
    for (const torch::Tensor& t : leaves) out.push_back(t.requires_grad() ? t.view_as(t) : t);
    return out;
}

struct CheckpointFunction : torch::autograd::Function<CheckpointFunction> {
    // `anchor`: an empty tensor that requires grad when no input does, so the node joins the graph (see
    // checkpointing.h); it never receives a gradient.
    static torch::Tensor forward(AutogradContext* ctx, const c10::intrusive_ptr<CheckpointClosure>& closure,
                                 const torch::Tensor& anchor, at::TensorList inputs) {
        (void)anchor;
        CheckpointClosure& c = *closure;
        c.autocast = AutocastState::current();
        for (const torch::Tensor& t : inputs)
            if (t.is_cuda() && std::find(c.cuda_devices.begin(), c.cuda_devices.end(), t.device()) == c.cuda_devices.end())
                c.cuda_devices.push_back(t.device());
        c.rng = RngStates::capture(c.cuda_devices);
        ctx->save_for_backward(inputs.vec());
        ctx->saved_data["closure"] = c10::IValue::make_capsule(closure);
        // PyTorch runs this forward under no_grad. SumLab's layers choose their kernels by grad mode (T5Linear's
        // fused LoRA node for the plain ops, equal only "up to rounding"; T5Attention fuses only when a gradient
        // is needed), so under no_grad the loss could differ in its last bits from an uncheckpointed run (on the
        // goldens it happens not to). The segment therefore runs as it would without checkpointing, on detached inputs,
        // and its graph is dropped as soon as it returns: it costs one segment's activations at a time.
        torch::Tensor out;
        {
            at::AutoGradMode grad(true);
            out = c.call(uncached(detached(inputs.vec())));
        }
        return out.detach();
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto closure = c10::static_intrusive_pointer_cast<CheckpointClosure>(ctx->saved_data["closure"].toCapsule());
        const variable_list saved = ctx->get_saved_variables();
        std::vector<torch::Tensor> inputs;
        torch::Tensor out;
        {
            RngFork fork(closure->cuda_devices);
            closure->rng.restore();  // the forward's dropout masks
            AutocastScope amp(closure->autocast);
            at::AutoGradMode grad(true);
            inputs = detached(saved);
            out = closure->call(uncached(inputs));
        }
        TORCH_CHECK(out.requires_grad(), "checkpoint: the recomputed segment's output does not require grad");
        // Accumulates the segment's parameter gradients into their .grad and the inputs' into theirs.
        torch::autograd::backward({out}, {grads[0]});
        variable_list result{torch::Tensor(), torch::Tensor()};  // closure, anchor
        for (const torch::Tensor& t : inputs) result.push_back(t.requires_grad() ? t.grad() : torch::Tensor());
        return result;
    }
};

}  // namespace

torch::Tensor checkpoint(const CheckpointedFunction& fn, const std::vector<torch::Tensor>& inputs, bool parameters_need_grad) {
    const bool inputs_need_grad =
        std::any_of(inputs.begin(), inputs.end(), [](const torch::Tensor& t) { return t.defined() && t.requires_grad(); });
    if (!torch::GradMode::is_enabled() || !(inputs_need_grad || parameters_need_grad)) return fn(inputs);
    auto closure = c10::make_intrusive<CheckpointClosure>();
    closure->fn = fn;
    closure->arity = inputs.size();
    std::vector<torch::Tensor> defined;
    for (size_t i = 0; i < inputs.size(); ++i)
        if (inputs[i].defined()) {
            closure->places.push_back(i);
            defined.push_back(inputs[i]);
        }
    TORCH_CHECK(!defined.empty(), "checkpoint: no input tensor");
    auto anchor = torch::empty({0}, torch::TensorOptions().dtype(torch::kFloat32).device(defined[0].device())).requires_grad_(!inputs_need_grad);
    return CheckpointFunction::apply(closure, anchor, at::TensorList(defined));
}

}  // namespace sumlab
