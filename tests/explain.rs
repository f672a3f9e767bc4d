//! `-d explain` against real ninja 1.13.2: small manifests that reach each
//! explanation ninja prints (a missing output, an output older than its
//! input, a changed command, a dirty input, a restat rule's recorded mtime,
//! missing and stale deps, a missing depfile, a log without the command,
//! a phony output, a dyndep file), built step by step in two copies, one
//! by each program, comparing exit status, stdout and stderr. ninja 1.13
//! prints an edge's explanations with its status, only for edges that run;
//! the mtimes in the messages are masked.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::mtime::touch_newer;
use common::parity::mask_digits;
use common::{as_ninja, ggninja, program_name, run};

/// One step of a scenario, done alike in both copies.
enum Step<'a> {
    Write(&'a str, &'a str),
    /// Newer than everything in both copies.
    Touch(&'a str),
    Remove(&'a str),
    Run(&'a [&'a str]),
}
use Step::*;

const RULES: &str = "rule cp
  command = cp $in $out
rule gen
  command = echo \"$out: in\" > $out.d && cp in $out
  deps = gcc
  depfile = $out.d
rule mkdep
  command = echo \"$out: in\" > $out.d && cp in $out
  depfile = $out.d
rule keep
  command = [ -f $out ] || touch $out
  restat = 1
";

const GRAPH: &str = "build a: cp in
build b: cp a
build c: gen in
build d: mkdep in
build r: keep in
build after_r: cp r
build p: phony
build q: cp in p
build all: phony b c d after_r q
";

/// The manifest with `cp`'s command changed.
fn changed() -> String {
    format!("{}{GRAPH}", RULES.replace("cp $in $out", "cp -p $in $out"))
}

fn normalize(s: &str, dir: &Path, prog: &Path) -> String {
    let s = s.replace(&*dir.to_string_lossy(), "<DIR>");
    // `(N vs N)` and `deps mtime N`: the numbers masked.
    mask_digits(&as_ninja(&s, &program_name(prog)))
}

/// Runs `steps` in a copy per program; returns the differences.
fn compare(name: &str, ninja: &Path, steps: &[Step]) -> Vec<String> {
    let progs = [ninja.to_path_buf(), ggninja()];
    let dirs: Vec<tempfile::TempDir> = progs.iter().map(|_| tempfile::tempdir().unwrap()).collect();
    let roots: Vec<&Path> = dirs.iter().map(|d| d.path()).collect();
    let mut diffs = Vec::new();
    let mut explained = false;
    for (k, step) in steps.iter().enumerate() {
        match step {
            Write(rel, text) => roots
                .iter()
                .for_each(|r| fs::write(r.join(rel), text).unwrap()),
            Touch(rel) => {
                let paths: Vec<PathBuf> = roots.iter().map(|r| r.join(rel)).collect();
                let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
                touch_newer(&roots, &refs);
            }
            Remove(rel) => roots
                .iter()
                .for_each(|r| fs::remove_file(r.join(rel)).unwrap()),
            Run(args) => {
                let outs: Vec<(Option<i32>, String, String)> = progs
                    .iter()
                    .zip(&roots)
                    .map(|(p, r)| {
                        let o = run(r, p, args);
                        let text = |b: &[u8]| normalize(&String::from_utf8_lossy(b), r, p);
                        (o.status.code(), text(&o.stdout), text(&o.stderr))
                    })
                    .collect();
                explained |= outs[0].2.contains("ninja explain: ");
                if outs[0] != outs[1] {
                    diffs.push(format!(
                        "{name}, step {k} `{}`:\n  ninja 1.13.2: {:?}\n  ggninja:      {:?}",
                        args.join(" "),
                        outs[0],
                        outs[1]
                    ));
                }
            }
        }
    }
    assert!(
        explained,
        "{name}: ninja explained nothing; the scenario tests nothing"
    );
    diffs
}

#[test]
fn explain_matches_ninja_113() {
    let Some(dir) = common::ninja_113_dir() else {
        return;
    };
    let ninja = dir.join("bin/ninja");
    let manifest = format!("{RULES}{GRAPH}");
    let changed = changed();
    let build: &[&str] = &["-d", "explain", "-j1", "-k", "0", "all"];
    let dry: &[&str] = &["-d", "explain", "-n", "-j1", "-k", "0", "all"];
    let scenarios: Vec<(&str, Vec<Step>)> = vec![
        // Missing outputs, missing deps and depfile, dirty inputs, a phony
        // output that never exists (q fails on it, as in both versions).
        (
            "first build",
            vec![
                Write("build.ninja", &manifest),
                Write("in", "x\n"),
                Run(dry),
                Run(build),
            ],
        ),
        // Outputs older than the input; the restat rule's recorded mtime;
        // its output left alone, so what reads it does not run.
        (
            "input touched",
            vec![
                Write("build.ninja", &manifest),
                Write("in", "x\n"),
                Run(build),
                Touch("in"),
                Run(dry),
                Run(build),
                Run(build),
            ],
        ),
        (
            "command changed",
            vec![
                Write("build.ninja", &manifest),
                Write("in", "x\n"),
                Run(build),
                Write("build.ninja", &changed),
                Run(build),
            ],
        ),
        (
            "logs removed, output touched",
            vec![
                Write("build.ninja", &manifest),
                Write("in", "x\n"),
                Run(build),
                Touch("c"),
                Run(build),
                Remove(".ninja_log"),
                Remove(".ninja_deps"),
                Remove("d.d"),
                Run(build),
            ],
        ),
        (
            "dyndep",
            vec![
                Write(
                    "build.ninja",
                    "rule cp\n  command = cp $in $out\nrule dd\n  command = printf \
                     'ninja_dyndep_version = 1\\nbuild out | out.imp: dyndep | extra\\n' > $out\n\
                     build dd: dd\nbuild out: cp in || dd\n  dyndep = dd\n",
                ),
                Write("in", "x\n"),
                Write("extra", ""),
                Run(&["-d", "explain", "-j1"]),
                Touch("extra"),
                Run(&["-d", "explain", "-j1"]),
            ],
        ),
    ];
    let mut diffs = Vec::new();
    for (name, steps) in &scenarios {
        diffs.extend(compare(name, &ninja, steps));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
