//! What a scanner saves between runs (`Scanner::save`, `load_saved`): the
//! toolchain's answers, every scanned file's directives and every compile's
//! header walk, each reused while the files it came from are unchanged.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ggninja_footprint::{Footprint, Scanner};

/// A compiler of its own (a script running gcc), so that the test can
/// change it; a source with two project headers; a compile and a link
/// command.
fn project(dir: &Path) -> [String; 2] {
    let cc = dir.join("bin/x86_64-linux-gnu-gcc");
    std::fs::create_dir_all(cc.parent().unwrap()).unwrap();
    std::fs::write(&cc, "#!/bin/sh\nexec gcc \"$@\"\n").unwrap();
    std::fs::set_permissions(&cc, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(dir.join("include")).unwrap();
    std::fs::write(dir.join("include/a.h"), "#include \"b.h\"\n").unwrap();
    std::fs::write(dir.join("include/b.h"), "#include <stdio.h>\n").unwrap();
    std::fs::write(dir.join("include/c.h"), "#define C 1\n").unwrap();
    std::fs::write(
        dir.join("a.c"),
        "#include \"a.h\"\nint main(void) { return 0; }\n",
    )
    .unwrap();
    let cc = cc.display();
    [
        format!("{cc} -O2 -Iinclude -c a.c -o a.o"),
        format!("{cc} a.o -o a -lm"),
    ]
}

fn footprints(s: &Scanner, commands: &[String], cwd: &Path) -> Vec<Footprint> {
    let fps = commands.iter().map(|c| s.footprint(c, cwd).unwrap());
    fps.collect()
}

/// A scanner that starts from what `dir` holds.
fn loaded(dir: &Path) -> Scanner {
    let s = Scanner::new();
    s.load_saved(dir);
    s
}

#[test]
fn toolchain_answers_are_reused_until_a_file_they_came_from_changes() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let commands = project(cwd);

    let first = loaded(cwd);
    let asked = footprints(&first, &commands, cwd);
    assert!(first.toolchain_queries() > 0);
    first.save(cwd).unwrap();

    // A later run: the same footprints, and no program run to get them.
    let second = loaded(cwd);
    assert_eq!(footprints(&second, &commands, cwd), asked);
    assert_eq!(second.toolchain_queries(), 0);

    // The compiler changed: its answers are asked again.
    let cc = cwd.join("bin/x86_64-linux-gnu-gcc");
    std::fs::write(&cc, "#!/bin/sh\n# upgraded\nexec gcc \"$@\"\n").unwrap();
    let third = loaded(cwd);
    assert_eq!(footprints(&third, &commands, cwd), asked);
    assert!(third.toolchain_queries() > 0);
}

#[test]
fn a_rescan_after_a_one_file_edit_reads_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let commands = project(cwd);
    let first = loaded(cwd);
    let before = footprints(&first, &commands[..1], cwd);
    assert!(before[0].headers.contains(&PathBuf::from("include/b.h")));
    assert!(
        first.files_parsed() >= 3,
        "a.c, a.h, b.h and stdio.h's chain"
    );
    first.save(cwd).unwrap();

    let second = loaded(cwd);
    assert_eq!(footprints(&second, &commands[..1], cwd), before);
    assert_eq!(second.files_parsed(), 0);

    // b.h now includes c.h: only b.h is read again, and c.h (new to the
    // footprint) for the first time.
    std::fs::write(
        cwd.join("include/b.h"),
        "#include <stdio.h>\n#include \"c.h\"\n",
    )
    .unwrap();
    let third = loaded(cwd);
    let after = footprints(&third, &commands[..1], cwd);
    assert_eq!(third.files_parsed(), 2);
    let added: Vec<_> = after[0]
        .headers
        .iter()
        .filter(|h| !before[0].headers.contains(h))
        .collect();
    assert_eq!(added, [&PathBuf::from("include/c.h")]);
}

