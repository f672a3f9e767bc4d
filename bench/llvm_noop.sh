#!/usr/bin/env bash
# The no-op on LLVM 14's real CMake manifests (issue 15): bench/llvm.sh's
# configure, brought up to date without compiling, then timed side by side.
#
#   bench/llvm_noop.sh [LABEL=PATH ...]
#
# Tools as bench/everyday.sh (LABEL=PATH or NINJA111 NINJA113 NINJA114 N2 SAMU
# GGNINJA_BASE GGNINJA; a tool not given is skipped), e.g.
#   NINJA111=/usr/bin/ninja NINJA114=/path/to/ninja-1.14 N2=... SAMU=... \
#       GGNINJA=target/release/ggninja bench/llvm_noop.sh
# Needs root (each timed run sees its tool's copy of the tree at the tree's
# own path: a bind mount in a private mount namespace) and /usr/bin/time.
#
# Steps, cached under $GGNINJA_CACHE/llvm14 (default ~/.cache/ggninja-bench):
#   1. LLVM 14's source as bench/llvm.sh fetches it (lib.sh: llvm14_source).
#   2. For each manifest (llvm; unless LLVM_ALL=0 also llvm-all, with
#      -DLLVM_ENABLE_PROJECTS="clang;lld;mlir;flang"): the same Release
#      configure as bench/llvm.sh into noop-<m>, then a reconfigure adding
#      CMAKE_{C,CXX}_COMPILER_LAUNCHER and CMAKE_{C,CXX}_LINKER_LAUNCHER =
#      bench/llvm_fake.c (compiled once): compiles run only the preprocessor
#      (so the depfiles are gcc's own) and write placeholder objects; links
#      write scripts that stand in for the programs the build runs (the
#      *-tblgen, mlir-linalg-ods-yaml-gen, clang-ast-dump, flang-new making
#      the intrinsic modules: each writes the outputs its arguments name);
#      ar, cmake and python steps run for real.  build.ninja is CMake's,
#      untouched: only the rule commands carry the launcher in front.  A
#      changed llvm_fake.c reruns the build, which redoes only the edges whose
#      command changed: delete noop-<m> to start over.
#   3. One build of that tree with $BUILDER (default /usr/bin/ninja, ninja
#      1.11), after which `$BUILDER -n` must say "no work to do".
#   4. Each tool: its own `cp -a` copy (in /dev/shm when it has room), kept
#      while the tree and the tool's binary are unchanged (FRESH=1 redoes);
#      one build of it by the tool, then a second run that must report
#      nothing to do.  That first build reruns every command where the tool
#      cannot use ninja 1.11's v5 .ninja_log (n2 keeps its own; ninja 1.13,
#      1.14 and samurai start a new log): cheap, as the fake compiles then copy
#      their depfiles from its cache.
#   5. ROUNDS [7] no-op runs `TOOL -C TREE`, interleaved across tools: median
#      wall time (bash's EPOCHREALTIME around /usr/bin/time) and median peak
#      RSS (/usr/bin/time's %M); ratios to ninja 1.11 and 1.14.  Last, in each
#      copy a ninja that reads its logs runs -n ($BUILDER for a v5 .ninja_log,
#      else the newest ninja given; n2 runs itself), which must still say "no
#      work to do" (else FAILED in the notes).  ninja 1.12+ drop a v5 log, so
#      ninja 1.13/1.14's first build of their copy reruns every command.
#
#   ggninja-watch (GGNINJA_WATCH): a ggninja run with its watcher (`-t watch`)
#      serving its copy. A daemon's working directory would keep the bind
#      mount busy, so this copy is not mounted: it runs at its own path
#      (`-C COPY`), where CMake's absolute paths name the template's files,
#      unchanged, as many as the copy's own would be.  The daemon starts
#      after the copy's second run and stops at the end.  Its no-ops after the
#      first are remembered ones (executor/src/watched/noop.rs); the row
#      ggninja-watch-first times, in the same copy, a no-op after
#      CMakeCache.txt's attributes changed (`touch -r F F`: a file of the
#      graph, so the run loads and scans; its mtime, and the verdict, stay).
#
# Knobs: ROUNDS [7], LLVM_ALL [1], BUILDER [/usr/bin/ninja], JOBS [2] (the
# fake build's -j), WORK (where the copies go), FRESH [0], GGNINJA_CACHE.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Every mount below stays in this private namespace.
if [[ -z ${LLVM_NOOP_NS:-} ]]; then
    [[ $(id -u) == 0 ]] || die "needs root (bind mounts in a private mount namespace)"
    exec unshare --mount --propagation private env LLVM_NOOP_NS=1 bash "$0" "$@"
