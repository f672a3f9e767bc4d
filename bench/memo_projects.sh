#!/usr/bin/env bash
# shellcheck disable=SC2016
# Memoized clean rebuilds of every real project the tests build:
# ggninja --cache against ccache (ninja + ccache for the CMake projects,
# make CC="ccache cc" for the make projects), side by side in one run.
#
#   bench/memo_projects.sh [GGNINJA_BIN [NINJA_BIN]]
#
# Projects (PROJECTS, default all): cmake-demo (fixtures/), libgit2 and
# libarchive (Debian sources, configured as tests/thirdparty.rs does), and
# zlib, bzip2, lz4, lua5.4 through `ggninja --make` (as tests/make_projects.rs).
# Per project:
#   1. cold: ggninja --cache into an empty store; ninja/make + ccache into an
#      empty ccache (each side its own tree);
#   2. warm: `-t clean` / `make clean`, then the build again, RUNS rounds,
#      the two sides interleaved; medians;
#   3. every warm ggninja rebuild is checked against what the cold build
#      made: the same files (sha256), the same symlinks (targets);
#   4. CPU per hit: ggninja's own CPU (its threads only, not the commands it
#      runs; its `-d stats`, from getrusage) on a warm rebuild, divided by its
#      hits (as its `-d stats` tallies them); and per hit after the first:
#      (CPU of the warm rebuild - CPU of a rebuild after deleting one object)
#      / (the difference of their hits), which leaves out what any build
#      pays once (reading the manifest, the logs, the caches, the toolchain);
#      and the same with every object deleted instead of `-t clean`, so the
#      two builds differ by hits alone (a clean rebuild also runs what is
#      never memoized, as cmake-demo's Python generator, and that run's own
#      consequences: stats again, generated headers hashed anew). Each
#      round runs the three builds one after another, and the per-hit
#      figures are taken round by round: their median, with the lowest and
#      highest round beside it (a shared machine's speed drifts between
#      rounds more than between a round's builds);
#   5. what of that a hit cannot help spending: the bytes a hit after the
#      first writes (hits and bytes from `-d stats`), times the CPU that
#      writing a MB into new files costs on the same file system, measured
#      in each round (write_floor); the rest is the hit's own work (key,
#      lookup, reading and checking the object, the bookkeeping).
#
# GGNINJA_CACHE holds the trees and stores: on btrfs or XFS, the cold build
# stores its big outputs as clones (store/src/clone.rs).
#
# Knobs: RUNS [3] (warm rounds), CPU_RUNS [3], JOBS [2], PROJECTS, GGNINJA_CACHE,
# PYTHON3 [/usr/bin/python3]: the interpreter of cmake-demo's generator, which
# both sides run on every clean rebuild. Debian's, not the first on PATH: a
# version manager's shim there (pyenv's is a chain of bash scripts, ~0.1 s a
# run) would be timed as if it were the build.
# Needs ccache, cmake, make, gcc.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GG=$(resolve_bin "${1:-$REPO_ROOT/target/release/ggninja}")
NJ=$(resolve_bin "${2:-ninja}")
RUNS=${RUNS:-3}
CPU_RUNS=${CPU_RUNS:-3}
[[ $CPU_RUNS -ge 1 ]] || die "CPU_RUNS must be 1 or more"
JOBS=${JOBS:-2}
PYTHON3=${PYTHON3:-/usr/bin/python3}
PROJECTS=${PROJECTS:-zlib bzip2 lz4 lua5.4 libgit2 libarchive cmake-demo}
for t in ccache cmake make gcc; do
    command -v "$t" >/dev/null || die "$t is not installed (scripts/install-deps.sh)"
done
[[ " $PROJECTS " != *" cmake-demo "* || -x $PYTHON3 ]] || die "no python3 at $PYTHON3 (PYTHON3=...)"
W=$GGNINJA_CACHE/memo-projects
RES=$(new_results_dir memo-projects)
log "results in $RES"

LIBGIT2_OPTS=(-DCMAKE_BUILD_TYPE=None -DBUILD_CLI=OFF -DBUILD_TESTS=ON -DBUILD_EXAMPLES=OFF
    -DBUILD_FUZZERS=OFF -DUSE_HTTPS=OFF -DUSE_SSH=OFF -DUSE_GSSAPI=OFF -DUSE_NTLMCLIENT=OFF
    -DUSE_HTTP_PARSER=system -DREGEX_BACKEND=regcomp -DUSE_SHA1=CollisionDetection
    -DUSE_SHA256=Builtin -DDISABLE_ONLINE_TESTS=ON)
