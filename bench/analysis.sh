#!/usr/bin/env bash
# The build analysis tools on the synthetic Chromium-like tree with a full
# .ninja_log: -t analyze, -t simulate -j 1000 and -t report (and the page's
# size). Goals (docs/benchmarks.md): analyze and simulate under 1 s each,
# report under 2 s with a page under 5 MB.
#
#   bench/analysis.sh [GGNINJA_BIN]
#       GGNINJA_BIN defaults to target/release/ggninja.
#
# Environment knobs (defaults in brackets): EDGES [50000], SEED [1],
# WARMUP [1], RUNS [5], GGNINJA_CACHE [~/.cache/ggninja-bench], RESULTS_DIR.
#
# The log: the tree (bench/gen_manifest.py) is built once with GGNINJA_BIN;
# its commands are shell no-ops, so the log holds the real graph's order
# and a few ms per edge. The built tree is cached per (EDGES, SEED,
# gen_manifest.py contents) under $GGNINJA_CACHE/analysis/, so later runs
# only time the tools. Nothing here rewrites the log: every tool reads it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GG=$(resolve_bin "${1:-$REPO_ROOT/target/release/ggninja}")
EDGES=${EDGES:-50000}
SEED=${SEED:-1}
WARMUP=${WARMUP:-1}
RUNS=${RUNS:-5}

gen_hash=$(sha256sum "$BENCH_DIR/gen_manifest.py" | cut -c1-10)
TREE=$GGNINJA_CACHE/analysis/e$EDGES-s$SEED-$gen_hash
if [[ ! -e $TREE/.complete ]]; then
    log "generating and building the synthetic tree ($EDGES edges) in $TREE"
    rm -rf "$TREE" "$TREE.tmp"
    mkdir -p "$(dirname "$TREE")"
    python3 "$BENCH_DIR/gen_manifest.py" --edges "$EDGES" --seed "$SEED" "$TREE.tmp"
    "$GG" -C "$TREE.tmp/out" >/dev/null
    mv "$TREE.tmp" "$TREE"
    touch "$TREE/.complete"
else
    log "using cached built tree $TREE"
fi
OUT=$TREE/out
log "$(wc -l <"$OUT/.ninja_log") lines in .ninja_log"

RESULTS=$(new_results_dir analysis)
PAGE=$RESULTS/report.html
bench_case "$RESULTS" analyze "\`-t analyze\`"
bench_time "$RESULTS" analyze ggninja "$WARMUP" "$RUNS" "$GG -C $OUT -t analyze"
bench_case "$RESULTS" simulate "\`-t simulate -j 1000\`"
bench_time "$RESULTS" simulate ggninja "$WARMUP" "$RUNS" "$GG -C $OUT -t simulate -j 1000"
bench_case "$RESULTS" report "\`-t report\`"
bench_time "$RESULTS" report ggninja "$WARMUP" "$RUNS" "$GG -C $OUT -t report -o $PAGE"

python3 - "$RESULTS" "$PAGE" <<'EOF' | tee "$RESULTS/summary.md"
import json, os, sys
results, page = sys.argv[1], sys.argv[2]
print("| case | mean | ± |")
print("|---|---:|---:|")
for line in open(os.path.join(results, "cases")):
    case, desc = line.rstrip("\n").split("\t")
    path = os.path.join(results, case + ".ggninja.json")
    if not os.path.exists(path):
        print(f"| {desc} | FAILED | |")
        continue
    r = json.load(open(path))["results"][0]
    print(f"| {desc} | {r['mean']:.3f} s | {r['stddev'] or 0:.3f} s |")
print(f"\npage: {os.path.getsize(page) / 1e6:.2f} MB")
EOF
log "results in $RESULTS"
