//! Dirty checking on a file system in memory: mtimes, missing files,
//! depfiles, the logged command, and cycles.

use crate::testing::{engine, node, FakeDisk};

/// Whether `target` is dirty after a fresh scan.
fn dirty(manifest: &str, disk: &FakeDisk, target: &str) -> bool {
    let mut e = engine(manifest, disk);
    let t = node(&e, target);
    e.recompute_dirty(t, &mut Vec::new()).unwrap();
    e.is_dirty(t)
}

/// A generator rule: its command is not compared with the (empty) log.
const GEN: &str = "rule gen\n  command = gen $in\n  generator = 1\n";

#[test]
fn an_output_older_than_an_input_is_dirty() {
    let disk = FakeDisk::default();
    let m = format!("{GEN}build out: gen in\n");
    disk.touch(&[("in", 5), ("out", 9)]);
    assert!(!dirty(&m, &disk, "out"));
    disk.touch(&[("in", 10)]);
    assert!(dirty(&m, &disk, "out"));
}

#[test]
fn a_missing_output_is_dirty() {
    let disk = FakeDisk::default();
    disk.touch(&[("in", 5)]);
    assert!(dirty(&format!("{GEN}build out: gen in\n"), &disk, "out"));
}

#[test]
fn an_order_only_input_never_makes_an_output_dirty() {
    let disk = FakeDisk::default();
    disk.touch(&[("in", 5), ("stamp", 20), ("out", 9)]);
    assert!(!dirty(
        &format!("{GEN}build out: gen in || stamp\n"),
        &disk,
        "out"
    ));
}

#[test]
fn a_command_missing_from_the_log_is_dirty() {
    let disk = FakeDisk::default();
    disk.touch(&[("in", 5), ("out", 9)]);
    let m = "rule cc\n  command = cc $in\nbuild out: cc in\n";
    assert!(dirty(m, &disk, "out"));
}

#[test]
fn a_header_named_by_the_depfile_makes_the_output_dirty() {
    let disk = FakeDisk::default();
    let m = format!("{GEN}build out: gen in\n  depfile = out.d\n");
    disk.touch(&[("in", 5), ("h", 6), ("out", 9)]);
    disk.write("out.d", 9, "out: in h\n");
    assert!(!dirty(&m, &disk, "out"));
    disk.touch(&[("h", 12)]);
    assert!(dirty(&m, &disk, "out"));
}

#[test]
fn a_missing_depfile_makes_the_output_dirty() {
    let disk = FakeDisk::default();
    disk.touch(&[("in", 5), ("out", 9)]);
    let m = format!("{GEN}build out: gen in\n  depfile = out.d\n");
    assert!(dirty(&m, &disk, "out"));
}

#[test]
fn a_dependency_cycle_is_an_error() {
    let disk = FakeDisk::default();
    let m = format!("{GEN}build a: gen b\nbuild b: gen a\n");
    let mut e = engine(&m, &disk);
    let a = node(&e, "a");
    let err = e.recompute_dirty(a, &mut Vec::new()).unwrap_err();
    assert!(err.contains("dependency cycle"), "{err}");
}
