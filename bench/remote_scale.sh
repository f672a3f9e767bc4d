#!/usr/bin/env bash
# The remote engine at scale against the local stack: a synthetic graph of
# N thunks (default 1000: 800 copies of distinct sources, 200 copies of
# those copies) built with `--remote lambda -j 1000` on INSTANCES function
# instances (default 64), then rebuilt from the S3 memo after `-t clean`.
# Prints wall time, invocations/s, ggninja's own CPU per thunk (user+sys:
# the engine's overhead, the function's work excluded) and peak RSS.
#   bench/remote_scale.sh [N] [INSTANCES] [RUNS]
# RUNS (default 1) repeats the pair on the same stack, each run with fresh
# sources (so its first build is cold), and ends with min/median/max.
# Environment: GGNINJA (the binary; default $CARGO_TARGET_DIR or target/,
# release), GGNINJA_LAMBDA (the function), GGNINJA_COMPARE (a second
# ggninja run right after the first in every run: the machine is noisy, so
# interleaved runs compare best), PERF_DATA (record `perf record -g` of the
# first cold run into this file; PERF_OPTS replace -g), STACK_TMP (where
# the stack lives; default /dev/shm), TMPDIR (where the projects are).
# Needs: cargo build --release --workspace --features ggninja/remote;
#        scripts/local-aws.sh install.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}
instances=${2:-64}
runs=${3:-1}
target=${CARGO_TARGET_DIR:-$root/target}
gg=${GGNINJA:-$target/release/ggninja}
fn=${GGNINJA_LAMBDA:-$target/release/ggninja-lambda}
binaries=("$gg")
[[ -n ${GGNINJA_COMPARE:-} ]] && binaries+=("$GGNINJA_COMPARE")
[[ -x $fn ]] || { echo "build first: cargo build --release --workspace --features ggninja/remote" >&2; exit 1; }
for b in "${binaries[@]}"; do
    "$b" --remote lambda --remote-bucket x --remote-function y -t list >/dev/null 2>&1 ||
        { echo "$b is missing or lacks the remote feature" >&2; exit 1; }
done

work=$(mktemp -d)
# The stack stands in for AWS: on tmpfs when there is one, so its files
# (objects, the instances' job dirs) do not churn the build's disk.
stack_tmp=${STACK_TMP:-/dev/shm}
[[ -d $stack_tmp && -w $stack_tmp ]] || stack_tmp=$work
stack=$(mktemp -d -p "$stack_tmp")
trap 'bash "$root/scripts/local-aws.sh" down "$stack" >/dev/null 2>&1 || true; rm -rf "$stack" "$work"' EXIT
bash "$root/scripts/local-aws.sh" up "$stack" --function "$fn" --instances "$instances" >/dev/null
# shellcheck source=/dev/null
. "$stack/env"

# A fresh project in $1 whose sources no earlier run uploaded.
make_project() {
    local proj=$1 tag=$2 leaves=$((n * 4 / 5))
    mkdir -p "$proj/src"
    {
        echo "rule cp"
        echo "  command = cp \$in \$out"
        for ((i = 0; i < leaves; i++)); do
            echo "payload $tag $i $RANDOM" >"$proj/src/f$i.txt"
            echo "build out/f$i.txt: cp src/f$i.txt"
        done
        for ((i = 0; i < n - leaves; i++)); do
            echo "build out2/f$i.txt: cp out/f$i.txt"
        done
    } >"$proj/build.ninja"
}

results=$work/results
measure() { # label, binary, project, perf data or "", args...
    local label=$1 bin=$2 proj=$3 perf=$4
    shift 4
    local cmd=("$bin" -C "$proj" "$@")
    [[ -n $perf ]] && cmd=(perf record -q ${PERF_OPTS:--g} -o "$perf" -- "${cmd[@]}")
    /usr/bin/time -o "$work/time" -f "%e %U %S %M" "${cmd[@]}" >"$work/out.log" 2>"$work/err.log" ||
        { cat "$work/err.log" >&2; exit 1; }
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    python3 - "$label" "$n" "$(cat "$work/time")" "$proj/.ggninja_remote.json" "$load" "$results" <<'PY'
import json, sys
label, n, times, summary, load, results = sys.argv[1:]
wall, user, sys_, rss = times.split()
s = json.load(open(summary))
n, wall, cpu = int(n), float(wall), float(user) + float(sys_)
row = dict(label=label, wall=wall, eps=n / wall, ms=cpu / n * 1000, rss=int(rss) / 1024, load=float(load))
print(f"{label:<28} wall {wall:6.2f} s  invocations {s['invocations']:>5}  memo hits {s['memo_hits']:>5}  "
      f"S3 requests {s['s3_requests']:>5}  fallbacks {s['fallbacks']}  edges/s {row['eps']:7.1f}  ggninja CPU {cpu:5.2f} s = {row['ms']:.2f} ms/thunk  "
      f"peak RSS {row['rss']:.0f} MiB  load {load}")
with open(results, "a") as f:
    f.write(json.dumps(row) + "\n")
PY
}

echo "== $n thunks, $instances instances, -j 1000 (in flight capped at ${GGNINJA_REMOTE_CONCURRENCY}), $runs run(s)"
k=0
for ((r = 1; r <= runs; r++)); do
    for b in "${binaries[@]}"; do
        name=$(basename "$(dirname "$b")")/$(basename "$b")
        proj=$work/proj-$((k += 1))
        make_project "$proj" "$k-$$"
        perf=
        [[ $r == 1 && $b == "$gg" ]] && perf=${PERF_DATA:-}
        measure "cold $name" "$b" "$proj" "$perf" --remote lambda -j 1000
        "$b" -C "$proj" -t clean >/dev/null
        measure "warm $name" "$b" "$proj" "" --remote lambda -j 1000
        rm -rf "$proj"
    done
done

python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("\n== min / median / max over runs")
for label in dict.fromkeys(r["label"] for r in rows):
    sel = [r for r in rows if r["label"] == label]
    def mmm(k, fmt):
        v = sorted(r[k] for r in sel)
        return "/".join(format(x, fmt) for x in (v[0], statistics.median(v), v[-1]))
    print(f"{label:<28} ms/thunk {mmm('ms', '.2f')}  wall s {mmm('wall', '.2f')}  "
          f"edges/s {mmm('eps', '.0f')}  RSS MiB {mmm('rss', '.0f')}  load {mmm('load', '.1f')}")
PY
