//! Mtimes a watcher vouches for (`ggninja -t watch`, crate `watch`): with
//! a daemon serving the run's directory, the run keeps its stats in a
//! snapshot (`.ggninja_watch.state`, by file number, `snapshot.rs`) taken
//! at the daemon's stamp, and the next run stats only the files the daemon
//! says changed since, or cannot vouch for; the rest take their mtime from
//! the snapshot, so a no-op of a large tree makes few stat calls.
//!
//! Why the snapshot is true: the run syncs before it stats (`recall`), so
//! the daemon watches every directory of a file the run may stat from a
//! stamp taken before the stat; a change after the stamp is journaled
//! after it and reported next time. Files the run named only later (made
//! by the scan, or not spelled canonically) are not kept. Ignores: what the
//! mtimes mean (the scan decides as with stats); a run with no daemon, or
//! whose sync fails, stats as before.

pub(crate) mod quiet;
mod snapshot;
mod spelling;

use std::collections::HashSet;
use std::path::Path;

use ggninja_graph::{FileId, Graph};
use ggninja_watch::{Change, Changes, Client, Stamp};

use quiet::Quiet;
use snapshot::{path_hash, Snapshot, UNKNOWN, UNSEEN};

/// In `Watched::vouched`: a file stat'ed before the sync.
const EARLY: i64 = -2;

/// The snapshot, beside the daemon's socket (its events are the daemon's own).
pub(crate) const STATE: &str = ".ggninja_watch.state";

/// A run's dealings with the watcher.
pub(crate) struct Watched {
    /// Until the sync.
    client: Option<Client>,
    /// The run's directory, physical.
    cwd: String,
    /// The stamp of the snapshot the sync found (kept when nothing changed).
    kept_at: Option<Stamp>,
    /// After the sync: what the run learns is true as of this stamp, and
    /// what the daemon could not vouch for then.
    at: Option<Stamp>,
    always: Vec<Change>,
    /// By file number, what the daemon vouched for.
    vouched: Vec<i64>,
    /// By file number, what the snapshot read held (`kept`); and whether
    /// it no longer serves as is (missing, another daemon's, of other paths).
    before: Vec<i64>,
    rewrite: bool,
    /// Whether the sync left so few files of the last run to stat that
    /// listing the reachable ones to stat ahead costs more than it saves.
    pub(crate) few_to_stat: bool,
}

/// Files the scan stats itself, one by one, rather than list and stat
/// ahead (`prestat`): a list of the reachable files alone takes ~15 ms on
/// 87k edges, as long as ~10,000 stats.
const FEW: usize = 1024;

impl Watched {
    /// The watcher serving the run's directory, if one answers there.
    pub(crate) fn connect() -> Option<Watched> {
        // The connect first: with no daemon, it is all a build pays.
        let client = Client::connect(Path::new(""))?;
        let cwd = std::env::current_dir().ok()?.to_str()?.to_string();
        Some(Watched {
            client: Some(client),
            cwd,
            kept_at: None,
            at: None,
            always: Vec::new(),
            vouched: Vec::new(),
            before: Vec::new(),
            rewrite: true,
            few_to_stat: false,
        })
    }

    /// Syncs with the daemon (once): by file number, the mtime it vouches
    /// for (0 missing; negative: stat the file). `stated` says which
    /// files were stat'ed already (their mtimes are not kept). Err: the
    /// sync failed (stat everything); Ok(None): synced before.
    pub(crate) fn recall(
        &mut self,
        graph: &Graph,
        stated: impl Fn(FileId) -> bool,
    ) -> Result<Option<&[i64]>, ()> {
        let Some(client) = self.client.take() else {
            return Ok(None);
        };
        let _t = crate::metrics::time("watcher sync");
        let old = Snapshot::load(Path::new(STATE));
        self.kept_at = old.as_ref().map(|s| s.at);
        let (mut vouched, moved) = kept(graph, old.as_ref());
        let before = vouched.clone();
        let known = |v: &[i64]| v.iter().filter(|&&t| t >= 0).count();
        let known_before = known(&vouched);
        let sent_all = vouched.iter().all(|&t| t == UNKNOWN);
        let dirs = dirs_of_unknown(graph, &self.cwd, &vouched);
        let mut synced = client
            .sync(old.as_ref().map(|s| s.at), dirs)
            .map_err(drop)?;
        let all = matches!(synced.changes, Changes::All);
        match &synced.changes {
            Changes::Some(changes) => forget(graph, &self.cwd, &mut vouched, changes),
            Changes::All => vouched.fill(UNKNOWN),
        }
        if all && !sent_all {
            // Another daemon, which may not watch what the old snapshot
            // covered: every directory must be its before a stat counts.
            let dirs = dirs_of_unknown(graph, &self.cwd, &vouched);
            let again = Client::connect(Path::new("")).ok_or(())?;
            synced = again.sync(Some(synced.at), dirs).map_err(drop)?;
        }
        forget(graph, &self.cwd, &mut vouched, &synced.always);
        let forgotten = known_before - known(&vouched);
        self.few_to_stat = !all && old.is_some() && forgotten < FEW;
        for (n, t) in vouched.iter_mut().enumerate() {
            if stated(graph.file_nodes()[n]) {
                // Stat'ed before the stamp: what changed since may be
                // before it too. Not kept.
                *t = EARLY;
            }
        }
        self.rewrite = all || moved;
        self.always = std::mem::take(&mut synced.always);
        (self.at, self.vouched, self.before) = (Some(synced.at), vouched, before);
        Ok(Some(&self.vouched))
    }

