//! `--cache` with header walks kept between runs (`.ggninja_footprints`):
//! a warm rebuild after the disk changed under a kept walk restores or
//! makes exactly what a cold build (ninja, no cache) makes of the same
//! tree. The compile reads `VALUE` from `<lib.h>`, searched in `inc1`,
//! then `inc2`: which file it finds is in the object's bytes.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{ggninja, require_tool, text};

const MANIFEST: &str = "rule cc\n  command = gcc -Iinc1 -Iinc2 -c $in -o $out\n\
    build main.o: cc main.c\n";

struct Tree {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    store: PathBuf,
    ninja: PathBuf,
}

impl Tree {
    /// main.c, inc2/lib.h (VALUE 1), an empty inc1; stamped a while ago.
    fn new() -> Option<Tree> {
        require_tool("gcc")?;
        let ninja = require_tool("ninja")?;
        let tmp = tempfile::tempdir().unwrap();
        let (dir, store) = (tmp.path().join("tree"), tmp.path().join("store"));
        for d in ["inc1", "inc2"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let main = "#include <lib.h>\n#define STR2(x) #x\n#define STR(x) STR2(x)\n\
            const char tag[] = \"VALUE=\" STR(VALUE);\n";
        std::fs::write(dir.join("main.c"), main).unwrap();
        std::fs::write(dir.join("inc2/lib.h"), "#define VALUE 1\n").unwrap();
        std::fs::write(dir.join("build.ninja"), MANIFEST).unwrap();
        let t = Tree {
            _tmp: tmp,
            dir,
            store,
            ninja,
        };
        Some(t)
    }

    /// `ggninja --cache -d explain ARGS`: (ok, output).
    fn gg(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(ggninja())
            .args(["--cache", "--store"])
            .arg(&self.store)
            .args(["-d", "explain"])
            .args(args)
            .current_dir(&self.dir)
            .env("NINJA_STATUS", "")
            .output()
            .unwrap();
        (out.status.success(), text(&out))
    }

    /// A first build whose walk is kept: the files are older than the
    /// walk by more than a clock tick's doubt (see footprint's `recall`).
    fn kept_build(&self) {
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let (ok, log) = self.gg(&[]);
        assert!(ok, "{log}");
        assert!(self.dir.join(".ggninja_footprints").exists(), "{log}");
    }

    /// `-t clean`, then a warm build: (ok, output, main.o).
    fn warm(&self) -> (bool, String, Option<Vec<u8>>) {
        let out = Command::new(ggninja())
            .args(["-t", "clean"])
            .current_dir(&self.dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let (ok, log) = self.gg(&[]);
        (ok, log, std::fs::read(self.dir.join("main.o")).ok())
    }

    /// What ninja, no cache, makes of the tree as it is now: (ok, main.o).
    fn cold(&self) -> (bool, Option<Vec<u8>>) {
        let _ = std::fs::remove_file(self.dir.join("main.o"));
        let out = Command::new(&self.ninja)
            .current_dir(&self.dir)
            .output()
            .unwrap();
        (
            out.status.success(),
            std::fs::read(self.dir.join("main.o")).ok(),
        )
    }

    /// The warm rebuild equals the cold build, and it compiled (no hit).
    fn assert_rebuilt_as_cold(&self) {
        let (ok, log, warm) = self.warm();
        assert!(ok, "{log}");
        assert!(log.contains("is not memoized"), "{log}");
        let (cold_ok, cold) = self.cold();
        assert!(cold_ok);
        assert!(
            warm == cold,
            "the warm rebuild differs from ninja's:\n{log}"
        );
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.dir.join(rel), text).unwrap();
    }
}

/// The `VALUE` the object was compiled with (its `tag` string).
fn value(obj: &[u8]) -> Option<u8> {
    let at = obj.windows(6).position(|w| w == b"VALUE=")?;
    Some(obj.get(at + 6)? - b'0')
}

#[test]
fn an_unchanged_tree_is_restored_with_the_kept_walk() {
    let Some(t) = Tree::new() else { return };
    t.kept_build();
    let (ok, log, warm) = t.warm();
    assert!(ok && log.contains("reusing the outputs"), "{log}");
    assert_eq!(value(&warm.unwrap()), Some(1));
}

#[test]
fn a_header_made_earlier_in_the_chain_shadows_the_kept_one() {
    let Some(t) = Tree::new() else { return };
    t.kept_build();
    t.write("inc1/lib.h", "#define VALUE 2\n");
    t.assert_rebuilt_as_cold();
    assert_eq!(value(&t.cold().1.unwrap()), Some(2));
}

#[test]
fn a_retargeted_include_dir_symlink_is_followed() {
    let Some(t) = Tree::new() else { return };
    for (d, lib) in [("v1", None), ("v2", Some("#define VALUE 3\n"))] {
        std::fs::create_dir(t.dir.join(d)).unwrap();
        if let Some(text) = lib {
            t.write(&format!("{d}/lib.h"), text);
        }
    }
    std::fs::remove_dir(t.dir.join("inc1")).unwrap();
    std::os::unix::fs::symlink("v1", t.dir.join("inc1")).unwrap();
    t.kept_build();
    std::fs::remove_file(t.dir.join("inc1")).unwrap();
    std::os::unix::fs::symlink("v2", t.dir.join("inc1")).unwrap();
    t.assert_rebuilt_as_cold();
    assert_eq!(value(&t.cold().1.unwrap()), Some(3));
}

#[test]
fn an_edited_header_is_compiled_again() {
    let Some(t) = Tree::new() else { return };
    t.kept_build();
    // The same size: only the stamps tell.
    t.write("inc2/lib.h", "#define VALUE 4\n");
    t.assert_rebuilt_as_cold();
    assert_eq!(value(&t.cold().1.unwrap()), Some(4));
}

#[test]
fn a_deleted_header_fails_the_build_as_it_does_ninjas() {
    let Some(t) = Tree::new() else { return };
    t.kept_build();
    std::fs::remove_file(t.dir.join("inc2/lib.h")).unwrap();
    let (ok, log, warm) = t.warm();
    assert!(!ok && warm.is_none(), "{log}");
    assert!(log.contains("lib.h"), "{log}");
    assert_eq!(t.cold(), (false, None));
}

#[test]
fn a_damaged_saved_walk_is_ignored() {
    let Some(t) = Tree::new() else { return };
    t.kept_build();
    let saved = t.dir.join(".ggninja_footprints");
    let full = std::fs::read(&saved).unwrap();
    let damages = [
        full[..full.len() / 2].to_vec(),
        b"ggninja-footprints 2\n\x00\xffgarbage\n[[\n".to_vec(),
        b"\x00\x01".to_vec(),
        [
            &full[..21],
            b"\x05\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff",
        ]
        .concat(),
    ];
    for (n, damaged) in damages.iter().enumerate() {
        std::fs::write(&saved, damaged).unwrap();
        // A value never built: the rebuild cannot be a hit.
        t.write("inc1/lib.h", &format!("#define VALUE {}\n", n + 5));
        t.assert_rebuilt_as_cold();
        std::fs::remove_file(t.dir.join("inc1/lib.h")).unwrap();
        let (ok, log, warm) = t.warm();
        assert!(ok && log.contains("reusing the outputs"), "{log}");
        assert_eq!(value(&warm.unwrap()), Some(1));
    }
}

/// Files and dirs stamped within the clock tick of a walk may change
/// again without their stamps showing it: such a walk keeps its files by
/// their bytes (an edit, however soon, is seen), and a dir is looked into
/// again by name.
#[test]
fn a_walk_of_files_changed_in_its_tick_holds_by_their_bytes() {
    let Some(t) = Tree::new() else { return };
    // No wait: every file is fresh.
    let (ok, log) = t.gg(&[]);
    assert!(ok, "{log}");
    let saved = std::fs::read(t.dir.join(".ggninja_footprints")).unwrap_or_default();
    let saved = String::from_utf8_lossy(&saved);
    assert!(saved.contains("main.c"), "{saved}");
    // At once, lib.h says another value: seen.
    t.write("inc2/lib.h", "#define VALUE 2\n");
    t.assert_rebuilt_as_cold();
    assert_eq!(value(&t.cold().1.unwrap()), Some(2));
    // At once, inc1 gets a lib.h: found, whatever the stamps say.
    t.write("inc1/lib.h", "#define VALUE 6\n");
    t.assert_rebuilt_as_cold();
    assert_eq!(value(&t.cold().1.unwrap()), Some(6));
}
