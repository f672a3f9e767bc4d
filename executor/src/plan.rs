//! The plan, as ninja 1.13's Plan: which edges a build wants, which are
//! ready, pools with their delayed queues, and what finishing an edge
//! unblocks (restat cleaning, dyndep files loaded mid-build). Ready edges
//! start by critical path first (ninja 1.12's unit weights: the most
//! commands between an edge and a target), then in node order.
//!
//! Unaware of commands, processes, status lines and time: it reads and
//! updates the engine's graph and node states only (dirty checking goes
//! through the engine's scan), so a replay of a build can drive it edge by
//! edge without running anything.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};

use ggninja_graph::{BuildId, FileId, Graph};

use crate::engine::{Engine, Mark};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Not run itself, but waited for so dependents can run.
    Nothing,
    ToStart,
    ToFinish,
}

/// An edge's place in the queues: the longest critical path first, then
/// node order (ninja's creation order).
type Priority = (Reverse<i64>, BuildId);

pub struct Plan {
    want: HashMap<BuildId, Want>,
    /// Ready edges, highest priority first.
    ready: BTreeSet<Priority>,
    wanted_edges: usize,
    command_edges: usize,
    pool_use: Vec<usize>,
    delayed: Vec<BTreeSet<Priority>>,
    /// The targets and validations added, where the critical path ends.
    targets: Vec<FileId>,
    /// Critical path weights from `prepare`; edges it did not reach
    /// (found later by a dyndep file) count as -1, as in ninja.
    weights: HashMap<BuildId, i64>,
}

impl Plan {
    pub fn new(g: &Graph) -> Plan {
        let pools = g.pools.len();
        Plan {
            want: HashMap::new(),
            ready: BTreeSet::new(),
            wanted_edges: 0,
            command_edges: 0,
            pool_use: vec![0; pools],
            delayed: vec![BTreeSet::new(); pools],
            targets: Vec::new(),
            weights: HashMap::new(),
        }
    }

    /// Readies the edges that can start, once every target is added (ninja's
    /// PrepareQueue): weighs the critical paths, then queues by them.
    pub fn prepare(&mut self, e: &Engine) {
        let g = &e.graph;
        self.weights = critical_path_weights(g, &self.targets);
        let mut startable: Vec<BuildId> = Vec::new();
        for (&b, &w) in &self.want {
            if w == Want::ToStart && self.all_inputs_ready(e, b) {
                startable.push(b);
            }
        }
        for b in startable {
            self.want.insert(b, Want::ToFinish);
            let pool = g.build(b).pool;
            let key = self.priority(b);
            if g.pools[pool].depth != 0 {
                self.delayed[pool].insert(key);
            } else {
                self.pool_use[pool] += 1;
                self.ready.insert(key);
            }
        }
        // Pools fill only now, so the highest priorities get their slots.
        for pool in 0..self.delayed.len() {
            self.retrieve_ready(g, pool);
        }
    }

    fn priority(&self, edge: BuildId) -> Priority {
        (Reverse(*self.weights.get(&edge).unwrap_or(&-1)), edge)
    }

    /// Whether any wanted edge with a command is left.
    pub fn more_to_do(&self) -> bool {
        self.wanted_edges > 0 && self.command_edges > 0
    }

    /// Edges with a command the plan will run (the status line's total).
    pub fn command_edges(&self) -> usize {
        self.command_edges
    }

    /// Whether an edge is ready to start.
    pub fn any_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The next ready edge, highest priority first.
    pub fn pop_ready(&mut self) -> Option<BuildId> {
        self.ready.pop_first().map(|(_, b)| b)
    }

    /// Plans what `target` (already scanned) and the `validations` the scan
    /// found need. Errors are user-facing.
    pub fn add_target(
        &mut self,
        e: &mut Engine,
        target: FileId,
        validations: Vec<FileId>,
    ) -> Result<(), String> {
        let in_build = e.graph.file(target).in_build;
        if in_build.is_none_or(|b| !e.nodes[b.index()].outputs_ready) {
            self.targets.push(target);
            self.add_sub_target(e, target, None, None)?;
        }
        for v in validations {
            if let Some(b) = e.graph.file(v).in_build {
                if !e.nodes[b.index()].outputs_ready {
                    self.targets.push(v);
                    self.add_sub_target(e, v, None, None)?;
                }
            }
        }
        Ok(())
    }

    /// Validations a dyndep file's reload found, planned at once.
    fn add_validations(&mut self, e: &mut Engine, validations: Vec<FileId>) -> Result<(), String> {
        for v in validations {
            if let Some(b) = e.graph.file(v).in_build {
                if !e.nodes[b.index()].outputs_ready {
                    self.add_sub_target(e, v, None, None)?;
                }
            }
        }
        Ok(())
    }

