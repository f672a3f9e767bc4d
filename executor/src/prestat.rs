//! Stats ahead of the dirty check, on other threads while it runs: the
//! no-op of a large tree is mostly stat calls, one after another in ninja.
//! The scan takes each mtime from here when it is there, stats the file
//! itself when no thread has started on it yet, and waits only for a stat
//! under way; in its own order and with its own decisions, so nothing but
//! where the numbers come from changes, and no file is stat'ed twice.
//!
//! The files are those reachable from the targets, a superset of what the
//! scan stats: every input, output, validation and dyndep file of every
//! build on the way, and the deps the deps log holds for a build's first
//! output (the scan may find them stale and never look). They come in
//! batches: the manifest's files while the logs load (a core is free while
//! the deps log is read), then what the deps log added. The threads take
//! them in the scan's order, ahead of it: a stat costs about what the scan
//! spends on a file, so they stay ahead and the scan, the no-op's longest
//! thread, stats almost nothing itself (from the list's other end, the scan
//! met them halfway and stat'ed a fifth of the files: ~0.1 s of its 0.6 s
//! on bench/everyday.sh's tree). They read their paths from the graph's
//! arena as lent (`PathTable::shared_text`: no copy unless the scan interns
//! a path meanwhile).
//! Ignores: what the numbers mean; a stat that fails (the scan stats again
//! and reports it where ninja would). The numbers hold only until
//! something runs: `Builder::build` and `Engine::reset_states` drop them
//! (and stop the threads), and each is used at most once.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;

use ggninja_graph::{FileId, Graph};

use crate::deps_log::DepsLog;
use crate::disk::{Disk, SharedStat};

/// A slot not in the list (or already used): the scan stats the file.
const UNKNOWN: i64 = -1;
/// In the list, not started: the first to claim it stats it.
const PENDING: i64 = -2;
/// A thread is stat'ing it: the scan waits.
const BUSY: i64 = -3;
/// Its stat failed: the scan stats it again and reports the error.
const FAILED: i64 = -4;
/// Files a thread claims at a time.
const CHUNK: usize = 64;

/// Mtimes stat'ed ahead, by node index (0 or more: a mtime, 0 missing),
/// in batches: the manifest's files while the logs load, then the files
/// the deps log added (each file in one batch at most).
#[derive(Default)]
pub(crate) struct Prestat {
    batches: Vec<Arc<Shared>>,
}

/// The files to stat, by position in the list: node numbers and where
/// their paths lie in `text`.
struct Files {
    ids: Vec<FileId>,
    text: Arc<String>,
    spans: Vec<(u32, u32)>,
}

struct Shared {
    slots: Vec<AtomicI64>,
    files: Files,
    /// How many files, counted from the start of the list, threads claimed.
    taken: AtomicUsize,
    stop: AtomicBool,
}

