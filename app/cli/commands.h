// Each sumlab-cli subcommand lives in its own cmd_*.cpp and registers itself on the root app here.
// Subcommands throw sumlab::Error on bad input; main() turns that into one line on stderr and exit code 1.
#pragma once

#include <CLI/CLI.hpp>

namespace sumlab::cli {

void add_info_command(CLI::App& app);      // cmd_info.cpp
void add_tokenize_command(CLI::App& app);  // cmd_tokenize.cpp
void add_generate_command(CLI::App& app);  // cmd_generate.cpp
void add_loss_command(CLI::App& app);      // cmd_loss.cpp
void add_rouge_command(CLI::App& app);     // cmd_rouge.cpp
void add_data_command(CLI::App& app);      // cmd_data.cpp
void add_evaluate_command(CLI::App& app);  // cmd_evaluate.cpp
void add_bench_command(CLI::App& app);     // cmd_bench.cpp
void add_train_command(CLI::App& app);     // cmd_train.cpp
void add_merge_command(CLI::App& app);     // cmd_merge.cpp
void add_convert_command(CLI::App& app);   // cmd_convert.cpp
void add_download_command(CLI::App& app);  // cmd_download.cpp
void add_cache_command(CLI::App& app);     // cmd_cache.cpp
void add_init_command(CLI::App& app);      // cmd_init.cpp
void add_tokenizer_command(CLI::App& app); // cmd_tokenizer.cpp

}  // namespace sumlab::cli