    fn add_sub_target(
        &mut self,
        e: &mut Engine,
        node: FileId,
        dependent: Option<FileId>,
        mut walk: Option<&mut BTreeSet<BuildId>>,
    ) -> Result<(), String> {
        let Some(edge) = e.graph.file(node).in_build else {
            if e.is_dirty(node) {
                let needed = dependent
                    .map(|d| format!(", needed by '{}',", e.graph.path(d)))
                    .unwrap_or_default();
                return Err(format!(
                    "'{}'{} missing and no known rule to make it",
                    e.graph.path(node),
                    needed
                ));
            }
            return Ok(());
        };
        if e.nodes[edge.index()].outputs_ready {
            return Ok(());
        }
        let inserted = !self.want.contains_key(&edge);
        let want = *self.want.entry(edge).or_insert(Want::Nothing);
        if walk.is_some() && want == Want::ToFinish {
            return Ok(());
        }
        if e.is_dirty(node) && want == Want::Nothing {
            self.want.insert(edge, Want::ToStart);
            self.edge_wanted(&e.graph, edge);
        }
        if let Some(w) = walk.as_deref_mut() {
            w.insert(edge);
        }
        if !inserted {
            return Ok(());
        }
        let mut i = 0;
        while i < e.graph.build(edge).ins.len() {
            let input = e.graph.build(edge).ins[i];
            i += 1;
            self.add_sub_target(e, input, Some(node), walk.as_deref_mut())?;
        }
        Ok(())
    }

    fn edge_wanted(&mut self, g: &Graph, edge: BuildId) {
        self.wanted_edges += 1;
        if !g.is_phony(edge) {
            self.command_edges += 1;
        }
    }

    fn all_inputs_ready(&self, e: &Engine, edge: BuildId) -> bool {
        e.graph.build(edge).ins.iter().all(|&i| {
            e.graph
                .file(i)
                .in_build
                .is_none_or(|b| e.nodes[b.index()].outputs_ready)
        })
    }

    fn schedule_work(&mut self, g: &Graph, edge: BuildId) {
        match self.want.get(&edge) {
            Some(Want::ToStart) => {}
            _ => return,
        }
        self.want.insert(edge, Want::ToFinish);
        let pool = g.build(edge).pool;
        let key = self.priority(edge);
        if g.pools[pool].depth != 0 {
            self.delayed[pool].insert(key);
            self.retrieve_ready(g, pool);
        } else {
            self.pool_use[pool] += 1;
            self.ready.insert(key);
        }
    }

    fn retrieve_ready(&mut self, g: &Graph, pool: usize) {
        let depth = g.pools[pool].depth;
        while self.pool_use[pool] < depth {
            let Some(key) = self.delayed[pool].pop_first() else {
                break;
            };
            self.pool_use[pool] += 1;
            self.ready.insert(key);
        }
    }

    /// Records that `edge` finished; on success its dependents may become
    /// ready (and a dyndep file it wrote is loaded).
    pub fn edge_finished(
        &mut self,
        e: &mut Engine,
        edge: BuildId,
        success: bool,
    ) -> Result<(), String> {
        let directly_wanted = self.want.get(&edge).is_some_and(|w| *w != Want::Nothing);
        let pool = e.graph.build(edge).pool;
        if directly_wanted && e.graph.pools[pool].depth != 0 {
            self.pool_use[pool] -= 1;
        }
        self.retrieve_ready(&e.graph, pool);
        if !success {
            return Ok(());
        }
        if directly_wanted {
            self.wanted_edges -= 1;
        }
        self.want.remove(&edge);
        e.nodes[edge.index()].outputs_ready = true;
        let outs = e.graph.build(edge).outs.clone();
        for o in outs {
            self.node_finished(e, o)?;
        }
        Ok(())
    }

    fn node_finished(&mut self, e: &mut Engine, node: FileId) -> Result<(), String> {
        if e.nodes[node.index()].dyndep_pending {
            return self.load_dyndeps(e, node);
        }
        let consumers: Vec<BuildId> = e.graph.consumers(node).collect();
        for b in consumers {
            if self.want.contains_key(&b) {
                self.edge_maybe_ready(e, b)?;
            }
        }
        Ok(())
    }

    fn edge_maybe_ready(&mut self, e: &mut Engine, edge: BuildId) -> Result<(), String> {
        if self.all_inputs_ready(e, edge) {
            if self.want.get(&edge) != Some(&Want::Nothing) {
                self.schedule_work(&e.graph, edge);
            } else {
                self.edge_finished(e, edge, true)?;
            }
        }
        Ok(())
    }

