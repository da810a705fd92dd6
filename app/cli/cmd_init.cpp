// sumlab-cli init --config FILE --tokenizer DIR --output DIR [--seed N]: a new T5 model folder, initialised
// as transformers 4.28's T5PreTrainedModel._init_weights does (models/t5/t5_init.h), ready to train from
// scratch. Prints {"output", "parameters", "vocab_size", "tokenizer_vocab_size", "seed"} on one line.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "engine/text/tokenizer.h"
#include "models/t5/t5_init.h"

#include <iostream>

namespace sumlab::cli {

void add_init_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("init", "Write a new, randomly initialised T5 model folder (to train from scratch)");
    struct Opts {
        std::string config, tokenizer, output;
        uint64_t seed = 42;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("--config", o->config, "config.json of the new model (any T5 shape: gated-gelu or relu, tied or not)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--tokenizer", o->tokenizer, "Folder with spiece.model (and tokenizer_config.json, special_tokens_map.json), copied into the model")
        ->required()
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--output", o->output, "New model folder (must not exist, or be empty)")->required();
    cmd->add_option("--seed", o->seed, "Seed of the initial weights (the same seed gives the same model)")->capture_default_str();
    cmd->callback([o] {
        T5Tokenizer tokenizer = T5Tokenizer::from_directory(o->tokenizer);
        T5InitSpec spec;
        spec.config_path = o->config;
        spec.tokenizer_dir = o->tokenizer;
        spec.tokenizer = {tokenizer.model_path(), tokenizer.vocab_size(), tokenizer.pad_token_id(), tokenizer.eos_token_id()};
        spec.output_dir = o->output;
        spec.seed = o->seed;
        T5InitResult r = create_initialized_model(spec);
        write_json_line(std::cout, {{"output", o->output},
                                    {"parameters", r.parameters},
                                    {"vocab_size", r.config.vocab_size},
                                    {"tokenizer_vocab_size", tokenizer.vocab_size()},
                                    {"seed", o->seed}});
    });
}

}  // namespace sumlab::cli
