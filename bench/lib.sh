# shellcheck shell=bash disable=SC2034
# Shared helpers for the bench/ scripts (source, don't run): timing with
# hyperfine or timeit.py (compare.sh, llvm.sh), the tools of the side-by-side
# no-op tables and their one-run measure (everyday.sh, llvm_noop.sh), and LLVM
# 14's source and configure (llvm.sh, llvm_noop.sh).
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

# --- the side-by-side tools (bench/everyday.sh, bench/llvm_noop.sh) -------------
# Labels in table order, each with the environment variable that names it.
TOOL_LABELS=(ninja-1.11 ninja-1.13 ninja-1.14 n2 samurai ggninja-base ggninja ggninja-watch)

# bench_tools [LABEL=PATH ...]: fills BIN (label -> absolute path) from the
# environment (NINJA111 NINJA113 NINJA114 N2 SAMU GGNINJA_BASE GGNINJA
# GGNINJA_WATCH) and
# the arguments, which win; USED lists the labels given, in table order.
bench_tools() {
    local arg l
    declare -gA BIN=(
        [ninja-1.11]=${NINJA111:-} [ninja-1.13]=${NINJA113:-} [ninja-1.14]=${NINJA114:-}
        [n2]=${N2:-} [samurai]=${SAMU:-} [ggninja-base]=${GGNINJA_BASE:-} [ggninja]=${GGNINJA:-}
        [ggninja-watch]=${GGNINJA_WATCH:-}
    )
    for arg in "$@"; do
        [[ $arg == *=* && -v BIN[${arg%%=*}] ]] || die "expected LABEL=PATH with LABEL one of ${TOOL_LABELS[*]}: $arg"
        BIN[${arg%%=*}]=${arg#*=}
    done
    USED=()
    for l in "${TOOL_LABELS[@]}"; do
        [[ -n ${BIN[$l]} ]] || continue
        BIN[$l]=$(resolve_bin "${BIN[$l]}")
        USED+=("$l")
    done
    ((${#USED[@]})) || die "no tool given (see the usage at the top of $0)"
    [[ -x /usr/bin/time ]] || die "needs /usr/bin/time (Debian: apt-get install time)"
}

# measure RES CASE LABEL CMD...: one run of CMD (output dropped, stderr kept in
# RES/CASE.LABEL.err); appends "seconds peak-RSS-KiB" to RES/CASE.LABEL.  Wall
# time is bash's EPOCHREALTIME around /usr/bin/time, RSS its %M.  A failing
# CMD is fatal unless MAY_FAIL=1.
measure() {
    local res=$1 case=$2 label=$3 t0 t1 rc=0
    shift 3
    t0=$EPOCHREALTIME
    /usr/bin/time -f %M -o "$res/rss.tmp" "$@" >/dev/null 2>"$res/$case.$label.err" || rc=$?
    t1=$EPOCHREALTIME
    if ((rc != 0)) && [[ ${MAY_FAIL:-0} != 1 ]]; then
        die "$label: $* failed (exit $rc; see $res/$case.$label.err)"
    fi
    printf '%s %s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$(tail -n1 "$res/rss.tmp")" \
        >>"$res/$case.$label"
}

# median FILE COLUMN: the median of a column of measure's rows.
median() { cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ratio A B: "A/B" as "1.23x", or "-" when B is empty.
ratio() { [[ -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }' || printf -- '-'; }

# mib KIB: KiB as MiB with one decimal.
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# --- LLVM 14's source and configure (bench/llvm.sh, bench/llvm_noop.sh) ---------
as_root() {
    if [[ $(id -u) == 0 ]]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root for: $*"
    fi
}
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

# llvm14_source CACHE: installs what configure needs, then fetches (apt-get
# source, ~130 MB) and unpacks (dpkg-source -x, ~1.5 GB) llvm-toolchain-14
# into CACHE/src once; sets LLVM14_DSC.
llvm14_source() {
    local cache=$1 need_pkgs=()
    command -v cmake >/dev/null || need_pkgs+=(cmake)
    command -v c++ >/dev/null || need_pkgs+=(g++)
    command -v cc >/dev/null || need_pkgs+=(gcc)
    command -v python3 >/dev/null || need_pkgs+=(python3)
    command -v dpkg-source >/dev/null || need_pkgs+=(dpkg-dev)
    command -v xz >/dev/null || need_pkgs+=(xz-utils)
    if ((${#need_pkgs[@]})); then
        log "installing ${need_pkgs[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
    fi
    mkdir -p "$cache"
    LLVM14_DSC=$(ls "$cache"/llvm-toolchain-14_*.dsc 2>/dev/null | head -n1 || true)
    if [[ -z $LLVM14_DSC ]]; then
        has_deb_src || enable_deb_src
        log "apt-get update + apt-get source --download-only llvm-toolchain-14 (~130 MB)"
        as_root apt-get update -qq
        (cd "$cache" && apt-get source --download-only llvm-toolchain-14)
        LLVM14_DSC=$(ls "$cache"/llvm-toolchain-14_*.dsc | head -n1)
    fi
    if [[ ! -e $cache/src/.complete ]]; then
        log "dpkg-source -x $(basename "$LLVM14_DSC")"
        rm -rf "$cache/src" "$cache/src.tmp"
        (cd "$cache" && dpkg-source -x "$LLVM14_DSC" src.tmp >"$cache/unpack.log" 2>&1) ||
            { tail "$cache/unpack.log"; die "dpkg-source failed"; }
        mv "$cache/src.tmp" "$cache/src"
        touch "$cache/src/.complete"
    fi
}

# llvm14_configure CACHE BUILD_DIR NINJA [CMAKE_ARG ...]: a fresh
# `cmake -G Ninja` Release configure of CACHE/src/llvm into BUILD_DIR (log
# BUILD_DIR.log; seconds taken in BUILD_DIR.seconds).  Nothing is compiled.
llvm14_configure() {
    local cache=$1 b=$2 nj=$3 t0 t1
    shift 3
    log "configuring $(basename "$b") (cmake -G Ninja ... $*), log: $b.log"
    rm -rf "$b"
    t0=$(date +%s.%N)
    cmake -G Ninja -S "$cache/src/llvm" -B "$b" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_MAKE_PROGRAM="$nj" "$@" >"$b.log" 2>&1 ||
        { tail -n 30 "$b.log"; die "cmake configure of $b failed"; }
    t1=$(date +%s.%N)
    python3 -c "print('%.1f' % ($t1 - $t0))" >"$b.seconds"
}