impl Prestat {
    /// The mtime stat'ed ahead for `id`, once: later stats go to the disk.
    /// None: the caller stats the file itself.
    pub(crate) fn take(&mut self, id: FileId) -> Option<i64> {
        let slot = self.slot(id)?;
        loop {
            match slot.load(Ordering::Acquire) {
                BUSY => std::thread::yield_now(),
                PENDING => {
                    let claim = slot.compare_exchange(
                        PENDING,
                        UNKNOWN,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                    if claim.is_ok() {
                        return None;
                    }
                }
                t if t >= 0 => {
                    slot.store(UNKNOWN, Ordering::Release);
                    return Some(t);
                }
                _ => return None,
            }
        }
    }

    /// Forgets every mtime (the files may change from now on) and stops
    /// the threads at their next chunk.
    pub(crate) fn clear(&mut self) {
        for b in self.batches.drain(..) {
            b.stop.store(true, Ordering::Relaxed);
        }
    }

    /// Whether `id` is in a batch and not yet taken.
    pub(crate) fn listed(&self, id: FileId) -> bool {
        self.slot(id).is_some()
    }

    /// `id`'s slot in the batch that lists it and has not given it yet.
    fn slot(&self, id: FileId) -> Option<&AtomicI64> {
        let slots = self.batches.iter().map(|b| b.slots.get(id.index()));
        slots
            .flatten()
            .find(|s| s.load(Ordering::Acquire) != UNKNOWN)
    }

    /// Stats `files` ahead, as a new batch: on `threads` threads through
    /// `stat` when given, else here and now through `stat_here`.
    fn start(
        &mut self,
        node_count: usize,
        files: Files,
        stat: Option<(SharedStat, usize)>,
        stat_here: impl Fn(&str) -> Result<i64, String>,
    ) {
        let slots = (0..node_count).map(|_| AtomicI64::new(UNKNOWN)).collect();
        let shared = Shared {
            slots,
            files,
            taken: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        };
        let (initial, threads) = match &stat {
            Some((_, threads)) => (None, *threads),
            None => (Some(&stat_here), 0),
        };
        for (i, id) in shared.files.ids.iter().enumerate() {
            let t = initial.map_or(PENDING, |s| s(shared.files.path(i)).unwrap_or(FAILED));
            shared.slots[id.index()].store(t, Ordering::Relaxed);
        }
        let shared = Arc::new(shared);
        if let Some((stat, _)) = stat {
            for _ in 0..threads {
                let (shared, stat) = (shared.clone(), stat.clone());
                // A thread that cannot start leaves its files to the scan.
                let _ = std::thread::Builder::new()
                    .name("prestat".to_string())
                    .spawn(move || shared.work(&mut *stat()));
            }
        }
        self.batches.push(shared);
    }
}

impl Files {
    fn path(&self, i: usize) -> &str {
        let (start, end) = self.spans[i];
        &self.text[start as usize..end as usize]
    }
}

impl Shared {
    /// One thread's share: chunks in the list's order until none is
    /// left or the scan is over, each file only if nobody claimed it.
    fn work(&self, stat: &mut (dyn FnMut(&str) -> Result<i64, String> + Send)) {
        let n = self.files.ids.len();
        while !self.stop.load(Ordering::Relaxed) {
            let from = self.taken.fetch_add(CHUNK, Ordering::Relaxed);
            if from >= n {
                return;
            }
            for i in from..(from + CHUNK).min(n) {
                let slot = &self.slots[self.files.ids[i].index()];
                let claim =
                    slot.compare_exchange(PENDING, BUSY, Ordering::AcqRel, Ordering::Relaxed);
                if claim.is_ok() {
                    let t = stat(self.files.path(i)).unwrap_or(FAILED);
                    slot.store(t, Ordering::Release);
                }
            }
        }
    }
}

impl Prestat {
    /// Starts stat'ing `ids` (from `reachable`), on other threads when
    /// `disk` can be shared.
    pub(crate) fn begin(&mut self, graph: &Graph, ids: Vec<FileId>, disk: &dyn Disk) {
        // Spans fit in u32: so do the arena's offsets (`PathTable`).
        let span = |f| {
            let r = graph.path_span(f);
            (r.start as u32, r.end as u32)
        };
        let spans = ids.iter().map(|&f| span(f)).collect();
        let text = graph.paths.shared_text();
        let files = Files { ids, text, spans };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // The scan is the other thread at work.
        let stat = (disk.shared_stat()).map(|s| (s, threads.saturating_sub(1).max(1)));
        self.start(graph.node_count(), files, stat, |p| disk.stat(p));
    }
}

/// The files reachable from `targets` (see the module doc) that
/// `stated` says are not stat'ed yet, each once, roughly in the order the
/// scan reaches them.
pub(crate) fn reachable(
    graph: &Graph,
    deps_log: &DepsLog,
    targets: &[FileId],
    stated: impl Fn(FileId) -> bool,
) -> Vec<FileId> {
    let mut seen = vec![false; graph.node_count()];
    let mut stack: Vec<FileId> = targets.iter().rev().copied().collect();
    let mut found = Vec::new();
    while let Some(f) = stack.pop() {
        if std::mem::replace(&mut seen[f.index()], true) {
            continue;
        }
        if !stated(f) {
            found.push(f);
        }
        let Some(b) = graph.file(f).in_build else {
            continue;
        };
        if std::mem::replace(&mut seen[b.index()], true) {
            continue;
        }
        // Pushed last to first, so they come off the stack in the
        // scan's order: outputs, dyndep, the logged deps, inputs.
        let build = graph.build(b);
        stack.extend(build.validations.iter().rev());
        stack.extend(build.ins.iter().rev());
        if let Some(deps) = build.outs.first().and_then(|&o| deps_log.get(o)) {
            stack.extend(deps.nodes.iter().rev());
        }
        stack.extend(build.dyndep);
        stack.extend(build.outs.iter().rev());
    }
    found
}
