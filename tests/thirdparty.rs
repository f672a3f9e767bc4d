//! Differential builds of real third-party CMake projects: libgit2 and
//! libarchive, fetched from Debian's source packages at test time (nothing
//! third-party is committed; see scripts/fetch-source.sh).
//!
//! For each project one copy of the source is configured twice with
//! `cmake -G Ninja` and identical options except `CMAKE_MAKE_PROGRAM`: one
//! build dir is built with real `ninja`, the other with ggninja. The test
//! asserts that
//!   * both builds produce the same set of files,
//!   * `-t commands` and `-t targets all` agree as sets of lines once the two
//!     build-dir paths (and the two make programs) are normalized,
//!   * a second ggninja run is a null build,
//!   * the project's own test suite (ctest) passes on the ggninja-built tree,
//!   * touching the project's most-included header (counted from real
//!     ninja's `-t deps`) makes ggninja rerun exactly the commands ninja reruns.
//!
//! Needs cmake, ninja, a C toolchain, `apt-get source` with deb-src entries
//! and the build-deps from scripts/install-deps.sh. Outside CI a missing
//! tool or source package skips the test. Sources are cached in
//! `${GGNINJA_CACHE:-$HOME/.cache/ggninja-tests}`; set GGNINJA_KEEP_TMP=1 to
//! keep the build dirs. Run with `--test-threads=1`: each test already uses
//! every core.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{cmake, fetch_source, files, ggninja, mtime, require_tool, text};

struct Project {
    /// Debian source package name.
    name: &'static str,
    /// `-D` options, the same for both build dirs.
    cmake_options: &'static [&'static str],
    /// Extra arguments to ctest (a subset, when the full suite is too slow).
    ctest_args: fn() -> Vec<String>,
    /// Additional test programs to run in the ggninja build dir after ctest.
    extra_tests: fn() -> Vec<Vec<String>>,
}

/// libgit2 1.5.1 (Debian `+ds` tarball: the bundled deps/ are stripped, so
/// http-parser must come from the system). HTTPS/SSH/GSSAPI/NTLM are off so
/// the only build-deps are zlib1g-dev and libhttp-parser-dev; the regex
/// backend is libc's regcomp. The tests keep the custom command that runs
/// python3 tests/clar/generate.py to produce clar.suite / clar_suite.h
/// (a generated header with OBJECT_DEPENDS on clar.c).
const LIBGIT2: Project = Project {
    name: "libgit2",
    cmake_options: &[
        "-DCMAKE_BUILD_TYPE=None",
        "-DBUILD_CLI=OFF",
        "-DBUILD_TESTS=ON",
        "-DBUILD_EXAMPLES=OFF",
        "-DBUILD_FUZZERS=OFF",
        "-DUSE_HTTPS=OFF",
        "-DUSE_SSH=OFF",
        "-DUSE_GSSAPI=OFF",
        "-DUSE_NTLMCLIENT=OFF",
        "-DUSE_HTTP_PARSER=system",
        "-DREGEX_BACKEND=regcomp",
        "-DUSE_SHA1=CollisionDetection",
        "-DUSE_SHA256=Builtin",
        "-DDISABLE_ONLINE_TESTS=ON",
    ],
    ctest_args: libgit2_ctest_args,
    extra_tests: libgit2_extra_tests,
};

/// ctest registers three tests: `offline` (the whole clar suite, ~8 min on
/// 2 cores, mostly filesystem-bound), `invasive` and `util`. We run
/// `invasive` and `util` through ctest and a fast subset of `offline`
/// directly (see libgit2_extra_tests). As root, util's
/// `path::validate_current_user_ownership` fails (it asserts `/` is not
/// owned by the current user), so util then runs outside ctest without the
/// `path` suite.
fn libgit2_ctest_args() -> Vec<String> {
    let filter = if is_root() {
        "^invasive$"
    } else {
        "^(invasive|util)$"
    };
    vec!["-R".into(), filter.into()]
}

/// Top-level clar suites of `offline` that together take well under a
/// minute on 2 cores: the object database, packs, config, revwalk and the
/// small suites. Left out because they dominate the ~8 min: apply,
/// checkout, diff, merge, refs, status, submodule, and the 8-15 s ones
/// (attr, clone, commit, index, ignore, cherrypick, rebase, stash, ...).
const LIBGIT2_OFFLINE_SUBSET: &str = "blame config core date delta describe email fetchhead \
    filter graph mailmap message notes object odb pack patch path revert revwalk stream threads trace";

