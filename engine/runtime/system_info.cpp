#include "engine/runtime/system_info.h"

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <malloc.h>
#include <link.h>
#include <string>
#include <thread>

namespace sumlab {

namespace {
int collect_blas(struct dl_phdr_info* info, size_t, void* data) {
    std::string name = info->dlpi_name ? info->dlpi_name : "";
    auto* out = static_cast<std::string*>(data);
    if (out->empty() && (name.find("libblas") != std::string::npos || name.find("libopenblas") != std::string::npos ||
                         name.find("libmkl") != std::string::npos)) {
        char resolved[PATH_MAX];
        *out = ::realpath(name.c_str(), resolved) ? std::string(resolved) : name;
    }
    return 0;
}
}  // namespace

namespace {
// Set once the user chose: LibTorch's threads by SUMLAB_TORCH_THREADS / OMP_NUM_THREADS, OpenBLAS's by
// OPENBLAS_NUM_THREADS / OMP_NUM_THREADS (which OpenBLAS also reads), both by fix_threads().
std::atomic<bool> g_threads_fixed{false};
std::atomic<bool> g_blas_threads_fixed{false};

void set_blas_threads(int threads) {
    if (auto set = reinterpret_cast<void (*)(int)>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(threads);
}
}  // namespace

void configure_default_threads() {
    g_blas_threads_fixed = std::getenv("OPENBLAS_NUM_THREADS") || std::getenv("OMP_NUM_THREADS");
    if (const char* n = std::getenv("SUMLAB_TORCH_THREADS")) {
        int threads = std::atoi(n);
        if (threads > 0) at::set_num_threads(threads);
        g_threads_fixed = true;
        return;
    }
    if (std::getenv("OMP_NUM_THREADS")) {
        g_threads_fixed = true;
        return;
    }
    at::set_num_threads(1);
}

void use_threads_for(c10::ScalarType dtype) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const bool one_dnn = dtype == c10::kBFloat16 || dtype == c10::kHalf || dtype == c10::kQInt8;  // kQInt8: int8 linears
    const int torch_threads = one_dnn ? cores : 1;
    if (!g_threads_fixed && at::get_num_threads() != torch_threads) at::set_num_threads(torch_threads);
    if (!g_blas_threads_fixed) set_blas_threads(one_dnn ? 1 : cores);
}

bool cpu_has_bf16_units() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        // x86 lists "flags : ...", Arm "Features : ..."; the first processor's line speaks for all.
        if (line.rfind("flags", 0) != 0 && line.rfind("Features", 0) != 0) continue;
        const std::string padded = " " + line + " ";
        for (const char* flag : {" avx512_bf16 ", " amx_bf16 ", " bf16 "})
            if (padded.find(flag) != std::string::npos) return true;
        return false;
    }
    return false;
}

std::string bf16_speed_warning() {
    if (cpu_has_bf16_units()) return {};
    return "this CPU has no bfloat16 units (avx512_bf16, amx_bf16): bf16 is emulated here and runs slower than fp32";
}

void fix_threads(int threads) {
    g_threads_fixed = true;
    g_blas_threads_fixed = true;
    at::set_num_threads(threads);
    set_blas_threads(threads);
}

void configure_allocator() {
    // glibc serves blocks over 128 KiB-32 MiB (adaptive) with fresh mmaps and trims freed tops:
    // a decoding step allocates and frees the same few MiB-sized tensors hundreds of times, and
    // every fresh mapping costs page faults. Keeping them in the heap cut greedy decoding by ~10 %.
    // GLIBC_TUNABLES set by the user wins.
    if (std::getenv("GLIBC_TUNABLES")) return;
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

std::string loaded_blas_path() {
    std::string path;
    dl_iterate_phdr(collect_blas, &path);
    return path;
}

std::string runtime_versions() {
    std::string blas = loaded_blas_path();
    std::string kind = "unknown";
    if (blas.find("openblas") != std::string::npos) kind = "OpenBLAS";
    else if (blas.find("mkl") != std::string::npos) kind = "MKL";
    else if (blas.find("blas") != std::string::npos) kind = "reference BLAS (slow: install libopenblas0-pthread)";
    std::string threads = "LibTorch threads " + std::to_string(at::get_num_threads());
    using get_threads_fn = int (*)();
    if (auto fn = reinterpret_cast<get_threads_fn>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads")))
        threads += ", OpenBLAS threads " + std::to_string(fn());
    return std::string("LibTorch ") + TORCH_VERSION + ", BLAS " + kind + (blas.empty() ? "" : " (" + blas + ")") + "; " + threads;
}

}  // namespace sumlab
