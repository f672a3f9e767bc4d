//! The footprint against what gcc itself reports in its depfile.

use ggninja_footprint::{Kind, Scanner};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn canon(cwd: &Path, p: &Path) -> PathBuf {
    std::fs::canonicalize(cwd.join(p)).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Runs `command` (no shell features) in `cwd`, then compares the footprint
/// with the depfile `dep.d`. Returns (gcc's headers, extra headers).
fn check(command: &str, cwd: &Path) -> (BTreeSet<PathBuf>, BTreeSet<PathBuf>) {
    let words = ggninja_syntax::shell::split_command(command).unwrap();
    let st = Command::new(&words[0])
        .args(&words[1..])
        .current_dir(cwd)
        .status()
        .unwrap();
    assert!(st.success(), "{command}");
    let dep = std::fs::read_to_string(cwd.join("dep.d")).unwrap();
    let scanner = Scanner::new();
    let fp = scanner.footprint(command, cwd).unwrap();
    assert_eq!(fp.kind, Kind::Compile);
    assert!(fp.executable.is_absolute());
    let sources: BTreeSet<PathBuf> = fp.sources.iter().map(|s| canon(cwd, s)).collect();
    let ours: BTreeSet<PathBuf> = fp.headers.iter().map(|h| canon(cwd, h)).collect();
    let joined = dep.replace("\\\n", " ");
    let after_colon = joined.split_once(": ").unwrap().1;
    let gcc: BTreeSet<PathBuf> = after_colon
        .split_whitespace()
        .map(|d| canon(cwd, Path::new(d)))
        .collect();
    let gcc_headers: BTreeSet<PathBuf> = gcc.difference(&sources).cloned().collect();
    let missing: Vec<_> = gcc_headers.difference(&ours).collect();
    assert!(missing.is_empty(), "missing from footprint: {missing:?}");
    let extra: BTreeSet<PathBuf> = ours.difference(&gcc_headers).cloned().collect();
    eprintln!(
        "{command}\n  gcc: {} headers, footprint: {} headers, extra: {} ({:?}...)",
        gcc_headers.len(),
        ours.len(),
        extra.len(),
        extra.iter().take(5).collect::<Vec<_>>()
    );
    // The toolchain: driver, cc1/cc1plus, as, and their libraries.
    let tc: Vec<String> = fp
        .toolchain
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(
        tc.iter()
            .any(|p| p.ends_with("/cc1") || p.ends_with("/cc1plus")),
        "{tc:?}"
    );
    assert!(tc.iter().any(|p| p.ends_with("/as")), "{tc:?}");
    assert!(tc.iter().any(|p| p.contains("libc.so")), "{tc:?}");
    assert!(fp.outputs.iter().any(|o| o == Path::new("dep.d")));
    // Rescanning hits the cache: no file is parsed again.
    let parsed = scanner.files_parsed();
    let again = scanner.footprint(command, cwd).unwrap();
    assert_eq!(again, fp);
    assert_eq!(scanner.files_parsed(), parsed);
    (gcc_headers, extra)
}

#[test]
fn c_file_matches_gcc_depfile() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "src/main.c",
        r#"#include "local.h"
#include "q.h"
#include <a.h>
#include <wrap.h>
#if 0
#include "never.h"
#endif
#define HDR "computed.h"
#include HDR
#if __has_include(<opt.h>)
#include <opt.h>
#endif
#include <stdio.h>
int main(void) { return LOCAL + Q + A + B + C + WRAP + COMPUTED + OPT + (int)sizeof(FILE*); }
"#,
    );
    write(r, "src/local.h", "#pragma once\n#define LOCAL 1\n");
    write(r, "src/never.h", "#include \"never2.h\"\n");
    write(r, "src/never2.h", "\n");
    write(
        r,
        "src/computed.h",
        "#define COMPUTED 1\n#include \"computed_dep.h\"\n",
    );
    write(r, "src/computed_dep.h", "\n");
    write(r, "qdir/q.h", "#define Q 1\n");
    // -iquote must not serve <...>: this a.h is a decoy.
    write(r, "qdir/a.h", "#error wrong a.h\n");
    write(r, "inc1/a.h", "#include \"nested/b.h\"\n#define A 1\n");
    write(r, "inc1/nested/b.h", "#include \"../c.h\"\n#define B 1\n");
    write(r, "inc1/c.h", "#define C 1\n");
    write(r, "inc1/wrap.h", "#include_next <wrap.h>\n");
    write(r, "inc2/wrap.h", "#define WRAP 1\n");
    write(r, "inc2/opt.h", "#define OPT 1\n");
    std::fs::write(r.join("args.rsp"), "-I inc2\n").unwrap();
    let (gcc, extra) = check(
        "gcc -c -iquote qdir -I inc1 @args.rsp src/main.c -o main.o -MD -MF dep.d",
        r,
    );
    let names: BTreeSet<String> = extra
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains("never.h") && names.contains("never2.h"),
        "{names:?}"
    );
    assert!(!names.contains("a.h"), "decoy qdir/a.h must not be found");
    assert!(gcc.iter().any(|p| p.ends_with("src/computed_dep.h")));
    assert!(
        gcc.iter().any(|p| p.ends_with("inc2/wrap.h"))
            && gcc.iter().any(|p| p.ends_with("inc1/wrap.h"))
    );
    assert!(gcc.iter().any(|p| p.ends_with("stdio.h")));
}

