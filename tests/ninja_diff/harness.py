#!/usr/bin/env python3
"""Differential harness: real ninja vs ggninja on cases extracted from ninja's
own C++ unit tests (manifest_parser_test.cc, dyndep_parser_test.cc,
depfile_parser_test.cc, build_test.cc).

The ninja sources are third party: they are read at run time from an unpacked
ninja-build source tree (``--src``, else ``scripts/fetch-source.sh
ninja-build``, else ``apt-get source ninja-build`` into the test cache) and
nothing extracted from them is ever written into the repository.

Each case is materialised twice (one temp dir per binary) and replayed as a
sequence of steps (ninja invocations plus file-system mutations between
them).  For every step the harness compares the exit status, the normalised
stdout (as a multiset of lines; order differences are reported separately),
the normalised stderr (program name and error locations stripped; line
numbers compared separately) and the resulting files.

ggninja behaves as ninja 1.13.2. Run over ninja 1.11.1's tests against real
1.11.1, the cases where 1.11 and 1.13 themselves differ (VERSION_DIFFERENCES,
each with what both versions do) are instead compared with the newer ninja
given by ``--newer-ninja``; such a case counts as agreeing when ggninja agrees
with the newer ninja, and as stale when it also agrees with the older one (the
list must name exactly the cases where the versions differ).

Usage:
  harness.py --ninja /usr/bin/ninja --ggninja path/to/ggninja \
      [--newer-ninja path/to/ninja-1.13.2] [--label NAME] \
      [--src DIR] [--report FILE] [--filter SUBSTR] [--jobs N] [--list]

The last line of stdout is machine readable:
  SUMMARY suite=NAME extracted=N run=N agree=N disagree=N skipped=N loc_mismatch=N
      order_diff=N version_diff=N stale=N seconds=N
"""

import argparse
import collections
import concurrent.futures
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

REF_NINJA = "/usr/bin/ninja"
SOURCES = [
    "manifest_parser_test.cc",
    "dyndep_parser_test.cc",
    "depfile_parser_test.cc",
    "build_test.cc",
]
RUN_TIMEOUT = 30

# Cases of ninja 1.11.1's tests where ninja 1.11.1 and 1.13.2 do different
# things: (what 1.11.1 does, what 1.13.2 does). ggninja does what 1.13.2 does.
FAILED_CODE = ("prints `FAILED: out`",
               "prints `FAILED: [code=1] out`, naming the command's exit code")
DEPRECATED_DUPBUILD = ("`-w dupbuild=err` makes a duplicate output an error, silently",
                       "a duplicate output is always an error; `-w dupbuild=err` "
                       "warns `deprecated warning 'dupbuild'` first")
SAME_EDGE_DUPE = ("an output listed twice in one build statement: "
                  "`multiple rules generate foo`",
                  "`foo is defined as an output multiple times`")
VERSION_DIFFERENCES = {
    "build_test.cc:BuildTest.DepsGccWithEmptyDepfileErrorsOut": FAILED_CODE,
    "build_test.cc:BuildTest.Fail": FAILED_CODE,
    "build_test.cc:BuildTest.FailedDepsParse": FAILED_CODE,
    "build_test.cc:BuildTest.RspFileFailure": FAILED_CODE,
    "build_test.cc:BuildTest.SwallowFailures": FAILED_CODE,
    "build_test.cc:BuildTest.SwallowFailuresLimit": FAILED_CODE,
    "build_test.cc:BuildTest.SwallowFailuresPool": FAILED_CODE,
    "depfile_parser_test.cc:DepfileParserTest.BuggyMP#1[gcc]": FAILED_CODE,
    "manifest_parser_test.cc:ParserTest.MultipleOutputsWithDeps#1": FAILED_CODE,
    "build_test.cc:BuildTest.DyndepBuildDiscoverNewOutputWithMultipleRules2": (
        "starts ready edges in manifest order: runs out1 after dd1, then fails "
        "loading dd2",
        "starts the edge with the longest critical path first (1.12's scheduler): "
        "dd2 (which out2 waits for) before out1, so it fails loading dd2 before "
        "out1 runs"),
    "build_test.cc:PlanTest.PoolWithRedundantEdges": (
        "runs foo.cpp, foo.cpp.obj, bar.cpp, bar.cpp.obj (manifest order)",
        "runs foo.cpp, bar.cpp, then both objects: the generators lead longer "
        "critical paths"),
    "manifest_parser_test.cc:ParserTest.DuplicateEdgeInIncludedFile#1": DEPRECATED_DUPBUILD,
    "manifest_parser_test.cc:ParserTest.DuplicateEdgeWithMultipleOutputsError#1":
        DEPRECATED_DUPBUILD,
    "manifest_parser_test.cc:ParserTest.ImplicitOutputDupe#1": SAME_EDGE_DUPE,
    "manifest_parser_test.cc:ParserTest.ImplicitOutputDupes#1": SAME_EDGE_DUPE,
}


class Skip(Exception):
    pass


# ---------------------------------------------------------------------------
# C++ source helpers
# ---------------------------------------------------------------------------

def strip_win32(src):
    """Drop `#ifdef _WIN32` branches (keeping `#else` parts); keep line count."""
    out = []
    stack = []  # each entry: (active_before, this_branch_active, is_win_cond)
    active = True
    for line in src.split("\n"):
        s = line.strip()
        m = re.match(r"#\s*(ifdef|ifndef|if|elif|else|endif)\b(.*)", s)
        if m:
            kind, cond = m.group(1), m.group(2)
            if kind in ("ifdef", "ifndef", "if"):
                is_win = "_WIN32" in cond or "_MSC_VER" in cond
                if is_win:
                    val = (kind == "ifndef") or ("!" in cond and kind == "if")
                else:
                    val = True
                stack.append((active, val, is_win))
                active = active and val
            elif kind in ("else", "elif") and stack:
                prev, val, is_win = stack[-1]
                if is_win:
                    val = not val
                    stack[-1] = (prev, val, is_win)
                active = prev and val
            elif kind == "endif" and stack:
                active = stack.pop()[0]
            out.append("")
            continue
        out.append(line if active else "")
    return "\n".join(out)


