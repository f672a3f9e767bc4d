//! Thunks: each build edge as a hermetic, content-addressed function — the
//! program and its argv and environment, every input named by content hash
//! (or by the thunk that produces it), and the outputs it writes.
//! See docs/thunks.md for the format and the path rules.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::hash::{ContentHash, HashCache, Kind};
use crate::{Escape, Graph, NodeId};

/// Where the build and source trees appear inside every thunk, whatever
/// their real location, so identical edges hash alike on any machine.
pub const BUILD_ROOT: &str = "/ggroot/build";
pub const SOURCE_ROOT: &str = "/ggroot/src";

/// The environment every thunk runs with; nothing else leaks in.
pub const ENV: &[(&str, &str)] = &[("LANG", "C"), ("PATH", "/usr/bin:/bin")];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thunk {
    pub function: Function,
    /// Sorted by path.
    pub inputs: Vec<Input>,
    /// Sorted.
    pub outputs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    /// The program, by its (thunk-visible) path and content hash.
    pub exe: String,
    pub exe_hash: String,
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// Path inside the thunk's view of the file system.
    pub path: String,
    #[serde(flatten)]
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Source {
    /// A file named by its content.
    Value { hash: String },
    /// An output of another thunk: linked thunks make a whole graph one
    /// self-contained description.
    Output { thunk: String, output: String },
    /// A directory the command expects to exist (CMake names object
    /// directories as inputs); it has no content to hash.
    Directory { directory: bool },
    /// Every file of a bundle, at its own (absolute) path.
    Bundle { bundle: String },
}

/// Files many thunks share (a compiler and everything it loads, ~50 files),
/// listed once and named by the hash of the listing, so a thunk names them
/// with one input instead of repeating them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// Sorted by path; absolute paths outside the build and source trees.
    pub files: Vec<BundleFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleFile {
    pub path: String,
    pub hash: String,
}

/// A bundle with its name (a value hash over its canonical JSON).
#[derive(Debug)]
pub struct NamedBundle {
    pub hash: ContentHash,
    pub bundle: Bundle,
}

/// Bundles by a hash of their file lists (each bucket: list, bundle).
type BundleMap = HashMap<u64, Vec<(Vec<PathBuf>, Arc<NamedBundle>)>>;

/// The bundles made so far, found again by their file lists.
#[derive(Default)]
pub struct Bundles {
    made: Mutex<BundleMap>,
}

impl Bundles {
    /// The bundle of `files` (absolute system paths), hashing each once.
    fn get(&self, files: &[&PathBuf], cache: &HashCache) -> Result<Arc<NamedBundle>, String> {
        // Paths hash and compare as bytes: `Path`'s own Eq and Hash walk
        // components, which costs more than the rest of a lookup.
        let mut h = rustc_hash::FxHasher::default();
        for f in files {
            f.as_os_str().as_bytes().hash(&mut h);
        }
        let key = h.finish();
        let same = |a: &[PathBuf]| {
            a.len() == files.len()
                && a.iter()
                    .zip(files)
                    .all(|(x, y)| x.as_os_str() == y.as_os_str())
        };
        let found = |made: &BundleMap| {
            made.get(&key)?
                .iter()
                .find(|(f, _)| same(f))
                .map(|(_, b)| Arc::clone(b))
        };
        if let Some(b) = found(&self.made.lock().expect("bundles lock")) {
            return Ok(b);
        }
        let mut entries = Vec::with_capacity(files.len());
        for f in files {
            let hash = cache
                .hash_system(f)
                .ok()
                .flatten()
                .ok_or_else(|| format!("toolchain file '{}' cannot be read", f.display()))?;
            entries.push(BundleFile {
                path: f.display().to_string(),
                hash: hash.to_string(),
            });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries.dedup();
        let bundle = Bundle { files: entries };
        let canonical = serde_json::to_string(&bundle).expect("bundles always serialize");
        let named = Arc::new(NamedBundle {
            hash: ContentHash::of(Kind::Value, canonical.as_bytes()),
            bundle,
        });
        let mut made = self.made.lock().expect("bundles lock");
        if let Some(b) = found(&made) {
            return Ok(b);
        }
        made.entry(key).or_default().push((
            files.iter().map(|&f| f.clone()).collect(),
            Arc::clone(&named),
        ));
        Ok(named)
    }

    /// Every bundle made, by hash.
    pub fn all(&self) -> Vec<Arc<NamedBundle>> {
        let made = self.made.lock().expect("bundles lock");
        let mut all: Vec<Arc<NamedBundle>> = made
            .values()
            .flatten()
            .map(|(_, b)| Arc::clone(b))
            .collect();
        all.sort_by_key(|b| b.hash.to_string());
        all.dedup_by_key(|b| b.hash.to_string());
        all
    }
}

impl Thunk {
    /// The canonical serialization: JSON with fields in declaration order,
    /// inputs and outputs sorted, env sorted by key.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).expect("thunks always serialize")
    }

    pub fn hash(&self) -> ContentHash {
        ContentHash::of(Kind::Thunk, self.canonical().as_bytes())
    }
}

/// Maps real paths to the thunk's view and back.
#[derive(Debug, Clone)]
pub struct Roots {
    /// Absolute build directory (where build.ninja is).
    pub build: PathBuf,
    /// Absolute source directory, when known.
    pub source: Option<PathBuf>,
    /// The real roots with their thunk-visible names, the longer first
    /// (one may contain the other). Every argv word is searched for them.
    prefixes: Vec<Prefix>,
}

#[derive(Debug, Clone)]
struct Prefix {
    real: String,
    finder: memchr::memmem::Finder<'static>,
    virt: &'static str,
}

impl Prefix {
    fn new(real: &Path, virt: &'static str) -> Prefix {
        let real = real.display().to_string();
        Prefix {
            finder: memchr::memmem::Finder::new(real.as_bytes()).into_owned(),
            real,
            virt,
        }
    }

    /// Where `real` starts as a whole path prefix in `text` (followed by
    /// `/`, a separator or the end), not inside a longer name.
    fn find_whole(&self, text: &str) -> Option<usize> {
        let mut from = 0;
        while let Some(i) = self.finder.find(&text.as_bytes()[from..]) {
            let at = from + i;
            let after = &text[at + self.real.len()..];
            if after.is_empty() || after.starts_with(['/', ' ', '\'', '"', ':', ';', '=']) {
                return Some(at);
            }
            from = at + 1;
        }
        None
    }

    /// `text` with every whole occurrence of the real root replaced, or
    /// None when there is none.
    fn replace(&self, text: &str) -> Option<String> {
        let mut at = self.find_whole(text)?;
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        loop {
            out.push_str(&rest[..at]);
            out.push_str(self.virt);
            rest = &rest[at + self.real.len()..];
            match self.find_whole(rest) {
                Some(i) => at = i,
                None => break,
            }
        }
        out.push_str(rest);
        Some(out)
    }
}

impl Roots {
    pub fn new(build: PathBuf, source: Option<PathBuf>) -> Roots {
        let mut prefixes = vec![Prefix::new(&build, BUILD_ROOT)];
        prefixes.extend(source.as_deref().map(|s| Prefix::new(s, SOURCE_ROOT)));
        // A root of "/" would rewrite every absolute path.
        prefixes.retain(|p| p.real.len() > 1);
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.real.len()));
        Roots {
            build,
            source,
            prefixes,
        }
    }

    /// The build dir is `cwd`; the source dir comes from CMake's cache
    /// (`CMAKE_HOME_DIRECTORY`) when there is one.
    pub fn detect(cwd: &Path) -> Roots {
        let source = std::fs::read_to_string(cwd.join("CMakeCache.txt"))
            .ok()
            .and_then(|c| {
                c.lines()
                    .find_map(|l| l.strip_prefix("CMAKE_HOME_DIRECTORY:INTERNAL="))
                    .map(PathBuf::from)
            });
        Roots::new(cwd.to_path_buf(), source)
    }

    /// A manifest path (relative to the build dir, or absolute) as a thunk sees it.
    pub fn virtual_path(&self, path: &str) -> String {
        let p = Path::new(path);
        if p.is_relative() {
            return format!("{BUILD_ROOT}/{path}");
        }
        self.rewrite(path)
    }

    /// Replaces real root prefixes inside any string (argv words, absolute
    /// paths); the longer root first, since one may contain the other.
    pub fn rewrite(&self, text: &str) -> String {
        let mut out: Option<String> = None;
        for p in &self.prefixes {
            if let Some(r) = p.replace(out.as_deref().unwrap_or(text)) {
                out = Some(r);
            }
        }
        out.unwrap_or_else(|| text.to_string())
    }

    /// Undoes `rewrite` in a text (a depfile restored from the store).
    pub fn unrewrite(&self, text: &str) -> String {
        let mut out = text.replace(BUILD_ROOT, &self.build.display().to_string());
        if let Some(s) = &self.source {
            out = out.replace(SOURCE_ROOT, &s.display().to_string());
        }
        out
    }

    /// The real roots a command run in place (not under the canonical root)
    /// can put into its outputs: those its argv names (`-I/src/include`
    /// becomes `__FILE__` strings and debug paths), and all of them when it
    /// can record its working directory (ccache without `base_dir`).
    pub fn seen_by(&self, argv: &[String], embeds_cwd: bool) -> Vec<PathBuf> {
        let named = |root: &Path| {
            let real = root.as_os_str().as_bytes();
            self.prefixes
                .iter()
                .filter(|p| p.real.as_bytes() == real)
                .any(|p| argv.iter().any(|a| p.find_whole(a).is_some()))
        };
        std::iter::once(&self.build)
            .chain(&self.source)
            .filter(|root| embeds_cwd || named(root))
            .cloned()
            .collect()
    }

    /// Whether a real absolute path lies in the build or source tree.
    pub fn is_inside(&self, path: &Path) -> bool {
        let p = path.as_os_str().as_bytes();
        std::iter::once(&self.build)
            .chain(&self.source)
            .any(|root| {
                let r = root.as_os_str().as_bytes();
                p.starts_with(r) && (p.len() == r.len() || p[r.len()] == b'/')
            })
    }

    /// A manifest path (relative to the build dir, or absolute) on the host.
    pub fn host_path(&self, path: &str) -> PathBuf {
        self.build.join(path)
    }

    /// The real path of a thunk-visible one.
    pub fn real_path(&self, virt: &str) -> PathBuf {
        if let Some(rest) = virt.strip_prefix(BUILD_ROOT) {
            return PathBuf::from(format!("{}{rest}", self.build.display()));
        }
        if let (Some(rest), Some(src)) = (virt.strip_prefix(SOURCE_ROOT), &self.source) {
            return PathBuf::from(format!("{}{rest}", src.display()));
        }
        PathBuf::from(virt)
    }
}

