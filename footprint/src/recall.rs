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
//! older than the walk's start minus a second ([`Stat::racy`]) is not trusted: a file the
//! walk only scanned is kept by its bytes alone (those read when the record
//! is made, and only if they give the directives the walk took from it: a
//! header a build step has just written, restored or generated, as every
//! warm rebuild does), so each later check hashes it; one the compiler read
//! too (the `-M` fallback) likewise, if its bytes were the same just before
//! the compiler ran and after; any other racy file keeps the record from
//! being kept; a directory's stamp is dropped, so its names are always
//! checked.
//!
//! The check takes stats under the compiler's built-in dirs once a process,
//! as the hash cache does (`RunStats::stat_system`: the scanner takes them
//! not to change during a build), the others and
//! listings through the run's [`RunStats`]: a file many records read is
//! stat'ed once a run until the build says it may have changed (`stats`
//! says why that holds), and its check is made once while the run's stats
//! drop nothing ([`RunStats::epoch`]; the records of the edges whose keys
//! are made at once share most of their files). Ignores file contents
//! (a stat stands for them) and the toolchain's answers (kept and checked
//! in `toolchain`).
//!
//! Here: the records and how they are kept; `check` (a record against the
//! disk), `recorder` (a record as a walk makes it), `saved` (the file).

mod check;
mod recorder;
mod saved;
mod tables;

pub(crate) use check::BuiltIn;
use check::{Checked, Look, Restamped};
pub(crate) use recorder::Recorder;

use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use rustc_hash::FxHashMap;
use sha2::{Digest as _, Sha256};

use crate::paths::sort_paths;
use crate::stats::RunStats;
pub(crate) use crate::stats::{now_ns, Stat};

/// What a directory was when a record was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Was {
    Absent,
    At(Stat),
    /// Changed too recently to tell a later change by its stamp.
    Racy,
}

/// A directory a record depends on, with the names looked for in it and
/// not found (`None`: not known, so any change counts). Equal and hashed
/// by its path's bytes (see `FileDep`).
#[derive(Debug, Clone)]
struct DirDep {
    path: PathBuf,
    was: Was,
    names: Option<Vec<String>>,
    checked: Checked,
}

impl PartialEq for DirDep {
    fn eq(&self, o: &DirDep) -> bool {
        (self.path.as_os_str(), self.was, &self.names) == (o.path.as_os_str(), o.was, &o.names)
    }
}

impl Eq for DirDep {}

impl Hash for DirDep {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (self.path.as_os_str(), self.was, &self.names).hash(h);
    }
}

impl DirDep {
    fn new(path: PathBuf, was: Was, names: Option<Vec<String>>) -> DirDep {
        DirDep {
            path,
            was,
            names,
            checked: Checked::default(),
        }
    }
}

/// A SHA-256 of a file's bytes.
pub(crate) type Digest = [u8; 32];

/// A file a record depends on: its stat, and its bytes' digest for when
/// the stat changed. Equal and hashed by its path's bytes: `Path`'s own
/// `Hash` walks components, and saving the records hashed every file and
/// directory of every record (most of a save's time).
#[derive(Debug)]
struct FileDep {
    path: PathBuf,
    stat: Stat,
    digest: Digest,
    checked: Checked,
}

impl PartialEq for FileDep {
    fn eq(&self, o: &FileDep) -> bool {
        (self.path.as_os_str(), self.stat, self.digest) == (o.path.as_os_str(), o.stat, o.digest)
    }
}

impl Eq for FileDep {}

impl Hash for FileDep {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (self.path.as_os_str(), self.stat, self.digest).hash(h);
    }
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

/// One compile's walk: its answer and what it depends on (what many
/// records share is shared: see `saved`).
#[derive(Debug)]
pub(crate) struct Record {
    /// Sorted by bytes, as a footprint gives them: merged with a
    /// template's few, they sort in linear time (`sort_paths`).
    pub headers: Vec<PathBuf>,
    /// Sorted likewise.
    pub absent: Vec<PathBuf>,
    files: Vec<Arc<FileDep>>,
    dirs: Vec<Arc<DirDep>>,
}

