//! Outputs that exist only in the remote store (`--remote-download=toplevel`
//! leaves intermediates there): by real path, the object that holds each,
//! its mode and the mtime the build recorded for it. The dirty check reads
//! an absent file's mtime from here, thunks name it by this hash, and a
//! command that runs locally gets it fetched first. A file on disk always
//! wins over its entry here. Saved beside the build logs, so the next build
//! does not rerun what it did not download. Ignores how objects are fetched.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::hash::ContentHash;

/// One output that is only remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteFile {
    pub hash: ContentHash,
    pub mode: u32,
    /// Nanoseconds since the epoch, as the dirty check compares them.
    pub mtime_ns: i64,
}

impl RemoteFile {
    /// The mtime to record for a file left remote now: the kernel's coarse
    /// real-time clock, which the file system stamps files by (a finer
    /// clock runs up to a tick ahead of it). A command that reads the file
    /// starts later, its start logged by the file system's clock (the
    /// `.ninja_lock` mtime), and must not look older than its input: with
    /// a finer clock, a reader started within the tick looked so, and the
    /// next build ran it again.
    pub fn stamp_now() -> i64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
        ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    }
}

/// The remote-only outputs of a build dir; shared between threads.
#[derive(Debug, Default)]
pub struct RemoteFiles {
    files: Mutex<BTreeMap<PathBuf, RemoteFile>>,
}

/// The record's file name, in the build's `builddir`.
pub const REMOTE_FILES: &str = ".ggninja_remote_files";

/// The first line of the saved file; another one (or none) is ignored.
const HEADER: &str = "# ggninja remote files v1";

impl RemoteFiles {
    /// Loads what `save` wrote; a missing or damaged file gives an empty
    /// set (the outputs then count as missing and are rebuilt or hit).
    pub fn load(path: &Path) -> RemoteFiles {
        let files = std::fs::File::open(path)
            .ok()
            .and_then(|f| parse(io::BufReader::new(f)))
            .unwrap_or_default();
        RemoteFiles {
            files: Mutex::new(files),
        }
    }

    /// Writes the set atomically, without entries whose file now exists.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let files = self.files.lock().expect("remote files");
        // Beside it, so the rename is atomic; 0666 less the umask as from
        // `File::create`, not tempfile's 0600: other users read it too.
        let mut tmp = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(path.parent().unwrap_or(Path::new(".")))?;
        let mut out = io::BufWriter::new(tmp.as_file_mut());
        writeln!(out, "{HEADER}")?;
        for (p, f) in files.iter().filter(|(p, _)| !p.exists()) {
            writeln!(
                out,
                "{} {:o} {} {}",
                f.hash,
                f.mode,
                f.mtime_ns,
                p.display()
            )?;
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        tmp.persist(path).map(drop).map_err(|e| e.error)
    }

    /// The entry for `path` (absolute) when no file is there.
    pub fn get(&self, path: &Path) -> Option<RemoteFile> {
        let f = *self.files.lock().expect("remote files").get(path)?;
        (!path.exists()).then_some(f)
    }

    pub fn insert(&self, path: PathBuf, file: RemoteFile) {
        self.files.lock().expect("remote files").insert(path, file);
    }

    /// Forgets `path` (it was fetched, or rebuilt here).
    pub fn remove(&self, path: &Path) {
        self.files.lock().expect("remote files").remove(path);
    }

    /// Every entry whose file is still absent.
    pub fn absent(&self) -> Vec<(PathBuf, RemoteFile)> {
        let files = self.files.lock().expect("remote files");
        files
            .iter()
            .filter(|(p, _)| !p.exists())
            .map(|(p, f)| (p.clone(), *f))
            .collect()
    }
}

fn parse(reader: impl BufRead) -> Option<BTreeMap<PathBuf, RemoteFile>> {
    let mut lines = reader.lines();
    if lines.next()?.ok()? != HEADER {
        return None;
    }
    let mut files = BTreeMap::new();
    for line in lines {
        let line = line.ok()?;
        let mut parts = line.splitn(4, ' ');
        let hash = ContentHash::parse(parts.next()?)?;
        let mode = u32::from_str_radix(parts.next()?, 8).ok()?;
        let mtime_ns = parts.next()?.parse().ok()?;
        let path = PathBuf::from(parts.next()?);
        files.insert(
            path,
            RemoteFile {
                hash,
                mode,
                mtime_ns,
            },
        );
    }
    Some(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Kind;

    /// Never ahead of what the file system stamps a file written after.
    #[test]
    fn a_stamp_is_never_newer_than_a_file_written_after_it() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        for _ in 0..2000 {
            let stamp = RemoteFile::stamp_now();
            std::fs::write(&path, "x").unwrap();
            let meta = std::fs::metadata(&path).unwrap();
            let mtime = meta.mtime() * 1_000_000_000 + meta.mtime_nsec();
            assert!(stamp <= mtime, "stamp {stamp} after the file's {mtime}");
        }
    }

    #[test]
    fn entries_round_trip_and_a_file_on_disk_wins() {
        let dir = tempfile::tempdir().unwrap();
        let set = RemoteFiles::default();
        let file = |n: i64| RemoteFile {
            hash: ContentHash::of(Kind::Value, b"x"),
            mode: 0o755,
            mtime_ns: n,
        };
        let (gone, here) = (dir.path().join("a b.o"), dir.path().join("here.o"));
        set.insert(gone.clone(), file(7));
        set.insert(here.clone(), file(8));
        std::fs::write(&here, "real").unwrap();
        assert_eq!(set.get(&gone), Some(file(7)));
        assert_eq!(set.get(&here), None);
        let saved = dir.path().join(".ggninja_remote_files");
        set.save(&saved).unwrap();
        let back = RemoteFiles::load(&saved);
        assert_eq!(back.absent(), vec![(gone.clone(), file(7))]);
        back.remove(&gone);
        assert!(back.absent().is_empty());
    }

    #[test]
    fn a_damaged_file_loads_empty() {
        let dir = tempfile::tempdir().unwrap();
        let saved = dir.path().join("f");
        std::fs::write(&saved, format!("{HEADER}\nnot a hash 644 1 /x\n")).unwrap();
        assert!(RemoteFiles::load(&saved).absent().is_empty());
        std::fs::write(&saved, "other header\n").unwrap();
        assert!(RemoteFiles::load(&saved).absent().is_empty());
    }
}
