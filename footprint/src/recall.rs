//! Header walks kept between runs: a compile whose files and include dirs
//! did not change gets the headers an earlier run's walk (and `-M`
//! fallback) found, without walking again or running the compiler.
//!
//! A record is kept under a key naming everything its answer depends on
//! apart from the disk: the program, the working directory, the words and
//! each language's search chain and forced includes (the template, made
//! afresh each run). What it depends on in the disk is kept beside it and
//! checked before the record is used:
//! - every file read (sources, forced includes, headers): its stat
//!   (device, inode, type, size, mtime, ctime, symlinks followed) must be
//!   unchanged (the scan cache keys directives by the same stat), or else
//!   its bytes' SHA-256 must be: a header a build step writes again with
//!   the same bytes (libgit2's forced `clar_suite.h`, remade after every
//!   clean) gives the same walk;
//! - every directory an include was looked for in and not found: its stat.
//!   Where it changed (a file came or went, `-t clean` removed outputs, a
//!   symlink now points elsewhere), each name looked for there must still
//!   not be a regular file: then the walk would land where it did;
//! - after a computed include (the `-M` fallback) the names the
//!   preprocessor looked for are not known: each file it listed beyond the
//!   walk is taken as found under every base it lies in (a chain dir, the
//!   dir of a file read), and that rest of its path counts as looked for in
//!   every base; a file under no base makes its directory's stat binding.
//!
//! A file found unchanged by its bytes under a new stat (a checkout that
//! rewrote it, a package upgrade that reinstalled the same headers), or a
//! directory whose names are still missing under a new stat, none of them
//! even listed (a dangling symlink there may come to point at a file
//! without changing the directory), is kept with that stat at the next
//! save, unless the stat is racy against the run's start (the bytes and
//! the listing were read after it): later runs then check it by its stat
//! again instead of reading and hashing it every run. A dir's new stat
//! goes only to the dependency that checked its names: another record
//! missed other names there.
//!
//! Racy stamps (git's rule): a file or directory changed in the clock tick
//! of a walk may keep its stamp while its contents change. A stamp not
//! older than the walk's start minus [`RACY_NS`] is not trusted: a file the
//! walk only scanned is kept by its bytes alone (those read when the record
//! is made, and only if they give the directives the walk took from it: a
//! header a build step has just written, restored or generated, as every
//! warm rebuild does), so each later check hashes it; one the compiler read
//! too (the `-M` fallback) likewise, if its bytes were the same just before
//! the compiler ran and after; any other racy file keeps the record from
//! being kept; a directory's stamp is dropped, so its names are always
//! checked.
//!
//! The check takes stats under the compiler's built-in dirs once per run
//! (the scanner takes them not to change during a build), the others and
//! listings through the run's [`RunStats`]: a file many records read is
//! stat'ed once a run until the build says it may have changed (`stats`
//! says why that holds), and its check is made once while the run's stats
//! drop nothing ([`RunStats::epoch`]; the records of the edges whose keys
//! are made at once share most of their files). Ignores file contents
//! (a stat stands for them) and the toolchain's answers (kept and checked
//! in `toolchain`).

mod saved;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use rustc_hash::FxHashMap;
use sha2::{Digest as _, Sha256};

/// A stamp this close to a walk's start (or after it) is not trusted:
/// file systems stamp with a clock that lags by up to a tick.
pub(crate) const RACY_NS: i64 = 1_000_000_000;

use crate::stats::RunStats;
pub(crate) use crate::stats::Stat;
use crate::{parse_directives, Directive};

impl Stat {
    fn racy(&self, start_ns: i64) -> bool {
        self.4.max(self.5) >= start_ns - RACY_NS
    }
}

/// What a directory was when a record was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Was {
    Absent,
    At(Stat),
    /// Changed too recently to tell a later change by its stamp.
    Racy,
}

/// A directory a record depends on, with the names looked for in it and
/// not found (`None`: not known, so any change counts).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DirDep {
    path: PathBuf,
    was: Was,
    names: Option<Vec<String>>,
}

/// A SHA-256 of a file's bytes.
pub(crate) type Digest = [u8; 32];

/// The stat of a file kept by its bytes alone: no file has it.
const BYTES_ONLY: Stat = Stat(0, 0, 0, 0, 0, 0);

/// How the answer depends on a file: through the directives the walk took
/// from it (when known), or (the `-M` fallback's) in any way.
enum Read {
    Walked(Option<Arc<Vec<Directive>>>),
    Any,
}

