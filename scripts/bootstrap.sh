#!/usr/bin/env bash
# Sets SumLab up on a fresh Debian 12 machine, then launches it or runs the whole test suite.
#   bash scripts/bootstrap.sh gui     install dependencies, build, launch the SumLab window
#   bash scripts/bootstrap.sh test    install dependencies, build, run every test (what CI runs)
#   bash scripts/bootstrap.sh build   install dependencies and build only
#   bash scripts/bootstrap.sh sanitize   build with ASan + UBSan and run the suites (scripts/sanitize.sh)
#   bash scripts/bootstrap.sh fuzz [S]   also clang + libFuzzer, build and run each fuzz target S seconds
# Run as root or as a user with sudo. The build goes to ./build (override with BUILD_DIR).
set -euo pipefail
mode=${1:-gui}
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

packages=(
  build-essential cmake ninja-build ccache pkg-config python3
  libtorch-dev libopenblas0-pthread libgloo-dev
  qt6-base-dev qt6-qpa-plugins libqcustomplot-dev libgl-dev
  libsentencepiece-dev nlohmann-json3-dev libcli11-dev libcurl4-openssl-dev libssl-dev
  desktop-file-utils help2man appstream
)
# Only fuzzing needs clang, its sanitizer and libFuzzer runtimes (libclang-rt-14-dev ships
# libclang_rt.fuzzer) and llvm-symbolizer; the default stays lean (GCC brings ASan/UBSan/TSan).
case "$mode" in
  fuzz) packages+=(clang libclang-rt-14-dev llvm) ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# LibTorch compiles slowly: keep ccache's results between builds, and key them on paths relative to
# the checkout so a fresh clone elsewhere (what CI builds) reuses them.
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$here}
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
case "$mode" in
  sanitize) exec bash "$here/scripts/sanitize.sh" address ;;
  fuzz) exec bash "$here/scripts/sanitize.sh" fuzz "${2:-300}" ;;
esac
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} >/dev/null
cmake --build "$build" -j"$(nproc)"

case "$mode" in
  gui)
    exec "$build/bin/sumlab" ;;
  test)
    cd "$build"
    exec ctest --output-on-failure -j"$(nproc)" ;;
  build)
    echo "bootstrap: built $build/bin/sumlab and $build/bin/sumlab-cli" ;;
  *)
    echo "usage: $0 gui|test|build|sanitize|fuzz [SECONDS]" >&2; exit 2 ;;
esac