# tests/common/mod.rs LIBARCHIVE_OPTIONS
LIBARCHIVE_OPTS=(-DCMAKE_BUILD_TYPE=Debug -DENABLE_WERROR=OFF -DENABLE_OPENSSL=OFF
    -DENABLE_MBEDTLS=OFF -DENABLE_NETTLE=OFF -DENABLE_CNG=OFF -DENABLE_LIBB2=OFF -DENABLE_LZ4=OFF
    -DENABLE_LZO=OFF -DENABLE_LZMA=OFF -DENABLE_ZSTD=OFF -DENABLE_BZip2=OFF -DENABLE_LIBXML2=OFF
    -DENABLE_EXPAT=OFF -DENABLE_PCREPOSIX=OFF -DENABLE_LIBGCC=OFF -DENABLE_ACL=OFF
    -DENABLE_INSTALL=OFF)

# setup PROJECT: sets KIND (cmake|make), GOALS, CCVAR (the make side's CC)
# and prepares $P/gg and $P/cc (configured, nothing built).
setup() {
    local p=$1 src
    P=$W/$p
    rm -rf "$P"
    mkdir -p "$P"
    GOALS=() CCVAR="ccache cc"
    case $p in
    cmake-demo | libgit2 | libarchive)
        KIND=cmake
        local opts=()
        if [[ $p == cmake-demo ]]; then
            src=$P/src
            cp -r "$REPO_ROOT/fixtures/cmake-demo" "$src"
            opts=(-DPython3_EXECUTABLE="$PYTHON3")
        else
            src=$("$REPO_ROOT/scripts/fetch-source.sh" "$p" | tail -n 1)
            [[ $p == libgit2 ]] && opts=("${LIBGIT2_OPTS[@]}") || opts=("${LIBARCHIVE_OPTS[@]}")
        fi
        cmake -G Ninja -S "$src" -B "$P/gg" "${opts[@]}" >/dev/null
        cmake -G Ninja -S "$src" -B "$P/cc" "${opts[@]}" \
            -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
        ;;
    zlib | bzip2 | lz4 | lua5.4)
        KIND=make
        src=$("$REPO_ROOT/scripts/fetch-source.sh" "$p" | tail -n 1)
        local side
        for side in gg cc; do
            cp -r "$src" "$P/$side"
            case $p in
            zlib) (cd "$P/$side" && ./configure >/dev/null) ;;
            lua5.4) (cd "$P/$side" &&
                patch -s -R -p1 -i debian/patches/0002-lua-modules-paths.patch &&
                patch -s -R -p1 -i debian/patches/0001-build-system.patch) ;;
            esac
        done
        case $p in
        bzip2) GOALS=(libbz2.a bzip2 bzip2recover) ;;
        lua5.4) GOALS=(linux) CCVAR="ccache gcc -std=gnu99" ;; # lua's own CC
        esac
        ;;
    *) die "unknown project $p" ;;
    esac
}

# The commands of each side, on the current project.
gg_argv() {
    GGCMD=("$GG" -C "$P/gg" -j"$JOBS" --cache --store "$P/store" "$@")
    [[ $KIND == cmake ]] || GGCMD+=(--make "${GOALS[@]}")
}
gg_build() {
    gg_argv "$@"
    "${GGCMD[@]}"
}
gg_clean() {
    if [[ $KIND == cmake ]]; then "$GG" -C "$P/gg" -t clean; else make -C "$P/gg" clean; fi
}
cc_build() {
    if [[ $KIND == cmake ]]; then
        CCACHE_DIR=$P/ccache "$NJ" -C "$P/cc" -j"$JOBS"
    else
        CCACHE_DIR=$P/ccache make -C "$P/cc" -j"$JOBS" CC="$CCVAR" "${GOALS[@]}"
    fi
}
cc_clean() {
    if [[ $KIND == cmake ]]; then "$NJ" -C "$P/cc" -t clean; else make -C "$P/cc" clean; fi
}

# timed FN: runs FN quietly (failing the script if it fails), prints seconds.
timed() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >"$P/last.log" 2>&1 || { tail -n 20 "$P/last.log" >&2; die "$* failed in $P"; }
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}

# Every file of the ggninja tree (logs and caches aside): its type, a
# symlink's target, a regular file's hash.
snapshot() {
    local skip=(! -path '*/.ninja_*' ! -path '*/.ggninja_*' ! -path './Testing/*')
    cd "$P/gg"
    {
        find . \( -type f -o -type l \) "${skip[@]}" -printf '%y %p %l\n'
        find . -type f "${skip[@]}" -print0 | xargs -0 -r sha256sum
    } | LC_ALL=C sort
    cd - >/dev/null
}

