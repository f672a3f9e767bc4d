//! The saved manifest load (`.ggninja_graph`): every way it can go stale,
//! each run side by side with ninja 1.13.2 on the same tree (a stale load
//! trusted would build what the old manifest said, and differ), and the
//! saved load giving the same tool output as a parse.
//!
//! Manifests are dated in the past: a file changed less than two seconds
//! before a load is never trusted from its stamp, so nothing would be saved.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use common::parity::{Pair, Side};
use common::{copy_dir, fixture, ggninja, run, text};

const SAVED: &str = ".ggninja_graph";
const POINTER: &str = ".ggninja_graph_at";

const BUILD: &str = "\
rule cp
  command = echo $flags > $out; cat $in >> $out
include inc.ninja
build out1: cp in1
subninja sub.ninja
";
const INC: &str = "flags = one\n";
const SUB: &str = "build out2: cp in2\n  flags = sub\n";

fn write(dir: &Path, rel: &str, text: &str) {
    fs::write(dir.join(rel), text).unwrap();
}

/// Dates `dir/rel` `secs` seconds ago.
fn age(dir: &Path, rel: &str, secs: u64) {
    let file = fs::File::options()
        .append(true)
        .open(dir.join(rel))
        .unwrap();
    let when = SystemTime::now() - Duration::from_secs(secs);
    file.set_modified(when).unwrap();
}

/// The three-file tree with ninja 1.13.2 and ggninja, manifests a minute old.
fn tree() -> Option<Pair> {
    tree_of(BUILD)
}

/// The tree with `build` as its build.ninja.
fn tree_of(build: &str) -> Option<Pair> {
    let p = Pair::with_manifest(common::ninja113()?, build);
    p.both(|s| {
        let dir = s.path();
        write(dir, "inc.ninja", INC);
        write(dir, "sub.ninja", SUB);
        write(dir, "in1", "a\n");
        write(dir, "in2", "b\n");
        for m in ["build.ninja", "inc.ninja", "sub.ninja"] {
            age(dir, m, 60);
        }
    });
    Some(p)
}

