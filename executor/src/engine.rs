//! The state of one build: the graph, per-node scan state, the two logs.

use ggninja_graph::{BuildId, FileId, Graph};
use ggninja_importer::dyndep;
use ggninja_importer::ninja::saved::Stamp as FileStamp;

use crate::build_log::BuildLog;
use crate::deps_log::DepsLog;
use crate::disk::{Disk, RealDisk};
use crate::explanations::Explanations;
use crate::prestat::{self, Prestat};
use crate::priority::Priority;
use crate::status::Verbosity;
use crate::watched::Watched;

#[derive(Debug, Clone)]
pub struct Config {
    /// Program name for messages (`ninja`, `ggninja`).
    pub prog: String,
    pub parallelism: usize,
    /// How many failures stop the build; 0 means never stop.
    pub failures_allowed: usize,
    pub max_load: Option<f64>,
    pub dry_run: bool,
    pub verbosity: Verbosity,
    pub explain: bool,
    pub keep_depfile: bool,
    pub keep_rsp: bool,
    /// Which ready edge starts first.
    pub priority: Priority,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mark {
    #[default]
    None,
    InStack,
    Done,
}

/// What a build knows about one node. Files use the first fields, builds the rest.
#[derive(Debug, Clone)]
pub struct NodeState {
    pub mtime: i64,
    /// None until stat'ed.
    pub exists: Option<bool>,
    pub dirty: bool,
    pub dyndep_pending: bool,
    pub mark: Mark,
    pub outputs_ready: bool,
    pub deps_loaded: bool,
    pub deps_missing: bool,
    pub dyndep_restat: bool,
}

impl NodeState {
    /// Takes `mtime` as a stat's answer (0: missing).
    pub(crate) fn stated(&mut self, mtime: i64) {
        self.mtime = mtime;
        self.exists = Some(mtime != 0);
    }
}

impl Default for NodeState {
    fn default() -> Self {
        NodeState {
            mtime: -1,
            exists: None,
            dirty: false,
            dyndep_pending: false,
            mark: Mark::None,
            outputs_ready: false,
            deps_loaded: false,
            deps_missing: false,
            dyndep_restat: false,
        }
    }
}

pub struct Engine {
    pub graph: Graph,
    pub nodes: Vec<NodeState>,
    pub build_log: BuildLog,
    pub deps_log: DepsLog,
    pub config: Config,
    /// Where mtimes, depfiles and dyndep files are read (`set_disk`).
    pub(crate) disk: Box<dyn Disk>,
    /// `-d explain`: why the current build's scan found nodes dirty.
    pub(crate) explanations: Explanations,
    /// Mtimes stat'ed ahead of the dirty check, on other threads.
    pub(crate) prestat: Prestat,
    /// The watcher serving the run's directory, if any (`watched`).
    pub(crate) watched: Option<Watched>,
    /// The depfiles and dyndep files the scan read, each stamped before,
    /// when a no-op may be remembered (`note_reads`).
    pub(crate) reads: Option<Vec<(String, Option<FileStamp>)>>,
}

impl Engine {
    pub fn new(graph: Graph, build_log: BuildLog, deps_log: DepsLog, config: Config) -> Self {
        let mut e = Engine {
            graph,
            nodes: Vec::new(),
            build_log,
            deps_log,
            config,
            disk: Box::new(RealDisk),
            explanations: Explanations::default(),
            prestat: Prestat::default(),
            watched: None,
            reads: None,
        };
        e.sync_states();
        for &b in &e.graph.builds.clone() {
            if let Some(dd) = e.graph.build(b).dyndep {
                e.nodes[dd.index()].dyndep_pending = true;
            }
        }
        e
    }

    /// Where mtimes, depfiles and dyndep files are read.
    pub fn disk(&self) -> &dyn Disk {
        &*self.disk
    }

