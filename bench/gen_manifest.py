#!/usr/bin/env python3
"""Generate a large synthetic, Chromium-like ninja build tree for benchmarks.

Layout of the generated tree (DIR):

    DIR/src/<component>/...          empty "source" files, BUILD.gn, gen script
    DIR/src/include/<group>/h*.h     shared "headers" named in every depfile
    DIR/out/build.ninja              top level: variables, pools, include, subninjas
    DIR/out/toolchain.ninja          rules (pulled in with `include`)
    DIR/out/manifests/<comp>.ninja   one `subninja` per component
    DIR/out/build.ninja.d            depfile of the generator (regen) edge

The build directory is DIR/out (run `ninja -C DIR/out`); paths into the source
tree are `../src/...`, as in Chromium's out/<config> layout.  Outputs land in
out/{obj,gen,lib,bin}, so a clean is `rm -rf obj gen lib bin .ninja_log
.ninja_deps` inside out/.

Every command is a cheap shell builtin chain (no compiler runs): compile rules
write a one-line gcc-style depfile naming the source, ~12 shared headers and the
component's generated header, so `deps = gcc` fills .ninja_deps.

Manifest features exercised: file-scope variables (top level and per
subninja), build-scope bindings that shadow file-scope ones (`cflags = $cflags
...`), rule-scope variables (depfile, rspfile, rspfile_content, restat,
description, pool, generator), `include` and `subninja`, explicit / implicit
(`|`) / order-only (`||`) inputs, implicit outputs (`| lib.so.TOC`), pools
(link_pool, action_pool, heavy_pool), a phony per component, `build all:
phony`, `default`, and a generator edge for build.ninja with a depfile.

The output is deterministic for a given (--edges, --seed).
"""

import argparse
import os
import random
import sys

TOP_COMPONENTS = [
    "base", "base/allocator", "base/third_party/dmg_fp", "build/config",
    "cc", "cc/paint", "chrome/browser", "chrome/browser/ui", "chrome/common",
    "chrome/renderer", "components/autofill", "components/sync",
    "components/viz/service", "content/browser", "content/common",
    "content/renderer", "crypto", "device/bluetooth", "extensions/browser",
    "gpu/command_buffer", "ipc", "media", "media/gpu", "mojo/core",
    "mojo/public/cpp", "net", "net/http", "net/quic", "ppapi", "sandbox",
    "services/network", "skia", "sql", "storage/browser",
    "third_party/angle", "third_party/blink/renderer/core",
    "third_party/blink/renderer/platform", "third_party/boringssl",
    "third_party/ffmpeg", "third_party/icu", "third_party/libpng",
    "third_party/protobuf", "third_party/sqlite", "third_party/webrtc",
    "third_party/zlib", "ui/accessibility", "ui/base", "ui/events",
    "ui/gfx", "ui/gl", "ui/views", "url", "v8", "v8/src/compiler",
]

FILE_STEMS = [
    "manager", "impl", "util", "delegate", "observer", "factory", "host",
    "client", "service", "handler", "controller", "view", "model", "proxy",
    "context", "writer", "reader", "parser", "buffer", "stream", "task",
    "thread", "queue", "cache", "store", "policy", "metrics", "config",
]

N_HEADERS = 1000          # shared header pool
HEADERS_PER_TU = 12       # headers named in each depfile
OVERHEAD_PER_COMP = 4     # action + stamp + test link + component phony


def comp_names(n):
    names = []
    i = 0
    while len(names) < n:
        base = TOP_COMPONENTS[i % len(TOP_COMPONENTS)]
        rnd = i // len(TOP_COMPONENTS)
        names.append(base if rnd == 0 else "%s_%d" % (base, rnd))
        i += 1
    return names


def ident(path):
    return path.replace("/", "_").replace(".", "_")


def touch(path):
    with open(path, "w"):
        pass


TOOLCHAIN = r"""# Rules. Pulled into build.ninja with `include`, so they share its scope.

rule cc
  command = : $cc -MMD -MF $out.d $defines $include_dirs $cflags $cflags_c -c $in -o $out && echo $out: $in $hdrs > $out.d && : > $out
  description = CC $out
  depfile = $out.d
  deps = gcc

rule cxx
  command = : $cxx -MMD -MF $out.d $defines $include_dirs $cflags $cflags_cc -c $in -o $out && echo $out: $in $hdrs > $out.d && : > $out
  description = CXX $out
  depfile = $out.d
  deps = gcc

rule alink
  command = : $ar rcsD $arflags $out @$rspfile && : > $out
  description = AR $out
  rspfile = $out.rsp
  rspfile_content = $in

rule solink
  command = : $ld -shared $ldflags -o $out -Wl,-soname=$soname @$rspfile $libs && : > $out && : > $out.TOC
  description = SOLINK $out
  rspfile = $soname.rsp
  rspfile_content = -Wl,--whole-archive $in $solibs -Wl,--no-whole-archive
  restat = 1
  pool = link_pool

rule link
  command = : $ld $ldflags -o $out -Wl,--start-group @$rspfile -Wl,--end-group $libs && : > $out
  description = LINK $out
  rspfile = $out.rsp
  rspfile_content = $in_newline
  pool = link_pool

rule action
  command = : $python ../src/$script $args && : > $out
  description = ACTION $out
  restat = 1
  pool = action_pool

rule stamp
  command = touch $out
  description = STAMP $out

rule regen
  command = touch build.ninja
  description = Regenerating ninja files
  generator = 1
  depfile = build.ninja.d
  pool = console
"""


