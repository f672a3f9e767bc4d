#!/usr/bin/env python3
"""The calibration fixtures of bench/remote_calib.sh, and the numbers it reads back.

  remote_calib.py dag DIR [--edges N] [--seed S]   the DAG whose wall time is predicted
  remote_calib.py probe DIR                         a chain at -j1 that isolates each term
  remote_calib.py probe-terms LOCAL_LOG REMOTE_LOG  latency, start-up, bandwidths from the probe
  remote_calib.py excess LOCAL_LOG REMOTE_LOG       per-edge remote minus local time, summarised
  remote_calib.py cpu STACK_DIR                     CPU seconds the stack's processes have used

Every edge runs `sh tools/step.sh SECONDS OUT BYTES INPUTS...`: it sleeps (so
on a 2-core machine the instances still run in parallel: a sleeping edge
needs no core), reads its inputs and writes exactly BYTES to OUT (its
inputs, then zeros). A `sleep && cp` list is not thunked (ggninja runs
command lists of unknown programs here); a script in the tree that is an
input of the edge is, and travels with the thunk.

The DAG: sleeps log-uniform in 50-800 ms, sources log-uniform in 256 B -
1 MiB (some carried in the Invoke request, some uploaded), a 1 KiB file
every edge reads and a 2 MiB one every fifth edge reads (uploaded once,
waited for by the others), outputs 64 B - 256 KiB, and edges
reading an output of one of the 12 edges before them (60 %) (chains, so the
critical path matters). Deterministic for a seed.

Ignores what the numbers mean: remote_calib.sh compares them.
"""

import argparse
import math
import os
import random
import statistics
import sys

STEP = 'd=$1; o=$2; n=$3; shift 3\nsleep "$d"\n{ cat "$@"; head -c "$n" /dev/zero; } | head -c "$n" >"$o"\n'

RULE = "rule step\n  command = sh tools/step.sh $t $out $n $in\n\n"


def log_uniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def write_file(path, size, rng):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(rng.randbytes(size))


def edge(out, seconds, size, inputs):
    return (f"build {out}: step {' '.join(inputs)} | tools/step.sh\n"
            f"  t = {seconds:.3f}\n  n = {size}\n")


def start(d):
    os.makedirs(os.path.join(d, "tools"), exist_ok=True)
    with open(os.path.join(d, "tools/step.sh"), "w") as f:
        f.write(STEP)


def dag(d, edges, seed):
    rng = random.Random(seed)
    start(d)
    sources = []
    for i in range(40):
        path = f"src/s{i}.bin"
        write_file(os.path.join(d, path), int(log_uniform(rng, 256, 1 << 20)), rng)
        sources.append(path)
    write_file(os.path.join(d, "src/shared_small.bin"), 1024, rng)
    write_file(os.path.join(d, "src/shared_big.bin"), 2 << 20, rng)
    lines = [RULE]
    for i in range(edges):
        ins = [sources[i % len(sources)], "src/shared_small.bin"]
        if i % 5 == 0:
            ins.append("src/shared_big.bin")
        if i > 0 and rng.random() < 0.6:
            ins.append(f"out/e{rng.randrange(max(0, i - 12), i)}")
        seconds = log_uniform(rng, 0.05, 0.8)
        lines.append(edge(f"out/e{i}", seconds, int(log_uniform(rng, 64, 256 << 10)), ins))
    with open(os.path.join(d, "build.ninja"), "w") as f:
        f.writelines(lines)


# The probe: one chain (each edge reads the one before), 100 ms sleeps.
# Edge 0 is the instance's first (cold); 1-8 warm with tiny inputs; 9-11
# read a fresh 8 MiB source each (uploaded); 12-14 write 8 MiB (fetched).
PROBE_BIG = 8 << 20


def probe(d):
    rng = random.Random(1)
    start(d)
    lines = [RULE]
    for i in range(15):
        src = f"src/p{i}.bin"
        write_file(os.path.join(d, src), PROBE_BIG if 9 <= i <= 11 else 200, rng)
        ins = [src] + ([f"out/p{i - 1}"] if i else [])
        size = PROBE_BIG if i >= 12 else 100
        lines.append(edge(f"out/p{i}", 0.1, size, ins))
    with open(os.path.join(d, "build.ninja"), "w") as f:
        f.writelines(lines)


def read_log(path):
    """The newest entry of each output: its duration in ms."""
    times = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            start_ms, end_ms, _mtime, out, _hash = line.rstrip("\n").split("\t")
            times[out] = int(end_ms) - int(start_ms)
    return times


def excesses(local_log, remote_log):
    local, remote = read_log(local_log), read_log(remote_log)
    return {o: remote[o] - local[o] for o in remote if o in local}


def probe_terms(local_log, remote_log):
    x = excesses(local_log, remote_log)
    warm = statistics.median(x[f"out/p{i}"] for i in range(1, 9))
    up = statistics.median(x[f"out/p{i}"] for i in range(9, 12)) - warm
    down = statistics.median(x[f"out/p{i}"] for i in range(12, 15)) - warm
    mb = PROBE_BIG / 1e6
    print(f"latency_ms={warm:.0f} startup_ms={max(0, x['out/p0'] - warm):.0f} "
          f"up_mb_s={mb / max(up, 1) * 1000:.1f} down_mb_s={mb / max(down, 1) * 1000:.1f}")


def excess(local_log, remote_log):
    x = sorted(excesses(local_log, remote_log).values())
    q = statistics.quantiles(x, n=10)
    print(f"edges {len(x)}  remote - local ms: min {x[0]}  p10 {q[0]:.0f}  "
          f"median {statistics.median(x):.0f}  p90 {q[-1]:.0f}  max {x[-1]}")


def stack_cpu(stack):
    """User + system seconds of the processes local-aws.sh recorded and all
    their descendants (each live one's own and its reaped children's)."""
    children = {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        fields = proc_stat(p)
        if fields:
            children.setdefault(fields[1], []).append(p)
    todo = [line.split()[1] for line in open(os.path.join(stack, "pids"))]
    seen, ticks = set(), 0
    while todo:
        p = todo.pop()
        fields = proc_stat(p)
        if p in seen or not fields:
            continue
        seen.add(p)
        ticks += sum(int(x) for x in fields[11:15])
        todo += children.get(p, [])
    print(f"{ticks / os.sysconf('SC_CLK_TCK'):.2f}")


def proc_stat(pid):
    """/proc/PID/stat's fields after the command's name (state first)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["dag", "probe", "probe-terms", "excess", "cpu"])
    p.add_argument("args", nargs="+")
    p.add_argument("--edges", type=int, default=300)
    p.add_argument("--seed", type=int, default=13)
    a = p.parse_args()
    if a.what == "dag":
        dag(a.args[0], a.edges, a.seed)
    elif a.what == "probe":
        probe(a.args[0])
    elif a.what == "cpu":
        stack_cpu(a.args[0])
    elif a.what == "probe-terms":
        probe_terms(*a.args)
    else:
        excess(*a.args)


if __name__ == "__main__":
    sys.exit(main())
