//! Stats through open directories, `fstatat(dir, name)` rather than
//! `stat(path)`, for a thread that stats many files of a few directories in
//! turn (the stats ahead of the scan, `prestat.rs`): the kernel then looks
//! up one name, not every component of the path again. On
//! bench/everyday.sh's tree the walk through the components was a third of
//! each stat's time.
//!
//! A few directories are kept open, the least recently used closed first
//! (the scan's order visits an object's, its source's and its headers'
//! directories in turn); all are closed when the value is dropped, at the
//! end of its batch. The handles of all threads together are at most
//! `BUDGET` (one thread a core: 16 each on 64 cores would near the usual
//! limit of 1,024 open files, and the logs, the index and the commands'
//! pipes need theirs); past it a thread reuses its own, or stats by path.
//! A path whose directory cannot be opened, or whose last component is not
//! a plain name, or whose stat fails otherwise than as missing, is stat'ed
//! by path: the answer is the one `disk::stat` gives. Where the two could
//! differ, the tree is changing under the run: a directory replaced (or
//! its search permission taken) while its handle is open answers as it
//! was when opened, as a stat by path just before the change would have.
//! Ignores what the mtimes mean.

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::disk;

/// How many directories a thread keeps open.
const OPEN: usize = 16;

/// How many directories all threads together keep open.
const BUDGET: usize = 64;

/// How many directories are open now, all threads together.
static OPEN_NOW: AtomicUsize = AtomicUsize::new(0);

#[derive(Default)]
pub struct DirStat {
    /// Open directories: path, handle, when last used.
    open: Vec<(String, File, u64)>,
    clock: u64,
    /// The name stat'ed last, NUL-terminated (a buffer reused).
    name: Vec<u8>,
    /// How many of `OPEN_NOW` this value holds.
    taken: usize,
}

impl DirStat {
    /// `disk::stat(path)`, through `path`'s directory held open.
    pub fn stat(&mut self, path: &str) -> Result<i64, String> {
        match self.stat_in_dir(path) {
            Some(t) => Ok(t),
            None => disk::stat(path),
        }
    }

    /// The mtime (0: missing) of `path` looked up in its open directory;
    /// None where only a stat by path gives the answer.
    fn stat_in_dir(&mut self, path: &str) -> Option<i64> {
        let (dir, name) = split(path)?;
        let dir = self.dir(dir)?.as_raw_fd();
        self.name.clear();
        self.name.extend_from_slice(name.as_bytes());
        self.name.push(0);
        let name = CStr::from_bytes_with_nul(&self.name).ok()?;
        let mut st = MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `dir` is an open descriptor, `name` NUL-terminated, and
        // `st` is written in full when the call returns 0.
        if unsafe { libc::fstatat(dir, name.as_ptr(), st.as_mut_ptr(), 0) } != 0 {
            let missing = matches!(
                std::io::Error::last_os_error().raw_os_error(),
                Some(libc::ENOENT | libc::ENOTDIR)
            );
            return missing.then_some(0);
        }
        // SAFETY: fstatat returned 0.
        let st = unsafe { st.assume_init() };
        let t = st.st_mtime * 1_000_000_000 + st.st_mtime_nsec;
        // 0 means "missing" here, as in `disk::stat`.
        Some(if t == 0 { 1 } else { t })
    }

    /// `dir` held open, opened now if it was not; None if it cannot be.
    fn dir(&mut self, dir: &str) -> Option<&File> {
        self.clock += 1;
        if let Some(i) = self.open.iter().position(|(d, _, _)| d == dir) {
            self.open[i].2 = self.clock;
            return Some(&self.open[i].1);
        }
        if self.open.len() == OPEN || !take_one() {
            // Reuse the least recently used handle (none: stat by path).
            let oldest = (0..self.open.len()).min_by_key(|&i| self.open[i].2)?;
            self.open.swap_remove(oldest);
        } else {
            self.taken += 1;
        }
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(dir);
        let Ok(file) = file else {
            self.taken -= 1;
            OPEN_NOW.fetch_sub(1, Ordering::Relaxed);
            return None;
        };
        self.open.push((dir.to_string(), file, self.clock));
        self.open.last().map(|(_, f, _)| f)
    }
}

impl Drop for DirStat {
    fn drop(&mut self) {
        OPEN_NOW.fetch_sub(self.taken, Ordering::Relaxed);
    }
}

/// Counts one more open directory if the budget allows.
fn take_one() -> bool {
    let more = |n: usize| (n < BUDGET).then_some(n + 1);
    OPEN_NOW
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, more)
        .is_ok()
}

/// `path`'s directory and last component, if that is a plain name.
fn split(path: &str) -> Option<(&str, &str)> {
    let i = path.rfind('/')?;
    let (dir, name) = (&path[..i], &path[i + 1..]);
    if name.is_empty() || name == "." || name == ".." {
        return None;
    }
    Some((if dir.is_empty() { "/" } else { dir }, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of path gives what a stat by path gives: plain files in
    /// and out of subdirectories, missing ones, one under a file, a dir,
    /// `.`/`..` last, an absolute path, a symlink to a file and a dangling
    /// one; with more directories than stay open.
    #[test]
    fn answers_as_a_stat_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap().to_string();
        let mut paths = vec![format!("{root}/top"), "/".to_string(), format!("{root}/")];
        std::fs::write(dir.path().join("top"), "x").unwrap();
        for d in 0..(OPEN + 4) {
            let sub = dir.path().join(format!("d{d}"));
            std::fs::create_dir(&sub).unwrap();
            std::fs::write(sub.join("f"), "x").unwrap();
            for name in ["f", "missing", "f/under", ".", "..", ""] {
                paths.push(format!("{root}/d{d}/{name}"));
            }
        }
        std::os::unix::fs::symlink("top", dir.path().join("link")).unwrap();
        std::os::unix::fs::symlink("nowhere", dir.path().join("dangling")).unwrap();
        paths.extend(["link", "dangling", "no-dir/f"].map(|p| format!("{root}/{p}")));
        let mut ds = DirStat::default();
        for round in 0..2 {
            for p in &paths {
                assert_eq!(ds.stat(p), disk::stat(p), "{p} (round {round})");
            }
        }
        assert!(ds.open.len() <= OPEN);
        assert_ne!(ds.stat(&format!("{root}/d3/f")), Ok(0));
        assert_eq!(ds.stat(&format!("{root}/dangling")), Ok(0));
    }

    /// Threads together hold at most `BUDGET` directories; past it each
    /// reuses its own handles, and one with none stats by path, answering
    /// alike.
    #[test]
    fn all_threads_together_keep_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap().to_string();
        for d in 0..OPEN {
            std::fs::create_dir(dir.path().join(format!("d{d}"))).unwrap();
            std::fs::write(dir.path().join(format!("d{d}/f")), "x").unwrap();
        }
        let mut threads: Vec<DirStat> =
            (0..BUDGET / OPEN + 2).map(|_| DirStat::default()).collect();
        for ds in &mut threads {
            for d in 0..OPEN {
                let p = format!("{root}/d{d}/f");
                assert_eq!(ds.stat(&p), disk::stat(&p), "{p}");
            }
        }
        let held: usize = threads.iter().map(|t| t.open.len()).sum();
        assert!(held <= BUDGET, "{held} open");
        assert!(threads.iter().all(|t| t.taken == t.open.len()));
    }
}
