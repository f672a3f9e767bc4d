//! The plan (which edges must run, which are ready) and the build loop that
//! runs them, following ninja's Plan and Builder.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::Path;

use ggninja_graph::path::canonicalize;
use ggninja_graph::{Escape, NodeId, CONSOLE_POOL};
use ggninja_syntax::depfile;

use ggninja_store::hash::ContentHash;

use crate::build_log::LogEntry;
use crate::disk;
use crate::engine::{Engine, Mark};
use crate::memo::Memoizer;
use crate::process::{self, Exit, Runner};
use crate::sandbox::Sandbox;
use crate::status::Status;
use ggninja_thunk::Thunks;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Not run itself, but waited for so dependents can run.
    Nothing,
    ToStart,
    ToFinish,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A message to print as `error: ...` before the build starts.
    #[error("{0}")]
    Setup(String),
    /// The build ran and stopped: `build stopped: ...`.
    #[error("build stopped: {0}.")]
    Stopped(String),
    #[error("build stopped: interrupted by user.")]
    Interrupted,
}

struct Running {
    start_ms: u64,
    desc: String,
    cmd: String,
    /// The memo key, when the command really runs and its result is kept.
    memo_key: Option<ContentHash>,
    /// Whether it runs in the sandbox (its outputs are collected from there).
    sandboxed: bool,
}

pub struct Builder<'e> {
    pub e: &'e mut Engine,
    pub status: Status,
    want: HashMap<NodeId, Want>,
    ready: BTreeSet<NodeId>,
    wanted_edges: usize,
    command_edges: usize,
    pool_use: Vec<usize>,
    delayed: Vec<BTreeSet<NodeId>>,
    runner: Runner,
    /// Running edges: start time in ms since the build started, and the
    /// description and command, evaluated once for start and finish.
    running: HashMap<NodeId, Running>,
    /// Edges done without a process: dry-run edges and memo hits.
    settled: VecDeque<NodeId>,
    /// Edges as thunks, when memoizing or sandboxing.
    pub thunks: Option<Thunks>,
    /// Memoized execution (`--cache`), off when None.
    pub memo: Option<Memoizer>,
    /// Sandboxed execution (`--sandbox`), off when None.
    pub sandbox: Option<Sandbox>,
    /// Storing a result failed (a full or read-only store): only look up.
    memo_read_only: bool,
    /// Directories known to exist, so each is created (or checked) once.
    made_dirs: std::collections::HashSet<String>,
}

impl<'e> Builder<'e> {
    pub fn new(e: &'e mut Engine, status: Status) -> Self {
        let pools = e.graph.pools.len();
        Builder {
            e,
            status,
            want: HashMap::new(),
            ready: BTreeSet::new(),
            wanted_edges: 0,
            command_edges: 0,
            pool_use: vec![0; pools],
            delayed: vec![BTreeSet::new(); pools],
            runner: Runner::default(),
            running: HashMap::new(),
            settled: VecDeque::new(),
            thunks: None,
            memo: None,
            sandbox: None,
            memo_read_only: false,
            made_dirs: Default::default(),
        }
    }

    pub fn already_up_to_date(&self) -> bool {
        !self.more_to_do()
    }

    fn more_to_do(&self) -> bool {
        self.wanted_edges > 0 && self.command_edges > 0
    }

    /// Scans `target` and plans what it needs. Errors are user-facing.
    pub fn add_target(&mut self, target: NodeId) -> Result<(), String> {
        let mut validations = Vec::new();
        self.e.recompute_dirty(target, &mut validations)?;
        let in_build = self.e.graph.file(target).in_build;
        if in_build.is_none_or(|b| !self.e.nodes[b.index()].outputs_ready) {
            self.add_sub_target(target, None, None)?;
        }
        for v in validations {
            if let Some(b) = self.e.graph.file(v).in_build {
                if !self.e.nodes[b.index()].outputs_ready {
                    self.add_sub_target(v, None, None)?;
                }
            }
        }
        Ok(())
    }

