//! What a scanner saves between runs (`Scanner::save`, `load_saved`): the
//! toolchain's answers and every scanned file's directives, each reused
//! while the files it came from are unchanged.

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

    // Truncated saves: the toolchain's is ignored, the scans' last line is
    // skipped.
    let s = Scanner::new();
    footprints(&s, &commands, cwd);
    s.save(cwd).unwrap();
    for file in [&toolchain, &scans] {
        let full = std::fs::read(file).unwrap();
        std::fs::write(file, &full[..full.len() - 5]).unwrap();
    }
    let s = loaded(cwd);
    assert_eq!(footprints(&s, &commands, cwd), expected);
    assert!(s.toolchain_queries() > 0);
    assert!(s.files_parsed() > 0);
}
