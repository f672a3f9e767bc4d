//! File system access with ninja's conventions: mtimes in nanoseconds,
//! 0 for a missing file. `Disk` is what dirty checking reads through (as
//! ninja's DiskInterface), so its tests can plug in a file system in memory.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What dirty checking and the build loop read: mtimes and whole files.
pub trait Disk {
    /// The mtime of `path` in ns since the epoch; 0 if it does not exist.
    fn stat(&self, path: &str) -> Result<i64, String>;
    /// A whole file.
    fn read(&self, path: &str) -> io::Result<Vec<u8>>;
    /// `stat` for other threads (stats ahead of the scan, `prestat.rs`):
    /// makes each its own; None if this disk cannot be shared.
    fn shared_stat(&self) -> Option<SharedStat> {
        None
    }
}

/// One thread's `Disk::stat`, which may keep state between calls.
pub type ThreadStat = Box<dyn FnMut(&str) -> Result<i64, String> + Send>;

/// Makes a `ThreadStat` for each thread that stats.
pub type SharedStat = Arc<dyn Fn() -> ThreadStat + Send + Sync>;

/// The real file system.
pub struct RealDisk;

impl Disk for RealDisk {
    fn stat(&self, path: &str) -> Result<i64, String> {
        stat(path)
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn shared_stat(&self) -> Option<SharedStat> {
        Some(Arc::new(|| {
            let mut dirs = crate::dir_stat::DirStat::default();
            Box::new(move |p| dirs.stat(p))
        }))
    }
}

/// The real file system, plus the outputs a remote build left only in its
/// store (`--remote-download=toplevel`): an absent file listed there has
/// the mtime recorded for it, so the next build does not rerun its edge.
pub struct WithRemoteFiles {
    pub files: Arc<ggninja_store::RemoteFiles>,
    /// What relative paths are relative to.
    pub cwd: PathBuf,
}

impl Disk for WithRemoteFiles {
    fn stat(&self, path: &str) -> Result<i64, String> {
        stat_remote(&self.files, &self.cwd, path)
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn shared_stat(&self) -> Option<SharedStat> {
        let (files, cwd) = (self.files.clone(), self.cwd.clone());
        Some(Arc::new(move || {
            let (files, cwd) = (files.clone(), cwd.clone());
            Box::new(move |p| stat_remote(&files, &cwd, p))
        }))
    }
}

fn stat_remote(files: &ggninja_store::RemoteFiles, cwd: &Path, path: &str) -> Result<i64, String> {
    match stat(path)? {
        0 => Ok(files.get(&cwd.join(path)).map_or(0, |f| f.mtime_ns.max(1))),
        t => Ok(t),
    }
}

/// The mtime of `path` in ns since the epoch; 0 if it does not exist.
pub fn stat(path: &str) -> Result<i64, String> {
    match std::fs::metadata(path) {
        Ok(m) => {
            let t = m.mtime() * 1_000_000_000 + m.mtime_nsec();
            // 0 means "missing" here, so a file really dated 0 reads as 1.
            Ok(if t == 0 { 1 } else { t })
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(0)
        }
        Err(e) => Err(format!("stat({path}): {}", ggninja_graph_io(&e))),
    }
}

fn ggninja_graph_io(e: &io::Error) -> String {
    let s = e.to_string();
    s.find(" (os error")
        .map_or(s.clone(), |i| s[..i].to_string())
}

/// Creates the directory that will hold `path`.
pub fn make_dirs_for(path: &str) -> io::Result<()> {
    match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
}

/// Reads a file; a missing file reads as empty, as ninja treats depfiles.
pub fn read_or_empty(disk: &dyn Disk, path: &str) -> io::Result<Vec<u8>> {
    match disk.read(path) {
        Ok(d) => Ok(d),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Removes a file: Ok(true) if removed, Ok(false) if it was not there.
pub fn remove(path: &str) -> io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Opens a log for appending, writing `header` first when it is new.
pub fn open_log(path: &Path, header: &[u8]) -> io::Result<std::fs::File> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if f.metadata()?.len() == 0 {
        f.write_all(header)?;
    }
    Ok(f)
}

/// A temporary file beside `path`, to be persisted over it: the same
/// directory, so the rename is atomic; named after it (a watcher knows its
/// own files by name); 0666 less the umask, as a log or file `open` would
/// create (not tempfile's 0600), since ninja and other users read these
/// files too.
pub fn beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    tempfile::Builder::new()
        .prefix(&format!("{name}.tmp"))
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(path.parent().unwrap_or(Path::new(".")))
}

/// Puts `data` at `path` as a file of exactly `mode` (whatever the umask)
/// and, when given, `mtime`: written to a temporary beside it (its
/// directory made if missing) and renamed over it, so a reader never sees
/// half a file and two writers never share a temporary.
pub fn put_file(
    path: &Path,
    data: &[u8],
    mode: u32,
    mtime: Option<std::time::SystemTime>,
) -> io::Result<()> {
    put_file_stat(path, data, mode, mtime).map(drop)
}

/// `put_file`, also giving the file's stat as it landed: taken through
/// the file just written, after the rename (which changes its ctime), so
/// it is the stat of these bytes unless another writer raced with this one
/// into the new file within a clock tick.
pub fn put_file_stat(
    path: &Path,
    data: &[u8],
    mode: u32,
    mtime: Option<std::time::SystemTime>,
) -> io::Result<std::fs::Metadata> {
    use std::io::Write;
    put_with(path, mode, mtime, |file| file.write_all(data))
}

/// `put_file_stat` of the bytes `fill` writes: should it fail, nothing
/// is put and no temporary is left.
pub fn put_with(
    path: &Path,
    mode: u32,
    mtime: Option<std::time::SystemTime>,
    fill: impl FnOnce(&mut std::fs::File) -> io::Result<()>,
) -> io::Result<std::fs::Metadata> {
    let tmp = with_dir(path, || beside(path))?;
    staged(tmp, mode, mtime, fill)?.put(path)
}

/// A file written whole beside the path it is for, not yet put there
/// (`Staged::put`); dropped, it leaves nothing.
pub struct Staged(tempfile::NamedTempFile);

impl Staged {
    /// Renames it over `path`: the stat as in `put_file_stat`.
    pub fn put(self, path: &Path) -> io::Result<std::fs::Metadata> {
        self.0.persist(path).map_err(|e| e.error)?.metadata()
    }
}

/// The bytes `fill` writes, of exactly `mode`, staged beside `path` in
/// its directory, which must exist (none is made for a file that may
/// never be put).
pub fn stage(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut std::fs::File) -> io::Result<()>,
) -> io::Result<Staged> {
    staged(beside(path)?, mode, None, fill)
}

fn staged(
    mut tmp: tempfile::NamedTempFile,
    mode: u32,
    mtime: Option<std::time::SystemTime>,
    fill: impl FnOnce(&mut std::fs::File) -> io::Result<()>,
) -> io::Result<Staged> {
    use std::os::unix::fs::PermissionsExt;
    fill(tmp.as_file_mut())?;
    let file = tmp.as_file();
    file.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))?;
    if let Some(t) = mtime {
        file.set_modified(t)?;
    }
    Ok(Staged(tmp))
}