/// What an edge reads, as found by a footprint scanner: files relative to
/// the build dir or absolute, plus the program it runs.
pub struct Footprint {
    pub program: PathBuf,
    pub argv: Vec<String>,
    pub files: Vec<String>,
    /// The program's own files (sub-programs, shared libraries, crt files,
    /// default libraries), absolute: they become a bundle.
    pub toolchain: Arc<Vec<PathBuf>>,
    /// The outputs may record the working directory (see footprint's).
    pub embeds_cwd: bool,
}

/// A scanner gives an edge's footprint, or why it cannot be known.
pub type Scan<'a> = dyn Fn(&Graph, NodeId) -> Result<Footprint, String> + Sync + 'a;

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
}

impl EdgeThunk {
    pub fn thunk(&self) -> Thunk {
        serde_json::from_str(&self.canonical).expect("a canonical thunk parses")
    }
}

/// Maps by edge, with a hash cheaper than the default (keys are small ints).
pub type NodeMap<V> = rustc_hash::FxHashMap<NodeId, V>;

/// Builds the thunks of every non-phony edge needed for `targets`, linked
/// to each other by hash, in dependency order.
pub struct ThunkBuilder<'a> {
    pub graph: &'a Graph,
    pub roots: &'a Roots,
    pub cache: &'a HashCache,
    pub bundles: &'a Bundles,
    pub scan: &'a Scan<'a>,
    /// Finished entries, unless `build_all` was given somewhere else to
    /// put them.
    pub done: NodeMap<Entry>,
    /// Name produced inputs by their producer's thunk (a self-contained
    /// graph), or, when false, by their current content (the memo key: an
    /// identical object from a changed source then still hits downstream).
    pub link_outputs: bool,
    /// Every finished edge's thunk hash (None: local-only).
    linked: NodeMap<Option<ContentHash>>,
}

