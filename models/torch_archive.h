// Reads a state dict written by torch.save (the zip format: archive/data.pkl + archive/data/N),
// such as Hugging Face's pytorch_model.bin. The pickle is interpreted by a small unpickler that
// accepts only what torch.save writes for a state dict (dicts, OrderedDict, tensors rebuilt from
// storages, plain scalars and strings); any other global or opcode is an error naming the file, so
// loading never executes code from the file.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace sumlab {

// Returns the (name, tensor) pairs of the state dict in file order, each converted to `dtype`
// (float types only; integer tensors keep their type). Throws FileError naming the path.
std::vector<std::pair<std::string, torch::Tensor>> load_torch_state_dict(const std::string& path,
                                                                         torch::Dtype dtype = torch::kFloat32);

}  // namespace sumlab
