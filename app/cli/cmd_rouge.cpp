#include "app/cli/commands.h"

namespace sumlab::cli {

void add_rouge_command(CLI::App& app) { (void)app; }

}  // namespace sumlab::cli
