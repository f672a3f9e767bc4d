//! A cache of file content hashes, so that an unchanged file (same device,
//! inode, size, mtime and ctime) is never read twice — hashing the
//! toolchain on every build would cost seconds. Saved between runs.
//!
//! A file the build itself writes with bytes whose hash it knows (a memo
//! hit's restored output) is told here with its stat taken after writing
//! (`wrote`), and never read. Why that is as safe as hashing it: the stat
//! is the file's own, taken through the written file after the rename
//! that put it in place, so any later write, truncation, replacement or
//! removal changes the device, inode, size, mtime or ctime this entry is
//! checked against, as for a file hashed here; only a writer racing with
//! the restore into the new file within one clock tick would go unseen,
//! the same window as between hashing a file and stat'ing it again.

use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use ggninja_footprint::{RunStats, Stat};
use ggninja_store::hash::{ContentHash, Kind};
use rustc_hash::FxHashMap;

use crate::predicted::Predicted;

/// Identity of a file's current content as the file system reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileKey {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl FileKey {
    fn of_stat(s: &Stat) -> FileKey {
        FileKey {
            dev: s.dev(),
            ino: s.ino(),
            size: s.size(),
            mtime_ns: s.mtime_ns() as i128,
            ctime_ns: s.ctime_ns() as i128,
        }
    }

    fn of(meta: &std::fs::Metadata) -> FileKey {
        FileKey {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
            ctime_ns: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
        }
    }
}

/// The file's first bytes; another (an older text format) is not read.
const MAGIC: &[u8] = b"ggninja-hashes 2\n";

/// An entry as saved, one after another: the path's bytes, its `FileKey`
/// and its hash (its kind's place in `KINDS`, digest, size), in postcard.
type Saved<'a> = (&'a [u8], (u64, u64, u64, i128, i128), (u8, [u8; 32], u64));
const KINDS: [Kind; 2] = [Kind::Value, Kind::Thunk];

/// Paths as bytes: hashing a `Path` walks its components, which costs more
/// than the rest of a lookup.
type PathMap<V> = FxHashMap<Vec<u8>, V>;

/// Hashes of files by path, valid while their `FileKey` is unchanged.
/// Shared between threads; saved to a text file between runs.
#[derive(Default)]
pub struct HashCache {
    entries: RwLock<PathMap<(FileKey, ContentHash)>>,
    /// System files (outside the build and source trees; offline, every
    /// input) already looked at by this process: the toolchain and
    /// `/usr/include` do not change during a build, so each is stat'ed
    /// once, not once per edge.
    system: RwLock<PathMap<Option<ContentHash>>>,
    /// Whether `entries` changed since `load`.
    dirty: AtomicBool,
    /// Outputs a remote build left only in its store: an absent file
    /// listed there is named by its recorded hash.
    remote: std::sync::OnceLock<std::sync::Arc<ggninja_store::RemoteFiles>>,
    /// Outputs predicted before a build runs, in place of the disk's.
    predicted: std::sync::OnceLock<std::sync::Arc<Predicted>>,
    /// This run's stats, shared with the scanner: a header the kept walks'
    /// check stat'ed is not stat'ed again here.
    stats: std::sync::OnceLock<std::sync::Arc<RunStats>>,
}

impl HashCache {
    /// Loads a cache written by `save`; a missing file, or one of another
    /// format, gives an empty cache, and a damaged one the entries before
    /// the damage (the rest only costs rehashing).
    pub fn load(path: &Path) -> HashCache {
        let cache = HashCache::default();
        let Ok(bytes) = std::fs::read(path) else {
            return cache;
        };
        let Some(mut rest) = bytes.strip_prefix(MAGIC) else {
            return cache;
        };
        let mut map = PathMap::default();
        while let Ok(((p, key, (kind, digest, size)), more)) =
            postcard::take_from_bytes::<Saved>(rest)
        {
            let Some(&kind) = KINDS.get(kind as usize) else {
                break;
            };
            let (dev, ino, size_on_disk, mtime_ns, ctime_ns) = key;
            let key = FileKey {
                dev,
                ino,
                size: size_on_disk,
                mtime_ns,
                ctime_ns,
            };
            map.insert(p.to_vec(), (key, ContentHash { kind, digest, size }));
            rest = more;
        }
        *cache.entries.write().expect("fresh lock") = map;
        cache
    }

