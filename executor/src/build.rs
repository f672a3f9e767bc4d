//! The build loop, as ninja's Builder: takes ready edges from the plan,
//! prepares each (output directories, rspfile, its thunk), hands it to the
//! execution backend, and records what finished in the status line and the
//! logs. Unaware of how or where a command runs (see `backend`).

use std::collections::BTreeSet;
use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};

use ggninja_graph::path::{canonicalize, canonicalize_all};
use ggninja_graph::{BuildId, Escape, FileId, CONSOLE_POOL};
use ggninja_syntax::depfile;
use ggninja_thunk::{EdgeThunk, Thunks};

use crate::backend::{Backend, Ctx, Done, DryRun, Exit, Local, Note, Origin, Task, Written};
use crate::build_log::LogEntry;
use crate::disk;
use crate::engine::Engine;
use crate::hit_checks::{HitChecks, Redo};
use crate::jobserver::{Client, Slots};
use crate::known_deps::KnownDeps;
use crate::plan::Plan;
use crate::process;
use crate::provenance;
use crate::status::{BadPlaceholder, Failed, Status};

/// How many ready edges' thunks are made at once (the first of them is
/// starting): enough to keep every core busy for a while.
const MADE_AHEAD: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A message to print as `error: ...` before the build starts.
    #[error("{0}")]
    Setup(String),
    /// The build ran and stopped: `build stopped: ...`, to exit with
    /// `code` (ninja 1.13 passes a failed command's status on).
    #[error("build stopped: {msg}.")]
    Stopped { msg: String, code: i32 },
    #[error("build stopped: interrupted by user.")]
    Interrupted,
    /// What ninja reports as `fatal: ...` and exits at once, leaving
    /// running commands be (a bad `NINJA_STATUS`).
    #[error("{0}")]
    Fatal(String),
}

impl BuildError {
    /// The status ggninja exits with, as ninja 1.13 (whose `exit` keeps
    /// the low 8 bits of a status above 255).
    pub fn exit_code(&self) -> u8 {
        match self {
            BuildError::Setup(_) | BuildError::Fatal(_) => 1,
            BuildError::Stopped { code, .. } => (*code & 0xff) as u8,
            BuildError::Interrupted => process::INTERRUPTED_STATUS as u8,
        }
    }

    /// Why the build stopped, without `build stopped: `.
    pub fn reason(&self) -> String {
        match self {
            BuildError::Setup(msg) | BuildError::Fatal(msg) => msg.clone(),
            BuildError::Stopped { msg, .. } => msg.clone(),
            BuildError::Interrupted => "interrupted by user".to_string(),
        }
    }
}

/// The deps a finished edge read: paths to make files of the graph (as
/// ninja does once the edge succeeded), or its files already (the deps a
/// hit's depfile names, found in the log).
enum Found {
    Paths(Vec<String>),
    Files(Vec<FileId>),
}

/// A started edge: start time in ms since the build started, and the
/// description and command, evaluated once for start and finish.
struct Running {
    start_ms: u64,
    /// When the command started, in the file system's time (0: unknown).
    start_mtime: i64,
    desc: String,
    cmd: String,
    /// Its thunk's hash and footprint bytes, when it has one.
    thunk: Option<(String, u64)>,
    /// Whether a hit of its thunk may change the tree besides its outputs
    /// (`EdgeThunk::writes_only_outputs`), or it has none: after a hit of
    /// it, every stat of this run is taken again.
    effects: bool,
}

pub struct Builder<'e> {
    pub e: &'e mut Engine,
    pub status: Status,
    plan: Plan,
    backend: Box<dyn Backend + 'e>,
    /// Edges as thunks, for backends that use them (memo, sandbox).
    thunks: Option<Thunks>,
    /// Thunks of ready edges made with an earlier one's, in parallel, and
    /// how many to make next (see `thunk`).
    made_ahead: FxHashMap<BuildId, Result<EdgeThunk, String>>,
    ahead: usize,
    running: FxHashMap<BuildId, Running>,
    /// Directories known to exist, so each is created (or checked) once.
    made_dirs: FxHashSet<String>,
    /// A jobserver's slots, when one bounds what runs instead of `-j`.
    slots: Option<Slots<BuildId>>,
    /// The status of the last command that failed (0: none has).
    failure_code: i32,
    /// Whether the status line predicts times from the log's (not while
    /// the manifest is rebuilt, as ninja).
    times_from_log: bool,
    /// Why the status line could not be printed, which ends the build.
    fatal: Option<BadPlaceholder>,
    /// Touched as each command starts, to read the file system's clock.
    lock_file: String,
    /// Where each edge with a thunk got its result (`.ggninja_edges`).
    provenance: provenance::Writer,
    /// Memo hits until the stats their keys rest on are checked again.
    hit_checks: HitChecks<(BuildId, LogEntry)>,
    /// A hit's deps found in the log (see `known_deps`).
    known_deps: KnownDeps,
}

