#include "app/cli/cli_common.h"

#include "engine/runtime/system_info.h"
#include "base/errors.h"

#include <torch/cuda.h>
#include <torch/types.h>

#include <cstdio>
#include <ostream>

namespace sumlab::cli {

std::string version_text() {
    return std::string("sumlab-cli ") + SUMLAB_VERSION + " (" + sumlab::runtime_versions() + ")";
}

void write_json_line(std::ostream& out, const nlohmann::json& value) {
    out << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

std::string format_double(double x) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    return buf;
}

}  // namespace sumlab::cli