fi

bench_tools "$@"
ROUNDS=${ROUNDS:-7}
LLVM_ALL=${LLVM_ALL:-1}
BUILDER=$(resolve_bin "${BUILDER:-/usr/bin/ninja}")
JOBS=${JOBS:-2}
FRESH=${FRESH:-0}
CACHE=$GGNINJA_CACHE/llvm14

# --- 1. source ----------------------------------------------------------------------
llvm14_source "$CACHE"

# --- 2./3. the fake-built trees -------------------------------------------------------
KEY=$(sha256sum <"$BENCH_DIR/llvm_fake.c" | cut -c1-10)
FAKE=$CACHE/llvm_fake
if [[ ! -x $FAKE || $(cat "$FAKE.key" 2>/dev/null) != "$KEY" ]]; then
    cc -O2 -o "$FAKE.tmp" "$BENCH_DIR/llvm_fake.c"
    mv "$FAKE.tmp" "$FAKE"
    printf '%s\n' "$KEY" >"$FAKE.key"
fi
MANIFESTS=(llvm)
declare -A CMAKE_EXTRA=([llvm]="")
if [[ $LLVM_ALL != 0 ]]; then
    MANIFESTS+=(llvm-all)
    CMAKE_EXTRA[llvm-all]="-DLLVM_ENABLE_PROJECTS=clang;lld;mlir;flang"
fi

# last_line FILE: the last line of FILE ("" if none).
last_line() { tail -n1 "$1" 2>/dev/null || true; }

# fake_build M: the tree noop-M configured, launcher-wrapped and built once.
fake_build() {
    local m=$1 tpl=$CACHE/noop-$1 dc=$CACHE/noop-$1.depcache log=$CACHE/noop-$1.build.log
    [[ -e $tpl/.complete && $(cat "$tpl/.complete") == "$KEY" ]] && return 0
    if [[ ! -e $tpl/.configured ]]; then
        # shellcheck disable=SC2086
        llvm14_configure "$CACHE" "$tpl" "$BUILDER" ${CMAKE_EXTRA[$m]}
        rm -rf "$dc"
        touch "$tpl/.configured"
    fi
    mkdir -p "$dc"
    log "$m: launchers -> $FAKE (reconfigure, log $tpl.launch.log)"
    nice -n 10 cmake -S "$CACHE/src/llvm" -B "$tpl" \
        "-DCMAKE_C_COMPILER_LAUNCHER=$FAKE;-cache;$dc" "-DCMAKE_CXX_COMPILER_LAUNCHER=$FAKE;-cache;$dc" \
        "-DCMAKE_C_LINKER_LAUNCHER=$FAKE" "-DCMAKE_CXX_LINKER_LAUNCHER=$FAKE" >"$tpl.launch.log" 2>&1 ||
        { tail -n 30 "$tpl.launch.log"; die "$m: reconfigure with the launchers failed"; }
    log "$m: fake build with $BUILDER -j$JOBS -k 0 (log $log)"
    local t0=$EPOCHREALTIME
    nice -n 10 "$BUILDER" -C "$tpl" -j"$JOBS" -k 0 >"$log" 2>&1 ||
        { grep -A5 '^FAILED' "$log" | head -n 60; die "$m: the fake build failed (see $log)"; }
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f\n", b - a }' >"$tpl.build.seconds"
    "$BUILDER" -C "$tpl" -n >"$tpl.check.log" 2>&1
    [[ $(last_line "$tpl.check.log") == *"no work to do"* ]] ||
        die "$m: not up to date after the fake build: $(last_line "$tpl.check.log")"
    printf '%s\n' "$KEY" >"$tpl/.complete"
}
for m in "${MANIFESTS[@]}"; do fake_build "$m"; done

