#!/usr/bin/env bash
# Builds SumLab with sanitizers and runs the test suites under them (docs/RELIABILITY.md).
#   bash scripts/sanitize.sh            AddressSanitizer + UndefinedBehaviorSanitizer, labels unit|golden|gui
#   bash scripts/sanitize.sh thread     ThreadSanitizer, the GUI and worker-thread suites (label gui)
#   bash scripts/sanitize.sh fuzz SECS  clang, ASan + UBSan + libFuzzer: each fuzz/ target run SECS seconds
# Only SumLab's code is instrumented (LibTorch and Qt are Debian's builds). Build folders: build-asan,
# build-tsan, build-fuzz (override with BUILD_DIR). The tests get ASAN_OPTIONS/UBSAN_OPTIONS/TSAN_OPTIONS from
# CTest (halt on the first report; suppressions in scripts/sanitizers/, each with its reason).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-address}
jobs=${JOBS:-$(nproc)}

# The sanitizer builds use the project's compiler (GCC on Debian; CXX=clang++ works too); the
# fuzzers need clang's libFuzzer. -O1 -g keeps the reports readable and the build quick.
configure() {  # configure DIR EXTRA-ARGS...
  local dir=$1; shift
  cmake -S "$here" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" "$@" >/dev/null
}

case "$mode" in
  address)
    build=${BUILD_DIR:-$here/build-asan}
    configure "$build" -DSUMLAB_SANITIZE=address,undefined -DSUMLAB_BUILD_GUI=ON
    cmake --build "$build" -j"$jobs"
    ctest --test-dir "$build" -L "unit|golden|gui" --output-on-failure -j"$jobs" ;;
  thread)
    build=${BUILD_DIR:-$here/build-tsan}
    configure "$build" -DSUMLAB_SANITIZE=thread -DSUMLAB_BUILD_GUI=ON
    cmake --build "$build" -j"$jobs"
    ctest --test-dir "$build" -L "gui" --output-on-failure -j"$jobs" ;;
  fuzz)
    build=${BUILD_DIR:-$here/build-fuzz}
    configure "$build" -DCMAKE_CXX_COMPILER=clang++ -DSUMLAB_FUZZ=ON -DSUMLAB_BUILD_GUI=OFF
    cmake --build "$build" -j"$jobs" --target fuzz_dialogsum fuzz_results_csv fuzz_safetensors fuzz_torch_archive \
      fuzz_config_json fuzz_run_folder fuzz_sentencepiece_load fuzz_hub_responses fuzz_rating_file
    "$here/fuzz/run_fuzzers.sh" "$build" "${2:-300}" ;;
  *)
    echo "usage: $0 [address|thread|fuzz [SECONDS]]" >&2; exit 2 ;;
esac