impl<'e> Builder<'e> {
    /// A builder running commands as local processes (nothing, for `-n`).
    pub fn new(e: &'e mut Engine, status: Status) -> Self {
        // Each build explains what its own scan finds, as ninja's Builder.
        e.explanations = Default::default();
        let backend: Box<dyn Backend> = match e.config.dry_run {
            true => Box::new(DryRun::default()),
            false => Box::new(Local::default()),
        };
        let lock_file = e.graph.in_builddir(".ninja_lock");
        let provenance = provenance::Writer::new(e.graph.in_builddir(provenance::FILE).into());
        Builder {
            plan: Plan::new(&e.graph),
            e,
            status,
            backend,
            thunks: None,
            made_ahead: FxHashMap::default(),
            ahead: 1,
            running: FxHashMap::default(),
            made_dirs: Default::default(),
            slots: None,
            failure_code: 0,
            times_from_log: false,
            fatal: None,
            lock_file,
            provenance,
            hit_checks: HitChecks::default(),
            known_deps: KnownDeps::default(),
        }
    }

    /// The status line, for the build after this one (see `Status::restart_clock`).
    pub fn into_status(self) -> Status {
        self.status
    }

    /// Starts an edge only with a slot from `client`'s pool (and then as
    /// many at once as the pool grants, whatever `-j` says), as ninja 1.13
    /// does when `MAKEFLAGS` names a jobserver.
    pub fn with_jobserver(mut self, client: Client) -> Self {
        self.slots = Some(Slots::new(client));
        self
    }

    /// Runs edges on `backend`, with `thunks` making each edge's thunk.
    /// A dry run keeps running nothing.
    pub fn with_backend(mut self, backend: Box<dyn Backend + 'e>, thunks: Thunks) -> Self {
        if !self.e.config.dry_run {
            self.backend = backend;
        }
        self.thunks = Some(thunks);
        self
    }

    /// Lets the status line predict times (`%P`, `%E`, `%W`) from what
    /// each edge took last time, as `.ninja_log` says.
    pub fn with_times_from_log(mut self) -> Self {
        self.times_from_log = true;
        self
    }

    pub fn already_up_to_date(&self) -> bool {
        !self.plan.more_to_do()
    }

    /// Starts stat'ing, on other threads, what scanning `targets` will
    /// stat (`prestat.rs`); call before `add_target`.
    pub fn prestat(&mut self, targets: &[FileId]) {
        self.e.prestat(targets);
    }

    /// Keeps what the scan stat'ed for the next run's watcher (after
    /// every `add_target`, before `build`), and, given what else a run
    /// that has nothing to do rests on, that verdict (`noop`).
    pub fn remember(&mut self, noop: Option<&crate::noop::Basis>) {
        self.e.remember(noop);
    }

    /// Scans `target` and plans what it needs. Errors are user-facing.
    pub fn add_target(&mut self, target: FileId) -> Result<(), String> {
        let mut validations = Vec::new();
        self.e.recompute_dirty(target, &mut validations)?;
        self.plan.add_target(self.e, target, validations)
    }

    /// Ends the build: keeps the thunk caches, removes temporary trees.
    pub fn close(&mut self) {
        if let Some(t) = &self.thunks {
            let redo = self.hit_checks.end(|| t.changed_file());
            self.log_again(redo);
        }
        if let Some(t) = self.thunks.take() {
            t.save_caches();
            // Memory only, freed with the process as ninja leaves its own:
            // freeing the hash cache's and the scanner's maps was 2% of a
            // warm rebuild's CPU.
            std::mem::forget(t);
        }
        self.backend.close();
    }

    fn can_run_more(&self) -> bool {
        if self.e.config.dry_run {
            return true;
        }
        let busy = self.backend.running();
        (self.slots.is_some() || busy < self.e.config.parallelism)
            && (busy == 0
                || self
                    .e
                    .config
                    .max_load
                    .is_none_or(|l| l <= 0.0 || process::load_average() < l))
    }

    /// Whether the next ready edge may start as far as the jobserver goes:
    /// a slot is set aside for it (none is needed when nothing is ready).
    fn slot_ready(&mut self) -> bool {
        match &mut self.slots {
            Some(slots) if self.plan.any_ready() => slots.reserve(),
            _ => true,
        }
    }

    fn release_slot(&mut self, edge: BuildId) {
        if let Some(slots) = &mut self.slots {
            slots.release(edge);
        }
    }