/// A file a record depends on: its stat, and its bytes' digest for when
/// the stat changed.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FileDep {
    path: PathBuf,
    stat: Stat,
    digest: Digest,
    checked: Checked,
}

impl FileDep {
    fn new(path: PathBuf, stat: Stat, digest: Digest) -> FileDep {
        FileDep {
            path,
            stat,
            digest,
            checked: Checked::default(),
        }
    }
}

/// A file dependency's last check (whether it held) with the
/// `RunStats::epoch` it was made in, apart for a look under the built-in
/// dirs and one through the run's stats: the records of the edges made at
/// once share most of their files (the system headers), and within one
/// epoch a check gives what it gave. Not part of the dependency: equal,
/// hashed and printed as nothing.
#[derive(Default)]
struct Checked([AtomicU64; 2]);

impl Checked {
    fn get(&self, sys: bool, epoch: u64) -> Option<bool> {
        let v = self.0[usize::from(sys)].load(Ordering::Relaxed);
        (v >> 1 == epoch).then_some(v & 1 == 1)
    }

    fn set(&self, sys: bool, epoch: u64, held: bool) {
        self.0[usize::from(sys)].store(epoch << 1 | u64::from(held), Ordering::Relaxed);
    }
}

impl PartialEq for Checked {
    fn eq(&self, _: &Checked) -> bool {
        true
    }
}

impl Eq for Checked {}

impl std::hash::Hash for Checked {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("_")
    }
}

/// One compile's walk: its answer and what it depends on (what many
/// records share is shared: see `saved`).
#[derive(Debug)]
pub(crate) struct Record {
    pub headers: Vec<PathBuf>,
    pub absent: Vec<PathBuf>,
    files: Vec<Arc<FileDep>>,
    dirs: Vec<Arc<DirDep>>,
}

/// The key of a record: a SHA-256 of what decides the answer besides the
/// disk (see the module doc).
pub(crate) type Key = [u8; 32];

/// Hashes `parts`, each length-prefixed, into a key.
pub(crate) fn key<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Key {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

struct Entry {
    kept: Kept,
    unused_saves: u32,
    used: AtomicBool,
}

/// A record as kept: made or asked for this run, or loaded and not asked
/// for yet, its parts as numbers in the loaded tables (`saved`): a run
/// that compiles a few files asks for a few of the hundreds of records,
/// and making the others' paths was most of the load.
enum Kept {
    Made(Arc<Record>),
    Loaded(Numbers),
}

/// A loaded record's headers, absent paths, files and dirs, by their
/// numbers in the loaded tables (checked in range when loaded).
struct Numbers {
    tables: Arc<Tables>,
    headers: Vec<u32>,
    absent: Vec<u32>,
    files: Vec<u32>,
    dirs: Vec<u32>,
}

/// The tables loaded records name their parts in.
#[derive(Default)]
struct Tables {
    paths: Vec<PathBuf>,
    files: Vec<Arc<FileDep>>,
    dirs: Vec<Arc<DirDep>>,
}

impl Numbers {
    fn record(&self) -> Record {
        let t = &self.tables;
        let paths = |v: &[u32]| v.iter().map(|&i| t.paths[i as usize].clone()).collect();
        Record {
            headers: paths(&self.headers),
            absent: paths(&self.absent),
            files: self
                .files
                .iter()
                .map(|&i| t.files[i as usize].clone())
                .collect(),
            dirs: self
                .dirs
                .iter()
                .map(|&i| t.dirs[i as usize].clone())
                .collect(),
        }
    }
}

/// The saved walks, this run's stats of paths under the built-in dirs and
/// its digests.
pub(crate) struct Recall {
    /// When this run began: what was read since shows stamps older than
    /// a tick before it as they are (see `Stat::racy`).
    start_ns: i64,
    records: RwLock<FxHashMap<Key, Entry>>,
    /// (By the path's bytes: hashing a `Path` walks its components.)
    sys_stats: RwLock<FxHashMap<Vec<u8>, Option<Stat>>>,
    /// This run's digests, each with the stat it was taken at.
    digests: RwLock<FxHashMap<PathBuf, (Stat, Digest)>>,
    /// Files whose bytes gave their record's digest under a new stat, and
    /// dirs whose names were still missing under a new stat (settled ones
    /// only): the stats the next save keeps (see the module doc).
    restamped: RwLock<Restamped>,
    /// Records made this run (the file is rewritten only then).
    added: AtomicUsize,
    /// Records used this run.
    used: AtomicUsize,
}

impl Default for Recall {
    fn default() -> Recall {
        Recall {
            start_ns: now_ns(),
            records: RwLock::default(),
            sys_stats: RwLock::default(),
            digests: RwLock::default(),
            restamped: RwLock::default(),
            added: AtomicUsize::default(),
            used: AtomicUsize::default(),
        }
    }
}

/// New stats found to stand for what records kept (see `Recall::restamped`).
#[derive(Default)]
struct Restamped {
    files: FxHashMap<PathBuf, (Stat, Digest)>,
    /// By the dependency, names and all.
    dirs: FxHashMap<DirDep, Stat>,
}

impl Restamped {
    fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }
}

