#include "engine/system.h"

#include "models/errors.h"
#include "models/lora.h"

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

LoadedSystem load_system(const SystemSource& source) {
    LoadedModel model = load_model(source.model_dir, parse_device(source.device));
    if (!source.adapter_dir.empty()) {
        load_adapter(*model.model, source.adapter_dir);
        model.model->eval();
    }
    T5Tokenizer tokenizer = T5Tokenizer::from_directory(source.model_dir);
    GenerationConfig generation = model.generation;
    return {std::move(model), std::move(tokenizer), std::move(generation)};
}

}  // namespace sumlab
