// What SumLab runs on: versions of LibTorch and the BLAS actually loaded, for --version and Help > About.
#pragma once

#include <string>

namespace sumlab {

// "LibTorch 1.13.0, BLAS OpenBLAS (/usr/lib/.../libblas.so.3); LibTorch threads 1, OpenBLAS threads 2"
std::string runtime_versions();

// Thread defaults that avoid oversubscription: OpenBLAS's threads do the matrix products, and
// LibTorch's OpenMP pool (busy-waiting between kernels) stays at one thread unless OMP_NUM_THREADS
// or SUMLAB_TORCH_THREADS asks for more. Measured on 2 cores: OpenMP 2 + OpenBLAS 2 threads made
// greedy generation 5x slower than OpenMP 1 + OpenBLAS 2 (docs/BENCHMARKS.md). Call once at start-up.
void configure_default_threads();

// Keeps freed tensor-sized blocks in the heap instead of returning them to the kernel (see .cpp).
void configure_allocator();

// Path of the BLAS library loaded into this process, resolved through symlinks ("" if none).
std::string loaded_blas_path();

}  // namespace sumlab
