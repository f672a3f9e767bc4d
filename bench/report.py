#!/usr/bin/env python3
"""Print a markdown table comparing ninja and ggninja from bench JSON files.

    report.py RESULTS_DIR

RESULTS_DIR holds <case>.<label>.json files (hyperfine --export-json format,
label `ninja` or `ggninja`) and an optional `cases` file listing the case
names in order, one per line as `case<TAB>description`.  A missing or
unreadable JSON (the binary failed, or the case was skipped) shows as
FAILED / skipped.  The last column compares CPU time (user + system,
child processes included), which is less disturbed than wall time when the
machine is busy.
"""

import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            r = json.load(f)["results"][0]
        cpu = (r.get("user") or 0.0) + (r.get("system") or 0.0)
        return r["mean"], r.get("stddev") or 0.0, cpu
    except (OSError, ValueError, KeyError, IndexError):
        return None


def fmt(m):
    if m is None:
        return None
    mean, sd = m[0], m[1]
    if mean < 1.0:
        return "%.1f ms ± %.1f" % (mean * 1e3, sd * 1e3)
    return "%.3f s ± %.3f" % (mean, sd)


def main():
    d = sys.argv[1]
    cases = []
    cf = os.path.join(d, "cases")
    if os.path.exists(cf):
        with open(cf) as f:
            for line in f:
                line = line.rstrip("\n")
                if line:
                    name, _, desc = line.partition("\t")
                    cases.append((name, desc or name))
    print("| case | ninja | ggninja | ggninja/ninja | CPU ggninja/ninja |")
    print("|---|---:|---:|---:|---:|")
    for name, desc in cases:
        cells = []
        vals = []
        for label in ("ninja", "ggninja"):
            p = os.path.join(d, "%s.%s.json" % (name, label))
            m = load(p)
            vals.append(m)
            if m is not None:
                cells.append(fmt(m))
            elif os.path.exists(p + ".failed"):
                cells.append("FAILED")
            else:
                cells.append("skipped")
        ratio = cpu_ratio = "n/a"
        if vals[0] and vals[1]:
            if vals[0][0] > 0:
                ratio = "%.2fx" % (vals[1][0] / vals[0][0])
            if vals[0][2] > 0 and vals[1][2] > 0:
                cpu_ratio = "%.2fx" % (vals[1][2] / vals[0][2])
        print("| %s | %s | %s | %s | %s |" % (desc, cells[0], cells[1], ratio, cpu_ratio))


if __name__ == "__main__":
    main()
