//! `--cache` on make recipes that do more than run a compiler: zlib's
//! `.lo` compiles (an ignored `mkdir objs`, the compile into `objs/`, an
//! ignored `mv` to the target), its archive (an ignored `ranlib` in a
//! subshell) and its shared library (`rm -f`, `ln -s` twice, an ignored
//! `rmdir objs`); a sub-make's recipes behind `export NAME=VALUE`. A warm
//! rebuild restores them, and the tree it leaves (every file, directory
//! and symlink, their bytes, targets and modes) is what the commands leave;
//! a changed exported value is another thunk.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{copy_dir, count, fetch_source, ggninja, require_tool, text};

/// Every entry under `dir` but the logs and caches: its kind, mode and
/// bytes (a symlink's target).
fn tree(dir: &Path) -> BTreeMap<String, (char, u32, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (char, u32, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel.starts_with(".ninja_") || rel.starts_with(".ggninja_") {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            let entry = if meta.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                ('l', 0, target.to_string_lossy().into_owned().into_bytes())
            } else if meta.is_dir() {
                walk(root, &path, out);
                ('d', mode, Vec::new())
            } else {
                ('f', mode, std::fs::read(&path).unwrap())
            };
            out.insert(rel, entry);
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The entries that differ between two trees.
fn differences(
    a: &BTreeMap<String, (char, u32, Vec<u8>)>,
    b: &BTreeMap<String, (char, u32, Vec<u8>)>,
) -> Vec<String> {
    let names = a.keys().chain(b.keys());
    let mut differ: Vec<String> = names.filter(|n| a.get(*n) != b.get(*n)).cloned().collect();
    differ.dedup();
    differ
}

/// `ggninja --make ARGS` in `dir`, with the cache in `store` if given:
/// its output, which must say it succeeded.
fn gg(dir: &Path, store: Option<&Path>, args: &[&str]) -> String {
    let mut cmd = Command::new(ggninja());
    if let Some(store) = store {
        cmd.args(["--cache", "--store"]).arg(store);
    }
    let out = cmd
        .args(["--make", "-j2", "-d", "explain"])
        .args(args)
        .current_dir(dir)
        .env("NINJA_STATUS", "")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}:\n{}", text(&out));
    text(&out)
}

fn make_clean(dir: &Path) {
    let out = Command::new("make")
        .arg("clean")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// A tree under `tmp` holding `files`, and a store beside it.
fn tree_of(tmp: &Path, files: &[(&str, &str)]) -> (std::path::PathBuf, std::path::PathBuf) {
    let (dir, store) = (tmp.join("tree"), tmp.join("store"));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
    (dir, store)
}

fn reused(log: &str, output: &str) -> bool {
    log.lines().any(|l| {
        l.contains("reusing the outputs of thunk") && l.ends_with(&format!(" for {output}"))
    })
}

const LO: &[&str] = &[
    "adler32", "crc32", "deflate", "infback", "inffast", "inflate", "inftrees", "trees", "zutil",
    "compress", "uncompr", "gzclose", "gzlib", "gzread", "gzwrite",
];

#[test]
fn zlib_warm_rebuild_restores_what_its_recipes_do() {
    if require_tool("make").is_none() || require_tool("gcc").is_none() {
        return;
    }
    let Some(src) = fetch_source("zlib") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (dir, store) = (tmp.path().join("zlib"), tmp.path().join("store"));
    copy_dir(&src, &dir);
    let out = Command::new("./configure")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));

    // The whole build: run, stored, then restored.
    gg(&dir, None, &[]);
    let cold = tree(&dir);
    make_clean(&dir);
    let stored = gg(&dir, Some(&store), &[]);
    assert_eq!(count(&stored, "reusing the outputs"), 0, "{stored}");
    make_clean(&dir);
    let warm = gg(&dir, Some(&store), &[]);
    let mut hits: Vec<String> = LO.iter().map(|o| format!("{o}.lo")).collect();
    hits.extend(["libz.a", "libz.so.1.2.13"].map(String::from));
    for output in &hits {
        assert!(reused(&warm, output), "{output} not restored:\n{warm}");
    }
    assert_eq!(
        differences(&cold, &tree(&dir)),
        Vec::<String>::new(),
        "{warm}"
    );
    assert!(std::fs::read_link(dir.join("libz.so.1")).is_ok());
    assert!(
        !dir.join("objs").exists(),
        "the library's recipe removes objs"
    );

    // One `.lo` alone leaves `objs` behind, as its recipe does.
    make_clean(&dir);
    gg(&dir, None, &["adler32.lo"]);
    let cold = tree(&dir);
    assert!(dir.join("objs").is_dir());
    make_clean(&dir);
    let warm = gg(&dir, Some(&store), &["adler32.lo"]);
    assert!(reused(&warm, "adler32.lo"), "{warm}");
    assert_eq!(
        differences(&cold, &tree(&dir)),
        Vec::<String>::new(),
        "{warm}"
    );
}