impl Record {
    fn sorted(
        mut headers: Vec<PathBuf>,
        mut absent: Vec<PathBuf>,
        files: Vec<Arc<FileDep>>,
        dirs: Vec<Arc<DirDep>>,
    ) -> Record {
        sort_paths(&mut headers);
        sort_paths(&mut absent);
        Record {
            headers,
            absent,
            files,
            dirs,
        }
    }
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
/// for yet, as its frame in the loaded file (`saved`): a run that
/// compiles a few files asks for a few of the hundreds of records, and
/// decoding the others' numbers and making their paths was most of the
/// load.
enum Kept {
    Made(Arc<Record>),
    Loaded(Numbers),
}

/// A loaded record: its frame in the loaded file, whose headers, absent
/// paths, files and dirs are numbers in the loaded tables, decoded and
/// checked in range when it is asked for (`saved`).
struct Numbers {
    tables: Arc<tables::Tables>,
    frame: std::ops::Range<usize>,
}

impl Numbers {
    /// The record, or None if its frame is damaged.
    fn record(&self) -> Option<Record> {
        let (headers, absent, files, dirs) = self.parts()?;
        let t = &self.tables;
        let paths = |v: Vec<u32>| v.iter().map(|&i| t.path(i).to_path_buf()).collect();
        let files = files.iter().map(|&i| t.file(i).clone());
        let dirs = dirs.iter().map(|&i| t.dir(i).cloned());
        let dirs: Option<Vec<Arc<DirDep>>> = dirs.collect();
        // Sorted already when saved by this version: then in linear time.
        let (headers, absent) = (paths(headers), paths(absent));
        Some(Record::sorted(headers, absent, files.collect(), dirs?))
    }
}

/// A record [`Recall::get`] found: shared when this run made it, else read
/// from its frame for this caller alone.
pub(crate) enum Found {
    Shared(Arc<Record>),
    Own(Record),
}

impl Found {
    fn record(&self) -> &Record {
        match self {
            Found::Shared(r) => r,
            Found::Own(r) => r,
        }
    }

    /// Its headers and absent paths, moved out when they are its own.
    pub(crate) fn into_paths(self) -> (Vec<PathBuf>, Vec<PathBuf>) {
        match self {
            Found::Shared(r) => (r.headers.clone(), r.absent.clone()),
            Found::Own(r) => (r.headers, r.absent),
        }
    }
}

/// The saved walks and this run's digests.
pub(crate) struct Recall {
    /// When this run began: what was read since shows stamps older than
    /// a tick before it as they are (see `Stat::racy`).
    start_ns: i64,
    records: RwLock<FxHashMap<Key, Entry>>,
    /// This run's digests, each with the stat it was taken at.
    digests: RwLock<FxHashMap<OsString, (Stat, Digest)>>,
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
            digests: RwLock::default(),
            restamped: RwLock::default(),
            added: AtomicUsize::default(),
            used: AtomicUsize::default(),
        }
    }
}

impl Recall {
    /// The record of `key` if the disk still gives its answer; `sys` says
    /// which paths are under the compiler's built-in dirs, `stats` is the
    /// run's.
    pub fn get(&self, key: &Key, sys: impl BuiltIn, stats: &RunStats) -> Option<Found> {
        let found = {
            let records = self.records.read().unwrap();
            let e = records.get(key)?;
            e.used.store(true, Ordering::Relaxed);
            match &e.kept {
                Kept::Made(r) => Found::Shared(Arc::clone(r)),
                // Read anew should it be asked for again (a run asks for
                // each once): its paths then go to the caller uncopied.
                Kept::Loaded(n) => Found::Own(n.record()?),
            }
        };
        let look = Look {
            recall: self,
            sys,
            stats,
        };
        look.holds(found.record()).then(|| {
            self.used.fetch_add(1, Ordering::Relaxed);
            found
        })
    }

    /// The record kept under `key`, unchecked.
    #[cfg(test)]
    fn kept(&self, key: &Key) -> Option<Arc<Record>> {
        match &self.records.read().unwrap().get(key)?.kept {
            Kept::Made(r) => Some(Arc::clone(r)),
            Kept::Loaded(n) => n.record().map(Arc::new),
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
        if let Some((s, d)) = self.digests.read().unwrap().get(path.as_os_str()) {
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
            .insert(path.as_os_str().to_os_string(), (stat, d));
        Some(d)
    }
}

/// For tests: no path lies under the compiler's built-in dirs.
#[cfg(test)]
fn none_built_in(_: &Path) -> bool {
    false
}
