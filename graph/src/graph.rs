//! The build graph: files and build edges as nodes of one petgraph DAG.
//!
//! A file node links to the builds that read it (`Link::Input`); a build node
//! links to the files it writes (`Link::Output`) and the files it validates.
//! Builds also keep their inputs and outputs in manifest order, because `$in`
//! and `$out` are ordered and petgraph's adjacency lists are not.

use rustc_hash::FxHashMap as HashMap;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::eval::{shell_escape, RuleId, ScopeId, Scopes, PHONY_RULE, ROOT_SCOPE};

/// A file of the graph. Only the graph makes them, so a `FileId` always
/// names a file: mixing up files and builds is a compile error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(NodeIndex<u32>);

/// A build (edge) of the graph; see `FileId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BuildId(NodeIndex<u32>);

impl FileId {
    /// The node's index: files and builds share one index space (creation
    /// order), so per-node tables serve both.
    pub fn index(self) -> usize {
        self.0.index()
    }
}

impl BuildId {
    /// See `FileId::index`.
    pub fn index(self) -> usize {
        self.0.index()
    }
}

pub type PoolId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Input,
    Output,
    Validation,
}

#[derive(Debug, Default)]
pub struct File {
    pub path: String,
    /// The build that writes this file, if any.
    pub in_build: Option<BuildId>,
    /// A `.d`/deps-log dependency we made a phony build for.
    pub generated_by_dep_loader: bool,
}

#[derive(Debug, Default)]
pub struct Build {
    pub rule: RuleId,
    pub scope: ScopeId,
    /// Build-level bindings, already evaluated. `None` means the build has no
    /// block of its own, and (as in ninja) looks variables up in its file
    /// scope before the rule.
    pub bindings: Option<HashMap<String, String>>,
    /// explicit, then implicit, then order-only inputs.
    pub ins: Vec<FileId>,
    pub implicit_ins: usize,
    pub order_only_ins: usize,
    /// explicit, then implicit outputs.
    pub outs: Vec<FileId>,
    pub implicit_outs: usize,
    pub validations: Vec<FileId>,
    pub pool: PoolId,
    pub dyndep: Option<FileId>,
    pub generated_by_dep_loader: bool,
    /// A build imported from make, judged as make judges it: an output
    /// the log has no entry for (make made it, or nothing logged yet) is
    /// up to date when newer than its inputs; a build whose outputs
    /// another build wrote, up to date, after the scan does not run (make
    /// decides each target just before making it; ninja decides all first);
    /// no directory is made for its outputs; and its command's stderr is
    /// printed on ggninja's stderr, apart from its stdout.
    pub make_rules: bool,
}

impl Build {
    pub fn explicit_ins(&self) -> &[FileId] {
        &self.ins[..self.ins.len() - self.implicit_ins - self.order_only_ins]
    }
    /// Inputs whose changes make the build dirty (all but order-only).
    pub fn dirtying_ins(&self) -> &[FileId] {
        &self.ins[..self.ins.len() - self.order_only_ins]
    }
    pub fn is_order_only(&self, index: usize) -> bool {
        index >= self.ins.len() - self.order_only_ins
    }
    pub fn explicit_outs(&self) -> &[FileId] {
        &self.outs[..self.outs.len() - self.implicit_outs]
    }
}

#[derive(Debug)]
pub enum Node {
    File(File),
    Build(Box<Build>),
}

#[derive(Debug, Clone)]
pub struct Pool {
    pub name: String,
    /// 0 means unlimited.
    pub depth: usize,
}

pub const DEFAULT_POOL: PoolId = 0;
pub const CONSOLE_POOL: PoolId = 1;

/// A variable cycle such as `a = $b`, `b = $a` in a rule.
#[derive(Debug, thiserror::Error)]
#[error("cycle in rule variables: {0}")]
pub struct CycleError(pub String);

/// How `$in`/`$out` are spelled when a binding is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    Shell,
    None,
}

#[derive(Debug)]
pub struct Graph {
    pub dag: DiGraph<Node, Link, u32>,
    pub paths: HashMap<String, FileId>,
    pub scopes: Scopes,
    pub pools: Vec<Pool>,
    pub pool_names: HashMap<String, PoolId>,
    pub defaults: Vec<FileId>,
    /// Builds in manifest order (ninja's `-t commands` and friends use it).
    pub builds: Vec<BuildId>,
}

impl Default for Graph {
    fn default() -> Self {
        let pools = vec![
            Pool {
                name: String::new(),
                depth: 0,
            },
            Pool {
                name: "console".to_string(),
                depth: 1,
            },
        ];
        let pool_names = [
            (String::new(), DEFAULT_POOL),
            ("console".to_string(), CONSOLE_POOL),
        ];
        Graph {
            dag: DiGraph::default(),
            paths: HashMap::default(),
            scopes: Scopes::default(),
            pools,
            pool_names: pool_names.into_iter().collect(),
            defaults: Vec::new(),
            builds: Vec::new(),
        }
    }
}