#[test]
fn cxx_file_matches_gcc_depfile() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "app.cc",
        "#include <vector>\n#include <iostream>\n#include \"util.hh\"\nint main() { std::vector<int> v{1}; std::cout << v[0] << U; }\n",
    );
    write(
        r,
        "include/util.hh",
        "#pragma once\n#include <string>\n#define U 1\n",
    );
    let (gcc, extra) = check(
        "g++ -std=c++17 -O1 -Iinclude -c app.cc -o app.o -MD -MF dep.d",
        r,
    );
    assert!(gcc.iter().any(|p| p.ends_with("vector")));
    assert!(gcc.iter().any(|p| p.ends_with("iostream")));
    assert!(
        extra.len() < gcc.len() * 2,
        "precision: {} extra for {} real",
        extra.len(),
        gcc.len()
    );
}

#[test]
fn link_and_archive_footprints() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "a.c", "int f(void){return 0;}\n");
    write(r, "m.c", "int f(void); int main(void){return f();}\n");
    let s = Scanner::new();
    for c in [
        "gcc -c a.c -o a.o",
        "gcc -c m.c -o m.o",
        "ar rcs libf.a a.o",
    ] {
        let w = ggninja_syntax::shell::split_command(c).unwrap();
        assert!(Command::new(&w[0])
            .args(&w[1..])
            .current_dir(r)
            .status()
            .unwrap()
            .success());
    }
    let fp = s.footprint("gcc m.o -L. -lf -lm -o prog", r).unwrap();
    assert_eq!(fp.kind, Kind::Link);
    assert!(fp.sources.contains(&PathBuf::from("m.o")));
    assert!(
        fp.sources.contains(&PathBuf::from("./libf.a"))
            || fp.sources.contains(&PathBuf::from("libf.a")),
        "{:?}",
        fp.sources
    );
    assert!(
        fp.sources
            .iter()
            .any(|p| p.to_string_lossy().contains("libm.")),
        "{:?}",
        fp.sources
    );
    let tc: Vec<String> = fp
        .toolchain
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    for want in [
        "/collect2",
        "/ld",
        "crt1.o",
        "crtbegin.o",
        "libc.so.6",
        "libc_nonshared.a",
    ] {
        assert!(tc.iter().any(|p| p.ends_with(want)), "{want} not in {tc:?}");
    }
    assert_eq!(fp.outputs, [PathBuf::from("prog")]);
}

/// A link's toolchain list is kept for the run (templates are made again
/// after every `invalidate`), by what its driver adds: a `-nostdlib` link
/// after a plain one gets no crt files nor default libraries, and the
/// plain one after both gets its own list back.
#[test]
fn link_lists_kept_for_the_run_differ_by_driver_settings() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "m.c", "int main(void){return 0;}\n");
    assert!(Command::new("gcc")
        .args(["-c", "m.c", "-o", "m.o"])
        .current_dir(r)
        .status()
        .unwrap()
        .success());
    let s = Scanner::new();
    let toolchain = |command: &str| {
        s.invalidate();
        let fp = s.footprint(command, r).unwrap();
        assert_eq!(fp.kind, Kind::Link);
        fp.toolchain
    };
    let has = |tc: &[PathBuf], end: &str| tc.iter().any(|p| p.to_string_lossy().ends_with(end));
    let plain = toolchain("gcc m.o -o prog");
    assert!(
        has(&plain, "crt1.o") && has(&plain, "libc_nonshared.a"),
        "{plain:?}"
    );
    let bare = toolchain("gcc -nostdlib m.o -o prog");
    assert!(
        !has(&bare, "crt1.o") && !has(&bare, "libc_nonshared.a"),
        "{bare:?}"
    );
    assert_eq!(toolchain("gcc m.o -o prog"), plain);
}

/// The headers of `command`'s footprint in `r` (canonical), scanned after
/// the build's `invalidate` before an edge.
fn headers_now(s: &Scanner, command: &str, r: &Path) -> Vec<PathBuf> {
    s.invalidate();
    let fp = s.footprint(command, r).unwrap();
    fp.headers.iter().map(|h| canon(r, h)).collect()
}

