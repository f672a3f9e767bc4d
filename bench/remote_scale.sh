#!/usr/bin/env bash
# The remote engine at scale against the local stack: a synthetic graph of
# N thunks (default 1000: 800 copies of distinct sources, 200 copies of
# those copies) built with `--remote lambda -j 1000` on INSTANCES function
# instances (default 64), then rebuilt from the S3 memo after `-t clean`.
# Prints wall time, invocations/s, ggninja's own CPU per thunk (user+sys:
# the engine's overhead, the function's work excluded) and peak RSS.
#   bench/remote_scale.sh [N] [INSTANCES]
# Needs: cargo build --release --workspace --features ggninja/remote;
#        scripts/local-aws.sh install.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}
instances=${2:-64}
gg=$root/target/release/ggninja
fn=$root/target/release/ggninja-lambda
[[ -x $gg && -x $fn ]] || { echo "build first: cargo build --release --workspace --features ggninja/remote" >&2; exit 1; }
"$gg" --remote lambda --remote-bucket x --remote-function y -t list >/dev/null 2>&1 ||
    { echo "$gg lacks the remote feature" >&2; exit 1; }

work=$(mktemp -d)
stack=$work/stack
trap 'bash "$root/scripts/local-aws.sh" down "$stack" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
bash "$root/scripts/local-aws.sh" up "$stack" --function "$fn" --instances "$instances" >/dev/null
# shellcheck source=/dev/null
. "$stack/env"

proj=$work/proj
mkdir -p "$proj/src"
leaves=$((n * 4 / 5))
{
    echo "rule cp"
    echo "  command = cp \$in \$out"
    for ((i = 0; i < leaves; i++)); do
        echo "payload $i $RANDOM" >"$proj/src/f$i.txt"
        echo "build out/f$i.txt: cp src/f$i.txt"
    done
    for ((i = 0; i < n - leaves; i++)); do
        echo "build out2/f$i.txt: cp out/f$i.txt"
    done
} >"$proj/build.ninja"

measure() { # label, args...
    local label=$1
    shift
    local t
    t=$( { /usr/bin/time -f "%e %U %S %M" "$gg" -C "$proj" "$@" >"$work/out.log" 2>"$work/err.log"; } 2>&1 | tail -1)
    tail -1 "$work/err.log" | grep -q '^[0-9.]* [0-9.]* [0-9.]* [0-9]*$' && t=$(tail -1 "$work/err.log")
    read -r wall user sys rss <<<"$t"
    local inv hits
    inv=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["invocations"])' "$proj/.ggninja_remote.json")
    hits=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["memo_hits"])' "$proj/.ggninja_remote.json")
    python3 - "$label" "$n" "$wall" "$user" "$sys" "$rss" "$inv" "$hits" <<'PY'
import sys
label, n, wall, user, sys_, rss, inv, hits = sys.argv[1:]
n, wall, cpu = int(n), float(wall), float(user) + float(sys_)
print(f"{label:<22} wall {wall:6.2f} s  invocations {inv:>5}  memo hits {hits:>5}  "
      f"edges/s {n / wall:7.1f}  ggninja CPU {cpu:5.2f} s = {cpu / n * 1000:.2f} ms/thunk  peak RSS {int(rss) / 1024:.0f} MiB")
PY
}

echo "== $n thunks, $instances instances, -j 1000 (in flight capped at ${GGNINJA_REMOTE_CONCURRENCY})"
measure "cold (invocations)" --remote lambda -j 1000
"$gg" -C "$proj" -t clean >/dev/null
measure "warm (S3 memo)" --remote lambda -j 1000

