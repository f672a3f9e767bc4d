#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2012
# Side-by-side benchmark of ggninja vs ninja on a synthetic Chromium-like tree.
#
#   bench/compare.sh [GGNINJA_BIN [NINJA_BIN]]
#       GGNINJA_BIN defaults to target/release/ggninja (build it with
#       `cargo build --release` first), NINJA_BIN to `ninja` on PATH.
#
# Environment knobs (defaults in brackets):
#   EDGES [50000]        size of the generated tree (build statements)
#   SEED [1]             generator seed
#   WARMUP [1] RUNS [5]  per case, for the load / -n / no-op cases
#   FULL_WARMUP [0] FULL_RUNS [3]
#                        for the full build (one full 50k build is ~1 min on
#                        2 cores; FULL_RUNS=0 skips timing it)
#   GGNINJA_CACHE [~/.cache/ggninja-bench]  tree cache, work copies, results
#   RESULTS_DIR          where JSON + summary.md go (default: a fresh dir
#                        under $GGNINJA_CACHE/results)
#
# The tree is generated once per (EDGES, SEED, gen_manifest.py contents) and
# cached; each binary then gets its own fresh `cp -a` copy of it, so neither
# sees the other's .ninja_log/.ninja_deps.  Cases, in order, each timed for
# ninja then ggninja:
#   1. manifest load:  BIN -C out -t targets all      (unbuilt tree)
#   2. full build:     BIN -C out   after removing all outputs and logs
#   3. dry run:        BIN -C out -n                  (up-to-date tree)
#   4. no-op build:    BIN -C out                     (up-to-date tree)
# No -j is passed: both use their default parallelism (ninja: nproc+2).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GG=$(resolve_bin "${1:-$REPO_ROOT/target/release/ggninja}")
NJ=$(resolve_bin "${2:-ninja}")
EDGES=${EDGES:-50000}
SEED=${SEED:-1}
WARMUP=${WARMUP:-1}
RUNS=${RUNS:-5}
FULL_WARMUP=${FULL_WARMUP:-0}
FULL_RUNS=${FULL_RUNS:-3}

# --- the cached template tree ------------------------------------------------
gen_hash=$(sha256sum "$BENCH_DIR/gen_manifest.py" | cut -c1-10)
TPL=$GGNINJA_CACHE/synth/e$EDGES-s$SEED-$gen_hash
if [[ ! -e $TPL/.complete ]]; then
    log "generating synthetic tree ($EDGES edges) in $TPL"
    rm -rf "$TPL" "$TPL.tmp"
    mkdir -p "$(dirname "$TPL")"
    python3 "$BENCH_DIR/gen_manifest.py" --edges "$EDGES" --seed "$SEED" "$TPL.tmp"
    mv "$TPL.tmp" "$TPL"
    touch "$TPL/.complete"
else
    log "using cached tree $TPL"
fi
n_build=$(cat "$TPL"/out/*.ninja "$TPL"/out/manifests/*.ninja | grep -c '^build ')

# --- per-binary work copies --------------------------------------------------
WORK=$GGNINJA_CACHE/synth-work
declare -A BIN=([ninja]=$NJ [ggninja]=$GG)
LABELS=(ninja ggninja)
for l in "${LABELS[@]}"; do
    log "fresh copy of the tree for $l"
    rm -rf "${WORK:?}/$l"
    mkdir -p "$WORK"
    cp -a "$TPL" "$WORK/$l"
done
out() { printf '%s\n' "$WORK/$1/out"; }
clean_cmd() {
    local o; o=$(out "$1")
    printf 'rm -rf %s/obj %s/gen %s/lib %s/bin %s/.ninja_log %s/.ninja_deps\n' "$o" "$o" "$o" "$o" "$o" "$o"
}

RES=$(new_results_dir synth)
log "results -> $RES (timer: $BENCH_TIMER)"

# --- cases -------------------------------------------------------------------
bench_case "$RES" load "manifest load (\`-t targets all\`)"
for l in "${LABELS[@]}"; do
    bench_time "$RES" load "$l" "$WARMUP" "$RUNS" "${BIN[$l]} -C $(out "$l") -t targets all"
done

bench_case "$RES" full "full build from clean"
for l in "${LABELS[@]}"; do
    bench_time "$RES" full "$l" "$FULL_WARMUP" "$FULL_RUNS" "${BIN[$l]} -C $(out "$l")" "$(clean_cmd "$l")"
done

# Make sure each tree is fully built by its own binary (a no-op if the full
# case ran), and keep what it printed for the checks below.
for l in "${LABELS[@]}"; do
    "${BIN[$l]}" -C "$(out "$l")" >"$RES/settle.$l.log" 2>&1 || log "$l: build to settle the tree FAILED (see $RES/settle.$l.log)"
    "${BIN[$l]}" -C "$(out "$l")" >"$RES/noop-check.$l.log" 2>&1 || true
done

bench_case "$RES" dry "dry run \`-n\` (up-to-date)"
for l in "${LABELS[@]}"; do
    bench_time "$RES" dry "$l" "$WARMUP" "$RUNS" "${BIN[$l]} -C $(out "$l") -n"
done

bench_case "$RES" noop "no-op build (up-to-date)"
for l in "${LABELS[@]}"; do
    bench_time "$RES" noop "$l" "$WARMUP" "$RUNS" "${BIN[$l]} -C $(out "$l")"
done

# --- checks (not timed) ------------------------------------------------------
checks() {
    local l o n_out ref
    for l in "${LABELS[@]}"; do
        o=$(out "$l")
        n_out=$(find "$o/obj" "$o/gen" "$o/lib" "$o/bin" -type f 2>/dev/null | wc -l) || true
        printf -- '- %s: %s outputs on disk; second build said: `%s`\n' \
            "$l" "$n_out" "$(tail -n1 "$RES/noop-check.$l.log" 2>/dev/null)"
        # Does the reference ninja agree that this tree is up to date (i.e. can
        # it read the .ninja_log/.ninja_deps this binary wrote)?
        ref=$("$NJ" -C "$o" -n 2>&1 | tail -n1) || true
        printf -- '  reference ninja -n on it: `%s`\n' "$ref"
    done
}

{
    echo "## ggninja vs ninja: synthetic Chromium-like tree"
    echo
    echo "- tree: $TPL ($n_build build statements, EDGES=$EDGES SEED=$SEED)"
    echo "- ninja: $NJ ($(bin_version "$NJ"))"
    echo "- ggninja: $GG ($(bin_version "$GG"))"
    echo "- $(nproc) cores; timer: $BENCH_TIMER; warmup/runs $WARMUP/$RUNS, full build $FULL_WARMUP/$FULL_RUNS"
    echo
    python3 "$BENCH_DIR/report.py" "$RES"
    echo
    echo "Checks:"
    checks
} | tee "$RES/summary.md"
log "summary: $RES/summary.md"