/// Whether ggninja in `dir` would use its saved load now (a dry run, which
/// saves nothing).
fn uses_saved(dir: &Path, args: &[&str]) -> bool {
    let mut all = vec!["-n", "-d", "stats"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-t", "targets", "all"]);
    let out = run(dir, &ggninja(), &all);
    assert!(out.status.success(), "{}", text(&out));
    let stats = text(&out);
    assert!(stats.contains(".ggninja_graph load"), "{stats}");
    !stats.contains(".ninja parse")
}

/// `from` replaced by `to` in `rel` on both sides, dated 30 s ago.
fn edit(p: &Pair, rel: &str, from: &str, to: &str) {
    p.both(|s| {
        let old = fs::read_to_string(s.path().join(rel)).unwrap();
        assert!(old.contains(from), "{rel}: {old}");
        write(s.path(), rel, &old.replace(from, to));
        age(s.path(), rel, 30);
    });
}

/// Builds both, then checks the saved load is used; returns the pair.
fn built() -> Option<Pair> {
    let mut p = tree()?;
    p.compare(&["-j1"]);
    assert!(
        p.gg.path().join(SAVED).is_file(),
        "saved after the first load"
    );
    assert!(uses_saved(p.gg.path(), &[]));
    Some(p)
}

/// After a change the saved load no longer matches: both rebuild alike,
/// then ggninja saves and uses the new load.
fn rebuilds_alike(mut p: Pair, what: &str) {
    assert!(
        !uses_saved(p.gg.path(), &[]),
        "{what}: the saved load is stale"
    );
    p.compare(&["-j1"]);
    p.compare(&["-j1"]);
    assert!(uses_saved(p.gg.path(), &[]), "{what}: saved again");
    p.compare(&["-t", "commands"]);
    p.compare_files(what);
    p.finish();
}

#[test]
fn an_edit_to_the_top_manifest() {
    let Some(p) = built() else { return };
    edit(&p, "build.ninja", "echo $flags", "echo top $flags");
    rebuilds_alike(p, "build.ninja edited");
}

/// The saved load keeps each command's hash (`command_hash.rs`): a log
/// entry made by another command must still rebuild its output.
#[test]
fn a_logged_command_that_differs_rebuilds_from_a_saved_load() {
    let Some(mut p) = built() else { return };
    p.both(|s| {
        let log = s.path().join(".ninja_log");
        let old = fs::read_to_string(&log).unwrap();
        let new: Vec<String> = old
            .lines()
            .map(|l| match l.split('\t').collect::<Vec<_>>()[..] {
                [a, b, c, "out1", _] => format!("{a}\t{b}\t{c}\tout1\t1234abcd"),
                _ => l.to_string(),
            })
            .collect();
        assert_ne!(old.lines().collect::<Vec<_>>(), new, "out1 is logged");
        fs::write(&log, new.join("\n") + "\n").unwrap();
    });
    assert!(uses_saved(p.gg.path(), &[]));
    let out = run(p.gg.path(), &ggninja(), &["-n", "-d", "explain"]);
    assert!(
        text(&out).contains("command line changed for out1"),
        "{}",
        text(&out)
    );
    p.compare(&["-j1"]);
    p.compare(&["-j1"]);
    p.compare_files("a logged command hash changed");
    p.finish();
}

#[test]
fn an_edit_to_an_included_file() {
    let Some(p) = built() else { return };
    edit(&p, "inc.ninja", "one", "uno");
    rebuilds_alike(p, "inc.ninja edited");
}

#[test]
fn an_edit_to_a_subninja() {
    let Some(p) = built() else { return };
    edit(&p, "sub.ninja", "sub", "subninja");
    rebuilds_alike(p, "sub.ninja edited");
}

#[test]
fn same_size_other_bytes_and_the_old_mtime() {
    let Some(p) = built() else { return };
    let mtime = |s: &Side| fs::metadata(s.path().join("inc.ninja")).unwrap().modified();
    let before = (mtime(&p.ninja).unwrap(), mtime(&p.gg).unwrap());
    edit(&p, "inc.ninja", "one", "two");
    for (s, t) in [(&p.ninja, before.0), (&p.gg, before.1)] {
        let f = fs::File::options()
            .append(true)
            .open(s.path().join("inc.ninja"));
        f.unwrap().set_modified(t).unwrap();
    }
    assert_eq!(mtime(&p.gg).unwrap(), before.1, "only the ctime tells");
    rebuilds_alike(p, "inc.ninja rewritten in place");
}

#[test]
fn a_file_dated_in_the_saved_loads_tick() {
    let Some(mut p) = built() else { return };
    let saved_at = fs::metadata(p.gg.path().join(SAVED)).unwrap().modified();
    let saved_at = saved_at.unwrap();
    edit(&p, "inc.ninja", "one", "two");
    p.both(|s| {
        let f = fs::File::options()
            .append(true)
            .open(s.path().join("inc.ninja"));
        f.unwrap().set_modified(saved_at).unwrap();
    });
    assert!(!uses_saved(p.gg.path(), &[]));
    p.compare(&["-j1"]);
    // Dated too recently to be judged by its stamp: not saved.
    assert!(!uses_saved(p.gg.path(), &[]));
    p.compare(&["-j1"]);
    p.finish();
}

#[test]
fn a_manifest_just_written_is_not_saved() {
    let Some(mut p) = tree() else { return };
    edit(&p, "inc.ninja", "one", "two");
    p.both(|s| age(s.path(), "inc.ninja", 0));
    p.compare(&["-j1"]);
    assert!(!p.gg.path().join(SAVED).exists());
    p.compare(&["-j1"]);
    p.finish();
}

/// The saved file damaged by `damage`: ignored, the build as ninja's,
/// then saved again.
fn damaged(what: &str, damage: impl Fn(Vec<u8>) -> Vec<u8>) {
    let Some(p) = built() else { return };
    let at = p.gg.path().join(SAVED);
    fs::write(&at, damage(fs::read(&at).unwrap())).unwrap();
    edit(&p, "inc.ninja", "one", "uno");
    rebuilds_alike(p, what);
}

#[test]
fn a_truncated_file_is_ignored() {
    damaged("truncated", |b| b[..b.len() / 2].to_vec());
}

#[test]
fn a_garbage_file_is_ignored() {
    damaged("garbage", |b| {
        let mut x = 0x2545_f491_u32;
        b.iter()
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    });
}

#[test]
fn a_damaged_graph_is_ignored() {
    damaged("a byte of the graph changed", |mut b| {
        let n = b.len() - 10;
        b[n] ^= 0x40;
        b
    });
}

#[test]
fn another_format_version_is_ignored() {
    damaged("another version", |mut b| {
        let at = b"ggninja loaded manifest\n".len();
        assert!(b.starts_with(b"ggninja loaded manifest\n"));
        b[at] = b[at].wrapping_add(1);
        b
    });
}

#[test]
fn a_file_from_another_build_dir_is_ignored() {
    let Some(mut p) = built() else { return };
    // Another tree, whose manifest says other commands, saved its load.
    let other = tempfile::tempdir().unwrap();
    copy_dir(p.gg.path(), other.path());
    write(other.path(), "inc.ninja", "flags = two\n");
    for m in ["build.ninja", "inc.ninja", "sub.ninja"] {
        age(other.path(), m, 60);
    }
    fs::remove_file(other.path().join(SAVED)).unwrap();
    assert!(run(other.path(), &ggninja(), &["-j1"]).status.success());
    fs::copy(other.path().join(SAVED), p.gg.path().join(SAVED)).unwrap();
    assert!(!uses_saved(p.gg.path(), &[]));
    p.compare(&["-j1"]);
    p.compare_files("a saved load copied in");
    p.finish();
}

#[test]
fn other_parser_options_are_another_load() {
    let Some(p) = built() else { return };
    assert!(!uses_saved(p.gg.path(), &["-w", "phonycycle=err"]));
    assert!(uses_saved(p.gg.path(), &[]));
    assert!(
        !uses_saved(p.gg.path(), &["-f", "./build.ninja"]),
        "another -f"
    );
    p.finish();
}

#[test]
fn loads_at_once_all_finish() {
    let Some(mut p) = tree() else { return };
    let (want, _) = p.compare(&["-t", "commands"]);
    fs::remove_file(p.gg.path().join(SAVED)).unwrap();
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(ggninja())
                .args(["-t", "commands"])
                .current_dir(p.gg.path())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            p.gg.normalize(&String::from_utf8_lossy(&out.stdout)),
            want.stdout
        );
    }
    assert!(uses_saved(p.gg.path(), &[]));
    let left = common::files(p.gg.path());
    assert!(!left.iter().any(|f| f.contains(".tmp")), "{left:?}");
    p.compare(&["-j1"]);
    p.compare(&["-j1"]);
    p.finish();
}