# Whether every file the cold build made is there again, byte-identical
# (a symlink to the same target).
same_as_cold() {
    local missing
    missing=$(snapshot | LC_ALL=C comm -23 "$P/cold.sha" -)
    [[ -z $missing ]] || { printf '%s\n' "$missing" | head -n 5 >&2; return 1; }
}

# selfcpu_ms: ggninja's own CPU in ms on a build (the threads of its
# process, not the processes it starts), as its `-d stats` tells it
# (getrusage). (perf's per-thread totals, `-s` and `report -T`, leave out
# one thread of each run, at times the main one; sampling its task-clock
# often enough to count costs the process a third more.)
selfcpu_ms() {
    gg_argv -d stats
    "${GGCMD[@]}" >"$P/last.log" 2>&1 || die "ggninja failed in $P"
    sed -n 's/^own CPU .*: user \([0-9.]*\) ms, system \([0-9.]*\) ms$/\1 \2/p' "$P/last.log" |
        awk '{ printf "%.1f\n", $1 + $2; n++ } END { if (n != 1) exit 1 }' ||
        die "no own CPU in ggninja's -d stats in $P"
}
# hits FN: how many edges a build of FN restored from the store (its `-d
# stats` tally, absent when none did).
hits() { "$@" -d stats 2>&1 | sed -n 's/^memo hits: \([0-9]*\) .*/\1/p' | grep . || echo 0; }
# hit_bytes: what the hits of the last selfcpu_ms build wrote.
hit_bytes() { sed -n 's/^memo hits: [0-9]* (\([0-9]*\) bytes written)$/\1/p' "$P/last.log" | grep . || echo 0; }
# write_floor: CPU ms to write 1 MB into a new file on the file system of
# $P, the least a hit restoring that much spends (no reading, no check):
# the median of 5 passes of 16 files, written from one buffer and closed.
write_floor() {
    python3 - "$P/floor" <<'EOF'
import os, statistics, sys, time
d, mb = sys.argv[1], os.urandom(1 << 20)
os.makedirs(d, exist_ok=True)
each = []
for _ in range(5):
    t = time.process_time()
    for i in range(16):
        fd = os.open(f"{d}/{i}", os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644)
        os.write(fd, mb)
        os.close(fd)
    each.append((time.process_time() - t) * 1e3 / 16)
    for i in range(16):
        os.unlink(f"{d}/{i}")
os.rmdir(d)
print(f"{statistics.median(each):.3f}")
EOF
}
# The edges of the last build: its last `[n/total]`.
edges() { grep -o '^\[[0-9]*/[0-9]*\]' "$P/last.log" | tail -n 1 | sed 's/.*\///; s/\]//'; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# pick_one: sets ONE, the object drop_one deletes, and H1, the hits of the
# build after it: the first object by name whose rebuild restores at least
# one edge. (lz4's lib/lz4.o is remade by a rule that is never memoized: the
# baseline would run a compiler and a record, not a hit.)
pick_one() {
    local o
    while read -r o; do
        rm -f "$o"
        H1=$(hits gg_build)
        ONE=$o
        [[ $H1 -gt 0 ]] && return
    done < <(find "$P/gg" -name '*.o' | LC_ALL=C sort)
    die "$P: no object whose rebuild is a memo hit"
}
# Delete that object, so the next build restores it and what depends on it.
drop_one() { rm -f "$ONE"; }
# Delete every object of the ggninja tree: the next build restores them
# and what depends on them, and runs nothing a clean would add.
drop_objects() { find "$P/gg" -name '*.o' -delete; }

TABLE=$RES/table.tsv
: >"$TABLE"
for p in $PROJECTS; do
    log "$p: setting up"
    setup "$p"
    rm -rf "$P/store" "$P/ccache"
    log "$p: cold builds"
    snapshot >"$P/before.sha"
    gg_cold=$(timed gg_build)
    E=$(edges)
    # What the cold build made (a clean may remove more, as zlib's does).
    snapshot | LC_ALL=C comm -13 "$P/before.sha" - >"$P/cold.sha"
    cc_cold=$(timed cc_build)
    log "$p: cold: ggninja --cache $gg_cold s ($E edges), ccache $cc_cold s"
    gg_w="" cc_w=""
    for ((r = 1; r <= RUNS; r++)); do
        cc_clean >/dev/null
        t=$(timed cc_build)
        cc_w+=" $t"
        gg_clean >/dev/null
        g=$(timed gg_build)
        gg_w+=" $g"
        same_as_cold || die "$p: warm rebuild $r differs from the cold build"
        log "$p: warm round $r: ccache $t s, ggninja $g s"
    done
    gg_clean >/dev/null
    H=$(hits gg_build)
    pick_one
    drop_objects
    HO=$(hits gg_build)
    cpu_all="" cpu_one="" cpu_objects="" by_all="" by_one="" by_objects="" floor=""
    for ((r = 1; r <= CPU_RUNS; r++)); do
        gg_clean >/dev/null
        cpu_all+=" $(selfcpu_ms)"
        by_all+=" $(hit_bytes)"
        drop_one
        cpu_one+=" $(selfcpu_ms)"
        by_one+=" $(hit_bytes)"
        drop_objects
        cpu_objects+=" $(selfcpu_ms)"
        by_objects+=" $(hit_bytes)"
        floor+=" $(write_floor)"
    done
    # After a dropped object the rebuild may differ (lz4's programs/ rule
    # remakes lib/lz4.o with other flags, as make does): check a full one.
    gg_clean >/dev/null
    timed gg_build >/dev/null
    same_as_cold || die "$p: a warm rebuild after the measured ones differs from the cold build"
    log "$p: $H hits of $E edges; ggninja CPU: warm rebuild$cpu_all ms, one object dropped (${ONE#"$P/gg/"}, $H1 hits)$cpu_one ms, every object dropped ($HO hits)$cpu_objects ms; writing 1 MB:$floor ms"
    # Each round's three runs whole: the per-hit figures are taken round by
    # round, so a machine slower in one round than in another moves them
    # less than unpaired medians would.
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$E" "$H" \
        "$gg_cold" "$cc_cold" "$(echo "$cc_w" | median)" "$(echo "$gg_w" | median)" "${cpu_all# }" \
        "${cpu_one# }" "$H1" "${cpu_objects# }" "$HO" "${by_all# }" "${by_one# }" "${by_objects# }" \
        "${floor# }" >>"$TABLE"
done

{
    echo "# ggninja --cache vs ccache: warm clean rebuilds, -j$JOBS, $RUNS rounds (medians), CPU per hit over $CPU_RUNS rounds, $(nproc) cores"
    echo
    echo "ggninja: $(bin_version "$GG"); ninja: $(bin_version "$NJ"); $(ccache --version | head -n 1); every warm rebuild byte-identical to the cold build"
    echo
    python3 - "$TABLE" <<'EOF'
import sys
print("| project | edges | hits | cold (ggninja --cache, empty store) | ccache cold | ccache warm "
      "| ggninja warm | ggninja/ccache | x faster than cold | CPU per hit | per hit after the first "
      "| its writes | beyond its writes | the same, objects deleted | its writes | beyond its writes |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
from statistics import median
def spread(each):
    """Round by round figures: the median (lowest-highest)."""
    each = sorted(each)
    return f"{median(each):.2f} ms ({each[0]:.2f}-{each[-1]:.2f})"
def after_first(runs, ones, bytes_, bytes_one, hits, floor):
    """Per hit after the first; the bytes each writes, and what writing
    them costs at least; the rest: three cells, round by round."""
    if hits <= 0:
        return ["-"] * 3
    per = [(r - o) / hits for r, o in zip(runs, ones)]
    mb = [(b - b1) / hits / (1 << 20) for b, b1 in zip(bytes_, bytes_one)]
    writes = [m * f for m, f in zip(mb, floor)]
    beyond = [p - w for p, w in zip(per, writes)]
    return [spread(per), f"{median(mb) * 1024:.0f} KB, {median(writes):.2f} ms", spread(beyond)]
for line in open(sys.argv[1]):
    p, e, h, gc, cc, cw, gw, ca, c1, h1, co, ho, ba, b1, bo, fl = line.rstrip("\n").split("\t")
    e, h, h1, ho = int(e), int(h), int(h1), int(ho)
    gc, cc, cw, gw = map(float, (gc, cc, cw, gw))
    ca, c1, co, ba, b1, bo, fl = ([float(x) for x in c.split()] for c in (ca, c1, co, ba, b1, bo, fl))
    per = f"{median(ca) / h:.2f} ms" if h else "-"
    after = after_first(ca, c1, ba, b1, h - h1, fl)
    objects = after_first(co, c1, bo, b1, ho - h1, fl)
    print(f"| {p} | {e} | {h} | {gc:.1f} s | {cc:.1f} s | {cw:.2f} s | {gw:.2f} s | {gw / cw:.2f}x "
          f"| {gc / gw:.0f}x | {per} | {' | '.join(after)} | {' | '.join(objects)} |")
EOF
} | tee "$RES/summary.md"
