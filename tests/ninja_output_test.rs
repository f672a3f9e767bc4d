//! Runs real ninja's own terminal-output tests (misc/output_test.py from
//! Debian's ninja-build 1.11.1 source package, fetched at test time and
//! never committed) against ggninja.
//!
//! output_test.py runs `./ninja` (resolved against its starting working
//! directory) under `script -qfec` to emulate a smart terminal, so the test
//! makes a temporary directory with `./ninja` symlinked to the binary under
//! test and runs the script from there. Needs python3, `script` (bsdutils)
//! and `apt-get source` with deb-src entries (scripts/install-deps.sh).

mod common;

use std::process::Command;

use common::{fetch_source, ggninja, require_tool, text};

/// The number of test methods in ninja 1.11.1's misc/output_test.py.
const EXPECTED_TESTS: usize = 8;

#[test]
fn ninja_misc_output_test() {
    let Some(python) = require_tool("python3") else {
        return;
    };
    if require_tool("script").is_none() || require_tool("apt-get").is_none() {
        return;
    }
    let Some(src) = fetch_source("ninja-build") else {
        return;
    };
    let script = src.join("misc/output_test.py");
    assert!(script.is_file(), "{} is missing", script.display());

    let tmp = tempfile::tempdir().unwrap();
    let bin = ggninja();
    let bin = std::fs::canonicalize(&bin).unwrap_or(bin);
    std::os::unix::fs::symlink(&bin, tmp.path().join("ninja")).unwrap();

    let out = Command::new(python)
        .arg(&script)
        .arg("-v")
        .current_dir(tmp.path())
        .env_remove("NINJA_STATUS")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("running misc/output_test.py");
    let t = text(&out);
    eprintln!("{t}");

    let ran: usize = t
        .lines()
        .find_map(|l| {
            l.strip_prefix("Ran ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no `Ran N tests` line in output_test.py output:\n{t}"));
    let skipped = t.lines().filter(|l| l.contains("... skipped")).count();
    eprintln!("misc/output_test.py: ran {ran} tests, {skipped} skipped");

    assert!(
        out.status.success(),
        "misc/output_test.py failed with {}:\n{t}",
        out.status
    );
    assert_eq!(
        ran, EXPECTED_TESTS,
        "unexpected number of tests in misc/output_test.py"
    );
    assert_eq!(skipped, 0, "some output tests were skipped:\n{t}");
}
