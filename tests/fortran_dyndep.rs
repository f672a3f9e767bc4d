//! End-to-end check of `dyndep` on a real CMake Fortran project.
//!
//! CMake's Ninja generator builds Fortran with ninja's `dyndep` feature:
//! each source is preprocessed and scanned, the scan results of a target are
//! collated into `CMakeFiles/<target>.dir/Fortran.dd`, and every compile edge
//! carries `dyndep = .../Fortran.dd`, which adds the `.mod` files it
//! produces (implicit outputs, with `restat = 1`) and the ones it needs
//! (implicit inputs) at build time.
//!
//! Like tests/cmake_fixture.rs, every test copies `fixtures/fortran-modules`
//! into a temporary directory twice: tree A is configured and built with real
//! ninja, tree B with ggninja (`-DCMAKE_MAKE_PROGRAM=<ggninja>`). Both trees
//! have the same layout (`<root>/src`, `<root>/build`) under different roots,
//! and everything compared is first normalised by replacing the root with
//! `<ROOT>` and the build program's path with `<NINJA>`. The tests are
//! serialised by a lock.

mod common;

use std::fs;

use common::two_trees::*;

/// The source defining `kinds`, the module every other source `use`s.
const MOST_USED: &str = "src/core/kinds.f90";

/// What `fstats` prints (also checked by the fixture's ctest test).
const EXPECTED_OUTPUT: &str = "n=5 sum=15.00 mean=3.00 norm=7.42 max=5.00\n";

/// The Fortran sources of the fixture: one compile command each.
const SOURCES: [&str; 5] = [
    "kinds.f90",
    "vec_ops.f90",
    "stats.f90",
    "report.f90",
    "main.f90",
];

/// The compile commands (`-c <source>-pp.f90`) among `cmds`, as the
/// basenames of the Fortran sources they compile, sorted.
fn compiled_sources(cmds: &[String]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = SOURCES
        .iter()
        .copied()
        .filter(|src| {
            let needle = format!("/{src}-pp.f90 -o ");
            cmds.iter()
                .any(|c| c.contains(" -c ") && c.contains(&needle))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn fortran_build_uses_dyndep_and_passes_ctest() {
    let Some(pair) = setup("fortran-modules", &["cmake", "ctest", "gfortran"]) else {
        return;
    };
    let b = &pair.b;

    // The feature under test is really exercised.
    for tree in [&pair.a, b] {
        let manifest = fs::read_to_string(tree.build_dir().join("build.ninja")).unwrap();
        let dyndeps = manifest
            .lines()
            .filter(|l| l.trim_start().starts_with("dyndep = "))
            .count();
        assert_eq!(
            dyndeps,
            SOURCES.len(),
            "[{}] expected one `dyndep =` binding per Fortran compile",
            tree.label
        );
    }

    build_both(&pair);
    for tree in [&pair.a, b] {
        for dd in ["core", "stats", "fstats"] {
            let p = tree
                .build_dir()
                .join(format!("CMakeFiles/{dd}.dir/Fortran.dd"));
            let dd_text = fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("[{}] {}: {e}", tree.label, p.display()));
            assert!(dd_text.starts_with("ninja_dyndep_version = 1"), "{dd_text}");
        }
        for module in ["kinds.mod", "vec_ops.mod", "stats.mod", "report.mod"] {
            assert!(
                tree.build_dir().join(module).is_file(),
                "[{}] {module} missing",
                tree.label
            );
        }
        assert_eq!(tree.run_program("fstats", &[]), EXPECTED_OUTPUT);
    }

    // A second build does nothing.
    pair.a.assert_no_op();
    b.assert_no_op();

    ctest_passes(b);
}

#[test]
fn touching_most_used_module_rebuilds_like_ninja() {
    let Some(pair) = setup("fortran-modules", &["cmake", "ctest", "gfortran"]) else {
        return;
    };
    build_both(&pair);
    touch_both(&pair, MOST_USED);
    let a = pair.a.build_commands();
    let b = pair.b.build_commands();
    assert_same(
        &format!("commands rebuilt after touching {MOST_USED}"),
        &a,
        &b,
    );
    // Sanity check of the harness: kinds.f90 itself is recompiled. (Its
    // module interface is unchanged, so gfortran leaves kinds.mod alone and
    // `restat = 1` from the dyndep file spares the modules that use it.)
    assert!(
        compiled_sources(&a).contains(&"kinds.f90"),
        "kinds.f90 not recompiled:\n{}",
        a.join("\n")
    );
    pair.a.assert_no_op();
    pair.b.assert_no_op();
    for tree in [&pair.a, &pair.b] {
        assert_eq!(tree.run_program("fstats", &[]), EXPECTED_OUTPUT);
    }
}

#[test]
fn editing_module_interface_rebuilds_users() {
    let Some(pair) = setup("fortran-modules", &["cmake", "ctest", "gfortran"]) else {
        return;
    };
    build_both(&pair);

    // A new public function changes kinds.mod, so every user of `kinds`
    // must be recompiled after it (an ordering only the dyndep files give).
    for tree in [&pair.a, &pair.b] {
        let src = tree.read_src(MOST_USED);
        let src = src
            .replace("  public :: fmt2\n", "  public :: fmt2, twice\n")
            .replace(
                "end module kinds\n",
                "\n  pure function twice(x) result(y)\n    real(wp), intent(in) :: x\n    real(wp) :: y\n    y = 2 * x\n  end function twice\nend module kinds\n",
            );
        assert!(src.contains("function twice"), "edit did not apply");
        tree.write_src(MOST_USED, &src);
    }
    touch_both(&pair, MOST_USED);
    let a = pair.a.build_commands();
    let b = pair.b.build_commands();
    assert_eq!(
        compiled_sources(&a),
        {
            let mut all = SOURCES.to_vec();
            all.sort();
            all
        },
        "ninja should recompile every source:\n{}",
        a.join("\n")
    );
    assert_same(
        &format!("commands rebuilt after editing {MOST_USED}"),
        &a,
        &b,
    );
    for tree in [&pair.a, &pair.b] {
        assert_eq!(tree.run_program("fstats", &[]), EXPECTED_OUTPUT);
        tree.assert_no_op();
    }
    let a_out: Vec<String> = pair.a.outputs().into_iter().collect();
    let b_out: Vec<String> = pair.b.outputs().into_iter().collect();
    assert_same("files under build/", &a_out, &b_out);
}
