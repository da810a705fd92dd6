// sumlab-cli tokenizer train --data D --vocab-size N --output DIR: a T5 tokenizer (SentencePiece unigram,
// pad 0 / eos 1 / unk 2, 100 <extra_id_*>) learned from DialogSum's training split (engine/text/tokenizer_train.h).
// Prints {"output", "pieces", "extra_ids", "vocab_size", "examples", "sentences", "seconds"} on one line;
// vocab_size (pieces + extra ids) is the least config.json's vocab_size may be, said again on stderr.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "engine/text/tokenizer_train.h"

#include <iostream>

namespace sumlab::cli {

void add_tokenizer_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("tokenizer", "Tokenizer tools");
    cmd->require_subcommand(1);
    auto* train = cmd->add_subcommand("train", "Train a T5 SentencePiece tokenizer on a DialogSum training split");
    auto o = std::make_shared<TokenizerTrainOptions>();
    train->add_option("--data", o->data_path, "DialogSum folder or file (its training split is used)")->required()->check(CLI::ExistingPath);
    train->add_option("--vocab-size", o->vocab_size, "SentencePiece pieces (special tokens and speaker tags included; 100 extra ids come on top)")
        ->required()
        ->check(CLI::Range(int64_t{32}, int64_t{1000000}));
    train->add_option("--output", o->output_dir, "New tokenizer folder (must not exist, or be empty)")->required();
    train->add_option("--prompt", o->prompt, "Prompt preset or template wrapped around every dialogue")->capture_default_str();
    train->add_option("--seed", o->seed, "Seed of the trainer's sampling")->capture_default_str();
    train->add_option("--threads", o->num_threads, "Trainer threads (part of the result: keep it to reproduce one)")->capture_default_str()
        ->check(CLI::Range(1, 256));
    train->add_option("--limit", o->limit, "Use only the first N training examples (0 = all)")->capture_default_str();
    train->add_flag("--verbose", o->verbose, "Show SentencePiece's training log");
    train->callback([o] {
        TokenizerTrainResult r = train_t5_tokenizer(*o);
        write_json_line(std::cout, {{"output", o->output_dir},
                                    {"pieces", r.pieces},
                                    {"extra_ids", r.extra_ids},
                                    {"vocab_size", r.vocab_size},
                                    {"examples", r.examples},
                                    {"sentences", r.sentences},
                                    {"seconds", r.seconds}});
        std::cerr << "tokenizer: " << r.pieces << " pieces + " << r.extra_ids << " extra ids; use \"vocab_size\": " << r.vocab_size
                  << " (or more, e.g. rounded up to a multiple of 64) in the model's config.json\n";
    });
}

}  // namespace sumlab::cli
