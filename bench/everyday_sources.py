#!/usr/bin/env python3
"""Writes the sources the manifests of ninja's write_fake_manifests.py name.

Usage: everyday_sources.py TREE HEADERS

Every `cxx` input (src/<dir>/<name>.cc) gets a header beside it and HEADERS
headers shared by the whole tree (src/base/common_<k>.h out of a pool of
2,000, picked by a fixed seed), each named by an `#include "..."` line that
bench/everyday_fakecc.c copies into the object's depfile.  With `-s`, the
generator itself would make every source include the headers of every
dependency (thousands per source, gigabytes of text), so it is not used.
Ignores everything else in the manifests.
"""
import os
import random
import re
import sys

POOL = 2000
CXX = re.compile(r"^build +\S+: +cxx +(\S+)", re.M)
WRAP = re.compile(r"\$\n\s*")  # ninja_syntax wraps long lines with `$`


def sources(tree):
    """The cxx inputs of every subninja under TREE/obj, in a fixed order."""
    found = set()
    for root, _dirs, files in os.walk(os.path.join(tree, "obj")):
        for f in files:
            if f.endswith(".ninja"):
                with open(os.path.join(root, f)) as m:
                    found.update(CXX.findall(WRAP.sub(" ", m.read())))
    return sorted(found)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    tree, headers = sys.argv[1], int(sys.argv[2])
    rng = random.Random(15)
    for k in range(POOL):
        write(os.path.join(tree, "src/base/common_%d.h" % k), "// shared\n")
    for cc in sources(tree):
        own = cc[:-3] + ".h"
        write(os.path.join(tree, own), "// own\n")
        shared = ["src/base/common_%d.h" % k for k in rng.sample(range(POOL), headers)]
        lines = ['#include "%s"\n' % h for h in [own] + shared]
        write(os.path.join(tree, cc), "".join(lines))


if __name__ == "__main__":
    main()
