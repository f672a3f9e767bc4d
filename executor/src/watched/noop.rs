//! A no-op, remembered (`.ggninja_watch.noop`): when a watched run found
//! nothing to do, it keeps what that verdict rested on, and the next run of
//! the same request that finds all of it unchanged says "no work to do"
//! without loading the graph or the logs, or stat'ing the tree.
//!
//! Why that is the verdict a full run would reach: the dirty check reads
//! the manifest, the logs, the depfiles and dyndep files it meets, and the
//! mtimes of the files it reaches; the same request on the same inputs
//! reaches the same files and decides the same. The record holds:
//! - the request: this binary, the directory, the manifest's name, the
//!   parser's options and every argument (`Basis::request`);
//! - the manifest's files with their stamps (size, mtime, ctime, inode,
//!   device), as the saved graph keeps them, and the logs' stamps taken
//!   before they were read; each mtime settled (`saved::TICK_NS` older
//!   than when it was taken), so a later write shows in it;
//! - the daemon's stamp of the run's sync and what it could not vouch for
//!   then: every file the daemon watches is unchanged while its journal
//!   holds nothing since that stamp but this module's and the snapshot's
//!   own files, and changes that name neither a file of the graph nor the
//!   directory of one (by the path hashes of the snapshot the run left;
//!   a file it does not hold, named by a depfile, the run stat'ed: below);
//! - every file the run stat'ed itself (not vouched for: outside what the
//!   daemon watches, changed since the last snapshot, named by a depfile)
//!   with the mtime it saw, each settled as above: stat'ed again, each must
//!   read the same;
//! - the stamp of every depfile the scan read (one may lie where the
//!   daemon watches nothing), taken before it read it, settled as above;
//! - the warnings the load printed, printed again; a run that printed
//!   anything else keeps no record.
//!
//! A record is kept only by a run that synced, stat'ed at most `FEW` files
//! itself and none before its sync, and had nothing to do (one for each of
//! the last few requests); any other run removes them. A damaged, foreign
//! or stale record costs one sync and the stats it lists, then the run goes
//! on as without it. Ignores how the verdict was reached (the scan's
//! business).

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use ggninja_importer::ninja::saved::{self, ManifestFile, Stamp as FileStamp};
use ggninja_watch::{Change, Changes, Client, Stamp, Synced};
use serde::{Deserialize, Serialize};

use super::snapshot::{path_hash, Snapshot};
use super::spelling;

/// The records, beside the snapshot: one for each of the last `REQUESTS`
/// requests (a build of one target, then of another, and so on).
const RECORDS: &str = ".ggninja_watch.noop";
const REQUESTS: usize = 8;
/// What this module and the snapshot write start with: their own writes
/// (and the daemon's cookies) say nothing about the tree.
const OWN_PREFIX: &str = ".ggninja_watch.";
const MAGIC: &[u8] = b"ggninja watched no-ops 3\n";

/// What a run's verdict rests on besides the files the scan reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Basis {
    /// The binary, the directory, the manifest and parser options, the
    /// arguments: anything that may change what a run does.
    pub request: String,
    /// The manifest's files as the load found them, and when it began.
    pub manifest: Vec<ManifestFile>,
    pub loaded_ns: i64,
    /// What the load warned about (printed on every run).
    pub warnings: Vec<String>,
    /// The logs as they were before they were read (None: absent), and when.
    pub logs: Vec<(String, Option<FileStamp>)>,
    pub logs_ns: i64,
}

impl Basis {
    /// The stamps of `logs`, taken now (before they are read).
    pub fn stamp_logs(logs: &[String]) -> (Vec<(String, Option<FileStamp>)>, i64) {
        let now = saved::now_ns();
        let stamps = logs.iter().map(|p| (p.clone(), FileStamp::now(p)));
        (stamps.collect(), now)
    }

    /// Whether every stamp is settled, so that a later change shows in it.
    fn settled(&self) -> bool {
        let mut manifest = self.manifest.iter().map(|f| &f.stamp);
        let mut logs = self.logs.iter().map(|(_, s)| s.as_ref());
        !self.manifest.is_empty()
            && manifest.all(|s| s.settled_before(self.loaded_ns))
            && logs.all(|s| s.is_none_or(|s| s.settled_before(self.logs_ns)))
    }

    /// Whether the manifest's files and the logs are as they were.
    fn unchanged(&self) -> bool {
        saved::unchanged(&self.manifest, self.loaded_ns)
            && self.logs.iter().all(|(p, s)| FileStamp::now(p) == *s)
    }
}

#[derive(Serialize, Deserialize)]
struct Record {
    basis: Basis,
    /// The daemon's stamp at the run's sync, and that of the snapshot the
    /// run left (its paths' hashes say which changes name a file of the
    /// graph).
    at: Stamp,
    snapshot: Option<Stamp>,
    /// What the daemon could not vouch for then (sorted).
    always: Vec<Change>,
    /// What the run stat'ed itself: the path and its mtime (0 missing).
    stated: Vec<(String, i64)>,
    /// The depfiles the scan read, stamped before it read them.
    reads: Vec<(String, Option<FileStamp>)>,
}

/// What the records here say of a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Recalled {
    /// Nothing to do: print these warnings again, and that.
    Holds(Vec<String>),
    /// No record for it, or one that no longer holds.
    Not,
    /// The daemon did not answer in time: the run should not wait for it
    /// again.
    Unanswered,
}