    fn add_sub_target(
        &mut self,
        node: NodeId,
        dependent: Option<NodeId>,
        mut walk: Option<&mut BTreeSet<NodeId>>,
    ) -> Result<(), String> {
        let Some(edge) = self.e.graph.file(node).in_build else {
            if self.e.is_dirty(node) {
                let needed = dependent
                    .map(|d| format!(", needed by '{}',", self.e.graph.path(d)))
                    .unwrap_or_default();
                return Err(format!(
                    "'{}'{} missing and no known rule to make it",
                    self.e.graph.path(node),
                    needed
                ));
            }
            return Ok(());
        };
        if self.e.nodes[edge.index()].outputs_ready {
            return Ok(());
        }
        let inserted = !self.want.contains_key(&edge);
        let want = *self.want.entry(edge).or_insert(Want::Nothing);
        if walk.is_some() && want == Want::ToFinish {
            return Ok(());
        }
        if self.e.is_dirty(node) && want == Want::Nothing {
            self.want.insert(edge, Want::ToStart);
            self.edge_wanted(edge);
            if walk.is_none() && self.all_inputs_ready(edge) {
                self.schedule_work(edge);
            }
        }
        if let Some(w) = walk.as_deref_mut() {
            w.insert(edge);
        }
        if !inserted {
            return Ok(());
        }
        let mut i = 0;
        while i < self.e.graph.build(edge).ins.len() {
            let input = self.e.graph.build(edge).ins[i];
            i += 1;
            self.add_sub_target(input, Some(node), walk.as_deref_mut())?;
        }
        Ok(())
    }

    fn edge_wanted(&mut self, edge: NodeId) {
        self.wanted_edges += 1;
        if !self.e.graph.is_phony(edge) {
            self.command_edges += 1;
        }
    }

    fn all_inputs_ready(&self, edge: NodeId) -> bool {
        self.e.graph.build(edge).ins.iter().all(|&i| {
            self.e
                .graph
                .file(i)
                .in_build
                .is_none_or(|b| self.e.nodes[b.index()].outputs_ready)
        })
    }

    fn schedule_work(&mut self, edge: NodeId) {
        match self.want.get(&edge) {
            Some(Want::ToStart) => {}
            _ => return,
        }
        self.want.insert(edge, Want::ToFinish);
        let pool = self.e.graph.build(edge).pool;
        if self.e.graph.pools[pool].depth != 0 {
            self.delayed[pool].insert(edge);
            self.retrieve_ready(pool);
        } else {
            self.pool_use[pool] += 1;
            self.ready.insert(edge);
        }
    }

    fn retrieve_ready(&mut self, pool: usize) {
        let depth = self.e.graph.pools[pool].depth;
        while self.pool_use[pool] < depth {
            let Some(edge) = self.delayed[pool].pop_first() else {
                break;
            };
            self.pool_use[pool] += 1;
            self.ready.insert(edge);
        }
    }

    fn edge_finished(&mut self, edge: NodeId, success: bool) -> Result<(), String> {
        let directly_wanted = self.want.get(&edge).is_some_and(|w| *w != Want::Nothing);
        let pool = self.e.graph.build(edge).pool;
        if directly_wanted && self.e.graph.pools[pool].depth != 0 {
            self.pool_use[pool] -= 1;
        }
        self.retrieve_ready(pool);
        if !success {
            return Ok(());
        }
        if directly_wanted {
            self.wanted_edges -= 1;
        }
        self.want.remove(&edge);
        self.e.nodes[edge.index()].outputs_ready = true;
        let outs = self.e.graph.build(edge).outs.clone();
        for o in outs {
            self.node_finished(o)?;
        }
        Ok(())
    }

    fn node_finished(&mut self, node: NodeId) -> Result<(), String> {
        if self.e.nodes[node.index()].dyndep_pending {
            return self.load_dyndeps_during_build(node);
        }
        let consumers: Vec<NodeId> = self.e.graph.consumers(node).collect();
        for b in consumers {
            if self.want.contains_key(&b) {
                self.edge_maybe_ready(b)?;
            }
        }
        Ok(())
    }

    fn edge_maybe_ready(&mut self, edge: NodeId) -> Result<(), String> {
        if self.all_inputs_ready(edge) {
            if self.want.get(&edge) != Some(&Want::Nothing) {
                self.schedule_work(edge);
            } else {
                self.edge_finished(edge, true)?;
            }
        }
        Ok(())
    }

