#!/usr/bin/env bash
# Usage: bench/simulate_accuracy.sh [GGNINJA] [PROJECT]
#
# How well `-t simulate` predicts real builds of a CMake project (PROJECT:
# `fixture`, our fixtures/cmake-demo, the default; or `libgit2`, Debian's
# source configured as bench/priority.sh does). One build from clean at
# -j1 fills .ninja_log with each edge's own time; `-t simulate -j 1,2,4`
# predicts from it. Then, for N = 1, 2, 4: `-t clean`, a build at -jN, and
# two numbers: the prediction from the -j1 run against that build's wall
# time (the span of its log entries), and the self-check (the build
# replayed at its own -j from its own times). The predictions are made
# with `--local-cores` this machine's cores (CORES, default nproc): at a -j
# above them, CPU-bound commands share the cores and slow each other down.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

gg=$(resolve_bin "${1:-$REPO_ROOT/target/release/ggninja}")
project=${2:-fixture}
build=$GGNINJA_CACHE/simulate_accuracy/$project
rm -rf "$build"
mkdir -p "$build"
case $project in
fixture)
    src=$REPO_ROOT/fixtures/cmake-demo
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_MAKE_PROGRAM="$gg" >/dev/null
    ;;
libgit2)
    src=$(bash "$REPO_ROOT/scripts/fetch-source.sh" libgit2)
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_MAKE_PROGRAM="$gg" \
        -DCMAKE_BUILD_TYPE=None -DBUILD_CLI=OFF -DBUILD_TESTS=ON -DBUILD_EXAMPLES=OFF \
        -DBUILD_FUZZERS=OFF -DUSE_HTTPS=OFF -DUSE_SSH=OFF -DUSE_GSSAPI=OFF \
        -DUSE_NTLMCLIENT=OFF -DUSE_HTTP_PARSER=system -DREGEX_BACKEND=regcomp \
        -DUSE_SHA1=CollisionDetection -DUSE_SHA256=Builtin >/dev/null
    ;;
*)
    echo "unknown project $project (fixture, libgit2)" >&2
    exit 2
    ;;
esac

# One field of `-t simulate -j JOBS --json [ARGS]` (EXPR: python over `s`).
field() {
    local jobs=$1 expr=$2
    shift 2
    "$gg" -C "$build" -t simulate -j "$jobs" --json "$@" |
        python3 -c "import json,sys; s=json.load(sys.stdin); print($expr)"
}

log "build at -j1 from clean ($project)"
"$gg" -C "$build" -j1 >/dev/null
declare -A predicted
cores=${CORES:-$(nproc)}
for n in 1 2 4; do
    predicted[$n]=$(field 1,2,4 "next(r['seconds'] for r in s['runs'] if r['jobs']==$n and r['rule']=='chain')" --local-cores "$cores")
done

printf '\n| -j | predicted from -j1 (s) | measured (s) | error | self-check error |\n'
printf '|---:|---:|---:|---:|---:|\n'
for n in 1 2 4; do
    "$gg" -C "$build" -t clean >/dev/null
    "$gg" -C "$build" -j"$n" >/dev/null
    read -r actual self <<<"$(field "$n" "s['last_build']['actual_seconds'], s['last_build']['error_percent']" | tr -d '(),')"
    error=$(python3 -c "print(f'{100 * (${predicted[$n]} - $actual) / $actual:+.1f}%')")
    printf '| %d | %.3f | %.3f | %s | %+.1f%% |\n' "$n" "${predicted[$n]}" "$actual" "$error" "$self"
done