/// Now, in nanoseconds since the epoch (what `Stat::racy` compares with).
fn now_ns() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_nanos()).unwrap_or(i64::MAX)
}

/// How a check sees the disk: paths under the compiler's built-in dirs
/// (`sys`) stat'ed once a run (the scanner takes them not to change during
/// a build), the others and listings through the run's stats.
struct Look<'a, S> {
    recall: &'a Recall,
    sys: S,
    stats: &'a RunStats,
}

impl<S: Fn(&Path) -> bool> Look<'_, S> {
    fn stat(&self, path: &Path) -> Option<Stat> {
        self.stat_as(path, (self.sys)(path))
    }

    fn stat_as(&self, path: &Path, sys: bool) -> Option<Stat> {
        if !sys {
            return self.stats.stat(path);
        }
        let key = path.as_os_str().as_bytes();
        if let Some(s) = self.recall.sys_stats.read().unwrap().get(key) {
            return *s;
        }
        let s = Stat::of(path);
        let mut kept = self.recall.sys_stats.write().unwrap();
        kept.insert(key.to_vec(), s);
        s
    }

    fn holds(&self, r: &Record) -> bool {
        let epoch = self.stats.epoch();
        let file_holds = |f: &Arc<FileDep>| {
            let sys = (self.sys)(&f.path);
            f.checked.get(sys, epoch).unwrap_or_else(|| {
                let held = self.file_holds(f, sys);
                f.checked.set(sys, epoch, held);
                held
            })
        };
        r.files.iter().all(file_holds) && r.dirs.iter().all(|d| self.dir_holds(d))
    }

    fn file_holds(&self, f: &FileDep, sys: bool) -> bool {
        match self.stat_as(&f.path, sys) {
            Some(now) if now == f.stat => true,
            // Written again: the same bytes give the same directives.
            Some(now) => {
                let same = self.recall.digest(&f.path, now) == Some(f.digest);
                if same && !now.racy(self.recall.start_ns) {
                    let mut r = self.recall.restamped.write().unwrap();
                    r.files.insert(f.path.clone(), (now, f.digest));
                }
                same
            }
            None => false,
        }
    }

    fn dir_holds(&self, d: &DirDep) -> bool {
        let now = self.stat(&d.path);
        let same = match d.was {
            Was::Absent => now.is_none(),
            Was::At(s) => now == Some(s),
            Was::Racy => false,
        };
        if same {
            return true;
        }
        let Some(names) = &d.names else {
            return false;
        };
        if !self.still_missing(&d.path, names) {
            return false;
        }
        let settled = now.filter(|s| !s.racy(self.recall.start_ns));
        if let Some(now) = settled.filter(|_| self.none_listed(&d.path, names)) {
            let mut r = self.recall.restamped.write().unwrap();
            r.dirs.insert(d.clone(), now);
        }
        true
    }

    /// Whether `dir` lists none of `names`, of whatever type.
    fn none_listed(&self, dir: &Path, names: &[String]) -> bool {
        let listed = self.stats.names_in(dir);
        listed.is_some_and(|l| !names.iter().any(|n| l.contains(std::ffi::OsStr::new(n))))
    }

    /// Whether none of `names` is a regular file in `dir` (symlinks
    /// followed): one listing of the dir, and a stat of each name it holds.
    fn still_missing(&self, dir: &Path, names: &[String]) -> bool {
        let Some(listed) = self.stats.names_in(dir) else {
            // Gone, or not a dir: nothing is found under it.
            return self.stat(dir).is_none_or(|s| !s.is_dir());
        };
        let is_file = |n: &String| self.stat(&dir.join(n)).is_some_and(|s| s.is_file());
        !names
            .iter()
            .any(|n| listed.contains(std::ffi::OsStr::new(n)) && is_file(n))
    }
}

