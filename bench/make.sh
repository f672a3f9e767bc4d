#!/usr/bin/env bash
# `ggninja --make` against GNU make, side by side (issue 12's benchmark):
#   import: ggninja reading the build from make (`-t commands`, nothing kept
#           from a previous run) vs `make -n`, both on an up-to-date tree;
#   no-op:  `ggninja --make` (its database kept from the last run) vs `make`.
# On a synthetic flat Makefile (N objects in 50 directories, one pattern
# rule, `-include`d depfiles: make's usual shape) and on zlib from Debian's
# sources (after ./configure). Medians of RUNS. Prints a markdown table.
#
#   bench/make.sh [path/to/ggninja]      (N=5000 RUNS=5 by default)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
G=$(realpath "${1:-$ROOT/target/release/ggninja}")
N=${N:-5000}
RUNS=${RUNS:-5}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

median() { # CMD... -> median wall seconds over RUNS (output discarded)
    python3 - "$RUNS" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
print(f"{statistics.median(times):.3f}")
PY
}

synthetic() {
    python3 - "$1" "$N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
objs = []
for i in range(n):
    d = f"{root}/src/d{i % 50}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i}.c", "w") as f:
        f.write(f"int f{i}(void) {{ return {i}; }}\n")
    objs.append(f"src/d{i % 50}/f{i}.o")
with open(f"{root}/Makefile", "w") as f:
    f.write("OBJS = " + " \\\n  ".join(objs) + "\n")
    f.write("all: prog\nprog: $(OBJS)\n\t@echo link > $@\n")
    f.write("%.o: %.c\n\t@touch $@\n-include $(OBJS:.o=.d)\n")
PY
}

row() { # NAME DIR
    local name=$1 dir=$2
    (cd "$dir" && "$G" --make >/dev/null)
    local make_n import noop_make noop_g
    make_n=$(cd "$dir" && median make -n)
    import=$(cd "$dir" && median sh -c "rm -rf .ggninja_make && exec '$G' --make -t commands")
    noop_make=$(cd "$dir" && median make)
    (cd "$dir" && "$G" --make >/dev/null)
    noop_g=$(cd "$dir" && median "$G" --make)
    python3 - "$name" "$make_n" "$import" "$noop_make" "$noop_g" <<'PY'
import sys
name, mn, imp, nm, ng = sys.argv[1], *map(float, sys.argv[2:])
print(f"| {name} | {mn:.3f} s | {imp:.3f} s | {imp/mn:.2f}x | {nm:.3f} s | {ng:.3f} s | {ng/nm:.2f}x |")
PY
}

echo "| tree | make -n | ggninja import | ratio | make no-op | ggninja no-op | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
mkdir -p "$WORK/synthetic"
synthetic "$WORK/synthetic"
row "synthetic, $N objects" "$WORK/synthetic"
if ZLIB=$(bash "$ROOT/scripts/fetch-source.sh" zlib 2>/dev/null | tail -1) && [[ -d $ZLIB ]]; then
    cp -r "$ZLIB" "$WORK/zlib"
    (cd "$WORK/zlib" && ./configure >/dev/null)
    row "zlib 1.2.13 (Debian)" "$WORK/zlib"
fi
