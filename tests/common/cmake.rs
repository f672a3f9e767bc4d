//! The CMake steps the tests share: configuring a build directory for the
//! Ninja generator, and running a project's tests with ctest.

use std::path::Path;
use std::process::Command;

use super::{run, text};

/// `cmake -G Ninja -S <src> -B <build> [-DCMAKE_MAKE_PROGRAM=<program>]
/// <args>`, with NINJA_STATUS removed. Without `make_program` CMake finds
/// `ninja` on PATH.
pub fn configure_command(
    src: &Path,
    build: &Path,
    make_program: Option<&Path>,
    args: &[&str],
) -> Command {
    let mut cmd = Command::new("cmake");
    cmd.args(["-G", "Ninja", "-S"])
        .arg(src)
        .arg("-B")
        .arg(build);
    if let Some(program) = make_program {
        cmd.arg(format!("-DCMAKE_MAKE_PROGRAM={}", program.display()));
    }
    cmd.args(args).env_remove("NINJA_STATUS");
    cmd
}

/// Runs `configure_command` and asserts that it succeeds.
pub fn configure(src: &Path, build: &Path, make_program: Option<&Path>, args: &[&str]) {
    let out = configure_command(src, build, make_program, args)
        .output()
        .expect("running cmake");
    assert!(
        out.status.success(),
        "cmake configure of {} failed ({:?}):\n{}",
        build.display(),
        out.status,
        text(&out)
    );
}

/// Runs `ctest <args>` in `dir`, asserts that it succeeds, and returns its
/// stdout and stderr.
pub fn ctest(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, Path::new("ctest"), args);
    let all = text(&out);
    assert!(
        out.status.success(),
        "ctest {args:?} failed in {} ({:?}):\n{all}",
        dir.display(),
        out.status
    );
    all
}