    /// After a restat found `node` unchanged, drops dependents that no
    /// longer need to run.
    fn clean_node(&mut self, node: NodeId) -> Result<(), String> {
        self.e.nodes[node.index()].dirty = false;
        let consumers: Vec<NodeId> = self.e.graph.consumers(node).collect();
        for b in consumers {
            match self.want.get(&b) {
                None | Some(Want::Nothing) => continue,
                _ => {}
            }
            if self.e.nodes[b.index()].deps_missing {
                continue;
            }
            let ins = self.e.graph.build(b).dirtying_ins().to_vec();
            if ins.iter().any(|&i| self.e.is_dirty(i)) {
                continue;
            }
            let mut most_recent: Option<NodeId> = None;
            for &i in &ins {
                if most_recent.is_none_or(|m| self.e.mtime(i) > self.e.mtime(m)) {
                    most_recent = Some(i);
                }
            }
            if !self.e.recompute_outputs_dirty(b, most_recent)? {
                let outs = self.e.graph.build(b).outs.clone();
                for o in outs {
                    self.clean_node(o)?;
                }
                self.want.insert(b, Want::Nothing);
                self.wanted_edges -= 1;
                if !self.e.graph.is_phony(b) {
                    self.command_edges -= 1;
                    self.status.edge_removed();
                }
            }
        }
        Ok(())
    }

    fn load_dyndeps_during_build(&mut self, node: NodeId) -> Result<(), String> {
        if self.e.config.explain {
            self.status.printer.print_on_new_line(b"");
        }
        let touched = self.e.load_dyndeps(node)?;
        // Recompute the dirty state of everything downstream of the file.
        let mut dependents = BTreeSet::new();
        self.unmark_dependents(node, &mut dependents);
        for n in dependents {
            let mut validations = Vec::new();
            self.e.recompute_dirty(n, &mut validations)?;
            for v in validations {
                if let Some(b) = self.e.graph.file(v).in_build {
                    if !self.e.nodes[b.index()].outputs_ready {
                        self.add_sub_target(v, None, None)?;
                    }
                }
            }
            if !self.e.is_dirty(n) {
                continue;
            }
            let Some(b) = self.e.graph.file(n).in_build else {
                continue;
            };
            if self.want.get(&b) == Some(&Want::Nothing) {
                self.want.insert(b, Want::ToStart);
                self.edge_wanted(b);
            }
        }
        // Walk the newly discovered inputs of planned edges into the plan.
        let mut walk = BTreeSet::new();
        for b in touched {
            if self.e.nodes[b.index()].outputs_ready || !self.want.contains_key(&b) {
                continue;
            }
            let first_out = self.e.graph.build(b).outs[0];
            let ins = self.e.graph.build(b).ins.clone();
            for i in ins {
                self.add_sub_target(i, Some(first_out), Some(&mut walk))?;
            }
        }
        for b in self.e.graph.consumers(node).collect::<Vec<_>>() {
            if self.want.contains_key(&b) {
                walk.insert(b);
            }
        }
        for b in walk {
            if self.want.contains_key(&b) {
                self.edge_maybe_ready(b)?;
            }
        }
        self.status.set_total(self.command_edges);
        Ok(())
    }

    fn unmark_dependents(&mut self, node: NodeId, dependents: &mut BTreeSet<NodeId>) {
        let consumers: Vec<NodeId> = self.e.graph.consumers(node).collect();
        for b in consumers {
            if !self.want.contains_key(&b) || self.e.nodes[b.index()].mark == Mark::None {
                continue;
            }
            self.e.nodes[b.index()].mark = Mark::None;
            for o in self.e.graph.build(b).outs.clone() {
                if dependents.insert(o) {
                    self.unmark_dependents(o, dependents);
                }
            }
        }
    }

    fn can_run_more(&self) -> bool {
        if self.e.config.dry_run {
            return true;
        }
        let busy = self.runner.running();
        busy < self.e.config.parallelism
            && (busy == 0
                || self
                    .e
                    .config
                    .max_load
                    .is_none_or(|l| l <= 0.0 || process::load_average() < l))
    }

