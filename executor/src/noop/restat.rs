//! The files of a remembered no-op stat'ed again, on every core: threads
//! take blocks of the list in its order (the files most likely to have
//! changed first: `noop::stated`), each thread through its own open
//! directories (`dir_stat`: one name looked up a file), and all stop soon
//! after one finds a file that differs. The stats made are kept: when the record no
//! longer holds, the run takes them rather than stat those files again.
//! Each answer is `disk::stat`'s. Ignores what the mtimes mean.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};

use super::files::{Files, BLOCK};
use crate::dir_stat::DirStat;

/// Not stat'ed, or its stat failed (the run stats it, and reports that):
/// no mtime a file can have (-1 is one, just before 1970).
const UNSEEN: i64 = i64::MIN;

struct Shared {
    files: Files,
    /// The next block to take.
    next: AtomicUsize,
    differs: AtomicBool,
    /// By file, the mtime found.
    seen: Vec<AtomicI64>,
}

/// Stats `files` on `threads` threads (this one among them, and no more
/// than blocks): whether every file is as listed; if not, the mtimes
/// found (the files not stat'ed left out).
pub(super) fn check(files: Files, threads: usize) -> (bool, Files) {
    let seen = (0..files.len()).map(|_| AtomicI64::new(UNSEEN)).collect();
    let helpers = threads.min(files.len().div_ceil(BLOCK)).saturating_sub(1);
    let shared = Shared {
        files,
        next: AtomicUsize::new(0),
        differs: AtomicBool::new(false),
        seen,
    };
    std::thread::scope(|s| {
        for _ in 0..helpers {
            // A thread that cannot start leaves its blocks to the others.
            let _ = std::thread::Builder::new()
                .name("no-op check".into())
                .spawn_scoped(s, || shared.work());
        }
        shared.work();
    });
    if !shared.differs.load(Ordering::Relaxed) {
        return (true, Files::default());
    }
    let mut found = Vec::new();
    shared.files.each(|i, path, _| {
        let t = shared.seen[i].load(Ordering::Relaxed);
        if t != UNSEEN {
            found.push((path.to_string(), t));
        }
    });
    (false, found.iter().map(|(p, t)| (p.as_str(), *t)).collect())
}

impl Shared {
    /// Takes blocks (`files::BLOCK` files each) and stats them until none
    /// is left, or a file differs (or a block does not read whole).
    fn work(&self) {
        let mut dirs = DirStat::default();
        while !self.differs.load(Ordering::Relaxed) {
            let b = self.next.fetch_add(1, Ordering::Relaxed);
            if b * BLOCK >= self.files.len() {
                return;
            }
            let mut same = true;
            let whole = self.files.block(b, |i, path, t| {
                let now = dirs.stat(path).unwrap_or(UNSEEN);
                self.seen[i].store(now, Ordering::Relaxed);
                same &= now == t;
            });
            if !(same && whole) {
                self.differs.store(true, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10,000 files in 10 directories, and one missing; their mtimes.
    fn tree(dir: &std::path::Path) -> Vec<(String, i64)> {
        let mut files = Vec::new();
        for d in 0..10 {
            std::fs::create_dir(dir.join(format!("d{d}"))).unwrap();
            for f in 0..1000 {
                let path = dir.join(format!("d{d}/f{f}"));
                std::fs::write(&path, "x").unwrap();
                let path = path.to_str().unwrap().to_string();
                let t = crate::disk::stat(&path).unwrap();
                files.push((path, t));
            }
        }
        files.push((dir.join("gone").to_str().unwrap().into(), 0));
        files
    }

    fn listed(files: &Files) -> Vec<(String, i64)> {
        let mut all = Vec::new();
        files.each(|_, p, t| all.push((p.to_string(), t)));
        all
    }

    fn check(files: &[(String, i64)], threads: usize) -> (bool, Files) {
        let files = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        super::check(files, threads)
    }

    #[test]
    fn any_file_that_differs_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let files = tree(dir.path());
        for threads in [1, 2, 4] {
            assert_eq!(check(&files, threads), (true, Files::default()));
            assert_eq!(check(&[], threads), (true, Files::default()));
            for k in [0, 1, 4999, 9999, 10000] {
                let mut changed = files.clone();
                changed[k].1 += 1;
                let (same, seen) = check(&changed, threads);
                assert!(!same, "file {k}");
                let found = listed(&seen);
                assert!(found.contains(&files[k]));
                assert!(found.iter().all(|f| files.contains(f)));
                if k < BLOCK && threads == 1 {
                    assert_eq!(seen.len(), BLOCK, "stopped at the difference");
                }
            }
        }
        std::fs::write(dir.path().join("gone"), "").unwrap();
        assert!(!check(&files, 1).0, "a file made where none was");
    }
}
