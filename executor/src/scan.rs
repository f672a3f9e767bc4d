//! Dirty checking, exactly as ninja's DependencyScan: stat, load discovered
//! deps, compare mtimes and the logged command hash.

use std::collections::VecDeque;

use ggninja_graph::path::{canonicalize, canonicalize_all};
use ggninja_graph::{BuildId, Escape, FileId};
use ggninja_syntax::depfile;

use crate::disk;
use crate::engine::{Engine, Mark};

impl Engine {
    /// Prints one of ggninja's own explanations at once (ninja's are
    /// recorded per node, see `explanations`).
    pub(crate) fn explain(&self, msg: impl FnOnce() -> String) {
        if self.config.explain {
            eprintln!("{} explain: {}", self.config.prog, msg());
        }
    }

    /// Records why `node` is dirty, printed when an edge writing it shows.
    pub(crate) fn record(&mut self, node: FileId, msg: impl FnOnce(&Self) -> String) {
        if self.config.explain {
            let msg = msg(self);
            self.explanations.record(node, msg);
        }
    }

    /// The `-d explain` lines for `edge`, to print with its status.
    pub(crate) fn explanations_of(&self, edge: BuildId) -> Vec<String> {
        if !self.config.explain {
            return Vec::new();
        }
        let found = self.explanations.lookup(&self.graph.build(edge).outs);
        let prog = &self.config.prog;
        found
            .into_iter()
            .map(|m| format!("{prog} explain: {m}"))
            .collect()
    }

    pub(crate) fn stat_if_necessary(&mut self, id: FileId) -> Result<(), String> {
        if self.nodes[id.index()].exists.is_some() {
            return Ok(());
        }
        let mtime = match self.prestat.take(id) {
            Some(t) => t,
            None => {
                let _t = crate::metrics::time("node stat");
                self.disk.stat(self.graph.path(id))?
            }
        };
        self.nodes[id.index()].stated(mtime);
        Ok(())
    }

    pub(crate) fn exists(&self, id: FileId) -> bool {
        self.nodes[id.index()].exists == Some(true)
    }

    pub(crate) fn mtime(&self, id: FileId) -> i64 {
        self.nodes[id.index()].mtime
    }

    /// Updates the dirty state of `node` and everything it depends on.
    /// Validation nodes found on the way are appended to `validations`.
    pub fn recompute_dirty(
        &mut self,
        node: FileId,
        validations: &mut Vec<FileId>,
    ) -> Result<(), String> {
        let mut queue = VecDeque::from([node]);
        while let Some(n) = queue.pop_front() {
            let mut stack = Vec::new();
            let mut found = Vec::new();
            self.recompute_node_dirty(n, &mut stack, &mut found)?;
            queue.extend(found.iter().copied());
            validations.extend(found);
        }
        Ok(())
    }

    fn recompute_node_dirty(
        &mut self,
        node: FileId,
        stack: &mut Vec<FileId>,
        validations: &mut Vec<FileId>,
    ) -> Result<(), String> {
        let Some(edge) = self.graph.file(node).in_build else {
            if self.nodes[node.index()].exists.is_some() {
                return Ok(());
            }
            self.stat_if_necessary(node)?;
            let exists = self.exists(node);
            if !exists {
                self.record(node, |e| {
                    format!("{} has no in-edge and is missing", e.graph.path(node))
                });
            }
            self.nodes[node.index()].dirty = !exists;
            return Ok(());
        };
        let e = edge.index();
        if self.nodes[e].mark == Mark::Done {
            return Ok(());
        }
        self.verify_dag(node, stack)?;
        self.nodes[e].mark = Mark::InStack;
        stack.push(node);
        let mut dirty = false;
        self.nodes[e].outputs_ready = true;
        self.nodes[e].deps_missing = false;

        if !self.nodes[e].deps_loaded {
            if let Some(dd) = self.graph.build(edge).dyndep {
                if self.nodes[dd.index()].dyndep_pending {
                    self.recompute_node_dirty(dd, stack, validations)?;
                    let ready = match self.graph.file(dd).in_build {
                        None => true,
                        Some(p) => self.nodes[p.index()].outputs_ready,
                    };
                    if ready {
                        self.load_dyndeps(dd)?;
                    }
                }
            }
        }
        for i in 0..self.graph.build(edge).outs.len() {
            let o = self.graph.build(edge).outs[i];
            self.stat_if_necessary(o)?;
        }
        if !self.nodes[e].deps_loaded {
            self.nodes[e].deps_loaded = true;
            if !self.load_deps(edge)? {
                dirty = true;
                self.nodes[e].deps_missing = true;
            }
        }
        validations.extend(self.graph.build(edge).validations.iter().copied());

        let mut most_recent: Option<FileId> = None;
        let mut i = 0;
        while i < self.graph.build(edge).ins.len() {
            let input = self.graph.build(edge).ins[i];
            let order_only = self.graph.build(edge).is_order_only(i);
            i += 1;
            self.recompute_node_dirty(input, stack, validations)?;
            if let Some(p) = self.graph.file(input).in_build {
                if !self.nodes[p.index()].outputs_ready {
                    self.nodes[e].outputs_ready = false;
                }
            }
            if order_only {
                continue;
            }
            if self.nodes[input.index()].dirty {
                self.record(node, |e| format!("{} is dirty", e.graph.path(input)));
                dirty = true;
            } else if most_recent.is_none_or(|m| self.mtime(input) > self.mtime(m)) {
                most_recent = Some(input);
            }
        }
        if !dirty {
            dirty = self.recompute_outputs_dirty(edge, most_recent)?;
        }
        if dirty {
            for i in 0..self.graph.build(edge).outs.len() {
                let o = self.graph.build(edge).outs[i];
                self.nodes[o.index()].dirty = true;
            }
            let b = self.graph.build(edge);
            if !(self.graph.is_phony(edge) && b.ins.is_empty()) {
                self.nodes[e].outputs_ready = false;
            }
        }
        self.nodes[e].mark = Mark::Done;
        stack.pop();
        Ok(())
    }