/// The saved load found through the pointer follows `builddir` from a
/// literal to another to none, with ninja's logs, and a no-op with the
/// load saved in builddir opens no manifest.
#[test]
fn a_build_dir_that_changes_between_runs() {
    let Some(mut p) = tree_of(&format!("builddir = b1\n{BUILD}")) else {
        return;
    };
    // The first run makes b1 (for the logs) after its load: not saved.
    p.compare(&["-j1"]);
    p.compare(&["-j1"]);
    assert!(uses_saved(p.gg.path(), &[]), "saved in b1");
    assert!(p.gg.path().join("b1").join(SAVED).is_file());
    no_manifest_opened(p.gg.path());
    let to_b1 = fs::read(p.gg.path().join(POINTER)).unwrap();
    edit(&p, "build.ninja", "builddir = b1", "builddir = b2");
    p.compare(&["-j1"]);
    p.compare(&["-j1"]);
    assert!(uses_saved(p.gg.path(), &[]), "saved in b2");
    assert!(p.gg.path().join("b2").join(SAVED).is_file());
    // A pointer back to b1's load, now stale, only costs a parse.
    fs::write(p.gg.path().join(POINTER), &to_b1).unwrap();
    assert!(!uses_saved(p.gg.path(), &[]), "b1's load is stale");
    p.compare(&["-j1"]);
    assert!(uses_saved(p.gg.path(), &[]), "b2's again");
    edit(&p, "build.ninja", "builddir = b2\n", "");
    p.compare(&["-j1"]);
    p.compare(&["-j1"]);
    assert!(uses_saved(p.gg.path(), &[]), "saved here");
    assert!(p.gg.path().join(SAVED).is_file());
    assert!(!p.gg.path().join(POINTER).exists(), "no pointer needed");
    no_manifest_opened(p.gg.path());
    p.compare(&["-t", "commands"]);
    p.compare_files("builddir b1, b2, none");
    p.finish();
}

