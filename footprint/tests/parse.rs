//! Word splitting, flag parsing and directive parsing.

use ggninja_footprint::args::{parse_driver_args, Lang};
use ggninja_footprint::{
    is_compiler_name, parse_directives, DirectiveKind, IncludeTarget, Kind, Scanner,
};
use ggninja_syntax::shell::{split_command, split_response_file};
use std::path::Path;

fn w(s: &str) -> Vec<String> {
    split_command(s).unwrap()
}

#[test]
fn splits_words_with_quotes_and_escapes() {
    assert_eq!(w("gcc -c a.c"), ["gcc", "-c", "a.c"]);
    assert_eq!(w("  gcc\t-c   a.c  "), ["gcc", "-c", "a.c"]);
    assert_eq!(
        w("gcc '-DX=a b' \"-DY=\\\"q\\\"\" c\\ d.c"),
        ["gcc", "-DX=a b", "-DY=\"q\"", "c d.c"]
    );
    assert_eq!(w("gcc '' x"), ["gcc", "", "x"]);
    assert_eq!(w("gcc -D'A'\"B\"C"), ["gcc", "-DABC"]);
    assert_eq!(w("gcc \"a\\$b\" 'x$y;z|w'"), ["gcc", "a$b", "x$y;z|w"]);
    assert_eq!(w("gcc \"\\n\""), ["gcc", "\\n"]);
    assert_eq!(w("gcc a\\\nb"), ["gcc", "ab"]);
}

#[test]
fn refuses_shell_features() {
    for (cmd, why) in [
        ("gcc -c a.c | tee log", "pipeline"),
        ("gcc -c a.c && touch x", "&"),
        ("cd x && gcc -c a.c", "&"),
        ("cd x", "builtin"),
        ("gcc -c a.c; true", ";"),
        ("gcc -c a.c > log", "redirection"),
        ("gcc -c a.c 2>&1", "redirection"),
        ("gcc $(pkg-config --cflags x) -c a.c", "substitution"),
        ("gcc `echo -O2` -c a.c", "substitution"),
        ("gcc $CFLAGS -c a.c", "expansion"),
        ("gcc \"$CFLAGS\" -c a.c", "expansion"),
        ("gcc -c *.c", "glob"),
        ("CC=1 gcc -c a.c", "environment"),
        ("gcc 'unterminated", "unterminated"),
        ("gcc -c a.c\ngcc -c b.c", "newline"),
        ("(gcc -c a.c)", "subshell"),
        ("", "empty"),
    ] {
        let e = split_command(cmd).unwrap_err();
        assert!(e.contains(why), "{cmd:?}: {e}");
    }
}

#[test]
fn response_files_split() {
    assert_eq!(
        split_response_file("-I a  'b c'\n\"d e\" f\\ g\n"),
        ["-I", "a", "b c", "d e", "f g"]
    );
}

#[test]
fn compiler_names() {
    for n in [
        "gcc",
        "g++",
        "cc",
        "c++",
        "clang",
        "clang++",
        "x86_64-linux-gnu-gcc-12",
        "clang++-16",
        "gcc-12.2",
        "arm-none-eabi-g++",
    ] {
        assert!(is_compiler_name(n), "{n}");
    }
    for n in [
        "ccache", "gcc-ar", "ld", "tcc", "icc", "gccgo", "python3", "cc1",
    ] {
        assert!(!is_compiler_name(n), "{n}");
    }
}