fn libgit2_extra_tests() -> Vec<Vec<String>> {
    let mut offline: Vec<String> = vec!["./libgit2_tests".into(), "-xonline".into()];
    offline.extend(
        LIBGIT2_OFFLINE_SUBSET
            .split_whitespace()
            .map(|s| format!("-s{s}")),
    );
    let mut tests = vec![offline];
    if is_root() {
        tests.push(vec!["./util_tests".into(), "-xpath".into()]);
    }
    tests
}

/// libarchive 3.6.2 with every optional codec/crypto/ACL library disabled:
/// the only build-dep is zlib1g-dev. Its test lists (list.h) are generated
/// at configure time, so build.ninja has no build-time custom commands
/// apart from CMake's utility targets. The full ctest suite (730 tests)
/// takes ~2.5 min with -j2 on 2 cores, so it all runs.
const LIBARCHIVE: Project = Project {
    name: "libarchive",
    cmake_options: common::LIBARCHIVE_OPTIONS,
    ctest_args: Vec::new,
    extra_tests: Vec::new,
};

#[test]
fn libgit2() {
    differential_build(&LIBGIT2);
}

#[test]
fn libarchive() {
    differential_build(&LIBARCHIVE);
}

// ---------------------------------------------------------------------------

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc_geteuid() == 0 }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

fn jobs() -> String {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .to_string()
}

fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        tail(&text(out), 200)
    );
}

fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn cmd(dir: &Path, program: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args).current_dir(dir).env_remove("NINJA_STATUS");
    c
}

