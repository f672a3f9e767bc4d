//! The watcher's part of a remembered no-op (`noop`): a run that synced
//! with a daemon keeps the daemon's stamp, and the next run asks the daemon
//! whether anything the verdict rested on changed since, rather than stat
//! every file again.
//!
//! Why the daemon's word is enough: every file it watches is unchanged
//! while its journal holds nothing since that stamp but the runs' own
//! files (`own`), and changes that name neither a file of the graph nor
//! the directory of one (by the path hashes of the snapshot the run left;
//! a file it does not hold, named by a depfile, the run stat'ed itself, and
//! the record lists it). What the daemon could not vouch for then must be
//! what it cannot vouch for now. Ignores the files the run stat'ed itself
//! (the record's list, checked by `noop`).

use std::collections::HashSet;
use std::path::Path;

use ggninja_watch::{Change, Changes, Client, Stamp, Synced};
use serde::{Deserialize, Serialize};

use super::snapshot::{path_hash, Snapshot};
use super::spelling;

/// What the watcher's own files and the runs' records start with: their
/// writes (and the daemon's cookies) say nothing about the tree.
const OWN_PREFIXES: [&str; 2] = [".ggninja_watch.", crate::noop::RECORDS];

/// The daemon's stamp at a run's sync, and what it could not vouch for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quiet {
    at: Stamp,
    /// The stamp of the snapshot the run left (its paths' hashes say which
    /// changes name a file of the graph).
    snapshot: Option<Stamp>,
    /// Sorted.
    always: Vec<Change>,
}

impl Quiet {
    pub(crate) fn new(at: Stamp, snapshot: Option<Stamp>, always: &[Change]) -> Quiet {
        let always = sorted(always.to_vec());
        Quiet {
            at,
            snapshot,
            always,
        }
    }

    /// Whether nothing changed since the stamp but what no verdict rests
    /// on. Err: no daemon answered (a run should not wait for it again).
    pub(crate) fn holds(&self) -> Result<bool, ()> {
        let client = Client::connect(Path::new("")).ok_or(())?;
        let synced = client.sync(Some(self.at), Vec::new()).map_err(drop)?;
        Ok(self.quiet(&synced))
    }

    fn quiet(&self, synced: &Synced) -> bool {
        let Ok(here) = std::env::current_dir() else {
            return false;
        };
        let quiet = match &synced.changes {
            Changes::Some(changes) => {
                let foreign: Vec<&Change> = changes.iter().filter(|c| !own(&here, c)).collect();
                foreign.is_empty() || none_named(self.snapshot, &here, &foreign)
            }
            Changes::All => false,
        };
        quiet && sorted(synced.always.clone()) == self.always
    }
}

/// Whether no change names a file of the graph, or the directory of one
/// (whose mtime moves with its entries), by the snapshot the run left
/// (`at`).
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

fn sorted(mut changes: Vec<Change>) -> Vec<Change> {
    changes.sort();
    changes
}

/// Whether a change is one of the watcher's or the records' own files in
/// the run's directory (the snapshot, the records, their temporaries,
/// cookies).
fn own(here: &Path, change: &Change) -> bool {
    let Change::File(path) = change else {
        return false;
    };
    let path = Path::new(path);
    let name = path.file_name().and_then(|n| n.to_str());
    let ours = |n: &str| OWN_PREFIXES.iter().any(|p| n.starts_with(p));
    name.is_some_and(ours) && path.parent() == Some(here)
}
