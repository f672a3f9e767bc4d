//! The thunk builder: each non-phony edge of a graph drafted (footprint,
//! inputs hashed), then linked to the thunks of its producers, in waves of
//! dependency order, each wave in parallel. Unaware of running anything and
//! of where the caches it uses are kept (see `session`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ggninja_footprint::Effect;
use ggninja_graph::{BuildId, FileId, Graph};
use ggninja_store::hash::{ContentHash, Kind};
use rayon::prelude::*;

use crate::bundles::{Bundles, NamedBundle};
use crate::hash_cache::HashCache;
use crate::ir::{push_json_array, Function, Input, Source, Thunk, ENV};
use crate::kept::{footprint_digest, Fact, KeptKeys, Named};
use crate::known_inputs::{InputJson, KnownInputs};
use crate::ordering::Upstream;
use crate::roots::Roots;
use crate::scan::edge_footprint;

/// What an edge reads, as found by a footprint scanner: files relative to
/// the build dir or absolute, plus the program it runs.
pub struct Footprint {
    pub program: PathBuf,
    pub argv: Vec<String>,
    pub files: Vec<String>,
    /// The headers it reads outside the build and source trees (absolute,
    /// sorted): named with the toolchain, in its bundle.
    pub system: Vec<String>,
    /// The program's own files (sub-programs, shared libraries, crt files,
    /// default libraries), absolute: they become a bundle.
    pub toolchain: Arc<Vec<PathBuf>>,
    /// The outputs may record the working directory (see footprint's).
    pub embeds_cwd: bool,
    /// What the command does to the tree besides writing its outputs
    /// (paths relative to the build dir or absolute).
    pub effects: Vec<Effect>,
    /// Files it leaves written besides the edge's outputs and depfile
    /// (paths relative to the build dir).
    pub side_outputs: Vec<String>,
    /// The collation the shell sorts a pattern's matches by, if the
    /// command has patterns: the thunk's `LC_COLLATE`.
    pub collation: Option<String>,
    /// The command may read what a directory among its inputs holds (a
    /// program the scanner does not know: `tar cf out.tar dir`); a thunk
    /// names a directory, not its contents, so such an input keeps the
    /// edge local. (A compile, link or archive reads the files its
    /// footprint names; CMake's object dirs are order-only inputs.)
    pub walks_dirs: bool,
}

/// A scanner gives what it finds in an edge's command (see `scan_edge`),
/// or why it cannot be known.
pub type Scan<'a> =
    dyn Fn(&Graph, BuildId) -> Result<ggninja_footprint::Footprint, String> + Sync + 'a;

/// One edge's thunk, or the reason it must run locally.
#[derive(Debug, Clone)]
pub enum Entry {
    Thunk(Box<EdgeThunk>),
    LocalOnly(String),
}

/// An edge's thunk and what running it takes besides.
#[derive(Debug, Clone)]
pub struct EdgeThunk {
    pub hash: ContentHash,
    /// The thunk's canonical JSON, which `hash` names. Only this is kept:
    /// it is a third of the size of a `Thunk`, and a graph holds 50k.
    pub canonical: String,
    /// The real roots the command can see when run outside the canonical
    /// root (see `Roots::seen_by`).
    pub sees: Vec<PathBuf>,
    /// The contents of its `Source::Bundle` input, if any.
    pub bundle: Option<Arc<NamedBundle>>,
    /// The bytes it reads: its inputs named by content and its bundle's
    /// files (an output of another thunk, linked offline, counts 0).
    pub bytes: u64,
    /// What the command does to the tree besides writing its outputs
    /// (`mkdir`, `ln -s`, ...), in order: a hit does it too. Not part of
    /// the hash: the command's words, which are, say it all.
    pub effects: Vec<Effect>,
    /// The files it leaves written besides the edge's outputs and depfile
    /// (build-dir paths, as the graph spells them: make's `-MMD`
    /// depfile): stored with its result and restored by a hit. Not part of
    /// the hash, for the same reason.
    pub side_outputs: Vec<String>,
    /// When the stats that named its inputs began to be taken (ns since
    /// the epoch, see `HashCache::stats_since`): a file whose stamps are
    /// older by more than a tick and whose stat is the same is the one
    /// they named (`Thunks::changed_input`).
    pub since_ns: i64,
}

