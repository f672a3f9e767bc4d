//! The plan, as ninja's Plan: which edges a build wants, which are ready,
//! pools with their delayed queues, and what finishing an edge unblocks
//! (restat cleaning, dyndep files loaded mid-build).
//!
//! Ready edges start by rank (`priority`): ninja 1.12+ ranks them once,
//! when the build starts, over every edge the targets need.
//!
//! Unaware of commands, processes, status lines and time: it reads and
//! updates the engine's graph and node states only (dirty checking goes
//! through the engine's scan), so a replay of a build can drive it edge by
//! edge without running anything.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use ggninja_graph::{BuildId, FileId, Graph};

use crate::engine::{Engine, Mark};
use crate::priority::{self, Priority};

/// A ready edge's place in line: the heaviest first, then node order.
type Rank = (Reverse<i64>, BuildId);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Not run itself, but waited for so dependents can run.
    Nothing,
    ToStart,
    ToFinish,
}

pub struct Plan {
    want: HashMap<BuildId, Want>,
    /// Ready edges, started in rank order.
    ready: BTreeSet<Rank>,
    wanted_edges: usize,
    command_edges: usize,
    pool_use: Vec<usize>,
    delayed: Vec<BTreeSet<Rank>>,
    /// What the build was asked for (validations too): what is ranked.
    targets: Vec<FileId>,
    /// Each edge's weight by node index; -1 for an edge not ranked.
    weight: Vec<i64>,
    prepared: bool,
    /// Command edges that joined (true) or left (false) the plan since
    /// the last `take_changes`, for the status line's counts and times.
    changes: Vec<(BuildId, bool)>,
    /// By edge index: how many of its first inputs were found ready (see
    /// `all_inputs_ready`).
    ready_inputs: Vec<u32>,
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
            weight: Vec::new(),
            prepared: false,
            changes: Vec::new(),
            ready_inputs: Vec::new(),
        }
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

    /// The command edges that joined (true) or left the plan since the
    /// last call, in that order.
    pub fn take_changes(&mut self) -> Vec<(BuildId, bool)> {
        std::mem::take(&mut self.changes)
    }

    /// The next ready edge, by rank.
    pub fn pop_ready(&mut self) -> Option<BuildId> {
        self.ready.pop_first().map(|(_, b)| b)
    }

    /// The ready edges `pop_ready` gives next, in its order.
    pub fn next_ready(&self) -> impl Iterator<Item = BuildId> + '_ {
        self.ready.iter().map(|(_, b)| *b)
    }

    /// Ranks the wanted edges under `rule` and makes the ones whose
    /// inputs are all there ready: call once targets are added, before the
    /// first `pop_ready` (ninja's PrepareQueue).
    pub fn prepare_queue(&mut self, e: &Engine, rule: Priority) {
        self.weight = priority::weights(&e.graph, &e.build_log, &self.targets, rule);
        self.prepared = true;
        let mut wanted: Vec<BuildId> = (self.want.iter())
            .filter(|(_, w)| **w == Want::ToStart)
            .map(|(b, _)| *b)
            .collect();
        wanted.sort_unstable();
        let mut pools = BTreeSet::new();
        for b in wanted {
            if self.all_inputs_ready(e, b) {
                let pool = e.graph.build(b).pool;
                self.want.insert(b, Want::ToFinish);
                if e.graph.pools[pool].depth != 0 {
                    let rank = self.rank(b);
                    self.delayed[pool].insert(rank);
                    pools.insert(pool);
                } else {
                    self.ready.insert(self.rank(b));
                }
            }
        }
        // Pools hand out their slots once all are held, heaviest first.
        for pool in pools {
            self.retrieve_ready(&e.graph, pool);
        }
    }

    fn rank(&self, b: BuildId) -> Rank {
        (
            Reverse(self.weight.get(b.index()).copied().unwrap_or(-1)),
            b,
        )
    }

    /// Plans what `target` (already scanned) and the `validations` the scan
    /// found need. Errors are user-facing.
    pub fn add_target(
        &mut self,
        e: &mut Engine,
        target: FileId,
        validations: Vec<FileId>,
    ) -> Result<(), String> {
        self.targets.push(target);
        self.targets.extend(&validations);
        let in_build = e.graph.file(target).in_build;
        if in_build.is_none_or(|b| !e.nodes[b.index()].outputs_ready) {
            self.add_sub_target(e, target, None, None)?;
        }
        self.add_validations(e, validations)
    }

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
            // A missing input a dyndep file named first is no error (ninja
            // 1.12+): the edge runs, as if it had a phony producer.
            if e.is_dirty(node) && !e.graph.file(node).generated_by_dep_loader {
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
            // Once the queue is prepared (a validation a dyndep file
            // brought in mid-build), nothing else would make it ready.
            if self.prepared && walk.is_none() && self.all_inputs_ready(e, edge) {
                self.schedule_work(&e.graph, edge);
            }
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
            self.changes.push((edge, true));
        }
    }

    /// Whether every input's producer has its outputs ready. Asked again
    /// as each input finishes, it looks on from the first input not ready
    /// last time: an input once ready stays so until a dyndep file is
    /// loaded (`load_dyndeps` starts them over). A library of 600 objects
    /// costs 600 looks over the build, not 600 each (ninja's way).
    fn all_inputs_ready(&mut self, e: &Engine, edge: BuildId) -> bool {
        let ins = &e.graph.build(edge).ins;
        if self.ready_inputs.len() <= edge.index() {
            self.ready_inputs.resize(edge.index() + 1, 0);
        }
        let seen = &mut self.ready_inputs[edge.index()];
        let ready = |i: FileId| {
            let producer = e.graph.file(i).in_build;
            producer.is_none_or(|b| e.nodes[b.index()].outputs_ready)
        };
        let mut n = *seen as usize;
        while n < ins.len() && ready(ins[n]) {
            n += 1;
        }
        *seen = n as u32;
        n == ins.len()
    }

    fn schedule_work(&mut self, g: &Graph, edge: BuildId) {
        match self.want.get(&edge) {
            Some(Want::ToStart) => {}
            _ => return,
        }
        self.want.insert(edge, Want::ToFinish);
        let pool = g.build(edge).pool;
        if g.pools[pool].depth != 0 {
            let rank = self.rank(edge);
            self.delayed[pool].insert(rank);
            self.retrieve_ready(g, pool);
        } else {
            self.ready.insert(self.rank(edge));
        }
    }

    fn retrieve_ready(&mut self, g: &Graph, pool: usize) {
        let depth = g.pools[pool].depth;
        while self.pool_use[pool] < depth {
            let Some(rank) = self.delayed[pool].pop_first() else {
                break;
            };
            self.pool_use[pool] += 1;
            self.ready.insert(rank);
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
                    self.changes.push((b, false));
                }
            }
        }
        Ok(())
    }

    /// Loads the dyndep file `node` (just written) and plans what it adds.
    fn load_dyndeps(&mut self, e: &mut Engine, node: FileId) -> Result<(), String> {
        let touched = e.load_dyndeps(node)?;
        // Inputs added, and dependents found dirty again: look anew.
        self.ready_inputs.clear();
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
