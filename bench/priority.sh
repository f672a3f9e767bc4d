#!/usr/bin/env bash
# Usage: bench/priority.sh [GGNINJA] [ROUNDS]
#
# Which ready edge to start first, measured on a real project: libgit2 from
# Debian's source package (configured as tests/thirdparty.rs does), built at
# -j2 from clean under each `--priority` rule — node-order (ninja 1.11's
# first come, first served), chain (ninja 1.12+) and logged (.ninja_log
# times) — in interleaved rounds so drift in the machine's load hits every
# rule alike. Before the rounds one build fills .ninja_log, and
# `-t simulate -j 2` prints what the replay predicts for each rule.
# Prints each rule's median wall time and its ratio to node-order.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

gg=$(resolve_bin "${1:-$REPO_ROOT/target/release/ggninja}")
rounds=${2:-3}
src=$(bash "$REPO_ROOT/scripts/fetch-source.sh" libgit2)
build=$GGNINJA_CACHE/priority/libgit2
rm -rf "$build"
mkdir -p "$build"
log "configuring $src in $build"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_MAKE_PROGRAM="$gg" \
    -DCMAKE_BUILD_TYPE=None -DBUILD_CLI=OFF -DBUILD_TESTS=ON -DBUILD_EXAMPLES=OFF \
    -DBUILD_FUZZERS=OFF -DUSE_HTTPS=OFF -DUSE_SSH=OFF -DUSE_GSSAPI=OFF \
    -DUSE_NTLMCLIENT=OFF -DUSE_HTTP_PARSER=system -DREGEX_BACKEND=regcomp \
    -DUSE_SHA1=CollisionDetection -DUSE_SHA256=Builtin >/dev/null

log "first build (fills .ninja_log)"
"$gg" -C "$build" -j2 >/dev/null
"$gg" -C "$build" -t simulate -j 2 | sed -n '1,/^ *2 /p'

rules=(node-order chain logged)
declare -A times
for ((r = 1; r <= rounds; r++)); do
    for rule in "${rules[@]}"; do
        "$gg" -C "$build" -t clean >/dev/null
        start=$(date +%s.%N)
        "$gg" -C "$build" -j2 --priority "$rule" >/dev/null
        t=$(echo "$(date +%s.%N) - $start" | bc)
        log "round $r $rule: $t s"
        times[$rule]="${times[$rule]:-} $t"
    done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
base=$(echo "${times[node-order]}" | median)
printf '\n| rule (-j2, libgit2, %d rounds) | median wall (s) | vs node-order |\n|---|---:|---:|\n' "$rounds"
for rule in "${rules[@]}"; do
    m=$(echo "${times[$rule]}" | median)
    printf '| %s | %.1f | %.3fx |\n' "$rule" "$m" "$(echo "$m / $base" | bc -l)"
done