    /// Saves what the run knows of its files for the next run (after the
    /// scan, before anything runs: every mtime known is a stat's), unless
    /// the old snapshot says the same. `stat` gives a file's mtime as the
    /// scan found it (0 missing), if it was stat'ed. The stamp of the
    /// snapshot left on disk, if one of this graph is.
    pub(crate) fn remember(
        &self,
        graph: &Graph,
        stat: impl Fn(FileId) -> Option<i64>,
    ) -> Option<Stamp> {
        let at = self.at?;
        let paths = &graph.paths;
        // Every file numbered here had its directory watched before a
        // stat (sent this run, or by a run the same daemon answered).
        let mtimes: Vec<i64> = (0..self.vouched.len())
            .map(|n| {
                let t = match stat(graph.file_nodes()[n]) {
                    _ if self.vouched[n] == EARLY => UNSEEN,
                    Some(t) => t,
                    None if self.vouched[n] >= 0 => self.vouched[n],
                    None => UNSEEN,
                };
                // A file kept before has its path checked already.
                let checked = self.before[n] != UNKNOWN;
                match checked || spelling::watchable(paths.get(n as u32)) {
                    true => t,
                    false => UNKNOWN,
                }
            })
            .collect();
        if !self.rewrite && mtimes == self.before {
            return self.kept_at;
        }
        let hashes = (0..mtimes.len()).map(|n| path_hash(paths.get(n as u32)));
        let entries = hashes.zip(mtimes).collect();
        // Only a cache: one not written is a full stat next time.
        Snapshot { at, entries }
            .save(Path::new(STATE))
            .ok()
            .map(|()| at)
    }
}

impl Watched {
    /// What a remembered no-op rests on from this run (`noop`): the
    /// daemon's word as of the sync, and the files the run stat'ed itself,
    /// with their mtimes. None unless the run synced and stat'ed few files
    /// itself, none before the sync. `stat` as for `remember`, `snapshot`
    /// what `remember` left.
    pub(crate) fn quiet(
        &self,
        graph: &Graph,
        stat: impl Fn(FileId) -> Option<i64>,
        snapshot: Option<Stamp>,
    ) -> Option<(Quiet, Vec<(String, i64)>)> {
        let at = self.at?;
        let mut stated = Vec::new();
        for (n, &f) in graph.file_nodes().iter().enumerate() {
            let vouched = self.vouched.get(n).copied().unwrap_or(UNKNOWN);
            if vouched == EARLY || stated.len() > FEW {
                return None;
            }
            if let (Some(t), true) = (stat(f), vouched < 0) {
                stated.push((graph.paths.get(n as u32).to_string(), t));
            }
        }
        Some((Quiet::new(at, snapshot, &self.always), stated))
    }
}

/// By file number: the mtime `old` holds for it (or `UNSEEN`), where its
/// path is the same; and whether `old` must be written anew (missing, or of other paths).
fn kept(graph: &Graph, old: Option<&Snapshot>) -> (Vec<i64>, bool) {
    let count = graph.file_nodes().len();
    let mut kept = vec![UNKNOWN; count];
    let Some(old) = old else {
        return (kept, true);
    };
    let mut moved = old.entries.len() != count;
    for (n, (k, &(hash, t))) in kept.iter_mut().zip(&old.entries).enumerate() {
        if t >= 0 || t == UNSEEN {
            match path_hash(graph.paths.get(n as u32)) == hash {
                true => *k = t,
                false => moved = true,
            }
        }
    }
    (kept, moved)
}

/// The directories (absolute) of the files nothing vouches for yet.
fn dirs_of_unknown(graph: &Graph, cwd: &str, vouched: &[i64]) -> Vec<String> {
    let unknown = (0..vouched.len()).filter(|&n| vouched[n] == UNKNOWN);
    let parents: HashSet<&str> = unknown
        .map(|n| graph.paths.get(n as u32))
        .filter(|p| spelling::watchable(p))
        .map(|p| spelling::parent(p).unwrap_or(""))
        .collect();
    let dirs = parents
        .into_iter()
        .filter_map(|p| spelling::absolute(cwd, p));
    dirs.collect::<HashSet<_>>().into_iter().collect()
}

/// Drops what the daemon says may have changed: each file and its
/// directory (whose mtime moves with its entries), and all under a
/// directory that changed.
fn forget(graph: &Graph, cwd: &str, vouched: &mut [i64], changes: &[Change]) {
    let mut under = HashSet::new();
    let mut drop = |path: &str| {
        for s in spelling::spellings(cwd, path).into_iter().flatten() {
            if let Some(n) = graph.paths.find(&s) {
                vouched[n as usize] = UNKNOWN;
            }
        }
    };
    for change in changes {
        let path = match change {
            Change::File(p) => p,
            Change::Under(p) if spelling::contains(p, cwd) => return vouched.fill(UNKNOWN),
            Change::Under(p) => {
                under.extend(spelling::spellings(cwd, p).into_iter().flatten());
                p
            }
        };
        drop(path);
        if let Some(dir) = spelling::parent(path) {
            drop(dir);
        }
    }
    if under.is_empty() {
        return;
    }
    for (n, t) in vouched.iter_mut().enumerate() {
        if *t >= 0 && spelling::some_ancestor(graph.paths.get(n as u32), &under) {
            *t = UNKNOWN;
        }
    }
}