/// A compile's template is kept while the run's stats' epoch lasts, and no
/// longer once the build tells of a write that drops what its lookups saw:
/// a header generated into `gen/` (a memo hit restoring it), told as
/// written, shadows the one in `inc/` for the next compile, as for gcc.
#[test]
fn a_header_generated_into_an_include_dir_is_found_once_told() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "inc/y.h", "#define Y 1\n");
    write(r, "a.c", "#include \"y.h\"\nint a = Y;\n");
    std::fs::create_dir(r.join("gen")).unwrap();
    let s = Scanner::new();
    let command = "gcc -Igen -Iinc -MD -MF dep.d -c a.c -o a.o";
    let inc = r.join("inc/y.h").canonicalize().unwrap();
    assert!(headers_now(&s, command, r).contains(&inc));
    // A write nothing looked at keeps the template (and its answers).
    write(r, "other.o", "");
    s.run_stats().wrote(&r.join("other.o"));
    assert!(headers_now(&s, command, r).contains(&inc));
    write(r, "gen/y.h", "#define Y 2\n");
    s.run_stats().wrote(&r.join("gen/y.h"));
    let gen = r.join("gen/y.h").canonicalize().unwrap();
    let now = headers_now(&s, command, r);
    assert!(now.contains(&gen) && !now.contains(&inc), "{now:?}");
    let (deps, _) = check(command, r);
    assert!(deps.contains(&gen), "gcc: {deps:?}");
}

/// An include dir that did not exist when its template was made (`-Igen`
/// before anything is generated) is looked for again before the next
/// edge, however it came: told by a file under it (`gen/sub/z.h`: the
/// names told are `z.h` and `sub`), or made by its own name while the dir
/// named is `gen/../inc`. gcc finds the same headers.
#[test]
fn an_include_dir_made_since_its_template_is_searched() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "inc/sub/z.h", "#define Z 1\n");
    write(r, "a.c", "#include \"sub/z.h\"\nint a = Z;\n");
    let s = Scanner::new();
    let command = "gcc -Igen -Iinc -MD -MF dep.d -c a.c -o a.o";
    let inc = r.join("inc/sub/z.h").canonicalize().unwrap();
    assert!(headers_now(&s, command, r).contains(&inc));
    write(r, "gen/sub/z.h", "#define Z 2\n");
    s.run_stats().wrote(&r.join("gen/sub/z.h"));
    let gen = r.join("gen/sub/z.h").canonicalize().unwrap();
    assert!(headers_now(&s, command, r).contains(&gen));
    let (deps, _) = check(command, r);
    assert!(deps.contains(&gen), "gcc: {deps:?}");

    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "inc/y.h", "#define Y 1\n");
    write(r, "other/y.h", "#define Y 2\n");
    write(r, "a.c", "#include <y.h>\nint a = Y;\n");
    let s = Scanner::new();
    let command = "gcc -Igen/../inc -Iother -MD -MF dep.d -c a.c -o a.o";
    let other = r.join("other/y.h").canonicalize().unwrap();
    assert!(headers_now(&s, command, r).contains(&other));
    std::fs::create_dir(r.join("gen")).unwrap();
    s.run_stats().made_dir(&r.join("gen"));
    let inc = r.join("inc/y.h").canonicalize().unwrap();
    assert!(headers_now(&s, command, r).contains(&inc));
    let (deps, _) = check(command, r);
    assert!(deps.contains(&inc), "gcc: {deps:?}");
}

/// An include spelled through a directory (`"gen/../y.h"`) finds another
/// header once the build makes that directory, as gcc does: the kept
/// "missing" answer for the path through it goes when the dir is made.
#[test]
fn an_include_stepping_out_of_a_made_dir_is_found_again() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "y.h", "#define Y 2\n");
    write(r, "inc/y.h", "#define Y 1\n");
    std::fs::create_dir(r.join("inc/gen")).unwrap();
    write(r, "a.c", "#include \"gen/../y.h\"\nint a = Y;\n");
    let s = Scanner::new();
    let command = "gcc -Iinc -MD -MF dep.d -c a.c -o a.o";
    let inc = r.join("inc/y.h").canonicalize().unwrap();
    assert!(headers_now(&s, command, r).contains(&inc));
    std::fs::create_dir(r.join("gen")).unwrap();
    s.run_stats().made_dir(&r.join("gen"));
    let near = r.join("y.h").canonicalize().unwrap();
    let now = headers_now(&s, command, r);
    assert!(now.contains(&near) && !now.contains(&inc), "{now:?}");
    let (deps, _) = check(command, r);
    assert!(deps.contains(&near), "gcc: {deps:?}");
}
