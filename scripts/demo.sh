#!/usr/bin/env bash
# Builds ggninja and uses it, as CMake's make program, to build and test the
# example project in fixtures/cmake-demo. Installs cmake/gcc if missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
cargo build --release --manifest-path "$root/Cargo.toml"
gg="$root/target/release/ggninja"
out="${1:-$root/target/demo-build}"
cmake -G Ninja -S "$root/fixtures/cmake-demo" -B "$out" -DCMAKE_MAKE_PROGRAM="$gg"
"$gg" -C "$out"
"$gg" -C "$out"    # second run: no work to do
(cd "$out" && ctest --output-on-failure)
