// sumlab-cli: the headless front end. Every subcommand shares models/ and engine/ with the GUI.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "engine/runtime/system_info.h"
#include "base/errors.h"

#include <iostream>

int main(int argc, char** argv) {
    sumlab::configure_default_threads();
    sumlab::configure_allocator();
    CLI::App app{"SumLab command line: FLAN-T5 dialogue summarization (inference, training, ROUGE)", "sumlab-cli"};
    app.set_version_flag("--version", sumlab::cli::version_text());
    app.require_subcommand(1);
    sumlab::cli::add_info_command(app);
    sumlab::cli::add_tokenize_command(app);
    sumlab::cli::add_generate_command(app);
    sumlab::cli::add_loss_command(app);
    sumlab::cli::add_rouge_command(app);
    sumlab::cli::add_data_command(app);
    sumlab::cli::add_evaluate_command(app);
    sumlab::cli::add_bench_command(app);
    sumlab::cli::add_train_command(app);
    sumlab::cli::add_merge_command(app);
    sumlab::cli::add_convert_command(app);
    sumlab::cli::add_download_command(app);
    sumlab::cli::add_cache_command(app);
    sumlab::cli::add_init_command(app);
    sumlab::cli::add_tokenizer_command(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const sumlab::Error& e) {
        std::cerr << "sumlab-cli: error: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "sumlab-cli: error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