#[test]
fn parses_driver_flags() {
    let a: Vec<String> = "-Iinc -I other -iquote q -isystem sys -idirafter late -include pre.h -imacros m.h \
        -DX=1 -D Y -std=c++17 -m32 --sysroot=/sr -c a.cc b.c -x c weird.txt -x none o.o -o out.o -MD -MF out.d -MT t"
        .split(' ')
        .map(String::from)
        .collect();
    let d = parse_driver_args(&a, false, Path::new("/b"));
    assert!(d.settings.compile_only);
    assert_eq!(d.settings.include_dirs, ["inc", "other"]);
    assert_eq!(d.settings.iquote, ["q"]);
    assert_eq!(d.settings.isystem, ["sys"]);
    assert_eq!(d.settings.idirafter, ["late"]);
    assert_eq!(d.settings.forced_includes, ["pre.h", "m.h"]);
    assert_eq!(d.settings.sysroot.as_deref(), Some("/sr"));
    assert_eq!(
        d.sources,
        [
            ("a.cc".to_string(), Lang::Cxx),
            ("b.c".to_string(), Lang::C),
            ("weird.txt".to_string(), Lang::C)
        ]
    );
    assert_eq!(d.inputs, ["o.o"]);
    assert_eq!(d.outputs, ["out.o", "out.d"]);
    assert_eq!(
        d.settings.query_flags,
        ["-std=c++17", "-m32", "--sysroot=/sr"]
    );
    assert!(!d.fallback_args(&a).iter().any(|a| a == "-o"
        || a == "out.o"
        || a == "-c"
        || a == "-MF"
        || a == "t"));
    assert!(d.fallback_args(&a).iter().any(|a| a == "-DX=1"));

    // g++ compiles .c as C++; -MD without -MF derives the depfile name.
    let a: Vec<String> = ["-c", "x.c", "-o", "obj/x.o", "-MMD"]
        .map(String::from)
        .to_vec();
    let d = parse_driver_args(&a, true, Path::new("/b"));
    assert_eq!(d.sources, [("x.c".to_string(), Lang::Cxx)]);
    assert_eq!(d.outputs, ["obj/x.o", "obj/x.d"]);

    // link line
    let a: Vec<String> = [
        "a.o",
        "libb.a",
        "-L",
        "lib",
        "-lz",
        "-Llib2",
        "-l",
        "m",
        "-Wl,--version-script=v.map,-O1",
        "-o",
        "prog",
    ]
    .map(String::from)
    .to_vec();
    let d = parse_driver_args(&a, false, Path::new("/b"));
    assert!(!d.settings.compile_only);
    assert_eq!(d.inputs, ["a.o", "libb.a"]);
    assert_eq!(d.lib_dirs, ["lib", "lib2"]);
    assert_eq!(d.libs, ["z", "m"]);
    assert_eq!(d.linker_args, ["--version-script=v.map", "-O1"]);
}

#[test]
fn parses_directives() {
    let src = br##"
#include "a.h"
  #  include <b/c.h> // comment
#include_next <d.h>
#import "e.h"
#/* odd */include "f.h"
#if 0
#include "never.h"
#endif
#if __has_include(<opt.h>) && __has_include_next("nx.h")
#endif
#define HAVE __has_include(<def.h>)
#if __has_include(OPT_H) || defined(__has_include)
#endif
#include HEADER
#include \
  "cont.h"
 x = "#include <not_directive.h>";
#pragma once
"##;
    let d = parse_directives(src);
    use DirectiveKind::*;
    use IncludeTarget::*;
    let q = |s: &str| Quoted(s.to_string());
    let a = |s: &str| Angle(s.to_string());
    let got: Vec<(DirectiveKind, IncludeTarget)> =
        d.into_iter().map(|d| (d.kind, d.target)).collect();
    assert_eq!(
        got,
        vec![
            (Include, q("a.h")),
            (Include, a("b/c.h")),
            (IncludeNext, a("d.h")),
            (Include, q("e.h")),
            (Include, q("f.h")),
            (Include, q("never.h")),
            (HasInclude, a("opt.h")),
            (HasIncludeNext, q("nx.h")),
            (HasInclude, a("def.h")),
            (HasInclude, Computed),
            (Include, Computed),
            (Include, q("cont.h")),
        ]
    );
}

