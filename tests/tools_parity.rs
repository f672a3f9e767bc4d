//! `-t` tools, `-n` and `-d explain`: ggninja against real ninja on the
//! hand-written manifest in `fixtures/tools`.
//!
//! Every test copies the fixture into two temporary directories, builds one
//! with ninja and the other with ggninja (`-j1`, so the build order and the
//! logs are deterministic), runs the same command in both and compares exit
//! status, stdout and stderr after normalising what legitimately differs:
//! the directory, the program name in messages, mtimes, graphviz node ids.
//!
//! The reference is Debian's ninja 1.11.1 where 1.11 and 1.13 agree, and
//! ninja 1.13.2 (scripts/fetch-ninja.sh) where they differ, as ggninja
//! follows 1.13: each such test says what 1.11 did. The tools and flags
//! 1.12 and 1.13 added are in tests/ninja113_parity.rs.
//!
//! Validate the harness itself against ninja:
//!   GGNINJA_BIN=/usr/bin/ninja cargo test --test tools_parity

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use common::mtime::touch;
use common::parity::{mask_digits, Pair};
use common::{fixture, ninja113, ninja_log, require_tool};

/// Debian's ninja 1.11.1, the reference where 1.11 and 1.13 agree.
fn ninja111() -> Option<PathBuf> {
    require_tool("ninja")
}

/// Two copies of the fixture, one run by `reference`, not built. None
/// (skip) if a program is missing.
fn fresh(reference: Option<PathBuf>) -> Option<Pair> {
    let reference = reference?;
    require_tool("gcc")?;
    Some(Pair::copies_of(reference, &fixture("tools")))
}

/// The same, each fully built (`all`) by its program.
fn built(reference: Option<PathBuf>) -> Option<Pair> {
    let p = fresh(reference)?;
    p.both(|s| s.build(&["all"]));
    Some(p)
}

/// Replaces every run of ASCII digits that follows `prefix` with `N`.
fn mask_after(s: &str, prefix: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(prefix) {
        let end = i + prefix.len();
        out.push_str(&rest[..end]);
        rest = &rest[end..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push('N');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// Graphviz output with each node id (a pointer in ninja: the quoted token
/// opening a line, or following `-> `) replaced by the order of its first
/// appearance.
fn renumber_graph(s: &str) -> String {
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut id = |tok: &str| {
        let n = ids.len();
        format!("\"#{}\"", *ids.entry(tok.to_string()).or_insert(n))
    };
    let mut out = Vec::new();
    for line in s.lines() {
        let mut l = line.to_string();
        if let Some(rest) = line.strip_prefix('"') {
            if let Some(j) = rest.find('"') {
                let first = id(&rest[..j]);
                let mut after = rest[j + 1..].to_string();
                if let Some(r2) = after.strip_prefix(" -> \"") {
                    if let Some(k) = r2.find('"') {
                        after = format!(" -> {}{}", id(&r2[..k]), &r2[k + 1..]);
                    }
                }
                l = format!("{first}{after}");
            }
        }
        out.push(l);
    }
    out.join("\n")
}

/// `.ninja_log` reduced to what must agree: the header, and per output the
/// command hash and whether the recorded mtime is zero.
type LogShape = (String, BTreeMap<String, (String, bool)>);

fn log_shape(dir: &Path) -> Option<LogShape> {
    let log = ninja_log::read(dir)?;
    let entries = log
        .entries
        .into_iter()
        .map(|e| (e.output, (e.hash, e.mtime == "0")))
        .collect();
    Some((log.header.unwrap_or_default(), entries))
}

fn compare_logs(p: &mut Pair, what: &str) {
    let a = log_shape(p.ninja.path());
    let b = log_shape(p.gg.path());
    if a != b {
        p.note(format!(
            ".ninja_log after `{what}` (header, output -> (hash, mtime==0)):\n  ninja:   {a:?}\n  ggninja: {b:?}"
        ));
    }
}

/// Builds start ready edges in ninja 1.13's order: the longest chain of
/// edges after them first (ninja 1.12's scheduler; 1.11 took them in
/// manifest order), so the status lines and the deps log follow it.
#[test]
fn full_build_output_matches() {
    let Some(mut p) = fresh(ninja113()) else {
        return;
    };
    p.compare(&["-n", "-j1"]);
    p.compare(&["-n", "-j1", "all"]);
    p.compare(&["-j1", "all"]);
    p.compare(&["-j1", "all"]);
    p.compare_files("-j1 all");
    p.finish();
}

/// Without a `default` statement the root nodes are built, phony ones
/// included (in 1.13's order, see `full_build_output_matches`).
#[test]
fn roots_without_default_statement() {
    let Some(mut p) = fresh(ninja113()) else {
        return;
    };
    p.both(|s| {
        let path = s.path().join("build.ninja");
        let text = fs::read_to_string(&path).unwrap();
        let edited = text.replace("default dist.stamp\n", "");
        assert_ne!(text, edited);
        fs::write(&path, edited).unwrap();
    });
    let (a, _) = p.compare(&["-n", "-j1"]);
    assert!(a.stdout.contains("COPY extra.txt"), "{a:?}");
    p.compare(&["-t", "targets"]);
    p.finish();
}

#[test]
fn targets_tool() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    let (a, _) = p.compare(&["-t", "targets"]);
    assert!(a.stdout.contains("all: phony"), "{a:?}");
    p.compare(&["-t", "targets", "depth", "2"]);
    p.compare(&["-t", "targets", "depth", "0"]);
    p.compare(&["-t", "targets", "all"]);
    p.compare(&["-t", "targets", "rule"]);
    p.compare(&["-t", "targets", "rule", "cc"]);
    p.compare(&["-t", "targets", "rule", "nosuchrule"]);
    p.compare(&["-t", "targets", "bogus"]);
    p.finish();
}

#[test]
fn query_tool() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    let (a, _) = p.compare(&["-t", "query", "hello", "version.h", "data.out.sum", "all"]);
    assert!(a.stdout.contains("validations:"), "{a:?}");
    // A header known only from the deps log.
    p.compare(&["-t", "query", "src/util.h"]);
    p.compare(&["-t", "query", "main.o"]);
    p.compare(&["-t", "query", "nosuchfile"]);
    p.compare(&["-t", "query", "helo"]);
    p.finish();
}

#[test]
fn commands_tool() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    p.compare(&["-t", "commands"]);
    p.compare(&["-t", "commands", "-s", "hello"]);
    p.compare(&["-t", "commands", "hello"]);
    p.compare(&["-t", "commands", "all"]);
    p.finish();
}