/// Whether the record here for `request` still holds.
pub fn recall(request: &str) -> Recalled {
    let Some(record) = load().into_iter().find(|r| r.basis.request == request) else {
        return Recalled::Not;
    };
    let Some(client) = Client::connect(Path::new("")) else {
        return Recalled::Not;
    };
    match client.sync(Some(record.at), Vec::new()) {
        Ok(synced) if holds(&record, &synced) => Recalled::Holds(record.basis.warnings),
        Ok(_) => Recalled::Not,
        Err(_) => Recalled::Unanswered,
    }
}

/// Whether `record` holds, the daemon having answered `synced`.
fn holds(record: &Record, synced: &Synced) -> bool {
    let Ok(here) = std::env::current_dir() else {
        return false;
    };
    let quiet = match &synced.changes {
        Changes::Some(changes) => {
            let foreign: Vec<&Change> = changes.iter().filter(|c| !own(&here, c)).collect();
            foreign.is_empty() || none_named(record.snapshot, &here, &foreign)
        }
        Changes::All => false,
    };
    quiet
        && sorted(synced.always.clone()) == record.always
        && record.basis.unchanged()
        && record
            .stated
            .iter()
            .all(|(p, t)| crate::disk::stat(p).is_ok_and(|now| now == *t))
        && record.reads.iter().all(|(p, s)| FileStamp::now(p) == *s)
}

/// Whether no change names a file of the graph, or the directory of one
/// (whose mtime moves with its entries), by the snapshot the run left
/// (`at`): a file the scan reached and the snapshot does not hold (named
/// by a depfile) is one the run stat'ed, stat'ed again by `holds`.
fn none_named(at: Option<Stamp>, here: &Path, changes: &[&Change]) -> bool {
    let (Some(at), Some(cwd)) = (at, here.to_str()) else {
        return false;
    };
    let Some(snapshot) = Snapshot::load(Path::new(super::STATE)).filter(|s| s.at == at) else {
        return false;
    };
    let graph: HashSet<u64> = snapshot.entries.iter().map(|&(h, _)| h).collect();
    let names = |path: &str| {
        let spelled = spelling::spellings(cwd, path).into_iter().flatten();
        spelled.into_iter().any(|s| graph.contains(&path_hash(&s)))
    };
    changes.iter().all(|c| match c {
        Change::File(p) => !names(p) && spelling::parent(p).is_none_or(|d| !names(d)),
        Change::Under(_) => false,
    })
}

/// The records kept here (none when the file is damaged or foreign).
fn load() -> Vec<Record> {
    let whole = |bytes: &[u8]| -> Option<Vec<Record>> {
        let rest = bytes.strip_prefix(MAGIC)?;
        let (body, sum) = rest.split_last_chunk::<8>()?;
        let ok = rapidhash::v1::rapidhash_v1(body) == u64::from_le_bytes(*sum);
        ok.then(|| postcard::from_bytes(body).ok()).flatten()
    };
    std::fs::read(RECORDS)
        .ok()
        .and_then(|b| whole(&b))
        .unwrap_or_default()
}

/// Writes `records` here, atomically.
fn save(records: &[Record]) -> std::io::Result<()> {
    let body = postcard::to_allocvec(records).expect("records serialize to memory");
    let sum = rapidhash::v1::rapidhash_v1(&body);
    let mut tmp = crate::disk::beside(Path::new(RECORDS))?;
    tmp.write_all(&[MAGIC, &body, &sum.to_le_bytes()].concat())?;
    tmp.persist(RECORDS).map(drop).map_err(|e| e.error)
}

/// Removes the records (a run that had work to do, or could not judge:
/// what changed fails every record's check).
pub fn forget() {
    let _ = std::fs::remove_file(RECORDS);
}

/// Keeps the record of a run that had nothing to do: `basis`, the sync
/// (`at`, when, what the daemon could not vouch for), what it stat'ed
/// itself and the depfiles it read (stamped before, after the sync). None
/// kept when a mtime is too recent to tell a later write.
pub(crate) fn remember(
    basis: &Basis,
    (at, synced_ns, always): (Stamp, i64, &[Change]),
    snapshot: Option<Stamp>,
    stated: Vec<(String, i64)>,
    reads: &[(String, Option<FileStamp>)],
) {
    let before = synced_ns.saturating_sub(saved::TICK_NS);
    let mut read_mtimes = reads
        .iter()
        .map(|(_, s)| s.as_ref().map_or(0, |s| s.mtime_ns));
    let settled = read_mtimes.all(|t| t < before) && stated.iter().all(|(_, t)| *t < before);
    if !settled || !basis.settled() {
        return forget();
    }
    let record = Record {
        basis: basis.clone(),
        at,
        snapshot,
        always: sorted(always.to_vec()),
        stated,
        reads: reads.to_vec(),
    };
    let mut records = load();
    records.retain(|r| r.basis.request != basis.request);
    records.push(record);
    let drop = records.len().saturating_sub(REQUESTS);
    if save(&records[drop..]).is_err() {
        forget();
    }
}

fn sorted(mut changes: Vec<Change>) -> Vec<Change> {
    changes.sort();
    changes
}

/// Whether a change is one of the watcher's own files in the run's
/// directory (the snapshot, these records, their temporaries, cookies).
fn own(here: &Path, change: &Change) -> bool {
    let Change::File(path) = change else {
        return false;
    };
    let path = Path::new(path);
    let name = path.file_name().and_then(|n| n.to_str());
    name.is_some_and(|n| n.starts_with(OWN_PREFIX)) && path.parent() == Some(here)
}
