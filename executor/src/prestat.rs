//! Stats, before the dirty check, every file it can reach from the targets,
//! in parallel (rayon, through `Disk::stat_all`): the no-op of a large tree
//! is mostly stat calls, one after another in ninja. The scan then takes
//! each mtime from here instead of the disk, in its own order and with its
//! own decisions, so nothing but where the numbers come from changes.
//!
//! Reaching is a superset of what the scan stats: every input, output,
//! validation and dyndep file of every build on the way, and the deps the
//! deps log holds for a build's first output (the scan may find them stale
//! and never look). Ignores: what the numbers mean; a stat that fails (left
//! for the scan, which stats again and reports it where ninja would). The
//! numbers hold only until something runs: `Builder::build` and
//! `Engine::reset_states` drop them, and each is used at most once.

use ggninja_graph::FileId;

use crate::engine::Engine;

/// Mtimes stat'ed ahead, by node index; `UNKNOWN` where there is none.
#[derive(Default)]
pub(crate) struct Prestat {
    mtimes: Vec<i64>,
}

/// Not stat'ed ahead (a real mtime is 0, for missing, or more).
const UNKNOWN: i64 = -1;

impl Prestat {
    /// The mtime stat'ed ahead for `id`, once: later stats go to the disk.
    pub(crate) fn take(&mut self, id: FileId) -> Option<i64> {
        let slot = self.mtimes.get_mut(id.index())?;
        let t = std::mem::replace(slot, UNKNOWN);
        (t != UNKNOWN).then_some(t)
    }

    /// Forgets every mtime: the files may have changed since.
    pub(crate) fn clear(&mut self) {
        self.mtimes = Vec::new();
    }

    fn known(&self, id: FileId) -> bool {
        self.mtimes.get(id.index()).is_some_and(|&t| t != UNKNOWN)
    }
}

impl Engine {
    /// Stats, all at once and in parallel, the files the dirty check of
    /// `targets` may stat and has not yet.
    pub fn prestat(&mut self, targets: &[FileId]) {
        let _t = crate::metrics::time("node stat ahead (parallel)");
        let ids = self.files_to_stat(targets);
        let paths: Vec<&str> = ids.iter().map(|&f| self.graph.path(f)).collect();
        let mtimes = self.disk.stat_all(&paths);
        let table = &mut self.prestat.mtimes;
        table.resize(self.graph.node_count().max(table.len()), UNKNOWN);
        for (id, mtime) in ids.into_iter().zip(mtimes) {
            if let Some(t) = mtime {
                table[id.index()] = t;
            }
        }
    }

    /// The files reachable from `targets` (see the module doc) that are
    /// neither stat'ed nor stat'ed ahead, each once.
    fn files_to_stat(&self, targets: &[FileId]) -> Vec<FileId> {
        let mut seen = vec![false; self.graph.node_count()];
        let mut stack = targets.to_vec();
        let mut found = Vec::new();
        while let Some(f) = stack.pop() {
            if std::mem::replace(&mut seen[f.index()], true) {
                continue;
            }
            if self.nodes[f.index()].exists.is_none() && !self.prestat.known(f) {
                found.push(f);
            }
            let Some(b) = self.graph.file(f).in_build else {
                continue;
            };
            if std::mem::replace(&mut seen[b.index()], true) {
                continue;
            }
            let build = self.graph.build(b);
            stack.extend(
                build
                    .outs
                    .iter()
                    .chain(&build.ins)
                    .chain(&*build.validations),
            );
            stack.extend(build.dyndep);
            if let Some(deps) = build.outs.first().and_then(|&o| self.deps_log.get(o)) {
                stack.extend(deps.nodes.iter());
            }
        }
        found
    }
}