/// A damaged pointer is ignored: the manifest is parsed, alike with ninja,
/// and the pointer written again.
#[test]
fn a_damaged_pointer_is_ignored() {
    let Some(mut p) = tree_of(&format!("builddir = out\n{BUILD}")) else {
        return;
    };
    p.compare(&["-j1"]);
    p.compare(&["-j1"]);
    assert!(uses_saved(p.gg.path(), &[]));
    let pointer = p.gg.path().join(POINTER);
    let good = fs::read(&pointer).unwrap();
    let damages = [
        good[..good.len() - 2].to_vec(),
        good.iter().map(|c| c ^ 0x5a).collect(),
        [&good[..], b"more"].concat(),
    ];
    for damaged in damages {
        fs::write(&pointer, damaged).unwrap();
        assert!(!uses_saved(p.gg.path(), &[]), "damaged: parsed");
        p.compare(&["-j1"]);
        assert_eq!(fs::read(&pointer).unwrap(), good, "written again");
        assert!(uses_saved(p.gg.path(), &[]));
    }
    edit(&p, "inc.ninja", "one", "uno");
    fs::write(&pointer, b"garbage").unwrap();
    rebuilds_alike(p, "a damaged pointer");
}

/// A no-op in `dir` (its saved load current) opens no manifest: only the
/// pointer and the load (as strace sees the opens).
fn no_manifest_opened(dir: &Path) {
    let Some(strace) = common::require_tool("strace") else {
        return;
    };
    let log = dir.join("opens.log");
    let log_arg = log.to_str().unwrap();
    let out = run(
        dir,
        &strace,
        &[
            "-f",
            "-e",
            "trace=open,openat",
            "-o",
            log_arg,
            ggninja().to_str().unwrap(),
        ],
    );
    assert!(text(&out).contains("no work to do"), "{}", text(&out));
    let opens = fs::read_to_string(&log).unwrap();
    fs::remove_file(&log).unwrap();
    assert!(opens.contains(SAVED), "{opens}");
    for m in ["build.ninja", "inc.ninja", "sub.ninja"] {
        assert!(!opens.contains(&format!("{m}\"")), "{m} opened:\n{opens}");
    }
}

const REGEN: &str = "\
rule regen
  command = cp manifest.in build.ninja
  generator = 1
build build.ninja: regen manifest.in
rule cp
  command = echo $flags > $out; cat $in >> $out
flags = one
build out1: cp in1
";

