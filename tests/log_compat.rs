//! `.ninja_log` / `.ninja_deps` compatibility: a tree built by ninja 1.13.2
//! must be up to date for ggninja and vice versa, both must rebuild the same
//! things after a header changes, and both must cope the same way with a log
//! that needs recompaction and with a truncated deps log. A new log is v7,
//! as 1.12+ write it; a v5 log ninja 1.11 made stays v5, so 1.11 keeps
//! sharing it.
//!
//! Uses the manifest in `fixtures/tools`.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use common::mtime::touch;
use common::{
    copy_dir, descriptions, fixture, ggninja, ninja113, ninja_log, program_name, require_tool, run,
};

/// Programs: (ninja 1.13.2, ggninja). None when it or gcc is missing.
fn programs() -> Option<(PathBuf, PathBuf)> {
    let ninja = ninja113()?;
    require_tool("gcc")?;
    Some((ninja, ggninja()))
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("tools"), dir.path());
    dir
}

/// Every (first program, second program) pair of the two.
fn pairs<'a>(ninja: &'a PathBuf, gg: &'a PathBuf) -> [(&'a PathBuf, &'a PathBuf); 4] {
    [(ninja, ninja), (ninja, gg), (gg, ninja), (gg, gg)]
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// Edge descriptions printed by the build (`[3/6] CC main.o` -> `CC main.o`).
    fn built(&self) -> BTreeSet<String> {
        descriptions(&self.stdout)
    }

    fn no_work(&self) -> bool {
        self.code == Some(0) && self.stdout.lines().any(|l| l.ends_with(": no work to do."))
    }
}

fn build(dir: &Path, prog: &Path, extra: &[&str]) -> Outcome {
    let mut args = vec!["-j1"];
    args.extend_from_slice(extra);
    args.push("all");
    let out = run(dir, prog, &args);
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn build_ok(dir: &Path, prog: &Path) -> Outcome {
    let o = build(dir, prog, &[]);
    assert_eq!(
        o.code,
        Some(0),
        "{} failed in {}:\n{}{}",
        program_name(prog),
        dir.display(),
        o.stdout,
        o.stderr
    );
    o
}

/// A copy of the fixture fully built by `builder`.
fn built_by(builder: &Path) -> tempfile::TempDir {
    let t = tree();
    build_ok(t.path(), builder);
    t
}

/// Asserts `checker` finds nothing to do in a tree built by `builder`,
/// showing `-d explain` output when it does not.
fn assert_no_work(dir: &Path, builder: &Path, checker: &Path, context: &str) {
    let o = build(dir, checker, &["-d", "explain", "-n"]);
    assert!(
        o.no_work(),
        "{context}: tree built by {}, {} should have no work to do, got exit {:?}:\n{}{}",
        program_name(builder),
        program_name(checker),
        o.code,
        o.stdout,
        o.stderr
    );
}

/// ninja 1.11 writes and reads only v5 logs: ggninja keeps a v5 log v5
/// through builds and recompaction, so a tree 1.11 built stays shared.
#[test]
fn a_ninja_1_11_log_stays_v5_and_shared() {
    let Some(ninja_111) = require_tool("ninja") else {
        return;
    };
    let Some((_, gg)) = programs() else {
        return;
    };
    let t = built_by(&ninja_111);
    assert_no_work(t.path(), &ninja_111, &gg, "after 1.11's full build");
    touch(t.path(), "src/util.h");
    let by_gg = build_ok(t.path(), &gg).built();
    assert!(!by_gg.is_empty(), "a header touch rebuilds something");
    inflate_log(t.path(), 20);
    build_ok(t.path(), &gg);
    let (header, entries) = read_log(t.path());
    assert_eq!(header, "# ninja log v5", "ggninja kept 1.11's version");
    let unique: BTreeSet<_> = entries.iter().cloned().collect();
    assert_eq!(unique.len(), entries.len(), "recompacted");
    assert_no_work(t.path(), &gg, &ninja_111, "after ggninja's rebuild");
    // A new log is v7, which 1.11 cannot read.
    let fresh = built_by(&gg);
    assert_eq!(read_log(fresh.path()).0, "# ninja log v7");
}

#[test]
fn up_to_date_across_tools() {
    let Some((ninja, gg)) = programs() else {
        return;
    };
    for (builder, checker) in [(&ninja, &gg), (&gg, &ninja)] {
        let t = built_by(builder);
        assert_no_work(t.path(), builder, checker, "after a full build");
        let o = build(t.path(), checker, &[]);
        assert!(o.no_work(), "{}{}", o.stdout, o.stderr);
        assert!(
            o.stdout.contains("no work to do."),
            "expected `no work to do.`: {}",
            o.stdout
        );
    }
}

/// What touching src/util.h must rebuild (it is included by src/main.c and
/// src/util.c, the latter compiled twice).
fn header_rebuild_set() -> BTreeSet<String> {
    [
        "CC main.o",
        "CC util.o",
        "CC util_opt.o",
        "AR libutil.a",
        "LINK hello",
        "STAMP dist.stamp",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn header_change_rebuilds_same_set_across_tools() {
    let Some((ninja, gg)) = programs() else {
        return;
    };
    let mut seen = Vec::new();
    for (builder, rebuilder) in pairs(&ninja, &gg) {
        let t = built_by(builder);
        touch(t.path(), "src/util.h");
        let o = build_ok(t.path(), rebuilder);
        seen.push((program_name(builder), program_name(rebuilder), o.built()));
        // And back: the first tool reads the logs the second one wrote.
        assert_no_work(
            t.path(),
            rebuilder,
            builder,
            "after rebuilding for the header",
        );
        touch(t.path(), "src/util.h");
        let o = build_ok(t.path(), builder);
        seen.push((program_name(rebuilder), program_name(builder), o.built()));
        assert_no_work(
            t.path(),
            builder,
            rebuilder,
            "after the second header change",
        );
    }
    let expected = header_rebuild_set();
    let wrong: Vec<_> = seen.iter().filter(|s| s.2 != expected).collect();
    assert!(
        wrong.is_empty(),
        "after touching src/util.h, expected {expected:?}; (logs from, rebuilt by, set) that differ: {wrong:#?}"
    );
}

/// Parses a v5 `.ninja_log`: header and (output, hash) per line.
fn read_log(dir: &Path) -> (String, Vec<(String, String)>) {
    let log = ninja_log::read(dir).expect("reading .ninja_log");
    let entries = log
        .entries
        .iter()
        .map(|e| {
            e.assert_numbers();
            (e.output.clone(), e.hash.clone())
        })
        .collect();
    (log.header.expect("an empty .ninja_log"), entries)
}

/// Rewrites `.ninja_log` so each entry appears `copies` times with a wrong
/// command hash before its real entry (the last one wins on load).
fn inflate_log(dir: &Path, copies: usize) -> usize {
    let log = ninja_log::read(dir).expect("reading .ninja_log");
    let mut out = format!("{}\n", log.header.expect("an empty .ninja_log"));
    for i in 0..copies {
        for e in &log.entries {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{:x}\n",
                i,
                i + 1,
                e.mtime,
                e.output,
                0xdead0000u64 + i as u64
            ));
        }
    }
    for e in &log.entries {
        out.push_str(&e.line());
        out.push('\n');
    }
    fs::write(dir.join(".ninja_log"), out).unwrap();
    log.entries.len() * (copies + 1)
}

#[test]
fn duplicated_log_is_recompacted() {
    let Some((ninja, gg)) = programs() else {
        return;
    };
    let mut results = Vec::new();
    for (builder, checker) in pairs(&ninja, &gg) {
        let t = built_by(builder);
        let (header, before) = read_log(t.path());
        assert_eq!(header, "# ninja log v7");
        let unique: BTreeSet<_> = before.iter().cloned().collect();
        assert_eq!(unique.len(), before.len(), "{before:?}");
        let total = inflate_log(t.path(), 20);
        assert!(total > 100 && total > 3 * unique.len());

        let o = build(t.path(), checker, &[]);
        let (header2, after) = read_log(t.path());
        let after_set: BTreeSet<_> = after.iter().cloned().collect();
        results.push((
            program_name(builder),
            program_name(checker),
            o.no_work(),
            header2.clone(),
            after.len(),
            after_set == unique,
        ));
        assert!(
            o.no_work(),
            "{} on an inflated log from {}: expected no work, got {:?}\n{}{}",
            program_name(checker),
            program_name(builder),
            o.code,
            o.stdout,
            o.stderr
        );
        assert_eq!(header2, "# ninja log v7");
        assert_eq!(
            after.len(),
            unique.len(),
            "{} did not recompact a log of {total} entries ({} unique); log from {}",
            program_name(checker),
            unique.len(),
            program_name(builder)
        );
        assert_eq!(after_set, unique, "recompaction kept the wrong entries");
        // The other tool reads the recompacted log.
        let other = if checker == &ninja { &gg } else { &ninja };
        assert_no_work(t.path(), checker, other, "after recompaction");
    }
    eprintln!("{results:#?}");
}

/// Builds with `builder`, cuts the last `cut` bytes off `.ninja_deps` (in
/// the middle of the last record) and builds again with `rebuilder`.
fn truncated_deps(builder: &Path, rebuilder: &Path, cut: u64) -> (Outcome, tempfile::TempDir) {
    let t = built_by(builder);
    let path = t.path().join(".ninja_deps");
    let len = fs::metadata(&path).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - cut)
        .unwrap();
    (build(t.path(), rebuilder, &[]), t)
}

