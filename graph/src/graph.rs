//! The build graph: files and build edges, numbered in one index space.
//!
//! A file knows the build that writes it and the builds that read it; a build
//! keeps its inputs and outputs in manifest order, because `$in` and `$out`
//! are ordered. Paths are interned once (`paths.rs`); files and builds live
//! in their own vectors, and each node number says which and where, so a
//! discovered dependency costs 4 bytes in the build's inputs and 4 in the
//! file's readers.

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::chunked::Chunked;
use crate::eval::{shell_escape, RuleId, ScopeId, Scopes, PHONY_RULE, ROOT_SCOPE};
use crate::paths::PathTable;

/// A file of the graph. Only the graph makes them, so a `FileId` always
/// names a file: mixing up files and builds is a compile error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileId(pub(crate) u32);

/// A build (edge) of the graph; see `FileId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BuildId(pub(crate) u32);

impl FileId {
    /// The node's index: files and builds share one index space (creation
    /// order), so per-node tables serve both.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl BuildId {
    /// See `FileId::index`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

pub type PoolId = usize;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct File {
    /// The build that writes this file, if any.
    pub in_build: Option<BuildId>,
    /// First named by a dependency loader (a depfile, the deps log, a
    /// dyndep file), not by the manifest: missing, it stops no build
    /// (ninja 1.12+; a depfile's and the deps log's also get a phony
    /// producer, as in ninja 1.11).
    pub generated_by_dep_loader: bool,
    /// Builds that read this file (as any kind of input, or stray), in the
    /// order they were linked; `Graph::consumers` gives them newest first.
    pub(crate) readers: Vec<BuildId>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Build {
    pub rule: RuleId,
    pub scope: ScopeId,
    /// Build-level bindings, already evaluated. `None` means the build has no
    /// block of its own, and (as in ninja) looks variables up in its file
    /// scope before the rule. Boxed: most builds of a large tree have none.
    pub bindings: Option<Box<HashMap<String, String>>>,
    /// explicit, then implicit, then order-only inputs.
    pub ins: Vec<FileId>,
    /// Counts are u32 and validations a boxed slice: a large tree has a
    /// few hundred thousand builds, most of them the deps log's phonies.
    pub implicit_ins: u32,
    pub order_only_ins: u32,
    /// explicit, then implicit outputs.
    pub outs: Vec<FileId>,
    pub implicit_outs: u32,
    pub validations: Box<[FileId]>,
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
        &self.ins[..self.ins.len() - self.implicit_ins as usize - self.order_only_ins as usize]
    }
    /// Inputs whose changes make the build dirty (all but order-only).
    pub fn dirtying_ins(&self) -> &[FileId] {
        &self.ins[..self.ins.len() - self.order_only_ins as usize]
    }
    pub fn is_order_only(&self, index: usize) -> bool {
        index >= self.ins.len() - self.order_only_ins as usize
    }
    pub fn explicit_outs(&self) -> &[FileId] {
        &self.outs[..self.outs.len() - self.implicit_outs as usize]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// The top bit of a node's slot: set for builds.
pub(crate) const BUILD_BIT: u32 = 1 << 31;

/// Serialized as it is (`saved.rs` checks a decoded one before use).
#[derive(Debug, Serialize, Deserialize)]
pub struct Graph {
    /// Per node: the index into `files` or (with `BUILD_BIT`) into `build_data`.
    pub(crate) slots: Vec<u32>,
    /// Files by file number, which is also their path's number in `paths`.
    pub(crate) files: Chunked<File>,
    /// The node of each file number.
    pub(crate) file_nodes: Vec<FileId>,
    pub(crate) build_data: Chunked<Build>,
    /// Builds naming a file as a validation (few, so kept apart from `File`).
    pub(crate) validators: HashMap<FileId, Vec<BuildId>>,
    /// Every file's path, numbered as `files`.
    pub paths: PathTable,
    pub scopes: Scopes,
    pub pools: Vec<Pool>,
    pub pool_names: HashMap<String, PoolId>,
    pub defaults: Vec<FileId>,
    /// Builds in manifest order (ninja's `-t commands` and friends use it).
    pub builds: Vec<BuildId>,
    /// By build number: its command's hashes, when kept (`command_hash.rs`).
    pub(crate) command_hashes: Vec<Option<[u64; 2]>>,
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
            slots: Vec::new(),
            files: Chunked::default(),
            file_nodes: Vec::new(),
            build_data: Chunked::default(),
            validators: HashMap::default(),
            paths: PathTable::default(),
            scopes: Scopes::default(),
            pools,
            pool_names: pool_names.into_iter().collect(),
            defaults: Vec::new(),
            builds: Vec::new(),
            command_hashes: Vec::new(),
        }
    }
}

impl Graph {
    /// How many nodes (files and builds) there are: the length of a
    /// per-node table.
    pub fn node_count(&self) -> usize {
        self.slots.len()
    }