#[test]
fn pipeline_is_local_only() {
    let s = Scanner::new();
    let cwd = std::env::temp_dir();
    for cmd in [
        "gcc -c a.c | tee log",
        "gcc -c a.c & ar rcs x.a a.o",
        "cd /tmp && gcc -c a.c",
        "gcc -c a.c > x",
    ] {
        let e = s.footprint(cmd, &cwd).unwrap_err();
        assert!(!e.reason.is_empty(), "{cmd}");
    }
    let e = s.footprint("gcc -c a.c | tee log", &cwd).unwrap_err();
    assert!(e.reason.contains("pipeline"), "{}", e.reason);
    let e = s.footprint("gcc @missing.rsp", &cwd).unwrap_err();
    assert!(e.reason.contains("response file"), "{}", e.reason);
}

#[test]
fn archive_and_other() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.o"), "x").unwrap();
    std::fs::write(d.join("b.o"), "x").unwrap();
    std::fs::write(d.join("in.txt"), "x").unwrap();
    let s = Scanner::new();
    let fp = s.footprint("ar rcs libx.a a.o b.o", d).unwrap();
    assert_eq!(fp.kind, Kind::Archive);
    assert_eq!(fp.sources, [Path::new("a.o"), Path::new("b.o")]);
    assert_eq!(fp.outputs, [Path::new("libx.a")]);
    assert!(fp.executable.is_absolute());
    // Modifiers may follow the operation as options (GN's `ar rcsD -T`).
    let fp = s.footprint("ar rcsD -T libt.a a.o b.o", d).unwrap();
    assert_eq!(fp.sources, [Path::new("a.o"), Path::new("b.o")]);
    assert_eq!(fp.outputs, [Path::new("libt.a")]);
    let fp = s
        .footprint("cp in.txt --target-directory=out missing.txt", d)
        .unwrap();
    assert_eq!(fp.kind, Kind::Other);
    assert_eq!(fp.sources, [Path::new("in.txt")]);
    assert!(fp
        .toolchain
        .iter()
        .any(|p| p.to_string_lossy().contains("libc.so")));
}

#[test]
fn command_lists() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for f in ["a.o", "b.o", "lib.a"] {
        std::fs::write(d.join(f), "x").unwrap();
    }
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/c.c"), "#include <stdio.h>\n").unwrap();
    let s = Scanner::new();
    let real = |name: &str| std::fs::canonicalize(format!("/usr/bin/{name}")).unwrap();

    // CMake's static library: the stale archive is removed before `ar`
    // appends to it, so it is no input; `ranlib` reads what `ar` wrote.
    let cmd = ": && rm -f lib.a && ar qc lib.a a.o b.o && ranlib lib.a && :";
    let fp = s.footprint(cmd, d).unwrap();
    assert_eq!(fp.kind, Kind::Archive);
    assert_eq!(fp.executable, Path::new("/bin/sh"));
    assert_eq!(fp.argv, ["/bin/sh", "-c", cmd]);
    assert_eq!(fp.sources, [Path::new("a.o"), Path::new("b.o")]);
    assert!(fp.outputs.iter().any(|o| o == Path::new("lib.a")));
    for tool in ["rm", "ar", "ranlib"] {
        assert!(
            fp.toolchain.contains(&real(tool)),
            "{tool}: {:?}",
            fp.toolchain
        );
    }

    // Without the `rm`, `ar q` appends to what is there.
    let fp = s.footprint("ar q lib.a a.o && ranlib lib.a", d).unwrap();
    assert!(
        fp.sources.iter().any(|p| p == Path::new("lib.a")),
        "{:?}",
        fp.sources
    );

    // `cd`: later commands' paths are relative to the new directory, and
    // reported relative to the list's.
    let fp = s.footprint("cd sub && cc -c c.c -o c.o", d).unwrap();
    assert_eq!(fp.kind, Kind::Compile);
    assert_eq!(fp.sources, [Path::new("sub/c.c")]);
    assert_eq!(fp.outputs, [Path::new("sub/c.o")]);
    assert!(fp.headers.iter().any(|h| h.ends_with("stdio.h")));

    // A single command behind `:` is that command.
    let fp = s.footprint(": && ar rcs lib2.a a.o && :", d).unwrap();
    assert_eq!(fp.argv, ["ar", "rcs", "lib2.a", "a.o"]);
    assert_eq!(std::fs::canonicalize(&fp.executable).unwrap(), real("ar"));

    // A script's footprint is a guess: the list runs locally.
    for cmd in [
        "cc -c sub/c.c && python3 gen.py",
        "cd sub && sh -c true",
        "cc -c sub/c.c && python3 -E gen.py",
        "cd sub && cmake -E env X=1 python3 gen.py",
    ] {
        let e = s.footprint(cmd, d).unwrap_err();
        assert!(
            e.reason.contains("command list running"),
            "{cmd}: {}",
            e.reason
        );
    }
    let e = s
        .footprint("cd sub && export C_INCLUDE_PATH=/x && cc -c c.c", d)
        .unwrap_err();
    assert!(e.reason.contains("C_INCLUDE_PATH"), "{}", e.reason);
    // A sub-make's recipe as `ggninja --make` runs it: MAKELEVEL (and the
    // sub-make's variables) are read by no tool, so the list is the
    // compile, its values in its words.
    let fp = s
        .footprint("cd sub && export MAKELEVEL='2' && cc -c c.c -o c.o", d)
        .unwrap();
    assert_eq!(fp.kind, Kind::Compile);
    assert_eq!(fp.sources, [Path::new("sub/c.c")]);
    let fp = s
        .footprint("cd sub && export MAKELEVEL='2' X=1 && cc -c c.c -o c.o", d)
        .unwrap();
    assert_eq!(fp.kind, Kind::Compile);
    for other in ["MAKEFLAGS=-j2", "MAKELEVEL=$(x)", "CPATH=/x", "X"] {
        let cmd = format!("cd sub && export {other} && cc -c c.c");
        assert!(s.footprint(&cmd, d).is_err(), "{cmd}");
    }
}