impl EdgeThunk {
    /// A key kept from an earlier run (see `kept`): its hash, what a hit
    /// needs, and no JSON or bundle; only the memo is asked with it.
    pub fn is_kept(&self) -> bool {
        self.canonical.is_empty()
    }

    pub fn thunk(&self) -> Thunk {
        serde_json::from_str(&self.canonical).expect("a canonical thunk parses")
    }

    /// Whether a hit of it, starting now, changes the tree only where it
    /// puts the edge's outputs and depfile, which the build tells one by
    /// one (`footprint::RunStats`): no files besides, and no effects but
    /// the removal of one of them (CMake's static library rule starts with
    /// `cmake -E rm -f libx.a`) that is not a symlink to a directory now
    /// (paths through it would change). After any other hit, every stat of
    /// the run is taken again.
    pub fn writes_only_outputs(&self, g: &Graph, b: BuildId, roots: &Roots) -> bool {
        if self.effects.is_empty() || !self.side_outputs.is_empty() {
            return self.side_outputs.is_empty();
        }
        let outputs = crate::scan::produced(g, b);
        let output = |path: &Path| outputs.iter().any(|o| Path::new(o) == path);
        let dir_link = |path: &Path| {
            let path = roots.host_path(&path.to_string_lossy());
            let link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
            link && path.is_dir()
        };
        let removes_output = |e: &Effect| match e {
            Effect::Remove { path, recursive } => !recursive && output(path) && !dir_link(path),
            _ => false,
        };
        self.effects.iter().all(removes_output)
    }

    /// The key its results are memoized under, locally and remotely.
    /// Commands run at the real paths (in the sandbox and on Lambda, through
    /// prefix maps, too), so their outputs can hold the real roots they see
    /// (`__FILE__`, debug info, RUNPATH): those join the key, and a hit
    /// never restores another checkout's paths (ccache without `base_dir`).
    /// A command that sees no root shares its results across checkouts.
    pub fn memo_key(&self) -> ContentHash {
        let mut key = self.hash.to_string();
        for root in &self.sees {
            key.push('\0');
            key.push_str(&root.display().to_string());
        }
        ContentHash::of(Kind::Thunk, key.as_bytes())
    }
}

/// Maps by edge, with a hash cheaper than the default (keys are small ints).
type BuildMap<V> = rustc_hash::FxHashMap<BuildId, V>;

/// Builds the thunks of every non-phony edge needed for `targets`, linked
/// to each other by hash, in dependency order.
pub struct ThunkBuilder<'a> {
    pub graph: &'a Graph,
    pub roots: &'a Roots,
    pub cache: &'a HashCache,
    pub bundles: &'a Bundles,
    known: &'a KnownInputs,
    pub scan: &'a Scan<'a>,
    /// Finished entries, unless `build_all` was given somewhere else to
    /// put them.
    pub done: BuildMap<Entry>,
    /// Name produced inputs by their producer's thunk (a self-contained
    /// graph), or, when false, by their current content (the memo key: an
    /// identical object from a changed source then still hits downstream).
    pub link_outputs: bool,
    /// Every finished edge's thunk hash (None: local-only).
    linked: BuildMap<Option<ContentHash>>,
    /// Keys kept between runs, taken where they still hold and kept as
    /// made (at build time only: `link_outputs` false).
    pub(crate) kept: Option<&'a KeptKeys>,
}

/// Where `build_all` hands finished entries.
pub type Emit<'e> = &'e mut dyn FnMut(Vec<(BuildId, Entry)>);

