#!/usr/bin/env python3
"""Fallback for hyperfine: time a command, write hyperfine-shaped JSON.

Used by bench/lib.sh when hyperfine is not installed.  Supports the subset
of hyperfine's interface that the bench scripts use:

    timeit.py --warmup W --runs R --export-json FILE [--prepare CMD]
              [--command-name NAME] CMD

CMD and the prepare command are split with shlex and run without a shell
(like `hyperfine -N`); stdout/stderr of CMD go to /dev/null.  A non-zero exit
aborts with status 1, as hyperfine does.
"""

import argparse
import json
import resource
import shlex
import statistics
import subprocess
import sys
import time


def run(argv, quiet=True):
    out = subprocess.DEVNULL if quiet else None
    return subprocess.run(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL).returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--export-json", required=True)
    ap.add_argument("--prepare")
    ap.add_argument("--command-name")
    ap.add_argument("command")
    a = ap.parse_args()

    argv = shlex.split(a.command)
    prep = shlex.split(a.prepare) if a.prepare else None
    name = a.command_name or a.command

    cpu = []   # (user, system) per timed run, children included

    def once():
        if prep and run(prep) != 0:
            sys.exit("timeit: prepare command failed: %s" % a.prepare)
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        rc = run(argv)
        dt = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if rc != 0:
            sys.exit("timeit: command exited %d: %s" % (rc, a.command))
        cpu.append((r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime))
        return dt

    for _ in range(a.warmup):
        once()
    cpu.clear()
    times = []
    for i in range(a.runs):
        times.append(once())
        print("  %s: run %d/%d %.3f s" % (name, i + 1, a.runs, times[-1]), file=sys.stderr)

    res = {
        "command": name,
        "mean": statistics.mean(times),
        "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "user": statistics.mean(u for u, _ in cpu),
        "system": statistics.mean(s for _, s in cpu),
        "times": times,
    }
    with open(a.export_json, "w") as f:
        json.dump({"results": [res]}, f, indent=2)
    print("  %s: mean %.3f s ± %.3f s" % (name, res["mean"], res["stddev"]), file=sys.stderr)


if __name__ == "__main__":
    main()
