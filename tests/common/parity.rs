//! Real ninja and ggninja side by side on identical trees: each `Side` is a
//! copy of a fixture (or a manifest written into an empty directory) with
//! the program that runs there; a `Pair` runs the same command in both and
//! records every difference in exit status, stdout and stderr (after
//! normalising the directory and the program name in messages), and in the
//! files and directories left. A test ends with `finish`, which fails
//! listing them all.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{as_ninja, copy_dir, ggninja, program_name, run};

/// One tree and the program that builds it.
pub struct Side {
    dir: tempfile::TempDir,
    pub prog: PathBuf,
}

/// The normalised result of one invocation.
#[derive(Debug, PartialEq, Eq)]
pub struct Res {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Side {
    /// A copy of the directory `from`.
    pub fn copy_of(prog: PathBuf, from: &Path) -> Side {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(from, dir.path());
        Side { dir, prog }
    }

    /// An empty directory holding `manifest` as build.ninja.
    pub fn with_manifest(prog: PathBuf, manifest: &str) -> Side {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("build.ninja"), manifest).unwrap();
        Side { dir, prog }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn name(&self) -> String {
        program_name(&self.prog)
    }

    /// Replaces the directory with `<ROOT>` and a leading program name
    /// (`ggninja: error: ...`, `ggninja explain: ...`) with `ninja`.
    pub fn normalize(&self, s: &str) -> String {
        let root = self.path().to_string_lossy().into_owned();
        as_ninja(&s.replace(&root, "<ROOT>"), &self.name())
    }

    /// `out` of a command run in this tree, normalised.
    pub fn result(&self, out: Output) -> Res {
        Res {
            code: out.status.code(),
            stdout: self.normalize(&String::from_utf8_lossy(&out.stdout)),
            stderr: self.normalize(&String::from_utf8_lossy(&out.stderr)),
        }
    }

    pub fn run(&self, args: &[&str]) -> Res {
        self.result(run(self.path(), &self.prog, args))
    }

    /// `args` with the environment variables `env` set.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Res {
        let out = Command::new(&self.prog)
            .args(args)
            .current_dir(self.path())
            .env_remove("NINJA_STATUS")
            .envs(env.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.prog.display()));
        self.result(out)
    }

    /// `args` on a terminal `cols` columns wide (a pty from `script`), as
    /// the raw bytes written to it, with the environment variables `env`.
    pub fn run_on_terminal(&self, args: &[&str], cols: u16, env: &[(&str, &str)]) -> Res {
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let mut line = format!(
            "stty cols {cols} rows 24; exec {}",
            quote(&self.prog.to_string_lossy())
        );
        for a in args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let out = Command::new("script")
            .args(["-qfec", &line, "/dev/null"])
            .current_dir(self.path())
            .env("TERM", "xterm")
            .env_remove("NINJA_STATUS")
            .env_remove("CLICOLOR_FORCE")
            .envs(env.iter().copied())
            .output()
            .expect("running script");
        self.result(out)
    }

    /// Runs `args` with `-j1`, asserting success.
    pub fn build(&self, args: &[&str]) {
        let mut a = vec!["-j1"];
        a.extend_from_slice(args);
        let r = self.run(&a);
        assert_eq!(r.code, Some(0), "{} {a:?} failed: {r:?}", self.name());
    }
}

