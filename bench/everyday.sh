#!/usr/bin/env bash
# The everyday loop (issue 15): no-op time and peak memory of ninja-compatible
# tools on ninja's own misc/write_fake_manifests.py tree (1,500 targets,
# ~87k edges, 1,501 subninjas, `deps = gcc`), side by side.
#
#   bench/everyday.sh [LABEL=PATH ...]
#
# Tools come from LABEL=PATH arguments or these environment variables; a tool
# not given is skipped (labels, in table order):
#   ninja-1.11 NINJA111  e.g. /usr/bin/ninja (Debian 12)
#   ninja-1.13 NINJA113  e.g. ~/.cache/ggninja-tests/ninja-1.13.2/bin/ninja
#   ninja-1.14 NINJA114  built outside the repo from ninja's git HEAD:
#                          git archive HEAD | tar -x -C DIR; cmake -S DIR -B DIR/build
#                          -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF;
#                          ninja -C DIR/build ninja   (--version says 1.14.0.git)
#   n2         N2        github.com/evmar/n2: cargo build --release (own target dir)
#   samurai    SAMU      github.com/michaelforney/samurai: make
#   ggninja-base GGNINJA_BASE  another ggninja (say, main's) for a before/after
#   ggninja    GGNINJA   target/release/ggninja (cargo build --release -p ggninja)
#                          Its no-ops after the first are remembered ones
#                          (executor/src/noop: every file the first stat'ed,
#                          stat'ed again); the row ggninja-first times, in the
#                          same copy, a no-op with its record removed first
#                          (the full load and scan, and the record written)
#   ggninja-watch GGNINJA_WATCH  a ggninja run with its watcher (`-t watch`)
#                          serving its copy: started before the no-op check
#                          (whose run takes the first snapshot), stopped at
#                          the end; the daemon's own peak RSS is reported apart.
#                          Its no-ops after the first are remembered ones
#                          (with the daemon's word, executor/src/noop); the row
#                          ggninja-watch-first times, in the same copy, a no-op
#                          after a source's attributes changed (`touch -r F F`:
#                          the daemon reports a file of the graph, so the run
#                          loads and scans; the mtime, and so the verdict, stay)
#
# Knobs: TARGETS [1500] (the generator's -t), HEADERS [30] (shared headers
# each source includes, besides its own), ROUNDS [7], LOAD_ROUNDS [3],
# EDITS [0] (rounds of the small incremental build: one source, the same in
# every copy and another each round, touched, then each tool builds its copy,
# timed; then 2.5 s later an untimed no-op, so that the tree is settled and
# ggninja's next edit meets a remembered no-op whose check fails),
# NINJA_SRC (ninja's source dir holding misc/write_fake_manifests.py; default:
# the Debian source cached by scripts/fetch-source.sh ninja-build),
# GGNINJA_CACHE [~/.cache/ggninja-bench].
#
# The tree is generated once into $GGNINJA_CACHE/fake87k/<key>; its compiler,
# archiver and linker are bench/everyday_fakecc.c (compiled once with cc -O2),
# which writes the output and, for compiles, a depfile naming the source, its
# own header and HEADERS shared ones (bench/everyday_sources.py writes them).
# Each tool gets its own `cp -a` copy and builds it fully (default -j); the
# copy is kept and reused while the tool's binary (by content hash) and the
# tree are unchanged (FRESH=1 rebuilds).  Then, interleaved between tools so
# the machine's drift hits all alike:
#   no-op:  BIN -C COPY           ROUNDS times: median wall time, median peak RSS
#   load:   BIN -C COPY -t targets all >/dev/null   LOAD_ROUNDS times: median peak
#           RSS and time (manifest only, as ninja runs the tool before opening the
#           logs; samurai the same).  n2 has no such tool: its load is
#           `n2 -C COPY no-such-target`, which reads the manifest and its
#           .n2_db, then fails on the target.
# Peak RSS is /usr/bin/time's %M; wall time is bash's EPOCHREALTIME around it.
# Ratios are against ninja 1.11 and 1.14 when those ran.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGETS=${TARGETS:-1500}
HEADERS=${HEADERS:-30}
ROUNDS=${ROUNDS:-7}
LOAD_ROUNDS=${LOAD_ROUNDS:-3}
FRESH=${FRESH:-0}
bench_tools "$@"

# --- the generator, the fake compiler, the cached tree ------------------------
if [[ -z ${NINJA_SRC:-} ]]; then
    NINJA_SRC=$(ls -d "$HOME"/.cache/ggninja-tests/ninja-build.src/ninja-build-*/ 2>/dev/null | head -n1) ||
        true