/// ninja 1.11 listed only the inputs of builds with a command, so `all`
/// (a phony build) did not list its own inputs; 1.13 lists every input
/// that is not itself made by a phony build. Its options are tested in
/// tests/ninja113_parity.rs.
#[test]
fn inputs_tool() {
    let Some(mut p) = built(ninja113()) else {
        return;
    };
    p.compare(&["-t", "inputs", "hello"]);
    p.compare(&["-t", "inputs", "dist.stamp"]);
    let (a, _) = p.compare(&["-t", "inputs", "all"]);
    assert!(a.stdout.lines().any(|l| l == "extra.txt"), "{a:?}");
    p.finish();
}

/// The deps log lists outputs in the order they were built: 1.13's (see
/// `full_build_output_matches`).
#[test]
fn deps_tool() {
    let Some(mut p) = built(ninja113()) else {
        return;
    };
    let mask = |s: &str| mask_after(s, "deps mtime ");
    let (a, _) = p.compare_with(&["-t", "deps"], mask);
    assert!(a.stdout.contains("src/util.h"), "{a:?}");
    p.compare_with(&["-t", "deps", "main.o"], mask);
    p.compare_with(&["-t", "deps", "util.o", "hello"], mask);
    // A header newer than the deps record makes it STALE.
    p.both(|s| touch(s.path(), "src/util.c"));
    p.compare_with(&["-t", "deps", "util.o", "main.o"], mask);
    p.finish();
}

#[test]
fn rules_tool() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    p.compare(&["-t", "rules"]);
    p.compare(&["-t", "rules", "-d"]);
    p.finish();
}

#[test]
fn compdb_tool() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    let (a, _) = p.compare(&["-t", "compdb"]);
    assert!(a.stdout.contains("\"directory\": \"<ROOT>\""), "{a:?}");
    p.compare(&["-t", "compdb", "cc"]);
    p.compare(&["-t", "compdb", "link", "nosuchrule"]);
    p.compare(&["-t", "compdb", "-x", "link"]);
    p.finish();
}

#[test]
fn graph_tool() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    let (a, _) = p.compare_with(&["-t", "graph", "hello"], renumber_graph);
    assert!(a.stdout.contains("[label=\"libutil.a\"]"), "{a:?}");
    assert!(!a.stdout.contains("0x"), "ids not renumbered: {a:?}");
    p.compare_with(&["-t", "graph", "dist.stamp"], renumber_graph);
    p.compare_with(&["-t", "graph"], renumber_graph);
    p.finish();
}

