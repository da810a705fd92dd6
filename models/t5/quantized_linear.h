// Int8 inference (`--quantize int8`): the scheme of torch.ao.quantization.quantize_dynamic on nn.Linear (and of
// CTranslate2's int8): weights quantised once, per output channel, symmetric int8 (scale = max|w_row| / 127, zero
// point 0, round to nearest); activations quantised dynamically at every call, per tensor, asymmetric uint8 from
// the tensor's own min and max (torch's ChooseQuantizationParams with reduce_range, i.e. the 7-bit range 0..127, as
// quantize_dynamic's nn.quantized.dynamic.Linear passes reduce_range=True); the products run in int32 on LibTorch's
// quantized::linear_dynamic (oneDNN here: Debian's LibTorch has onednn and qnnpack, no fbgemm) and come back fp32.
// quantize_int8() swaps every T5 linear's matmul for its packed int8 one; embeddings, layer norms, attention
// scores and softmax stay fp32. Inference only: the packed product has no gradient.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace sumlab {

class T5ForConditionalGenerationImpl;

// "none" (fp32 products, exact) or "int8".
enum class Quantization { none, int8 };
Quantization parse_quantization(const std::string& text, const std::string& where = "quantize");
const std::vector<std::string>& quantization_names();

// Whether this LibTorch can run int8 linears (the onednn or qnnpack engine, CPU only).
bool int8_supported();

class QuantizedLinear {
public:
    // weight: (out_features, in_features), fp32 on the CPU. Packs a per-channel int8 copy; `weight` is not kept.
    explicit QuantizedLinear(const torch::Tensor& weight);
    ~QuantizedLinear();
    QuantizedLinear(const QuantizedLinear&) = delete;
    QuantizedLinear& operator=(const QuantizedLinear&) = delete;

    // x: (..., in_features) fp32 -> (..., out_features) fp32.
    torch::Tensor forward(const torch::Tensor& x) const;

    const torch::Tensor& weight_scales() const { return scales_; }  // (out_features) float64: max|w_row| / 127
    int64_t in_features() const { return in_features_; }
    int64_t out_features() const { return out_features_; }

private:
    struct Packed;
    std::unique_ptr<Packed> packed_;
    torch::Tensor scales_;
    int64_t in_features_ = 0, out_features_ = 0;
};

// Per-output-channel symmetric scales of `weight` (out, in): max|w_row| / 127 (rows of zeros get 1, any scale
// represents them exactly), as float64 -- what quantize_per_channel takes.
torch::Tensor int8_channel_scales(const torch::Tensor& weight);

// Quantises every linear layer of a CPU fp32 model: attention q/k/v/o, feed-forward wi/wi_0/wi_1/wo and the
// output projection (see quantized_linear.cpp for why lm_head too). LoRA adapters must be merged first
// (ConfigError otherwise). Returns how many layers were quantised.
int64_t quantize_int8(T5ForConditionalGenerationImpl& model);

// Whether quantize_int8 was applied to `model` (its output projection runs int8).
bool is_quantized_int8(const T5ForConditionalGenerationImpl& model);

}  // namespace sumlab