def real_toolchain():
    """TOOLCHAIN with plain-word commands of the real tools (--real-commands):
    what thunks can describe, for `-t thunks` timing. Not meant to be built."""
    subs = [
        (": $cc -MMD", "$cc -MMD"), (": $cxx -MMD", "$cxx -MMD"),
        (" && echo $out: $in $hdrs > $out.d && : > $out", ""),
        (": $ar rcsD $arflags $out @$rspfile && : > $out", "$ar rcsD $arflags $out $in"),
        (": $ld -shared $ldflags -o $out -Wl,-soname=$soname @$rspfile $libs && : > $out && : > $out.TOC",
         "$ld -shared $ldflags -o $out -Wl,-soname=$soname $in $solibs $libs"),
        (": $ld $ldflags -o $out -Wl,--start-group @$rspfile -Wl,--end-group $libs && : > $out",
         "$ld $ldflags -o $out $in $libs"),
        (": $python ../src/$script $args && : > $out", "$python ../src/$script $args"),
    ]
    text = TOOLCHAIN
    for old, new in subs:
        assert old in text, old
        text = text.replace(old, new)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", help="directory to create the tree in")
    ap.add_argument("--edges", type=int, default=50000,
                    help="approximate number of build edges (default 50000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--real-commands", action="store_true",
                    help="plain commands of the real cc/c++/ar (for -t thunks), not shell no-ops")
    ap.add_argument("--force", action="store_true",
                    help="generate even if DIR is not empty")
    args = ap.parse_args()

    root = os.path.abspath(args.dir)
    if os.path.exists(root) and os.listdir(root) and not args.force:
        sys.exit("gen_manifest: %s is not empty (use --force)" % root)
    src = os.path.join(root, "src")
    out = os.path.join(root, "out")
    os.makedirs(os.path.join(out, "manifests"), exist_ok=True)

    rng = random.Random(args.seed)
    n_comp = max(4, args.edges // 500)
    comps = comp_names(n_comp)

    # Shared headers.
    headers = []
    for h in range(N_HEADERS):
        group = "include/%s" % TOP_COMPONENTS[h % len(TOP_COMPONENTS)].replace("/", "_")
        os.makedirs(os.path.join(src, group), exist_ok=True)
        rel = "%s/%s_%d.h" % (group, FILE_STEMS[h % len(FILE_STEMS)], h)
        touch(os.path.join(src, rel))
        headers.append("../src/" + rel)

    gn_files = []
    sub_files = []
    comp_libs = {}   # comp -> list of archive / TOC paths others link against
    n_build = 0

    for ci, comp in enumerate(comps):
        cid = ident(comp)
        budget = args.edges * (ci + 1) // n_comp - args.edges * ci // n_comp
        rem = max(2, budget - OVERHEAD_PER_COMP)
        deps = rng.sample(comps[:ci], min(ci, rng.randint(0, 4))) if ci else []

        cdir = os.path.join(src, comp)
        os.makedirs(cdir, exist_ok=True)
        touch(os.path.join(cdir, "BUILD.gn"))
        touch(os.path.join(cdir, "gen_%s.py" % cid))
        gn_files.append("../src/%s/BUILD.gn" % comp)

        L = []
        w = L.append
        w("# Component %s (generated by bench/gen_manifest.py)" % comp)
        w("defines = -DCOMPONENT_%s -DNDEBUG -DUSE_OZONE=1 -D_FORTIFY_SOURCE=2" % cid.upper())
        w("include_dirs = -I../src -I../src/%s -Igen -Igen/%s -I../src/include" % (comp, comp))
        w("cflags = -fno-strict-aliasing -fstack-protector -funwind-tables -fPIC -pthread -O2 -g0")
        w("cflags_cc = -std=c++17 -fno-exceptions -fno-rtti -fvisibility-inlines-hidden")
        w("cflags_c = -std=c11")
        w("target_out_dir = obj/%s" % comp)
        w("root_gen_dir = gen")
        w("")

        # Generated header: action + stamp; compiles depend on the stamp order-only.
        gen_h = "gen/%s/%s_gen.h" % (comp, cid)
        gen_stamp = "obj/%s/%s_gen.stamp" % (comp, cid)
        w("build %s: action ../src/%s/gen_%s.py | ../src/%s/BUILD.gn" % (gen_h, comp, cid, comp))
        w("  script = %s/gen_%s.py" % (comp, cid))
        w("  args = --output $root_gen_dir/%s --component %s" % (comp, cid))
        w("build %s: stamp %s" % (gen_stamp, gen_h))
        order_only = [gen_stamp] + ["obj/%s/%s_gen.stamp" % (d, ident(d)) for d in deps]
        w("")

        targets_out = []
        objs_all = []
        t = 0
        while rem > 0:
            size = rng.randint(5, 40)
            if rem - (size + 1) < 6:      # swallow a too-small remainder
                size = max(1, rem - 1)
            rem -= size + 1
            tname = "%s_%d" % (os.path.basename(comp), t)
            tdir = os.path.join(cdir, tname)
            os.makedirs(tdir, exist_ok=True)
            objs = []
            for s in range(size):
                is_c = (s % 7 == 3)
                stem = "%s_%d.%s" % (FILE_STEMS[(s * 5 + t) % len(FILE_STEMS)], s, "c" if is_c else "cc")
                touch(os.path.join(tdir, stem))
                obj = "obj/%s/%s/%s.o" % (comp, tname, stem.rsplit(".", 1)[0])
                objs.append(obj)
                hs = rng.sample(headers, HEADERS_PER_TU)
                w("build %s: %s ../src/%s/%s/%s || %s" % (
                    obj, "cc" if is_c else "cxx", comp, tname, stem, " ".join(order_only)))
                w("  hdrs = %s %s" % (" ".join(hs), gen_h))
                if s % 5 == 0:
                    w("  cflags = $cflags -Wno-unused-parameter -DTARGET_%s" % tname.upper())
                if s % 11 == 0:
                    w("  pool = heavy_pool" if s % 22 == 0 else "  defines = $defines -DEXTRA=%d" % s)
            if t % 4 == 3:
                so = "lib/lib%s.so" % ident(comp + "_" + str(t))
                dep_libs = [l for d in deps for l in comp_libs[d] if l.endswith(".TOC")]
                w("build %s | %s.TOC: solink %s | %s" % (
                    so, so, " ".join(objs), " ".join(dep_libs + [gen_stamp])))
                w("  soname = %s" % os.path.basename(so))
                w("  solibs = %s" % " ".join(l[:-4] for l in dep_libs))
                targets_out.append(so)
                comp_libs.setdefault(comp, []).append(so + ".TOC")
            else:
                a = "obj/%s/lib%s.a" % (comp, tname)
                w("build %s: alink %s || %s" % (a, " ".join(objs), gen_stamp))
                w("  arflags = -T")
                targets_out.append(a)
                comp_libs.setdefault(comp, []).append(a)
            objs_all.extend(objs)
            w("")
            t += 1

        # Test executable linking all own archives plus the deps' libraries.
        exe = "bin/%s_unittests" % cid
        own = [x for x in targets_out if x.endswith(".a")]
        dep_all = [l for d in deps for l in comp_libs[d]]
        w("build %s: link %s %s | %s" % (
            exe, objs_all[0], " ".join(own), " ".join(dep_all + [gen_stamp])))
        w("  ldflags = -Wl,--gc-sections -Wl,-O2 -pie")
        w("  libs = -lpthread -ldl -lm")
        w("")
        w("build %s: phony %s %s" % (cid, " ".join(targets_out), exe))

        rel = "manifests/%s.ninja" % cid
        sub_files.append(rel)
        with open(os.path.join(out, rel), "w") as f:
            f.write("\n".join(L) + "\n")
        n_build += sum(1 for line in L if line.startswith("build "))
        if ci % 20 == 19:
            print("gen_manifest: %d/%d components" % (ci + 1, n_comp), file=sys.stderr)

    with open(os.path.join(out, "toolchain.ninja"), "w") as f:
        f.write(real_toolchain() if args.real_commands else TOOLCHAIN)
    with open(os.path.join(out, "build.ninja.d"), "w") as f:
        f.write("build.ninja: toolchain.ninja %s %s\n" % (" ".join(sub_files), " ".join(gn_files)))

    top = [
        "# Synthetic Chromium-like build (bench/gen_manifest.py --edges %d --seed %d)" % (args.edges, args.seed),
        "ninja_required_version = 1.7.2",
        "",
        "cc = %s" % ("cc" if args.real_commands else "clang"),
        "cxx = %s" % ("c++" if args.real_commands else "clang++"),
        "ld = $cxx",
        "ar = %s" % ("ar" if args.real_commands else "llvm-ar"),
        "python = python3",
        "",
        "pool link_pool",
        "  depth = 2",
        "",
        "pool action_pool",
        "  depth = 4",
        "",
        "pool heavy_pool",
        "  depth = 1",
        "",
        "include toolchain.ninja",
        "",
        "build build.ninja: regen",
        "",
    ]
    top += ["subninja %s" % s for s in sub_files]
    top += ["", "build all: phony %s" % " ".join(ident(c) for c in comps), "", "default all", ""]
    # build.ninja is written last so it is newer than everything it depends on.
    with open(os.path.join(out, "build.ninja"), "w") as f:
        f.write("\n".join(top))
    n_build += 2
    print("gen_manifest: %s: %d components, %d build statements, %d source files" % (
        out, n_comp, n_build, sum(len(fs) for _, _, fs in os.walk(src))),
        file=sys.stderr)


if __name__ == "__main__":
    main()