    /// Runs the plan to completion or failure.
    pub fn build(&mut self) -> Result<(), BuildError> {
        // Edges are about to change files: no mtime from before holds.
        self.e.prestat.clear();
        self.plan.prepare_queue(self.e, self.e.config.priority);
        if let (Some(slots), Some(waker)) = (&mut self.slots, self.backend.waker()) {
            slots.watch(Box::new(move || waker.wake()));
        }
        self.count_plan_changes();
        let configured = self.e.config.failures_allowed;
        let mut failures_allowed = if configured == 0 {
            usize::MAX
        } else {
            configured
        };
        let allowed_at_start = failures_allowed;
        let mut pending = 0usize;
        self.status.build_started();
        while self.plan.more_to_do() {
            if failures_allowed > 0 && self.can_run_more() && self.slot_ready() {
                if let Some(edge) = self.plan.pop_ready() {
                    if let Some(slots) = &mut self.slots {
                        slots.assign(edge);
                    }
                    match self.made_meanwhile(edge) {
                        Ok(None) => {}
                        Ok(Some(mtime)) => {
                            self.release_slot(edge);
                            if let Err(msg) = self.skip_made(edge, mtime) {
                                return Err(self.stop(msg, 1));
                            }
                            continue;
                        }
                        Err(msg) => return Err(self.stop(msg, 1)),
                    }
                    if self.e.graph.binding_bool(edge, "generator") {
                        self.e.build_log.close();
                    }
                    if let Err(msg) = self.start_edge(edge) {
                        return Err(self.stop(msg, 1));
                    }
                    if self.e.graph.is_phony(edge) {
                        self.release_slot(edge);
                        if let Err(msg) = self.edge_finished(edge, true) {
                            return Err(self.stop(msg, 1));
                        }
                    } else {
                        pending += 1;
                    }
                    continue;
                }
            }
            if pending > 0 {
                let done = self.wait();
                if done.is_none() && self.slots.is_some() && process::interrupted().is_none() {
                    // Woken: the pool has a token for a ready edge.
                    continue;
                }
                let Some(done) = done.filter(|d| d.exit != Exit::Interrupted) else {
                    self.cleanup();
                    self.status.build_finished();
                    return Err(BuildError::Interrupted);
                };
                pending -= 1;
                self.release_slot(done.edge);
                // A failure its deps make of a successful command exits 1.
                let code = match done.exit {
                    Exit::Failure(code) => code,
                    _ => 1,
                };
                let ok = match self.finish_command(done) {
                    Ok(ok) => ok,
                    Err(msg) => return Err(self.stop(msg, code)),
                };
                if !ok {
                    self.failure_code = code;
                    failures_allowed = failures_allowed.saturating_sub(1);
                }
                continue;
            }
            self.status.build_finished();
            self.remove_lock_file();
            let msg = if failures_allowed == 0 {
                if configured > 1 {
                    "subcommands failed"
                } else {
                    "subcommand failed"
                }
            } else if failures_allowed < allowed_at_start {
                "cannot make progress due to previous errors"
            } else {
                "stuck [this is a bug]"
            };
            return Err(BuildError::Stopped {
                msg: msg.to_string(),
                // Only a bug leaves the plan stuck without a failure.
                code: self.failure_code.max(1),
            });
        }
        self.status.build_finished();
        self.remove_lock_file();
        Ok(())
    }

    /// Stops the build early: running commands end, the status line too;
    /// or, when the status line failed, at once.
    fn stop(&mut self, msg: String, code: i32) -> BuildError {
        if let Some(fatal) = self.fatal.take() {
            return BuildError::Fatal(fatal.to_string());
        }
        self.cleanup();
        self.status.build_finished();
        BuildError::Stopped { msg, code }
    }

    /// A status line that could not be printed ends the build (`stop`).
    fn status_printed(&mut self, printed: Result<(), BadPlaceholder>) -> Result<(), String> {
        printed.map_err(|e| {
            let msg = e.to_string();
            self.fatal = Some(e);
            msg
        })
    }

    /// Tells the status line which command edges joined or left the plan.
    fn count_plan_changes(&mut self) {
        for (b, joined) in self.plan.take_changes() {
            let prev = self.previous_ms(b);
            match joined {
                true => self.status.edge_added(prev),
                false => self.status.edge_removed(prev),
            }
        }
    }

    /// What build `b` took last time: the log's entry for its first output
    /// that has one.
    fn previous_ms(&self, b: BuildId) -> Option<i64> {
        if !self.times_from_log {
            return None;
        }
        let g = &self.e.graph;
        g.build(b).outs.iter().find_map(|&o| {
            let entry = self.e.build_log.lookup(g.path(o))?;
            Some(i64::from(entry.end_ms) - i64::from(entry.start_ms))
        })
    }

    /// The plan's side of a finished edge, and the total it leaves.
    fn edge_finished(&mut self, edge: BuildId, success: bool) -> Result<(), String> {
        self.plan.edge_finished(self.e, edge, success)?;
        self.count_plan_changes();
        Ok(())
    }

