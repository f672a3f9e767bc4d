#!/usr/bin/env bash
# Usage: bench/full_pair.sh BIN_A BIN_B [ROUNDS]
#
# Clean builds of the synthetic tree bench/compare.sh leaves in
# $GGNINJA_CACHE/synth-work (run it once first), BIN_A on its `ninja` copy
# and BIN_B on its `ggninja` copy, alternating for ROUNDS [2] rounds so the
# machine's drift hits both alike: `-t clean`, logs removed, then a build.
# Prints wall time and CPU (user+system) of each, the tool's own apart from
# its commands' (bench/selfcpu.py).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

a=$(resolve_bin "${1:?usage: full_pair.sh BIN_A BIN_B [ROUNDS]}")
b=$(resolve_bin "${2:?usage: full_pair.sh BIN_A BIN_B [ROUNDS]}")
rounds=${3:-2}
work=$GGNINJA_CACHE/synth-work
[[ -d $work/ninja/out && -d $work/ggninja/out ]] || die "run bench/compare.sh first"
for ((r = 1; r <= rounds; r++)); do
    for side in "ninja:$a" "ggninja:$b"; do
        dir=$work/${side%%:*}/out
        bin=${side#*:}
        "$bin" -C "$dir" -t clean >/dev/null 2>&1 || true
        rm -f "$dir/.ninja_log" "$dir/.ninja_deps"
        python3 "$(dirname "${BASH_SOURCE[0]}")/selfcpu.py" "$(basename "$bin") round $r" "$bin" -C "$dir"
    done
done
