//! Stats ahead (`prestat`): the scan decides exactly as without them, no
//! file is stat'ed twice, failures are left to the scan, and nothing is
//! used after the files may have changed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::rc::Rc;

use crate::disk::Disk;
use crate::engine::Engine;
use crate::testing::{engine, node, FakeDisk};

/// A disk in memory counting the stats of each path; `broken` paths fail.
#[derive(Clone, Default)]
struct Counting {
    files: FakeDisk,
    stats: Rc<RefCell<HashMap<String, usize>>>,
    broken: Vec<String>,
}

impl Disk for Counting {
    fn stat(&self, path: &str) -> Result<i64, String> {
        *self.stats.borrow_mut().entry(path.to_string()).or_default() += 1;
        if self.broken.iter().any(|b| b == path) {
            return Err(format!("stat({path}): Permission denied"));
        }
        self.files.stat(path)
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        self.files.read(path)
    }
}

const MANIFEST: &str = "rule gen\n  command = gen $in\n  generator = 1\n\
    build a: gen x y || oo\n  depfile = a.d\n\
    build b: gen a z |@ v\n\
    build v: gen w\n\
    build all: phony b\n\
    build lone: gen q\n";

fn disk() -> Counting {
    let d = Counting::default();
    d.files
        .touch(&[("x", 5), ("y", 7), ("h", 3), ("a", 9), ("z", 2), ("b", 10)]);
    d.files.touch(&[("w", 1), ("v", 2), ("q", 1)]);
    d.files.write("a.d", 9, "a: x h\n");
    d
}

/// Every node's (exists, mtime, dirty) after scanning `all`, and the stats
/// by path, with or without stats ahead.
fn scan(disk: &Counting, ahead: bool) -> (Vec<(Option<bool>, i64, bool)>, HashMap<String, usize>) {
    let mut e = engine(MANIFEST, &disk.files);
    e.disk = Box::new(disk.clone());
    let all = node(&e, "all");
    if ahead {
        e.prestat(&[all]);
    }
    let mut validations = Vec::new();
    e.recompute_dirty(all, &mut validations).unwrap();
    for v in validations {
        e.recompute_dirty(v, &mut Vec::new()).unwrap();
    }
    (states(&e), disk.stats.borrow().clone())
}

fn states(e: &Engine) -> Vec<(Option<bool>, i64, bool)> {
    e.nodes
        .iter()
        .map(|s| (s.exists, s.mtime, s.dirty))
        .collect()
}

#[test]
fn the_scan_decides_the_same_with_stats_ahead() {
    let (without, _) = scan(&disk(), false);
    let (with, _) = scan(&disk(), true);
    assert_eq!(with, without);
    let d = disk();
    d.files.touch(&[("h", 20)]);
    let (with, _) = scan(&d, true);
    assert_eq!(with, scan(&d, false).0);
    assert!(
        with.iter().any(|s| s.2),
        "a newer header makes something dirty"
    );
}

#[test]
fn each_file_is_stated_once_and_unreachable_ones_never() {
    let (_, stats) = scan(&disk(), true);
    assert!(stats.values().all(|&n| n == 1), "{stats:?}");
    for path in ["x", "y", "h", "a", "oo", "z", "b", "v", "w"] {
        assert!(stats.contains_key(path), "{path} not stat'ed: {stats:?}");
    }
    assert!(!stats.contains_key("lone") && !stats.contains_key("q"));
}

#[test]
fn a_failing_stat_is_left_to_the_scan_to_report() {
    let mut d = disk();
    d.broken.push("z".to_string());
    let mut e = engine(MANIFEST, &d.files);
    e.disk = Box::new(d.clone());
    let all = node(&e, "all");
    e.prestat(&[all]);
    let err = e.recompute_dirty(all, &mut Vec::new()).unwrap_err();
    assert_eq!(err, "stat(z): Permission denied");
    assert_eq!(d.stats.borrow()["z"], 2, "stat'ed ahead, then by the scan");
}

#[test]
fn a_rescan_after_reset_reads_the_disk_again() {
    let d = disk();
    let mut e = engine(MANIFEST, &d.files);
    e.disk = Box::new(d.clone());
    let all = node(&e, "all");
    e.prestat(&[all]);
    e.reset_states();
    d.files.touch(&[("x", 50)]);
    e.recompute_dirty(all, &mut Vec::new()).unwrap();
    assert_eq!(e.nodes[node(&e, "x").index()].mtime, 50);
    assert!(e.is_dirty(all));
}
