// sumlab-cli info --model DIR: the model's config summary, parameter count and file format as JSON.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "models/checkpoint.h"
#include "base/file_util.h"

#include <iostream>

namespace sumlab::cli {

void add_info_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("info", "Describe a model folder (config, parameter count, file format) as JSON");
    auto dir = std::make_shared<std::string>();
    cmd->add_option("--model", *dir, "Model folder, or a Hub id (org/name[@revision])")->required()->transform(hub_folder(hub::RepoType::Model));
    cmd->callback([dir] {
        LoadedModel m = load_model(*dir);
        const T5Config& c = m.config;
        nlohmann::json j;
        j["model"] = *dir;
        j["format"] = m.format;
        j["weights"] = m.weights_path;
        j["parameters"] = count_parameters(*m.model);
        j["config"] = c.to_json();
        j["config"].erase("architectures");
        j["generation_config"] = generation_to_json(m.generation);
        j["tokenizer"] = is_file(join_path(*dir, "spiece.model")) ? "spiece.model" : nullptr;
        std::cout << j.dump(2) << "\n";
    });
}

}  // namespace sumlab::cli