#[test]
fn linker_option_values_that_name_no_file_are_not_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // What a previous build left: the library's soname link, a map file.
    for f in ["a.o", "libx.so.1", "x.map", "exports.ver"] {
        std::fs::write(d.join(f), "x").unwrap();
    }
    let s = Scanner::new();
    for cmd in [
        "cc -shared -Wl,-soname,libx.so.1 -Wl,-Map,x.map -Wl,--version-script=exports.ver -o libx.so.1.0 a.o",
        "ld -shared -soname libx.so.1 -Map x.map --version-script exports.ver -o libx.so.1.0 a.o",
    ] {
        let fp = s.footprint(cmd, d).unwrap();
        assert_eq!(fp.kind, Kind::Link, "{cmd}");
        let named = |f: &str| fp.sources.iter().any(|p| p == Path::new(f));
        assert!(named("a.o") && named("exports.ver"), "{cmd}: {:?}", fp.sources);
        assert!(!named("libx.so.1") && !named("x.map"), "{cmd}: {:?}", fp.sources);
        assert!(fp.outputs.iter().any(|p| p == Path::new("x.map")), "{cmd}");
    }
}

/// `__DATE__`, `__TIME__` and `__TIMESTAMP__` named as identifiers, in
/// code or a comment, make a file read the clock; longer names do not.
#[test]
fn the_clocks_macros_are_found_anywhere() {
    let clock = |src: &str| {
        let d = parse_directives(src.as_bytes());
        d.iter().any(|d| d.kind == DirectiveKind::ReadsClock)
    };
    for src in [
        "const char *t = __TIME__;\n",
        "/* built __DATE__ */ int x;",
        "#define STAMP __TIMESTAMP__",
        "__DATE__",
    ] {
        assert!(clock(src), "{src:?}");
    }
    for src in [
        "int __DATE__x;",
        "int x__TIME__;",
        "MY__DATE__",
        "int t; /* date */",
    ] {
        assert!(!clock(src), "{src:?}");
    }
}