impl Graph {
    /// The file node for an already canonical `path`, created if new.
    pub fn file_id(&mut self, path: &str) -> FileId {
        if let Some(&id) = self.paths.get(path) {
            return id;
        }
        let id = FileId(self.dag.add_node(Node::File(File {
            path: path.to_string(),
            ..File::default()
        })));
        self.paths.insert(path.to_string(), id);
        id
    }

    pub fn lookup(&self, path: &str) -> Option<FileId> {
        self.paths.get(path).copied()
    }

    pub fn file(&self, id: FileId) -> &File {
        match &self.dag[id.0] {
            Node::File(f) => f,
            Node::Build(_) => unreachable!("a FileId names a file"),
        }
    }

    pub fn file_mut(&mut self, id: FileId) -> &mut File {
        match &mut self.dag[id.0] {
            Node::File(f) => f,
            Node::Build(_) => unreachable!("a FileId names a file"),
        }
    }

    pub fn build(&self, id: BuildId) -> &Build {
        match &self.dag[id.0] {
            Node::Build(b) => b,
            Node::File(_) => unreachable!("a BuildId names a build"),
        }
    }

    pub fn build_mut(&mut self, id: BuildId) -> &mut Build {
        match &mut self.dag[id.0] {
            Node::Build(b) => b,
            Node::File(_) => unreachable!("a BuildId names a build"),
        }
    }

    /// `name` in the manifest's `builddir` (where the logs and ggninja's
    /// caches live), or as is without one.
    pub fn in_builddir(&self, name: &str) -> String {
        match self.scopes.lookup(ROOT_SCOPE, "builddir") {
            Some(dir) if !dir.is_empty() => format!("{dir}/{name}"),
            _ => name.to_string(),
        }
    }

    pub fn path(&self, id: FileId) -> &str {
        &self.file(id).path
    }

    /// Adds a build; outputs must not have a producer yet (the loader checks).
    pub fn add_build(&mut self, build: Build) -> BuildId {
        let ins = build.ins.clone();
        let outs = build.outs.clone();
        let validations = build.validations.clone();
        let id = BuildId(self.dag.add_node(Node::Build(Box::new(build))));
        for i in ins {
            self.dag.add_edge(i.0, id.0, Link::Input);
        }
        for o in outs {
            self.dag.add_edge(id.0, o.0, Link::Output);
            self.file_mut(o).in_build = Some(id);
        }
        for v in validations {
            self.dag.add_edge(id.0, v.0, Link::Validation);
        }
        self.builds.push(id);
        id
    }

    /// Inserts extra implicit inputs (from depfiles, the deps log or dyndep).
    pub fn add_implicit_ins(&mut self, build: BuildId, new: &[FileId]) {
        for &n in new {
            self.dag.add_edge(n.0, build.0, Link::Input);
        }
        let b = self.build_mut(build);
        let at = b.ins.len() - b.order_only_ins;
        b.ins.splice(at..at, new.iter().copied());
        b.implicit_ins += new.len();
    }

    /// Records `build` as a reader of `file` without making it an input.
    pub fn add_stray_consumer(&mut self, file: FileId, build: BuildId) {
        self.dag.add_edge(file.0, build.0, Link::Input);
    }

    /// Takes the outputs away from a phony build the dep loader made, so a
    /// real producer found later (dyndep) can replace it.
    pub fn clear_dep_loader_outs(&mut self, build: BuildId) {
        let outs = std::mem::take(&mut self.build_mut(build).outs);
        for o in outs {
            if let Some(e) = self.dag.find_edge(build.0, o.0) {
                self.dag.remove_edge(e);
            }
            self.file_mut(o).in_build = None;
        }
    }

    /// Appends implicit outputs (from dyndep).
    pub fn add_implicit_outs(&mut self, build: BuildId, new: &[FileId]) {
        for &n in new {
            self.dag.add_edge(build.0, n.0, Link::Output);
            self.file_mut(n).in_build = Some(build);
        }
        let b = self.build_mut(build);
        b.outs.extend_from_slice(new);
        b.implicit_outs += new.len();
    }