    /// After a restat found `node` unchanged, drops dependents that no
    /// longer need to run.
    pub fn clean_node(&mut self, e: &mut Engine, node: FileId) -> Result<(), String> {
        e.nodes[node.index()].dirty = false;
        let consumers: Vec<BuildId> = e.graph.consumers(node).collect();
        for b in consumers {
            match self.want.get(&b) {
                None | Some(Want::Nothing) => continue,
                _ => {}
            }
            // Deps the log did not have: only running it rediscovers them.
            if e.nodes[b.index()].deps_missing {
                continue;
            }
            let ins = e.graph.build(b).dirtying_ins().to_vec();
            if ins.iter().any(|&i| e.is_dirty(i)) {
                continue;
            }
            let mut most_recent: Option<FileId> = None;
            for &i in &ins {
                if most_recent.is_none_or(|m| e.mtime(i) > e.mtime(m)) {
                    most_recent = Some(i);
                }
            }
            if !e.recompute_outputs_dirty(b, most_recent)? {
                let outs = e.graph.build(b).outs.clone();
                for o in outs {
                    self.clean_node(e, o)?;
                }
                self.want.insert(b, Want::Nothing);
                self.wanted_edges -= 1;
                if !e.graph.is_phony(b) {
                    self.command_edges -= 1;
                }
            }
        }
        Ok(())
    }

    /// Loads the dyndep file `node` (just written) and plans what it adds.
    fn load_dyndeps(&mut self, e: &mut Engine, node: FileId) -> Result<(), String> {
        let touched = e.load_dyndeps(node)?;
        // Recompute the dirty state of everything downstream of the file.
        let mut dependents = BTreeSet::new();
        self.unmark_dependents(e, node, &mut dependents);
        for n in dependents {
            let mut validations = Vec::new();
            e.recompute_dirty(n, &mut validations)?;
            self.add_validations(e, validations)?;
            if !e.is_dirty(n) {
                continue;
            }
            let Some(b) = e.graph.file(n).in_build else {
                continue;
            };
            if self.want.get(&b) == Some(&Want::Nothing) {
                self.want.insert(b, Want::ToStart);
                self.edge_wanted(&e.graph, b);
            }
        }
        // Walk the newly discovered inputs of planned edges into the plan.
        let mut walk = BTreeSet::new();
        for b in touched {
            if e.nodes[b.index()].outputs_ready || !self.want.contains_key(&b) {
                continue;
            }
            let first_out = e.graph.build(b).outs[0];
            let ins = e.graph.build(b).ins.clone();
            for i in ins {
                self.add_sub_target(e, i, Some(first_out), Some(&mut walk))?;
            }
        }
        for b in e.graph.consumers(node).collect::<Vec<_>>() {
            if self.want.contains_key(&b) {
                walk.insert(b);
            }
        }
        for b in walk {
            if self.want.contains_key(&b) {
                self.edge_maybe_ready(e, b)?;
            }
        }
        Ok(())
    }

    fn unmark_dependents(&self, e: &mut Engine, node: FileId, dependents: &mut BTreeSet<FileId>) {
        let consumers: Vec<BuildId> = e.graph.consumers(node).collect();
        for b in consumers {
            if !self.want.contains_key(&b) || e.nodes[b.index()].mark == Mark::None {
                continue;
            }
            e.nodes[b.index()].mark = Mark::None;
            for o in e.graph.build(b).outs.clone() {
                if dependents.insert(o) {
                    self.unmark_dependents(e, o, dependents);
                }
            }
        }
    }
}

/// Each edge's critical path weight towards `targets`: 1 for a command, 0
/// for a phony edge, plus the heaviest path from its outputs to a target.
fn critical_path_weights(g: &Graph, targets: &[FileId]) -> HashMap<BuildId, i64> {
    let own = |b: BuildId| if g.is_phony(b) { 0 } else { 1 };
    let order = producers_first(g, targets);
    let mut weights: HashMap<BuildId, i64> = order.iter().map(|&b| (b, own(b))).collect();
    for &b in order.iter().rev() {
        let w = weights[&b];
        for &i in &g.build(b).ins {
            if let Some(p) = g.file(i).in_build {
                let candidate = w + own(p);
                let slot = weights.get_mut(&p).expect("producers are sorted first");
                *slot = (*slot).max(candidate);
            }
        }
    }
    weights
}

/// The edges `targets` need, each after the producers of its inputs (a
/// depth-first post-order, iterative so long chains cannot overflow).
fn producers_first(g: &Graph, targets: &[FileId]) -> Vec<BuildId> {
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    for &t in targets {
        let Some(root) = g.file(t).in_build else {
            continue;
        };
        if !seen.insert(root) {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        while let Some((b, next)) = stack.last_mut() {
            let ins = &g.build(*b).ins;
            if let Some(&i) = ins.get(*next) {
                *next += 1;
                if let Some(p) = g.file(i).in_build {
                    if seen.insert(p) {
                        stack.push((p, 0));
                    }
                }
            } else {
                order.push(*b);
                stack.pop();
            }
        }
    }
    order
}