#[test]
fn a_sub_makes_exported_values_are_part_of_the_key() {
    if require_tool("make").is_none() || require_tool("gcc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (dir, store) = (tmp.path().join("tree"), tmp.path().join("store"));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let top = |value: &str| format!("all:\n\t$(MAKE) -C sub V={value}\n");
    std::fs::write(dir.join("Makefile"), top("one")).unwrap();
    std::fs::write(
        dir.join("sub/Makefile"),
        "a.o: a.c\n\t$(CC) -O2 -c a.c -o a.o\n",
    )
    .unwrap();
    std::fs::write(dir.join("sub/a.c"), "int a;\n").unwrap();
    let build = || {
        let _ = std::fs::remove_file(dir.join("sub/a.o"));
        gg(&dir, Some(&store), &[])
    };
    let first = build();
    assert!(first.contains("export MAKELEVEL="), "{first}");
    assert!(first.contains("V='one'"), "{first}");
    assert!(!reused(&first, "sub/a.o"), "{first}");
    assert!(reused(&build(), "sub/a.o"));
    std::fs::write(dir.join("Makefile"), top("two")).unwrap();
    let changed = build();
    assert!(changed.contains("V='two'"), "{changed}");
    assert!(!reused(&changed, "sub/a.o"), "{changed}");
    std::fs::write(dir.join("Makefile"), top("one")).unwrap();
    assert!(reused(&build(), "sub/a.o"));
}

/// make's quiet-rule idiom, `@echo "  CC $@"` before each command: the
/// shell's `echo` only prints, so the recipe is a thunk and a hit prints
/// what the run printed.
#[test]
fn an_echo_before_the_compile_is_replayed_by_a_hit() {
    if require_tool("make").is_none() || require_tool("gcc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let makefile = "prog: a.o\n\t@echo '  LD' $@\n\t$(CC) a.o -o $@\n\
                    a.o: a.c\n\t@echo \"  CC   $@\"\n\t$(CC) -O2 -c a.c -o $@ && echo compiled\n";
    let files = [
        ("Makefile", makefile),
        ("a.c", "int main(void) { return 0; }\n"),
    ];
    let (dir, store) = tree_of(tmp.path(), &files);
    let build = || {
        for f in ["a.o", "prog"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        gg(&dir, Some(&store), &[])
    };
    let printed = |log: &str| -> Vec<String> {
        let said = |l: &&str| l.starts_with("  ") || *l == "compiled";
        log.lines().filter(said).map(String::from).collect()
    };
    let first = build();
    assert!(!reused(&first, "a.o") && !reused(&first, "prog"), "{first}");
    let warm = build();
    assert!(reused(&warm, "a.o") && reused(&warm, "prog"), "{warm}");
    assert_eq!(
        printed(&warm),
        ["  CC   a.o", "compiled", "  LD prog"],
        "{warm}"
    );
    assert_eq!(printed(&first), printed(&warm));
    let make = Command::new("make")
        .current_dir(&dir)
        .arg("-B")
        .output()
        .unwrap();
    assert_eq!(printed(&text(&make))[..2], printed(&warm)[..2]);
}

/// A recipe that writes a file besides its target (`-MMD`'s depfile, which
/// the next import reads for the header dependencies; an object compiled
/// on the way to an archive, which another recipe links) gets it back from
/// a hit: the tree a warm rebuild leaves is the one make leaves, so an
/// edited header still rebuilds and the link finds the object.
#[test]
fn a_file_a_recipe_writes_besides_its_target_comes_back_with_a_hit() {
    if require_tool("make").is_none() || require_tool("gcc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let makefile = "prog: a.o lib.a\n\t$(CC) a.o b.o -o $@\n\
                    a.o: a.c\n\t$(CC) -MMD -c a.c -o $@\n\
                    lib.a: b.c\n\t$(CC) -c b.c -o b.o && ar rcs $@ b.o\n\
                    -include a.d\n\
                    clean:\n\trm -f a.o a.d b.o lib.a prog\n";
    let files = [
        ("Makefile", makefile),
        (
            "a.c",
            "#include \"a.h\"\nint b(void);\nint main(void) { return A + b(); }\n",
        ),
        ("b.c", "int b(void) { return 0; }\n"),
    ];
    let (dir, store) = tree_of(tmp.path(), &files);
    let header = |answer: u8| {
        std::fs::write(dir.join("a.h"), format!("#define A {answer}\n")).unwrap();
    };
    header(0);
    gg(&dir, Some(&store), &[]);
    make_clean(&dir);
    let warm = gg(&dir, Some(&store), &[]);
    for (file, beside) in [("a.o", "a.d"), ("lib.a", "b.o")] {
        assert!(reused(&warm, file), "{file} not restored:\n{warm}");
        assert!(dir.join(beside).exists(), "{beside} missing:\n{warm}");
    }
    // The header's next edit rebuilds, as make would.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    header(3);
    let edited = gg(&dir, Some(&store), &[]);
    assert!(edited.contains("-c a.c -o a.o"), "{edited}");
    assert_eq!(
        Command::new(dir.join("prog")).status().unwrap().code(),
        Some(3)
    );
}

/// A `.PHONY` target's recipe never writes its target (lz4's `lz4-release`
/// copies the program up): nothing to store for it, and no reason to stop
/// storing the rest of the build.
#[test]
fn a_recipe_that_does_not_write_its_target_leaves_the_cache_on() {
    if require_tool("make").is_none() || require_tool("gcc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let makefile = "all: release prog\n.PHONY: release\n\
                    release: a.c\n\tcp a.c copy.c\n\
                    prog: a.c\n\t$(CC) a.c -o $@\n";
    let files = [
        ("Makefile", makefile),
        ("a.c", "int main(void) { return 0; }\n"),
    ];
    let (dir, store) = tree_of(tmp.path(), &files);
    let cold = gg(&dir, Some(&store), &["-j1"]);
    let release = cold.find("cp a.c copy.c").expect(&cold);
    assert!(release < cold.find("a.c -o prog").expect(&cold), "{cold}");
    assert!(!cold.contains("warning"), "{cold}");
    std::fs::remove_file(dir.join("prog")).unwrap();
    let warm = gg(&dir, Some(&store), &["-j1"]);
    assert!(reused(&warm, "prog"), "{warm}");
    assert!(warm.contains("cp a.c copy.c"), "{warm}");
}

/// lz4's archive: `cc -c` of several sources, then `ar rcs lib.a *.o`. The
/// pattern is expanded as the shell will (what is there, and what the
/// compile writes), so the recipe is a thunk whose key names every object
/// the archive takes: a warm rebuild restores the archive and the objects
/// besides it; a stray object in the directory is another key (the
/// archive then holds it, as make's does); an object another recipe writes
/// unordered keeps the recipe local.
#[test]
fn an_archive_of_star_dot_o_is_memoized_by_what_the_pattern_matches() {
    if require_tool("make").is_none() || require_tool("gcc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let makefile = "prog: lib.a m.c\n\t$(CC) m.c lib.a -o $@\n\
                    lib.a: a.c b.c\n\t$(CC) -c a.c b.c && ar rcs $@ *.o\n\
                    clean:\n\trm -f *.o lib.a prog\n";
    let files = [
        ("Makefile", makefile),
        ("a.c", "int a(void) { return 1; }\n"),
        ("b.c", "int b(void) { return 2; }\n"),
        (
            "m.c",
            "int a(void), b(void);\nint main(void) { return a() + b(); }\n",
        ),
        ("stray.c", "int stray(void) { return 3; }\n"),
    ];
    let (dir, store) = tree_of(tmp.path(), &files);
    let members = || {
        let out = Command::new("ar")
            .arg("t")
            .arg(dir.join("lib.a"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let cold = gg(&dir, Some(&store), &[]);
    assert!(!cold.contains("runs locally"), "{cold}");
    make_clean(&dir);
    let warm = gg(&dir, Some(&store), &[]);
    assert!(reused(&warm, "lib.a") && reused(&warm, "prog"), "{warm}");
    assert!(
        dir.join("a.o").exists() && dir.join("b.o").exists(),
        "{warm}"
    );
    assert_eq!(members(), "a.o\nb.o\n");
    // A stray object: another key, and the archive takes it.
    make_clean(&dir);
    let cc = Command::new("gcc")
        .args(["-c", "stray.c"])
        .current_dir(&dir)
        .status();
    assert!(cc.unwrap().success());
    let stray = gg(&dir, Some(&store), &[]);
    assert!(!reused(&stray, "lib.a"), "{stray}");
    assert_eq!(members(), "a.o\nb.o\nstray.o\n");
    // Gone again: the first key's archive comes back.
    make_clean(&dir);
    let again = gg(&dir, Some(&store), &[]);
    assert!(reused(&again, "lib.a"), "{again}");
    assert_eq!(members(), "a.o\nb.o\n");
    // Under another collation the shell may order the matches otherwise:
    // another key.
    std::fs::remove_file(dir.join("lib.a")).unwrap();
    let out = Command::new(ggninja())
        .args(["--cache", "--store"])
        .arg(&store)
        .args(["--make", "-d", "explain"])
        .current_dir(&dir)
        .env("LC_ALL", "POSIX")
        .output()
        .unwrap();
    assert!(!reused(&text(&out), "lib.a"), "{}", text(&out));
    // Another recipe writing an object there, unordered with the archive.
    let racing = format!("all: lib.a o.o\no.o: stray.c\n\t$(CC) -c stray.c -o o.o\n{makefile}");
    std::fs::write(dir.join("Makefile"), racing).unwrap();
    make_clean(&dir);
    let local = gg(&dir, Some(&store), &["all"]);
    assert!(
        local.contains("lib.a runs locally: `*.o` may match o.o"),
        "{local}"
    );
}

/// bzip2's archive recipe runs ranlib where there is one: `if ( test -f
/// ranlib || test -f /usr/bin/ranlib ... ) ; then ... ; fi` over several
/// lines. The tests are answered as the tree is when the recipe starts,
/// every path tested that is there is an input, so the recipe is a
/// thunk: a hit prints what its `echo` printed, and a new file at a tested
/// path is another key.
#[test]
fn an_if_testing_for_ranlib_is_memoized_by_what_it_tested() {
    if require_tool("make").is_none() || require_tool("gcc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let makefile = "lib.a: a.o\n\trm -f lib.a\n\tar cq lib.a a.o\n\
                    \t@if ( test -f ranlib || test -f /usr/bin/ranlib || \\\n\
                    \t\ttest -f /bin/ranlib ) ; then \\\n\
                    \t\techo ranlib lib.a ; \\\n\t\tranlib lib.a ; \\\n\tfi\n\
                    a.o: a.c\n\t$(CC) -c a.c -o a.o\n\
                    clean:\n\trm -f a.o lib.a\n";
    let files = [
        ("Makefile", makefile),
        ("a.c", "int a(void) { return 1; }\n"),
    ];
    let (dir, store) = tree_of(tmp.path(), &files);
    let cold = gg(&dir, Some(&store), &[]);
    assert!(!cold.contains("runs locally"), "{cold}");
    make_clean(&dir);
    let warm = gg(&dir, Some(&store), &[]);
    assert!(reused(&warm, "lib.a"), "{warm}");
    assert!(warm.lines().any(|l| l == "ranlib lib.a"), "{warm}");
    // A file where the recipe looks for ranlib: another key.
    std::fs::write(dir.join("ranlib"), "").unwrap();
    make_clean(&dir);
    let tested = gg(&dir, Some(&store), &[]);
    assert!(!reused(&tested, "lib.a"), "{tested}");
}
