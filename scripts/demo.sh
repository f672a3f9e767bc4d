#!/usr/bin/env bash
# Builds ggninja (with remote execution) and uses it, as CMake's make
# program, to build and test the example project in fixtures/cmake-demo:
# first locally, then on the local S3 + Lambda stack (scripts/local-aws.sh:
# real S3 server and Lambda emulator on 127.0.0.1, function instances
# confined to what Lambda gives them), printing the remote summary; then
# once more from the remote cache. Installs what is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="${1:-$root/target/demo-build}"
# A fresh start: a tree left by an earlier run would be up to date, and the
# stack's bucket is new each time.
rm -rf "$out"
"$root/scripts/install-deps.sh"
bash "$root/scripts/local-aws.sh" install
cargo build --release --workspace --features ggninja/remote --manifest-path "$root/Cargo.toml"
gg="$root/target/release/ggninja"

echo "== local build"
cmake -G Ninja -S "$root/fixtures/cmake-demo" -B "$out/local" -DCMAKE_MAKE_PROGRAM="$gg"
"$gg" -C "$out/local"
"$gg" -C "$out/local"    # second run: no work to do
(cd "$out/local" && ctest --output-on-failure)

echo "== remote build on the local S3 + Lambda stack"
stack=$(mktemp -d)
trap 'bash "$root/scripts/local-aws.sh" down "$stack"; rm -rf "$stack"' EXIT
bash "$root/scripts/local-aws.sh" up "$stack" --function "$root/target/release/ggninja-lambda" --instances 4
# shellcheck source=/dev/null
. "$stack/env"
cmake -G Ninja -S "$root/fixtures/cmake-demo" -B "$out/remote" -DCMAKE_MAKE_PROGRAM="$gg"
"$gg" -C "$out/remote" --remote lambda -j 16
(cd "$out/remote" && ctest --output-on-failure)
echo "== again after -t clean: every remote edge from the S3 memo"
"$gg" -C "$out/remote" -t clean >/dev/null
"$gg" -C "$out/remote" --remote lambda -j 16
cat "$out/remote/.ggninja_remote.json"