fn output(mut c: Command, what: &str) -> Output {
    c.output().unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn timed<T>(label: &str, timings: &mut Vec<(String, Duration)>, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let r = f();
    let d = start.elapsed();
    eprintln!("[timing] {label}: {:.1}s", d.as_secs_f64());
    timings.push((label.to_string(), d));
    r
}

/// A build dir and the ninja-compatible program that builds it.
struct Side {
    label: &'static str,
    dir: PathBuf,
    ninja: PathBuf,
}

impl Side {
    fn ninja(&self, args: &[&str]) -> Output {
        output(
            cmd(&self.dir, &self.ninja, args),
            &format!("running {}", self.ninja.display()),
        )
    }

    fn ninja_ok(&self, args: &[&str]) -> String {
        let out = self.ninja(args);
        check(
            &out,
            &format!(
                "[{}] {} {}",
                self.label,
                self.ninja.display(),
                args.join(" ")
            ),
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Builds verbosely with an empty status line; returns the commands it
    /// ran (the printed lines that are commands of this build dir).
    fn build_verbose(&self, known: &BTreeSet<String>) -> Vec<String> {
        let mut c = cmd(&self.dir, &self.ninja, &["-v", "-j", &jobs()]);
        c.env("NINJA_STATUS", "");
        let out = output(c, "building");
        check(&out, &format!("[{}] build", self.label));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| known.contains(*l))
            .map(str::to_string)
            .collect()
    }
}

struct Normalizer {
    replacements: Vec<(String, &'static str)>,
}

impl Normalizer {
    fn new(a: &Side, b: &Side) -> Self {
        let mut replacements = vec![
            (a.dir.display().to_string(), "@BUILD@"),
            (b.dir.display().to_string(), "@BUILD@"),
            (a.ninja.display().to_string(), "@NINJA@"),
            (b.ninja.display().to_string(), "@NINJA@"),
        ];
        // Longest first so that no path is replaced inside a longer one.
        replacements.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        Normalizer { replacements }
    }

    fn line(&self, l: &str) -> String {
        let mut s = l.to_string();
        for (from, to) in &self.replacements {
            s = s.replace(from.as_str(), to);
        }
        s
    }

    fn set<'a>(&self, lines: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        lines.into_iter().map(|l| self.line(l)).collect()
    }
}

fn assert_same_sets(what: &str, ninja: &BTreeSet<String>, gg: &BTreeSet<String>) {
    if ninja == gg {
        return;
    }
    let only_ninja: Vec<_> = ninja.difference(gg).take(20).collect();
    let only_gg: Vec<_> = gg.difference(ninja).take(20).collect();
    panic!(
        "{what} differ: {} lines only with ninja, {} only with ggninja\n\
         only ninja (first 20): {only_ninja:#?}\nonly ggninja (first 20): {only_gg:#?}",
        ninja.difference(gg).count(),
        gg.difference(ninja).count(),
    );
}

/// Every file under `dir`, relative, excluding ninja's own logs and
/// ggninja's saved manifest load (and the pointer to it), deps log index
/// and remembered no-ops.
fn file_set(dir: &Path) -> BTreeSet<String> {
    let own = [
        ".ninja_log",
        ".ninja_deps",
        ".ggninja_graph",
        ".ggninja_graph_at",
        ".ggninja_deps_index",
        ".ggninja_noop",
    ];
    files(dir)
        .into_iter()
        .filter(|rel| !own.contains(&rel.as_str()))
        .collect()
}

/// Counts, over `ninja -t deps`, how many targets depend on each header of
/// the source tree, and returns the most-included one with its count.
fn most_included_header(deps: &str, build: &Path, src: &Path) -> (PathBuf, usize) {
    let mut counts: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for line in deps.lines() {
        if !line.starts_with("    ") {
            continue;
        }
        let dep = Path::new(line.trim());
        let dep = if dep.is_absolute() {
            dep.to_path_buf()
        } else {
            build.join(dep)
        };
        let is_header = dep.extension().is_some_and(|e| e == "h");
        if is_header && dep.starts_with(src) {
            *counts.entry(dep).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
        .expect("no source-tree headers in `ninja -t deps`")
}

fn differential_build(project: &Project) {
    if require_tool("cmake").is_none() {
        return;
    }
    let Some(ctest) = require_tool("ctest") else {
        return;
    };
    let Some(real_ninja) = require_tool("ninja") else {
        return;
    };
    if require_tool("apt-get").is_none() || require_tool("cc").is_none() {
        return;
    }
    let gg = ggninja();
    let name = project.name;
    let mut timings = Vec::new();

    let Some(cached) = timed(&format!("{name}: fetch source"), &mut timings, || {
        fetch_source(name)
    }) else {
        return;
    };

    let tmp = tempfile::Builder::new()
        .prefix(&format!("ggninja-{name}-"))
        .tempdir()
        .unwrap();
    let root = tmp.path().to_path_buf();
    if std::env::var_os("GGNINJA_KEEP_TMP").is_some() {
        eprintln!("keeping {}", root.display());
        std::mem::forget(tmp);
    }

    // One private copy of the source for both builds: the header touch
    // below must not dirty the shared cache.
    let src = root.join("src");
    timed(&format!("{name}: copy source"), &mut timings, || {
        let out = output(
            {
                let mut c = Command::new("cp");
                c.arg("-a").arg(&cached).arg(&src);
                c
            },
            "cp",
        );
        check(&out, "copying the source tree");
    });

    let a = Side {
        label: "ninja",
        dir: root.join("build-ninja"),
        ninja: real_ninja.clone(),
    };
    let b = Side {
        label: "ggninja",
        dir: root.join("build-ggninja"),
        ninja: gg.clone(),
    };

    // Configure both build dirs concurrently (configure is mostly serial).
    timed(
        &format!("{name}: cmake configure (both, concurrently)"),
        &mut timings,
        || {
            let children: Vec<_> = [&a, &b]
                .iter()
                .map(|side| {
                    let mut c = cmake::configure_command(
                        &src,
                        &side.dir,
                        Some(&side.ninja),
                        project.cmake_options,
                    );
                    c.stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped());
                    (side.label, c.spawn().expect("spawning cmake"))
                })
                .collect();
            for (label, child) in children {
                let out = child.wait_with_output().unwrap();
                check(&out, &format!("[{label}] cmake configure of {name}"));
            }
        },
    );

    let jobs = jobs();
    timed(
        &format!("{name}: build with ninja -j{jobs}"),
        &mut timings,
        || {
            a.ninja_ok(&["-j", &jobs]);
        },
    );
    timed(
        &format!("{name}: build with ggninja -j{jobs}"),
        &mut timings,
        || {
            b.ninja_ok(&["-j", &jobs]);
        },
    );

    // Same outputs.
    let files_a = file_set(&a.dir);
    let files_b = file_set(&b.dir);
    eprintln!("{name}: {} files in the ninja build dir", files_a.len());
    assert_same_sets("files in the build dirs", &files_a, &files_b);

    let norm = Normalizer::new(&a, &b);

    // -t commands and -t targets all.
    let cmds_a_raw = a.ninja_ok(&["-t", "commands"]);
    let cmds_b_raw = b.ninja_ok(&["-t", "commands"]);
    let cmds_a = norm.set(cmds_a_raw.lines());
    let cmds_b = norm.set(cmds_b_raw.lines());
    eprintln!("{name}: {} distinct commands", cmds_a.len());
    assert_same_sets("`-t commands`", &cmds_a, &cmds_b);

    let targets_a = norm.set(a.ninja_ok(&["-t", "targets", "all"]).lines());
    let targets_b = norm.set(b.ninja_ok(&["-t", "targets", "all"]).lines());
    eprintln!("{name}: {} lines of `-t targets all`", targets_a.len());
    assert_same_sets("`-t targets all`", &targets_a, &targets_b);

    // A second ggninja run has nothing to do.
    let known_b: BTreeSet<String> = cmds_b_raw.lines().map(str::to_string).collect();
    let known_a: BTreeSet<String> = cmds_a_raw.lines().map(str::to_string).collect();
    let rerun = b.build_verbose(&known_b);
    assert!(
        rerun.is_empty(),
        "null build with ggninja ran {} commands: {rerun:#?}",
        rerun.len()
    );

    // The project's tests pass on the ggninja-built tree.
    let test_tmp = root.join("test-tmp");
    std::fs::create_dir_all(&test_tmp).unwrap();
    timed(
        &format!("{name}: ctest on the ggninja build"),
        &mut timings,
        || {
            let mut c = Command::new(&ctest);
            c.args(["--output-on-failure", "-j", &jobs])
                .args((project.ctest_args)())
                .current_dir(&b.dir)
                .env("TMPDIR", &test_tmp)
                .env_remove("NINJA_STATUS");
            let out = output(c, "ctest");
            let t = text(&out);
            let summary = t
                .lines()
                .find(|l| l.contains("tests passed"))
                .unwrap_or("(no summary)");
            eprintln!("{name}: ctest: {summary}");
            check(&out, &format!("ctest of {name}"));
            assert!(
                !t.contains("No tests were found"),
                "ctest ran no tests:\n{t}"
            );
        },
    );
    for argv in (project.extra_tests)() {
        timed(&format!("{name}: {}", argv.join(" ")), &mut timings, || {
            let mut c = Command::new(b.dir.join(&argv[0]));
            c.args(&argv[1..])
                .current_dir(&b.dir)
                .env("TMPDIR", &test_tmp);
            let out = output(c, &argv[0]);
            check(&out, &argv.join(" "));
        });
    }

    // Touch the most-included header: both must rerun the same commands.
    let deps = a.ninja_ok(&["-t", "deps"]);
    let (header, count) = most_included_header(&deps, &a.dir, &src);
    eprintln!(
        "{name}: most-included header {} ({count} targets)",
        header.strip_prefix(&src).unwrap().display()
    );
    mtime::touch_newer(&[&a.dir, &b.dir], &[&header]);

    let rebuilt_a = timed(
        &format!("{name}: rebuild after touch, ninja"),
        &mut timings,
        || a.build_verbose(&known_a),
    );
    let rebuilt_b = timed(
        &format!("{name}: rebuild after touch, ggninja"),
        &mut timings,
        || b.build_verbose(&known_b),
    );
    let set_a = norm.set(rebuilt_a.iter().map(String::as_str));
    let set_b = norm.set(rebuilt_b.iter().map(String::as_str));
    eprintln!(
        "{name}: touching the header reran {} commands with ninja",
        set_a.len()
    );
    assert!(
        !set_a.is_empty(),
        "touching {} rebuilt nothing with ninja",
        header.display()
    );
    assert_same_sets("commands rerun after touching the header", &set_a, &set_b);
    assert_eq!(
        rebuilt_b.len(),
        set_b.len(),
        "ggninja ran some command twice"
    );

    eprintln!("\n{name} timings:");
    for (label, d) in &timings {
        eprintln!("  {:>7.1}s  {label}", d.as_secs_f64());
    }
}
