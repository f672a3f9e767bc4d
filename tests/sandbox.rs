//! `--sandbox`: every thunk runs in a mount namespace that holds only its
//! footprint. A real project building there, with outputs identical to a
//! normal build, proves its footprints complete; an undeclared input makes
//! the command fail.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{
    cmake, copy_dir, count, fetch_source, fixture, ggninja, require_bwrap, require_tool, text,
};

/// `ggninja --sandbox -d explain` in `dir`.
fn sandboxed(dir: &Path, extra: &[&str]) -> Output {
    Command::new(ggninja())
        .args(["--sandbox", "-d", "explain"])
        .args(extra)
        .current_dir(dir)
        .env("NINJA_STATUS", "[%f/%t] ")
        .output()
        .unwrap()
}

fn run_ok(dir: &Path, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> String {
    let out = Command::new(program.as_ref())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{:?} {args:?} failed:\n{}",
        program.as_ref(),
        text(&out)
    );
    text(&out)
}

/// The contents of the files under `dir` that `keep` selects, by path.
fn products(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() && keep(&p) {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                found.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    found
}

/// Real ninja, when cmake, bubblewrap and ninja are all usable here.
fn tools() -> Option<PathBuf> {
    require_tool("cmake")?;
    require_bwrap()?;
    require_tool("ninja")
}

/// The CMake fixture (C, C++, a shared library, generated headers, -g):
/// built by ninja, then cleaned and built in the sandbox, every object and
/// binary is byte-identical, and the tests pass.
#[test]
fn cmake_fixture_builds_identically_in_the_sandbox() {
    let Some(ninja) = tools() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (src, build) = (tmp.path().join("src"), tmp.path().join("build"));
    copy_dir(&fixture("cmake-demo"), &src);
    cmake::configure(&src, &build, None, &[]);
    run_ok(&build, &ninja, &[]);
    let binaries = [
        "calc",
        "greet",
        "palette",
        "shapeinfo",
        "libshapes.so.1.4.2",
    ];
    let keep = |p: &Path| {
        p.extension().is_some_and(|x| x == "o" || x == "a")
            || binaries.iter().any(|b| p.ends_with(b))
    };
    let normal = products(&build, &keep);
    assert!(normal.len() >= 20, "{} products", normal.len());
    run_ok(&build, ggninja(), &["-t", "clean"]);

    let out = sandboxed(&build, &[]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    // Every compile and link ran in the sandbox; only shell chains (CMake's
    // archive steps and custom commands) ran in place.
    let local = count(&log, "runs locally");
    let edges = count(&log, "] ");
    assert!(
        edges >= 26 && local <= 5,
        "{local} of {edges} local:\n{log}"
    );
    assert_eq!(products(&build, &keep), normal, "sandboxed outputs differ");
    cmake::ctest(&build, &["--output-on-failure"]);
    assert!(!build.join(".ggninja_sandbox").exists());
    // The deps log got the headers, with real paths: nothing is dirty.
    let again = text(&sandboxed(&build, &[]));
    assert!(again.contains("no work to do"), "{again}");
}

/// A command that reads files its edge does not declare (and its command
/// line names only as a directory) works in place, as in ninja, and fails
/// in the sandbox.
#[test]
fn an_undeclared_input_fails_in_the_sandbox() {
    if require_bwrap().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("build.ninja"),
        "rule cp\n  command = cp $in $out\n\
         rule sneaky\n  command = cp -r data $out\n\
         rule named\n  command = cp secret.txt $out\n\
         build named.txt: named\n\
         build declared.txt: cp in.txt\n\
         build undeclared.txt: sneaky\n",
    )
    .unwrap();
    std::fs::write(dir.join("in.txt"), "in\n").unwrap();
    std::fs::write(dir.join("secret.txt"), "named\n").unwrap();
    std::fs::create_dir(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/secret.txt"), "secret\n").unwrap();

    let out = sandboxed(dir, &["declared.txt"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read(dir.join("declared.txt")).unwrap(), b"in\n");
    // A file the command line names is in the footprint, declared or not.
    let out = sandboxed(dir, &["named.txt"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read(dir.join("named.txt")).unwrap(), b"named\n");

    let out = sandboxed(dir, &["undeclared.txt"]);
    let log = text(&out);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("FAILED: [code=1] undeclared.txt"), "{log}");
    assert!(log.contains("cannot stat 'data'"), "{log}");
    assert!(!dir.join("undeclared.txt").exists());

    let out = Command::new(ggninja())
        .arg("undeclared.txt")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// A real project (ninja 1.11.1 from Debian's sources, CMake, Release with
/// LTO): every compile and link runs in the sandbox, the binaries equal
/// the ones ninja builds, and its own test suite passes.
#[test]
fn ninja_source_builds_in_the_sandbox() {
    let Some(ninja) = tools() else {
        return;
    };
    let Some(src) = fetch_source("ninja-build") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let build = tmp.path().join("build");
    cmake::configure(&src, &build, None, &["-DCMAKE_BUILD_TYPE=Release"]);
    run_ok(&build, &ninja, &[]);
    // LTO objects carry a random section suffix even between two ninja
    // runs; the linked binaries are deterministic.
    let keep = |p: &Path| p.ends_with("ninja") || p.ends_with("ninja_test");
    let normal = products(&build, &keep);
    assert_eq!(normal.len(), 2);
    run_ok(&build, ggninja(), &["-t", "clean"]);

    let out = sandboxed(&build, &[]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let local: Vec<&str> = log.lines().filter(|l| l.contains("runs locally")).collect();
    assert!(
        local.len() <= 1 && local.iter().all(|l| l.contains("browse_py.h")),
        "{local:?}"
    );
    assert!(count(&log, "] ") >= 60, "{log}");
    assert_eq!(products(&build, &keep), normal, "sandboxed binaries differ");
    run_ok(&build, build.join("ninja_test"), &[]);
}