/// A drafted edge: finished, or waiting for a producer.
enum Made {
    Entry(Entry),
    Waits(Draft),
}

impl<'a> ThunkBuilder<'a> {
    pub fn new(
        graph: &'a Graph,
        roots: &'a Roots,
        cache: &'a HashCache,
        bundles: &'a Bundles,
        known: &'a KnownInputs,
        scan: &'a Scan<'a>,
        link_outputs: bool,
    ) -> ThunkBuilder<'a> {
        ThunkBuilder {
            graph,
            roots,
            cache,
            bundles,
            known,
            scan,
            done: BuildMap::default(),
            link_outputs,
            linked: BuildMap::default(),
            kept: None,
        }
    }
}

/// An edge's thunk before the thunks it links to are known.
/// Its parts are serialized already (in parallel, and a string holds a
/// thunk in a third of the memory of the structs).
struct Draft {
    /// The `Function`'s JSON.
    function: String,
    inputs: Vec<InputJson>,
    bundle: Option<Arc<NamedBundle>>,
    /// Inputs another edge produces: (thunk-visible path, producer).
    links: Vec<(String, BuildId)>,
    /// The sorted outputs' JSON.
    outputs: String,
    sees: Vec<PathBuf>,
    effects: Vec<Effect>,
    side_outputs: Vec<String>,
}

impl InputJson {
    /// `bytes`: the value's size (0 for a bundle, a directory or an output).
    fn new(input: Input, bytes: u64) -> InputJson {
        InputJson {
            json: input.json().into(),
            directory: matches!(input.source, Source::Directory { .. }),
            path: input.path.into(),
            bytes,
        }
    }
}