#[test]
fn clean_target() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    let (a, _) = p.compare(&["-t", "clean", "hello"]);
    assert!(a.stdout.contains("Cleaning..."), "{a:?}");
    p.compare_files("-t clean hello");
    p.compare(&["-t", "clean", "hello"]);
    p.finish();
}

#[test]
fn clean_rule() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    p.compare(&["-t", "clean", "-r", "cc"]);
    p.compare_files("-t clean -r cc");
    p.compare(&["-t", "clean", "-r", "nosuchrule"]);
    p.finish();
}

#[test]
fn clean_all_and_generator() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    p.compare(&["-t", "clean"]);
    p.compare_files("-t clean");
    p.compare(&["-t", "clean", "-g"]);
    p.compare_files("-t clean -g");
    p.finish();
}

#[test]
fn clean_dry_run_and_verbose() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    let (a, _) = p.compare(&["-n", "-t", "clean", "dist.stamp"]);
    assert!(a.stdout.contains("Cleaning..."), "{a:?}");
    p.compare(&["-v", "-n", "-t", "clean", "dist.stamp"]);
    p.compare_files("-n -t clean dist.stamp");
    p.compare(&["-v", "-t", "clean", "dist.stamp"]);
    p.compare_files("-v -t clean dist.stamp");
    // `-n` is not an option of the clean tool.
    p.compare(&["-t", "clean", "-n", "dist.stamp"]);
    p.finish();
}

#[test]
fn cleandead_after_removing_an_edge() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    p.both(|s| {
        let path = s.path().join("build.ninja");
        let text = fs::read_to_string(&path).unwrap();
        let edited = text
            .replace("build extra.txt: copy data.txt\n", "")
            .replace(" extra.txt util_opt.o", " util_opt.o");
        assert_ne!(text, edited);
        fs::write(&path, edited).unwrap();
    });
    let (a, _) = p.compare(&["-t", "cleandead"]);
    assert!(a.stdout.contains("Cleaning..."), "{a:?}");
    p.compare_files("-t cleandead");
    p.compare(&["-t", "cleandead"]);
    p.compare(&["-j1", "all"]);
    p.finish();
}

/// `.ninja_log` recompacted as ninja 1.13 writes it (a new log is v7, as
/// 1.12+ write it; tests/log_compat.rs keeps a 1.11 log v5).
#[test]
fn recompact_tool() {
    let Some(mut p) = built(ninja113()) else {
        return;
    };
    p.compare(&["-t", "recompact"]);
    compare_logs(&mut p, "-t recompact");
    p.compare_files("-t recompact");
    p.compare(&["-j1", "all"]);
    p.finish();
}

/// The recompacted deps log keeps the order outputs were built in: 1.13's
/// (see `full_build_output_matches`).
#[test]
fn recompact_keeps_deps() {
    let Some(mut p) = built(ninja113()) else {
        return;
    };
    p.compare(&["-t", "recompact"]);
    p.compare_with(&["-t", "deps"], |s| mask_after(s, "deps mtime "));
    p.finish();
}

/// Against 1.13: a new log is v7, and `-d explain` prints as 1.13 does.
#[test]
fn restat_tool() {
    let Some(mut p) = built(ninja113()) else {
        return;
    };
    p.both(|s| fs::remove_file(s.path().join("extra.txt")).unwrap());
    let (a, _) = p.compare(&["-t", "restat", "extra.txt", "no/such/path"]);
    assert_eq!(a.code, Some(0), "{a:?}");
    compare_logs(&mut p, "-t restat extra.txt no/such/path");
    p.compare(&["-t", "restat"]);
    compare_logs(&mut p, "-t restat");
    p.compare(&["-t", "restat", "missing-file"]);
    p.compare(&["-j1", "-d", "explain", "all"]);
    p.finish();
}

#[test]
fn restat_without_log() {
    let Some(mut p) = fresh(ninja111()) else {
        return;
    };
    let (a, _) = p.compare(&["-t", "restat"]);
    assert_eq!(a.code, Some(0), "{a:?}");
    p.compare_files("-t restat (no .ninja_log)");
    compare_logs(&mut p, "-t restat (no .ninja_log)");
    p.compare(&["-t", "restat", "hello"]);
    p.finish();
}