    /// For a build imported from make: the newest output's mtime when
    /// every output was written after the scan (by another build) and is
    /// now newer than every input, so make would not run it.
    fn made_meanwhile(&self, edge: BuildId) -> Result<Option<i64>, String> {
        let b = self.e.graph.build(edge);
        if !b.make_rules || self.e.config.dry_run {
            return Ok(None);
        }
        let mut newest_out = 0;
        let mut oldest_out = i64::MAX;
        for &o in &b.outs {
            let now = self.e.disk.stat(self.e.graph.path(o))?;
            if now == 0 || now == self.e.mtime(o) {
                return Ok(None);
            }
            newest_out = newest_out.max(now);
            oldest_out = oldest_out.min(now);
        }
        for &i in b.dirtying_ins() {
            if self.e.disk.stat(self.e.graph.path(i))? > oldest_out {
                return Ok(None);
            }
        }
        Ok(Some(newest_out))
    }

    /// Records a build `made_meanwhile` found done, as if it had run.
    fn skip_made(&mut self, edge: BuildId, mtime: i64) -> Result<(), String> {
        let out = self.e.graph.build(edge).outs[0];
        self.e.explain(|| {
            let path = self.e.graph.path(out);
            format!("{path} was made meanwhile: not running its rule")
        });
        self.edge_finished(edge, true)?;
        let now = self.status.elapsed_ms() as i32;
        let cmd = self
            .e
            .graph
            .command(edge, false)
            .map_err(|e| e.to_string())?;
        let entry = LogEntry {
            start_ms: now,
            end_ms: now,
            mtime,
            hash: self.log_hash(edge, cmd)?,
        };
        self.write_logs(edge, &entry, "", Found::Paths(Vec::new()))
    }

    fn describe(&self, edge: BuildId) -> (String, String) {
        let g = &self.e.graph;
        let desc = g
            .binding(edge, "description", Escape::Shell)
            .unwrap_or_default();
        let cmd = g.command(edge, false).unwrap_or_default();
        (desc, cmd)
    }

    fn start_edge(&mut self, edge: BuildId) -> Result<(), String> {
        let _t = crate::metrics::time("StartEdge");
        if self.e.graph.is_phony(edge) {
            return Ok(());
        }
        let start_ms = self.status.elapsed_ms();
        let (desc, cmd) = self.describe(edge);
        let console = self.e.graph.build(edge).pool == CONSOLE_POOL;
        self.status.set_placement(self.backend.placement());
        let why = self.e.explanations_of(edge);
        let printed = (self.status).edge_started(&desc, &cmd, console, start_ms, &why);
        self.status_printed(printed)?;
        // Like ninja, a dry run still makes directories and rspfiles.
        self.make_dirs(edge)?;
        let start_mtime = self.command_start_time();
        self.write_rspfile(edge)?;
        let thunk = self.thunk(edge, console);
        let thunk_facts = thunk.as_ref().map(|t| (t.hash.to_string(), t.bytes));
        let (g, thunks) = (&self.e.graph, self.thunks.as_ref());
        let effects = match (&thunk, thunks) {
            (Some(t), Some(thunks)) => !t.writes_only_outputs(g, edge, &thunks.roots),
            _ => true,
        };
        let task = Task {
            edge,
            command: cmd.clone(),
            console,
            stderr_apart: self.e.graph.build(edge).make_rules,
            restat: self.e.restat(edge),
            thunk,
        };
        let mut cx = Ctx {
            graph: &self.e.graph,
            thunks: self.thunks.as_ref(),
            explain: self.e.config.explain,
            notes: Vec::new(),
        };
        let started = self.backend.start(&mut cx, task);
        let notes = cx.notes;
        self.print_notes(notes);
        self.running.insert(
            edge,
            Running {
                start_ms,
                start_mtime,
                desc,
                cmd,
                thunk: thunk_facts,
                effects,
            },
        );
        started
    }

    /// The directories of the edge's outputs and, as ninja 1.13 makes it
    /// before the command runs, of its depfile.
    fn make_dirs(&mut self, edge: BuildId) -> Result<(), String> {
        let g = &self.e.graph;
        if g.build(edge).make_rules {
            return Ok(()); // make makes none: a recipe needing one makes it
        }
        let mut made = Vec::new();
        for &o in &g.build(edge).outs {
            made.extend(make_dir_of(&mut self.made_dirs, g.path(o))?);
        }
        let depfile = g.binding(edge, "depfile", Escape::None).unwrap_or_default();
        if !depfile.is_empty() {
            made.extend(make_dir_of(&mut self.made_dirs, &depfile)?);
        }
        if let Some(t) = &self.thunks {
            made.iter().for_each(|d| t.made_dir(d));
        }
        Ok(())
    }

    fn write_rspfile(&self, edge: BuildId) -> Result<(), String> {
        let g = &self.e.graph;
        let rspfile = g
            .binding(edge, "rspfile", Escape::None)
            .map_err(|e| e.to_string())?;
        if rspfile.is_empty() {
            return Ok(());
        }
        let content = g
            .binding(edge, "rspfile_content", Escape::Shell)
            .map_err(|e| e.to_string())?;
        disk::make_dirs_for(&rspfile).ok();
        let written = std::fs::write(&rspfile, content)
            .map_err(|e| format!("writing {rspfile}: {}", disk::io_message(&e)));
        if let Some(t) = &self.thunks {
            let dir = Path::new(&rspfile).parent().and_then(|d| d.to_str());
            if let Some(dir) = dir.filter(|d| !d.is_empty()) {
                t.made_dir(dir);
            }
            t.wrote(&rspfile, &[]);
        }
        written
    }

