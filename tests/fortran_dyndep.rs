//! End-to-end check of `dyndep` on a real CMake Fortran project.
//!
//! CMake's Ninja generator builds Fortran with ninja's `dyndep` feature:
//! each source is preprocessed and scanned, the scan results of a target are
//! collated into `CMakeFiles/<target>.dir/Fortran.dd`, and every compile edge
//! carries `dyndep = .../Fortran.dd`, which adds the `.mod` files it
//! produces (implicit outputs, with `restat = 1`) and the ones it needs
//! (implicit inputs) at build time.
//!
//! Like tests/cmake_fixture.rs, every test copies `fixtures/fortran-modules`
//! into a temporary directory twice: tree A is configured and built with real
//! ninja, tree B with ggninja (`-DCMAKE_MAKE_PROGRAM=<ggninja>`). Both trees
//! have the same layout (`<root>/src`, `<root>/build`) under different roots,
//! and everything compared is first normalised by replacing the root with
//! `<ROOT>` and the build program's path with `<NINJA>`. The tests are
//! serialised by a lock.

mod common;

use common::copy_dir;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use common::{ggninja, require_tool, run, text};

static SERIAL: Mutex<()> = Mutex::new(());

/// Parallelism passed to every build, so both programs get the same load.
const JOBS: &str = "-j2";

/// The source defining `kinds`, the module every other source `use`s.
const MOST_USED: &str = "src/core/kinds.f90";

/// What `fstats` prints (also checked by the fixture's ctest test).
const EXPECTED_OUTPUT: &str = "n=5 sum=15.00 mean=3.00 norm=7.42 max=5.00\n";

/// The Fortran sources of the fixture: one compile command each.
const SOURCES: [&str; 5] = [
    "kinds.f90",
    "vec_ops.f90",
    "stats.f90",
    "report.f90",
    "main.f90",
];

/// One copy of the fixture plus the program that builds it.
struct Tree {
    label: &'static str,
    root: PathBuf,
    /// The build program (ninja or ggninja), as given to CMake.
    program: PathBuf,
}

impl Tree {
    fn src(&self) -> PathBuf {
        self.root.join("src")
    }

    fn build_dir(&self) -> PathBuf {
        self.root.join("build")
    }

    /// Replaces this tree's root and build program with placeholders.
    fn normalize(&self, s: &str) -> String {
        let root = self.root.to_string_lossy();
        let program = self.program.to_string_lossy();
        s.replace(&*program, "<NINJA>").replace(&*root, "<ROOT>")
    }

