#include "app/cli/commands.h"

namespace sumlab::cli {

void add_generate_command(CLI::App& app) { (void)app; }

}  // namespace sumlab::cli