    /// Writes the cache atomically (temp file + rename), if it changed.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        if !self.dirty.load(Ordering::Relaxed) && path.exists() {
            return Ok(());
        }
        // Beside it, so the rename is atomic; 0666 less the umask as from
        // `File::create`, not tempfile's 0600: other users read it too.
        let mut tmp = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(path.parent().unwrap_or(Path::new(".")))?;
        let mut out = MAGIC.to_vec();
        {
            let map = self
                .entries
                .read()
                .map_err(|_| io::Error::other("hash cache poisoned"))?;
            for (p, (k, h)) in map.iter() {
                let key = (k.dev, k.ino, k.size, k.mtime_ns, k.ctime_ns);
                let kind = KINDS.iter().position(|k| *k == h.kind).unwrap_or(0) as u8;
                let entry: Saved = (p, key, (kind, h.digest, h.size));
                out = postcard::to_extend(&entry, out).map_err(io::Error::other)?;
            }
        }
        tmp.write_all(&out)?;
        tmp.persist(path).map(drop).map_err(|e| e.error)
    }

    /// The hash of `path`'s content, read only when the file changed.
    pub fn hash_file(&self, path: &Path) -> io::Result<ContentHash> {
        self.hash_path(path)?
            .ok_or_else(|| io::Error::other("is a directory"))
    }

    /// Like `hash_path`, remembered for the life of the process (see
    /// `system`); a predicted file is its prediction, whatever was
    /// remembered (offline, every input is taken as one before predicting).
    pub fn hash_system(&self, path: &Path) -> io::Result<Option<ContentHash>> {
        if self.predicted.get().is_some_and(|p| p.get(path).is_some()) {
            return self.hash_as(path, true);
        }
        let bytes = path.as_os_str().as_bytes();
        if let Some(h) = self.system.read().ok().and_then(|m| m.get(bytes).copied()) {
            return Ok(h);
        }
        let h = self.hash_as(path, true)?;
        if let Ok(mut m) = self.system.write() {
            m.insert(bytes.to_vec(), h);
        }
        Ok(h)
    }

    /// The hash of a file's content (read only when the file changed), or
    /// None for a directory.
    pub fn hash_path(&self, path: &Path) -> io::Result<Option<ContentHash>> {
        self.hash_as(path, false)
    }

    /// `hash_path`, stat'ing a `system` file as the run's stats keep those
    /// (once a process, shared with the kept walks' check).
    fn hash_as(&self, path: &Path, system: bool) -> io::Result<Option<ContentHash>> {
        if let Some(p) = self.predicted.get().and_then(|p| p.get(path)) {
            let unknown =
                || io::Error::new(io::ErrorKind::NotFound, "not known before it is built");
            return p.map(Some).ok_or_else(unknown);
        }
        let stat = match self.stat(path, system) {
            Ok(s) => s,
            Err(e) => return self.remote_hash(path).map(Some).ok_or(e),
        };
        if stat.is_dir() {
            return Ok(None);
        }
        let key = FileKey::of_stat(&stat);
        let name = path.as_os_str().as_bytes();
        if let Some(h) = self.kept(name, key) {
            return Ok(Some(h));
        }
        let hash = match self.kept_elsewhere(path, key) {
            Some(h) => h,
            None => {
                let hash = ContentHash::of(Kind::Value, &std::fs::read(path)?);
                // The file may have changed while we read it: only cache if not.
                if FileKey::of(&std::fs::metadata(path)?) != key {
                    return Ok(Some(hash));
                }
                hash
            }
        };
        if let Ok(mut map) = self.entries.write() {
            map.insert(name.to_vec(), (key, hash));
            self.dirty.store(true, Ordering::Relaxed);
        }
        Ok(Some(hash))
    }

    /// The hash kept for the file at `path`, whose stat is `key`, under
    /// another name of it: `path` with its `..` folded, or a file the
    /// symlink at `path` leads to (each such name folded too). Taken only
    /// while the entry's stat is `key`: the same device and inode,
    /// unchanged, so the same bytes, whatever path found it (a name folded
    /// past a directory symlink that is another file has another inode). A
    /// hit restores `lib/lz4.o` or `libx.so.1.2` and tells its hash
    /// (`wrote`); a link naming `programs/../lib/lz4.o` or against
    /// `libx.so -> libx.so.1.2` then names it without reading it.
    fn kept_elsewhere(&self, path: &Path, key: FileKey) -> Option<ContentHash> {
        /// Links followed, as the kernel's `MAXSYMLINKS`.
        const HOPS: usize = 40;
        let kept_folded = |p: &Path| {
            let folds = p.as_os_str().as_bytes().windows(2).any(|w| w == b"/.");
            let folded = folds.then(|| ggninja_footprint::normal(p))?;
            self.kept(folded.as_os_str().as_bytes(), key)
        };
        if let Some(h) = kept_folded(path) {
            return Some(h);
        }
        let mut at = path.to_path_buf();
        for _ in 0..HOPS {
            // Not a symlink (most files): one failed system call.
            let target = std::fs::read_link(&at).ok()?;
            at = at.parent()?.join(target);
            if let Some(h) = self.kept(at.as_os_str().as_bytes(), key) {
                return Some(h);
            }
            if let Some(h) = kept_folded(&at) {
                return Some(h);
            }
        }
        None
    }

    /// The hash of `path`'s bytes now (None for a directory), to tell
    /// whether a file changed since a key named it: stat'ed afresh, not
    /// through the run's stats (a command that ran since may have outdated
    /// them), and read again unless its stamps are older than `since_ns`
    /// by more than a tick (`Stat::racy`): a file changed since then may
    /// have changed again under the same stat.
    pub fn hash_now(&self, path: &Path, since_ns: i64) -> io::Result<Option<ContentHash>> {
        let stat = Stat::from(&std::fs::metadata(path)?);
        if stat.is_dir() {
            return Ok(None);
        }
        let settled = !stat.racy(since_ns);
        let name = path.as_os_str().as_bytes();
        if let Some(h) = settled
            .then(|| self.kept(name, FileKey::of_stat(&stat)))
            .flatten()
        {
            return Ok(Some(h));
        }
        Ok(Some(ContentHash::of(Kind::Value, &std::fs::read(path)?)))
    }

    /// The hash kept for the file at `name` while its stat is `key`.
    fn kept(&self, name: &[u8], key: FileKey) -> Option<ContentHash> {
        let map = self.entries.read().ok()?;
        map.get(name).filter(|(k, _)| *k == key).map(|(_, h)| *h)
    }

    /// `path` holds the bytes `hash` names, and `meta` is its stat taken
    /// after they were written: a file the build itself just put there (a
    /// memo hit's restored output), named without being read again. Kept
    /// like any hashed file: a later change to it changes its stat.
    pub fn wrote(&self, path: &Path, meta: &std::fs::Metadata, hash: ContentHash) {
        if let Ok(mut map) = self.entries.write() {
            let name = path.as_os_str().as_bytes().to_vec();
            map.insert(name, (FileKey::of(meta), hash));
            self.dirty.store(true, Ordering::Relaxed);
        }
    }

    /// `path`'s stat, through this run's stats when given (a `system`
    /// file's once a process); a missing file is asked again, for the error.
    fn stat(&self, path: &Path, system: bool) -> io::Result<Stat> {
        let kept = self.stats.get().and_then(|s| match system {
            true => s.stat_system(path),
            false => s.stat(path),
        });
        match kept {
            Some(s) => Ok(s),
            None => std::fs::metadata(path).map(|m| Stat::from(&m)),
        }
    }

    /// When the stats this cache takes began to be taken: those of the
    /// run's stats (`RunStats::since_ns`), or now without them. Files
    /// under `system` are left out: taken not to change during a build.
    pub fn stats_since(&self) -> i64 {
        self.stats
            .get()
            .map_or_else(ggninja_footprint::now_ns, |s| s.since_ns())
    }

    /// Takes stats through `stats` (see its type for when that is safe).
    pub fn set_run_stats(&self, stats: std::sync::Arc<RunStats>) {
        let _ = self.stats.set(stats);
    }

    /// Names absent files listed in `files` by their recorded hashes.
    pub fn set_remote_files(&self, files: std::sync::Arc<ggninja_store::RemoteFiles>) {
        let _ = self.remote.set(files);
    }

    /// Names the files `predicted` lists by its predictions.
    pub fn set_predicted(&self, predicted: std::sync::Arc<Predicted>) {
        let _ = self.predicted.set(predicted);
    }

    fn remote_hash(&self, path: &Path) -> Option<ContentHash> {
        Some(self.remote.get()?.get(path)?.hash)
    }

    pub fn len(&self) -> usize {
        self.entries.read().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_rehashes_only_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.txt");
        std::fs::write(&f, b"one").unwrap();
        let cache = HashCache::default();
        let h1 = cache.hash_file(&f).unwrap();
        assert_eq!(h1, ContentHash::of(Kind::Value, b"one"));
        let saved = dir.path().join("cache");
        cache.save(&saved).unwrap();
        let loaded = HashCache::load(&saved);
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded.hash_file(&f).unwrap(), h1);
        std::fs::write(&f, b"two!").unwrap();
        assert_eq!(
            loaded.hash_file(&f).unwrap(),
            ContentHash::of(Kind::Value, b"two!")
        );
    }

    /// What is saved loads back, a path with a newline too; a file cut
    /// short keeps the entries before the cut, and one of another format
    /// (the older text lines) is not read.
    #[test]
    fn a_cut_file_keeps_what_precedes_the_cut_and_another_format_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.c"), dir.path().join("line\nbreak.c"));
        std::fs::write(&a, b"one").unwrap();
        std::fs::write(&b, b"two").unwrap();
        let cache = HashCache::default();
        let told = ContentHash::of(Kind::Thunk, b"told, not read");
        cache.wrote(&a, &std::fs::metadata(&a).unwrap(), told);
        cache.hash_file(&b).unwrap();
        let saved = dir.path().join("cache");
        cache.save(&saved).unwrap();
        let loaded = HashCache::load(&saved);
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded.hash_file(&a).unwrap(), told);
        let good = std::fs::read(&saved).unwrap();
        for cut in MAGIC.len()..good.len() {
            std::fs::write(&saved, &good[..cut]).unwrap();
            assert!(HashCache::load(&saved).len() < 2, "cut at {cut}");
        }
        let first = HashCache::load(&saved);
        assert_eq!(first.len(), 1);
        let line = format!("1 2 3 4 5 {told} {}\n", a.display());
        std::fs::write(&saved, line).unwrap();
        assert!(HashCache::load(&saved).is_empty());
    }

    /// A file the build wrote is named by the hash it was told while its
    /// stat is the one told with it; the same-size edit after that (a new
    /// mtime and ctime) is read again, as is a told stat that was not the
    /// file's (the told hash is then never used).
    #[test]
    fn a_written_file_is_named_by_its_told_hash_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.o");
        std::fs::write(&f, b"object").unwrap();
        let cache = HashCache::default();
        let told = ContentHash::of(Kind::Value, b"told, not read");
        cache.wrote(&f, &std::fs::metadata(&f).unwrap(), told);
        assert_eq!(cache.hash_file(&f).unwrap(), told);
        let before = std::fs::metadata(&f).unwrap();
        // Same size, later stamps: the stat changes, the bytes are read.
        while std::fs::metadata(&f).unwrap().mtime_nsec() == before.mtime_nsec() {
            std::thread::sleep(std::time::Duration::from_millis(2));
            std::fs::write(&f, b"objecT").unwrap();
        }
        assert_eq!(
            cache.hash_file(&f).unwrap(),
            ContentHash::of(Kind::Value, b"objecT")
        );
        let other = dir.path().join("b.o");
        std::fs::write(&other, b"other").unwrap();
        cache.wrote(&f, &std::fs::metadata(&other).unwrap(), told);
        assert_eq!(
            cache.hash_file(&f).unwrap(),
            ContentHash::of(Kind::Value, b"objecT")
        );
    }

    /// A name with `..` (`programs/../lib/lz4.o`, as a program's link in
    /// `programs/` names an object a hit restored in `lib/`) is named by
    /// the hash kept under its folded name without reading it; through a
    /// directory symlink, where folding names another file, it is read.
    #[test]
    fn a_name_with_dot_dots_is_named_by_its_folded_names_hash() {
        let dir = tempfile::tempdir().unwrap();
        let at = |p: &str| dir.path().join(p);
        std::fs::create_dir_all(at("lib")).unwrap();
        std::fs::create_dir_all(at("programs")).unwrap();
        std::fs::create_dir_all(at("elsewhere/sub")).unwrap();
        std::fs::write(at("lib/lz4.o"), b"object").unwrap();
        std::fs::write(at("elsewhere/lz4.o"), b"other object").unwrap();
        let cache = HashCache::default();
        let told = ContentHash::of(Kind::Value, b"told, not read");
        let lib = at("lib/lz4.o");
        cache.wrote(&lib, &std::fs::metadata(&lib).unwrap(), told);
        assert_eq!(cache.hash_file(&at("programs/../lib/lz4.o")).unwrap(), told);
        assert_eq!(
            cache.hash_file(&at("programs/./../lib/lz4.o")).unwrap(),
            told
        );
        // `link/..` is `elsewhere`, not the dir `link` is in: folded, the
        // name is `lz4.o` beside `link`, another file than the one read.
        std::os::unix::fs::symlink(at("elsewhere/sub"), at("link")).unwrap();
        let beside = at("lz4.o");
        std::fs::write(&beside, b"object").unwrap();
        cache.wrote(&beside, &std::fs::metadata(&beside).unwrap(), told);
        let other = ContentHash::of(Kind::Value, b"other object");
        assert_eq!(cache.hash_file(&at("link/../lz4.o")).unwrap(), other);
    }

    /// A symlink (two hops here) is named by the hash kept for the file it
    /// leads to while that file is unchanged, without reading it; once the
    /// file changes, its bytes are read through the link.
    #[test]
    fn a_symlink_is_named_by_its_unchanged_targets_hash() {
        let dir = tempfile::tempdir().unwrap();
        let (lib, so1, so) = (
            dir.path().join("libx.so.1.2"),
            dir.path().join("libx.so.1"),
            dir.path().join("libx.so"),
        );
        std::fs::write(&lib, b"library").unwrap();
        std::os::unix::fs::symlink("libx.so.1.2", &so1).unwrap();
        std::os::unix::fs::symlink("libx.so.1", &so).unwrap();
        let cache = HashCache::default();
        let told = ContentHash::of(Kind::Value, b"told, not read");
        cache.wrote(&lib, &std::fs::metadata(&lib).unwrap(), told);
        assert_eq!(cache.hash_file(&so).unwrap(), told);
        let before = std::fs::metadata(&lib).unwrap();
        while std::fs::metadata(&lib).unwrap().mtime_nsec() == before.mtime_nsec() {
            std::thread::sleep(std::time::Duration::from_millis(2));
            std::fs::write(&lib, b"librarY").unwrap();
        }
        let read = ContentHash::of(Kind::Value, b"librarY");
        assert_eq!(cache.hash_file(&so).unwrap(), read);
        assert_eq!(cache.hash_file(&so1).unwrap(), read);
        // A plain file with no entry is read.
        let plain = dir.path().join("a.c");
        std::fs::write(&plain, b"src").unwrap();
        assert_eq!(
            cache.hash_file(&plain).unwrap(),
            ContentHash::of(Kind::Value, b"src")
        );
    }

    /// `hash_now` takes a kept hash only for a file whose stamps are older
    /// than `since` by more than a tick (here a kept hash that is not the
    /// file's tells which was used): one changed since may have changed
    /// again under the same stat, so its bytes are read. A directory has
    /// no hash; a missing file is an error.
    #[test]
    fn hash_now_reads_a_file_changed_since() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.c");
        std::fs::write(&f, b"source").unwrap();
        let cache = HashCache::default();
        let told = ContentHash::of(Kind::Value, b"told, not read");
        cache.wrote(&f, &std::fs::metadata(&f).unwrap(), told);
        let later = ggninja_footprint::now_ns() + 5_000_000_000;
        assert_eq!(cache.hash_now(&f, later).unwrap(), Some(told));
        let read = ContentHash::of(Kind::Value, b"source");
        let now = ggninja_footprint::now_ns();
        assert_eq!(cache.hash_now(&f, now).unwrap(), Some(read));
        assert_eq!(cache.hash_now(dir.path(), now).unwrap(), None);
        assert!(cache.hash_now(&dir.path().join("gone"), now).is_err());
    }

    /// A predicted file is named by its prediction, not by the disk; an
    /// unknown one cannot be read; the rest are the disk's.
    #[test]
    fn predictions_come_before_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let (old, gone, plain) = (
            dir.path().join("old.o"),
            dir.path().join("gone.o"),
            dir.path().join("a.c"),
        );
        std::fs::write(&old, b"stale").unwrap();
        std::fs::write(&plain, b"source").unwrap();
        let cache = HashCache::default();
        let predicted = std::sync::Arc::new(Predicted::default());
        cache.set_predicted(predicted.clone());
        let fresh = ContentHash::of(Kind::Value, b"fresh");
        predicted.set(old.clone(), Some(fresh));
        predicted.set(gone.clone(), None);
        assert_eq!(cache.hash_path(&old).unwrap(), Some(fresh));
        assert!(cache.hash_path(&gone).is_err());
        assert_eq!(
            cache.hash_file(&plain).unwrap(),
            ContentHash::of(Kind::Value, b"source")
        );
        predicted.forget(&old);
        assert_eq!(
            cache.hash_file(&old).unwrap(),
            ContentHash::of(Kind::Value, b"stale")
        );
    }

    /// A file hashed as a system file before the prediction (a program the
    /// build makes, named offline) is its prediction after it.
    #[test]
    fn a_prediction_comes_before_a_remembered_system_hash() {
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("tblgen");
        std::fs::write(&tool, b"old build").unwrap();
        let cache = HashCache::default();
        let disk = ContentHash::of(Kind::Value, b"old build");
        assert_eq!(cache.hash_system(&tool).unwrap(), Some(disk));
        let predicted = std::sync::Arc::new(Predicted::default());
        cache.set_predicted(predicted.clone());
        predicted.set(tool.clone(), None);
        assert!(cache.hash_system(&tool).is_err());
        let fresh = ContentHash::of(Kind::Value, b"fresh");
        predicted.set(tool.clone(), Some(fresh));
        assert_eq!(cache.hash_system(&tool).unwrap(), Some(fresh));
        predicted.forget(&tool);
        assert_eq!(cache.hash_system(&tool).unwrap(), Some(disk));
    }
}