    fn new_node(&mut self, slot: u32) -> u32 {
        let id = u32::try_from(self.slots.len())
            .ok()
            .filter(|&n| n < BUILD_BIT)
            .expect("fewer than 2^31 nodes");
        self.slots.push(slot);
        id
    }

    /// The file node for an already canonical `path`, created if new.
    pub fn file_id(&mut self, path: &str) -> FileId {
        let (n, new) = self.paths.intern(path);
        if !new {
            return self.file_nodes[n as usize];
        }
        let id = FileId(self.new_node(n));
        self.files.push(File::default());
        self.file_nodes.push(id);
        id
    }

    /// Files for the paths of `text` ending at `ends`, numbered on from the
    /// last, for paths the caller knows are new (`PathTable::append_new`).
    /// None, and nothing added, if `ends` do not cut `text`.
    pub fn append_new_files(&mut self, text: &str, ends: &[u32]) -> Option<()> {
        let first = self.paths.len();
        self.paths.append_new(text, ends)?;
        for n in first..self.paths.len() {
            let id = FileId(self.new_node(n as u32));
            self.files.push(File::default());
            self.file_nodes.push(id);
        }
        Some(())
    }

    /// The number of `id`'s path in `paths` (`file_nodes` maps it back).
    pub fn path_number(&self, id: FileId) -> u32 {
        self.file_number(id) as u32
    }

    /// The file at `path` as a dependency loader names it: one the graph
    /// did not have yet is the loader's (`File::generated_by_dep_loader`).
    pub fn dep_loaded_file_id(&mut self, path: &str) -> FileId {
        if let Some(f) = self.lookup(path) {
            return f;
        }
        let f = self.file_id(path);
        self.file_mut(f).generated_by_dep_loader = true;
        f
    }

    /// Every file, by file number (its path's number in `paths`).
    pub fn file_nodes(&self) -> &[FileId] {
        &self.file_nodes
    }

    pub fn lookup(&self, path: &str) -> Option<FileId> {
        self.paths.find(path).map(|n| self.file_nodes[n as usize])
    }

    fn file_number(&self, id: FileId) -> usize {
        let slot = self.slots[id.index()];
        debug_assert!(slot & BUILD_BIT == 0, "a FileId names a file");
        slot as usize
    }

    pub(crate) fn build_number(&self, id: BuildId) -> usize {
        let slot = self.slots[id.index()];
        debug_assert!(slot & BUILD_BIT != 0, "a BuildId names a build");
        (slot & !BUILD_BIT) as usize
    }

    pub fn file(&self, id: FileId) -> &File {
        &self.files[self.file_number(id)]
    }

    pub fn file_mut(&mut self, id: FileId) -> &mut File {
        let n = self.file_number(id);
        &mut self.files[n]
    }

    pub fn build(&self, id: BuildId) -> &Build {
        &self.build_data[self.build_number(id)]
    }

    pub fn build_mut(&mut self, id: BuildId) -> &mut Build {
        let n = self.build_number(id);
        &mut self.build_data[n]
    }

    fn new_build(&mut self, build: Build) -> BuildId {
        let n = u32::try_from(self.build_data.len()).expect("fewer than 2^31 builds");
        let id = BuildId(self.new_node(n | BUILD_BIT));
        self.build_data.push(build);
        id
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
        self.paths.get(self.file_number(id) as u32)
    }

    /// Where `id`'s path lies in `paths.shared_text()`.
    pub fn path_span(&self, id: FileId) -> std::ops::Range<usize> {
        self.paths.span(self.file_number(id) as u32)
    }

    /// Adds a build; outputs must not have a producer yet (the loader checks).
    pub fn add_build(&mut self, build: Build) -> BuildId {
        let id = self.new_build(build);
        let b = self.build_number(id);
        for k in 0..self.build_data[b].ins.len() {
            let i = self.build_data[b].ins[k];
            self.file_mut(i).readers.push(id);
        }
        for k in 0..self.build_data[b].outs.len() {
            let o = self.build_data[b].outs[k];
            self.file_mut(o).in_build = Some(id);
        }
        for k in 0..self.build_data[b].validations.len() {
            let v = self.build_data[b].validations[k];
            self.validators.entry(v).or_default().push(id);
        }
        self.builds.push(id);
        id
    }