SIMPLE_ESC = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'",
              "?": "?", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def read_literal(s, i):
    """s[i] == '"'. Returns (decoded, index after closing quote)."""
    assert s[i] == '"'
    i += 1
    out = []
    while True:
        c = s[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\n":
            raise ValueError("newline in literal")
        if c == "\\":
            n = s[i + 1]
            if n in SIMPLE_ESC:
                out.append(SIMPLE_ESC[n])
                i += 2
            elif n == "x":
                j = i + 2
                while j < len(s) and s[j] in "0123456789abcdefABCDEF":
                    j += 1
                out.append(chr(int(s[i + 2:j], 16) & 0xFF))
                i = j
            elif n in "01234567":
                j = i + 1
                while j < len(s) and j < i + 4 and s[j] in "01234567":
                    j += 1
                out.append(chr(int(s[i + 1:j], 8) & 0xFF))
                i = j
            elif n == "\n":
                i += 2
            else:
                raise ValueError("unknown escape \\" + n)
            continue
        out.append(c)
        i += 1


def skip_ws(s, i):
    while i < len(s):
        if s[i].isspace():
            i += 1
        elif s.startswith("//", i):
            j = s.find("\n", i)
            i = len(s) if j < 0 else j + 1
        elif s.startswith("/*", i):
            i = s.find("*/", i) + 2
        else:
            break
    return i


def read_literal_seq(s, i):
    """Adjacent string literals starting at s[i] (after whitespace).
    Returns (value, end) or (None, i)."""
    i = skip_ws(s, i)
    if i >= len(s) or s[i] != '"':
        return None, i
    parts = []
    while i < len(s) and s[i] == '"':
        v, i = read_literal(s, i)
        parts.append(v)
        j = skip_ws(s, i)
        if j < len(s) and s[j] == '"':
            i = j
        else:
            break
    return "".join(parts), i


def mask_source(s):
    """Replace comment and literal contents by spaces (same length)."""
    out = list(s)
    i = 0
    n = len(s)
    while i < n:
        if s.startswith("//", i):
            j = s.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif s.startswith("/*", i):
            j = s.find("*/", i) + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif s[i] == '"':
            j = i + 1
            while s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            for k in range(i + 1, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j + 1
        elif s[i] == "'":
            j = i + 1
            while s[j] != "'":
                j += 2 if s[j] == "\\" else 1
            for k in range(i + 1, j):
                out[k] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out)


def find_tests(src):
    """Yields (fixture, name, body, masked_body, line)."""
    masked = mask_source(src)
    for m in re.finditer(r"^TEST_F\(\s*(\w+)\s*,\s*(\w+)\s*\)\s*\{", masked, re.M):
        start = m.end()
        depth = 1
        i = start
        while depth:
            c = masked[i]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            i += 1
        line = src.count("\n", 0, m.start()) + 1
        yield m.group(1), m.group(2), src[start:i - 1], masked[start:i - 1], line


def find_var(name, *scopes):
    """Value of `const char NAME[] = "..."` / `const char* NAME = "..."`."""
    for s in scopes:
        ms = mask_source(s)
        for m in re.finditer(r"\bchar\s*\*?\s*(?:const\s+)?%s\s*(\[\s*\])?\s*=" % re.escape(name), ms):
            v, _ = read_literal_seq(s, m.end())
            if v is not None:
                return v
    return None


def read_arg(s, i, *scopes):
    """A string argument at s[i]: literal sequence, string("..", N), or a
    variable holding literals. Returns value or None."""
    v, _ = read_literal_seq(s, i)
    if v is not None:
        return v
    i = skip_ws(s, i)
    m = re.match(r"(?:std::)?string\(\s*", s[i:])
    if m:
        v, j = read_literal_seq(s, i + m.end())
        if v is None:
            return None
        m2 = re.match(r"\s*,\s*(\d+)\s*\)", s[j:])
        if m2:
            v = v[:int(m2.group(1))]
        return v
    m = re.match(r"[A-Za-z_]\w*", s[i:])
    if m:
        return find_var(m.group(0), *scopes)
    return None


# ---------------------------------------------------------------------------
# Case model
# ---------------------------------------------------------------------------

class Case:
    def __init__(self, cid, source):
        self.id = cid
        self.source = source
        # ops: ("write", path, content, tick_before) | ("tick",) |
        #      ("rm", path) | ("run", [args]) | ("touchnew", path)
        self.ops = []
        self.create_leaves = False  # create leaf inputs of default targets
        self.leaf_targets = []
        self.skip = None

    def describe(self):
        out = []
        for op in self.ops:
            if op[0] == "write":
                out.append("--- write %s ---\n%s" % (op[1], op[2]))
            elif op[0] == "run":
                out.append("--- run: %s" % " ".join(shlex.quote(a) for a in op[1]))
            else:
                out.append("--- %s" % " ".join(op))
        return "\n".join(out)


def safe_path(p):
    if not p or p.startswith("/") or "\0" in p:
        return False
    parts = p.split("/")
    return ".." not in parts


# ---------------------------------------------------------------------------
# manifest_parser_test.cc
# ---------------------------------------------------------------------------

MANIFEST_STEPS = [
    ["-n", "-v", "-j1"],
    ["-t", "commands"],
    ["-t", "targets", "all"],
]


def extract_manifest_parser(src):
    cases = []
    for fixture, name, body, mbody, line in find_tests(src):
        files = []
        for m in re.finditer(r"fs_\.Create\(", mbody):
            p, j = read_literal_seq(body, m.end())
            j = skip_ws(body, j)
            c = read_arg(body, j + 1, body, src) if body[j:j + 1] == "," else None
            if p is not None and c is not None:
                files.append((p, c))
        flags = []
        if "kDupeEdgeActionError" in body:
            flags += ["-w", "dupbuild=err"]
        if "kPhonyCycleActionError" in body:
            flags += ["-w", "phonycycle=err"]
        idx = 0
        for m in re.finditer(r"(?<![\w:])(AssertParse|ParseTest)\(", mbody):
            idx += 1
            cid = "manifest_parser_test.cc:%s.%s#%d" % (fixture, name, idx)
            c = Case(cid, "manifest_parser_test.cc")
            text = read_arg(body, m.end(), body, src)
            if text is None:
                c.skip = "manifest argument is not a string literal"
                cases.append(c)
                continue
            for p, content in files:
                c.ops.append(("write", p, content))
            c.ops.append(("write", "build.ninja", text))
            c.create_leaves = True
            for st in MANIFEST_STEPS:
                c.ops.append(("run", flags + st))
            cases.append(c)
    return cases


# ---------------------------------------------------------------------------
# dyndep_parser_test.cc
# ---------------------------------------------------------------------------

def dyndep_manifest(base):
    out = []
    for ln in base.split("\n"):
        if ln.startswith("build "):
            out.append(ln + (" ||" if "||" not in ln else "") + " dd")
            out.append("  dyndep = dd")
        else:
            out.append(ln)
    return "\n".join(out)


def extract_dyndep_parser(src):
    cases = []
    # Fixture SetUp manifest.
    msrc = mask_source(src)
    setup = ""
    m = re.search(r"virtual void SetUp\(\)\s*\{", msrc)
    if m:
        mm = re.search(r"::AssertParse\(&state_,", msrc[m.end():])
        setup, _ = read_literal_seq(src, m.end() + mm.end())
    for fixture, name, body, mbody, line in find_tests(src):
        extra = ""
        for mm in re.finditer(r"::AssertParse\(&state_,", mbody):
            v, _ = read_literal_seq(body, mm.end())
            extra += v or ""
        idx = 0
        for mm in re.finditer(r"(?<![\w:])(AssertParse|ParseTest)\(", mbody):
            idx += 1
            cid = "dyndep_parser_test.cc:%s.%s#%d" % (fixture, name, idx)
            c = Case(cid, "dyndep_parser_test.cc")
            text = read_arg(body, mm.end(), body, src)
            if text is None:
                c.skip = "dyndep argument is not a string literal"
                cases.append(c)
                continue
            c.ops.append(("write", "build.ninja", dyndep_manifest(setup + extra)))
            c.ops.append(("write", "dd", text))
            # Create implicit inputs named in the dyndep file.
            for dl in text.split("\n"):
                dm = re.match(r"build .*:\s*dyndep\s*\|\s*(.*)$", dl.strip())
                if dm:
                    for p in dm.group(1).split():
                        if safe_path(p) and p != "||":
                            c.ops.append(("write", p, ""))
            c.ops.append(("run", ["-v", "-j1"]))
            c.ops.append(("tick",))
            c.ops.append(("run", ["-n", "-v", "-j1"]))
            cases.append(c)
    return cases


# ---------------------------------------------------------------------------
# depfile_parser_test.cc
# ---------------------------------------------------------------------------

def ninja_escape_path(p):
    return p.replace("$", "$$").replace(" ", "$ ").replace(":", "$:")


def extract_depfile_parser(src):
    cases = []
    for fixture, name, body, mbody, line in find_tests(src):
        expect = {"outs": {}, "ins": {}}
        for mm in re.finditer(r"_EQ\(", mbody):
            v, j = read_literal_seq(body, mm.end())
            if v is None:
                continue
            em = re.match(r"\s*,\s*parser_\.(outs|ins)_\[(\d+)\]\.AsString\(\)", body[j:])
            if em:
                expect[em.group(1)][int(em.group(2))] = v
        outs = [expect["outs"][k] for k in sorted(expect["outs"])] or ["out"]
        ins = [expect["ins"][k] for k in sorted(expect["ins"])]
        idx = 0
        for mm in re.finditer(r"(?<![\w.])Parse\(", mbody):
            idx += 1
            text = read_arg(body, mm.end(), body, src)
            for variant in ("gcc", "depfile"):
                cid = "depfile_parser_test.cc:%s.%s#%d[%s]" % (fixture, name, idx, variant)
                c = Case(cid, "depfile_parser_test.cc")
                cases.append(c)
                if text is None:
                    c.skip = "depfile argument is not a string literal"
                    continue
                bad = [p for p in outs + ins if not safe_path(p) or "\n" in p or "'" in p]
                if bad:
                    c.skip = "depfile path unusable on this platform"
                    continue
                man = ("rule gen\n"
                       "  command = cp dep.src out.d && touch $out\n"
                       "  depfile = out.d\n")
                if variant == "gcc":
                    man += "  deps = gcc\n"
                man += "build %s: gen dep.src\n" % " ".join(ninja_escape_path(o) for o in outs)
                c.ops.append(("write", "build.ninja", man))
                c.ops.append(("write", "dep.src", text))
                for p in ins:
                    if p not in outs:
                        c.ops.append(("write", p, ""))
                c.ops.append(("tick",))
                c.ops.append(("run", ["-v", "-j1"]))
                if variant == "gcc":
                    c.ops.append(("run", ["-t", "deps"]))
                c.ops.append(("run", ["-n", "-v", "-j1"]))
                touched = [p for p in ins if p not in outs]
                if touched:
                    c.ops.append(("tick",))
                    c.ops.append(("write", touched[-1], "changed"))
                    c.ops.append(("run", ["-v", "-j1"]))
                    if variant == "gcc":
                        c.ops.append(("run", ["-t", "deps"]))
    return cases


# ---------------------------------------------------------------------------
# build_test.cc
# ---------------------------------------------------------------------------

CAT_RULE = "rule cat\n  command = cat $in > $out\n"
BUILD_SETUP = ("build cat1: cat in1\n"
               "build cat2: cat in1 in2\n"
               "build cat12: cat cat1 cat2\n")
TOUCHLIKE = {"cat", "cat_rsp", "cat_rsp_out", "cc", "cp_multi_gcc", "touch"}
UNMAPPABLE = {"interrupt": "rule 'interrupt' (fake runner reports interruption)",
              "touch-interrupt": "rule 'touch-interrupt' (fake runner reports interruption)",
              "touch-fail-tick2": "rule 'touch-fail-tick2' (depends on the fake clock)",
              "touch-fail-tick": "rule 'touch-fail-tick' (depends on the fake clock)"}


def rule_impl(name):
    if name in ("true", "console"):
        return "true"
    if name == "fail":
        return "false"
    if name == "cp":
        return "cp $in $out"
    if name == "touch-implicit-dep-out":
        return "touch $test_dependency && sleep 0.05 && touch $ggn_outs"
    if name == "touch-out-implicit-dep":
        return "touch $ggn_outs && sleep 0.05 && touch $test_dependency"
    if name == "generate-depfile":
        return ("for o in $ggn_outs; do touch \"$$o\"; echo \"$$o: $test_dependency\"; "
                "done > $depfile")
    if name == "cp_multi_msvc":
        return "touch $ggn_outs && for i in $in; do echo \"$msvc_deps_prefix$$i\"; done"
    return "touch $ggn_outs"


def logical_lines(text):
    """Split a manifest into logical lines (joining `$\\n` continuations).
    Each item is the list of physical lines."""
    phys = text.split("\n")
    out = []
    cur = []
    for ln in phys:
        cur.append(ln)
        m = re.search(r"(\$+)$", ln)
        if m and len(m.group(1)) % 2 == 1:
            continue
        out.append(cur)
        cur = []
    if cur:
        out.append(cur)
    return out


def split_outputs(build_line):
    """Output paths (ninja-escaped text) of a `build` line."""
    s = build_line[len("build"):]
    toks = []
    cur = ""
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "$" and i + 1 < len(s):
            cur += s[i:i + 2]
            i += 2
            continue
        if ch == ":":
            break
        if ch in " \t":
            if cur:
                toks.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    if cur:
        toks.append(cur)
    return [t for t in toks if t != "|"]


def rewrite_build_manifest(text):
    """Replace rule commands by real shell commands emulating the fake
    command runner, and give each edge a `ggn_outs` binding listing all of
    its outputs (explicit and implicit), shell-quoted."""
    out = []
    rules = set()
    block = None  # ("rule", name) | ("build", outs)

    def close_block():
        if block and block[0] == "build" and block[1]:
            out.append("  ggn_outs = " + " ".join("'%s'" % o for o in block[1]))

    for phys in logical_lines(text):
        first = phys[0]
        s = first.strip()
        if s.startswith("#"):
            out.extend(phys)  # comments never end a block
            continue
        if not s:
            close_block()
            block = None
            out.extend(phys)
            continue
        if first[:1] in (" ", "\t"):
            if block and block[0] == "rule":
                m = re.match(r"\s*command\s*=\s?(.*)$", "\n".join(phys), re.S)
                if m:
                    orig = m.group(1).replace("$\n", "").replace("\n", " ")
                    orig = orig.replace("$in_newline", "$in")
                    out.append("  command = %s # %s" % (rule_impl(block[1]), orig))
                    continue
            out.extend(phys)
            continue
        close_block()
        block = None
        if first.startswith("rule "):
            name = s.split()[1] if len(s.split()) > 1 else ""
            rules.add(name)
            block = ("rule", name)
        elif first.startswith("build "):
            outs = split_outputs(" ".join(p[:-1] if p.endswith("$") else p for p in phys))
            if any("'" in o for o in outs):
                outs = None
            block = ("build", outs)
        out.extend(phys)
    close_block()
    res = "\n".join(out)
    if not res.endswith("\n"):
        res += "\n"
    return res, rules


BUILD_EVENTS = re.compile(
    r"(?P<parse>(?<![:\w])AssertParse\(\s*&(?P<st>\w+)\s*,)"
    r"|(?P<rebuild>\bRebuildTarget\(\s*)"
    r"|(?P<create>\bfs_(?:\.|->)Create\(\s*)"
    r"|(?P<tick>\bfs_(?:\.|->)Tick\(\s*\))"
    r"|(?P<remove>\bfs_(?:\.|->)RemoveFile\(\s*)"
    r"|(?P<dirty>(?<![\w.>])Dirty\(\s*)"
    r"|(?P<markdirty>GetNode\(\s*\"(?P<mdn>[^\"]*)\"\s*\)->MarkDirty\(\))"
    r"|(?P<addtarget>\bbuilder_?\.AddTarget\(\s*)"
    r"|(?P<planadd>\bplan_\.AddTarget\(\s*GetNode\(\s*)"
    r"|(?P<build>\bbuilder_?\.Build\()"
    r"|(?P<uptodate>\bAlreadyUpToDate\(\))"
    r"|(?P<dryrun>\bconfig_\.dry_run\s*=\s*(?P<drv>true|false))"
    r"|(?P<fail>\bconfig_\.failures_allowed\s*=\s*(?P<fav>\d+))"
    r"|(?P<pool>\bTestPoolWithDepthOne\(\s*)")


def extract_build(src):
    cases = []
    msrc = mask_source(src)
    for fixture, name, body, mbody, line in find_tests(src):
        m = re.match(r"\s*TestPhonyUseCase\(this,\s*(\d+)\);\s*$", body)
        if m:
            body = phony_use_case_body(src, int(m.group(1)))
            mbody = mask_source(body)
        cid = "build_test.cc:%s.%s" % (fixture, name)
        c = Case(cid, "build_test.cc")
        cases.append(c)
        try:
            extract_build_case(c, fixture, body, mbody, src)
        except Skip as e:
            c.skip = str(e)
    return cases


def matching_brace(masked, i):
    """masked[i] == '{'; index just after its matching '}'."""
    depth = 0
    while True:
        if masked[i] == "{":
            depth += 1
        elif masked[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1


def phony_use_case_body(src, n):
    """Inline TestPhonyUseCase(this, n): pick the branch for n and
    substitute the target names built from `ci`."""
    masked = mask_source(src)
    m = re.search(r"void TestPhonyUseCase\(BuildTest\* t, int i\) \{", masked)
    end = matching_brace(masked, m.end() - 1)
    body, mbody = src[m.end():end - 1], masked[m.end():end - 1]
    b = re.search(r"if \(i != 2 && i != 5\) \{", mbody)
    then_end = matching_brace(mbody, b.end() - 1)
    e = re.match(r"\s*else\s*\{", mbody[then_end:])
    else_start = then_end + e.end() - 1
    else_end = matching_brace(mbody, else_start)
    if n not in (2, 5):
        chosen = body[b.end():then_end - 1]
    else:
        chosen = body[else_start + 1:else_end - 1]
    body = body[:b.start()] + chosen + body[else_end:]
    body = re.sub(r'(?:string\()?"(test|phony|touch test)"\)? \+ ci', r'"\g<1>%d"' % n, body)
    return body


def extract_build_case(c, fixture, body, mbody, src):
    is_plan = fixture == "PlanTest"
    parts = [CAT_RULE] if is_plan else [CAT_RULE, BUILD_SETUP]
    if not is_plan:
        c.ops.append(("write", "in1", ""))
        c.ops.append(("write", "in2", ""))
    dry = fixture == "BuildDryRun"
    keep_going = None
    pending = []
    last_targets = []
    written = [None]
    ran = [False]
    all_rules = set()

    def flush_manifest():
        text, rules = rewrite_build_manifest("".join(parts))
        all_rules.update(rules)
        if text != written[0]:
            c.ops.append(("write", "build.ninja", text))
            written[0] = text

    def run(check_only=False):
        nonlocal pending, last_targets
        flush_manifest()
        targets = pending or last_targets
        args = ["-v", "-j1"]
        if dry or check_only:
            args.insert(0, "-n")
        if keep_going is not None:
            args += ["-k", str(keep_going)]
        c.ops.append(("run", args + targets))
        ran[0] = True
        if not check_only:
            last_targets = targets
            pending = []

    def arg(pos):
        v = read_arg(body, pos, body, src)
        if v is None:
            raise Skip("non-literal argument in test body")
        return v

    for m in BUILD_EVENTS.finditer(mbody):
        k = m.lastgroup
        if k in ("st", "mdn", "drv", "fav"):
            k = [g for g in ("parse", "markdirty", "dryrun", "fail") if m.group(g)][0]
        if k == "parse":
            v = arg(m.end())
            if m.group("st") == "state_":
                parts.append(v)
            else:
                parts = ([CAT_RULE] if re.search(r"AddCatRule\(&%s\)" % m.group("st"), body)
                         else []) + [v]
        elif k == "rebuild":
            t = arg(m.end())
            j = skip_ws(body, read_literal_seq(body, m.end())[1])
            man = read_arg(body, j + 1, body, src)
            if man is None:
                raise Skip("non-literal argument in test body")
            parts = [CAT_RULE, man]
            pending = [t]
            run()
        elif k == "create":
            p, j = read_literal_seq(body, m.end())
            j = skip_ws(body, j)
            content = read_arg(body, j + 1, body, src) if body[j:j + 1] == "," else None
            if p is None or content is None:
                raise Skip("non-literal argument in test body")
            if not safe_path(p):
                raise Skip("unsafe path")
            c.ops.append(("write", p, content))
        elif k == "tick":
            c.ops.append(("tick",))
        elif k in ("remove", "dirty"):
            c.ops.append(("rm", arg(m.end())))
        elif k == "markdirty":
            if not is_plan:
                c.ops.append(("rm", m.group("mdn")))
        elif k in ("addtarget", "planadd"):
            t = arg(m.end())
            if t not in pending:
                pending.append(t)
        elif k == "build":
            run()
        elif k == "uptodate":
            run(check_only=True)
        elif k == "dryrun":
            dry = m.group("drv") == "true"
        elif k == "fail":
            keep_going = int(m.group("fav"))
        elif k == "pool":
            parts.append(arg(m.end()))
            pending += ["out1", "out2"]
    if pending:
        run()
    if not ran[0]:
        raise Skip("no build invocation in test")
    for r in sorted(all_rules):
        if r in UNMAPPABLE:
            raise Skip(UNMAPPABLE[r])
    # Final check: what would a further build do?
    run(check_only=True)
    if is_plan:
        c.create_leaves = True
        c.leaf_targets = last_targets


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

def write_file(root, rel, content, mtime):
    if not safe_path(rel):
        return
    p = os.path.join(root, rel)
    d = os.path.dirname(p)
    try:
        if d:
            os.makedirs(d, exist_ok=True)
        with open(p, "wb") as f:
            f.write(content.encode("latin-1"))
        os.utime(p, (mtime, mtime))
    except OSError:
        pass


# ggninja's saved manifest load, in the build dir, and the pointer to it
# where the build runs, its deps log's index and its remembered no-ops:
# ninja has none of them.
GGNINJA_OWN = (".ggninja_graph", ".ggninja_graph_at", ".ggninja_deps_index", ".ggninja_noop")


def snapshot(root):
    files = {}
    for dp, dns, fns in os.walk(root):
        for fn in fns + [d for d in dns if os.path.islink(os.path.join(dp, d))]:
            full = os.path.join(dp, fn)
            rel = os.path.relpath(full, root)
            if fn in GGNINJA_OWN:
                continue
            if rel in (".ninja_log", ".ninja_deps"):
                files[rel] = "present"
                continue
            try:
                with open(full, "rb") as f:
                    files[rel] = hashlib.sha1(f.read()).hexdigest()[:10]
            except OSError:
                files[rel] = "unreadable"
        for d in dns:
            full = os.path.join(dp, d)
            if not [e for e in os.listdir(full) if e not in GGNINJA_OWN]:
                files[os.path.relpath(full, root) + "/"] = "dir"
    return files


LOC_RE = re.compile(r"^PROG: (error|warning): ([^\s:]+):(\d+)(?::\d+)?: (.*)$")


def normalize(text, root, prog_names):
    text = text.replace(root + "/", "").replace(root, "<DIR>")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    locs = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        for p in prog_names:
            if ln.startswith(p + ": "):
                ln = "PROG: " + ln[len(p) + 2:]
                break
        ln = re.sub(r"deps mtime \d+", "deps mtime N", ln)
        # ggninja adds a column to locations; ninja names file:line only.
        ln = re.sub(r"^(PROG: build stopped: [^\s:]+:\d+):\d+:", r"\1:", ln)
        m = LOC_RE.match(ln)
        if m:
            locs.append((m.group(2), int(m.group(3))))
            out.append("PROG: %s: LOC: %s" % (m.group(1), m.group(4)))
            # Drop the context / caret lines that follow a located error
            # (whatever their format) up to the next line the program
            # itself prints.
            i += 1
            while i < len(lines) and not any(lines[i].startswith(p + ": ")
                                             for p in prog_names):
                i += 1
            continue
        out.append(ln)
        i += 1
    return out, locs


def run_binary(binary, root, args):
    env = dict(os.environ)
    env["NINJA_STATUS"] = ""
    env["TERM"] = "dumb"
    env.pop("CLICOLOR_FORCE", None)
    env.pop("NINJA_STATUS", None)
    env["NINJA_STATUS"] = ""
    try:
        p = subprocess.run([binary] + args, cwd=root, env=env, capture_output=True,
                           timeout=RUN_TIMEOUT)
        return p.returncode, p.stdout.decode("latin-1"), p.stderr.decode("latin-1")
    except subprocess.TimeoutExpired as e:
        return "timeout", (e.stdout or b"").decode("latin-1"), (e.stderr or b"").decode("latin-1")
    except OSError as e:
        return "exec-error", "", str(e)


def compute_leaves(case, build_ninja_dir, targets):
    """Leaf inputs (inputs that no edge produces) according to real ninja."""
    rc, out, _ = run_binary(REF_NINJA, build_ninja_dir, ["-t", "inputs"] + targets)
    if rc != 0:
        return []
    rc2, tout, _ = run_binary(REF_NINJA, build_ninja_dir, ["-t", "targets", "all"])
    produced = set()
    if rc2 == 0:
        for ln in tout.split("\n"):
            if ": " in ln:
                produced.add(ln.rsplit(": ", 1)[0])
    leaves = []
    for ln in out.split("\n"):
        if not ln:
            continue
        try:
            p = shlex.split(ln)
            p = p[0] if len(p) == 1 else ln
        except ValueError:
            p = ln
        if p not in produced and safe_path(p) and p != "build.ninja":
            leaves.append(p)
    return leaves


class Result:
    def __init__(self, case):
        self.case = case
        self.steps = []  # dicts
        self.agree = True
        self.loc_mismatch = False
        self.order_diff = False
        self.diff_kinds = set()
        # For a VERSION_DIFFERENCES case: the run against the older ninja.
        self.older = None


def run_listed_case(case, ninja, newer, ggninja, workroot):
    """A case where the versions differ: ggninja is compared with the newer
    ninja, commands in the same order too (the versions may differ only
    there); the run against the older one is kept to show it differs."""
    res = run_case(case, newer, ggninja, workroot)
    if res.order_diff:
        res.agree = False
        res.diff_kinds.add("command order")
    res.older = run_case(case, ninja, ggninja, workroot)
    res.older.same_as_older = res.older.agree and not res.older.order_diff
    return res


def run_case(case, ninja, ggninja, workroot):
    res = Result(case)
    base = tempfile.mkdtemp(prefix="case-", dir=workroot)
    roots = [os.path.join(base, "ref"), os.path.join(base, "test")]
    for r in roots:
        os.makedirs(r)
    bins = [ninja, ggninja]
    prog_names = sorted({"ninja", os.path.basename(ninja), os.path.basename(ggninja), "ggninja"},
                        key=len, reverse=True)
    cur = time.time() - 10000.0
    last_end = None
    leaves_done = not case.create_leaves
    try:
        for op in case.ops:
            kind = op[0]
            if kind == "write":
                for r in roots:
                    write_file(r, op[1], op[2], cur)
            elif kind == "tick":
                cur = cur + 1.0 if last_end is None else max(cur + 0.001, last_end + 0.001)
            elif kind == "rm":
                for r in roots:
                    p = os.path.join(r, op[1])
                    if safe_path(op[1]) and os.path.isfile(p):
                        os.unlink(p)
            elif kind == "run":
                if not leaves_done:
                    leaves_done = True
                    scratch = os.path.join(base, "scratch")
                    os.makedirs(scratch)
                    shutil.copy(os.path.join(roots[0], "build.ninja"), scratch)
                    for p in compute_leaves(case, scratch, case.leaf_targets):
                        if not os.path.exists(os.path.join(roots[0], p)):
                            for r in roots:
                                write_file(r, p, "", cur)
                # Make sure anything the commands write is strictly newer
                # than every file the harness wrote.
                while time.time() < cur + 0.03:
                    time.sleep(0.01)
                outs = []
                for b, r in zip(bins, roots):
                    rc, so, se = run_binary(b, r, op[1])
                    nso, lso = normalize(so, r, prog_names)
                    nse, lse = normalize(se, r, prog_names)
                    outs.append(dict(rc=rc, stdout=so, stderr=se, nstdout=nso, nstderr=nse,
                                     locs=lso + lse, files=snapshot(r)))
                last_end = time.time()
                a, b = outs
                kinds = []
                if a["rc"] != b["rc"]:
                    kinds.append("exit status")
                if sorted(a["nstdout"]) != sorted(b["nstdout"]):
                    kinds.append("stdout")
                elif a["nstdout"] != b["nstdout"]:
                    res.order_diff = True
                if a["nstderr"] != b["nstderr"]:
                    kinds.append("stderr")
                if a["files"] != b["files"]:
                    kinds.append("files")
                if not kinds and [l for _, l in a["locs"]] != [l for _, l in b["locs"]]:
                    res.loc_mismatch = True
                step = dict(args=op[1], ref=a, test=b, kinds=kinds)
                res.steps.append(step)
                if kinds:
                    res.agree = False
                    res.diff_kinds.update(kinds)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return res


# ---------------------------------------------------------------------------
# Source location
# ---------------------------------------------------------------------------

def find_source(explicit):
    if explicit:
        return explicit
    if os.environ.get("NINJA_SRC"):
        return os.environ["NINJA_SRC"]
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    script = os.path.join(repo, "scripts", "fetch-source.sh")
    if os.path.exists(script):
        p = subprocess.run(["bash", script, "ninja-build"], capture_output=True, text=True)
        if p.returncode == 0 and p.stdout.strip():
            return p.stdout.strip().splitlines()[-1]
        sys.stderr.write("fetch-source.sh failed:\n" + p.stderr)
    cache = os.environ.get("GGNINJA_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                             "ggninja-tests")
    work = os.path.join(cache, "ninja-build.src")
    for d in sorted(os.listdir(work)) if os.path.isdir(work) else []:
        if os.path.isfile(os.path.join(work, d, "src", "build_test.cc")):
            return os.path.join(work, d)
    os.makedirs(work, exist_ok=True)
    try:
        subprocess.run(["apt-get", "source", "-qq", "ninja-build"], cwd=work, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        sys.stderr.write("apt-get source ninja-build failed: %s\n" % e)
    for d in sorted(os.listdir(work)):
        if os.path.isfile(os.path.join(work, d, "src", "build_test.cc")):
            return os.path.join(work, d)
    print("SOURCE-UNAVAILABLE cannot find or fetch the ninja-build source tree")
    sys.exit(3)


EXTRACTORS = {
    "manifest_parser_test.cc": extract_manifest_parser,
    "dyndep_parser_test.cc": extract_dyndep_parser,
    "depfile_parser_test.cc": extract_depfile_parser,
    "build_test.cc": extract_build,
}


def extract_all(srcdir):
    cases = []
    for name in SOURCES:
        with open(os.path.join(srcdir, "src", name), encoding="latin-1") as f:
            src = strip_win32(f.read())
        cases += EXTRACTORS[name](src)
    return cases


def fmt_output(label, o):
    return ("  [%s] exit=%s\n  [%s] stdout:\n%s\n  [%s] stderr:\n%s\n  [%s] files: %s\n" % (
        label, o["rc"], label, indent(o["stdout"]), label, indent(o["stderr"]), label,
        " ".join("%s=%s" % kv for kv in sorted(o["files"].items()))))


def indent(s):
    return "\n".join("      | " + l for l in s.rstrip("\n").split("\n")) if s else "      (empty)"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--ninja", default=REF_NINJA)
    ap.add_argument("--newer-ninja",
                    help="compare the VERSION_DIFFERENCES cases with this ninja instead")
    ap.add_argument("--label", default="ninja", help="the suite's name in the SUMMARY")
    ap.add_argument("--ggninja", required=False)
    ap.add_argument("--src")
    ap.add_argument("--report")
    ap.add_argument("--filter")
    ap.add_argument("--jobs", type=int, default=max(4, (os.cpu_count() or 2) * 4))
    ap.add_argument("--all", action="store_true",
                    help="also write agreeing cases (with outputs) to the report")
    ap.add_argument("--list", action="store_true", help="list extracted cases and exit")
    ap.add_argument("--show", help="print the ops of cases matching this substring and exit")
    opts = ap.parse_args()

    srcdir = find_source(opts.src)
    t0 = time.time()
    cases = extract_all(srcdir)
    if opts.filter:
        cases = [c for c in cases if opts.filter in c.id]
    if opts.list or opts.show:
        for c in cases:
            if opts.list:
                print(c.id, "SKIP: " + c.skip if c.skip else "")
            elif opts.show in c.id:
                print("=====", c.id, c.skip or "")
                print(c.describe())
        return 0
    if not opts.ggninja:
        ap.error("--ggninja is required")
    ggninja = os.path.abspath(opts.ggninja) if os.sep in opts.ggninja else opts.ggninja

    per_source = collections.Counter(c.source for c in cases)
    skipped = [c for c in cases if c.skip]
    runnable = [c for c in cases if not c.skip]
    workroot = tempfile.mkdtemp(prefix="ninja-diff-")
    results = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=opts.jobs) as ex:
            futs = [ex.submit(run_listed_case, c, opts.ninja, opts.newer_ninja, ggninja, workroot)
                    if opts.newer_ninja and c.id in VERSION_DIFFERENCES
                    else ex.submit(run_case, c, opts.ninja, ggninja, workroot)
                    for c in runnable]
            for f in futs:
                results.append(f.result())
    finally:
        shutil.rmtree(workroot, ignore_errors=True)
    elapsed = time.time() - t0

    agree = [r for r in results if r.agree]
    disagree = [r for r in results if not r.agree]
    locmis = [r for r in results if r.loc_mismatch]
    orderdiff = [r for r in results if r.order_diff and r.agree]
    listed = [r for r in results if r.older is not None]
    # Listed, yet the older ninja does what ggninja (and so the newer) does.
    stale = [r for r in listed if r.older.same_as_older]
    ran_ids = {r.case.id for r in results}
    missing = sorted(k for k in VERSION_DIFFERENCES if opts.newer_ninja and k not in ran_ids
                     and not opts.filter)

    print("ninja-diff: reference %s vs %s (source %s)" % (opts.ninja, ggninja, srcdir))
    print("cases extracted per source file:")
    for s in SOURCES:
        n_sk = sum(1 for c in skipped if c.source == s)
        n_dis = sum(1 for r in disagree if r.case.source == s)
        print("  %-26s %4d extracted, %4d skipped, %4d disagree" % (s, per_source[s], n_sk, n_dis))
    print("skip reasons:")
    for reason, n in collections.Counter(c.skip for c in skipped).most_common():
        print("  %4d  %s" % (n, reason))
    if disagree:
        print("disagreement kinds (cases):")
        kc = collections.Counter(k for r in disagree for k in r.diff_kinds)
        for k, n in kc.most_common():
            print("  %4d  %s" % (n, k))
    print("agree=%d disagree=%d (of %d run), error line-number mismatches=%d, "
          "command-order-only differences=%d, %.1fs" % (
              len(agree), len(disagree), len(results), len(locmis), len(orderdiff), elapsed))
    if opts.newer_ninja:
        print("%d cases where the versions differ, compared with %s instead:" % (
            len(listed), opts.newer_ninja))
        for r in sorted(listed, key=lambda r: r.case.id):
            old, new = VERSION_DIFFERENCES[r.case.id]
            print("  %s: %s%s\n    older: %s\n    newer: %s" % (
                r.case.id, "agrees with the newer" if r.agree else "DISAGREES with the newer",
                "; STALE: the older agrees too" if r.older.same_as_older else "", old, new))
        for k in missing:
            print("  %s: listed but not run (STALE)" % k)

    if opts.report:
        with open(opts.report, "w", encoding="utf-8", errors="replace") as f:
            f.write("ninja-diff report: %s vs %s\n\n" % (opts.ninja, ggninja))
            older = [r.older for r in listed]
            for title, lst in (("DISAGREEMENT", disagree), ("LINE-NUMBER MISMATCH", locmis),
                               ("ORDER DIFFERENCE", orderdiff),
                               ("OLDER NINJA DIFFERS (listed version difference)", older),
                               ("AGREEMENT", agree if opts.all else [])):
                for r in sorted(lst, key=lambda r: r.case.id):
                    f.write("=" * 78 + "\n%s: %s (%s)\n" % (title, r.case.id,
                                                           ", ".join(sorted(r.diff_kinds))))
                    f.write("input:\n%s\n" % indent(r.case.describe()))
                    for st in r.steps:
                        mark = ("DIFFERS: " + ", ".join(st["kinds"])) if st["kinds"] else "same"
                        if title == "LINE-NUMBER MISMATCH":
                            mark += " locs ref=%s test=%s" % (st["ref"]["locs"], st["test"]["locs"])
                        f.write("step %s -> %s\n" % (" ".join(st["args"]), mark))
                        if st["kinds"] or title != "DISAGREEMENT":
                            f.write(fmt_output("ninja", st["ref"]))
                            f.write(fmt_output("ggninja", st["test"]))
                    f.write("\n")
            f.write("SKIPPED:\n")
            for c in skipped:
                f.write("  %s: %s\n" % (c.id, c.skip))
        print("report written to %s" % opts.report)

    print("SUMMARY suite=%s extracted=%d run=%d agree=%d disagree=%d skipped=%d "
          "loc_mismatch=%d order_diff=%d version_diff=%d stale=%d seconds=%.0f" % (
              opts.label, len(cases), len(results), len(agree), len(disagree), len(skipped),
              len(locmis), len(orderdiff), len(listed), len(stale) + len(missing), elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
