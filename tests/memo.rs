//! `--cache`: memoized execution on a real CMake project.

mod common;

use common::copy_dir;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ggninja, require_tool, text};

struct Project {
    _tmp: tempfile::TempDir,
    src: PathBuf,
    build: PathBuf,
    store: PathBuf,
}

impl Project {
    fn new() -> Option<Project> {
        require_tool("cmake")?;
        let tmp = tempfile::tempdir().unwrap();
        let (src, build, store) = (
            tmp.path().join("src"),
            tmp.path().join("build"),
            tmp.path().join("store"),
        );
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cmake-demo"),
            &src,
        );
        let out = Command::new("cmake")
            .args(["-G", "Ninja", "-S"])
            .arg(&src)
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_MAKE_PROGRAM={}", ggninja().display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "configure: {}", text(&out));
        Some(Project {
            _tmp: tmp,
            src,
            build,
            store,
        })
    }

    /// Runs ggninja with `--cache -d explain`; returns (ok, stdout+stderr).
    fn gg(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(ggninja())
            .args(["--cache", "--store"])
            .arg(&self.store)
            .args(["-d", "explain"])
            .args(args)
            .current_dir(&self.build)
            .env("NINJA_STATUS", "")
            .output()
            .unwrap();
        (out.status.success(), text(&out))
    }

    fn clean(&self) {
        let out = Command::new(ggninja())
            .args(["-t", "clean"])
            .current_dir(&self.build)
            .output()
            .unwrap();
        assert!(out.status.success());
    }

    /// Object files and executables with their contents.
    fn products(&self) -> Vec<(String, Vec<u8>)> {
        let mut v = Vec::new();
        let mut stack = vec![self.build.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "o")
                    || ["calc", "greet", "palette", "shapeinfo"]
                        .iter()
                        .any(|n| p.ends_with(n))
                {
                    v.push((
                        p.strip_prefix(&self.build).unwrap().display().to_string(),
                        std::fs::read(&p).unwrap(),
                    ));
                }
            }
        }
        v.sort();
        v
    }

    fn ctest(&self) {
        let out = Command::new("ctest")
            .current_dir(&self.build)
            .output()
            .unwrap();
        assert!(out.status.success(), "ctest: {}", text(&out));
    }
}

fn count(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn warm_store_rebuild_restores_identical_outputs() {
    let Some(p) = Project::new() else { return };
    let (ok, cold) = p.gg(&[]);
    assert!(ok, "{cold}");
    assert_eq!(count(&cold, "reusing the outputs"), 0, "{cold}");
    let cold_products = p.products();
    assert!(
        cold_products.len() >= 16,
        "{} products",
        cold_products.len()
    );
    p.clean();
    let (ok, warm) = p.gg(&[]);
    assert!(ok, "{warm}");
    let memoizable = count(&cold, "is not memoized");
    assert!(
        memoizable >= 16,
        "only {memoizable} edges were memoizable:\n{cold}"
    );
    assert_eq!(count(&warm, "reusing the outputs"), memoizable, "{warm}");
    assert_eq!(
        p.products(),
        cold_products,
        "restored outputs differ from the built ones"
    );
    p.ctest();
    // And the tree is up to date for ggninja afterwards.
    let (ok, again) = p.gg(&[]);
    assert!(ok && again.contains("no work to do."), "{again}");
}

#[test]
fn corrupt_objects_are_never_used() {
    let Some(p) = Project::new() else { return };
    assert!(p.gg(&[]).0);
    let good = p.products();
    // Flip one byte of every stored object.
    for e in std::fs::read_dir(p.store.join("objects")).unwrap() {
        let path = e.unwrap().path();
        let mut data = std::fs::read(&path).unwrap();
        if let Some(b) = data.first_mut() {
            *b ^= 0xff;
        } else {
            data.push(1);
        }
        std::fs::write(&path, data).unwrap();
    }
    p.clean();
    let (ok, log) = p.gg(&[]);
    assert!(ok, "{log}");
    assert_eq!(
        count(&log, "reusing the outputs"),
        0,
        "a corrupt object was used:\n{log}"
    );
    assert_eq!(p.products(), good);
    p.ctest();
    // The rebuild stored good objects again.
    p.clean();
    let (ok, log) = p.gg(&[]);
    assert!(ok && count(&log, "reusing the outputs") >= 16, "{log}");
}

#[test]
fn comment_change_reruns_the_compile_and_reuses_what_follows() {
    let Some(p) = Project::new() else { return };
    assert!(p.gg(&[]).0);
    let before = p.products();
    // A comment at the end of an existing line: no line numbers move.
    let src = p.src.join("apps/calc.c");
    let text0 = std::fs::read_to_string(&src).unwrap();
    let first_newline = text0.find('\n').unwrap();
    let edited = format!(
        "{} /* comment only */{}",
        &text0[..first_newline],
        &text0[first_newline..]
    );
    std::fs::write(&src, edited).unwrap();
    let (ok, log) = p.gg(&[]);
    assert!(ok, "{log}");
    let obj = before
        .iter()
        .find(|(n, _)| n.ends_with("calc.c.o"))
        .unwrap();
    let after = p.products();
    let obj_after = after.iter().find(|(n, _)| *n == obj.0).unwrap();
    assert!(
        log.lines()
            .any(|l| l.ends_with(" for CMakeFiles/calc.dir/apps/calc.c.o is not memoized")),
        "the compile did not run:\n{log}"
    );
    // The comment changes nothing in the object, so the link's inputs are
    // the same content and the link is a hit.
    assert!(
        obj.1 == obj_after.1,
        "a comment-only edit changed {}",
        obj.0
    );
    assert!(
        log.lines()
            .any(|l| l.contains("reusing the outputs") && l.ends_with(" for calc")),
        "identical object but the link ran again:\n{log}"
    );
}

#[test]
fn an_unusable_store_only_disables_the_cache() {
    let Some(p) = Project::new() else { return };
    std::fs::write(&p.store, "not a directory").unwrap();
    let (ok, log) = p.gg(&[]);
    assert!(ok, "{log}");
    assert!(log.contains("cache disabled"), "{log}");
    p.ctest();
}
