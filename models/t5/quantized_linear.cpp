#include "models/t5/quantized_linear.h"

#include "base/errors.h"
#include "models/t5/t5_model.h"

#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>
#include <torch/torch.h>

#include <algorithm>

namespace sumlab {

namespace {

using PackedPtr = c10::intrusive_ptr<LinearPackedParamsBase>;

// The engines that pack per-channel int8 weights for a dynamic linear, best first: oneDNN (Debian's LibTorch),
// fbgemm (upstream x86 builds; the same scheme), qnnpack (Arm). Chosen once per process: packing and running
// follow the engine that was current at packing time.
bool select_engine() {
    static const bool ok = [] {
        const auto& engines = at::globalContext().supportedQEngines();
        for (at::QEngine e : {at::QEngine::ONEDNN, at::QEngine::FBGEMM, at::QEngine::QNNPACK}) {
            if (std::find(engines.begin(), engines.end(), e) != engines.end()) {
                at::globalContext().setQEngine(e);
                return true;
            }
        }
        return false;
    }();
    return ok;
}

const auto& prepack_op() {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("quantized::linear_prepack", "")
                               .typed<PackedPtr(at::Tensor, c10::optional<at::Tensor>)>();
    return op;
}

const auto& linear_dynamic_op() {
    static const auto op = c10::Dispatcher::singleton()
                               .findSchemaOrThrow("quantized::linear_dynamic", "")
                               .typed<at::Tensor(at::Tensor, const PackedPtr&, bool)>();
    return op;
}

// quantize_dynamic's dynamic Linear passes reduce_range=True: activations use 0..127, so a pair of u8 x s8
// products (<= 2 * 127 * 127 = 32258) never saturates the int16 of vpmaddubsw on CPUs without VNNI; the answer is
// then the same on every x86 machine, at the price of one bit of activation resolution.
constexpr bool reduce_range = true;

}  // namespace

Quantization parse_quantization(const std::string& text, const std::string& where) {
    if (text == "none") return Quantization::none;
    if (text == "int8") return Quantization::int8;
    throw ConfigError(where, "", "\"" + text + "\" is not a quantization SumLab runs (none or int8)");
}

const std::vector<std::string>& quantization_names() {
    static const std::vector<std::string> names = {"none", "int8"};
    return names;
}

bool int8_supported() { return select_engine(); }

struct QuantizedLinear::Packed {
    PackedPtr params;
};

torch::Tensor int8_channel_scales(const torch::Tensor& weight) {
    auto amax = weight.detach().abs().amax({1}).to(torch::kDouble);
    return torch::where(amax > 0, amax / 127.0, torch::ones_like(amax));
}

QuantizedLinear::QuantizedLinear(const torch::Tensor& weight) {
    if (weight.dim() != 2 || weight.scalar_type() != torch::kFloat32 || !weight.device().is_cpu())
        throw std::invalid_argument("QuantizedLinear: the weight must be a 2-d fp32 CPU tensor");
    if (!select_engine()) throw std::runtime_error("int8: this LibTorch has no quantized engine (onednn, fbgemm or qnnpack)");
    torch::NoGradGuard no_grad;
    out_features_ = weight.size(0);
    in_features_ = weight.size(1);
    scales_ = int8_channel_scales(weight);
    // Symmetric: zero point 0, so an int8 row times an activation needs no weight-side correction.
    const auto zero_points = torch::zeros({out_features_}, torch::kLong);
    const auto qweight = torch::quantize_per_channel(weight.detach().contiguous(), scales_, zero_points, 0, torch::kQInt8);
    packed_ = std::make_unique<Packed>();
    packed_->params = prepack_op().call(qweight, c10::nullopt);
}

QuantizedLinear::~QuantizedLinear() = default;

torch::Tensor QuantizedLinear::forward(const torch::Tensor& x) const {
    TORCH_CHECK(x.scalar_type() == torch::kFloat32 && x.device().is_cpu(), "int8 linear: the input must be fp32 on the CPU");
    TORCH_CHECK(x.size(-1) == in_features_, "int8 linear: input has ", x.size(-1), " features, the layer takes ", in_features_);
    if (x.dim() >= 2) return linear_dynamic_op().call(x, packed_->params, reduce_range);
    return linear_dynamic_op().call(x.unsqueeze(0), packed_->params, reduce_range).squeeze(0);
}

// lm_head is quantised too: quantize_dynamic replaces every nn.Linear, lm_head included (HF's tied lm_head is an
// nn.Linear sharing shared.weight, so it gets its own int8 copy while the embedding stays fp32), and it is the
// largest product of a decoding step (32128 x 512 in flan-t5-small, about 40% of a step's weights). Its per-row
// scales keep every vocabulary row's own range, so its logits carry the same relative error as the other layers.
int64_t quantize_int8(T5ForConditionalGenerationImpl& model) {
    const auto& shared = model.shared->weight;
    if (!shared.device().is_cpu() || shared.scalar_type() != torch::kFloat32)
        throw ConfigError("quantize", "", "int8 needs the model in float32 on the CPU");
    if (!int8_supported()) throw ConfigError("quantize", "", "int8: this LibTorch has no quantized engine (onednn, fbgemm or qnnpack)");
    std::vector<std::pair<std::string, std::shared_ptr<T5LinearImpl>>> layers;
    for (const auto& item : model.named_modules("", /*include_self=*/false)) {
        if (auto lin = std::dynamic_pointer_cast<T5LinearImpl>(item.value())) {
            if (lin->has_lora()) throw ConfigError("quantize", item.key(), "merge the LoRA adapter before quantizing to int8");
            layers.emplace_back(item.key(), lin);
        }
    }
    for (auto& [path, lin] : layers) lin->set_quantized(std::make_shared<const QuantizedLinear>(lin->weight));
    // Inference only (the packed products have no gradient): nothing left to train.
    for (auto& p : model.parameters()) p.set_requires_grad(false);
    int64_t count = static_cast<int64_t>(layers.size());
    if (model.config().tie_word_embeddings) {
        model.tied_lm_head_int8 = std::make_shared<const QuantizedLinear>(shared);
        ++count;
    }
    return count;
}

bool is_quantized_int8(const T5ForConditionalGenerationImpl& model) {
    return model.config().tie_word_embeddings ? model.tied_lm_head_int8 != nullptr : model.lm_head->is_quantized();
}

}  // namespace sumlab
