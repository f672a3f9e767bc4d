//! Real Makefile projects from Debian's sources, built by `make -j2` and by
//! `ggninja --make -j2` in turn at the same path (so compilers that embed
//! paths produce identical bytes): the same outputs byte for byte, the
//! project's own tests passing on ggninja's result, a second run doing
//! what make's does (nothing, but for phony targets' recipes), and after
//! touching one source the same files rebuilt.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use common::{copy_dir, fetch_source, files, ggninja, require_tool, text};

/// What one program's build left in the tree.
#[derive(Debug)]
struct Built {
    /// Files the build created, with their contents.
    outputs: BTreeMap<String, Vec<u8>>,
    /// Files rewritten by running the build again at once (phony targets'
    /// recipes run every time, under make too).
    again: BTreeSet<String>,
    /// Files rewritten by the rebuild after touching the source.
    rebuilt: BTreeSet<String>,
}

struct Project {
    package: &'static str,
    /// Run before building (`./configure`).
    prepare: &'static [&'static str],
    goals: &'static [&'static str],
    /// The project's own tests, run on the result.
    test_goal: Option<&'static str>,
    touch: &'static str,
}

#[derive(Clone, Copy, PartialEq)]
enum Program {
    Make,
    Ggninja,
}

fn build(project: &Project, src: &Path, work: &Path, program: Program) -> Built {
    let _ = fs::remove_dir_all(work);
    copy_dir(src, work);
    if !project.prepare.is_empty() {
        let out = Command::new(project.prepare[0])
            .args(&project.prepare[1..])
            .current_dir(work)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let before = files(work);
    run(work, program, project.goals);
    let outputs = files(work)
        .into_iter()
        .filter(|f| !before.contains(f) && !f.starts_with(".ninja_") && !f.starts_with(".ggninja_"))
        .map(|f| {
            let bytes = fs::read(work.join(&f)).unwrap_or_default();
            (f, bytes)
        })
        .collect();
    if let Some(goal) = project.test_goal {
        run(work, program, &[goal]);
    }
    let (again, said) = rewritten_by(work, || run(work, program, project.goals));
    if program == Program::Ggninja && again.is_empty() {
        assert!(said.contains("no work to do"), "second run:\n{said}");
    }
    let (rebuilt, _) = rewritten_by(work, || {
        let later = SystemTime::now() + Duration::from_secs(10);
        let file = fs::File::options()
            .write(true)
            .open(work.join(project.touch))
            .unwrap();
        file.set_modified(later).unwrap();
        run(work, program, project.goals)
    });
    let rebuilt = rebuilt.into_iter().filter(|f| f != project.touch).collect();
    Built {
        outputs,
        again,
        rebuilt,
    }
}

/// The files `step` rewrote (by mtime), and what it printed.
fn rewritten_by(work: &Path, step: impl FnOnce() -> String) -> (BTreeSet<String>, String) {
    let mtimes = |dir: &Path| -> BTreeMap<String, SystemTime> {
        files(dir)
            .into_iter()
            .filter(|f| !f.starts_with(".ninja_") && !f.starts_with(".ggninja_"))
            .filter_map(|f| Some((f.clone(), fs::metadata(dir.join(&f)).ok()?.modified().ok()?)))
            .collect()
    };
    let before = mtimes(work);
    let said = step();
    let changed = mtimes(work)
        .into_iter()
        .filter(|(f, t)| before.get(f) != Some(t))
        .map(|(f, _)| f)
        .collect();
    (changed, said)
}

fn run(work: &Path, program: Program, goals: &[&str]) -> String {
    let mut cmd = match program {
        Program::Make => Command::new("make"),
        Program::Ggninja => {
            let mut c = Command::new(ggninja());
            c.arg("--make");
            c
        }
    };
    let out = cmd
        .arg("-j2")
        .args(goals)
        .current_dir(work)
        .output()
        .unwrap();
    assert!(out.status.success(), "{goals:?}:\n{}", text(&out));
    text(&out)
}

fn compare(project: Project) {
    if require_tool("make").is_none() || require_tool("gcc").is_none() {
        return;
    }
    let Some(src) = fetch_source(project.package) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let work: PathBuf = dir.path().join(project.package);
    let by_make = build(&project, &src, &work, Program::Make);
    let by_ggninja = build(&project, &src, &work, Program::Ggninja);
    assert!(
        by_make.outputs.len() > 5,
        "make built {:?}",
        by_make.outputs.keys()
    );
    let names = |b: &Built| b.outputs.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(names(&by_make), names(&by_ggninja), "the same files");
    let differ: Vec<&String> = by_make
        .outputs
        .iter()
        .filter(|(f, bytes)| by_ggninja.outputs.get(*f) != Some(bytes))
        .map(|(f, _)| f)
        .collect();
    assert!(differ.is_empty(), "contents differ: {differ:?}");
    assert_eq!(by_make.again, by_ggninja.again, "rewritten by a second run");
    assert_eq!(
        by_make.rebuilt, by_ggninja.rebuilt,
        "rebuilt after touching {}",
        project.touch
    );
    assert!(!by_ggninja.rebuilt.is_empty());
}

#[test]
fn bzip2_plain_makefile() {
    compare(Project {
        package: "bzip2",
        prepare: &[],
        goals: &["libbz2.a", "bzip2", "bzip2recover"],
        // bzip2's own round trips over its sample files.
        test_goal: Some("test"),
        touch: "huffman.c",
    });
}

#[test]
fn zlib_configure_and_makefile() {
    compare(Project {
        package: "zlib",
        prepare: &["./configure"],
        goals: &[],
        test_goal: Some("test"),
        touch: "inflate.c",
    });
}

#[test]
fn lz4_recursive_make_c() {
    compare(Project {
        package: "lz4",
        prepare: &[],
        goals: &[],
        test_goal: None,
        touch: "lib/lz4.c",
    });
}

/// Lua's own makefiles (Debian's build-system and module-path patches
/// taken back out: they need libtool and a generated header): the
/// top level runs `cd src && $(MAKE) linux`, which runs `$(MAKE) all` with
/// command-line variables; every object comes from make's built-in rule.
#[test]
fn lua_recursive_make_built_in_rules() {
    compare(Project {
        package: "lua5.4",
        prepare: &[
            "sh",
            "-c",
            "patch -R -p1 -i debian/patches/0002-lua-modules-paths.patch && \
             patch -R -p1 -i debian/patches/0001-build-system.patch",
        ],
        goals: &["linux"],
        // `./lua -v` in src.
        test_goal: Some("test"),
        touch: "src/lvm.c",
    });
}