impl Recall {
    /// The record of `key` if the disk still gives its answer; `sys` says
    /// which paths are under the compiler's built-in dirs, `stats` is the
    /// run's.
    pub fn get(
        &self,
        key: &Key,
        sys: impl Fn(&Path) -> bool,
        stats: &RunStats,
    ) -> Option<Arc<Record>> {
        let (record, made_now) = {
            let records = self.records.read().unwrap();
            let e = records.get(key)?;
            e.used.store(true, Ordering::Relaxed);
            match &e.kept {
                Kept::Made(r) => (Arc::clone(r), false),
                Kept::Loaded(n) => (Arc::new(n.record()), true),
            }
        };
        if made_now {
            let mut records = self.records.write().unwrap();
            // Unless a `put` replaced it meanwhile.
            if let Some(e) = records
                .get_mut(key)
                .filter(|e| matches!(e.kept, Kept::Loaded(_)))
            {
                e.kept = Kept::Made(Arc::clone(&record));
            }
        }
        let look = Look {
            recall: self,
            sys,
            stats,
        };
        look.holds(&record).then(|| {
            self.used.fetch_add(1, Ordering::Relaxed);
            record
        })
    }

    /// The record kept under `key`, unchecked.
    #[cfg(test)]
    fn kept(&self, key: &Key) -> Option<Arc<Record>> {
        match &self.records.read().unwrap().get(key)?.kept {
            Kept::Made(r) => Some(Arc::clone(r)),
            Kept::Loaded(n) => Some(Arc::new(n.record())),
        }
    }

    /// How many records this run used.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Keeps `record` under `key` (replacing an older one).
    pub fn put(&self, key: Key, record: Record) {
        let entry = Entry {
            kept: Kept::Made(Arc::new(record)),
            unused_saves: 0,
            used: AtomicBool::new(true),
        };
        self.records.write().unwrap().insert(key, entry);
        self.added.fetch_add(1, Ordering::Relaxed);
    }

    /// The digest of `path`'s bytes, which `stat` is the stat of: each
    /// file read once a run while its stat holds. None: not a readable
    /// regular file.
    pub(crate) fn digest(&self, path: &Path, stat: Stat) -> Option<Digest> {
        if let Some((s, d)) = self.digests.read().unwrap().get(path) {
            if *s == stat {
                return Some(*d);
            }
        }
        if stat.2 != 0o100000 {
            return None;
        }
        let bytes = std::fs::read(path).ok()?;
        // Changed while read: its bytes are not the ones `stat` stands for.
        if Stat::of(path) != Some(stat) {
            return None;
        }
        let d: Digest = Sha256::digest(&bytes).into();
        self.digests
            .write()
            .unwrap()
            .insert(path.to_path_buf(), (stat, d));
        Some(d)
    }
}

/// What a walk read and looked for, gathered as it goes (absolute paths),
/// then stat'ed into a [`Record`].
pub(crate) struct Recorder {
    start_ns: i64,
    files: BTreeMap<PathBuf, Read>,
    /// The digests of the racy files read before the compiler ran.
    before: BTreeMap<PathBuf, Digest>,
    /// Directory -> names looked for there and not found.
    misses: BTreeMap<PathBuf, BTreeSet<String>>,
    /// Directories whose any change counts.
    strict: BTreeSet<PathBuf>,
    /// What the answer depends on is not all known: keep nothing.
    unknown: bool,
}

impl Recorder {
    /// Starts recording: stamps from now on are racy.
    pub fn start() -> Recorder {
        Recorder {
            start_ns: now_ns(),
            files: BTreeMap::new(),
            before: BTreeMap::new(),
            misses: BTreeMap::new(),
            strict: BTreeSet::new(),
            unknown: false,
        }
    }

    /// The answer depends on something not recorded: it is not kept.
    pub fn not_kept(&mut self) {
        self.unknown = true;
    }

    /// The compiler is about to read the files: the racy ones' bytes now.
    pub fn before_compiler(&mut self) {
        let racy = |p: &&PathBuf| Stat::of(p).is_some_and(|s| s.racy(self.start_ns));
        let racy: Vec<PathBuf> = self.files.keys().filter(racy).cloned().collect();
        for path in racy {
            if let Ok(bytes) = std::fs::read(&path) {
                self.before.insert(path, Sha256::digest(&bytes).into());
            }
        }
    }

    /// The answer depends on `path` in any way (the compiler read it).
    pub fn read(&mut self, path: PathBuf) {
        self.files.insert(path, Read::Any);
    }

