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

as_root() {
    if [[ $(id -u) == 0 ]]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root for: $*"
    fi
}

# --- 0. tools ------------------------------------------------------------------
need_pkgs=()
command -v cmake >/dev/null || need_pkgs+=(cmake)
command -v c++ >/dev/null || need_pkgs+=(g++)
command -v cc >/dev/null || need_pkgs+=(gcc)
command -v python3 >/dev/null || need_pkgs+=(python3)
command -v dpkg-source >/dev/null || need_pkgs+=(dpkg-dev)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
if (( ${#need_pkgs[@]} )); then
    log "installing ${need_pkgs[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

# --- 1. source package ------------------------------------------------------------
has_deb_src() {
    grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list && return 0
    grep -qsE '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources && return 0
    return 1
}
enable_deb_src() {
    # The project's install script owns the apt source setup.
    as_root bash "$REPO_ROOT/scripts/install-deps.sh"
    has_deb_src || die "could not enable deb-src; add a deb-src line by hand"
}

dsc=$(ls "$CACHE"/llvm-toolchain-14_*.dsc 2>/dev/null | head -n1 || true)
if [[ -z $dsc ]]; then
    has_deb_src || enable_deb_src
    log "apt-get update + apt-get source --download-only llvm-toolchain-14 (~130 MB)"
    as_root apt-get update -qq
    (cd "$CACHE" && apt-get source --download-only llvm-toolchain-14)
    dsc=$(ls "$CACHE"/llvm-toolchain-14_*.dsc | head -n1)
fi

# --- 2. unpack -------------------------------------------------------------------------
if [[ ! -e $CACHE/src/.complete ]]; then
    log "dpkg-source -x $(basename "$dsc")"
    rm -rf "$CACHE/src" "$CACHE/src.tmp"
    (cd "$CACHE" && dpkg-source -x "$dsc" src.tmp >"$CACHE/unpack.log" 2>&1) ||
        { tail "$CACHE/unpack.log"; die "dpkg-source failed"; }
    mv "$CACHE/src.tmp" "$CACHE/src"
    touch "$CACHE/src/.complete"
fi

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
        log "configuring $m (cmake -G Ninja ... ${CMAKE_EXTRA[$m]}), log: $CACHE/configure-$m.log"
        rm -rf "$b"
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086
        cmake -G Ninja -S "$CACHE/src/llvm" -B "$b" -DCMAKE_BUILD_TYPE=Release \
            -DCMAKE_MAKE_PROGRAM="$NJ" ${CMAKE_EXTRA[$m]} >"$CACHE/configure-$m.log" 2>&1 ||
            { tail -n 30 "$CACHE/configure-$m.log"; die "cmake configure of $m failed"; }
        t1=$(date +%s.%N)
        python3 -c "print('%.1f' % ($t1 - $t0))" >"$CACHE/configure-$m.seconds"
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
            "configure took $(cat "$CACHE/configure-$m.seconds" 2>/dev/null || echo '?') s${CMAKE_EXTRA[$m]:+ (${CMAKE_EXTRA[$m]})}"
    done
    echo "- ninja: $NJ ($(bin_version "$NJ"))"
    echo "- ggninja: $GG ($(bin_version "$GG"))"
    echo "- $(nproc) cores; timer: $BENCH_TIMER; warmup/runs $WARMUP/$RUNS"
    echo
    python3 "$BENCH_DIR/report.py" "$RES"
} | tee "$RES/summary.md"
log "summary: $RES/summary.md"
