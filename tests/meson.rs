//! A Meson project built with ggninja as Meson's ninja (`NINJA`), against
//! the same project built with ninja 1.13.2: Meson reads `--version` to
//! choose what it generates and runs (at 1.12 and later it runs `-t restat`
//! and `-t cleandead` on every regeneration), so with ggninja reporting
//! 1.13.2 both build directories must get the same manifest. Then: the
//! build, `meson test`, a no-op, an edited source, and a regeneration after
//! `meson.build` changes, compared step by step. Meson comes from PyPI's
//! wheel (scripts/fetch-meson.sh) and runs from the unpacked wheel; nothing
//! is installed. The project is written here (a library, a program using
//! it, a generated header, two tests).

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use common::mtime::touch_newer;
use common::{as_ninja, ggninja, program_name, require_tool, text};

const MESON_BUILD: &str = "project('demo', 'c')
conf = configuration_data()
conf.set_quoted('GREETING', 'hello')
configure_file(output : 'config.h', configuration : conf)
lib = static_library('greet', 'greet.c')
exe = executable('demo', 'main.c', link_with : lib)
test('runs', exe)
test('says hello', exe, args : ['hello'])
";

const FILES: &[(&str, &str)] = &[
    ("greet.h", "const char *greeting(void);\n"),
    (
        "greet.c",
        "#include \"config.h\"\n#include \"greet.h\"\nconst char *greeting(void) { return GREETING; }\n",
    ),
    (
        "main.c",
        "#include <stdio.h>\n#include <string.h>\n#include \"greet.h\"\n\
         int main(int argc, char **argv) {\n  puts(greeting());\n\
         return argc > 1 && strcmp(argv[1], greeting()) != 0;\n}\n",
    ),
];

/// One copy of the project and the ninja Meson is given.
struct Tree {
    root: tempfile::TempDir,
    ninja: PathBuf,
    meson: PathBuf,
}

impl Tree {
    fn new(ninja: PathBuf, meson: PathBuf) -> Tree {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("src");
        fs::create_dir(&src).unwrap();
        fs::write(src.join("meson.build"), MESON_BUILD).unwrap();
        for (name, text) in FILES {
            fs::write(src.join(name), text).unwrap();
        }
        Tree { root, ninja, meson }
    }

    fn src(&self) -> PathBuf {
        self.root.path().join("src")
    }

    fn build_dir(&self) -> PathBuf {
        self.root.path().join("build")
    }

    /// `meson ARGS` in the tree's root, with NINJA naming the tree's ninja.
    fn meson(&self, args: &[&str]) -> Output {
        let out = Command::new("python3")
            .args(["-m", "mesonbuild.mesonmain"])
            .args(args)
            .current_dir(self.root.path())
            .env("PYTHONPATH", &self.meson)
            .env("NINJA", &self.ninja)
            .env_remove("NINJA_STATUS")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "meson {args:?} failed:\n{}",
            text(&out)
        );
        out
    }

    /// The tree's ninja in build/ (`-j1`, so the order is deterministic).
    fn ninja(&self, args: &[&str]) -> Output {
        Command::new(&self.ninja)
            .arg("-C")
            .arg(self.build_dir())
            .arg("-j1")
            .args(args)
            .env_remove("NINJA_STATUS")
            .output()
            .unwrap()
    }

    /// Normalised: the root and the ninja's path masked, timings dropped.
    fn normalize(&self, s: &str) -> String {
        let s = s
            .replace(&*self.ninja.to_string_lossy(), "<NINJA>")
            .replace(&*self.root.path().to_string_lossy(), "<ROOT>");
        let s = as_ninja(&s, &program_name(&self.ninja));
        s.lines()
            .filter(|l| !l.contains("Took ") && !l.starts_with("Full log written"))
            .map(|l| match l.find(" OK") {
                // `1/2 demo:runs   OK   0.01s`: the padding and time vary.
                Some(i) if l.starts_with(|c: char| c.is_ascii_digit()) => {
                    format!("{} OK", l[..i].trim_end())
                }
                // `Found ggninja-1.13.2 at ...`: the name and the build's suffix.
                _ if l.starts_with("Found ") && l.ends_with(" at <NINJA>") => {
                    "Found <ninja> at <NINJA>".to_string()
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Runs `f` in both trees and asserts the normalised results are equal.
fn same(what: &str, a: &Tree, b: &Tree, f: impl Fn(&Tree) -> Output) -> String {
    let run = |t: &Tree| {
        let o = f(t);
        (o.status.code(), t.normalize(&text(&o)))
    };
    let (x, y) = (run(a), run(b));
    assert_eq!(
        x, y,
        "{what}: ninja 1.13.2 (left) and ggninja (right) differ"
    );
    x.1
}

#[test]
fn meson_project_builds_and_tests_with_ggninja() {
    if require_tool("python3").is_none() || require_tool("cc").is_none() {
        return;
    }
    let Some(meson) = common::meson() else { return };
    let Some(dir) = common::ninja_113_dir() else {
        return;
    };
    let a = Tree::new(dir.join("bin/ninja"), meson.clone());
    let b = Tree::new(ggninja(), meson);

    same("meson setup", &a, &b, |t| {
        t.meson(&["setup", "build", "src"])
    });
    let log = fs::read_to_string(b.build_dir().join("meson-logs/meson-log.txt")).unwrap();
    assert!(log.contains("Found ggninja-1.13.2 at"), "{log}");
    let manifest = |t: &Tree| {
        let text = fs::read_to_string(t.build_dir().join("build.ninja")).unwrap();
        t.normalize(&text)
    };
    assert_eq!(
        manifest(&a),
        manifest(&b),
        "Meson generated different manifests"
    );

    let built = same("build", &a, &b, |t| t.ninja(&[]));
    assert!(built.contains("Linking target demo"), "{built}");
    let tested = same("meson test", &a, &b, |t| {
        t.meson(&["test", "-C", "build", "--num-processes", "1"])
    });
    assert!(tested.contains("Ok:                2"), "{tested}");
    let noop = same("no-op", &a, &b, |t| t.ninja(&[]));
    assert!(noop.contains("ninja: no work to do."), "{noop}");

    // An edited source rebuilds the same steps.
    let touch = |rel: &str| {
        let paths = [a.src().join(rel), b.src().join(rel)];
        touch_newer(&[a.root.path(), b.root.path()], &[&paths[0], &paths[1]]);
    };
    touch("greet.c");
    let rebuilt = same("after touching greet.c", &a, &b, |t| t.ninja(&[]));
    assert!(rebuilt.contains("greet.c.o"), "{rebuilt}");

    // A changed meson.build regenerates (Meson then runs `-t restat` and
    // `-t cleandead` through the same ninja) and builds what changed.
    for t in [&a, &b] {
        let text = MESON_BUILD.replace("'hello'", "'hi'");
        fs::write(t.src().join("meson.build"), text).unwrap();
    }
    touch("meson.build");
    let regen = same("after editing meson.build", &a, &b, |t| t.ninja(&[]));
    assert!(regen.contains("Regenerating build files"), "{regen}");
    assert_eq!(manifest(&a), manifest(&b), "regenerated manifests differ");
    same("meson test after regenerating", &a, &b, |t| {
        t.meson(&["test", "-C", "build", "--num-processes", "1"])
    });
    same("no-op after regenerating", &a, &b, |t| t.ninja(&[]));
    same("-t cleandead", &a, &b, |t| t.ninja(&["-t", "cleandead"]));
}