fi
GEN=${NINJA_SRC%/}/misc/write_fake_manifests.py
[[ -f $GEN ]] || die "no $GEN: set NINJA_SRC, or run scripts/fetch-source.sh ninja-build"

key=$( (cat "$GEN" "$BENCH_DIR/everyday_fakecc.c" "$BENCH_DIR/everyday_sources.py"
    echo "$TARGETS $HEADERS") | sha256sum | cut -c1-10)
BASE=$GGNINJA_CACHE/fake87k
TPL=$BASE/t$TARGETS-h$HEADERS-$key
FAKECC=$BASE/fakecc-$key
if [[ ! -x $FAKECC ]]; then
    mkdir -p "$BASE"
    cc -O2 -o "$FAKECC.tmp" "$BENCH_DIR/everyday_fakecc.c"
    mv "$FAKECC.tmp" "$FAKECC"
fi
if [[ ! -e $TPL/.complete ]]; then
    log "generating the tree ($TARGETS targets, $HEADERS shared headers a source) in $TPL"
    rm -rf "$TPL" "$TPL.tmp"
    python3 "$GEN" -t "$TARGETS" "$TPL.tmp"
    # Every command's program is the fake compiler (ld is $cxx).
    sed -i -e "s|^cxx = .*|cxx = $FAKECC|" -e "s|^alink = .*|alink = $FAKECC|" "$TPL.tmp/build.ninja"
    python3 "$BENCH_DIR/everyday_sources.py" "$TPL.tmp" "$HEADERS"
    mv "$TPL.tmp" "$TPL"
    touch "$TPL/.complete"
fi
n_edges=$(cat "$TPL/build.ninja" $(find "$TPL/obj" -name '*.ninja') | grep -c '^build ')
n_sub=$(grep -c '^subninja ' "$TPL/build.ninja")

# --- each tool's built copy ----------------------------------------------------
WORK=$BASE/work
RES=$(new_results_dir everyday)
log "results -> $RES"
declare -A FULL=()
for l in "${USED[@]}"; do
    stamp="$TPL $(sha256sum <"${BIN[$l]}" | cut -c1-16)"
    if [[ $FRESH == 0 && -e $WORK/$l/.built && $(cat "$WORK/$l/.built") == "$stamp" ]]; then
        log "$l: reusing its built copy $WORK/$l"
        FULL[$l]="built by an earlier run"
        continue
    fi
    log "$l: fresh copy and full build"
    rm -rf "${WORK:?}/$l"
    mkdir -p "$WORK"
    cp -a "$TPL" "$WORK/$l"
    t0=$EPOCHREALTIME
    "${BIN[$l]}" -C "$WORK/$l" >"$RES/full.$l.log" 2>&1 || die "$l: full build failed (see $RES/full.$l.log)"
    FULL[$l]="full build $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
    printf '%s\n' "$stamp" >"$WORK/$l/.built"
done
WATCHER_PID=
if [[ -n ${BIN[ggninja-watch]} ]]; then
    said=$("${BIN[ggninja-watch]}" -C "$WORK/ggninja-watch" -t watch) || die "ggninja-watch: no watcher"
    WATCHER_PID=$(sed -n 's/.*(pid \([0-9]*\)).*/\1/p' <<<"$said")
    log "ggninja-watch: $said"
    trap '"${BIN[ggninja-watch]}" -C "$WORK/ggninja-watch" -t watch stop >/dev/null' EXIT
fi
for l in "${USED[@]}"; do
    "${BIN[$l]}" -C "$WORK/$l" >"$RES/noop-check.$l.log" 2>&1 || die "$l: no-op build failed (see $RES/noop-check.$l.log)"
done

# --- timing ---------------------------------------------------------------------
load_cmd() {
    if [[ $1 == n2 ]]; then
        printf '%s\n' "${BIN[$1]} -C $WORK/$1 no-such-target"
    else
        printf '%s\n' "${BIN[$1]} -C $WORK/$1 -t targets all"
    fi
}
log "no-op: $ROUNDS rounds over ${USED[*]}"
ROWS=("${USED[@]}")
FIRST=${BIN[ggninja]:-}
[[ -n $FIRST ]] && ROWS+=(ggninja-first)
if [[ -n $WATCHER_PID ]]; then
    ROWS+=(ggninja-watch-first)
    TOUCHED=$(find "$WORK/ggninja-watch/src" -name '*.cc' -print -quit)
