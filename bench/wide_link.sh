#!/usr/bin/env bash
# A wide link after a generated header: N objects wait (order-only) for a
# header a generator remakes, and one edge links them all, listed last
# object first. Each round edits the generator's input, so every build
# remakes the header, then finds each object and the link up to date: the
# plan's bookkeeping is what is timed (one command runs).
#
#   bench/wide_link.sh GGNINJA_BIN NINJA_BIN
#
# Knobs: N [20000] objects, RUNS [7] rounds, tools interleaved; each tool
# builds its own copy of the tree. Prints CPU (user + system, from
# /usr/bin/time) and wall medians, and ggninja/ninja.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GG=$(resolve_bin "${1:-$REPO_ROOT/target/release/ggninja}")
NJ=$(resolve_bin "${2:-ninja}")
N=${N:-20000}
RUNS=${RUNS:-7}
[[ -x /usr/bin/time ]] || die "needs /usr/bin/time (Debian: apt-get install time)"
RES=$(new_results_dir wide-link)
log "results in $RES"

make_tree() {
    mkdir -p "$1"
    python3 - "$1" "$N" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
with open(os.path.join(d, "build.ninja"), "w") as f:
    f.write("rule cp\n  command = cp $in $out\nrule cat\n  command = cat $in > $out\n")
    f.write("build gen.h: cp gen.in\n")
    for i in range(n):
        f.write(f"build o{i}: cp s{i} || gen.h\n")
    f.write("build lib: cat " + " ".join(f"o{i}" for i in reversed(range(n))) + "\n")
for i in range(n):
    with open(os.path.join(d, f"s{i}"), "w") as s:
        s.write(str(i))
with open(os.path.join(d, "gen.in"), "w") as g:
    g.write("0")
EOF
}

declare -A TOOL=([ggninja]=$GG [ninja]=$NJ)
for t in ggninja ninja; do
    make_tree "$RES/$t"
    "${TOOL[$t]}" -C "$RES/$t" >/dev/null
done
for ((r = 1; r <= RUNS; r++)); do
    for t in ggninja ninja; do
        echo "$r" >"$RES/$t/gen.in"
        t0=$EPOCHREALTIME
        /usr/bin/time -f '%U %S' -o "$RES/time.tmp" "${TOOL[$t]}" -C "$RES/$t" >/dev/null
        t1=$EPOCHREALTIME
        read -r u s <"$RES/time.tmp"
        awk -v u="$u" -v s="$s" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f %.3f\n", u + s, b - a }' >>"$RES/$t.times"
    done
done
cpu() { median "$RES/$1.times" 1; }
wall() { median "$RES/$1.times" 2; }
echo "# wide link after a generated header: $N objects, $RUNS rounds (medians), $(nproc) cores"
echo
echo "ggninja: $(bin_version "$GG"); ninja: $(bin_version "$NJ")"
echo
echo "| | ninja | ggninja | ggninja/ninja |"
echo "|---|---:|---:|---:|"
echo "| CPU (s) | $(cpu ninja) | $(cpu ggninja) | $(ratio "$(cpu ggninja)" "$(cpu ninja)") |"
echo "| wall (s) | $(wall ninja) | $(wall ggninja) | $(ratio "$(wall ggninja)" "$(wall ninja)") |"
