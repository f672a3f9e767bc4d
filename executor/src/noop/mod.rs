//! A no-op, remembered (`.ggninja_noop`): when a run found nothing to do,
//! it keeps what that verdict rested on, and the next run of the same
//! request that finds all of it unchanged says "no work to do" without
//! loading the graph or the logs. On a large tree the load and the scan
//! are most of a no-op: what is left is a stat of each file, on every core.
//!
//! Why that is the verdict a full run would reach: the dirty check reads
//! the manifest, the logs, the depfiles and dyndep files it meets, and the
//! mtimes of the files it reaches; the same request on the same inputs
//! reaches the same files and decides the same. The record holds:
//! - the request: this binary, the directory, the manifest's name, the
//!   parser's options and every argument (`Basis::request`);
//! - the manifest's files with their stamps (size, mtime, ctime, inode,
//!   device), as the saved graph keeps them, and the logs' stamps taken
//!   before they were read;
//! - every file the run stat'ed with the mtime it saw (0 missing), sorted
//!   by path; with a watcher, only those the daemon could not vouch for,
//!   and the daemon's stamp instead of the rest (`watched/quiet.rs`);
//! - the stamp of every depfile and dyndep file the scan read, taken
//!   before it read it (their text, not only their mtime, is read);
//! - the warnings the load printed, printed again; a run that printed
//!   anything else keeps no record.
//!
//! Every mtime in it is settled: `saved::TICK_NS` older than the run's
//! start (the manifest's and logs' than their load's), so a later write
//! shows in it even on a file system with coarse times. Only the files
//! whose text is read need it (for a file only stat'ed, the same mtime is
//! the same verdict); it is kept for all, as it costs nothing: a run within
//! seconds of a build finds that build's logs unsettled anyway. A record is checked
//! cheapest part first (the daemon, the stamps, the reads, then the files,
//! `restat.rs`), and the first difference ends the check.
//!
//! A record is kept only by a run that had nothing to do (one for each of
//! the last few requests, `records.rs`); a build that has work to do
//! removes them (a failed or refused run may leave them: each record
//! checks itself). A
//! damaged, foreign or stale record costs its check, then the run goes on
//! as without it. Ignores how the verdict was reached (the scan's
//! business).

mod files;
mod records;
mod restat;

use std::path::Path;

use ggninja_graph::FileId;
use ggninja_importer::ninja::saved::{self, ManifestFile, Stamp as FileStamp};
use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::watched::quiet::Quiet;
use files::Files;

pub(crate) use records::RECORDS;

/// At most this many depfiles and dyndep files read by a scan whose
/// verdict is remembered (each is a stamp in the record).
pub(crate) const READS: usize = 1 << 16;

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
    /// When the run began, before it stat'ed anything.
    pub began_ns: i64,
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
    /// The watcher's word, when the run synced with one.
    quiet: Option<Quiet>,
    /// What the run stat'ed (itself, with a watcher), in `restat`'s order.
    stated: Files,
    /// The depfiles and dyndep files the scan read, stamped before.
    reads: Vec<(String, Option<FileStamp>)>,
}

/// What the records here say of a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Recalled {
    /// Nothing to do: print these warnings again, and that.
    Holds(Vec<String>),
    /// No record for it, or one that no longer holds; what its check
    /// stat'ed, for the run to take (`Engine::take_seen`).
    Not(Seen),
    /// The record rests on a watcher that did not answer in time: the run
    /// should not wait for it again.
    Unanswered,
}

/// Mtimes a check found: stats the run need not make again. Only a record
/// that rested on no watcher gives any (a watched run keeps only stats
/// made after its sync).
pub type Seen = Files;

