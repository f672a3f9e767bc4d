//! Two copies of a CMake fixture side by side: tree A configured and built
//! with real ninja, tree B with ggninja (`-DCMAKE_MAKE_PROGRAM=<ggninja>`).
//! Both have the same layout (`<root>/src`, `<root>/build`) under different
//! roots; everything compared is first normalised by replacing the root with
//! `<ROOT>` and the build program's path with `<NINJA>`. Tests using it are
//! serialised by a lock: each runs compilers, and several at once on a small
//! machine only make timing-dependent behaviour (mtimes) harder to reason
//! about.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

use super::{cmake, copy_dir, ggninja, mtime, require_tool, run, text};

static SERIAL: Mutex<()> = Mutex::new(());

/// Parallelism passed to every build, so both programs get the same load.
pub const JOBS: &str = "-j2";

/// One copy of the fixture plus the program that builds it.
pub struct Tree {
    pub label: &'static str,
    pub root: PathBuf,
    /// The build program (ninja or ggninja), as given to CMake.
    pub program: PathBuf,
}

impl Tree {
    pub fn src(&self) -> PathBuf {
        self.root.join("src")
    }

    pub fn build_dir(&self) -> PathBuf {
        self.root.join("build")
    }

    /// Replaces this tree's root and build program with placeholders.
    pub fn normalize(&self, s: &str) -> String {
        let root = self.root.to_string_lossy();
        let program = self.program.to_string_lossy();
        s.replace(&*program, "<NINJA>").replace(&*root, "<ROOT>")
    }

    /// `<program> -C build -j2 <args>`, with NINJA_STATUS set to `status`
    /// (or removed when `None`).
    pub fn ninja(&self, args: &[&str], status: Option<&str>) -> Output {
        let mut cmd = Command::new(&self.program);
        cmd.arg("-C")
            .arg("build")
            .arg(JOBS)
            .args(args)
            .current_dir(&self.root);
        match status {
            Some(s) => cmd.env("NINJA_STATUS", s),
            None => cmd.env_remove("NINJA_STATUS"),
        };
        cmd.output()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.program.display()))
    }

    /// Asserts that `out`, of `what` run in this tree, is a success.
    fn assert_ok(&self, out: &Output, what: &str) {
        assert!(
            out.status.success(),
            "[{}] {what} failed ({:?}):\n{}",
            self.label,
            out.status,
            text(out)
        );
    }

    /// Builds the default target and asserts success.
    pub fn build_ok(&self) -> Output {
        let out = self.ninja(&[], None);
        self.assert_ok(&out, "build");
        out
    }

    /// Builds with `-v` and an empty NINJA_STATUS, asserts success, and
    /// returns the normalised command lines that ran (sorted, duplicates kept).
    pub fn build_commands(&self) -> Vec<String> {
        let out = self.ninja(&["-v"], Some(""));
        self.assert_ok(&out, "verbose build");
        let mut cmds: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter(|l| !l.contains(": Entering directory `") && !l.ends_with(": no work to do."))
            .map(|l| self.normalize(l))
            .collect();
        cmds.sort();
        cmds
    }

    /// Asserts that building again does nothing: the output is the
    /// `<prog>: no work to do.` line (plus the `Entering directory` line).
    pub fn assert_no_op(&self) {
        let out = self.ninja(&[], None);
        self.assert_ok(&out, "no-op build");
        let all = text(&out);
        let lines: Vec<&str> = all
            .lines()
            .filter(|l| !l.contains(": Entering directory `"))
            .collect();
        assert!(
            lines.len() == 1 && lines[0].ends_with(": no work to do."),
            "[{}] expected `<prog>: no work to do.`, got:\n{all}",
            self.label
        );
    }

    /// Runs a `-t` tool from inside the build directory (no `-C`, so no
    /// `Entering directory` line) and returns its normalised, sorted lines.
    pub fn tool_lines(&self, args: &[&str]) -> Vec<String> {
        let out = run(&self.build_dir(), &self.program, args);
        self.assert_ok(&out, &format!("{args:?}"));
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| self.normalize(l))
            .collect();
        lines.sort();
        lines
    }

    /// Runs a program built in this tree and returns its stdout.
    pub fn run_program(&self, name: &str, args: &[&str]) -> String {
        let out = run(&self.build_dir(), &self.build_dir().join(name), args);
        self.assert_ok(&out, name);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Files, symlinks and directories under build/, relative, excluding
    /// the build programs' own state files (see `is_bookkeeping`).
    pub fn outputs(&self) -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        walk(&self.build_dir(), Path::new(""), &mut set);
        set
    }

    pub fn write_src(&self, rel: &str, content: &str) {
        fs::write(self.src().join(rel), content).unwrap();
    }

    pub fn read_src(&self, rel: &str) -> String {
        fs::read_to_string(self.src().join(rel)).unwrap()
    }
}

