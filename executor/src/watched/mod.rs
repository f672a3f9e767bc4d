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

mod snapshot;
mod spelling;

use std::collections::HashSet;
use std::path::Path;

use ggninja_graph::Graph;
use ggninja_watch::{Change, Changes, Client, Stamp};

use crate::engine::Engine;
use snapshot::{path_hash, Snapshot, UNKNOWN, UNSEEN};

/// In `Watched::vouched`: a file stat'ed before the sync.
const EARLY: i64 = -2;

/// The snapshot, beside the daemon's socket (its events are the daemon's own).
const STATE: &str = ".ggninja_watch.state";

/// A run's dealings with the watcher.
pub(crate) struct Watched {
    /// Until the sync.
    client: Option<Client>,
    /// The run's directory, physical.
    cwd: String,
    /// After the sync: what the run learns is true as of this stamp.
    at: Option<Stamp>,
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

impl Engine {
    /// Whether a watcher serves the run's directory (then `prestat` asks
    /// it first, and the manifest's files are not stat'ed ahead).
    pub fn watch(&mut self) -> bool {
        let cwd = std::env::current_dir().ok();
        let cwd = cwd.and_then(|d| d.to_str().map(str::to_string));
        let client = cwd.as_ref().and_then(|_| Client::connect(Path::new("")));
        self.watched = cwd.zip(client).map(|(cwd, client)| Watched {
            client: Some(client),
            cwd,
            at: None,
            vouched: Vec::new(),
            before: Vec::new(),
            rewrite: true,
            few_to_stat: false,
        });
        self.watched.is_some()
    }

    /// Sets the mtimes the watcher vouches for on files not stat'ed yet;
    /// once, after the logs are loaded and before the scan. A failed sync
    /// leaves every file to stat.
    pub fn recall_watched(&mut self) {
        let Some(w) = self.watched.as_mut() else {
            return;
        };
        let Some(client) = w.client.take() else {
            return;
        };
        let _t = crate::metrics::time("watcher sync");
        let old = Snapshot::load(Path::new(STATE));
        let (mut vouched, moved) = kept(&self.graph, old.as_ref());
        let before = vouched.clone();
        let known = |v: &[i64]| v.iter().filter(|&&t| t >= 0).count();
        let known_before = known(&vouched);
        let sent_all = vouched.iter().all(|&t| t == UNKNOWN);
        let dirs = dirs_of_unknown(&self.graph, &w.cwd, &vouched);
        let Ok(mut synced) = client.sync(old.as_ref().map(|s| s.at), dirs) else {
            self.watched = None;
            return;
        };
        let all = matches!(synced.changes, Changes::All);
        match &synced.changes {
            Changes::Some(changes) => forget(&self.graph, &w.cwd, &mut vouched, changes),
            Changes::All => vouched.fill(UNKNOWN),
        }
        if all && !sent_all {
            // Another daemon, which may not watch what the old snapshot
            // covered: every directory must be its before a stat counts.
            let dirs = dirs_of_unknown(&self.graph, &w.cwd, &vouched);
            let again = Client::connect(Path::new("")).map(|c| c.sync(Some(synced.at), dirs));
            let Some(Ok(again)) = again else {
                self.watched = None;
                return;
            };
            synced = again;
        }
        forget(&self.graph, &w.cwd, &mut vouched, &synced.always);
        let forgotten = known_before - known(&vouched);
        w.few_to_stat = !all && old.is_some() && forgotten < FEW;
        for (n, t) in vouched.iter_mut().enumerate() {
            let st = &mut self.nodes[self.graph.file_nodes()[n].index()];
            if st.exists.is_some() {
                // Stat'ed before the stamp: what changed since may be
                // before it too. Not kept.
                *t = EARLY;
            } else if *t >= 0 {
                st.mtime = *t;
                st.exists = Some(*t != 0);
            }
        }
        w.rewrite = all || moved;
        (w.at, w.vouched, w.before) = (Some(synced.at), vouched, before);
    }

    /// Saves what the run knows of its files for the next run (after the
    /// scan, before anything runs: every mtime known is a stat's), unless
    /// the old snapshot says the same.
    pub fn remember_watched(&mut self) {
        let Some(w) = self.watched.as_ref() else {
            return;
        };
        let Some(at) = w.at else { return };
        if self.config.dry_run {
            return;
        }
        let paths = &self.graph.paths;
        // Every file numbered here had its directory watched before a
        // stat (sent this run, or by a run the same daemon answered).
        let mtimes: Vec<i64> = (0..w.vouched.len())
            .map(|n| {
                let st = &self.nodes[self.graph.file_nodes()[n].index()];
                let t = match st.exists {
                    _ if w.vouched[n] == EARLY => UNSEEN,
                    Some(true) => st.mtime,
                    Some(false) => 0,
                    None if w.vouched[n] >= 0 => w.vouched[n],
                    None => UNSEEN,
                };
                // A file kept before has its path checked already.
                let checked = w.before[n] != UNKNOWN;
                match checked || spelling::watchable(paths.get(n as u32)) {
                    true => t,
                    false => UNKNOWN,
                }
            })
            .collect();
        if !w.rewrite && mtimes == w.before {
            return;
        }
        let hashes = (0..mtimes.len()).map(|n| path_hash(paths.get(n as u32)));
        let entries = hashes.zip(mtimes).collect();
        // Only a cache: one not written is a full stat next time.
        let _ = Snapshot { at, entries }.save(Path::new(STATE));
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
        .map(|p| {
            p.rfind('/')
                .map_or("", |i| if i == 0 { "/" } else { &p[..i] })
        })
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
