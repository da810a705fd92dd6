// sumlab-cli merge: folds a LoRA adapter into its base model and writes a plain model folder
// (PEFT's merge_and_unload + save_pretrained), tokenizer files included.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "models/checkpoint.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "models/lora.h"

#include <iostream>

namespace sumlab::cli {

void add_merge_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("merge", "Merge a LoRA adapter into its base model and save the result as a model folder");
    struct Opts {
        std::string model, adapter, output;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("--model", o->model, "Base model folder, or a Hub id")->required()->transform(hub_folder(hub::RepoType::Model));
    cmd->add_option("--adapter", o->adapter, "PEFT adapter folder, or a Hub id")->required()->transform(hub_folder(hub::RepoType::Model));
    cmd->add_option("--output", o->output, "Folder for the merged model")->required();
    cmd->callback([o] {
        LoadedSystem system = load_system({o->model, o->adapter});
        LoadedModel& m = system.model;
        merge_lora(*m.model);
        save_model(*m.model, m.generation, o->output);
        copy_tokenizer_files(o->model, o->output);
        write_json_line(std::cout, {{"output", o->output}, {"parameters", count_parameters(*m.model)}});
    });
}

}  // namespace sumlab::cli
