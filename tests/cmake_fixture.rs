//! End-to-end comparison of ggninja with real ninja on a CMake project.
//!
//! Every test copies `fixtures/cmake-demo` into a temporary directory twice:
//! tree A is configured and built with real ninja (Debian's 1.11.1; 1.13.2
//! where the versions print differently, as a failure), tree B with ggninja
//! (`-DCMAKE_MAKE_PROGRAM=<ggninja>`). Both trees have the same layout
//! (`<root>/src`, `<root>/build`) under different roots, and everything that
//! is compared is first normalised by replacing the root with `<ROOT>` and
//! the build program's path with `<NINJA>`.
//!
//! The tests are serialised by a lock: each one runs compilers, and running
//! several at once on a small machine only makes timing-dependent behaviour
//! (mtimes) harder to reason about.

mod common;

use std::fs;
use std::process::Command;

use common::text;
use common::two_trees::*;

/// Both trees of `fixtures/cmake-demo`, or None when a tool it needs is
/// missing.
fn demo() -> Option<Pair> {
    setup("cmake-demo", DEMO_TOOLS)
}

const DEMO_TOOLS: &[&str] = &["cmake", "ctest", "python3", "cc", "c++"];

/// `demo` with ninja 1.13.2 building tree A.
fn demo_against_113() -> Option<Pair> {
    let ninja = common::ninja113()?;
    setup_against("cmake-demo", DEMO_TOOLS, ninja)
}

fn count_matching(cmds: &[String], needle: &str) -> usize {
    cmds.iter().filter(|c| c.contains(needle)).count()
}

#[test]
fn cmake_build_runs_programs_and_ctest() {
    let Some(pair) = demo() else {
        return;
    };
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

    ctest_passes(b);
}

#[test]
fn touching_common_header_rebuilds_like_ninja() {
    let Some(pair) = demo() else {
        return;
    };
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
    let Some(pair) = demo() else {
        return;
    };
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
    let Some(pair) = demo() else {
        return;
    };
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
    let Some(pair) = demo() else {
        return;
    };
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

/// Against ninja 1.13.2, which names the exit code: `FAILED: [code=1] ...`.
#[test]
fn compile_error_fails_like_ninja() {
    let Some(pair) = demo_against_113() else {
        return;
    };
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
        a.len() == 1
            && a[0].starts_with("FAILED: [code=1] ")
            && a[0].contains("CMakeFiles/strutil.dir/src/strutil/pad.cpp.o"),
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
    let Some(pair) = demo() else {
        return;
    };
    for args in [&["-t", "commands"][..], &["-t", "targets", "all"][..]] {
        let a = pair.a.tool_lines(args);
        let b = pair.b.tool_lines(args);
        assert!(!a.is_empty(), "ninja {args:?} printed nothing");
        assert_same(&format!("`{}` lines", args.join(" ")), &a, &b);
    }
}
