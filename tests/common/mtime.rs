//! Touching files for a rebuild, by setting their mtimes explicitly and
//! without sleeping.
//!
//! A touched file must be newer than every file the last build wrote, and
//! what the next build writes must not be older than it. It is given the
//! time the file system stamps on a file written now: every file the last
//! build wrote is at most that old, and the stamps of files written later
//! are at least that new (the file system's clock is coarser than
//! `SystemTime::now()` and may lag it, so `now()` itself would not do).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// Latest mtime of any file under `dir` (directories themselves do not
/// count; a symlink counts with its own mtime).
pub fn newest_mtime(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = fs::symlink_metadata(entry.path()).unwrap();
        let t = if meta.is_dir() {
            newest_mtime(&entry.path())
        } else {
            meta.modified().unwrap()
        };
        newest = newest.max(t);
    }
    newest
}

/// The mtime the file system gives a file written now: that of an unnamed
/// scratch file in the temp directory, so no directory of a test changes.
pub fn fs_now() -> SystemTime {
    let mut probe = tempfile::tempfile().unwrap();
    probe.write_all(b"now").unwrap();
    probe.metadata().unwrap().modified().unwrap()
}

/// The first file-system time later than every file under `roots`. That is
/// at most one tick of the file system's clock away, so this spins instead
/// of sleeping; a file dated in the future fails the test.
pub fn stamp_after(roots: &[&Path]) -> SystemTime {
    let newest = roots
        .iter()
        .map(|root| newest_mtime(root))
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let start = Instant::now();
    loop {
        let now = fs_now();
        if now > newest {
            return now;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "a file under {roots:?} is dated in the future: {newest:?}"
        );
        std::hint::spin_loop();
    }
}

/// Gives every file in `paths` the same mtime, newer than every file under
/// `roots` and not newer than anything written afterwards (see the module
/// comment).
pub fn touch_newer(roots: &[&Path], paths: &[&Path]) {
    let stamp = stamp_after(roots);
    for path in paths {
        fs::File::options()
            .append(true)
            .open(path)
            .and_then(|f| f.set_modified(stamp))
            .unwrap_or_else(|e| panic!("touching {}: {e}", path.display()));
    }
}

/// Touches `dir/rel`, newer than every file under `dir`.
pub fn touch(dir: &Path, rel: &str) {
    touch_newer(&[dir], &[&dir.join(rel)]);
}