/// Every file and directory under `dir` (directories end with `/`), as
/// sorted relative paths.
pub fn entries(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let rel = entry
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if entry.file_type().unwrap().is_dir() {
                out.insert(format!("{rel}/"));
                walk(root, &entry.path(), out);
            } else {
                out.insert(rel);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// Real ninja (`ninja`) and ggninja (`gg`), each with its own tree.
pub struct Pair {
    pub ninja: Side,
    pub gg: Side,
    diffs: Vec<String>,
}

impl Pair {
    /// Copies of the directory `from`, one run by `reference`.
    pub fn copies_of(reference: PathBuf, from: &Path) -> Pair {
        Pair::of(
            Side::copy_of(reference, from),
            Side::copy_of(ggninja(), from),
        )
    }

    /// Empty directories holding `manifest`, one run by `reference`.
    pub fn with_manifest(reference: PathBuf, manifest: &str) -> Pair {
        Pair::of(
            Side::with_manifest(reference, manifest),
            Side::with_manifest(ggninja(), manifest),
        )
    }

    fn of(ninja: Side, gg: Side) -> Pair {
        Pair {
            ninja,
            gg,
            diffs: Vec::new(),
        }
    }

    pub fn both(&self, f: impl Fn(&Side)) {
        f(&self.ninja);
        f(&self.gg);
    }

    /// Runs `f` in both trees and records a difference in what it returns;
    /// `what` names the run in the report. Returns both results.
    pub fn compare_run(&mut self, what: &str, f: impl Fn(&Side) -> Res) -> (Res, Res) {
        let a = f(&self.ninja);
        let b = f(&self.gg);
        if a != b {
            self.diffs.push(format!(
                "`{what}`:\n  ninja:   exit {:?}\n    stdout: {:?}\n    stderr: {:?}\n  \
                 ggninja: exit {:?}\n    stdout: {:?}\n    stderr: {:?}",
                a.code, a.stdout, a.stderr, b.code, b.stdout, b.stderr
            ));
        }
        (a, b)
    }

    /// Runs `args` in both trees and compares the results after applying
    /// `norm` to their outputs.
    pub fn compare_with(&mut self, args: &[&str], norm: impl Fn(&str) -> String) -> (Res, Res) {
        self.compare_run(&args.join(" "), |s| {
            let mut r = s.run(args);
            r.stdout = norm(&r.stdout);
            r.stderr = norm(&r.stderr);
            r
        })
    }

    pub fn compare(&mut self, args: &[&str]) -> (Res, Res) {
        self.compare_with(args, |s| s.to_string())
    }

    /// Compares the files left (`super::files`: directories not listed).
    pub fn compare_files(&mut self, what: &str) {
        self.compare_sets(what, super::files);
    }

    /// Compares the files and directories left.
    pub fn compare_entries(&mut self, what: &str) {
        self.compare_sets(what, entries);
    }

    /// Compares what `list` gives in both trees, but for ggninja's saved
    /// manifest load (`.ggninja_graph`, and `.ggninja_graph_at` pointing to
    /// it), its deps log's index (`.ggninja_deps_index`), its remembered
    /// no-ops (`.ggninja_noop`) and its watcher's files (`.ggninja_watch.*`),
    /// which ninja has no counterpart of.
    fn compare_sets(&mut self, what: &str, list: fn(&Path) -> BTreeSet<String>) {
        let own = |f: &String| {
            let name = f.rsplit('/').next().unwrap_or(f);
            let watcher = name.starts_with(".ggninja_watch.");
            let own = [
                ".ggninja_graph",
                ".ggninja_graph_at",
                ".ggninja_deps_index",
                ".ggninja_noop",
            ];
            !own.contains(&name) && !watcher
        };
        let a: BTreeSet<String> = list(self.ninja.path()).into_iter().filter(own).collect();
        let b: BTreeSet<String> = list(self.gg.path()).into_iter().filter(own).collect();
        if a != b {
            self.diffs.push(format!(
                "files left after `{what}`:\n  only with ninja:   {:?}\n  only with ggninja: {:?}",
                a.difference(&b).collect::<Vec<_>>(),
                b.difference(&a).collect::<Vec<_>>()
            ));
        }
    }

    pub fn note(&mut self, what: String) {
        self.diffs.push(what);
    }

    pub fn finish(self) {
        assert!(
            self.diffs.is_empty(),
            "{} difference(s) between {} and ggninja:\n{}",
            self.diffs.len(),
            self.ninja.prog.display(),
            self.diffs.join("\n")
        );
    }
}

/// Every run of ASCII digits replaced by `N`.
pub fn mask_digits(s: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}