#[test]
fn damaged_or_foreign_files_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let commands = project(cwd);
    let expected = footprints(&Scanner::new(), &commands, cwd);
    let (toolchain, scans) = (cwd.join(".ggninja_toolchain"), cwd.join(".ggninja_scans"));

    for text in [
        "",
        "{\"format\":1",
        "{\"format\":999999}",
        "\u{0}garbage",
        "[1,2,3]\n[[]]",
    ] {
        std::fs::write(&toolchain, text).unwrap();
        std::fs::write(&scans, text).unwrap();
        let s = loaded(cwd);
        assert_eq!(footprints(&s, &commands, cwd), expected, "{text:?}");
        assert!(s.toolchain_queries() > 0, "{text:?}");
        assert!(s.files_parsed() > 0, "{text:?}");
    }

    // Truncated saves: the toolchain's is ignored, the scans' last entry is
    // skipped (and no walk is taken whole from `.ggninja_footprints`).
    let s = Scanner::new();
    footprints(&s, &commands, cwd);
    s.save(cwd).unwrap();
    let _ = std::fs::remove_file(cwd.join(".ggninja_footprints"));
    for file in [&toolchain, &scans] {
        let full = std::fs::read(file).unwrap();
        std::fs::write(file, &full[..full.len() - 5]).unwrap();
    }
    let s = loaded(cwd);
    assert_eq!(footprints(&s, &commands, cwd), expected);
    assert!(s.toolchain_queries() > 0);
    assert!(s.files_parsed() > 0);
}

/// Stamps taken within a second of a walk are not trusted (see the
/// footprint crate's `recall`): wait that out, as a later run would.
fn age() {
    std::thread::sleep(std::time::Duration::from_millis(1100));
}

/// The walk a fresh scanner makes now, and the one a scanner loading what
/// `saved` saved makes (with how many walks it took as saved).
fn fresh_and_recalled(cwd: &Path, command: &str) -> (Footprint, Footprint, usize) {
    let fresh = Scanner::new().footprint(command, cwd).unwrap();
    let s = loaded(cwd);
    let got = s.footprint(command, cwd).unwrap();
    (fresh, got, s.walks_recalled())
}

/// Saves a run's walks of `command` made after the files aged.
fn saved_run(cwd: &Path, command: &str) -> Footprint {
    age();
    let s = loaded(cwd);
    let fp = s.footprint(command, cwd).unwrap();
    s.save(cwd).unwrap();
    fp
}

#[test]
fn an_unchanged_compile_takes_its_saved_walk() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let [compile, _] = project(cwd);
    let first = saved_run(cwd, &compile);
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&first, 1));
    assert_eq!(got, fresh);
}

#[test]
fn a_header_made_earlier_in_the_chain_is_found_there() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    std::fs::create_dir_all(cwd.join("first")).unwrap();
    let compile = project(cwd)[0].replace("-Iinclude", "-Ifirst -Iinclude");
    let first = saved_run(cwd, &compile);
    assert!(first.headers.contains(&PathBuf::from("include/a.h")));
    // a.h in `first`, ahead of include/: the saved walk does not hold.
    std::fs::write(cwd.join("first/a.h"), "#include <c.h>\n").unwrap();
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&fresh, 0));
    assert!(got.headers.contains(&PathBuf::from("first/a.h")));
    assert!(got.headers.contains(&PathBuf::from("include/c.h")));
    // Nor when a dir named but missing is made with it.
    let compile = compile.replace("-Ifirst", "-Igen -Ifirst");
    saved_run(cwd, &compile);
    std::fs::create_dir(cwd.join("gen")).unwrap();
    std::fs::write(cwd.join("gen/a.h"), "\n").unwrap();
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&fresh, 0));
    assert!(got.headers.contains(&PathBuf::from("gen/a.h")));
}

#[test]
fn a_retargeted_include_dir_symlink_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let compile = project(cwd)[0].replace("-Iinclude", "-Ilink");
    for (d, text) in [
        ("v1", "#include <stdio.h>\n"),
        ("v2", "#include \"two.h\"\n"),
    ] {
        std::fs::create_dir(cwd.join(d)).unwrap();
        std::fs::write(cwd.join(d).join("a.h"), text).unwrap();
        std::fs::write(cwd.join(d).join("two.h"), "\n").unwrap();
    }
    std::os::unix::fs::symlink("v1", cwd.join("link")).unwrap();
    let first = saved_run(cwd, &compile);
    assert!(!first.headers.contains(&PathBuf::from("link/two.h")));
    std::fs::remove_file(cwd.join("link")).unwrap();
    std::os::unix::fs::symlink("v2", cwd.join("link")).unwrap();
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&fresh, 0));
    assert!(got.headers.contains(&PathBuf::from("link/two.h")));
}

#[test]
fn a_deleted_header_is_not_recalled() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let [compile, _] = project(cwd);
    saved_run(cwd, &compile);
    std::fs::remove_file(cwd.join("include/b.h")).unwrap();
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&fresh, 0));
    assert!(!got.headers.contains(&PathBuf::from("include/b.h")));
}