    /// Runs the plan to completion or failure.
    pub fn build(&mut self) -> Result<(), BuildError> {
        self.status.set_total(self.command_edges);
        let configured = self.e.config.failures_allowed;
        let mut failures_allowed = if configured == 0 {
            usize::MAX
        } else {
            configured
        };
        let mut pending = 0usize;
        self.status.build_started();
        let fail = |b: &mut Self, msg: String| {
            b.cleanup();
            b.status.build_finished();
            BuildError::Stopped(msg)
        };
        while self.more_to_do() {
            if failures_allowed > 0 && self.can_run_more() {
                if let Some(edge) = self.ready.pop_first() {
                    if self.e.graph.binding_bool(edge, "generator") {
                        self.e.build_log.close();
                    }
                    if let Err(msg) = self.start_edge(edge) {
                        return Err(fail(self, msg));
                    }
                    if self.e.graph.is_phony(edge) {
                        if let Err(msg) = self.edge_finished(edge, true) {
                            return Err(fail(self, msg));
                        }
                    } else {
                        pending += 1;
                    }
                    continue;
                }
            }
            if pending > 0 {
                let result = match self.settled.pop_front() {
                    Some(edge) => Some((edge, Exit::Success, Vec::new())),
                    None => self
                        .runner
                        .wait()
                        .map(|f| (NodeId::new(f.token), f.exit, f.output)),
                };
                let Some((edge, exit, output)) = result.filter(|r| r.1 != Exit::Interrupted) else {
                    self.cleanup();
                    self.status.build_finished();
                    return Err(BuildError::Interrupted);
                };
                pending -= 1;
                let ok = match self.finish_command(edge, exit == Exit::Success, output) {
                    Ok(ok) => ok,
                    Err(msg) => return Err(fail(self, msg)),
                };
                if !ok {
                    failures_allowed = failures_allowed.saturating_sub(1);
                }
                continue;
            }
            self.status.build_finished();
            let msg = if failures_allowed == 0 {
                if configured > 1 || configured == 0 {
                    "subcommands failed"
                } else {
                    "subcommand failed"
                }
            } else if failures_allowed < configured {
                "cannot make progress due to previous errors"
            } else {
                "stuck [this is a bug]"
            };
            return Err(BuildError::Stopped(msg.to_string()));
        }
        self.status.build_finished();
        Ok(())
    }

    fn describe(&self, edge: NodeId) -> (String, String) {
        let g = &self.e.graph;
        let desc = g
            .binding(edge, "description", Escape::Shell)
            .unwrap_or_default();
        let cmd = g.command(edge, false).unwrap_or_default();
        (desc, cmd)
    }