    /// `<program> -C build -j2 <args>`, with NINJA_STATUS set to `status`
    /// (or removed when `None`).
    fn ninja(&self, args: &[&str], status: Option<&str>) -> Output {
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

    /// Builds the default target and asserts success.
    fn build_ok(&self) -> Output {
        let out = self.ninja(&[], None);
        assert!(
            out.status.success(),
            "[{}] build failed ({:?}):\n{}",
            self.label,
            out.status,
            text(&out)
        );
        out
    }

    /// Builds with `-v` and an empty NINJA_STATUS, asserts success, and
    /// returns the normalised command lines that ran (sorted, duplicates kept).
    fn build_commands(&self) -> Vec<String> {
        let out = self.ninja(&["-v"], Some(""));
        assert!(
            out.status.success(),
            "[{}] verbose build failed ({:?}):\n{}",
            self.label,
            out.status,
            text(&out)
        );
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
    fn assert_no_op(&self) {
        let out = self.ninja(&[], None);
        let all = text(&out);
        assert!(
            out.status.success(),
            "[{}] no-op build failed ({:?}):\n{all}",
            self.label,
            out.status
        );
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

    /// Runs a program built in this tree and returns its stdout.
    fn run_program(&self, name: &str) -> String {
        let out = run(&self.build_dir(), &self.build_dir().join(name), &[]);
        assert!(
            out.status.success(),
            "[{}] {name} failed:\n{}",
            self.label,
            text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Files, symlinks and directories under build/, relative, excluding
    /// the build programs' own state files (see `is_bookkeeping`).
    fn outputs(&self) -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        walk(&self.build_dir(), Path::new(""), &mut set);
        set
    }

    fn write_src(&self, rel: &str, content: &str) {
        fs::write(self.src().join(rel), content).unwrap();
    }

    fn read_src(&self, rel: &str) -> String {
        fs::read_to_string(self.src().join(rel)).unwrap()
    }
}

/// Build-program state that legitimately differs between implementations.
fn is_bookkeeping(rel: &str) -> bool {
    rel == ".ninja_log" || rel == ".ninja_deps" || rel.starts_with(".ggninja")
}

fn walk(dir: &Path, rel: &Path, set: &mut BTreeSet<String>) {
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
struct Pair {
    a: Tree,
    b: Tree,
    _tmp: tempfile::TempDir,
    _guard: MutexGuard<'static, ()>,
}

/// Copies the fixture twice and configures tree A with ninja and tree B with
/// ggninja. Returns `None` (test skipped) when a required tool is missing.
fn setup() -> Option<Pair> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for tool in ["cmake", "ctest", "gfortran"] {
        require_tool(tool)?;
    }
    let ninja = require_tool("ninja")?;
    let tmp = tempfile::tempdir().unwrap();
    // Canonical roots, so the paths CMake writes match the ones we normalise.
    let base = fs::canonicalize(tmp.path()).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fortran-modules");
    let make_tree = |label, dir: &str, program: PathBuf| {
        let root = base.join(dir);
        copy_dir(&fixture, &root.join("src"));
        let tree = Tree {
            label,
            root,
            program,
        };
        configure(&tree);
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

fn configure(tree: &Tree) {
    let make_program = format!("-DCMAKE_MAKE_PROGRAM={}", tree.program.display());
    let out = Command::new("cmake")
        .args(["-G", "Ninja", "-S", "src", "-B", "build", &make_program])
        .current_dir(&tree.root)
        .env_remove("NINJA_STATUS")
        .output()
        .expect("running cmake");
    assert!(
        out.status.success(),
        "[{}] cmake configure failed ({:?}):\n{}",
        tree.label,
        out.status,
        text(&out)
    );
}

fn newest_mtime(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = fs::symlink_metadata(entry.path()).unwrap();
        let t = if meta.is_dir() {
            newest_mtime(&entry.path())
        } else {
            meta.modified().unwrap()
        };
        newest = newest.max(t);
    }
    newest
}

/// "Touches" `rel` (relative to src/) in both trees: gives it an mtime
/// clearly newer than anything in either tree (1.5 s past the newest file
/// or now, whichever is later), then waits until that moment has passed so
/// that whatever is rebuilt afterwards is newer still.
fn touch_both(pair: &Pair, rel: &str) {
    let newest = newest_mtime(&pair.a.root)
        .max(newest_mtime(&pair.b.root))
        .max(SystemTime::now());
    let stamp = newest + Duration::from_millis(1500);
    for tree in [&pair.a, &pair.b] {
        let f = fs::File::options()
            .write(true)
            .open(tree.src().join(rel))
            .unwrap();
        f.set_modified(stamp).unwrap();
    }
    while SystemTime::now() <= stamp + Duration::from_millis(50) {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Formats the difference of two sorted lists for an assertion message.
fn diff(what: &str, a: &[String], b: &[String]) -> String {
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

fn assert_same(what: &str, ninja: &[String], gg: &[String]) {
    assert!(ninja == gg, "{}", diff(what, ninja, gg));
}

/// Builds both trees from scratch and checks that the outputs agree.
fn build_both(pair: &Pair) {
    pair.a.build_ok();
    pair.b.build_ok();
    let a: Vec<String> = pair.a.outputs().into_iter().collect();
    let b: Vec<String> = pair.b.outputs().into_iter().collect();
    assert_same("files under build/", &a, &b);
}

/// The compile commands (`-c <source>-pp.f90`) among `cmds`, as the
/// basenames of the Fortran sources they compile, sorted.
fn compiled_sources(cmds: &[String]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = SOURCES
        .iter()
        .copied()
        .filter(|src| {
            let needle = format!("/{src}-pp.f90 -o ");
            cmds.iter()
                .any(|c| c.contains(" -c ") && c.contains(&needle))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn fortran_build_uses_dyndep_and_passes_ctest() {
    let Some(pair) = setup() else { return };
    let b = &pair.b;

    // The feature under test is really exercised.
    for tree in [&pair.a, b] {
        let manifest = fs::read_to_string(tree.build_dir().join("build.ninja")).unwrap();
        let dyndeps = manifest
            .lines()
            .filter(|l| l.trim_start().starts_with("dyndep = "))
            .count();
        assert_eq!(
            dyndeps,
            SOURCES.len(),
            "[{}] expected one `dyndep =` binding per Fortran compile",
            tree.label
        );
    }

    build_both(&pair);
    for tree in [&pair.a, b] {
        for dd in ["core", "stats", "fstats"] {
            let p = tree
                .build_dir()
                .join(format!("CMakeFiles/{dd}.dir/Fortran.dd"));
            let dd_text = fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("[{}] {}: {e}", tree.label, p.display()));
            assert!(dd_text.starts_with("ninja_dyndep_version = 1"), "{dd_text}");
        }
        for module in ["kinds.mod", "vec_ops.mod", "stats.mod", "report.mod"] {
            assert!(
                tree.build_dir().join(module).is_file(),
                "[{}] {module} missing",
                tree.label
            );
        }
        assert_eq!(tree.run_program("fstats"), EXPECTED_OUTPUT);
    }

    // A second build does nothing.
    pair.a.assert_no_op();
    b.assert_no_op();

    let out = run(
        &b.root,
        Path::new("ctest"),
        &["--test-dir", "build", "--output-on-failure"],
    );
    assert!(
        out.status.success(),
        "ctest failed in the ggninja tree:\n{}",
        text(&out)
    );
    assert!(text(&out).contains("100% tests passed"), "{}", text(&out));
}

#[test]
fn touching_most_used_module_rebuilds_like_ninja() {
    let Some(pair) = setup() else { return };
    build_both(&pair);
    touch_both(&pair, MOST_USED);
    let a = pair.a.build_commands();
    let b = pair.b.build_commands();
    assert_same(
        &format!("commands rebuilt after touching {MOST_USED}"),
        &a,
        &b,
    );
    // Sanity check of the harness: kinds.f90 itself is recompiled. (Its
    // module interface is unchanged, so gfortran leaves kinds.mod alone and
    // `restat = 1` from the dyndep file spares the modules that use it.)
    assert!(
        compiled_sources(&a).contains(&"kinds.f90"),
        "kinds.f90 not recompiled:\n{}",
        a.join("\n")
    );
    pair.a.assert_no_op();
    pair.b.assert_no_op();
    for tree in [&pair.a, &pair.b] {
        assert_eq!(tree.run_program("fstats"), EXPECTED_OUTPUT);
    }
}

#[test]
fn editing_module_interface_rebuilds_users() {
    let Some(pair) = setup() else { return };
    build_both(&pair);

    // A new public function changes kinds.mod, so every user of `kinds`
    // must be recompiled after it (an ordering only the dyndep files give).
    for tree in [&pair.a, &pair.b] {
        let src = tree.read_src(MOST_USED);
        let src = src
            .replace("  public :: fmt2\n", "  public :: fmt2, twice\n")
            .replace(
                "end module kinds\n",
                "\n  pure function twice(x) result(y)\n    real(wp), intent(in) :: x\n    real(wp) :: y\n    y = 2 * x\n  end function twice\nend module kinds\n",
            );
        assert!(src.contains("function twice"), "edit did not apply");
        tree.write_src(MOST_USED, &src);
    }
    touch_both(&pair, MOST_USED);
    let a = pair.a.build_commands();
    let b = pair.b.build_commands();
    assert_eq!(
        compiled_sources(&a),
        {
            let mut all = SOURCES.to_vec();
            all.sort();
            all
        },
        "ninja should recompile every source:\n{}",
        a.join("\n")
    );
    assert_same(
        &format!("commands rebuilt after editing {MOST_USED}"),
        &a,
        &b,
    );
    for tree in [&pair.a, &pair.b] {
        assert_eq!(tree.run_program("fstats"), EXPECTED_OUTPUT);
        tree.assert_no_op();
    }
    let a_out: Vec<String> = pair.a.outputs().into_iter().collect();
    let b_out: Vec<String> = pair.b.outputs().into_iter().collect();
    assert_same("files under build/", &a_out, &b_out);
}
