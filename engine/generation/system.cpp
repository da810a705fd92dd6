#include "engine/generation/system.h"

#include "base/errors.h"
#include "base/file_util.h"
#include "models/lora.h"
#include "models/t5/quantized_linear.h"

#include <torch/cuda.h>

namespace sumlab {

torch::Device parse_device(const std::string& text, const std::string& where) {
    torch::Device device(torch::kCPU);
    try {
        device = torch::Device(text);
    } catch (const std::exception&) {
        throw ConfigError(where, "", "\"" + text + "\" is not a device (use cpu, cuda or cuda:N)");
    }
    if (device.is_cuda() && !torch::cuda::is_available())
        throw ConfigError(where, "", "\"" + text + "\": this LibTorch build has no usable CUDA device (Debian's LibTorch is CPU-only)");
    if (!device.is_cpu() && !device.is_cuda()) throw ConfigError(where, "", "\"" + text + "\" is not supported");
    return device;
}

const std::vector<std::string>& dtype_names() {
    static const std::vector<std::string> names = {"float32", "bfloat16"};
    return names;
}

torch::ScalarType parse_dtype(const std::string& text, const std::string& where) {
    if (text == "float32") return torch::kFloat32;
    if (text == "bfloat16") return torch::kBFloat16;
    throw ConfigError(where, "", "\"" + text + "\" is not a dtype SumLab runs (float32 or bfloat16)");
}

void check_quantize(const std::string& quantize, const std::string& device, const std::string& dtype, const std::string& where) {
    if (parse_quantization(quantize, where) == Quantization::none) return;
    if (!parse_device(device).is_cpu())
        throw ConfigError(where, "", "int8 runs on the CPU only (device is " + device + "); use --dtype bfloat16 on a GPU");
    if (parse_dtype(dtype) != torch::kFloat32)
        throw ConfigError(where, "", "int8 quantizes float32 weights; use it with dtype float32, not " + dtype);
    if (!int8_supported()) throw ConfigError(where, "", "this LibTorch has no quantized engine (onednn, fbgemm or qnnpack) for int8");
}

LoadedSystem load_system(const SystemSource& source) {
    const torch::ScalarType dtype = parse_dtype(source.dtype);
    check_quantize(source.quantize, source.device, source.dtype);
    const bool int8 = parse_quantization(source.quantize) == Quantization::int8;
    LoadedModel model = load_model(source.model_dir, parse_device(source.device));
    if (!source.adapter_dir.empty()) {
        load_adapter(*model.model, source.adapter_dir);
        // int8 quantizes W + B·A·scaling as one weight, as quantize_dynamic on a merge_and_unload()ed PEFT model.
        if (int8) merge_lora(*model.model);
        model.model->eval();
    }
    if (dtype != torch::kFloat32) model.model->to(dtype);
    if (int8) quantize_int8(*model.model);
    T5Tokenizer tokenizer = T5Tokenizer::from_directory(source.model_dir);
    GenerationConfig generation = model.generation;
    return {std::move(model), std::move(tokenizer), std::move(generation)};
}

GenerationConfig system_generation_config(const std::string& model_dir) {
    // load_model reads them the same way (models/checkpoint.cpp).
    return GenerationConfig::from_model_dir(model_dir, T5Config::from_file(join_path(model_dir, "config.json")));
}

}  // namespace sumlab