    /// The walk took `path` as found or a root, and `directives` from it
    /// if it scanned it.
    pub fn walked(&mut self, path: PathBuf, directives: Option<Arc<Vec<Directive>>>) {
        let read = self.files.entry(path).or_insert(Read::Walked(None));
        if let (Read::Walked(d), Some(_)) = (&mut *read, &directives) {
            *d = directives;
        }
    }

    /// The walk looked for `path` and found no file there.
    pub fn missed(&mut self, path: &Path) {
        // A path ending in `..` names a dir: never a regular file,
        // so never found there, whatever changes.
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return;
        };
        // A name that is not UTF-8 cannot be saved: its dir binds.
        match name.to_str() {
            Some(n) => {
                let names = self.misses.entry(dir.to_path_buf()).or_default();
                names.insert(n.to_string());
            }
            None => self.strict(dir.to_path_buf()),
        }
    }

    /// Any change of `dir` counts.
    pub fn strict(&mut self, dir: PathBuf) {
        self.strict.insert(dir);
    }

    /// The record of the answer `headers`, `absent`, or `None` when a file
    /// read is gone or racy (or a strict dir racy): not worth keeping. Dirs
    /// under the built-in dirs (`sys`) are kept strict: they hardly change,
    /// and their names would fill every record.
    pub fn finish(
        mut self,
        headers: Vec<PathBuf>,
        absent: Vec<PathBuf>,
        sys: impl Fn(&Path) -> bool,
        recall: &Recall,
    ) -> Option<Record> {
        if self.unknown {
            return None;
        }
        let mut files = Vec::with_capacity(self.files.len());
        for (path, read) in std::mem::take(&mut self.files) {
            let stat = Stat::of(&path)?;
            let dep = match read {
                // Not racy: unchanged since before the walk, so its bytes
                // now are the ones the walk read.
                _ if !stat.racy(self.start_ns) => {
                    let digest = recall.digest(&path, stat)?;
                    FileDep::new(path, stat, digest)
                }
                Read::Walked(Some(directives)) => {
                    bytes_only(path, |b| parse_directives(b) == *directives)?
                }
                Read::Any => {
                    let before = self.before.get(&path).copied();
                    bytes_only(path, |b| before == Some(Sha256::digest(b).into()))?
                }
                Read::Walked(None) => return None,
            };
            files.push(Arc::new(dep));
        }
        let misses = std::mem::take(&mut self.misses);
        let (strict, named): (Vec<_>, Vec<_>) = misses.into_iter().partition(|(d, _)| sys(d));
        self.strict.extend(strict.into_iter().map(|(d, _)| d));
        let mut dirs = Vec::with_capacity(named.len() + self.strict.len());
        for path in &self.strict {
            let was = self.was(path);
            if was == Was::Racy {
                return None;
            }
            let (path, names) = (path.clone(), None);
            dirs.push(Arc::new(DirDep { path, was, names }));
        }
        for (path, names) in named.into_iter().filter(|(d, _)| !self.strict.contains(d)) {
            let (was, names) = (self.was(&path), Some(names.into_iter().collect()));
            dirs.push(Arc::new(DirDep { path, was, names }));
        }
        Some(Record {
            headers,
            absent,
            files,
            dirs,
        })
    }

    fn was(&self, dir: &Path) -> Was {
        match Stat::of(dir) {
            None => Was::Absent,
            Some(s) if s.racy(self.start_ns) => Was::Racy,
            Some(s) => Was::At(s),
        }
    }
}