/// ninja 1.13 lists `multi-inputs` and `compdb-targets`, which 1.11 did
/// not have.
#[test]
fn list_tool() {
    let Some(mut p) = fresh(ninja113()) else {
        return;
    };
    // `browse` (ninja's Python web UI) is the one tool ggninja does not
    // have, and ggninja's own tools say "(ggninja)"; every other line of
    // the list must be ninja's.
    let (a, _) = p.compare_with(&["-t", "list"], |s| {
        s.lines()
            .filter(|l| !l.trim_start().starts_with("browse ") && !l.ends_with("(ggninja)"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    assert!(a.stdout.contains("cleandead"), "{a:?}");
    assert!(a.stdout.contains("compdb-targets  dump"), "{a:?}");
    p.finish();
}

#[test]
fn missingdeps_tool() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    let (a, _) = p.compare(&["-t", "missingdeps"]);
    assert_eq!(a.code, Some(0), "{a:?}");
    p.compare(&["-t", "missingdeps", "hello"]);
    p.finish();
}

#[test]
fn errors() {
    let Some(mut p) = built(ninja111()) else {
        return;
    };
    let (a, _) = p.compare(&["-t", "nosuch"]);
    assert_eq!(a.code, Some(1), "{a:?}");
    let (a, _) = p.compare(&["helo"]);
    assert!(a.stderr.contains("did you mean 'hello'?"), "{a:?}");
    p.compare(&["nothing-like-it"]);
    let (a, _) = p.compare(&["-t", "query"]);
    assert_eq!(a.code, Some(1), "{a:?}");
    p.compare(&["-t", "commands", "helo"]);
    p.compare(&["-t", "clean", "helo"]);
    // getopt takes the next word as a flag's value, dashes and all, and a
    // flag given twice keeps its last value.
    p.compare(&["-j", "-1"]);
    p.compare(&["-n", "-k", "-1", "-l", "-1"]);
    p.compare(&["-d", "-x"]);
    p.compare(&["-w", "-x"]);
    p.compare(&["-n", "-n", "-j", "1", "-j", "x"]);
    p.compare(&["-C", ".", "-C", "nowhere"]);
    // getopt's message names the tool whose option it is.
    for tool in ["commands", "clean", "compdb", "rules", "restat"] {
        bad_option(&mut p, tool);
    }
    p.finish();
}

/// ninja 1.13 rewrote `-t inputs`' usage (1.11 had only `-h`).
#[test]
fn inputs_errors() {
    let Some(mut p) = built(ninja113()) else {
        return;
    };
    p.compare(&["-t", "inputs", "helo"]);
    bad_option(&mut p, "inputs");
    p.finish();
}

fn bad_option(p: &mut Pair, tool: &str) {
    let (a, _) = p.compare(&["-t", tool, "-z"]);
    assert_eq!(a.code, Some(1), "{a:?}");
    assert!(
        a.stderr
            .starts_with(&format!("{tool}: invalid option -- 'z'")),
        "{a:?}"
    );
}

/// `-d explain` as 1.13 prints it: only for the edges that run.
#[test]
fn explain_after_touching_header() {
    let Some(mut p) = built(ninja113()) else {
        return;
    };
    p.both(|s| touch(s.path(), "src/util.h"));
    let mut sets = Vec::new();
    for s in [&p.ninja, &p.gg] {
        let r = s.run(&["-d", "explain", "-j1", "all"]);
        assert_eq!(r.code, Some(0), "{r:?}");
        let explain: BTreeSet<String> = r
            .stderr
            .lines()
            .filter(|l| l.starts_with("ninja explain:"))
            .map(mask_digits)
            .collect();
        let built: BTreeSet<String> = r
            .stdout
            .lines()
            .filter_map(|l| l.split_once("] ").map(|(_, d)| d.to_string()))
            .collect();
        sets.push((r.code, explain, built));
    }
    assert!(
        sets[0].1.iter().any(|l| l.contains("src/util.h")),
        "no explain line names the header: {:?}",
        sets[0].1
    );
    assert!(sets[0].2.contains("CC util.o"), "{:?}", sets[0].2);
    if sets[0] != sets[1] {
        let (a, b) = (&sets[0], &sets[1]);
        p.note(format!(
            "`-d explain -j1 all` after touching src/util.h:\n  explain only with ninja:   {:?}\n  \
             explain only with ggninja: {:?}\n  built by ninja: {:?}\n  built by ggninja: {:?}",
            a.1.difference(&b.1).collect::<Vec<_>>(),
            b.1.difference(&a.1).collect::<Vec<_>>(),
            a.2,
            b.2
        ));
    }
    p.compare(&["-d", "explain", "-j1", "all"]);
    p.finish();
}