# --- 4. each tool's copy -----------------------------------------------------------------
need_kib=$(du -sk "${MANIFESTS[@]/#/$CACHE/noop-}" | awk -v n=${#USED[@]} '{ s += $1 } END { print s * (n + 1) }')
if [[ -z ${WORK:-} ]]; then
    WORK=$CACHE/noop-work
    (($(df -k --output=avail /dev/shm | tail -n1) > need_kib)) && WORK=/dev/shm/ggninja-llvm-noop
fi
RES=$(new_results_dir llvm-noop)
log "results -> $RES; copies in $WORK"

# tree L M: where tool L builds manifest M (the mounted path, but for
# ggninja-watch: see the header).
tree() {
    if [[ $1 == ggninja-watch ]]; then echo "$WORK/$1/noop-$2"; else echo "$CACHE/noop-$2"; fi
}
# in_copy L M CMD...: runs CMD with tool L's copy mounted over noop-M.
in_copy() {
    local l=$1 tpl=$CACHE/noop-$2 rc=0
    shift 2
    [[ $l == ggninja-watch ]] && { "$@"; return; }
    mount --bind "$WORK/$l/${tpl##*/}" "$tpl"
    "$@" || rc=$?
    umount "$tpl"
    return $rc
}
# idle_said L M LOG: the tool's run (logged in LOG) reported nothing to do.
idle_said() { grep -qiE 'no work to do|nothing to do' "$3"; }

declare -A FIRST=()
for l in "${USED[@]}"; do
    for m in "${MANIFESTS[@]}"; do
        stamp="$(cat "$CACHE/noop-$m/.complete") $(sha256sum <"${BIN[$l]}" | cut -c1-16)"
        copy=$WORK/$l/noop-$m
        if [[ $FRESH == 0 && -e $copy.built && $(cat "$copy.built") == "$stamp" ]]; then
            FIRST[$l.$m]="copy reused"
            continue
        fi
        log "$l/$m: fresh copy, then a build by $l"
        rm -rf "$copy" "$copy.built"
        mkdir -p "$WORK/$l"
        cp -a "$CACHE/noop-$m" "$copy"
        t0=$EPOCHREALTIME
        in_copy "$l" "$m" nice -n 10 "${BIN[$l]}" -C "$(tree "$l" "$m")" >"$RES/first.$l.$m.log" 2>&1 ||
            die "$l/$m: its first build failed (see $RES/first.$l.$m.log)"
        FIRST[$l.$m]="first build $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s: $(last_line "$RES/first.$l.$m.log")"
        in_copy "$l" "$m" "${BIN[$l]}" -C "$(tree "$l" "$m")" >"$RES/second.$l.$m.log" 2>&1 ||
            die "$l/$m: its second run failed (see $RES/second.$l.$m.log)"
        idle_said "$l" "$m" "$RES/second.$l.$m.log" ||
            die "$l/$m: not a no-op on its second run: $(last_line "$RES/second.$l.$m.log")"
        printf '%s\n' "$stamp" >"$copy.built"
    done
done

# --- 5. timing, then the check -------------------------------------------------------------
if [[ -n ${BIN[ggninja-watch]} ]]; then
    stop_watchers() {
        for m in "${MANIFESTS[@]}"; do "${BIN[ggninja-watch]}" -C "$(tree ggninja-watch "$m")" -t watch stop >/dev/null || true; done
    }
    trap stop_watchers EXIT
    for m in "${MANIFESTS[@]}"; do
        log "ggninja-watch/$m: $("${BIN[ggninja-watch]}" -C "$(tree ggninja-watch "$m")" -t watch)"
        # Its first run under the daemon takes the snapshot.
        "${BIN[ggninja-watch]}" -C "$(tree ggninja-watch "$m")" >/dev/null
    done
fi
log "no-op: $ROUNDS rounds over ${USED[*]}"
for ((r = 0; r < ROUNDS; r++)); do
    for m in "${MANIFESTS[@]}"; do
        for l in "${USED[@]}"; do
            in_copy "$l" "$m" measure "$RES" "noop-$m" "$l" "${BIN[$l]}" -C "$(tree "$l" "$m")"
        done
        if [[ -n ${BIN[ggninja-watch]} ]]; then
            touched=$(tree ggninja-watch "$m")/CMakeCache.txt
            touch -r "$touched" "$touched"
            measure "$RES" "noop-$m" ggninja-watch-first "${BIN[ggninja-watch]}" -C "$(tree ggninja-watch "$m")"
        fi
    done
done
ROWS=("${USED[@]}")
[[ -n ${BIN[ggninja-watch]} ]] && ROWS+=(ggninja-watch-first)
# The check reads each copy's logs with a ninja that understands them: ninja
# 1.11 ($BUILDER) for a v5 .ninja_log, else the newest ninja given (1.12 and
# later drop a v5 log and would rebuild all).  n2 keeps its own log and has
# no -n: it runs once more itself.
NEWEST=${BIN[ninja-1.14]:-${BIN[ninja-1.13]:-$BUILDER}}
check_cmd() {
    if [[ $1 == n2 ]]; then
        echo "${BIN[n2]}"
    elif [[ $(head -n1 "$WORK/$1/noop-$2/.ninja_log") == *" v5" ]]; then
        echo "$BUILDER -n"
    else
        echo "$NEWEST -n"
    fi
}
declare -A CHECK=()
for m in "${MANIFESTS[@]}"; do
    for l in "${USED[@]}"; do
        read -ra cmd <<<"$(check_cmd "$l" "$m")"
        in_copy "$l" "$m" "${cmd[@]}" -C "$(tree "$l" "$m")" >"$RES/check.$l.$m.log" 2>&1 || true
        CHECK[$l.$m]="$(basename "${cmd[0]}") $(bin_version "${cmd[0]}") ${cmd[*]:1}: $(last_line "$RES/check.$l.$m.log")"
        [[ $(last_line "$RES/check.$l.$m.log") == *"no work to do"* ]] ||
            { CHECK[$l.$m]="FAILED: ${CHECK[$l.$m]}"; log "$l/$m: ${CHECK[$l.$m]}"; }
    done
done

# --- the tables ------------------------------------------------------------------------------
{
    echo "## The no-op on LLVM 14's CMake manifests ($(basename "$LLVM14_DSC" .dsc))"
    echo
    for m in "${MANIFESTS[@]}"; do
        tpl=$CACHE/noop-$m
        n_run=$("$BUILDER" -C "$tpl" -t commands all | wc -l)
        echo "- $m: $(cat "$tpl"/build.ninja "$tpl"/CMakeFiles/*.ninja | grep -c '^build ') build statements${CMAKE_EXTRA[$m]:+ (${CMAKE_EXTRA[$m]})};" \
            "the fake build runs $n_run commands (its last, possibly partial, run: $(cat "$tpl.build.seconds") s, $(basename "$BUILDER") -j$JOBS);" \
            "$("$BUILDER" -C "$tpl" -t deps | grep -c '^    ') deps records"
    done
    for l in "${USED[@]}"; do
        echo "- $l: ${BIN[$l]} ($(bin_version "${BIN[$l]}"))"
        for m in "${MANIFESTS[@]}"; do echo "  - $m: ${FIRST[$l.$m]}; after the no-ops ${CHECK[$l.$m]}"; done
    done
    echo "- copies in $WORK; $(nproc) cores; medians of $ROUNDS interleaved runs; $(date -u +%F)"
    for m in "${MANIFESTS[@]}"; do
        echo
        echo "### $m"
        echo
        echo "| tool | no-op | /1.11 | /1.14 | peak RSS | /1.11 | /1.14 |"
        echo "|---|---:|---:|---:|---:|---:|---:|"
        declare -A T=() R=()
        for l in "${ROWS[@]}"; do
            T[$l]=$(median "$RES/noop-$m.$l" 1)
            R[$l]=$(median "$RES/noop-$m.$l" 2)
        done
        for l in "${ROWS[@]}"; do
            printf '| %s | %.3f s | %s | %s | %s MiB | %s | %s |\n' "$l" \
                "${T[$l]}" "$(ratio "${T[$l]}" "${T[ninja-1.11]:-}")" "$(ratio "${T[$l]}" "${T[ninja-1.14]:-}")" \
                "$(mib "${R[$l]}")" "$(ratio "${R[$l]}" "${R[ninja-1.11]:-}")" "$(ratio "${R[$l]}" "${R[ninja-1.14]:-}")"
        done
        unset T R
    done
} | tee "$RES/summary.md"
log "summary: $RES/summary.md"