/// Whether the record here for `request` still holds: its stamps, the
/// reads, the watcher's word, then its files, on every core.
pub fn recall(request: &str) -> Recalled {
    let not = || Recalled::Not(Seen::default());
    let Some(file) = records::read(Path::new(RECORDS)) else {
        return not();
    };
    let record = records::find(&file, request).and_then(|r| postcard::from_bytes(r).ok());
    let Some(record) = record.filter(|r: &Record| r.stated.well_formed()) else {
        return not();
    };
    match record.quiet.as_ref().map(Quiet::holds) {
        Some(Err(())) => return Recalled::Unanswered,
        Some(Ok(false)) => return not(),
        Some(Ok(true)) | None => {}
    }
    let unchanged =
        record.basis.unchanged() && record.reads.iter().all(|(p, s)| FileStamp::now(p) == *s);
    if !unchanged {
        return not();
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match restat::check(record.stated, cores) {
        (true, _) => Recalled::Holds(record.basis.warnings),
        (false, _) if record.quiet.is_some() => not(),
        (false, seen) => Recalled::Not(seen),
    }
}

/// Removes the records (a run that had work to do, or could not judge:
/// what changed fails every record's check).
pub fn forget() {
    let _ = std::fs::remove_file(RECORDS);
}

/// Keeps the verdict of `engine`'s run, which had nothing to do, given
/// what else it rests on (`basis`); None: the run had work to do, or its
/// verdict may not be kept (the old records are removed). After the scan,
/// before anything runs.
pub(crate) fn keep(engine: &Engine, basis: Option<&Basis>, quiet: Option<Stamped>) {
    let _t = crate::metrics::time("no-op kept");
    let reads = engine.reads.as_ref().filter(|r| r.len() <= READS);
    let (Some(basis), Some(reads)) = (basis, reads) else {
        return forget();
    };
    // Every mtime the record would rest on settled, else none is kept
    // (judged before the list is made: a run just after a build meets
    // that build's logs and outputs).
    let before = basis.began_ns.saturating_sub(saved::TICK_NS);
    let settled = |t: i64| t < before;
    let mut read_mtimes = reads
        .iter()
        .map(|(_, s)| s.as_ref().map_or(0, |s| s.mtime_ns));
    if !basis.settled() || !read_mtimes.all(settled) {
        return forget();
    }
    // A watched run that stat'ed many files itself lists all it knew.
    let stated = match quiet {
        Some((q, stated)) => stated.iter().all(|(_, t)| settled(*t)).then(|| {
            (
                Some(q),
                stated.iter().map(|(p, t)| (p.as_str(), *t)).collect(),
            )
        }),
        None => self::stated(engine, settled).map(|s| (None, s)),
    };
    match stated {
        Some((quiet, stated)) => remember(basis, quiet, stated, reads),
        None => forget(),
    }
}

/// What a watched run's verdict rests on from the watcher (`Watched::quiet`).
pub(crate) type Stamped = (Quiet, Vec<(String, i64)>);

/// How many of the newest files no build writes `restat` stats first.
const HOT: usize = 256;

/// Every file whose mtime the scan knew (stat'ed, or the watcher's word),
/// with that mtime (0 missing), in the order `restat` stats them: where an
/// edit is likeliest first, so that a record that no longer holds costs
/// few stats before the run goes on. That is the newest `HOT` files no
/// build writes (a file just edited is edited again), the other files no
/// build writes, then the outputs; each part in the graph's order (which
/// `dir_stat` serves as well as one by path, on bench/everyday.sh's tree).
/// None if a mtime is not `settled`.
fn stated(engine: &Engine, settled: impl Fn(i64) -> bool) -> Option<Files> {
    let graph = &engine.graph;
    let written = |f: FileId| {
        let by = graph.file(f).in_build;
        by.is_some_and(|b| !graph.build(b).generated_by_dep_loader)
    };
    // By file number: its mtime, if known, and whether a build writes it.
    let known: Vec<Option<(i64, bool)>> = graph
        .file_nodes()
        .iter()
        .map(|&f| Some((engine.stat_of(f)?, written(f))))
        .collect();
    if !known.iter().flatten().all(|&(t, _)| settled(t)) {
        return None;
    }
    let mut newest: Vec<(i64, u32)> = (0..known.len() as u32)
        .filter_map(|n| match known[n as usize] {
            Some((t, false)) => Some((t, n)),
            _ => None,
        })
        .collect();
    if HOT < newest.len() {
        newest.select_nth_unstable_by_key(HOT, |&(t, _)| std::cmp::Reverse(t));
        newest.truncate(HOT);
    }
    let mut hot = vec![false; known.len()];
    newest.iter().for_each(|&(_, n)| hot[n as usize] = true);
    let (known, hot) = (&known, &hot);
    let part = |wanted: fn(bool, bool) -> bool| {
        let numbers = 0..known.len();
        numbers.filter_map(move |n| match known[n] {
            Some((t, written)) if wanted(hot[n], written) => Some((n as u32, t)),
            _ => None,
        })
    };
    let order = part(|hot, _| hot)
        .chain(part(|hot, written| !hot && !written))
        .chain(part(|_, written| written));
    Some(Files::from_numbered(&graph.paths, order))
}

/// Writes the record of `basis`'s request (every mtime in it settled).
fn remember(
    basis: &Basis,
    quiet: Option<Quiet>,
    stated: Files,
    reads: &[(String, Option<FileStamp>)],
) {
    let record = Record {
        basis: basis.clone(),
        quiet,
        stated,
        reads: reads.to_vec(),
    };
    if records::put(Path::new(RECORDS), &basis.request, &record).is_err() {
        forget();
    }
}
