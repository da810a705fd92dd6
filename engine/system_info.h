// What SumLab runs on: versions of LibTorch and the BLAS actually loaded, for --version and Help > About.
#pragma once

#include <string>

namespace sumlab {

// "LibTorch 1.13.1, BLAS openblas-pthread (/usr/lib/.../libblas.so.3), 2 threads"
std::string runtime_versions();

// Path of the BLAS library loaded into this process, resolved through symlinks ("" if none).
std::string loaded_blas_path();

}  // namespace sumlab
