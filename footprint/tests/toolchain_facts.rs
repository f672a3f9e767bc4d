//! The toolchain's answers saved between runs: reused while every file they
//! came from is unchanged, asked again when one changes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ggninja_footprint::{Footprint, Scanner};

/// A compiler of its own (a script running gcc), so that the test can
/// change it; and a compile and a link command using it.
fn project(dir: &Path) -> [String; 2] {
    let cc = dir.join("bin/x86_64-linux-gnu-gcc");
    std::fs::create_dir_all(cc.parent().unwrap()).unwrap();
    std::fs::write(&cc, "#!/bin/sh\nexec gcc \"$@\"\n").unwrap();
    std::fs::set_permissions(&cc, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        dir.join("a.c"),
        "#include <stdio.h>\nint main(void) { return 0; }\n",
    )
    .unwrap();
    let cc = cc.display();
    [
        format!("{cc} -O2 -c a.c -o a.o"),
        format!("{cc} a.o -o a -lm"),
    ]
}

fn footprints(s: &Scanner, commands: &[String], cwd: &Path) -> Vec<Footprint> {
    let fps = commands.iter().map(|c| s.footprint(c, cwd).unwrap());
    fps.collect()
}

#[test]
fn saved_answers_are_reused_until_a_file_they_came_from_changes() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let commands = project(cwd);
    let saved = cwd.join(".ggninja_toolchain");

    let first = Scanner::new();
    first.load_toolchain(&saved);
    let asked = footprints(&first, &commands, cwd);
    assert!(first.toolchain_queries() > 0);
    first.save_toolchain(&saved).unwrap();

    // A later run: the same footprints, and no program run to get them.
    let second = Scanner::new();
    second.load_toolchain(&saved);
    assert_eq!(footprints(&second, &commands, cwd), asked);
    assert_eq!(second.toolchain_queries(), 0);

    // The compiler changed: its answers are asked again.
    let cc = cwd.join("bin/x86_64-linux-gnu-gcc");
    std::fs::write(&cc, "#!/bin/sh\n# upgraded\nexec gcc \"$@\"\n").unwrap();
    let third = Scanner::new();
    third.load_toolchain(&saved);
    assert_eq!(footprints(&third, &commands, cwd), asked);
    assert!(third.toolchain_queries() > 0);
}

#[test]
fn a_damaged_or_foreign_file_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let commands = project(cwd);
    let saved = cwd.join(".ggninja_toolchain");
    let expected = footprints(&Scanner::new(), &commands, cwd);

    for text in ["", "{\"format\":1", "{\"format\":999999}", "\u{0}garbage"] {
        std::fs::write(&saved, text).unwrap();
        let s = Scanner::new();
        s.load_toolchain(&saved);
        assert_eq!(footprints(&s, &commands, cwd), expected, "{text:?}");
        assert!(s.toolchain_queries() > 0, "{text:?}");
    }

    // A truncated save is ignored too.
    let s = Scanner::new();
    footprints(&s, &commands, cwd);
    s.save_toolchain(&saved).unwrap();
    let full = std::fs::read(&saved).unwrap();
    std::fs::write(&saved, &full[..full.len() / 2]).unwrap();
    let s = Scanner::new();
    s.load_toolchain(&saved);
    assert_eq!(footprints(&s, &commands, cwd), expected);
    assert!(s.toolchain_queries() > 0);
}
