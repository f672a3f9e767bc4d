//! Stats ahead (`prestat`), on other threads and without them: the scan
//! decides exactly as with none, no file is stat'ed twice, failures are
//! left to the scan, and nothing is used after the files may change.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::disk::{Disk, SharedStat, ThreadStat};
use crate::engine::Engine;
use crate::testing::{engine, node, FakeDisk};

/// Mtimes in memory, shareable across threads, counting the stats of each
/// path; stats of `broken` paths fail; `slow` makes every stat sleep a
/// little so the scan and the threads meet.
#[derive(Clone, Default)]
struct Counting {
    mtimes: Arc<Mutex<HashMap<String, i64>>>,
    stats: Arc<Mutex<HashMap<String, usize>>>,
    broken: Arc<Vec<String>>,
    threads: bool,
    slow: bool,
}

impl Counting {
    fn touch(&self, files: &[(&str, i64)]) {
        let mut m = self.mtimes.lock().unwrap();
        for (p, t) in files {
            m.insert(p.to_string(), *t);
        }
    }

    fn stat_counted(&self, path: &str) -> Result<i64, String> {
        if self.slow {
            std::thread::sleep(Duration::from_micros(path.len() as u64 % 7 * 20));
        }
        *self
            .stats
            .lock()
            .unwrap()
            .entry(path.to_string())
            .or_default() += 1;
        if self.broken.iter().any(|b| b == path) {
            return Err(format!("stat({path}): Permission denied"));
        }
        Ok(self.mtimes.lock().unwrap().get(path).copied().unwrap_or(0))
    }

    fn stats(&self) -> HashMap<String, usize> {
        self.stats.lock().unwrap().clone()
    }
}

impl Disk for Counting {
    fn stat(&self, path: &str) -> Result<i64, String> {
        self.stat_counted(path)
    }

    fn read(&self, _: &str) -> io::Result<Vec<u8>> {
        Err(io::ErrorKind::NotFound.into())
    }

    fn shared_stat(&self) -> Option<SharedStat> {
        let me = self.clone();
        self.threads.then(|| {
            Arc::new(move || {
                let me = me.clone();
                Box::new(move |p: &str| me.stat_counted(p)) as ThreadStat
            }) as SharedStat
        })
    }
}

const MANIFEST: &str = "rule gen\n  command = gen $in\n  generator = 1\n\
    build a: gen x y || oo\n\
    build b: gen a z |@ v\n\
    build v: gen w\n\
    build all: phony b\n\
    build lone: gen q\n";

fn disk(threads: bool) -> Counting {
    let d = Counting {
        threads,
        ..Counting::default()
    };
    d.touch(&[("x", 5), ("y", 7), ("a", 9), ("z", 2), ("b", 10)]);
    d.touch(&[("w", 1), ("v", 2), ("q", 1)]);
    d
}

fn engine_on(manifest: &str, d: &Counting) -> Engine {
    let mut e = engine(manifest, &FakeDisk::default());
    e.disk = Box::new(d.clone());
    e
}

type States = Vec<(Option<bool>, i64, bool)>;

/// Every node's (exists, mtime, dirty) after scanning `target` and its
/// validations, with or without stats ahead.
fn scan(manifest: &str, d: &Counting, target: &str, ahead: bool) -> States {
    let mut e = engine_on(manifest, d);
    let t = node(&e, target);
    if ahead {
        e.prestat(&[t]);
    }
    let mut validations = Vec::new();
    e.recompute_dirty(t, &mut validations).unwrap();
    for v in validations {
        e.recompute_dirty(v, &mut Vec::new()).unwrap();
    }
    states(e)
}

/// Every node's (exists, mtime, dirty) once the scan is over.
fn states(mut e: Engine) -> States {
    e.prestat.clear();
    e.nodes
        .iter()
        .map(|s| (s.exists, s.mtime, s.dirty))
        .collect()
}

#[test]
fn the_scan_decides_the_same_with_stats_ahead() {
    for threads in [false, true] {
        let without = scan(MANIFEST, &disk(threads), "all", false);
        assert_eq!(scan(MANIFEST, &disk(threads), "all", true), without);
        let d = disk(threads);
        d.touch(&[("z", 20)]);
        let with = scan(MANIFEST, &d, "all", true);
        assert_eq!(with, scan(MANIFEST, &d, "all", false));
        assert!(
            with.iter().any(|s| s.2),
            "a newer input makes something dirty"
        );
    }
}