    /// Inserts extra implicit inputs (from depfiles, the deps log or dyndep).
    pub fn add_implicit_ins(&mut self, build: BuildId, new: &[FileId]) {
        for &n in new {
            self.file_mut(n).readers.push(build);
        }
        let b = self.build_mut(build);
        let at = b.ins.len() - b.order_only_ins as usize;
        b.ins.splice(at..at, new.iter().copied());
        b.implicit_ins += new.len() as u32;
    }

    /// Makes room in `file`'s readers for `more` builds at once, where a
    /// caller knows how many will come (`add_implicit_ins` one at a time).
    pub fn reserve_readers(&mut self, file: FileId, more: usize) {
        self.file_mut(file).readers.reserve_exact(more);
    }

    /// Records `build` as a reader of `file` without making it an input.
    pub fn add_stray_consumer(&mut self, file: FileId, build: BuildId) {
        self.file_mut(file).readers.push(build);
    }

    /// Takes the outputs away from a phony build the dep loader made, so a
    /// real producer found later (dyndep) can replace it.
    pub fn clear_dep_loader_outs(&mut self, build: BuildId) {
        let outs = std::mem::take(&mut self.build_mut(build).outs);
        for o in outs {
            self.file_mut(o).in_build = None;
        }
    }

    /// Appends implicit outputs (from dyndep).
    pub fn add_implicit_outs(&mut self, build: BuildId, new: &[FileId]) {
        for &n in new {
            self.file_mut(n).in_build = Some(build);
        }
        let b = self.build_mut(build);
        b.outs.extend_from_slice(new);
        b.implicit_outs += new.len() as u32;
    }

    /// Builds that read `file`, including as order-only input, the most
    /// recently linked first.
    pub fn consumers(&self, file: FileId) -> impl Iterator<Item = BuildId> + '_ {
        self.file(file).readers.iter().rev().copied()
    }

    /// Builds that name `file` as a validation, the most recent first.
    pub fn validation_consumers(&self, file: FileId) -> impl Iterator<Item = BuildId> + '_ {
        self.validators
            .get(&file)
            .into_iter()
            .flat_map(|v| v.iter().rev().copied())
    }

    /// Adds implicit inputs a depfile or the deps log found, each with a
    /// phony producer (see `ensure_phony_producer`).
    pub fn add_discovered_ins(&mut self, build: BuildId, ids: &[FileId]) {
        self.add_implicit_ins(build, ids);
        for &id in ids {
            self.ensure_phony_producer(id);
        }
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
        let id = self.new_build(build);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(ins: Vec<FileId>, outs: Vec<FileId>) -> Build {
        Build {
            ins,
            outs,
            ..Build::default()
        }
    }

    #[test]
    fn readers_come_newest_first_and_ids_name_their_kind() {
        let mut g = Graph::default();
        let [a, b, c, v] = ["a", "b", "c", "v"].map(|p| g.file_id(p));
        let first = g.add_build(reading(vec![a], vec![b]));
        let mut second = reading(vec![a, b], vec![c]);
        second.validations = vec![v].into();
        let second = g.add_build(second);
        g.add_implicit_ins(first, &[v]);
        assert_eq!(g.consumers(a).collect::<Vec<_>>(), [second, first]);
        assert_eq!(g.consumers(v).collect::<Vec<_>>(), [first]);
        assert_eq!(g.validation_consumers(v).collect::<Vec<_>>(), [second]);
        assert_eq!(g.file(c).in_build, Some(second));
        assert_eq!(g.build(first).ins, [a, v]);
        assert_eq!(g.build(first).implicit_ins, 1);
        assert_eq!(g.lookup("b"), Some(b));
        assert_eq!(g.path(c), "c");
        assert_eq!(g.node_count(), 6);
    }

    #[test]
    fn a_dep_loader_phony_gives_way() {
        let mut g = Graph::default();
        let h = g.file_id("x.h");
        g.ensure_phony_producer(h);
        let phony = g.file(h).in_build.expect("a phony producer");
        assert!(g.is_phony(phony) && g.build(phony).generated_by_dep_loader);
        g.clear_dep_loader_outs(phony);
        assert_eq!(g.file(h).in_build, None);
        assert!(g.build(phony).outs.is_empty());
    }

    #[test]
    fn a_file_is_the_dep_loaders_only_when_it_names_it_first() {
        let mut g = Graph::default();
        let named = g.file_id("src.h");
        assert_eq!(g.dep_loaded_file_id("src.h"), named);
        assert!(!g.file(named).generated_by_dep_loader);
        let found = g.dep_loaded_file_id("found.h");
        assert!(g.file(found).generated_by_dep_loader);
        assert_eq!(g.lookup("found.h"), Some(found));
    }
}
