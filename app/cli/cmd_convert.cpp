// sumlab-cli convert: rewrites a model folder (safetensors, sharded, or pytorch_model.bin; a run's checkpoint)
// as one model.safetensors in float32, float16 or bfloat16 -- model.to(dtype).save_pretrained(), with a
// LoRA adapter merged first when one is given -- tokenizer files included. The half-size copy is what
// SumLab ships (resources/models) and what a user uploads; loading reads it back into fp32, as
// transformers' from_pretrained does. The output folder appears whole or not at all.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "base/file_util.h"
#include "base/staged_folder.h"
#include "models/checkpoint.h"
#include "models/lora.h"

#include <filesystem>
#include <iostream>

namespace sumlab::cli {

void add_convert_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("convert", "Save a model folder again as model.safetensors in float32, float16 or bfloat16");
    struct Opts {
        std::string model, adapter, output, torch_dtype = "float16";
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("--model", o->model, "Model folder (any weights format HF writes, or a run's checkpoint), or a Hub id")
        ->required()
        ->transform(hub_folder(hub::RepoType::Model));
    cmd->add_option("--adapter", o->adapter, "PEFT LoRA adapter to merge into the model first, or a Hub id")
        ->transform(hub_folder(hub::RepoType::Model));
    cmd->add_option("--output", o->output, "New model folder (must not exist, or be empty)")->required();
    cmd->add_option("--torch-dtype", o->torch_dtype,
                    "How the weights are stored: float16 (half the size; refused when a weight exceeds its range), "
                    "bfloat16 or float32")
        ->check(CLI::IsMember({"float32", "float16", "bfloat16"}))
        ->capture_default_str();
    cmd->callback([o] {
        const torch::ScalarType dtype = o->torch_dtype == "float16"    ? torch::kFloat16
                                        : o->torch_dtype == "bfloat16" ? torch::kBFloat16
                                                                       : torch::kFloat32;
        StagedFolder out(o->output);  // refuses a non-empty folder before anything is loaded
        LoadedSystem system = load_system({o->model, o->adapter});
        LoadedModel& m = system.model;
        if (!o->adapter.empty()) merge_lora(*m.model);
        save_model(*m.model, m.generation, out.path(), dtype);
        copy_tokenizer_files(o->model, out.path());
        out.commit();
        write_json_line(std::cout, {{"output", o->output},
                                    {"torch_dtype", o->torch_dtype},
                                    {"parameters", count_parameters(*m.model)},
                                    {"bytes", static_cast<int64_t>(std::filesystem::file_size(join_path(o->output, "model.safetensors")))}});
    });
}

}  // namespace sumlab::cli