/// After the regeneration the rebuilt manifest's edge stays in the status
/// line's total (`[1/2]`), and both logs exist, as with ninja 1.12+.
#[test]
fn a_manifest_its_own_rule_regenerates() {
    let Some(ninja) = common::ninja113() else {
        return;
    };
    let mut p = Pair::with_manifest(ninja, REGEN);
    p.both(|s| {
        write(s.path(), "manifest.in", REGEN);
        write(s.path(), "in1", "a\n");
        age(s.path(), "manifest.in", 120);
        age(s.path(), "build.ninja", 60);
    });
    p.compare(&["-j1"]);
    assert!(uses_saved(p.gg.path(), &[]));
    edit(&p, "manifest.in", "flags = one", "flags = two");
    p.compare(&["-j1"]);
    p.compare_files("a regeneration");
    p.compare(&["-j1"]);
    // Regenerated just now: parsed until its stamp can be trusted.
    p.both(|s| age(s.path(), "build.ninja", 20));
    p.compare(&["-j1"]);
    assert!(uses_saved(p.gg.path(), &[]));
    p.compare(&["-j1"]);
    p.compare(&["-t", "commands"]);
    p.finish();
}

/// Each of `queries` gives the same output from a parse and from the
/// saved load, in `dir` (manifests already dated in the past).
fn saved_load_answers_alike(dir: &Path, queries: &[&[&str]]) {
    for q in queries {
        let _ = fs::remove_file(dir.join(SAVED));
        let parsed = run(dir, &ggninja(), q);
        if q.contains(&"-n") {
            // A dry run saves nothing: a tool does.
            assert!(run(dir, &ggninja(), &["-t", "targets"]).status.success());
        }
        assert!(uses_saved(dir, &[]), "{q:?}: saved");
        let saved = run(dir, &ggninja(), q);
        assert_eq!(text(&parsed), text(&saved), "{q:?}");
        assert_eq!(parsed.status.code(), saved.status.code(), "{q:?}");
    }
}

/// Dates every file under `dir` `secs` seconds ago.
fn age_tree(dir: &Path, secs: u64) {
    for f in common::files(dir) {
        age(dir, &f, secs);
    }
}

#[test]
fn the_tools_fixture_answers_alike() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("tools"), dir.path());
    age_tree(dir.path(), 120);
    saved_load_answers_alike(
        dir.path(),
        &[
            &["-t", "targets", "all"],
            &["-t", "commands"],
            &["-t", "query", "hello", "all", "version.h"],
            &["-t", "rules", "-d"],
            &["-n", "-d", "explain"],
        ],
    );
    assert!(run(dir.path(), &ggninja(), &[]).status.success());
    age_tree(dir.path(), 60);
    saved_load_answers_alike(dir.path(), &[&["-n", "-d", "explain"], &["-t", "deps"]]);
}

#[test]
fn a_cmake_project_answers_alike() {
    if common::require_tool("cmake").is_none() || common::require_tool("cc").is_none() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let (src, build) = (root.path().join("src"), root.path().join("build"));
    copy_dir(&fixture("cmake-demo"), &src);
    common::cmake::configure(&src, &build, Some(&ggninja()), &[]);
    age_tree(root.path(), 120);
    let queries: &[&[&str]] = &[
        &["-t", "targets", "all"],
        &["-t", "commands"],
        &["-t", "query", "all"],
        &["-n", "-d", "explain"],
    ];
    saved_load_answers_alike(&build, queries);
    let out = run(&build, &ggninja(), &[]);
    assert!(out.status.success(), "{}", text(&out));
    age_tree(root.path(), 60);
    saved_load_answers_alike(&build, &[&["-n", "-d", "explain"]]);
    assert!(uses_saved(&build, &[]));
    // Every file dated alike: CMake runs again, then nothing is left to do.
    assert!(run(&build, &ggninja(), &[]).status.success());
    let out = run(&build, &ggninja(), &[]);
    assert!(text(&out).contains("no work to do"), "{}", text(&out));
}
