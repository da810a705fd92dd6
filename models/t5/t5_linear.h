// T5Linear: a bias-free linear layer (every T5 projection) that can carry a LoRA adapter in place.
// With LoRA on, y = W x + B(A(dropout(x))) * (lora_alpha / r), PEFT's LoRA Linear; the base
// weight keeps its name (`q.weight`) and the adapter adds `q.lora_A.weight` / `q.lora_B.weight`,
// so named_parameters() gives PEFT's key names after one prefix.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace sumlab {

class QuantizedLinear;  // models/t5/quantized_linear.h

class T5LinearImpl : public torch::nn::Module {
public:
    T5LinearImpl(int64_t in_features, int64_t out_features);

    // x: (..., in_features) -> (..., out_features)
    torch::Tensor forward(const torch::Tensor& x);

    // Attaches a fresh adapter: A kaiming-uniform(a=sqrt(5)) as nn.Linear's default init, B zeros.
    void add_lora(int64_t r, double lora_alpha, double lora_dropout);
    // Folds B·A·scaling into W and removes the adapter (PEFT's merge_and_unload).
    void merge_lora();
    void remove_lora();
    bool has_lora() const { return lora_A.defined(); }
    double lora_scaling() const { return lora_scaling_; }

    // Int8 inference (quantize_int8, models/t5/quantized_linear.h): forward runs `q`'s packed product instead of
    // the fp32 one. `weight` stays as it is (its shape, dtype and flags are read elsewhere). Not with LoRA attached.
    void set_quantized(std::shared_ptr<const QuantizedLinear> q);
    bool is_quantized() const { return quantized_ != nullptr; }

    int64_t in_features() const { return weight.size(1); }
    int64_t out_features() const { return weight.size(0); }

    torch::Tensor weight;  // (out_features, in_features)
    torch::Tensor lora_A;  // (r, in_features), registered as submodule "lora_A" parameter "weight"
    torch::Tensor lora_B;  // (out_features, r), registered as "lora_B.weight"

private:
    double lora_scaling_ = 0.0;
    double lora_dropout_ = 0.0;
    std::shared_ptr<torch::nn::Module> lora_A_module_, lora_B_module_;
    std::shared_ptr<const QuantizedLinear> quantized_;
};
TORCH_MODULE(T5Linear);

}  // namespace sumlab