/// A computed include: the compiler's `-M` answer is kept too, and a file
/// made where the macro's name would be found first is seen.
#[test]
fn a_computed_include_is_asked_once_and_shadowed_names_are_seen() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let compile = project(cwd)[0].replace("-Iinclude", "-Ifirst -Iinclude");
    std::fs::create_dir_all(cwd.join("first/sub")).unwrap();
    std::fs::create_dir_all(cwd.join("include/sub")).unwrap();
    std::fs::write(cwd.join("include/sub/conf.h"), "\n").unwrap();
    std::fs::write(
        cwd.join("include/a.h"),
        "#define CONF <sub/conf.h>\n#include CONF\n",
    )
    .unwrap();
    let first = saved_run(cwd, &compile);
    assert!(first.headers.contains(&PathBuf::from("include/sub/conf.h")));
    let s = loaded(cwd);
    assert_eq!(s.footprint(&compile, cwd).unwrap(), first);
    assert_eq!((s.walks_recalled(), s.fallbacks()), (1, 0));
    std::fs::write(cwd.join("first/sub/conf.h"), "\n").unwrap();
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&fresh, 0));
    assert!(got.headers.contains(&PathBuf::from("first/sub/conf.h")));
}

/// Files written in the walk's clock tick may change again without their
/// stamps showing it: the walk keeps them by their bytes, so it is taken
/// while they hold the same, and an edit, however soon, is seen.
#[test]
fn a_walk_of_files_just_changed_keeps_them_by_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let [compile, _] = project(cwd);
    // No wait: a.c and the headers were written in this clock second.
    let s = loaded(cwd);
    s.footprint(&compile, cwd).unwrap();
    s.save(cwd).unwrap();
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&fresh, 1));
    std::fs::write(cwd.join("include/b.h"), "#include \"c.h\"\n").unwrap();
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&fresh, 0));
    assert!(got.headers.contains(&PathBuf::from("include/c.h")));
}

/// A computed include of a header not there yet (`-MG` lists its name):
/// once made, the saved walk does not hold.
#[test]
fn a_computed_include_made_later_is_seen() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let [compile, _] = project(cwd);
    std::fs::write(
        cwd.join("include/a.h"),
        "#define GEN <sub/gen.h>\n#include GEN\n",
    )
    .unwrap();
    let first = saved_run(cwd, &compile);
    assert!(!first.headers.iter().any(|h| h.ends_with("gen.h")));
    std::fs::create_dir(cwd.join("include/sub")).unwrap();
    std::fs::write(cwd.join("include/sub/gen.h"), "\n").unwrap();
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&fresh, 0));
    assert!(got.headers.contains(&PathBuf::from("include/sub/gen.h")));
}

/// What `__has_include(MACRO)` looks for is told nowhere: such a walk is
/// never kept.
#[test]
fn a_computed_has_include_keeps_no_walk() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let [compile, _] = project(cwd);
    std::fs::write(
        cwd.join("include/a.h"),
        "#define OPT <opt.h>\n#if __has_include(OPT)\n#include OPT\n#endif\n",
    )
    .unwrap();
    saved_run(cwd, &compile);
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&fresh, 0));
}

/// A header a build step writes again with the same bytes (a new file: a
/// new inode and stamps, as libgit2's forced `clar_suite.h` after every
/// clean) keeps the saved walk; one rewritten with other bytes of the same
/// size and its old mtime put back does not.
#[test]
fn a_header_written_again_with_its_bytes_keeps_the_walk() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let [compile, _] = project(cwd);
    let first = saved_run(cwd, &compile);
    let b = cwd.join("include/b.h");
    let bytes = std::fs::read(&b).unwrap();
    std::fs::remove_file(&b).unwrap();
    std::fs::write(&b, &bytes).unwrap();
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&first, 1));
    assert_eq!(got, fresh);
    // Other bytes, the same size and mtime: the stat differs (ctime), the
    // digest too, so the walk is taken again.
    let mtime = std::fs::metadata(&b).unwrap().modified().unwrap();
    let mut other = bytes.clone();
    other.insert(0, b'\n');
    other.pop();
    std::fs::write(&b, &other).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&b)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let (fresh, got, recalled) = fresh_and_recalled(cwd, &compile);
    assert_eq!((&got, recalled), (&fresh, 0));
}