impl ThunkBuilder<'_> {
    /// Returns the entry of the build producing `node` (None for sources
    /// and phony-only nodes).
    pub fn entry_for(&mut self, node: FileId) -> Option<&Entry> {
        let b = self.graph.file(node).in_build?;
        self.build(b);
        self.done.get(&b)
    }

    /// Computes (and memoizes) the entry of build `b` and its producers.
    pub fn build(&mut self, b: BuildId) {
        self.build_all(&[b], None);
    }

    /// Computes the entries of `edges` and (when linking outputs) of every
    /// edge they read from, in waves of dependency order: an edge is drafted
    /// and finished in parallel with the others once every producer its
    /// manifest names is finished, so neither drafts nor (when `emit` takes
    /// them) finished thunks pile up. `emit` gets each batch of finished
    /// entries, every one after the entries it links to; without it they
    /// stay in `done`.
    pub fn build_all(&mut self, edges: &[BuildId], mut emit: Option<Emit>) {
        // Drafts that link to a producer only their scan found (the
        // manifest does not name it): they wait for it.
        let mut deferred: BuildMap<Draft> = BuildMap::default();
        let mut wanted = edges.to_vec();
        while !wanted.is_empty() {
            self.run_waves(wanted, &mut deferred, &mut emit);
            loop {
                let mut ready: Vec<BuildId> = deferred
                    .iter()
                    .filter(|(_, d)| d.links.iter().all(|l| self.linked.contains_key(&l.1)))
                    .map(|(&b, _)| b)
                    .collect();
                if ready.is_empty() {
                    break;
                }
                ready.sort();
                let made = ready
                    .into_iter()
                    .map(|b| (b, self.link(deferred.remove(&b).expect("deferred"))))
                    .collect();
                self.record(made, &mut emit);
            }
            wanted = deferred
                .values()
                .flat_map(|d| d.links.iter().map(|l| l.1))
                .filter(|p| !self.linked.contains_key(p) && !deferred.contains_key(p))
                .collect();
        }
        self.record_cycle(deferred.into_keys().collect(), &mut emit);
    }

    /// Edges that wait for each other: local-only.
    fn record_cycle(&mut self, mut cycle: Vec<BuildId>, emit: &mut Option<Emit>) {
        cycle.sort();
        let why = || Entry::LocalOnly("dependency cycle".to_string());
        self.record(cycle.into_iter().map(|b| (b, why())).collect(), emit);
    }

    /// Plans `edges` and their producers (by the manifest), then drafts
    /// and finishes them a wave at a time.
    fn run_waves(
        &mut self,
        edges: Vec<BuildId>,
        deferred: &mut BuildMap<Draft>,
        emit: &mut Option<Emit>,
    ) {
        let g = self.graph;
        let mut producers: BuildMap<Vec<BuildId>> = BuildMap::default();
        let mut todo = edges;
        while let Some(b) = todo.pop() {
            if self.linked.contains_key(&b) || producers.contains_key(&b) {
                continue;
            }
            if g.is_phony(b) {
                // A phony target stands for what it names.
                todo.extend(self.manifest_producers(b));
                continue;
            }
            let ps = match self.link_outputs {
                true => self.manifest_producers(b),
                false => Vec::new(),
            };
            todo.extend(&ps);
            producers.insert(b, ps);
        }
        let mut waiting: BuildMap<usize> = BuildMap::default();
        let mut dependents: BuildMap<Vec<BuildId>> = BuildMap::default();
        let mut wave = Vec::new();
        for (&b, ps) in &producers {
            let pending: Vec<BuildId> = ps
                .iter()
                .copied()
                .filter(|p| producers.contains_key(p))
                .collect();
            for &p in &pending {
                dependents.entry(p).or_default().push(b);
            }
            match pending.len() {
                0 => wave.push(b),
                n => {
                    waiting.insert(b, n);
                }
            }
        }
        let mut made_count = 0;
        while !wave.is_empty() {
            wave.sort();
            let mut next = Vec::new();
            // A wave can be the whole graph: a batch at a time bounds what
            // is held before `emit` takes it.
            for batch in wave.chunks(4096) {
                let made: Vec<(BuildId, Made)> =
                    batch.par_iter().map(|&b| (b, self.make(b))).collect();
                let mut finished = Vec::with_capacity(made.len());
                for (b, m) in made {
                    match m {
                        Made::Entry(e) => finished.push((b, e)),
                        Made::Waits(d) => {
                            deferred.insert(b, d);
                        }
                    }
                }
                self.record(finished, emit);
                for b in batch {
                    for &c in dependents.get(b).into_iter().flatten() {
                        let n = waiting.get_mut(&c).expect("a dependent waits");
                        *n -= 1;
                        if *n == 0 {
                            next.push(c);
                        }
                    }
                }
                made_count += batch.len();
            }
            wave = next;
        }
        // Edges left are in a cycle of manifest dependencies.
        if made_count < producers.len() {
            let cycle = waiting.iter().filter(|(_, &n)| n > 0).map(|(&b, _)| b);
            self.record_cycle(cycle.collect(), emit);
        }
    }

    /// The edges producing `b`'s manifest inputs (phony ones looked through).
    fn manifest_producers(&self, b: BuildId) -> Vec<BuildId> {
        let g = self.graph;
        let files = self.through_phony(g.build(b).ins.iter().copied());
        let producers = files.into_iter().filter_map(|n| g.file(n).in_build);
        let mut out: Vec<BuildId> = producers
            .filter(|&p| p != b && !g.is_phony(p) && !g.build(p).generated_by_dep_loader)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The files `nodes` stand for: a phony target's inputs in its place,
    /// transitively. Each phony build is looked through once: CMake's phony
    /// targets share their dependencies so much that walking every path
    /// (LLVM: 15k edges) never ends.
    fn through_phony(&self, nodes: impl IntoIterator<Item = FileId>) -> Vec<FileId> {
        let g = self.graph;
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack: Vec<FileId> = nodes.into_iter().collect();
        let mut out = Vec::new();
        while let Some(n) = stack.pop() {
            let phony = g.file(n).in_build.filter(|&p| g.is_phony(p));
            match phony.filter(|&p| !g.build(p).generated_by_dep_loader) {
                Some(p) if seen.insert(p) => stack.extend(g.build(p).ins.iter().copied()),
                Some(_) => {}
                None => out.push(n),
            }
        }
        out
    }

    /// One edge drafted, and finished unless a producer is not; at build
    /// time its key taken from the last run where it still holds, or kept
    /// for the next one as made.
    fn make(&self, b: BuildId) -> Made {
        let g = self.graph;
        let scanned = match (self.scan)(g, b) {
            Ok(fp) => fp,
            Err(reason) => return Made::Entry(Entry::LocalOnly(reason)),
        };
        let keys = self.kept.filter(|_| !self.link_outputs);
        let kept = keys.and_then(|k| Some((k, footprint_digest(g, b, &scanned)?)));
        if let Some((keys, digest)) = kept {
            let holds = |f: &Fact| self.still_named(f);
            if let Some(t) = keys.recall(b, digest, holds, self.cache.stats_since()) {
                return Made::Entry(Entry::Thunk(Box::new(t)));
            }
        }
        let mut facts = kept.map(|_| Vec::new());
        let drafted = edge_footprint(self.roots, g, b, scanned)
            .and_then(|fp| self.draft(b, fp, facts.as_mut()));
        match drafted {
            Err(reason) => Made::Entry(Entry::LocalOnly(reason)),
            Ok(d) if d.links.iter().all(|l| self.linked.contains_key(&l.1)) => {
                let entry = self.link(d);
                if let (Some((keys, digest)), Some(facts), Entry::Thunk(t)) = (kept, facts, &entry)
                {
                    keys.made(b, digest, facts, t);
                }
                Made::Entry(entry)
            }
            Ok(d) => Made::Waits(d),
        }
    }

    /// Whether the file `fact` names still hashes as it did, asked as
    /// `value_input` asks.
    fn still_named(&self, fact: &Fact) -> bool {
        let path = self.absolute(&fact.path);
        let now = match fact.system {
            true => self.cache.hash_system(&path),
            false => self.cache.hash_path(&path),
        };
        matches!(now, Ok(h) if h.map(Named::of) == fact.hash)
    }

    /// `f` (relative to the build dir, or absolute) as an absolute path.
    fn absolute<'f>(&self, f: &'f str) -> Cow<'f, Path> {
        match Path::new(f).is_relative() {
            true => Cow::Owned(self.roots.build.join(f)),
            false => Cow::Borrowed(Path::new(f)),
        }
    }

    /// Notes finished entries for the thunks linking to them, and hands
    /// them to `emit` or keeps them.
    fn record(&mut self, made: Vec<(BuildId, Entry)>, emit: &mut Option<Emit>) {
        for (b, e) in &made {
            let hash = match e {
                Entry::Thunk(t) => Some(t.hash),
                Entry::LocalOnly(_) => None,
            };
            self.linked.insert(*b, hash);
        }
        match emit {
            Some(emit) => emit(made),
            None => self.done.extend(made),
        }
    }

    /// The first phase for one edge, from its footprint: phony inputs
    /// expanded, plain inputs hashed (each noted in `facts`, if given),
    /// produced inputs noted as links.
    fn draft(
        &self,
        b: BuildId,
        mut fp: Footprint,
        mut facts: Option<&mut Vec<Fact>>,
    ) -> Result<Draft, String> {
        let g = self.graph;
        // The toolchain and the system headers are one bundle, but for
        // what the trees hold or an edge writes (see `bundles`).
        let shared = (self.bundles).shared(&fp.toolchain, &fp.system, g, self.roots, self.cache)?;
        // Each file with its node, looked up once; a system header the
        // deps log names again is bundled already (one thunk, deps log or
        // not).
        let mut files: Vec<(String, Option<FileId>)> = Vec::with_capacity(fp.files.len());
        let bundled = |f: &str| f.starts_with('/') && shared.headers.contains(f);
        for f in std::mem::take(&mut fp.files) {
            if bundled(&f) {
                continue;
            }
            let node = g.lookup(&f);
            // A phony input stands for what it names.
            let phony = node.filter(|&n| {
                let p = g.file(n).in_build;
                p.is_some_and(|p| g.is_phony(p) && !g.build(p).generated_by_dep_loader)
            });
            match phony {
                Some(n) => files.extend(
                    self.through_phony([n])
                        .iter()
                        .map(|&n| (g.path(n).to_string(), Some(n))),
                ),
                None => files.push((f, node)),
            }
        }
        let mut inputs: Vec<InputJson> = Vec::with_capacity(files.len() + 1);
        let mut links = Vec::new();
        for f in &shared.local {
            files.push((f.clone(), g.lookup(f)));
        }
        // Stable: the walk's headers come first and sorted, and a stable
        // sort merges the few after them in linear time.
        files.sort_by(|x, y| x.0.cmp(&y.0));
        files.dedup_by(|x, y| x.0 == y.0);
        let bundle = shared.bundle.clone();
        if let Some(b) = &bundle {
            let input = Input {
                path: "/".to_string(),
                source: Source::Bundle {
                    bundle: b.hash.to_string(),
                },
            };
            inputs.push(InputJson::new(input, 0));
        }
        let mut upstream = Upstream::of(g, b);
        for (f, node) in files {
            let producer = node
                .and_then(|n| g.file(n).in_build)
                .filter(|&p| !g.is_phony(p) && !g.build(p).generated_by_dep_loader);
            match producer {
                // An edge's own outputs are made fresh, never read (`ar rcs`
                // names its archive).
                Some(p) if p == b => {}
                // Offline, the link orders them; in a build nothing does.
                Some(p) if !self.link_outputs && !upstream.contains(p) => {
                    return Err(format!(
                        "it reads {f}, which another edge writes without being ordered \
                         before it (see -t missingdeps)"
                    ))
                }
                Some(p) if self.link_outputs => links.push((self.roots.virtual_path(&f), p)),
                _ => {
                    let input = self.value_input(&f, producer.is_some(), facts.as_deref_mut())?;
                    if input.directory && fp.walks_dirs {
                        return Err(format!(
                            "it may read what directory {f} holds, which a thunk does not name"
                        ));
                    }
                    inputs.push(input);
                }
            }
        }
        let exe_hash = self
            .cache
            .hash_system(&fp.program)
            .ok()
            .flatten()
            .ok_or_else(|| format!("program '{}' cannot be read", fp.program.display()))?;
        if let Some(facts) = facts {
            let (path, hash) = (fp.program.display().to_string(), Named::of(exe_hash));
            facts.push(Fact {
                path: path.into(),
                system: true,
                hash: Some(hash),
            });
        }
        let mut outputs: Vec<String> = g
            .build(b)
            .outs
            .iter()
            .map(|&o| self.roots.virtual_path(g.path(o)))
            .collect();
        outputs.sort();
        let function = Function {
            exe: self.roots.rewrite(&fp.program.display().to_string()),
            exe_hash: exe_hash.to_string(),
            argv: fp.argv.iter().map(|a| self.roots.rewrite(a)).collect(),
            env: ENV
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .chain(
                    fp.collation
                        .iter()
                        .map(|c| ("LC_COLLATE".into(), c.clone())),
                )
                .collect(),
        };
        Ok(Draft {
            bundle,
            function: serde_json::to_string(&function).expect("functions always serialize"),
            inputs,
            links,
            outputs: serde_json::to_string(&outputs).expect("outputs always serialize"),
            sees: self.roots.seen_by(&fp.argv, fp.embeds_cwd),
            effects: fp.effects.clone(),
            side_outputs: fp.side_outputs.clone(),
        })
    }

    /// A file named by its current content (or a directory). System files
    /// that no edge writes are named once per process, a tree file once
    /// for each content it has (see `known_inputs`). `facts` gets the hash
    /// it was named by and how it was asked (see `still_named`).
    fn value_input(
        &self,
        f: &str,
        produced: bool,
        facts: Option<&mut Vec<Fact>>,
    ) -> Result<InputJson, String> {
        let path = self.absolute(f);
        let note = |system: bool, hash: Option<ContentHash>| {
            if let Some(facts) = facts {
                let hash = hash.map(Named::of);
                facts.push(Fact {
                    path: f.into(),
                    system,
                    hash,
                });
            }
        };
        if !produced {
            if let Some(input) = self.known.system(f) {
                // Named from this hash, remembered for the process.
                let hash = self.cache.hash_system(&path).ok().flatten();
                note(true, hash);
                return Ok(input);
            }
        }
        // System files do not change during a build; offline (linking
        // outputs: nothing runs) no file does, and one shared by many edges
        // (a project header) is looked at once. A tree file kept is none.
        let kept = self.known.tree(f);
        let system = kept.is_none() && !produced && self.roots.virtual_path(f) == f;
        let asked_once = self.link_outputs || system;
        let hash = match asked_once {
            true => self.cache.hash_system(&path),
            false => self.cache.hash_path(&path),
        };
        let (source, bytes) = match hash {
            Ok(Some(h)) => {
                note(asked_once, Some(h));
                if let Some((_, input)) = kept.filter(|(named, _)| *named == h) {
                    return Ok(input);
                }
                let hash = h.to_string();
                (Source::Value { hash }, h.size)
            }
            Ok(None) => {
                note(asked_once, None);
                (Source::Directory { directory: true }, 0)
            }
            Err(e) => return Err(format!("input '{f}' cannot be read: {e}")),
        };
        let path = self.roots.virtual_path(f);
        let input = InputJson::new(Input { path, source }, bytes);
        match (system, hash) {
            (true, _) => self.known.keep_system(f, input.clone()),
            (false, Ok(Some(h))) => self.known.keep_tree(f, h, input.clone()),
            _ => {}
        }
        Ok(input)
    }

    fn link(&self, draft: Draft) -> Entry {
        let mut inputs = draft.inputs;
        for (virt, p) in draft.links {
            let input = match self.linked.get(&p) {
                Some(Some(hash)) => {
                    let output = Input {
                        path: virt.clone(),
                        source: Source::Output {
                            thunk: hash.to_string(),
                            output: virt,
                        },
                    };
                    InputJson::new(output, 0)
                }
                _ => {
                    let real = self.roots.real_path(&virt);
                    match self.value_input(&real.display().to_string(), true, None) {
                        Ok(i) => i,
                        Err(reason) => return Entry::LocalOnly(reason),
                    }
                }
            };
            inputs.push(input);
        }
        inputs.sort_by(|a, b| a.path.cmp(&b.path));
        // One file under two spellings (relative in the manifest, absolute
        // in a depfile) is one input.
        inputs.dedup_by(|a, b| a.path == b.path);
        // What `Thunk::canonical` gives: fields in order, no spaces.
        let size = draft.function.len() + draft.outputs.len() + 40;
        let mut canonical =
            String::with_capacity(inputs.iter().map(|i| i.json.len() + 1).sum::<usize>() + size);
        canonical.push_str("{\"function\":");
        canonical.push_str(&draft.function);
        canonical.push_str(",\"inputs\":");
        push_json_array(&mut canonical, inputs.iter().map(|i| &*i.json));
        canonical.push_str(",\"outputs\":");
        canonical.push_str(&draft.outputs);
        canonical.push('}');
        let bundled = draft.bundle.as_ref().map_or(0, |b| b.bytes);
        Entry::Thunk(Box::new(EdgeThunk {
            hash: ContentHash::of(Kind::Thunk, canonical.as_bytes()),
            canonical,
            sees: draft.sees,
            bytes: inputs.iter().map(|i| i.bytes).sum::<u64>() + bundled,
            bundle: draft.bundle,
            effects: draft.effects,
            side_outputs: draft.side_outputs,
            since_ns: self.cache.stats_since(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A system file (outside the roots, written by no edge) is named once
    /// a process, as it is hashed once; the same path as an edge's output
    /// is named by what it holds now.
    #[test]
    fn a_system_file_is_named_once_and_an_output_afresh() {
        let d = tempfile::tempdir().unwrap();
        let header = d.path().join("sys.h");
        std::fs::write(&header, "one").unwrap();
        let (g, roots) = (Graph::default(), Roots::new(d.path().join("build"), None));
        let (cache, bundles, system) = Default::default();
        let scan = |_: &Graph, _: BuildId| Err("not scanned".to_string());
        let tb = ThunkBuilder::new(&g, &roots, &cache, &bundles, &system, &scan, false);
        let name = header.to_str().unwrap();
        let first = tb.value_input(name, false, None).unwrap();
        assert_eq!((&*first.path, first.bytes), (name, 3));
        std::fs::write(&header, "other").unwrap();
        assert_eq!(tb.value_input(name, false, None).unwrap().json, first.json);
        let output = tb.value_input(name, true, None).unwrap();
        assert_eq!(output.bytes, 5);
        assert_ne!(output.json, first.json);
    }

    /// A hit is told by what it puts back only when it writes nothing else:
    /// removing one of its outputs first (`cmake -E rm -f libx.a`) is one of
    /// those writes, unless that output is a symlink to a directory;
    /// removing another file, a tree, any other effect or a file written
    /// besides is not.
    #[test]
    fn only_an_outputs_removal_leaves_a_hit_told_by_its_outputs() {
        let text = "rule r\n  command = true\n  depfile = x.d\nbuild libx.a: r a.o\n";
        let options = ggninja_importer::Options::default();
        let parsed = ggninja_importer::parse_str("build.ninja", text.as_bytes(), &options);
        let g = parsed.unwrap().graph;
        let b = g.file(g.lookup("libx.a").unwrap()).in_build.unwrap();
        let remove = |path: &str, recursive| Effect::Remove {
            path: path.into(),
            recursive,
        };
        let hit = |effects: Vec<Effect>, side_outputs: Vec<String>| EdgeThunk {
            hash: ContentHash::of(Kind::Thunk, b"t"),
            canonical: String::new(),
            sees: Vec::new(),
            bundle: None,
            bytes: 0,
            effects,
            side_outputs,
            since_ns: 0,
        };
        let dir = tempfile::tempdir().unwrap();
        let roots = Roots::new(dir.path().to_path_buf(), None);
        let told = |effects, side| hit(effects, side).writes_only_outputs(&g, b, &roots);
        assert!(told(vec![], vec![]));
        assert!(told(vec![remove("libx.a", false)], vec![]));
        assert!(told(vec![remove("x.d", false)], vec![]));
        assert!(!told(vec![remove("other.a", false)], vec![]));
        assert!(!told(vec![remove("libx.a", true)], vec![]));
        let link = Effect::Symlink {
            target: "libx.a".into(),
            link: "liby.a".into(),
        };
        assert!(!told(vec![remove("libx.a", false), link], vec![]));
        assert!(!told(vec![], vec!["x.dep".into()]));
        // The output is a symlink to a directory now: its removal changes
        // what paths through it lead to.
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("sub", dir.path().join("libx.a")).unwrap();
        assert!(!told(vec![remove("libx.a", false)], vec![]));
        assert!(told(vec![], vec![]));
    }
}
