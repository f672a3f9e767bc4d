# shellcheck shell=bash disable=SC2034
# Shared helpers for bench/compare.sh and bench/llvm.sh (source, don't run).
#
# Timing uses hyperfine (-N: no intermediate shell) when installed, else
# bench/timeit.py, which writes the same JSON shape.  Every (case, binary)
# pair is its own timing run, so a failing ggninja does not lose the ninja
# numbers: the failure is recorded as RESULTS/<case>.<label>.json.failed and
# shows as FAILED in the table.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(dirname "$BENCH_DIR")
GGNINJA_CACHE=${GGNINJA_CACHE:-$HOME/.cache/ggninja-bench}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# resolve_bin PATH_OR_NAME -> absolute path of an executable
resolve_bin() {
    local b=$1 p
    if [[ $b == */* ]]; then
        [[ -x $b ]] || die "binary not found or not executable: $b"
        p=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")
    else
        p=$(command -v "$b") || die "binary not on PATH: $b"
    fi
    printf '%s\n' "$p"
}

bin_version() {
    local v
    v=$("$1" --version 2>/dev/null) || true
    printf '%s\n' "${v%%$'\n'*}"
}

# BENCH_TIMER=timeit.py forces the python fallback.
if [[ -z ${BENCH_TIMER:-} ]]; then
    if command -v hyperfine >/dev/null 2>&1; then
        BENCH_TIMER=hyperfine
    else
        BENCH_TIMER=timeit.py
    fi
fi

# bench_case RESULTS CASE DESCRIPTION: declare a table row (in order).
bench_case() {
    printf '%s\t%s\n' "$2" "$3" >>"$1/cases"
}

# bench_time RESULTS CASE LABEL WARMUP RUNS CMD [PREPARE]
# CMD/PREPARE are plain argument strings (no shell syntax, no spaces in paths).
bench_time() {
    local results=$1 case=$2 label=$3 warmup=$4 runs=$5 cmd=$6 prepare=${7:-}
    local json=$results/$case.$label.json
    rm -f "$json" "$json.failed"
    if (( runs <= 0 )); then
        log "$case/$label: skipped (runs=0)"
        return 0
    fi
    log "$case/$label: $cmd"
    local rc=0
    if [[ $BENCH_TIMER == hyperfine ]]; then
        local args=(-N --style basic --warmup "$warmup" --runs "$runs" --export-json "$json" -n "$label")
        [[ -n $prepare ]] && args+=(--prepare "$prepare")
        hyperfine "${args[@]}" "$cmd" >&2 || rc=$?
    else
        local args=(--warmup "$warmup" --runs "$runs" --export-json "$json" --command-name "$label")
        [[ -n $prepare ]] && args+=(--prepare "$prepare")
        python3 "$BENCH_DIR/timeit.py" "${args[@]}" "$cmd" || rc=$?
    fi
    if (( rc != 0 )); then
        rm -f "$json"
        touch "$json.failed"
        log "$case/$label FAILED (exit $rc); rerunning once to show its output:"
        [[ -n $prepare ]] && $prepare >/dev/null 2>&1
        # shellcheck disable=SC2086
        $cmd >"$results/$case.$label.log" 2>&1 || true
        tail -n 15 "$results/$case.$label.log" | sed 's/^/    | /' >&2
    fi
    return 0
}

# new_results_dir NAME -> prints the fresh results directory
new_results_dir() {
    local d=${RESULTS_DIR:-$GGNINJA_CACHE/results/$1-$(date +%Y%m%d-%H%M%S)}
    mkdir -p "$d"
    : >"$d/cases"
    printf '%s\n' "$d"
}