    /// Reads the tree through `disk` from now on; what was stat'ed ahead
    /// through the old one is dropped (it may answer otherwise, as the
    /// remote engine's files left in the bucket do).
    pub fn set_disk(&mut self, disk: Box<dyn Disk>) {
        self.prestat.clear();
        self.disk = disk;
    }

    /// Grows the state table after the graph gained nodes.
    pub fn sync_states(&mut self) {
        let n = self.graph.node_count();
        if self.nodes.len() < n {
            self.nodes.resize(n, NodeState::default());
        }
    }

    /// Starts stat'ing what the dirty check of `targets` may stat and has
    /// not yet, nor listed to (`prestat.rs`). Called before the logs are
    /// loaded, it stats the manifest's files while they load; again after,
    /// the files the deps log named. Nothing, when a watcher left few
    /// files to stat (`recall_watched`).
    pub fn prestat(&mut self, targets: &[FileId]) {
        if self.watched.as_ref().is_some_and(|w| w.few_to_stat) {
            return;
        }
        let _t = crate::metrics::time("node stat ahead (start)");
        let (nodes, ahead) = (&self.nodes, &self.prestat);
        let stated =
            |f: FileId| nodes.get(f.index()).is_some_and(|n| n.exists.is_some()) || ahead.listed(f);
        let ids = prestat::reachable(&self.graph, &self.deps_log, targets, stated);
        self.prestat.begin(&self.graph, ids, &*self.disk);
    }

    /// Whether a watcher serves the run's directory (`watched`): then
    /// `recall_watched` asks it first, and the manifest's files are not
    /// stat'ed ahead.
    pub fn watch(&mut self) -> bool {
        self.watched = Watched::connect();
        self.watched.is_some()
    }

    /// Sets the mtimes the watcher vouches for on files not stat'ed yet;
    /// once, after the logs are loaded and before the scan. A failed sync
    /// leaves every file to stat.
    pub fn recall_watched(&mut self) {
        let Some(w) = self.watched.as_mut() else {
            return;
        };
        let nodes = &mut self.nodes;
        let vouched = match w.recall(&self.graph, |f| nodes[f.index()].exists.is_some()) {
            Ok(Some(v)) => v,
            Ok(None) => return,
            Err(()) => return self.watched = None,
        };
        for (&f, &t) in self.graph.file_nodes().iter().zip(vouched) {
            let st = &mut nodes[f.index()];
            if t >= 0 && st.exists.is_none() {
                st.stated(t);
            }
        }
    }

    /// Takes the mtimes a remembered no-op's check found (`noop::Seen`)
    /// for files not stat'ed yet, as if stat'ed now; the files the graph
    /// does not name yet are given back (the deps log names more). A
    /// watched run takes none: its snapshot keeps only what it stat'ed
    /// after its sync.
    pub fn take_seen(&mut self, seen: crate::noop::Seen) -> Option<crate::noop::Seen> {
        if self.watched.is_some() {
            return None;
        }
        let _t = crate::metrics::time("no-op check's stats taken");
        let mut rest = Vec::new();
        seen.each(|_, path, t| {
            let Some(f) = self.graph.lookup(path) else {
                return rest.push((path.to_string(), t));
            };
            let st = &mut self.nodes[f.index()];
            if st.exists.is_none() {
                st.stated(t);
            }
        });
        let rest = rest.iter().map(|(p, t)| (p.as_str(), *t));
        (rest.len() > 0).then(|| rest.collect())
    }

    /// Stamps every depfile and dyndep file the scan reads from now on
    /// (their text, not only their mtimes, is what a remembered no-op
    /// rests on: `noop`).
    pub fn note_reads(&mut self) {
        self.reads = Some(Vec::new());
    }

    /// Past `noop::READS` files no verdict is kept: no more are stamped.
    pub(crate) fn note_read(&mut self, path: &str) {
        if let Some(reads) = self
            .reads
            .as_mut()
            .filter(|r| r.len() <= crate::noop::READS)
        {
            reads.push((path.to_string(), FileStamp::now(path)));
        }
    }