fi
for ((r = 0; r < ROUNDS; r++)); do
    for l in "${USED[@]}"; do measure "$RES" noop "$l" "${BIN[$l]}" -C "$WORK/$l"; done
    if [[ -n $FIRST ]]; then
        rm -f "$WORK/ggninja/.ggninja_noop"
        measure "$RES" noop ggninja-first "$FIRST" -C "$WORK/ggninja"
    fi
    if [[ -n $WATCHER_PID ]]; then
        touch -r "$TOUCHED" "$TOUCHED"
        measure "$RES" noop ggninja-watch-first "${BIN[ggninja-watch]}" -C "$WORK/ggninja-watch"
    fi
done
EDITS=${EDITS:-0}
if ((EDITS > 0)); then
    log "edit: $EDITS rounds"
    mapfile -t EDITED < <(cd "$TPL" && find src -name '*.cc' | sort | shuf -n "$EDITS" --random-source=<(yes))
    for ((r = 0; r < EDITS; r++)); do
        for l in "${USED[@]}"; do
            touch "$WORK/$l/${EDITED[r]}"
            measure "$RES" edit "$l" "${BIN[$l]}" -C "$WORK/$l"
        done
        sleep 2.5
        for l in "${USED[@]}"; do "${BIN[$l]}" -C "$WORK/$l" >/dev/null; done
    done
fi
log "load: $LOAD_ROUNDS rounds"
for ((r = 0; r < LOAD_ROUNDS; r++)); do
    # shellcheck disable=SC2046
    for l in "${USED[@]}"; do MAY_FAIL=$([[ $l == n2 ]] && echo 1 || echo 0) measure "$RES" load "$l" $(load_cmd "$l"); done
done

# --- the table --------------------------------------------------------------------
declare -A NOOP=() NRSS=() LTIME=() LRSS=()
for l in "${ROWS[@]}"; do
    NOOP[$l]=$(median "$RES/noop.$l" 1)
    NRSS[$l]=$(mib "$(median "$RES/noop.$l" 2)")
    loaded=${l%-first}
    LTIME[$l]=$(median "$RES/load.$loaded" 1)
    LRSS[$l]=$(mib "$(median "$RES/load.$loaded" 2)")
done
{
    echo "## The everyday loop: write_fake_manifests.py's tree"
    echo
    echo "- tree: $TPL ($n_edges build statements, $n_sub subninjas; TARGETS=$TARGETS HEADERS=$HEADERS)"
    for l in "${USED[@]}"; do
        echo "- $l: ${BIN[$l]} ($(bin_version "${BIN[$l]}")); ${FULL[$l]}; no-op said: \`$(tail -n1 "$RES/noop-check.$l.log")\`"
    done
    if [[ -n $WATCHER_PID ]]; then
        echo "- ggninja-watch's daemon: peak RSS $(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$WATCHER_PID/status") MiB (not in the table)"
    fi
    echo "- $(nproc) cores; medians of $ROUNDS no-op and $LOAD_ROUNDS load runs, interleaved; $(date -u +%F)"
    echo
    echo "| tool | no-op | /1.11 | /1.14 | no-op peak RSS | /1.11 | /1.14 | load | load peak RSS | /1.11 | /1.14 |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for l in "${ROWS[@]}"; do
        printf '| %s | %.3f s | %s | %s | %s MiB | %s | %s | %.3f s | %s MiB | %s | %s |\n' "$l" \
            "${NOOP[$l]}" "$(ratio "${NOOP[$l]}" "${NOOP[ninja-1.11]:-}")" "$(ratio "${NOOP[$l]}" "${NOOP[ninja-1.14]:-}")" \
            "${NRSS[$l]}" "$(ratio "${NRSS[$l]}" "${NRSS[ninja-1.11]:-}")" "$(ratio "${NRSS[$l]}" "${NRSS[ninja-1.14]:-}")" \
            "${LTIME[$l]}" \
            "${LRSS[$l]}" "$(ratio "${LRSS[$l]}" "${LRSS[ninja-1.11]:-}")" "$(ratio "${LRSS[$l]}" "${LRSS[ninja-1.14]:-}")"
    done
    if ((EDITS > 0)); then
        echo
        echo "Edit, then build (medians of $EDITS; each rebuilds one object and what links it):"
        echo
        echo "| tool | edit + build | /1.11 | /1.14 |"
        echo "|---|---:|---:|---:|"
        for l in "${USED[@]}"; do
            e=$(median "$RES/edit.$l" 1)
            printf '| %s | %.3f s | %s | %s |\n' "$l" "$e" "$(ratio "$e" "$([[ -e $RES/edit.ninja-1.11 ]] && median "$RES/edit.ninja-1.11" 1)")" \
                "$(ratio "$e" "$([[ -e $RES/edit.ninja-1.14 ]] && median "$RES/edit.ninja-1.14" 1)")"
        done
    fi
} | tee "$RES/summary.md"
log "summary: $RES/summary.md"
