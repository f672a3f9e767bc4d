#!/usr/bin/env bash
# Thunk-graph generation: `ggninja -t thunks` (every edge's footprint, input
# hashes and linked thunk hashes, printed as JSON lines) on the synthetic
# tree with the real cc/c++/ar as commands (gen_manifest.py --real-commands;
# sources are empty files, nothing is built). Beside it, for scale, ninja
# walking the same graph to print every command (`-t commands`).
#
#   bench/thunks.sh [GGNINJA_BIN [NINJA_BIN]]
#
# Knobs: EDGES [50000], RUNS [3], GGNINJA_CACHE, RESULTS_DIR, BENCH_TIMER.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GG=$(resolve_bin "${1:-$REPO_ROOT/target/release/ggninja}")
NJ=$(resolve_bin "${2:-ninja}")
EDGES=${EDGES:-50000}
RUNS=${RUNS:-3}
TREE=$GGNINJA_CACHE/thunks-tree-$EDGES
if [[ ! -f $TREE/out/build.ninja ]]; then
    rm -rf "$TREE"
    python3 "$BENCH_DIR/gen_manifest.py" "$TREE" --edges "$EDGES" --real-commands >&2
fi
OUT=$TREE/out

RES=$(new_results_dir thunks)
bench_case "$RES" first "every thunk, no saved hashes, scans or toolchain answers (ninja: \`-t commands\`)"
bench_time "$RES" first ninja 1 "$RUNS" "$NJ -C $OUT -t commands"
bench_time "$RES" first ggninja 0 "$RUNS" "$GG -C $OUT -t thunks" "rm -f $OUT/.ggninja_hashes $OUT/.ggninja_toolchain $OUT/.ggninja_scans"
bench_case "$RES" warm "every thunk, warm caches (ninja: \`-t commands\`)"
bench_time "$RES" warm ninja 1 "$RUNS" "$NJ -C $OUT -t commands"
bench_time "$RES" warm ggninja 1 "$RUNS" "$GG -C $OUT -t thunks"

{
    echo "# -t thunks on $EDGES edges (real commands), $(nproc) cores"
    echo
    echo "$("$GG" -C "$OUT" -t thunks | wc -l) thunks, $("$GG" -C "$OUT" -t thunks | wc -c) bytes of JSON"
    echo
    python3 "$BENCH_DIR/report.py" "$RES"
} | tee "$RES/summary.md"
