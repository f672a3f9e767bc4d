#!/usr/bin/env python3
"""Usage: selfcpu.py LABEL CMD [ARGS...]

Runs CMD (stdout discarded) and prints its wall time, the CPU time of the
tool itself (all its threads, its commands excluded) and of the commands
it ran: the tool's own cost is what a build tool can change, and it is
drowned in the commands' time in a plain `time`. The tool's times are read
from /proc every 5 ms until it exits (children's once reaped).
"""
import os
import subprocess
import sys
import time


def main():
    label, cmd = sys.argv[1], sys.argv[2:]
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    last = (0, 0, 0, 0)
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            last = tuple(int(x) / hz for x in fields[11:15])
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.005)
    wall = time.monotonic() - t0
    u, s, cu, cs = last
    print(f"{label}: {wall:.2f} s wall, tool {u:.2f}+{s:.2f} s CPU, commands {cu:.2f}+{cs:.2f} s CPU")
    sys.exit(p.returncode)


main()
