#!/usr/bin/env bash
# Warm clean rebuilds of one memo project, binaries compared in blocks:
#
#   bench/memo_blocks.sh PROJECT_DIR [ROUNDS [PER]] BIN...
#
# PROJECT_DIR is a tree bench/memo_projects.sh left ($GGNINJA_CACHE/
# memo-projects/NAME: its `gg` build dir and `store`). Each round, each BIN
# runs PER+1 `-t clean` + `--cache` rebuilds in a row; the first of a block
# is dropped (what the last binary saved may be asked again). Prints, per
# binary, the median and every task-clock (its process's CPU, threads
# included; no command runs on a full hit) and the median page faults.
# Blocks rather than pairs: on a noisy 2-core machine the spread of one
# binary's runs is ±30%, so compare medians over several rounds.
# A make project (no build.ninja in gg/: zlib, bzip2, lz4, lua5.4) is
# cleaned with `make clean` and built with `--make` and GOALS (lua5.4's:
# GOALS=linux).
# REMOVE=FILE (a path under gg/, an object) measures the everyday loop
# instead: each run removes only FILE, so the build is one hit and what
# every run pays (loading the graph, the logs and the saved caches).
# Each binary keeps its own saved caches (gg/.ggninja_footprints, _keys,
# _hashes, _scans, _toolchain), put back before its blocks and taken after:
# binaries whose formats differ would otherwise load each other's as
# damaged; with REMOVE, a binary's first block starts from a full clean
# rebuild (not counted), so its caches are whole.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

D=${1:?usage: memo_blocks.sh PROJECT_DIR [ROUNDS [PER]] BIN...}
shift
[[ -d $D/gg && -d $D/store ]] || die "$D has no gg/ and store/ (run bench/memo_projects.sh)"
ROUNDS=4 PER=4
[[ ${1:-} =~ ^[0-9]+$ ]] && { ROUNDS=$1; shift; }
[[ ${1:-} =~ ^[0-9]+$ ]] && { PER=$1; shift; }
(($# > 0)) || die "no binary given"
BINS=()
for b in "$@"; do BINS+=("$(resolve_bin "$b")"); done
command -v perf >/dev/null || die "perf is not installed"
STAT=$(mktemp)
KEPT=$(mktemp -d)
trap 'rm -rf "$STAT" "$KEPT"' EXIT
CACHES=(.ggninja_footprints .ggninja_hashes .ggninja_scans .ggninja_toolchain .ggninja_keys)

MAKE_ARGS=()
if [[ ! -f $D/gg/build.ninja ]]; then
    read -ra goals <<<"${GOALS:-}"
    MAKE_ARGS=(--make "${goals[@]}")
fi
clean() {
    if ((${#MAKE_ARGS[@]})); then make -C "$D/gg" clean >/dev/null; else "$1" -C "$D/gg" -t clean >/dev/null; fi
}
build() {
    "$1" -C "$D/gg" -j2 --cache --store "$D/store" "${MAKE_ARGS[@]}" >/dev/null 2>&1 || die "$1 failed in $D"
}
# Puts binary number $1's saved caches back (none yet: with REMOVE, a
# full rebuild makes them), or takes them after its block.
caches_in() {
    local k=$KEPT/$1 c
    if [[ -d $k ]]; then
        for c in "${CACHES[@]}"; do rm -f "$D/gg/$c"; [[ -f $k/$c ]] && cp "$k/$c" "$D/gg/$c"; done
    elif [[ -n ${REMOVE:-} ]]; then
        clean "$2" && build "$2"
    fi
}
caches_out() {
    local k=$KEPT/$1 c
    mkdir -p "$k"
    for c in "${CACHES[@]}"; do [[ -f $D/gg/$c ]] && cp "$D/gg/$c" "$k/$c"; done
    return 0
}

for _ in $(seq "$ROUNDS"); do
    for k in "${!BINS[@]}"; do
        bin=${BINS[$k]}
        caches_in "$k" "$bin"
        for i in $(seq 0 "$PER"); do
            if [[ -n ${REMOVE:-} ]]; then rm -f "$D/gg/$REMOVE"; else clean "$bin"; fi
            # perf puts its own dir first in PATH: the build gets ours.
            perf stat -e task-clock,page-faults -x, -o "$STAT" -- env PATH="$PATH" \
                "$bin" -C "$D/gg" -j2 --cache --store "$D/store" "${MAKE_ARGS[@]}" >/dev/null 2>&1 ||
                die "$bin failed in $D"
            ((i > 0)) || continue
            printf '%s %s %s\n' "$bin" "$(grep task-clock "$STAT" | cut -d, -f1)" \
                "$(grep page-faults "$STAT" | cut -d, -f1)"
        done
        caches_out "$k"
    done
done | python3 -c '
import collections, statistics, sys
cpu, faults = collections.defaultdict(list), collections.defaultdict(list)
for line in sys.stdin:
    b, ms, pf = line.split()
    cpu[b].append(float(ms)); faults[b].append(int(pf))
first = statistics.median(next(iter(cpu.values())))
for b, v in cpu.items():
    m = statistics.median(v)
    print(f"{b}: median {m:.1f} ms ({m / first:.2f}x the first), page faults {statistics.median(faults[b]):.0f}, "
          f"runs {sorted(round(x) for x in v)}")
'
