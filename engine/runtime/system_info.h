// What SumLab runs on: versions of LibTorch and the BLAS actually loaded, for --version and Help > About.
#pragma once

#include <c10/core/ScalarType.h>

#include <string>

namespace sumlab {

// "LibTorch 1.13.0, BLAS OpenBLAS (/usr/lib/.../libblas.so.3); LibTorch threads 1, OpenBLAS threads 2"
std::string runtime_versions();

// Thread defaults that avoid oversubscription: OpenBLAS's threads do the matrix products, and
// LibTorch's OpenMP pool (busy-waiting between kernels) stays at one thread unless OMP_NUM_THREADS
// or SUMLAB_TORCH_THREADS asks for more. Measured on 2 cores: OpenMP 2 + OpenBLAS 2 threads made
// greedy generation 5x slower than OpenMP 1 + OpenBLAS 2 (docs/BENCHMARKS.md). Call once at start-up.
void configure_default_threads();

// The same policy per precision, for the work about to run: float32 products go to OpenBLAS (LibTorch 1 thread,
// OpenBLAS all cores); bfloat16 ones to oneDNN, which runs on LibTorch's OpenMP threads (LibTorch all cores,
// OpenBLAS 1). Never both pools at full size. Does nothing once the user fixed the threads (OMP_NUM_THREADS,
// SUMLAB_TORCH_THREADS, or fix_threads()); OpenBLAS's likewise once OPENBLAS_NUM_THREADS or OMP_NUM_THREADS is set.
void use_threads_for(c10::ScalarType dtype);
// Whether the CPU has bfloat16 arithmetic units (x86 avx512_bf16 or amx_bf16, Arm bf16), read from the
// kernel's feature flags in /proc/cpuinfo. Without them bf16 products are emulated and slower than fp32.
bool cpu_has_bf16_units();
// The sentence to show a user who asked for bf16 on this CPU, or "" where bf16 is fast.
std::string bf16_speed_warning();
// Sets LibTorch's and OpenBLAS's threads to `threads` each and keeps them there (bench --threads).
void fix_threads(int threads);

// Keeps freed tensor-sized blocks in the heap instead of returning them to the kernel (see .cpp).
void configure_allocator();

// Path of the BLAS library loaded into this process, resolved through symlinks ("" if none).
std::string loaded_blas_path();

}  // namespace sumlab