/// A racy file kept by its bytes now, if `gave_the_answer` says they give
/// the record's answer (the directives the walk took from it; the bytes
/// the compiler read).
fn bytes_only(path: PathBuf, gave_the_answer: impl Fn(&[u8]) -> bool) -> Option<FileDep> {
    let bytes = std::fs::read(&path).ok()?;
    if !gave_the_answer(&bytes) {
        return None;
    }
    let digest = Sha256::digest(&bytes).into();
    Some(FileDep::new(path, BYTES_ONLY, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn old(path: &Path) {
        // An hour ago: not racy.
        let t = SystemTime::now() - std::time::Duration::from_secs(3600);
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(t).unwrap();
    }

    fn record_of(dir: &Path, header: &Path) -> Option<Record> {
        let mut r = Recorder::start();
        r.read(header.to_path_buf());
        r.missed(&dir.join("sub/none.h"));
        let recall = Recall::default();
        r.finish(vec![header.to_path_buf()], Vec::new(), |_| false, &recall)
    }

    #[test]
    fn a_file_stamped_in_the_walk_keeps_no_record() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        std::fs::write(&h, "x").unwrap();
        // Its ctime is now, whatever its mtime: racy.
        old(&h);
        assert!(record_of(d.path(), &h).is_none());
    }

    /// A header just written (a generator's, a hit's restore) is racy:
    /// the record keeps it by the bytes there now, if they give what the
    /// walk took from it, and holds while the bytes do.
    #[test]
    fn a_file_the_walk_only_scanned_is_kept_by_its_bytes_when_racy() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        let text = "#include <b.h>\n";
        std::fs::write(&h, text).unwrap();
        let scanned = Arc::new(parse_directives(text.as_bytes()));
        let recall = Recall::default();
        let finish = |directives: &Arc<Vec<Directive>>| {
            let mut r = Recorder::start();
            r.walked(h.clone(), None);
            r.walked(h.clone(), Some(directives.clone()));
            r.finish(vec![h.clone()], Vec::new(), |_| false, &recall)
        };
        // What the walk took is not what the file gives now: not kept.
        let other = Arc::new(parse_directives(b"#include <c.h>\n"));
        assert!(finish(&other).is_none());
        let k = key([b"k".as_slice()]);
        recall.put(k, finish(&scanned).expect("kept by its bytes"));
        let no_sys = || RunStats::default();
        assert!(recall.get(&k, |_| false, &no_sys()).is_some());
        // Written again with the same bytes, then with others.
        std::fs::remove_file(&h).unwrap();
        std::fs::write(&h, text).unwrap();
        assert!(recall.get(&k, |_| false, &no_sys()).is_some());
        std::fs::write(&h, "#include <b.h>\n\n").unwrap();
        assert!(recall.get(&k, |_| false, &no_sys()).is_none());
        // Read by the compiler too (the `-M` fallback): kept only if its
        // bytes were these before the compiler ran.
        let compiled = |before: bool, after: &str| {
            std::fs::write(&h, text).unwrap();
            let mut r = Recorder::start();
            r.walked(h.clone(), Some(scanned.clone()));
            if before {
                r.before_compiler();
            }
            std::fs::write(&h, after).unwrap();
            r.read(h.clone());
            r.finish(vec![], Vec::new(), |_| false, &recall)
        };
        assert!(compiled(false, text).is_none());
        assert!(compiled(true, "#include <b.h> /* the same directives */\n").is_none());
        assert!(compiled(true, text).is_some());
    }

    #[test]
    fn a_record_holds_until_a_file_changes_or_a_missed_name_appears() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        std::fs::write(&h, "x").unwrap();
        // As `Recorder::finish` keeps it once the stamps are old.
        let r = Record {
            headers: vec![h.clone()],
            absent: Vec::new(),
            files: vec![Arc::new(FileDep::new(
                h.clone(),
                Stat::of(&h).unwrap(),
                Sha256::digest(b"x").into(),
            ))],
            dirs: vec![Arc::new(DirDep {
                path: d.path().join("sub"),
                was: Was::Absent,
                names: Some(vec!["none.h".to_string()]),
            })],
        };
        let recall = Recall::default();
        let k = key([b"k".as_slice()]);
        recall.put(k, r);
        // Stats as a new run takes them.
        let no_sys = || RunStats::default();
        assert!(recall.get(&k, |_| false, &no_sys()).is_some());
        // The dir appears, without the name: still holds.
        std::fs::create_dir(d.path().join("sub")).unwrap();
        assert!(recall.get(&k, |_| false, &no_sys()).is_some());
        std::fs::write(d.path().join("sub/none.h"), "").unwrap();
        assert!(recall.get(&k, |_| false, &no_sys()).is_none());
        std::fs::remove_file(d.path().join("sub/none.h")).unwrap();
        assert!(recall.get(&k, |_| false, &no_sys()).is_some());
        std::fs::write(&h, "y").unwrap();
        assert!(recall.get(&k, |_| false, &no_sys()).is_none());
        // Written again with its old bytes (a new file, a new stat): the
        // same walk; then other bytes of the same size: not.
        std::fs::remove_file(&h).unwrap();
        std::fs::write(&h, "x").unwrap();
        assert!(recall.get(&k, |_| false, &no_sys()).is_some());
        std::fs::write(&h, "z").unwrap();
        assert!(recall.get(&k, |_| false, &no_sys()).is_none());
    }

    /// A header written again with the same bytes, in a dir where a
    /// missed name is still missing, holds; once the new stats are settled
    /// the next save keeps them, so later runs check by stat, reading
    /// nothing. Racy new stats are not kept.
    #[test]
    fn what_holds_under_a_new_stat_is_saved_with_it() {
        let d = tempfile::tempdir().unwrap();
        let (h, sub) = (d.path().join("a.h"), d.path().join("sub"));
        std::fs::write(&h, "x").unwrap();
        let old_stat = Stat::of(&h).unwrap();
        let r = Record {
            headers: vec![h.clone()],
            absent: Vec::new(),
            files: vec![Arc::new(FileDep::new(
                h.clone(),
                old_stat,
                Sha256::digest(b"x").into(),
            ))],
            dirs: vec![Arc::new(DirDep {
                path: sub.clone(),
                was: Was::Absent,
                names: Some(vec!["none.h".to_string()]),
            })],
        };
        let saved = d.path().join(".ggninja_footprints");
        let k = key([b"k".as_slice()]);
        let first = Recall::default();
        first.put(k, r);
        first.save(&saved).unwrap();
        std::fs::remove_file(&h).unwrap();
        std::fs::write(&h, "x").unwrap();
        std::fs::create_dir(&sub).unwrap();
        // One run: load, check, save; what the file then keeps.
        let run = || {
            let recall = Recall::default();
            recall.load(&saved);
            assert!(recall.get(&k, |_| false, &RunStats::default()).is_some());
            recall.save(&saved).unwrap();
            let back = Recall::default();
            back.load(&saved);
            let r = back.kept(&k).unwrap();
            let read = recall.digests.read().unwrap().len();
            (r.files[0].stat, r.dirs[0].was, read)
        };
        assert_eq!(run(), (old_stat, Was::Absent, 1), "racy: nothing new kept");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let (new_file, new_dir) = (Stat::of(&h).unwrap(), Stat::of(&sub).unwrap());
        assert_eq!(run(), (new_file, Was::At(new_dir), 1));
        assert_eq!(run(), (new_file, Was::At(new_dir), 0), "checked by stat");
        // Other bytes under a settled stat: the record no longer holds.
        std::fs::write(&h, "y").unwrap();
        let recall = Recall::default();
        recall.load(&saved);
        assert!(recall.get(&k, |_| false, &RunStats::default()).is_none());
    }

    /// A file's check is remembered while the run's stats stand: once the
    /// build says it wrote the file, or in another run, it is made again.
    #[test]
    fn a_check_lasts_until_the_run_s_stats_drop_answers() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        std::fs::write(&h, "x").unwrap();
        let dep = FileDep::new(
            h.clone(),
            Stat::of(&h).unwrap(),
            Sha256::digest(b"x").into(),
        );
        let record = Record {
            headers: vec![h.clone()],
            absent: Vec::new(),
            files: vec![Arc::new(dep)],
            dirs: Vec::new(),
        };
        let (recall, k) = (Recall::default(), key([b"k".as_slice()]));
        recall.put(k, record);
        let stats = RunStats::default();
        assert!(recall.get(&k, |_| false, &stats).is_some());
        std::fs::write(&h, "other").unwrap();
        // The run's stats still give the old stat: so does the check.
        assert!(recall.get(&k, |_| false, &stats).is_some());
        stats.wrote(&h);
        assert!(recall.get(&k, |_| false, &stats).is_none());
        std::fs::write(&h, "x").unwrap();
        let other_run = RunStats::default();
        assert!(recall.get(&k, |_| false, &other_run).is_some());
        std::fs::write(&h, "other").unwrap();
        assert!(recall.get(&k, |_| false, &other_run).is_some());
        assert!(
            recall.get(&k, |_| true, &other_run).is_none(),
            "under the built-in dirs"
        );
        assert!(recall.get(&k, |_| false, &RunStats::default()).is_none());
    }

    /// A record that only missed `name` in `dir`, found there `was`.
    fn missed_in(dir: &Path, was: Was, name: &str) -> Record {
        Record {
            headers: Vec::new(),
            absent: Vec::new(),
            files: Vec::new(),
            dirs: vec![Arc::new(DirDep {
                path: dir.to_path_buf(),
                was,
                names: Some(vec![name.to_string()]),
            })],
        }
    }

    /// Saves `records` under keys 1, 2, ... in a new file at `saved`.
    fn save_new(saved: &Path, records: Vec<Record>) -> Vec<Key> {
        let recall = Recall::default();
        let keys: Vec<Key> = (0..records.len())
            .map(|i| key([i.to_string().as_bytes()]))
            .collect();
        for (k, r) in keys.iter().zip(records) {
            recall.put(*k, r);
        }
        recall.save(saved).unwrap();
        keys
    }

    /// One run: load, ask for `asked` (whether each holds), save.
    fn run_asking(saved: &Path, asked: &[Key]) -> Vec<bool> {
        let recall = Recall::default();
        recall.load(saved);
        let stats = RunStats::default();
        let held = asked
            .iter()
            .map(|k| recall.get(k, |_| false, &stats).is_some());
        let held = held.collect();
        recall.save(saved).unwrap();
        held
    }

    /// Two records missed different names in one dir: the dir's new stat,
    /// found by one, is not kept for the other, whose name is there now.
    #[test]
    fn a_dir_s_new_stat_vouches_only_for_the_names_checked() {
        let d = tempfile::tempdir().unwrap();
        let inc = d.path().join("inc");
        std::fs::create_dir(&inc).unwrap();
        let before = Was::At(Stat::of(&inc).unwrap());
        let saved = d.path().join(".ggninja_footprints");
        let keys = save_new(
            &saved,
            vec![
                missed_in(&inc, before, "a.h"),
                missed_in(&inc, before, "b.h"),
            ],
        );
        std::fs::write(inc.join("b.h"), "").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(run_asking(&saved, &keys[..1]), [true]);
        assert_eq!(run_asking(&saved, &keys), [true, false]);
    }

    /// A missed name that is a dangling symlink may come to name a file
    /// without its dir changing: the dir's new stat is not kept.
    #[test]
    fn a_dir_listing_a_missed_name_keeps_its_stat() {
        let d = tempfile::tempdir().unwrap();
        let (inc, gen) = (d.path().join("inc"), d.path().join("gen"));
        std::fs::create_dir(&inc).unwrap();
        std::fs::create_dir(&gen).unwrap();
        std::os::unix::fs::symlink("../gen/config.h", inc.join("config.h")).unwrap();
        let elsewhere = Was::At(Stat(1, 2, 0o040000, 3, 4, 5));
        let saved = d.path().join(".ggninja_footprints");
        let keys = save_new(&saved, vec![missed_in(&inc, elsewhere, "config.h")]);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(run_asking(&saved, &keys), [true]);
        std::fs::write(gen.join("config.h"), "").unwrap();
        assert_eq!(run_asking(&saved, &keys), [false]);
    }

    /// A file rewritten after the run began is racy for the whole run,
    /// however late its check: its bytes may have been read in its tick.
    #[test]
    fn a_stat_newer_than_the_run_is_not_kept() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        std::fs::write(&h, "x").unwrap();
        let old = Stat::of(&h).unwrap();
        let digest = Sha256::digest(b"x").into();
        let record = Record {
            headers: vec![h.clone()],
            absent: Vec::new(),
            files: vec![Arc::new(FileDep::new(h.clone(), old, digest))],
            dirs: Vec::new(),
        };
        let saved = d.path().join(".ggninja_footprints");
        let keys = save_new(&saved, vec![record]);
        let run = Recall::default();
        std::fs::remove_file(&h).unwrap();
        std::fs::write(&h, "x").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        run.load(&saved);
        assert!(run.get(&keys[0], |_| false, &RunStats::default()).is_some());
        run.save(&saved).unwrap();
        let back = Recall::default();
        back.load(&saved);
        assert_eq!(back.kept(&keys[0]).unwrap().files[0].stat, old);
    }

    #[test]
    fn a_kept_record_names_the_digest_of_what_the_walk_read() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        std::fs::write(&h, "#include <b.h>\n").unwrap();
        old(&h);
        let recall = Recall::default();
        let stat = Stat::of(&h).unwrap();
        let want: Digest = Sha256::digest(b"#include <b.h>\n").into();
        assert_eq!(recall.digest(&h, stat), Some(want));
        // Changed since: its new stat gets its new bytes' digest; a stale
        // stat, asked for the first time this run, none.
        std::fs::write(&h, "other").unwrap();
        let now = Stat::of(&h).unwrap();
        let other: Digest = Sha256::digest(b"other").into();
        assert_eq!(recall.digest(&h, now), Some(other));
        assert_eq!(Recall::default().digest(&h, stat), None);
        assert_eq!(recall.digest(d.path(), Stat::of(d.path()).unwrap()), None);
    }
}