    /// The edge's thunk, when the build makes thunks and the edge can run
    /// hermetically (not in the console, not a generator, not a dry run).
    /// Made with those of the next ready edges, in parallel: a memo hit's
    /// key is most of what it costs. Those hold until a command runs (it
    /// may write what a ready edge reads unannounced: `tell_thunks` drops
    /// them), so the batch doubles while none does, from one.
    fn thunk(&mut self, edge: BuildId, console: bool) -> Option<EdgeThunk> {
        let thunks = self.thunks.as_ref()?;
        let g = &self.e.graph;
        let hermetic = |b: BuildId| {
            let console = g.build(b).pool == CONSOLE_POOL;
            !g.is_phony(b) && !console && !g.binding_bool(b, "generator")
        };
        if self.e.config.dry_run || console || !hermetic(edge) {
            return None;
        }
        let made = match self.made_ahead.remove(&edge) {
            Some(made) => made,
            None => {
                let known = &self.made_ahead;
                // An edge's rspfile is written as it starts: made ahead, its
                // thunk would read what a failed or `-d keeprsp` run left.
                let rspfile = |b: BuildId| {
                    !g.binding(b, "rspfile", Escape::None)
                        .is_ok_and(|r| r.is_empty())
                };
                let ahead = (self.plan.next_ready())
                    .filter(|&b| hermetic(b) && !rspfile(b) && !known.contains_key(&b));
                let batch: Vec<BuildId> = std::iter::once(edge)
                    .chain(ahead)
                    .take(self.ahead)
                    .collect();
                self.ahead = (self.ahead * 2).min(MADE_AHEAD);
                let mut made = thunks.of_ready(g, &batch).into_iter();
                let first = made.next().map(|(_, t)| t);
                self.made_ahead.extend(made);
                first.unwrap_or_else(|| Err("phony".to_string()))
            }
        };
        match made {
            Ok(t) => Some(t),
            Err(why) => {
                let out = g.path(g.build(edge).outs[0]);
                self.e.explain(|| format!("{out} runs locally: {why}"));
                None
            }
        }
    }

    fn wait(&mut self) -> Option<Done> {
        let mut cx = Ctx {
            graph: &self.e.graph,
            thunks: self.thunks.as_ref(),
            explain: self.e.config.explain,
            notes: Vec::new(),
        };
        let done = self.backend.wait(&mut cx);
        let notes = cx.notes;
        self.print_notes(notes);
        if let Some(d) = &done {
            let written = self.backend.take_written(d.edge);
            self.tell_thunks(d, written);
        }
        done
    }

    /// Tells the thunk maker what a finished edge did to the tree, before
    /// any edge waiting for it starts (`footprint::RunStats` says why that
    /// is enough): a memo hit wrote its outputs and depfile (or removed a
    /// depfile it handed over; its rspfile is removed next); anything else
    /// (a command ran, a list's effects were done) may have written
    /// anywhere. The files it `written` with their hashes need not be read
    /// again.
    fn tell_thunks(&mut self, done: &Done, written: Vec<Written>) {
        let Some(thunks) = &self.thunks else {
            return;
        };
        let mut restored = Vec::with_capacity(written.len());
        for w in written {
            if let Some((stat, hash)) = &w.named {
                thunks.wrote_bytes(&w.path, stat, *hash);
            }
            if w.over_dir_link {
                thunks.wrote_over_dir_link(&w.path);
            }
            restored.push(w.path);
        }
        let effects = self.running.get(&done.edge).is_none_or(|r| r.effects);
        if done.origin != Origin::Memo || effects {
            self.made_ahead.clear();
            self.ahead = 1;
            if self.hit_checks.wanted(done.origin == Origin::Memo) {
                self.hit_checks.dropped(thunks.changed_file());
            }
            return thunks.tree_changed();
        }
        let g = &self.e.graph;
        let rspfile = g.binding(done.edge, "rspfile", Escape::None);
        let rspfile = rspfile.ok().filter(|r| !r.is_empty());
        // A make recipe's dirs are not made here: the restore may have.
        let made_here = !g.build(done.edge).make_rules;
        for f in ggninja_thunk::produced(g, done.edge).iter().chain(&rspfile) {
            match Path::new(f).parent().and_then(|d| d.to_str()) {
                Some(dir) if !made_here && !dir.is_empty() => thunks.made_dir(dir),
                _ => {}
            }
            thunks.wrote(f, &restored);
        }
    }