#[test]
fn truncated_deps_log_recovers() {
    let Some((ninja, gg)) = programs() else {
        return;
    };
    for cut in [2, 7] {
        let mut sets = Vec::new();
        for (builder, rebuilder) in pairs(&ninja, &gg) {
            let (o, t) = truncated_deps(builder, rebuilder, cut);
            let who = format!(
                "deps log from {} cut by {cut} bytes, rebuilt by {}",
                program_name(builder),
                program_name(rebuilder)
            );
            assert_eq!(o.code, Some(0), "{who}: {}{}", o.stdout, o.stderr);
            let warning = format!(
                "{}: warning: premature end of file; recovering",
                program_name(rebuilder)
            );
            assert!(
                o.stderr.lines().any(|l| l == warning),
                "{who}: expected `{warning}` on stderr, got:\n{}",
                o.stderr
            );
            let built = o.built();
            assert!(!built.is_empty(), "{who}: nothing rebuilt");
            // The rebuild restored the deps: nothing left to do, for either tool.
            assert_no_work(t.path(), rebuilder, builder, &who);
            assert_no_work(t.path(), rebuilder, rebuilder, &who);
            let deps = run(t.path(), rebuilder, &["-t", "deps"]);
            let deps = String::from_utf8_lossy(&deps.stdout).into_owned();
            for obj in ["main.o", "util.o", "util_opt.o"] {
                assert!(
                    deps.contains(&format!("{obj}: #deps ")) && !deps.contains("STALE"),
                    "{who}: `-t deps` lacks a valid record for {obj}:\n{deps}"
                );
            }
            sets.push((who, built));
        }
        // Whoever reads a given deps log must rebuild the same things; the
        // two logs themselves may legitimately end with different records.
        assert!(
            sets[0].1 == sets[1].1 && sets[2].1 == sets[3].1,
            "rebuilt sets differ for the same truncated log: {sets:#?}"
        );
    }
}
