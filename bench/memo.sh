#!/usr/bin/env bash
# shellcheck disable=SC2016
# Memoized rebuilds of a real CMake project: ggninja --cache against ninja
# with ccache (Debian's, as CMAKE_<LANG>_COMPILER_LAUNCHER), side by side.
#
#   bench/memo.sh [GGNINJA_BIN [NINJA_BIN]]
#
# The project is ninja 1.11.1 from Debian's sources (scripts/fetch-source.sh;
# Release, so -O3 and LTO: 64 edges). Cases, each for ninja then ggninja:
#   1. cold:  clean build, no cache at all (plain ninja / plain ggninja)
#   2. fill:  clean build into an empty cache (ccache / --cache store)
#   3. warm:  `-t clean` then build, cache warm
#   4. fresh: a new build directory of the same sources at another path
#             (configured in the prepare step, not timed), cache warm
# Every run's outputs are checked against the cold build's binaries after
# the timings (byte-identical `ninja` and `ninja_test`).
#
# Knobs: RUNS [3] (warm, fresh), COLD_RUNS [1] (cold, fill), GGNINJA_CACHE,
# RESULTS_DIR, BENCH_TIMER (see lib.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Internal: `memo.sh --fresh SRC DIR [cmake args]` (re)configures DIR.
if [[ ${1:-} == --fresh ]]; then
    src=$2 dir=$3
    shift 3
    rm -rf "$dir"
    cmake -G Ninja -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
    exit 0
fi
# Internal: `memo.sh --reset BIN DIR CACHE` cleans DIR and empties CACHE.
if [[ ${1:-} == --reset ]]; then
    "$2" -C "$3" -t clean >/dev/null
    rm -rf "$4"
    mkdir -p "$4"
    exit 0
fi

GG=$(resolve_bin "${1:-$REPO_ROOT/target/release/ggninja}")
NJ=$(resolve_bin "${2:-ninja}")
RUNS=${RUNS:-3}
COLD_RUNS=${COLD_RUNS:-1}
command -v ccache >/dev/null || die "ccache is not installed (scripts/install-deps.sh)"
command -v cmake >/dev/null || die "cmake is not installed (scripts/install-deps.sh)"

SRC=$("$REPO_ROOT/scripts/fetch-source.sh" ninja-build "$GGNINJA_CACHE/sources" | tail -n 1)
W=$GGNINJA_CACHE/memo-work
rm -rf "$W"
mkdir -p "$W"
export CCACHE_DIR=$W/ccache-store
STORE=$W/store
SELF=$BENCH_DIR/memo.sh
LAUNCH=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

"$SELF" --fresh "$SRC" "$W/plain"
"$SELF" --fresh "$SRC" "$W/ccache" "${LAUNCH[@]}"
"$SELF" --fresh "$SRC" "$W/gg"

RES=$(new_results_dir memo)
log "results in $RES"

bench_case "$RES" cold "clean build, no cache (ninja / ggninja)"
bench_time "$RES" cold ninja 0 "$COLD_RUNS" "$NJ -C $W/plain" "$NJ -C $W/plain -t clean"
bench_time "$RES" cold ggninja 0 "$COLD_RUNS" "$GG -C $W/gg" "$GG -C $W/gg -t clean"

bench_case "$RES" fill "clean build into an empty cache (ninja+ccache / ggninja --cache)"
bench_time "$RES" fill ninja 0 "$COLD_RUNS" "$NJ -C $W/ccache" \
    "$SELF --reset $NJ $W/ccache $CCACHE_DIR"
bench_time "$RES" fill ggninja 0 "$COLD_RUNS" "$GG -C $W/gg --cache --store $STORE" \
    "$SELF --reset $GG $W/gg $STORE"

bench_case "$RES" warm "\`-t clean\`, then build with a warm cache"
bench_time "$RES" warm ninja 0 "$RUNS" "$NJ -C $W/ccache" "$NJ -C $W/ccache -t clean"
bench_time "$RES" warm ggninja 0 "$RUNS" "$GG -C $W/gg --cache --store $STORE" \
    "$GG -C $W/gg -t clean"

bench_case "$RES" fresh "fresh build dir at another path, warm cache"
bench_time "$RES" fresh ninja 0 "$RUNS" "$NJ -C $W/other/ccache" \
    "$SELF --fresh $SRC $W/other/ccache ${LAUNCH[*]}"
bench_time "$RES" fresh ggninja 0 "$RUNS" "$GG -C $W/other/gg --cache --store $STORE" \
    "$SELF --fresh $SRC $W/other/gg"

bad=0
for d in ccache gg other/ccache other/gg; do
    for b in ninja ninja_test; do
        cmp -s "$W/plain/$b" "$W/$d/$b" || { log "$d/$b differs from the cold build"; bad=1; }
    done
done
(( bad == 0 )) && log "binaries of every build are byte-identical to the cold build's"

{
    echo "# ggninja --cache vs ninja + ccache: ninja 1.11.1 (Release, LTO), $(nproc) cores"
    echo
    echo "ggninja: $(bin_version "$GG") ($GG); ninja: $(bin_version "$NJ"); $(ccache --version | head -n 1)"
    echo
    python3 "$BENCH_DIR/report.py" "$RES"
    echo
    python3 - "$RES" <<'EOF'
import json, sys
def mean(case, label):
    try:
        with open(f"{sys.argv[1]}/{case}.{label}.json") as f:
            return json.load(f)["results"][0]["mean"]
    except (OSError, ValueError, KeyError, IndexError):
        return None
cold = mean("cold", "ggninja")
for case in ("warm", "fresh"):
    gg, cc = mean(case, "ggninja"), mean(case, "ninja")
    if cold and gg and cc:
        print(f"- {case}: ggninja --cache is {cold / gg:.1f}x faster than the cold build, "
              f"ninja+ccache {mean('cold', 'ninja') / cc:.1f}x; ggninja takes {gg / cc:.2f}x ccache's time")
EOF
} | tee "$RES/summary.md"
(( bad == 0 )) || die "a build's binaries differ"