    fn print_notes(&mut self, notes: Vec<Note>) {
        for note in notes {
            match note {
                Note::Explain(msg) => self.e.explain(|| msg),
                Note::Warning(msg) => {
                    let msg = format!("{}: warning: {msg}\n", self.e.config.prog);
                    self.status.printer.print_on_new_line(msg.as_bytes());
                }
            }
        }
    }

    /// Records a finished command. Ok(false) means the command failed.
    fn finish_command(&mut self, done: Done) -> Result<bool, String> {
        let _t = crate::metrics::time("FinishCommand");
        let Done {
            edge,
            exit,
            mut output,
            errors,
            origin,
        } = done;
        let mut exit = exit;
        let deps_type = self
            .e
            .graph
            .binding(edge, "deps", Escape::Shell)
            .map_err(|e| e.to_string())?;
        let mut deps = Found::Paths(Vec::new());
        if !deps_type.is_empty() {
            match self.extract_deps(edge, &deps_type, &mut output) {
                Ok(found) => deps = found,
                Err(msg) if exit == Exit::Success => {
                    if !output.is_empty() {
                        output.push(b'\n');
                    }
                    output.extend_from_slice(msg.as_bytes());
                    exit = Exit::Failure(1);
                }
                Err(_) => {}
            }
        }
        let running = self.running.remove(&edge).unwrap_or_else(|| {
            let (desc, cmd) = self.describe(edge);
            Running {
                start_ms: 0,
                start_mtime: 0,
                desc,
                cmd,
                thunk: None,
                effects: true,
            }
        });
        let end_ms = self.status.elapsed_ms();
        self.print_finished(edge, &running, end_ms, exit, [&output, &errors])?;
        if exit != Exit::Success {
            let redo = self.hit_checks.finished(None);
            self.log_again(redo);
            self.edge_finished(edge, false)?;
            return Ok(false);
        }
        let record_mtime = self.restat_outputs(edge, running.start_mtime)?;
        self.edge_finished(edge, true)?;
        let rspfile = self
            .e
            .graph
            .binding(edge, "rspfile", Escape::None)
            .unwrap_or_default();
        if !rspfile.is_empty() && !self.e.config.keep_rsp {
            let _ = disk::remove(&rspfile);
        }
        if self.e.config.dry_run {
            return Ok(true);
        }
        let entry = LogEntry {
            start_ms: running.start_ms as i32,
            end_ms: end_ms as i32,
            mtime: record_mtime,
            hash: self.log_hash(edge, running.cmd)?,
        };
        self.write_logs(edge, &entry, &deps_type, deps)?;
        let hit = (origin == Origin::Memo).then(|| (edge, entry.clone()));
        let redo = self.hit_checks.finished(hit);
        self.log_again(redo);
        if let Some((thunk, footprint_bytes)) = running.thunk {
            self.record_origin(edge, &entry, origin, thunk, footprint_bytes);
        }
        Ok(true)
    }

    /// Keeps where the edge's result came from, for `-t trace`; a failure
    /// to is a warning, once.
    fn record_origin(
        &mut self,
        edge: BuildId,
        entry: &LogEntry,
        origin: Origin,
        thunk: String,
        footprint_bytes: u64,
    ) {
        let g = &self.e.graph;
        let Some(&first) = g.build(edge).outs.first() else {
            return;
        };
        let record = provenance::Record {
            output: g.path(first).to_string(),
            start_ms: entry.start_ms,
            end_ms: entry.end_ms,
            origin,
            thunk,
            footprint_bytes,
        };
        if let Err(e) = self.provenance.add(&record) {
            self.print_notes(vec![Note::Warning(e)]);
        }
    }

    /// Logs `redo`'s hits again with mtime 0, older than any input, so the
    /// next build redoes them (see `hit_checks`); says why, once.
    fn log_again(&mut self, redo: Option<Redo<(BuildId, LogEntry)>>) {
        let Some(Redo { changed, hits }) = redo else {
            return;
        };
        let g = &self.e.graph;
        let mut failed = None;
        for (edge, entry) in &hits {
            let outs: Vec<&str> = g.build(*edge).outs.iter().map(|&o| g.path(o)).collect();
            let stale = LogEntry {
                mtime: 0,
                ..entry.clone()
            };
            if let Err(e) = self.e.build_log.record(&outs, &stale) {
                failed = Some(format!(
                    "Error writing to build log: {}",
                    disk::io_message(&e)
                ));
            }
        }
        let n = hits.len();
        let why = format!(
            "{} changed during the build: the {n} output(s) restored from the \
             cache meanwhile are built again next time",
            changed.display()
        );
        self.print_notes(
            std::iter::once(why)
                .chain(failed)
                .map(Note::Warning)
                .collect(),
        );
    }

