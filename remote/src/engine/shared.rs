//! What every job of the remote executor shares: the settings, the store
//! and function clients, the counters, the slots that bound invocations
//! and local runs, the messages waiting for the build, and the run times
//! straggler detection compares against. Ignores what a job does.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ggninja_executor::backend::{Finisher, Note};
use ggninja_executor::process;
use ggninja_graph::BuildId;
use ggninja_thunk::Roots;
use tokio::sync::Semaphore;

use super::carry::CarriedSet;
use super::invoke::Invoker;
use super::summary::Stats;
use super::Config;
use crate::objects::ObjectStore;
use crate::upload::{Uploader, BLIND_PUT_BELOW, DEFAULT_CONCURRENCY};

/// A straggler is launched again once it has run this many times its
/// rule's median (and at least `STRAGGLER_SLACK` past it)...
const STRAGGLER_FACTOR: u32 = 4;
const STRAGGLER_SLACK: Duration = Duration::from_secs(1);
/// ...once the rule has this many finished runs to take a median of.
const STRAGGLER_SAMPLES: usize = 3;

/// Local fallbacks' processes (group leaders). A fallback starts its process
/// on a blocking thread, which an abort cannot stop, so the abort is
/// recorded too: a process that starts after it is stopped at once.
#[derive(Default)]
pub(crate) struct Children(Mutex<ChildState>);

#[derive(Default)]
struct ChildState {
    pids: HashSet<u32>,
    aborted: bool,
}

impl Children {
    fn state(&self) -> std::sync::MutexGuard<'_, ChildState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the build was aborted: then no process should start.
    pub fn aborted(&self) -> bool {
        self.state().aborted
    }

    /// Records a process that just started; interrupts it if the build was
    /// aborted since the caller last looked (under the same lock as
    /// `abort`, so no process slips between them).
    pub fn started(&self, pid: u32) {
        let mut state = self.state();
        if state.aborted {
            process::interrupt_group(pid);
        }
        state.pids.insert(pid);
    }

    pub fn ended(&self, pid: u32) {
        self.state().pids.remove(&pid);
    }

    /// Interrupts every running process, and any that starts from now on.
    pub fn abort(&self) {
        let mut state = self.state();
        state.aborted = true;
        for &pid in &state.pids {
            process::interrupt_group(pid);
        }
    }
}

/// What every job shares.
pub(crate) struct Shared {
    pub config: Config,
    pub store: Arc<ObjectStore>,
    pub uploader: Uploader,
    /// Inputs some request carried (see `carry`).
    pub carried: CarriedSet,
    pub invoker: Invoker,
    pub roots: Roots,
    pub stats: Stats,
    /// Invocations in flight, relaunches included (`Config::concurrency`).
    pub invoke_slots: Semaphore,
    /// Local fallbacks running at once: the machine's cores.
    pub local_slots: Semaphore,
    pub finisher: Finisher,
    /// Local fallbacks' processes, for an abort to stop.
    pub children: Arc<Children>,
    /// Messages for the build, by edge, taken when it is waited for.
    notes: Mutex<HashMap<BuildId, Vec<Note>>>,
    /// Invocation round trips by rule (ms), for straggler detection.
    run_ms: Mutex<HashMap<String, Vec<u64>>>,
    /// A warning for the first fallback only; the summary counts them all.
    warned: std::sync::atomic::AtomicBool,
}

impl Shared {
    pub fn new(
        config: Config,
        store: Arc<ObjectStore>,
        invoker: Invoker,
        roots: Roots,
        finisher: Finisher,
        local_cores: usize,
    ) -> Shared {
        let slots = config.concurrency.max(1);
        Shared {
            uploader: Uploader::with_blind_puts(
                Arc::clone(&store),
                DEFAULT_CONCURRENCY,
                BLIND_PUT_BELOW,
            ),
            store,
            carried: CarriedSet::default(),
            invoker,
            roots,
            stats: Stats::default(),
            invoke_slots: Semaphore::new(slots),
            local_slots: Semaphore::new(local_cores.max(1)),
            finisher,
            children: Arc::default(),
            notes: Mutex::default(),
            run_ms: Mutex::default(),
            warned: Default::default(),
            config,
        }
    }

    pub fn take_notes(&self, edge: BuildId) -> Vec<Note> {
        self.notes
            .lock()
            .expect("notes")
            .remove(&edge)
            .unwrap_or_default()
    }

    fn note(&self, edge: BuildId, note: Note) {
        let mut notes = self.notes.lock().expect("notes");
        notes.entry(edge).or_default().push(note);
    }

    pub fn explain(&self, edge: BuildId, msg: impl FnOnce() -> String) {
        if self.config.explain {
            self.note(edge, Note::Explain(msg()));
        }
    }

    pub fn observe(&self, rule: &str, ms: u64) {
        let mut all = self.run_ms.lock().expect("run times");
        all.entry(rule.to_string()).or_default().push(ms);
    }

    /// When a run of `rule` counts as a straggler, once its runs so far
    /// say what is normal.
    pub fn straggler_after(&self, rule: &str) -> Option<Duration> {
        let all = self.run_ms.lock().expect("run times");
        let runs = all.get(rule).filter(|r| r.len() >= STRAGGLER_SAMPLES)?;
        let mut sorted = runs.clone();
        sorted.sort_unstable();
        let median = Duration::from_millis(sorted[sorted.len() / 2]);
        Some((median * STRAGGLER_FACTOR).max(median + STRAGGLER_SLACK))
    }

    /// A warning for the first fallback only; the summary counts them all.
    pub fn warn_once(&self, edge: BuildId, msg: String) {
        use std::sync::atomic::Ordering;
        if !self.warned.swap(true, Ordering::Relaxed) {
            self.note(
                edge,
                Note::Warning(format!(
                    "remote: {msg} (further ones are counted in the summary)"
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_process_started_after_an_abort_is_stopped_as_it_starts() {
        let children = Children::default();
        children.abort();
        assert!(children.aborted());
        let started = Instant::now();
        let (exit, _) = process::run_captured("sleep 20", |p| children.started(p)).unwrap();
        assert_ne!(exit, process::Exit::Success);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
