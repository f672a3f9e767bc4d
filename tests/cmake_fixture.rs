//! End-to-end comparison of ggninja with real ninja on a CMake project.
//!
//! Every test copies `fixtures/cmake-demo` into a temporary directory twice:
//! tree A is configured and built with real ninja, tree B with ggninja
//! (`-DCMAKE_MAKE_PROGRAM=<ggninja>`). Both trees have the same layout
//! (`<root>/src`, `<root>/build`) under different roots, and everything that
//! is compared is first normalised by replacing the root with `<ROOT>` and
//! the build program's path with `<NINJA>`.
//!
//! The tests are serialised by a lock: each one runs compilers, and running
//! several at once on a small machine only makes timing-dependent behaviour
//! (mtimes) harder to reason about.

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

    /// Runs a `-t` tool from inside the build directory (no `-C`, so no
    /// `Entering directory` line) and returns its normalised, sorted lines.
    fn tool_lines(&self, args: &[&str]) -> Vec<String> {
        let out = run(&self.build_dir(), &self.program, args);
        assert!(
            out.status.success(),
            "[{}] {:?} failed ({:?}):\n{}",
            self.label,
            args,
            out.status,
            text(&out)
        );
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| self.normalize(l))
            .collect();
        lines.sort();
        lines
    }

    /// Runs a program built in this tree and returns its stdout.
    fn run_program(&self, name: &str, args: &[&str]) -> String {
        let out = run(&self.build_dir(), &self.build_dir().join(name), args);
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
/// Everything else under build/ (objects, depfile leftovers, CMakeFiles
/// contents, symlinks) must exist in both trees.
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
    for tool in ["cmake", "ctest", "python3", "cc", "c++"] {
        require_tool(tool)?;
    }
    let ninja = require_tool("ninja")?;
    let tmp = tempfile::tempdir().unwrap();
    // Canonical roots, so the paths CMake writes match the ones we normalise.
    let base = fs::canonicalize(tmp.path()).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cmake-demo");
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

/// Touches `rel` in both trees, rebuilds both with `-v`, asserts that the
/// same commands ran, and that a further build is a no-op in both.
/// Returns the (normalised) commands for extra checks.
fn touch_and_compare(pair: &Pair, rel: &str) -> Vec<String> {
    touch_both(pair, rel);
    let a = pair.a.build_commands();
    let b = pair.b.build_commands();
    assert_same(&format!("commands rebuilt after touching {rel}"), &a, &b);
    pair.a.assert_no_op();
    pair.b.assert_no_op();
    a
}

fn count_matching(cmds: &[String], needle: &str) -> usize {
    cmds.iter().filter(|c| c.contains(needle)).count()
}

#[test]
fn cmake_build_runs_programs_and_ctest() {
    let Some(pair) = setup() else { return };
    let b = &pair.b;

    let out = Command::new("cmake")
        .args(["--build", "build"])
        .current_dir(&b.root)
        .env_remove("NINJA_STATUS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cmake --build with ggninja failed:\n{}",
        text(&out)
    );

    assert_eq!(
        b.run_program("calc", &["3", "4", "5"]),
        "sum=12 product=60 mean=4 clamp=5\n"
    );
    assert_eq!(
        b.run_program("greet", &["world"]),
        "HELLO, WORLD! (v1.4.2) [world|world] ..ok\n"
    );
    assert_eq!(
        b.run_program("shapeinfo", &[]),
        "  circle area=12.57 red\n  square area=9.00 green\ntriangle area=10.00 blue\n"
    );
    assert_eq!(
        b.run_program("palette", &[]),
        "4 colors: red=#ff0000 green=#00ff00 blue=#0000ff yellow=#ffff00\n"
    );
    let manifest = fs::read_to_string(b.build_dir().join("manifest.txt")).unwrap();
    assert_eq!(
        manifest,
        "CMakeDemo 1.4.2\nprograms: calc greet shapeinfo palette\n"
    );

    // Same outputs as a ninja build of tree A (before ctest adds Testing/).
    pair.a.build_ok();
    let a_out: Vec<String> = pair.a.outputs().into_iter().collect();
    let b_out: Vec<String> = b.outputs().into_iter().collect();
    assert_same("files under build/", &a_out, &b_out);
    for generated in [
        "generated/colors.h",
        "generated/colors.stamp",
        "generated/demo_config.h",
    ] {
        let read = |t: &Tree| fs::read_to_string(t.build_dir().join(generated)).unwrap();
        assert_eq!(read(&pair.a), read(b), "{generated} differs");
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
fn touching_common_header_rebuilds_like_ninja() {
    let Some(pair) = setup() else { return };
    build_both(&pair);
    let cmds = touch_and_compare(&pair, "include/common.h");
    // Sanity check of the harness: most objects and every program rebuilt.
    assert!(
        count_matching(&cmds, " -c ") >= 15,
        "too few compiles:\n{}",
        cmds.join("\n")
    );
    assert!(
        count_matching(&cmds, "-o calc ") == 1,
        "calc not relinked:\n{}",
        cmds.join("\n")
    );
}

#[test]
fn touching_rare_header_rebuilds_like_ninja() {
    let Some(pair) = setup() else { return };
    build_both(&pair);
    let cmds = touch_and_compare(&pair, "include/rare.h");
    // stats.c and shapeinfo.cpp only, plus the archives/links downstream.
    assert_eq!(
        count_matching(&cmds, " -c "),
        2,
        "expected 2 compiles:\n{}",
        cmds.join("\n")
    );
}

#[test]
fn touching_generator_input_rebuilds_like_ninja() {
    let Some(pair) = setup() else { return };
    build_both(&pair);

    // Same content, newer mtime: the generator and the manifest re-run, but
    // colors.h is left alone, so with `restat = 1` nothing that includes it
    // is recompiled.
    let cmds = touch_and_compare(&pair, "data/colors.txt");
    assert_eq!(
        count_matching(&cmds, "gen_colors.py"),
        1,
        "{}",
        cmds.join("\n")
    );
    assert_eq!(
        count_matching(&cmds, " -c "),
        0,
        "restat should prune compiles:\n{}",
        cmds.join("\n")
    );

    // New content: colors.h changes and its includers are recompiled.
    for tree in [&pair.a, &pair.b] {
        let data = tree.read_src("data/colors.txt");
        tree.write_src(
            "data/colors.txt",
            &data.replace("yellow  ffff00", "purple  800080"),
        );
    }
    let cmds = touch_and_compare(&pair, "data/colors.txt");
    assert_eq!(
        count_matching(&cmds, " -c "),
        3,
        "expected 3 compiles:\n{}",
        cmds.join("\n")
    );
    assert!(pair
        .b
        .run_program("palette", &[])
        .contains("purple=#800080"));
}

#[test]
fn editing_cmakelists_reruns_cmake() {
    let Some(pair) = setup() else { return };
    build_both(&pair);
    for tree in [&pair.a, &pair.b] {
        let mut lists = tree.read_src("CMakeLists.txt");
        lists.push_str("# edited by the test\n");
        tree.write_src("CMakeLists.txt", &lists);
    }
    touch_both(&pair, "CMakeLists.txt");
    for tree in [&pair.a, &pair.b] {
        let out = tree.build_ok();
        let all = text(&out);
        assert!(
            all.contains("Re-running CMake") && all.contains("-- Generating done"),
            "[{}] build did not re-run CMake:\n{all}",
            tree.label
        );
        tree.assert_no_op();
    }
}

#[test]
fn compile_error_fails_like_ninja() {
    let Some(pair) = setup() else { return };
    build_both(&pair);
    let rel = "src/strutil/pad.cpp";
    let original = pair.a.read_src(rel);
    for tree in [&pair.a, &pair.b] {
        tree.write_src(rel, &format!("{original}\nthis is not C++;\n"));
    }
    touch_both(&pair, rel);

    let failed = |tree: &Tree| -> Vec<String> {
        let out = tree.ninja(&[], None);
        let all = text(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "[{}] exit status {:?}:\n{all}",
            tree.label,
            out.status
        );
        all.lines()
            .filter(|l| l.starts_with("FAILED: "))
            .map(|l| tree.normalize(l.trim_end()))
            .collect()
    };
    let a = failed(&pair.a);
    let b = failed(&pair.b);
    assert!(
        a.len() == 1 && a[0].contains("CMakeFiles/strutil.dir/src/strutil/pad.cpp.o"),
        "unexpected ninja failure lines: {a:?}"
    );
    assert_same("FAILED: lines", &a, &b);

    // Fixing the source makes both build again.
    for tree in [&pair.a, &pair.b] {
        tree.write_src(rel, &original);
    }
    touch_both(&pair, rel);
    let a = pair.a.build_commands();
    let b = pair.b.build_commands();
    assert_same("commands after fixing the error", &a, &b);
    pair.b.assert_no_op();
}

#[test]
fn tools_commands_and_targets_match_ninja() {
    let Some(pair) = setup() else { return };
    for args in [&["-t", "commands"][..], &["-t", "targets", "all"][..]] {
        let a = pair.a.tool_lines(args);
        let b = pair.b.tool_lines(args);
        assert!(!a.is_empty(), "ninja {args:?} printed nothing");
        assert_same(&format!("`{}` lines", args.join(" ")), &a, &b);
    }
}