    fn print_finished(
        &mut self,
        edge: BuildId,
        running: &Running,
        end_ms: u64,
        exit: Exit,
        output: [&[u8]; 2],
    ) -> Result<(), String> {
        let g = &self.e.graph;
        let console = g.build(edge).pool == CONSOLE_POOL;
        let failed = (exit != Exit::Success).then(|| {
            let outs = g.build(edge).outs.iter();
            let outs = outs.map(|&o| format!("{} ", g.path(o))).collect();
            Failed {
                code: exit.code(),
                outs,
            }
        });
        let elapsed = end_ms as i64 - running.start_ms as i64;
        let prev = self.previous_ms(edge);
        self.status.edge_timed(elapsed, prev);
        self.status.set_placement(self.backend.placement());
        let why = self.e.explanations_of(edge);
        let printed = self.status.edge_finished(
            &running.desc,
            &running.cmd,
            console,
            end_ms,
            failed.as_ref(),
            output,
            &why,
        );
        self.status_printed(printed)
    }

    /// Removes `.ninja_lock` as the build ends, as ninja's Builder does
    /// (a fatal error leaves it).
    fn remove_lock_file(&self) {
        if disk::stat(&self.lock_file).unwrap_or(0) > 0 {
            let _ = disk::remove(&self.lock_file);
        }
    }

    /// When a command starts, by the file system's clock (the lock file's
    /// mtime, as ninja 1.12+): logged as its outputs' mtime, so an input
    /// changed while it ran is newer than the log says the outputs are and
    /// reruns it. 0 in a dry run, or when the lock file cannot be written.
    fn command_start_time(&self) -> i64 {
        if self.e.config.dry_run {
            return 0;
        }
        match std::fs::write(&self.lock_file, b"") {
            Ok(()) => disk::stat(&self.lock_file).unwrap_or(0),
            Err(_) => 0,
        }
    }

    /// The mtime to log for a finished edge's outputs: when it started,
    /// unless that is unknown or the rule is `restat` or `generator`, whose
    /// outputs are stat'ed (the newest wins); a `restat` edge that left an
    /// output untouched cleans what waits for it, and logs its start.
    fn restat_outputs(&mut self, edge: BuildId, start_mtime: i64) -> Result<i64, String> {
        if self.e.config.dry_run {
            return Ok(0);
        }
        let restat = self.e.restat(edge);
        let generator = self.e.graph.binding_bool(edge, "generator");
        let mut record_mtime = start_mtime;
        if start_mtime != 0 && !restat && !generator {
            return Ok(record_mtime);
        }
        let mut cleaned = false;
        let outs = self.e.graph.build(edge).outs.clone();
        for o in outs {
            let new_mtime = self.e.disk.stat(self.e.graph.path(o))?;
            record_mtime = record_mtime.max(new_mtime);
            if self.e.mtime(o) == new_mtime && restat {
                self.plan.clean_node(self.e, o)?;
                cleaned = true;
            }
        }
        if cleaned {
            self.count_plan_changes();
            record_mtime = start_mtime;
        }
        Ok(record_mtime)
    }

    /// The logged hash covers the command plus rspfile content, as ninja's.
    fn log_hash(&self, edge: BuildId, mut text: String) -> Result<u64, String> {
        let rsp = self.e.graph.binding(edge, "rspfile_content", Escape::Shell);
        let rsp = rsp.map_err(|e| e.to_string())?;
        if !rsp.is_empty() {
            text.push_str(";rspfile=");
            text.push_str(&rsp);
        }
        Ok(self.e.build_log.hash_command(&text))
    }

    fn write_logs(
        &mut self,
        edge: BuildId,
        entry: &LogEntry,
        deps_type: &str,
        deps: Found,
    ) -> Result<(), String> {
        let g = &self.e.graph;
        let outs: Vec<String> = g
            .build(edge)
            .outs
            .iter()
            .map(|&o| g.path(o).to_string())
            .collect();
        let out_refs: Vec<&str> = outs.iter().map(String::as_str).collect();
        self.e
            .build_log
            .record(&out_refs, entry)
            .map_err(|e| format!("Error writing to build log: {}", disk::io_message(&e)))?;
        if deps_type.is_empty() {
            return Ok(());
        }
        // As ninja, the deps become files of the graph (not inputs of the
        // build until the next run's scan).
        let deps: Vec<FileId> = match deps {
            Found::Paths(paths) => paths.iter().map(|p| self.e.graph.file_id(p)).collect(),
            Found::Files(files) => files,
        };
        self.e.sync_states();
        let out_ids = self.e.graph.build(edge).outs.clone();
        for (out, &id) in outs.iter().zip(&out_ids) {
            let mtime = self.e.disk.stat(out)?;
            self.e
                .deps_log
                .record(&self.e.graph, id, mtime, &deps)
                .map_err(|e| format!("Error writing to deps log: {}", disk::io_message(&e)))?;
        }
        Ok(())
    }