/// Puts a symlink to `target` at `path`, the same way as `put_file`.
pub fn put_symlink(path: &Path, target: &std::ffi::OsStr) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let make = || tempfile::Builder::new().make_in(dir, |p| std::os::unix::fs::symlink(target, p));
    let tmp = with_dir(path, make)?;
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

/// `make`'s temporary beside `path`, its directory made first only when
/// missing: most outputs land in a directory that exists, where asking
/// for it first costs two system calls a file.
fn with_dir<T>(path: &Path, make: impl Fn() -> io::Result<T>) -> io::Result<T> {
    match make() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
            make()
        }
        made => made,
    }
}

pub fn io_message(e: &io::Error) -> String {
    ggninja_graph_io(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    /// What `beside` makes ends up with a created file's mode (a log ninja
    /// reads keeps 0644 under the usual umask), replacing the old file.
    #[test]
    fn a_file_written_beside_keeps_a_created_files_mode() {
        let dir = tempfile::tempdir().unwrap();
        let (plain, log) = (dir.path().join("plain"), dir.path().join(".ninja_log"));
        std::fs::File::create(&plain).unwrap();
        std::fs::write(&log, "old").unwrap();
        let mut tmp = beside(&log).unwrap();
        tmp.write_all(b"new").unwrap();
        tmp.persist(&log).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
        assert_eq!(mode(&log), mode(&plain));
        assert_eq!(std::fs::read(&log).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    /// What `fill` writes lands with the exact mode, over the old file;
    /// a `fill` that fails puts nothing and leaves no temporary.
    #[test]
    fn a_filled_file_lands_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("sub/app");
        put_file(&out, b"old", 0o644, None).unwrap();
        let stat = put_with(&out, 0o751, None, |f| f.write_all(b"new bytes")).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new bytes");
        assert_eq!(stat.permissions().mode() & 0o7777, 0o751);
        let failed = put_with(&out, 0o644, None, |f| {
            f.write_all(b"half")?;
            Err(io::Error::new(io::ErrorKind::InvalidData, "changed"))
        });
        assert_eq!(failed.unwrap_err().kind(), io::ErrorKind::InvalidData);
        assert_eq!(std::fs::read(&out).unwrap(), b"new bytes");
        let left = std::fs::read_dir(dir.path().join("sub")).unwrap().count();
        assert_eq!(left, 1);
    }
}