    /// Builds that read `file`, including as order-only input.
    pub fn consumers(&self, file: FileId) -> impl Iterator<Item = BuildId> + '_ {
        self.dag
            .edges_directed(file.0, Direction::Outgoing)
            .filter(|e| *e.weight() == Link::Input)
            .map(|e| BuildId(e.target()))
    }

    /// Builds that name `file` as a validation.
    pub fn validation_consumers(&self, file: FileId) -> impl Iterator<Item = BuildId> + '_ {
        self.dag
            .edges_directed(file.0, Direction::Incoming)
            .filter(|e| *e.weight() == Link::Validation)
            .map(|e| BuildId(e.source()))
    }

    /// Gives a dep-loaded file a phony producer so that, if it goes missing,
    /// its dependents rebuild instead of failing with "no known rule".
    pub fn ensure_phony_producer(&mut self, file: FileId) {
        if self.file(file).in_build.is_some() {
            return;
        }
        let build = Build {
            rule: PHONY_RULE,
            outs: vec![file],
            generated_by_dep_loader: true,
            ..Build::default()
        };
        let id = BuildId(self.dag.add_node(Node::Build(Box::new(build))));
        self.dag.add_edge(id.0, file.0, Link::Output);
        let f = self.file_mut(file);
        f.in_build = Some(id);
        f.generated_by_dep_loader = true;
    }

    pub fn is_phony(&self, build: BuildId) -> bool {
        self.build(build).rule == PHONY_RULE
    }

    pub fn rule_name(&self, build: BuildId) -> &str {
        &self.scopes.rules[self.build(build).rule].name
    }

    /// Evaluates variable `var` for `build` exactly as ninja's EdgeEnv does.
    pub fn binding(&self, build: BuildId, var: &str, escape: Escape) -> Result<String, CycleError> {
        self.binding_of(self.build(build), var, escape)
    }

    /// `binding` for a build that need not be in the graph yet.
    pub fn binding_of<'a>(
        &'a self,
        build: &'a Build,
        var: &'a str,
        escape: Escape,
    ) -> Result<String, CycleError> {
        let mut stack = Vec::new();
        self.lookup_var(build, var, escape, &mut stack)
    }

    /// A binding treated as a flag (`restat`, `generator`): set means non-empty.
    pub fn binding_bool(&self, build: BuildId, var: &str) -> bool {
        self.binding(build, var, Escape::Shell)
            .map(|v| !v.is_empty())
            .unwrap_or(false)
    }

    /// The command, with `;rspfile=<content>` appended when `with_rsp` is set,
    /// which is the string ninja hashes into the build log.
    pub fn command(&self, build: BuildId, with_rsp: bool) -> Result<String, CycleError> {
        let mut cmd = self.binding(build, "command", Escape::Shell)?;
        if with_rsp {
            let rsp = self.binding(build, "rspfile_content", Escape::Shell)?;
            if !rsp.is_empty() {
                cmd.push_str(";rspfile=");
                cmd.push_str(&rsp);
            }
        }
        Ok(cmd)
    }

    fn lookup_var<'a>(
        &'a self,
        b: &'a Build,
        var: &'a str,
        escape: Escape,
        stack: &mut Vec<&'a str>,
    ) -> Result<String, CycleError> {
        match var {
            "in" => return Ok(self.path_list(b.explicit_ins(), ' ', escape)),
            "in_newline" => return Ok(self.path_list(b.explicit_ins(), '\n', escape)),
            "out" => return Ok(self.path_list(b.explicit_outs(), ' ', escape)),
            _ => {}
        }
        if let Some(pos) = stack.iter().position(|&v| v == var) {
            let mut cycle: Vec<&str> = stack[pos..].to_vec();
            cycle.push(var);
            return Err(CycleError(cycle.join(" -> ")));
        }
        let scope = &self.scopes.scopes[b.scope];
        let own = match &b.bindings {
            Some(own) => own.get(var),
            None => scope.vars.get(var),
        };
        if let Some(v) = own {
            return Ok(v.clone());
        }
        if let Some(eval) = self.scopes.rules[b.rule].bindings.get(var) {
            stack.push(var);
            let v = eval.evaluate_with(|v| self.lookup_var(b, v, escape, stack));
            stack.pop();
            return v;
        }
        let parent = if b.bindings.is_some() {
            Some(b.scope)
        } else {
            scope.parent
        };
        Ok(parent
            .and_then(|p| self.scopes.lookup(p, var))
            .unwrap_or("")
            .to_string())
    }

    fn path_list(&self, ids: &[FileId], sep: char, escape: Escape) -> String {
        let mut out = String::new();
        for (i, &id) in ids.iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            match escape {
                Escape::Shell => shell_escape(self.path(id), &mut out),
                Escape::None => out.push_str(self.path(id)),
            }
        }
        out
    }

    /// Targets built when none are named: `default` statements, else the roots.
    pub fn default_targets(&self) -> Vec<FileId> {
        if !self.defaults.is_empty() {
            return self.defaults.clone();
        }
        self.roots()
    }

    /// Outputs that no build reads, in manifest order.
    pub fn roots(&self) -> Vec<FileId> {
        let mut roots = Vec::new();
        for &b in &self.builds {
            for &o in &self.build(b).outs {
                if self.consumers(o).next().is_none() {
                    roots.push(o);
                }
            }
        }
        roots
    }
}