    /// Reads the headers a command used, from its depfile (`deps = gcc`) or
    /// its output (`deps = msvc`, whose include lines are removed).
    fn extract_deps(
        &mut self,
        edge: BuildId,
        deps_type: &str,
        output: &mut Vec<u8>,
    ) -> Result<Found, String> {
        let g = &self.e.graph;
        match deps_type {
            "msvc" => {
                let mut prefix = g
                    .binding(edge, "msvc_deps_prefix", Escape::Shell)
                    .unwrap_or_default();
                if prefix.is_empty() {
                    prefix = "Note: including file:".to_string();
                }
                let text = String::from_utf8_lossy(output).into_owned();
                let mut kept = String::new();
                let mut includes = BTreeSet::new();
                for line in text.split_inclusive('\n') {
                    match line.strip_prefix(prefix.as_str()) {
                        Some(rest) => {
                            let p = rest.trim();
                            if let Some(c) = canonicalize(&p.replace('\\', "/")) {
                                includes.insert(c);
                            }
                        }
                        None => kept.push_str(line),
                    }
                }
                *output = kept.into_bytes();
                Ok(Found::Paths(includes.into_iter().collect()))
            }
            "gcc" => {
                let path = g.binding(edge, "depfile", Escape::None).unwrap_or_default();
                if path.is_empty() {
                    return Err("edge with deps=gcc but no depfile makes no sense".to_string());
                }
                // A memo hit may hand its depfile over instead of writing it.
                if let Some(content) = self.backend.take_depfile(edge) {
                    let (log, known) = (&self.e.deps_log, &mut self.known_deps);
                    let out = g.build(edge).outs.first();
                    if let Some(files) = out.and_then(|&o| known.of(g, log, o, &content)) {
                        return Ok(Found::Files(files));
                    }
                    let parsed = depfile::parse(&content).map_err(|e| e.to_string())?;
                    return Ok(Found::Paths(canonicalize_all(parsed.ins)));
                }
                let content =
                    disk::read_or_empty(&*self.e.disk, &path).map_err(|e| disk::io_message(&e))?;
                if content.is_empty() {
                    return Ok(Found::Paths(Vec::new()));
                }
                let parsed = depfile::parse(&content).map_err(|e| e.to_string())?;
                let ins = canonicalize_all(parsed.ins);
                if !self.e.config.keep_depfile {
                    disk::remove(&path)
                        .map_err(|e| format!("deleting depfile: {}\n", disk::io_message(&e)))?;
                }
                Ok(Found::Paths(ins))
            }
            other => Err(format!("unknown deps type '{other}'")),
        }
    }

    /// Stops running commands and removes outputs they may have half
    /// written; then their jobserver slots go back.
    fn cleanup(&mut self) {
        if self.e.config.dry_run {
            return;
        }
        self.remove_lock_file();
        let stopped = self.backend.abort();
        if let Some(slots) = &mut self.slots {
            slots.release_all();
        }
        for edge in stopped {
            let depfile = self
                .e
                .graph
                .binding(edge, "depfile", Escape::None)
                .unwrap_or_default();
            for &o in &self.e.graph.build(edge).outs {
                let path = self.e.graph.path(o);
                let new_mtime = match self.e.disk.stat(path) {
                    Ok(m) => m,
                    Err(msg) => {
                        eprintln!("{}: error: {msg}", self.e.config.prog);
                        continue;
                    }
                };
                if !depfile.is_empty() || self.e.mtime(o) != new_mtime {
                    let _ = disk::remove(path);
                }
            }
            if !depfile.is_empty() {
                let _ = disk::remove(&depfile);
            }
        }
    }
}

/// Makes the directory `path` is in, unless `made` says it exists;
/// returns it when made.
fn make_dir_of(made: &mut FxHashSet<String>, path: &str) -> Result<Option<String>, String> {
    let Some(dir) = Path::new(path).parent().and_then(|d| d.to_str()) else {
        return Ok(None);
    };
    if dir.is_empty() || made.contains(dir) {
        return Ok(None);
    }
    made.insert(dir.to_string());
    // Told only when made: telling drops every answer named as the dir or
    // one above it (`src`, the build dir), which the kept walks ask again.
    if Path::new(dir).is_dir() {
        return Ok(None);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("mkdir({dir}): {}", disk::io_message(&e)))?;
    Ok(Some(dir.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output's dir is made once a run and told only when made: telling
    /// of one that was there would drop answers the kept walks ask again.
    #[test]
    fn an_output_dir_is_told_only_when_made() {
        let d = tempfile::tempdir().unwrap();
        let out = |p: &str| d.path().join(p).to_str().unwrap().to_string();
        let mut made = FxHashSet::default();
        std::fs::create_dir(d.path().join("there")).unwrap();
        assert_eq!(make_dir_of(&mut made, &out("there/a.o")), Ok(None));
        let new = make_dir_of(&mut made, &out("new/sub/a.o"));
        assert_eq!(new, Ok(Some(out("new/sub"))));
        assert!(d.path().join("new/sub").is_dir());
        assert_eq!(make_dir_of(&mut made, &out("new/sub/b.o")), Ok(None));
    }
}
