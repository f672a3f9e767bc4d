#!/usr/bin/env bash
# Calibrates `-t simulate --remote lambda` against the local stack (issue 13).
#   bench/remote_calib.sh [JOBS ...]        (default: 4 16 64)
# 1. The probe (bench/remote_calib.py probe): a chain of 15 edges of 100 ms,
#    built here, then remotely at -j1 on one fresh instance, PROBES times
#    (default 3): each edge's remote minus local time gives a warm
#    invocation's latency, the first (cold) one's start-up, and the upload
#    and download rates of 8 MiB inputs and outputs; the CPU the stack and
#    ggninja used for the 9 small edges (built first), per invocation.
#    Their medians are the measured model (`--latency --startup --bandwidth
#    --cores $(nproc) --cpu`; bandwidth 8 MiB each way over the time both
#    transfers added).
# 2. The DAG (bench/remote_calib.py dag; EDGES, default 300; SEED): built
#    here once at -j LOCAL_JOBS (default 4: at -j64 on 2 loaded cores the
#    shells' start-up added a median 80 ms, up to 1.3 s, to the logged
#    sleeps; at -j4 9 ms) for its .ninja_log; then per JOBS, RUNS times
#    (default 1): the remote model's prediction at that -j with the
#    defaults and with the measured model (both from the local log), then
#    `-t clean` and a real `--remote lambda -j JOBS` build on a fresh stack
#    of JOBS instances (empty bucket, no warm instance), its wall time
#    measured (a run where any edge ran here fails the script). Prints each
#    run and a table of predicted vs measured.
# Environment: PROBES, LOCAL_JOBS, RUNS, EDGES, SEED (above), GGNINJA (a
# build with --cores/--cpu: the local builds and -t simulate; default
# $CARGO_TARGET_DIR or target/, release), GGNINJA_REMOTE (built with
# --features ggninja/remote; default the same dir), GGNINJA_LAMBDA (the
# function), MODEL (flags replacing the measured model, e.g. "--latency 40
# --startup 20 --bandwidth 100"), STACK_TMP (where the stack lives; default
# /dev/shm), TMPDIR (where the projects are).
# Needs: scripts/local-aws.sh install.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
gg=${GGNINJA:-$target/release/ggninja}
ggr=${GGNINJA_REMOTE:-$target/release/ggninja}
fn=${GGNINJA_LAMBDA:-$target/release/ggninja-lambda}
probes=${PROBES:-3}
local_jobs=${LOCAL_JOBS:-4}
runs=${RUNS:-1}
jobs=("$@")
((${#jobs[@]})) || jobs=(4 16 64)
py=$root/bench/remote_calib.py
[[ -x $gg && -x $fn ]] || { echo "need GGNINJA ($gg) and GGNINJA_LAMBDA ($fn)" >&2; exit 1; }
"$ggr" --remote lambda --remote-bucket x --remote-function y -t list >/dev/null 2>&1 ||
    { echo "$ggr is missing or lacks the remote feature" >&2; exit 1; }

work=$(mktemp -d)
stack_tmp=${STACK_TMP:-/dev/shm}
[[ -d $stack_tmp && -w $stack_tmp ]] || stack_tmp=$work
stack=
down() {
    [[ -n $stack ]] && bash "$root/scripts/local-aws.sh" down "$stack" >/dev/null 2>&1
    [[ -n $stack ]] && rm -rf "$stack"
    stack=
}
trap 'down; rm -rf "$work"' EXIT

# stack_up INSTANCES: a fresh stack (empty bucket, no instance warm yet).
stack_up() {
    stack=$(mktemp -d -p "$stack_tmp")
    bash "$root/scripts/local-aws.sh" up "$stack" --function "$fn" --instances "$1" >"$work/up.log" 2>&1 ||
        { cat "$work/up.log" >&2; exit 1; }
}

# remote_build PROJ JOBS [TARGETS]: a remote build on the stack; writes to
# $work/result its wall time, and the CPU ms per invocation that it and
# the stack used (the stack's processes and their children, ggninja's own).
remote_build() {
    local proj=$1 j=$2 c0 c1
    shift 2
    c0=$(python3 "$py" cpu "$stack")
    (
        # shellcheck source=/dev/null
        . "$stack/env"
        /usr/bin/time -o "$work/time" -f "%e %U %S" "$ggr" -C "$proj" --remote lambda -j "$j" "$@" >"$work/remote.out" 2>&1
    ) || { cat "$work/remote.out" >&2; exit 1; }
    c1=$(python3 "$py" cpu "$stack")
    python3 - "$(cat "$work/time")" "$c0" "$c1" "$proj/.ggninja_remote.json" >"$work/result" <<'PY'
import json, sys
wall, user, sys_ = map(float, sys.argv[1].split())
s = json.load(open(sys.argv[4]))
n = s["invocations"]
if s["fallbacks"] or s["local_runs"] or not n:
    sys.exit(f"not every edge ran remotely: {s}")
print(f"{wall:.3f} {(float(sys.argv[3]) - float(sys.argv[2]) + user + sys_) / n * 1000:.1f}")
PY
}

# simulate PROJ JOBS FLAGS...: the remote replay's predicted seconds.
simulate() {
    local proj=$1 j=$2
    shift 2
    "$gg" -C "$proj" -t simulate --remote lambda -j "$j" --json "$@" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['remote']['runs'][0]['seconds'])"
}

echo "== probe: 15 edges of 100 ms in a chain, -j1 on one fresh instance, $probes time(s)"
for ((p = 1; p <= probes; p++)); do
    proj=$work/probe-$p
    python3 "$py" probe "$proj"
    "$gg" -C "$proj" -j1 >/dev/null
    cp "$proj/.ninja_log" "$work/probe.log"
    "$gg" -C "$proj" -t clean >/dev/null
    stack_up 1
    # The small edges first: the CPU an invocation takes is theirs.
    remote_build "$proj" 1 out/p8
    read -r _ cpu <"$work/result"
    remote_build "$proj" 1
    down
    echo "$(python3 "$py" probe-terms "$work/probe.log" "$proj/.ninja_log") cpu_ms=$cpu" | tee -a "$work/terms"
done
model=${MODEL:-$(python3 - "$work/terms" "$(nproc)" <<'PY'
import statistics, sys
rows = [dict(kv.split("=") for kv in l.split()) for l in open(sys.argv[1])]
med = lambda k: statistics.median(float(r[k]) for r in rows)
# 8 MiB each way: the rate over the time both transfers added.
bw = 2 / (1 / med("up_mb_s") + 1 / med("down_mb_s"))
print(f"--latency {med('latency_ms'):.0f} --startup {med('startup_ms'):.0f} --bandwidth {bw:.0f} "
      f"--cores {sys.argv[2]} --cpu {med('cpu_ms'):.0f}")
PY
)}
echo "measured model: $model"

proj=$work/dag
python3 "$py" dag "$proj" --edges "${EDGES:-300}" --seed "${SEED:-13}"
"$gg" -C "$proj" -j"$local_jobs" >/dev/null
cp "$proj/.ninja_log" "$work/local.log"
echo "== DAG: $(grep -c '^build' "$proj/build.ninja") edges built here at -j$local_jobs; per -j: predicted (defaults, measured model) and measured"
for j in "${jobs[@]}"; do
    for ((r = 1; r <= runs; r++)); do
        cp "$work/local.log" "$proj/.ninja_log"
        before=$(simulate "$proj" "$j")
        # shellcheck disable=SC2086
        after=$(simulate "$proj" "$j" $model)
        "$gg" -C "$proj" -t clean >/dev/null
        stack_up "$j"
        remote_build "$proj" "$j"
        down
        read -r wall cpu <"$work/result"
        echo "-j$j run $r: measured $wall s, predicted $before s (defaults), $after s (measured model); CPU $cpu ms an invocation; $(python3 "$py" excess "$work/local.log" "$proj/.ninja_log")"
        echo "$j $wall $before $after" >>"$work/rows"
    done
done
cp "$work/local.log" "$proj/.ninja_log"

python3 - "$work/rows" "$model" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print(f"\n| -j | measured s (median) | defaults s | error | measured model s | error |\n|---|---|---|---|---|---|")
for j in dict.fromkeys(r[0] for r in rows):
    sel = [r for r in rows if r[0] == j]
    wall, before, after = (statistics.median(float(r[k]) for r in sel) for k in (1, 2, 3))
    err = lambda p: f"{(p - wall) / wall * 100:+.1f} %"
    print(f"| {j} | {wall:.2f} | {before:.2f} | {err(before)} | {after:.2f} | {err(after)} |")
print(f"(measured model: {sys.argv[2]})")
PY