#[test]
fn each_file_is_stated_once_and_unreachable_ones_never() {
    for threads in [false, true] {
        let d = disk(threads);
        scan(MANIFEST, &d, "all", true);
        // The threads may still be finishing what the scan did not need.
        std::thread::sleep(Duration::from_millis(50));
        let stats = d.stats();
        assert!(stats.values().all(|&n| n == 1), "{stats:?}");
        for path in ["x", "y", "a", "oo", "z", "b", "v", "w"] {
            assert!(stats.contains_key(path), "{path} not stat'ed: {stats:?}");
        }
        assert!(!stats.contains_key("lone") && !stats.contains_key("q"));
    }
}

/// A chain of builds, each reading the one before and a source of its own.
fn chain(n: usize) -> (String, Counting) {
    let mut m = String::from("rule gen\n  command = gen $in\n  generator = 1\n");
    let mut d = disk(true);
    d.slow = true;
    d.touch(&[("s0", 1), ("o0", 2)]);
    m.push_str("build o0: gen s0\n");
    for i in 1..n {
        m.push_str(&format!("build o{i}: gen o{} s{i}\n", i - 1));
        d.touch(&[(&format!("s{i}"), 1), (&format!("o{i}"), 2 + i as i64)]);
    }
    (m, d)
}

#[test]
fn the_scan_and_the_threads_share_the_stats_of_a_long_chain() {
    let (m, plain) = chain(300);
    let without = scan(&m, &plain, "o299", false);
    for _ in 0..10 {
        let (m, d) = chain(300);
        assert_eq!(scan(&m, &d, "o299", true), without);
        std::thread::sleep(Duration::from_millis(20));
        let stats = d.stats();
        assert_eq!(stats.len(), 600);
        assert!(stats.values().all(|&n| n == 1), "{stats:?}");
    }
}

#[test]
fn a_failing_stat_is_left_to_the_scan_to_report() {
    for threads in [false, true] {
        let d = Counting {
            broken: Arc::new(vec!["z".to_string()]),
            ..disk(threads)
        };
        let mut e = engine_on(MANIFEST, &d);
        let all = node(&e, "all");
        e.prestat(&[all]);
        let err = e.recompute_dirty(all, &mut Vec::new()).unwrap_err();
        assert_eq!(err, "stat(z): Permission denied");
        let n = d.stats()["z"];
        assert!(n == 2 || (threads && n == 1), "z stat'ed {n} times");
    }
}

#[test]
fn a_rescan_after_reset_reads_the_disk_again() {
    for threads in [false, true] {
        let d = disk(threads);
        let mut e = engine_on(MANIFEST, &d);
        let all = node(&e, "all");
        e.prestat(&[all]);
        std::thread::sleep(Duration::from_millis(20));
        e.reset_states();
        d.touch(&[("x", 50)]);
        e.recompute_dirty(all, &mut Vec::new()).unwrap();
        assert_eq!(e.nodes[node(&e, "x").index()].mtime, 50);
        assert!(e.is_dirty(all));
    }
}

/// Scans `all` and `lone` after the graph gained a file between two
/// batches of stats ahead (as the deps log adds its headers after the
/// manifest's files are listed); with `ahead` false, none.
fn scan_in_two_batches(d: &Counting, ahead: bool) -> States {
    let mut e = engine_on(MANIFEST, d);
    let (all, lone) = (node(&e, "all"), node(&e, "lone"));
    if ahead {
        e.prestat(&[all]);
    }
    let h = e.graph.file_id("h");
    let b = e.graph.file(lone).in_build.unwrap();
    e.graph.add_implicit_ins(b, &[h]);
    e.sync_states();
    if ahead {
        e.prestat(&[all, lone]);
    }
    for t in [all, lone] {
        e.recompute_dirty(t, &mut Vec::new()).unwrap();
    }
    states(e)
}

#[test]
fn a_second_batch_lists_only_what_the_first_did_not() {
    for threads in [false, true] {
        let plain = disk(threads);
        plain.touch(&[("h", 30)]);
        let without = scan_in_two_batches(&plain, false);
        assert!(without.iter().any(|s| s.2), "the new file makes lone dirty");
        let d = disk(threads);
        d.touch(&[("h", 30)]);
        assert_eq!(scan_in_two_batches(&d, true), without);
        std::thread::sleep(Duration::from_millis(50));
        let stats = d.stats();
        assert!(stats.values().all(|&n| n == 1), "{stats:?}");
        for path in ["x", "b", "lone", "q", "h"] {
            assert!(stats.contains_key(path), "{path} not stat'ed: {stats:?}");
        }
    }
}