/// Where `build_all` hands finished entries.
pub type Emit<'e> = &'e mut dyn FnMut(Vec<(NodeId, Entry)>);

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
        scan: &'a Scan<'a>,
        link_outputs: bool,
    ) -> ThunkBuilder<'a> {
        ThunkBuilder {
            graph,
            roots,
            cache,
            bundles,
            scan,
            done: NodeMap::default(),
            link_outputs,
            linked: NodeMap::default(),
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
    links: Vec<(String, NodeId)>,
    /// The sorted outputs' JSON.
    outputs: String,
    sees: Vec<PathBuf>,
}

/// An `Input`'s path and its JSON.
struct InputJson {
    path: String,
    json: String,
}

impl From<Input> for InputJson {
    fn from(input: Input) -> InputJson {
        InputJson {
            json: serde_json::to_string(&input).expect("inputs always serialize"),
            path: input.path,
        }
    }
}

impl ThunkBuilder<'_> {
    /// Returns the entry of the build producing `node` (None for sources
    /// and phony-only nodes).
    pub fn entry_for(&mut self, node: NodeId) -> Option<&Entry> {
        let b = self.graph.file(node).in_build?;
        self.build(b);
        self.done.get(&b)
    }

    /// Computes (and memoizes) the entry of build `b` and its producers.
    pub fn build(&mut self, b: NodeId) {
        self.build_all(&[b], None);
    }

    /// Computes the entries of `edges` and (when linking outputs) of every
    /// edge they read from, in waves of dependency order: an edge is drafted
    /// and finished in parallel with the others once every producer its
    /// manifest names is finished, so neither drafts nor (when `emit` takes
    /// them) finished thunks pile up. `emit` gets each batch of finished
    /// entries, every one after the entries it links to; without it they
    /// stay in `done`.
    pub fn build_all(&mut self, edges: &[NodeId], mut emit: Option<Emit>) {
        // Drafts that link to a producer only their scan found (the
        // manifest does not name it): they wait for it.
        let mut deferred: NodeMap<Draft> = NodeMap::default();
        let mut wanted = edges.to_vec();
        while !wanted.is_empty() {
            self.run_waves(wanted, &mut deferred, &mut emit);
            loop {
                let mut ready: Vec<NodeId> = deferred
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
    fn record_cycle(&mut self, mut cycle: Vec<NodeId>, emit: &mut Option<Emit>) {
        cycle.sort();
        let why = || Entry::LocalOnly("dependency cycle".to_string());
        self.record(cycle.into_iter().map(|b| (b, why())).collect(), emit);
    }

    /// Plans `edges` and their producers (by the manifest), then drafts
    /// and finishes them a wave at a time.
    fn run_waves(
        &mut self,
        edges: Vec<NodeId>,
        deferred: &mut NodeMap<Draft>,
        emit: &mut Option<Emit>,
    ) {
        let g = self.graph;
        let mut producers: NodeMap<Vec<NodeId>> = NodeMap::default();
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
        let mut waiting: NodeMap<usize> = NodeMap::default();
        let mut dependents: NodeMap<Vec<NodeId>> = NodeMap::default();
        let mut wave = Vec::new();
        for (&b, ps) in &producers {
            let pending: Vec<NodeId> = ps
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
                let made: Vec<(NodeId, Made)> =
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
    fn manifest_producers(&self, b: NodeId) -> Vec<NodeId> {
        let g = self.graph;
        let files = self.through_phony(g.build(b).ins.iter().copied());
        let producers = files.into_iter().filter_map(|n| g.file(n).in_build);
        let mut out: Vec<NodeId> = producers
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
    fn through_phony(&self, nodes: impl IntoIterator<Item = NodeId>) -> Vec<NodeId> {
        let g = self.graph;
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack: Vec<NodeId> = nodes.into_iter().collect();
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

    /// One edge drafted, and finished unless a producer is not.
    fn make(&self, b: NodeId) -> Made {
        match self.draft(b) {
            Err(reason) => Made::Entry(Entry::LocalOnly(reason)),
            Ok(d) if d.links.iter().all(|l| self.linked.contains_key(&l.1)) => {
                Made::Entry(self.link(d))
            }
            Ok(d) => Made::Waits(d),
        }
    }

    /// Notes finished entries for the thunks linking to them, and hands
    /// them to `emit` or keeps them.
    fn record(&mut self, made: Vec<(NodeId, Entry)>, emit: &mut Option<Emit>) {
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

    /// The first phase for one edge: footprint, phony inputs expanded,
    /// plain inputs hashed, produced inputs noted as links.
    fn draft(&self, b: NodeId) -> Result<Draft, String> {
        let g = self.graph;
        let fp = (self.scan)(g, b)?;
        let mut files: Vec<String> = Vec::new();
        for f in &fp.files {
            // A phony input stands for what it names.
            let phony = g.lookup(f).filter(|&n| {
                let p = g.file(n).in_build;
                p.is_some_and(|p| g.is_phony(p) && !g.build(p).generated_by_dep_loader)
            });
            match phony {
                Some(n) => files.extend(
                    self.through_phony([n])
                        .iter()
                        .map(|&n| g.path(n).to_string()),
                ),
                None => files.push(f.clone()),
            }
        }
        files.sort();
        files.dedup();
        let mut inputs: Vec<InputJson> = Vec::with_capacity(files.len() + 1);
        let mut links = Vec::new();
        // Toolchain files inside the trees (a compiler built by the build)
        // stay plain inputs; the rest are the bundle.
        let (local, system): (Vec<&PathBuf>, Vec<&PathBuf>) =
            fp.toolchain.iter().partition(|p| self.roots.is_inside(p));
        files.extend(local.iter().map(|p| p.display().to_string()));
        files.sort();
        files.dedup();
        let bundle = match system.is_empty() {
            true => None,
            false => Some(self.bundles.get(&system, self.cache)?),
        };
        if let Some(b) = &bundle {
            let input = Input {
                path: "/".to_string(),
                source: Source::Bundle {
                    bundle: b.hash.to_string(),
                },
            };
            inputs.push(input.into());
        }
        for f in files {
            let producer = g
                .lookup(&f)
                .and_then(|n| g.file(n).in_build)
                .filter(|&p| !g.is_phony(p) && !g.build(p).generated_by_dep_loader);
            match producer {
                // An edge's own outputs are made fresh, never read (`ar rcs`
                // names its archive).
                Some(p) if p == b => {}
                Some(p) if self.link_outputs => links.push((self.roots.virtual_path(&f), p)),
                _ => inputs.push(self.value_input(&f, producer.is_some())?.into()),
            }
        }
        let exe_hash = self
            .cache
            .hash_system(&fp.program)
            .ok()
            .flatten()
            .ok_or_else(|| format!("program '{}' cannot be read", fp.program.display()))?;
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
                .collect(),
        };
        Ok(Draft {
            bundle,
            function: serde_json::to_string(&function).expect("functions always serialize"),
            inputs,
            links,
            outputs: serde_json::to_string(&outputs).expect("outputs always serialize"),
            sees: self.roots.seen_by(&fp.argv, fp.embeds_cwd),
        })
    }

    /// A file named by its current content (or a directory). System files
    /// that no edge writes are hashed once per process.
    fn value_input(&self, f: &str, produced: bool) -> Result<Input, String> {
        let virt = self.roots.virtual_path(f);
        let path = match Path::new(f).is_relative() {
            true => self.roots.build.join(f),
            false => PathBuf::from(f),
        };
        // System files do not change during a build; offline (linking
        // outputs: nothing runs) no file does, and one shared by many edges
        // (a project header) is looked at once.
        let unchanging = self.link_outputs || (virt == f && !produced);
        let hash = match unchanging {
            true => self.cache.hash_system(&path),
            false => self.cache.hash_path(&path),
        };
        let source = match hash {
            Ok(Some(h)) => Source::Value {
                hash: h.to_string(),
            },
            Ok(None) => Source::Directory { directory: true },
            Err(e) => return Err(format!("input '{f}' cannot be read: {e}")),
        };
        Ok(Input { path: virt, source })
    }

    fn link(&self, draft: Draft) -> Entry {
        let mut inputs = draft.inputs;
        for (virt, p) in draft.links {
            let input = match self.linked.get(&p) {
                Some(Some(hash)) => Input {
                    path: virt.clone(),
                    source: Source::Output {
                        thunk: hash.to_string(),
                        output: virt,
                    },
                },
                _ => {
                    let real = self.roots.real_path(&virt);
                    match self.value_input(&real.display().to_string(), true) {
                        Ok(i) => i,
                        Err(reason) => return Entry::LocalOnly(reason),
                    }
                }
            };
            inputs.push(input.into());
        }
        inputs.sort_by(|a, b| a.path.cmp(&b.path));
        // What `Thunk::canonical` gives: fields in order, no spaces.
        let size = draft.function.len() + draft.outputs.len() + 40;
        let mut canonical =
            String::with_capacity(inputs.iter().map(|i| i.json.len() + 1).sum::<usize>() + size);
        canonical.push_str("{\"function\":");
        canonical.push_str(&draft.function);
        canonical.push_str(",\"inputs\":[");
        for (n, i) in inputs.iter().enumerate() {
            if n > 0 {
                canonical.push(',');
            }
            canonical.push_str(&i.json);
        }
        canonical.push_str("],\"outputs\":");
        canonical.push_str(&draft.outputs);
        canonical.push('}');
        Entry::Thunk(Box::new(EdgeThunk {
            hash: ContentHash::of(Kind::Thunk, canonical.as_bytes()),
            canonical,
            sees: draft.sees,
            bundle: draft.bundle,
        }))
    }
}

/// An edge's footprint: compile, link and archive commands through the
/// include scanner and toolchain discovery (plus the edge's manifest inputs,
/// which name generated files before they exist). Other commands: all their
/// inputs and the files their arguments name, the program and the shared
/// libraries it loads; with a depfile (headers unknown) they are local-only.
/// A command the scanner refuses stays local-only.
pub fn edge_footprint(
    scanner: &ggninja_footprint::Scanner,
    cwd: &Path,
    g: &Graph,
    b: NodeId,
) -> Result<Footprint, String> {
    use ggninja_footprint::Kind;
    let command = g.command(b, false).map_err(|e| e.to_string())?;
    let fp = scanner.footprint(&command, cwd).map_err(|e| e.reason)?;
    let mut files: Vec<String> = g
        .build(b)
        .ins
        .iter()
        .map(|&i| g.path(i).to_string())
        .collect();
    if fp.kind == Kind::Other && has_depfile(g, b) {
        return Err("reads headers that only a depfile names".to_string());
    }
    // Files the command line names (response files, an `Other` program's
    // existing file arguments) count even when the manifest does not list them.
    let scanned = fp.sources.iter().chain(&fp.headers);
    files.extend(scanned.map(|p| p.display().to_string()));
    Ok(Footprint {
        toolchain: fp.toolchain,
        program: fp.executable,
        argv: fp.argv,
        files,
        embeds_cwd: fp.embeds_cwd,
    })
}

fn has_depfile(g: &Graph, b: NodeId) -> bool {
    let set = |name, escape| !g.binding(b, name, escape).unwrap_or_default().is_empty();
    set("deps", Escape::Shell) || set("depfile", Escape::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_rewrite_whole_prefixes_only() {
        let r = Roots::new("/home/u/proj/build".into(), Some("/home/u/proj".into()));
        assert_eq!(r.virtual_path("obj/a.o"), "/ggroot/build/obj/a.o");
        assert_eq!(r.rewrite("-I/home/u/proj/include"), "-I/ggroot/src/include");
        assert_eq!(r.rewrite("/home/u/proj/build/gen.h"), "/ggroot/build/gen.h");
        assert_eq!(r.rewrite("/home/u/project2/x"), "/home/u/project2/x");
        assert_eq!(
            r.real_path("/ggroot/src/a.c"),
            PathBuf::from("/home/u/proj/a.c")
        );
    }

    #[test]
    fn seen_roots_are_those_named_or_all_with_cwd() {
        let r = Roots::new("/home/u/proj/build".into(), Some("/home/u/proj".into()));
        let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let compile = argv("cc -I/home/u/proj/include -c /home/u/proj/a.c -o a.o");
        assert_eq!(
            r.seen_by(&compile, false),
            vec![PathBuf::from("/home/u/proj")]
        );
        let generated = argv("cc -I/home/u/proj/build/gen -c ../a.c -o a.o");
        // The build dir is inside the source dir: naming one names both.
        assert_eq!(r.seen_by(&generated, false).len(), 2);
        let apart = Roots::new("/tmp/b".into(), Some("/home/u/proj".into()));
        let generated = argv("cc -I/tmp/b/gen -c ../a.c -o a.o");
        assert_eq!(
            apart.seen_by(&generated, false),
            vec![PathBuf::from("/tmp/b")]
        );
        assert!(r.seen_by(&argv("ar qc lib.a a.o"), false).is_empty());
        assert!(r
            .seen_by(&argv("cc -I/home/u/project2 -c x.c"), false)
            .is_empty());
        assert_eq!(r.seen_by(&argv("ar qc lib.a a.o"), true).len(), 2);
    }
}