    fn verify_dag(&self, node: FileId, stack: &mut [FileId]) -> Result<(), String> {
        let edge = self
            .graph
            .file(node)
            .in_build
            .expect("verify_dag on a built node");
        if self.nodes[edge.index()].mark != Mark::InStack {
            return Ok(());
        }
        let start = stack
            .iter()
            .position(|&n| self.graph.file(n).in_build == Some(edge))
            .expect("edge in stack");
        stack[start] = node;
        let mut msg = String::from("dependency cycle: ");
        for &n in &stack[start..] {
            msg.push_str(self.graph.path(n));
            msg.push_str(" -> ");
        }
        msg.push_str(self.graph.path(node));
        let b = self.graph.build(edge);
        if start + 1 == stack.len()
            && self.graph.is_phony(edge)
            && b.outs.len() == 1
            && b.implicit_outs == 0
            && b.implicit_ins == 0
        {
            msg.push_str(" [-w phonycycle=err]");
        }
        Err(msg)
    }

    /// Whether any output of `edge` is out of date given its newest input.
    pub(crate) fn recompute_outputs_dirty(
        &mut self,
        edge: BuildId,
        most_recent: Option<FileId>,
    ) -> Result<bool, String> {
        // ninja evaluates a phony's command too, then never reads it (its
        // outputs go by mtimes alone); the phony rule has no bindings to
        // cycle, so skipping it changes nothing but the time (175k phonies
        // of the deps log's headers on a large tree).
        // The command's hash, as the log names it: kept with a saved graph
        // (`command_hash.rs`), so most no-ops evaluate no command at all.
        let hash = match self.graph.is_phony(edge) {
            true => 0,
            false => self
                .graph
                .command_hash(edge, self.build_log.hash_kind())
                .map_err(|e| e.to_string())?,
        };
        for i in 0..self.graph.build(edge).outs.len() {
            let o = self.graph.build(edge).outs[i];
            if self.recompute_output_dirty(edge, most_recent, hash, o) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn recompute_output_dirty(
        &mut self,
        edge: BuildId,
        most_recent: Option<FileId>,
        command_hash: u64,
        output: FileId,
    ) -> bool {
        let path = |e: &Self| e.graph.path(output).to_string();
        if self.graph.is_phony(edge) {
            if self.graph.build(edge).ins.is_empty() && !self.exists(output) {
                self.record(output, |e| {
                    format!(
                        "output {} of phony edge with no inputs doesn't exist",
                        path(e)
                    )
                });
                return true;
            }
            if let Some(m) = most_recent {
                if !self.exists(output) {
                    let t = self.mtime(m);
                    let st = &mut self.nodes[output.index()];
                    st.mtime = st.mtime.max(t);
                }
            }
            return false;
        }
        if !self.exists(output) {
            self.record(output, |e| format!("output {} doesn't exist", path(e)));
            return true;
        }
        let entry = self.build_log.lookup(self.graph.path(output)).cloned();
        // As ninja 1.12: a restat rule's logged mtime stands for its
        // outputs, which it may have left older than its inputs.
        let used_restat = entry.is_some() && self.restat(edge);
        if let Some(m) = most_recent.filter(|&m| !used_restat && self.mtime(output) < self.mtime(m))
        {
            self.record(output, |e| {
                format!(
                    "output {} older than most recent input {} ({} vs {})",
                    path(e),
                    e.graph.path(m),
                    e.mtime(output),
                    e.mtime(m)
                )
            });
            return true;
        }
        let generator = self.graph.binding_bool(edge, "generator");
        match entry {
            Some(entry) => {
                if !generator && command_hash != entry.hash {
                    self.record(output, |e| format!("command line changed for {}", path(e)));
                    return true;
                }
                if let Some(m) = most_recent.filter(|&m| entry.mtime < self.mtime(m)) {
                    self.record(output, |e| {
                        format!(
                            "recorded mtime of {} older than most recent input {} ({} vs {})",
                            path(e),
                            e.graph.path(m),
                            entry.mtime,
                            e.mtime(m)
                        )
                    });
                    return true;
                }
            }
            // make judges by mtimes alone, checked above.
            None if !generator && !self.graph.build(edge).make_rules => {
                self.record(output, |e| {
                    format!("command line not found in log for {}", path(e))
                });
                return true;
            }
            None => {}
        }
        false
    }

    pub(crate) fn restat(&self, edge: BuildId) -> bool {
        self.nodes[edge.index()].dyndep_restat || self.graph.binding_bool(edge, "restat")
    }

    /// Loads deps discovered by earlier runs. Ok(false): missing or stale,
    /// so the edge must run to rediscover them.
    fn load_deps(&mut self, edge: BuildId) -> Result<bool, String> {
        let deps_type = self
            .graph
            .binding(edge, "deps", Escape::Shell)
            .map_err(|e| e.to_string())?;
        if !deps_type.is_empty() {
            return Ok(self.load_deps_from_log(edge));
        }
        let depfile = self
            .graph
            .binding(edge, "depfile", Escape::None)
            .map_err(|e| e.to_string())?;
        if !depfile.is_empty() {
            return self.load_depfile(edge, &depfile);
        }
        Ok(true)
    }

    fn load_deps_from_log(&mut self, edge: BuildId) -> bool {
        let output = self.graph.build(edge).outs[0];
        let Some(deps) = self.deps_log.get(output) else {
            self.record(output, |e| {
                format!("deps for '{}' are missing", e.graph.path(output))
            });
            return false;
        };
        if self.mtime(output) > deps.mtime {
            let (a, b) = (self.mtime(output), deps.mtime);
            self.record(output, |e| {
                let out = e.graph.path(output);
                format!("stored deps info out of date for '{out}' ({a} vs {b})")
            });
            return false;
        }
        // The graph and the log are apart: no copy of the deps needed.
        self.graph.add_discovered_ins(edge, deps.nodes);
        self.sync_states();
        true
    }

    fn load_depfile(&mut self, edge: BuildId, path: &str) -> Result<bool, String> {
        let _t = crate::metrics::time("depfile load");
        self.note_read(path);
        let content = disk::read_or_empty(&*self.disk, path)
            .map_err(|e| format!("loading '{path}': {}", disk::io_message(&e)))?;
        let first = self.graph.build(edge).outs[0];
        if content.is_empty() {
            self.record(first, |_| format!("depfile '{path}' is missing"));
            return Ok(false);
        }
        let parsed = depfile::parse(&content).map_err(|e| format!("{path}: {e}"))?;
        if parsed.outs.is_empty() {
            return Err(format!("{path}: no outputs declared"));
        }
        let outs: Vec<String> = parsed
            .outs
            .iter()
            .map(|o| canonicalize(o).unwrap_or_default())
            .collect();
        let first_path = self.graph.path(first).to_string();
        if outs.first() != Some(&first_path) {
            let got = outs.first().cloned().unwrap_or_default();
            let msg = format!("expected depfile '{path}' to mention '{first_path}', got '{got}'");
            self.record(first, |_| msg);
            return Ok(false);
        }
        for o in &outs {
            let declared = self
                .graph
                .build(edge)
                .outs
                .iter()
                .any(|&n| self.graph.path(n) == o);
            if !declared {
                return Err(format!(
                    "{path}: depfile mentions '{o}' as an output, but no such output was declared"
                ));
            }
        }
        let ins: Vec<String> = canonicalize_all(parsed.ins);
        let nodes: Vec<FileId> = ins.iter().map(|p| self.graph.file_id(p)).collect();
        self.graph.add_discovered_ins(edge, &nodes);
        self.sync_states();
        Ok(true)
    }
}