/// Build-program state that legitimately differs between implementations.
/// Everything else under build/ (objects, depfile leftovers, CMakeFiles
/// contents, symlinks) must exist in both trees.
pub fn is_bookkeeping(rel: &str) -> bool {
    rel == ".ninja_log" || rel == ".ninja_deps" || rel.starts_with(".ggninja")
}

pub fn walk(dir: &Path, rel: &Path, set: &mut BTreeSet<String>) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let rel = rel.join(entry.file_name());
        let rel_s = rel.to_string_lossy().into_owned();
        if is_bookkeeping(&rel_s) {
            continue;
        }
        let ft = entry.file_type().unwrap();
        if ft.is_symlink() {
            let target = fs::read_link(entry.path()).unwrap();
            set.insert(format!("{rel_s} -> {}", target.display()));
        } else if ft.is_dir() {
            set.insert(format!("{rel_s}/"));
            walk(&entry.path(), &rel, set);
        } else {
            set.insert(rel_s);
        }
    }
}

/// Both copies of the fixture, configured. Holds the temp dir and the lock.
pub struct Pair {
    pub a: Tree,
    pub b: Tree,
    _tmp: tempfile::TempDir,
    _guard: MutexGuard<'static, ()>,
}

/// Copies `fixtures/<fixture>` twice and configures tree A with ninja and
/// tree B with ggninja. Returns `None` (test skipped) when one of `tools`
/// (or ninja) is missing.
pub fn setup(fixture: &str, tools: &[&str]) -> Option<Pair> {
    let ninja = require_tool("ninja")?;
    setup_against(fixture, tools, ninja)
}

/// `setup` with `ninja` as tree A's build program.
pub fn setup_against(fixture: &str, tools: &[&str], ninja: PathBuf) -> Option<Pair> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for tool in tools {
        require_tool(tool)?;
    }
    let tmp = tempfile::tempdir().unwrap();
    // Canonical roots, so the paths CMake writes match the ones we normalise.
    let base = fs::canonicalize(tmp.path()).unwrap();
    let fixture = super::fixture(fixture);
    let make_tree = |label, dir: &str, program: PathBuf| {
        let root = base.join(dir);
        copy_dir(&fixture, &root.join("src"));
        let tree = Tree {
            label,
            root,
            program,
        };
        cmake::configure(&tree.src(), &tree.build_dir(), Some(&tree.program), &[]);
        tree
    };
    let a = make_tree("ninja", "a", ninja);
    let b = make_tree("ggninja", "b", ggninja());
    Some(Pair {
        a,
        b,
        _tmp: tmp,
        _guard: guard,
    })
}

/// "Touches" `rel` (relative to src/) in both trees: gives it one mtime,
/// newer than anything in either tree (see `mtime::touch_newer`).
pub fn touch_both(pair: &Pair, rel: &str) {
    mtime::touch_newer(
        &[&pair.a.root, &pair.b.root],
        &[&pair.a.src().join(rel), &pair.b.src().join(rel)],
    );
}

/// Runs the project's tests with ctest in `tree`'s build dir: all pass.
pub fn ctest_passes(tree: &Tree) {
    let out = cmake::ctest(&tree.root, &["--test-dir", "build", "--output-on-failure"]);
    assert!(out.contains("100% tests passed"), "[{}] {out}", tree.label);
}

/// Formats the difference of two sorted lists for an assertion message.
pub fn diff(what: &str, a: &[String], b: &[String]) -> String {
    let sa: BTreeSet<_> = a.iter().collect();
    let sb: BTreeSet<_> = b.iter().collect();
    let only = |x: &BTreeSet<&String>, y: &BTreeSet<&String>| {
        x.difference(y)
            .map(|s| format!("    {s}\n"))
            .collect::<String>()
    };
    format!(
        "{what} differ (ninja: {} lines, ggninja: {} lines)\n  only with ninja:\n{}  only with ggninja:\n{}",
        a.len(),
        b.len(),
        only(&sa, &sb),
        only(&sb, &sa)
    )
}

pub fn assert_same(what: &str, ninja: &[String], gg: &[String]) {
    assert!(ninja == gg, "{}", diff(what, ninja, gg));
}

/// Builds both trees from scratch and checks that the outputs agree.
pub fn build_both(pair: &Pair) {
    pair.a.build_ok();
    pair.b.build_ok();
    let a: Vec<String> = pair.a.outputs().into_iter().collect();
    let b: Vec<String> = pair.b.outputs().into_iter().collect();
    assert_same("files under build/", &a, &b);
}

/// Touches `rel` in both trees, rebuilds both with `-v`, asserts that the
/// same commands ran, and that a further build is a no-op in both.
/// Returns the (normalised) commands for extra checks.
pub fn touch_and_compare(pair: &Pair, rel: &str) -> Vec<String> {
    touch_both(pair, rel);
    let a = pair.a.build_commands();
    let b = pair.b.build_commands();
    assert_same(&format!("commands rebuilt after touching {rel}"), &a, &b);
    pair.a.assert_no_op();
    pair.b.assert_no_op();
    a
}