    fn start_edge(&mut self, edge: NodeId) -> Result<(), String> {
        let _t = crate::metrics::time("StartEdge");
        if self.e.graph.is_phony(edge) {
            return Ok(());
        }
        let start_ms = self.status.elapsed_ms();
        let (desc, cmd) = self.describe(edge);
        let console = self.e.graph.build(edge).pool == CONSOLE_POOL;
        self.status.edge_started(&desc, &cmd, console, start_ms);
        for &o in &self.e.graph.build(edge).outs {
            let path = self.e.graph.path(o);
            let Some(dir) = Path::new(path).parent().and_then(|d| d.to_str()) else {
                continue;
            };
            if dir.is_empty() || self.made_dirs.contains(dir) {
                continue;
            }
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("mkdir({dir}): {}", disk::io_message(&e)))?;
            self.made_dirs.insert(dir.to_string());
        }
        let rspfile = self
            .e
            .graph
            .binding(edge, "rspfile", Escape::None)
            .map_err(|e| e.to_string())?;
        if !rspfile.is_empty() {
            let content = self
                .e
                .graph
                .binding(edge, "rspfile_content", Escape::Shell)
                .map_err(|e| e.to_string())?;
            disk::make_dirs_for(&rspfile).ok();
            std::fs::write(&rspfile, content)
                .map_err(|e| format!("writing {rspfile}: {}", disk::io_message(&e)))?;
        }
        let mut memo_key = None;
        let mut launch = None;
        let mut hit = false;
        let hermetic =
            !self.e.config.dry_run && !console && !self.e.graph.binding_bool(edge, "generator");
        if let (true, Some(thunks)) = (hermetic, &self.thunks) {
            let g = &self.e.graph;
            let out = || g.path(g.build(edge).outs[0]).to_string();
            match thunks.of(g, edge) {
                Ok(t) => {
                    let mut broken = None;
                    if let Some(m) = &self.memo {
                        let key = m.key(&t);
                        match m.restore(g, edge, &key) {
                            Ok(true) => {
                                self.e.explain(|| {
                                    format!("reusing the outputs of thunk {key} for {}", out())
                                });
                                hit = true;
                            }
                            Ok(false) => {
                                self.e.explain(|| {
                                    format!("thunk {key} for {} is not memoized", out())
                                });
                                memo_key = (!self.memo_read_only).then_some(key);
                            }
                            Err(err) => broken = Some(err.to_string()),
                        }
                    }
                    if let (false, Some(sb)) = (hit, &self.sandbox) {
                        let bundle = t.bundle.as_deref();
                        let prepared = sb.prepare(edge.index(), g, edge, &t.thunk(), bundle);
                        let prepared =
                            prepared.map_err(|e| format!("sandbox for '{}': {}", out(), e))?;
                        launch = Some(prepared);
                    }
                    if let Some(err) = broken {
                        self.disable_memo(&err);
                    }
                }
                Err(why) => self.e.explain(|| format!("{} runs locally: {why}", out())),
            }
        }
        let sandboxed = launch.is_some();
        // Like ninja, a dry run still makes directories and rspfiles. It
        // and a memo hit finish without a process.
        let started = if self.e.config.dry_run || hit {
            self.settled.push_back(edge);
            Ok(())
        } else {
            let launch = launch.unwrap_or_else(|| process::shell(&cmd));
            self.runner.start(edge.index(), launch, console)
        };
        let started = started.map_err(|_| format!("command '{cmd}' failed."));
        self.running.insert(
            edge,
            Running {
                start_ms,
                desc,
                cmd,
                memo_key,
                sandboxed,
            },
        );
        started
    }

    /// Records a finished command. Ok(false) means the command failed.
    fn finish_command(
        &mut self,
        edge: NodeId,
        mut success: bool,
        mut output: Vec<u8>,
    ) -> Result<bool, String> {
        let _t = crate::metrics::time("FinishCommand");
        let sandboxed = self.running.get(&edge).is_some_and(|r| r.sandboxed);
        if let (true, Some(sb)) = (sandboxed, &self.sandbox) {
            if success {
                let restat = self.e.restat(edge);
                if let Err(e) = sb.collect(edge.index(), &self.e.graph, edge, restat) {
                    output.extend_from_slice(format!("sandbox: {e}\n").as_bytes());
                    success = false;
                }
            }
            sb.discard(edge.index());
        }
        // Keep the result before the depfile is read and deleted below.
        let memo_key = self.running.get(&edge).and_then(|r| r.memo_key);
        if let (true, Some(key), Some(m)) = (success, memo_key, &self.memo) {
            if let Err(err) = m.record(&self.e.graph, edge, &key) {
                // A full or read-only store can still serve hits.
                if !self.memo_read_only {
                    self.memo_read_only = true;
                    let msg = format!(
                        "{}: warning: cache: results are no longer stored: {err}\n",
                        self.e.config.prog
                    );
                    self.status.printer.print_on_new_line(msg.as_bytes());
                }
            }
        }
        let g = &self.e.graph;
        let deps_type = g
            .binding(edge, "deps", Escape::Shell)
            .map_err(|e| e.to_string())?;
        let mut deps_paths = Vec::new();
        if !deps_type.is_empty() {
            match self.extract_deps(edge, &deps_type, &mut output) {
                Ok(paths) => deps_paths = paths,
                Err(msg) if success => {
                    if !output.is_empty() {
                        output.push(b'\n');
                    }
                    output.extend_from_slice(msg.as_bytes());
                    success = false;
                }
                Err(_) => {}
            }
        }
        let Running {
            start_ms,
            desc,
            cmd,
            ..
        } = match self.running.remove(&edge) {
            Some(r) => r,
            None => {
                let (desc, cmd) = self.describe(edge);
                Running {
                    start_ms: 0,
                    desc,
                    cmd,
                    memo_key: None,
                    sandboxed: false,
                }
            }
        };
        let end_ms = self.status.elapsed_ms();
        let console = self.e.graph.build(edge).pool == CONSOLE_POOL;
        let failed_outs = (!success).then(|| {
            let g = &self.e.graph;
            g.build(edge)
                .outs
                .iter()
                .map(|&o| format!("{} ", g.path(o)))
                .collect::<String>()
        });
        self.status.edge_finished(
            &desc,
            &cmd,
            console,
            end_ms,
            failed_outs.as_deref(),
            &output,
        );
        if !success {
            self.edge_finished(edge, false)?;
            return Ok(false);
        }

        // The log records the newest output mtime, or, when a restat left
        // outputs untouched, the newest input's (ninja 1.11's rule).
        let mut record_mtime = 0;
        if !self.e.config.dry_run {
            let restat = self.e.restat(edge);
            let mut cleaned = false;
            let outs = self.e.graph.build(edge).outs.clone();
            for o in outs {
                let new_mtime = disk::stat(self.e.graph.path(o))?;
                record_mtime = record_mtime.max(new_mtime);
                if self.e.mtime(o) == new_mtime && restat {
                    self.clean_node(o)?;
                    cleaned = true;
                }
            }
            if cleaned {
                let mut restat_mtime = 0;
                let ins = self.e.graph.build(edge).dirtying_ins().to_vec();
                for i in ins {
                    restat_mtime = restat_mtime.max(disk::stat(self.e.graph.path(i))?);
                }
                let depfile = self
                    .e
                    .graph
                    .binding(edge, "depfile", Escape::None)
                    .unwrap_or_default();
                if restat_mtime != 0 && deps_type.is_empty() && !depfile.is_empty() {
                    restat_mtime = restat_mtime.max(disk::stat(&depfile)?);
                }
                self.status.set_total(self.command_edges);
                record_mtime = restat_mtime;
            }
        }
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
        // The logged hash covers the command plus rspfile content, as ninja's.
        let mut hash_text = cmd;
        let rsp = self.e.graph.binding(edge, "rspfile_content", Escape::Shell);
        let rsp = rsp.map_err(|e| e.to_string())?;
        if !rsp.is_empty() {
            hash_text.push_str(";rspfile=");
            hash_text.push_str(&rsp);
        }
        let entry = LogEntry {
            start_ms: start_ms as i32,
            end_ms: end_ms as i32,
            mtime: record_mtime,
            hash: self.e.build_log.hash_command(&hash_text),
        };
        let outs: Vec<String> = self
            .e
            .graph
            .build(edge)
            .outs
            .iter()
            .map(|&o| self.e.graph.path(o).to_string())
            .collect();
        let out_refs: Vec<&str> = outs.iter().map(String::as_str).collect();
        self.e
            .build_log
            .record(&out_refs, &entry)
            .map_err(|e| format!("Error writing to build log: {}", disk::io_message(&e)))?;
        if !deps_type.is_empty() {
            let deps: Vec<&str> = deps_paths.iter().map(String::as_str).collect();
            for out in &outs {
                let mtime = disk::stat(out)?;
                self.e
                    .deps_log
                    .record(out, mtime, &deps)
                    .map_err(|e| format!("Error writing to deps log: {}", disk::io_message(&e)))?;
            }
        }
        Ok(true)
    }

    /// Reads the headers a command used, from its depfile (`deps = gcc`) or
    /// its output (`deps = msvc`, whose include lines are removed).
    fn extract_deps(
        &mut self,
        edge: NodeId,
        deps_type: &str,
        output: &mut Vec<u8>,
    ) -> Result<Vec<String>, String> {
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
                Ok(includes.into_iter().collect())
            }
            "gcc" => {
                let path = g.binding(edge, "depfile", Escape::None).unwrap_or_default();
                if path.is_empty() {
                    return Err("edge with deps=gcc but no depfile makes no sense".to_string());
                }
                let content = disk::read_or_empty(&path).map_err(|e| disk::io_message(&e))?;
                if content.is_empty() {
                    return Ok(Vec::new());
                }
                let parsed = depfile::parse(&content).map_err(|e| e.to_string())?;
                let ins = parsed.ins.iter().filter_map(|p| canonicalize(p)).collect();
                if !self.e.config.keep_depfile {
                    disk::remove(&path)
                        .map_err(|e| format!("deleting depfile: {}\n", disk::io_message(&e)))?;
                }
                Ok(ins)
            }
            other => Err(format!("unknown deps type '{other}'")),
        }
    }

    /// Turns the cache off for the rest of the build: a broken store must
    /// never fail or corrupt a build.
    fn disable_memo(&mut self, err: &str) {
        if self.memo.take().is_some() {
            let msg = format!("{}: warning: cache disabled: {err}\n", self.e.config.prog);
            self.status.printer.print_on_new_line(msg.as_bytes());
        }
    }

    /// Stops running commands and removes outputs they may have half written.
    fn cleanup(&mut self) {
        if self.e.config.dry_run {
            return;
        }
        let tokens = self.runner.abort();
        if let Some(sb) = &self.sandbox {
            sb.clear();
        }
        for t in tokens {
            let edge = NodeId::new(t);
            let depfile = self
                .e
                .graph
                .binding(edge, "depfile", Escape::None)
                .unwrap_or_default();
            for &o in &self.e.graph.build(edge).outs {
                let path = self.e.graph.path(o);
                let new_mtime = match disk::stat(path) {
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