    /// The mtime the scan found for `f` (0 missing), if it stat'ed it.
    pub(crate) fn stat_of(&self, f: FileId) -> Option<i64> {
        let st = &self.nodes[f.index()];
        st.exists.map(|e| if e { st.mtime } else { 0 })
    }

    /// Saves what the scan stat'ed for the next run's watcher, and the
    /// verdict of a run that has nothing to do, given what else it rests on
    /// (`noop`; None: the run has work to do, or its verdict is not to be
    /// kept). After the scan, before anything runs; not on a dry run.
    pub fn remember(&self, noop: Option<&crate::noop::Basis>) {
        if self.config.dry_run {
            return;
        }
        let stat = |f: FileId| self.stat_of(f);
        let quiet = self.watched.as_ref().and_then(|w| {
            let snapshot = w.remember(&self.graph, stat);
            w.quiet(&self.graph, stat, snapshot)
        });
        crate::noop::keep(self, noop, quiet);
    }

    /// Forgets everything scanned, as before a fresh scan.
    pub fn reset_states(&mut self) {
        self.prestat.clear();
        for st in &mut self.nodes {
            let pending = st.dyndep_pending;
            *st = NodeState {
                dyndep_pending: pending,
                ..NodeState::default()
            };
        }
    }

    pub fn is_dirty(&self, id: FileId) -> bool {
        self.nodes[id.index()].dirty
    }

    /// Loads the dyndep file `node` and applies it to the builds naming it.
    pub fn load_dyndeps(&mut self, node: FileId) -> Result<Vec<BuildId>, String> {
        self.nodes[node.index()].dyndep_pending = false;
        let path = self.graph.path(node).to_string();
        self.record(node, |_| format!("loading dyndep file '{path}'"));
        self.note_read(&path);
        let content = self
            .disk
            .read(&path)
            .map_err(|e| format!("loading '{path}': {}", crate::disk::io_message(&e)))?;
        let entries = dyndep::parse(&self.graph, &path, &content)?;
        let mut used = vec![false; entries.len()];
        let users: Vec<BuildId> = self
            .graph
            .consumers(node)
            .filter(|&b| self.graph.build(b).dyndep == Some(node))
            .collect();
        let mut touched = Vec::new();
        for b in users {
            let Some(k) = entries.iter().position(|d| d.build == Some(b)) else {
                let out = self.graph.path(self.graph.build(b).outs[0]);
                return Err(format!("'{out}' not mentioned in its dyndep file '{path}'"));
            };
            used[k] = true;
            let d = &entries[k];
            if d.restat {
                self.sync_states();
                self.nodes[b.index()].dyndep_restat = true;
            }
            let outs: Vec<FileId> = d
                .implicit_outs
                .iter()
                .map(|p| self.graph.file_id(p))
                .collect();
            for &o in &outs {
                if let Some(old) = self.graph.file(o).in_build {
                    // A producer guessed from a depfile gives way to the real one.
                    if !self.graph.build(old).generated_by_dep_loader {
                        return Err(format!("multiple rules generate {}", self.graph.path(o)));
                    }
                    self.graph.clear_dep_loader_outs(old);
                }
            }
            self.graph.add_implicit_outs(b, &outs);
            let ins: Vec<FileId> = d
                .implicit_ins
                .iter()
                .map(|p| self.graph.dep_loaded_file_id(p))
                .collect();
            self.graph.add_implicit_ins(b, &ins);
            self.sync_states();
            touched.push(b);
        }
        if let Some(k) = used.iter().position(|u| !u) {
            let b = entries[k].build.expect("parsed builds are known");
            let out = self.graph.path(self.graph.build(b).outs[0]);
            return Err(format!(
                "dyndep file '{path}' mentions output '{out}' whose build statement does not have a dyndep binding for the file"
            ));
        }
        Ok(touched)
    }
}
