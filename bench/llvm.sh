#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2012
# ggninja vs ninja on real CMake-generated manifests: LLVM 14 (Debian source).
#
#   bench/llvm.sh [GGNINJA_BIN [NINJA_BIN]]
#       GGNINJA_BIN defaults to target/release/ggninja, NINJA_BIN to `ninja`.
#
# Steps (each cached under $GGNINJA_CACHE/llvm14, default
# ~/.cache/ggninja-bench/llvm14; delete a step's output to redo it):
#   1. apt-get source --download-only llvm-toolchain-14   (~130 MB; needs
#      deb-src entries in the apt sources: added for Debian's own archive if
#      missing and we are root)
#   2. dpkg-source -x  -> src/               (~1.5 GB, ~15 s)
#   3. cmake -G Ninja -S src/llvm -B build-llvm -DCMAKE_BUILD_TYPE=Release
#      and, unless LLVM_ALL=0, a second, larger configure build-llvm-all with
#      -DLLVM_ENABLE_PROJECTS="clang;lld;mlir;flang".  Nothing is compiled:
#      configure needs only cmake, a C/C++ compiler, python3 and ninja.
#   4. For each manifest and each binary (own `cp -a` copy of the build dir):
#      time `-t targets all` and `-n` (dry run of the whole, unbuilt build).
#
# Knobs: WARMUP [1], RUNS [5], LLVM_ALL [1], GGNINJA_CACHE, RESULTS_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GG=$(resolve_bin "${1:-$REPO_ROOT/target/release/ggninja}")
NJ=$(resolve_bin "${2:-ninja}")
WARMUP=${WARMUP:-1}
RUNS=${RUNS:-5}
LLVM_ALL=${LLVM_ALL:-1}
CACHE=$GGNINJA_CACHE/llvm14
mkdir -p "$CACHE"

llvm14_source "$CACHE"
dsc=$LLVM14_DSC

# --- 3. configure ------------------------------------------------------------------------
MANIFESTS=(llvm)
declare -A CMAKE_EXTRA=([llvm]="")
if [[ $LLVM_ALL != 0 ]]; then
    MANIFESTS+=(llvm-all)
    CMAKE_EXTRA[llvm-all]="-DLLVM_ENABLE_PROJECTS=clang;lld;mlir;flang"
fi
for m in "${MANIFESTS[@]}"; do
    b=$CACHE/build-$m
    if [[ ! -e $b/.complete ]]; then
        # shellcheck disable=SC2086
        llvm14_configure "$CACHE" "$b" "$NJ" ${CMAKE_EXTRA[$m]}
        touch "$b/.complete"
    fi
done

# --- 4. per-binary copies + timing ------------------------------------------------
WORK=$CACHE/work
declare -A BIN=([ninja]=$NJ [ggninja]=$GG)
LABELS=(ninja ggninja)
for l in "${LABELS[@]}"; do
    for m in "${MANIFESTS[@]}"; do
        rm -rf "${WORK:?}/$l/$m"
        mkdir -p "$WORK/$l"
        cp -a "$CACHE/build-$m" "$WORK/$l/$m"
    done
done

RES=$(new_results_dir llvm)
log "results -> $RES (timer: $BENCH_TIMER)"
declare -A NBUILD NDRY
for m in "${MANIFESTS[@]}"; do
    NBUILD[$m]=$(grep -c '^build ' "$CACHE/build-$m/build.ninja")
    NDRY[$m]=$("$NJ" -C "$WORK/ninja/$m" -n 2>/dev/null | tail -n1 | sed -E 's/^\[[0-9]+\/([0-9]+)\].*/\1/')
    bench_case "$RES" "$m-targets" "$m: \`-t targets all\`"
    for l in "${LABELS[@]}"; do
        bench_time "$RES" "$m-targets" "$l" "$WARMUP" "$RUNS" "${BIN[$l]} -C $WORK/$l/$m -t targets all"
    done
    bench_case "$RES" "$m-dry" "$m: \`-n\` (unbuilt, ${NDRY[$m]} edges)"
    for l in "${LABELS[@]}"; do
        bench_time "$RES" "$m-dry" "$l" "$WARMUP" "$RUNS" "${BIN[$l]} -C $WORK/$l/$m -n"
    done
done

{
    echo "## ggninja vs ninja: LLVM 14 CMake manifests ($(basename "$dsc" .dsc))"
    echo
    for m in "${MANIFESTS[@]}"; do
        echo "- $m: ${NBUILD[$m]} build statements, $(du -m "$CACHE/build-$m/build.ninja" | cut -f1) MB build.ninja," \
            "configure took $(cat "$CACHE/build-$m.seconds" 2>/dev/null || echo '?') s${CMAKE_EXTRA[$m]:+ (${CMAKE_EXTRA[$m]})}"
    done
    echo "- ninja: $NJ ($(bin_version "$NJ"))"
    echo "- ggninja: $GG ($(bin_version "$GG"))"
    echo "- $(nproc) cores; timer: $BENCH_TIMER; warmup/runs $WARMUP/$RUNS"
    echo
    python3 "$BENCH_DIR/report.py" "$RES"
} | tee "$RES/summary.md"
log "summary: $RES/summary.md"
