#!/usr/bin/env bash
# Sets SumLab up on a fresh Debian 12 machine, then launches it or runs the whole test suite.
#   bash scripts/bootstrap.sh gui     install dependencies, build, launch the SumLab window
#   bash scripts/bootstrap.sh test    install dependencies, build, run every test (what CI runs)
#   bash scripts/bootstrap.sh build   install dependencies and build only
# Run as root or as a user with sudo. The build goes to ./build (override with BUILD_DIR).
set -euo pipefail
mode=${1:-gui}
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

packages=(
  build-essential cmake ninja-build ccache pkg-config python3
  libtorch-dev libopenblas0-pthread
  qt6-base-dev qt6-qpa-plugins libqcustomplot-dev libgl-dev
  libsentencepiece-dev nlohmann-json3-dev libcli11-dev libcurl4-openssl-dev libssl-dev
  desktop-file-utils help2man appstream
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# LibTorch compiles slowly: keep ccache's results between builds.
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
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
    echo "usage: $0 gui|test|build" >&2; exit 2 ;;
esac
