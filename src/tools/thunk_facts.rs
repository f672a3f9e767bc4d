//! What `-t simulate` learns from each edge's thunk before anything runs,
//! handed to the analysis crate as plain per-edge facts: which edges the
//! build would restore instead of running — from the local store
//! (`--cache`) and, for `--remote lambda`, the S3 memo (each memo key as
//! the build would make it, in dependency order, outputs of predicted hits
//! named by their memoized hashes and those of misses unknown) — and for
//! `--remote lambda` which edges would run remotely, the in-root input
//! objects each needs up and the bytes of what comes back. Ignores what
//! the bucket holds besides the memo (the model uploads every object once)
//! and `--remote-download=toplevel` (everything comes back).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use ggninja_analysis::forecast::{CacheFacts, Known, RemoteFacts};
use ggninja_analysis::remote::{Lambda, RemoteEdge};
use ggninja_analysis::Work;
use ggninja_executor::Engine;
use ggninja_graph::{BuildId, Escape, FileId, Graph, CONSOLE_POOL};
use ggninja_store::hash::ContentHash;
use ggninja_store::Store;
use ggninja_thunk::placement::{is_in_root, stays_local};
use ggninja_thunk::{produced, Entry, Predicted, Source, ThunkBuilder, Thunks};

use crate::context::App;
use crate::remote::{Outputs, RemoteMemo};

/// The facts for building `targets`: the cache prediction when the store
/// (`--cache`) is given, the remote footprints with `lambda`.
pub fn known(
    app: &App,
    e: &Engine,
    targets: &[FileId],
    lambda: Option<Lambda>,
) -> Result<Known, String> {
    let g = &e.graph;
    if app.store.is_none() && lambda.is_none() {
        return Ok(Known::default());
    }
    let work = Work::needed(g, targets).map_err(|err| err.to_string())?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let thunks = Thunks::open(&cwd, &PathBuf::from(g.in_builddir("")));
    // Offline, with outputs linked: no file need exist yet. Before the
    // prediction, which replaces outputs by what it predicts.
    let footprints = lambda.map(|_| remote_footprints(g, &thunks, &work.edges));
    let mut memo_sizes = HashMap::new();
    let sources = Sources::open(app, lambda.is_some());
    let cache =
        (!sources.is_empty()).then(|| predict(app, g, &thunks, &work, &sources, &mut memo_sizes));
    thunks.save_caches();
    let remote = lambda
        .zip(footprints)
        .map(|(lambda, f)| f.facts(lambda, &memo_sizes));
    Ok(Known { cache, remote })
}

/// Whether a build would make the edge's thunk (the build's own rule: not
/// in the console, not a generator; phony edges have none).
fn has_thunk(g: &Graph, b: BuildId) -> bool {
    !g.is_phony(b) && g.build(b).pool != CONSOLE_POOL && !g.binding_bool(b, "generator")
}

/// Each edge's level: one past the highest of the edges it waits for.
fn levels(work: &Work) -> Vec<Vec<BuildId>> {
    let mut level = vec![0usize; work.edges.len()];
    let mut levels: Vec<Vec<BuildId>> = Vec::new();
    for (i, deps) in work.deps.iter().enumerate() {
        level[i] = deps.iter().map(|&d| level[d] + 1).max().unwrap_or(0);
        if levels.len() <= level[i] {
            levels.resize_with(level[i] + 1, Vec::new);
        }
        levels[level[i]].push(work.edges[i]);
    }
    levels
}

/// The edges whose memo keys, as the build would make them, the store
/// holds a complete result for. A level at a time, so every producer is
/// predicted before what reads it; `sizes` gets each hit output's size.
fn predict(
    app: &App,
    g: &Graph,
    thunks: &Thunks,
    work: &Work,
    sources: &Sources,
    sizes: &mut HashMap<PathBuf, u64>,
) -> CacheFacts {
    let predicted = Arc::new(Predicted::default());
    let roots = &thunks.roots;
    for &b in work.edges.iter().filter(|&&b| has_thunk(g, b)) {
        for f in produced(g, b) {
            predicted.set(roots.host_path(&f), None);
        }
    }
    thunks.set_predicted(Arc::clone(&predicted));
    // Files whose content only running an edge tells: outputs of misses
    // and of everything reading them (every input kind counts: a thunk
    // names order-only inputs and what phony targets stand for too).
    let mut unknown: HashSet<FileId> = HashSet::new();
    let mut hits = HashSet::new();
    thunks.with_builder(g, false, |tb| {
        for level in levels(work) {
            let (tainted, known): (Vec<BuildId>, Vec<BuildId>) = (level.into_iter())
                .partition(|&b| g.build(b).ins.iter().any(|i| unknown.contains(i)));
            unknown.extend(
                tainted
                    .iter()
                    .flat_map(|&b| g.build(b).outs.iter().copied()),
            );
            let batch: Vec<BuildId> = known.into_iter().filter(|&b| has_thunk(g, b)).collect();
            tb.build_all(&batch, None);
            let keyed: Vec<(BuildId, ContentHash)> = (batch.iter())
                .filter_map(|&b| match tb.done.get(&b) {
                    Some(Entry::Thunk(t)) => Some((b, t.memo_key())),
                    _ => None,
                })
                .collect();
            let keys: Vec<ContentHash> = keyed.iter().map(|&(_, k)| k).collect();
            let mut found = sources.find(app, &keys).into_iter();
            for b in batch {
                let Some(Entry::Thunk(_)) = tb.done.get(&b) else {
                    // Made here without a thunk from known inputs: what it
                    // writes is read from the disk, as if it wrote the
                    // same again.
                    for f in produced(g, b) {
                        predicted.forget(&roots.host_path(&f));
                    }
                    continue;
                };
                match found.next().flatten() {
                    Some(outputs) => {
                        for (real, hash) in
                            outputs.into_iter().map(|(p, h)| (roots.real_path(&p), h))
                        {
                            sizes.insert(real.clone(), hash.size);
                            predicted.set(real, Some(hash));
                        }
                        hits.insert(b);
                    }
                    None => unknown.extend(g.build(b).outs.iter().copied()),
                }
            }
        }
        forget_thunks(tb);
    });
    CacheFacts {
        store: sources.describe(),
        hits,
    }
}

/// Where the build would find results: the local store (`--cache`), in
/// front, and the S3 memo (`--remote lambda`) behind it.
struct Sources {
    local: Option<(Store, PathBuf)>,
    remote: Option<Box<dyn RemoteMemo>>,
    /// The S3 memo failed once: misses from then on.
    remote_failed: std::cell::Cell<bool>,
}

impl Sources {
    /// The sources a build with these flags would use; one that cannot be
    /// opened is a warning.
    fn open(app: &App, remote: bool) -> Sources {
        let local = app.store.as_ref().and_then(|root| match Store::open(root) {
            Ok(store) => Some((store, root.clone())),
            Err(err) => {
                app.warning(&format!("cache prediction off: {}: {err}", root.display()));
                None
            }
        });
        let remote = remote
            .then(|| crate::remote::memo_reader(app))
            .and_then(|r| {
                r.map_err(|why| app.warning(&format!("the S3 memo is not asked: {why}")))
                    .ok()
            });
        Sources {
            local,
            remote,
            remote_failed: Default::default(),
        }
    }

    fn is_empty(&self) -> bool {
        self.local.is_none() && self.remote.is_none()
    }

    fn describe(&self) -> String {
        let local =
            (self.local.as_ref()).map(|(_, root)| format!("local store {}", root.display()));
        let remote = (self.remote.as_ref()).map(|r| format!("S3 memo {}", r.location()));
        local
            .into_iter()
            .chain(remote)
            .collect::<Vec<_>>()
            .join(", then ")
    }

    /// For each key, the outputs of a result the build would restore: a
    /// complete one in the local store, else an entry of the S3 memo
    /// (asked for all the local misses at once).
    fn find(&self, app: &App, keys: &[ContentHash]) -> Vec<Option<Outputs>> {
        let mut found: Vec<Option<Outputs>> = match &self.local {
            Some((store, _)) => keys.iter().map(|k| complete_memo(store, k)).collect(),
            None => vec![None; keys.len()],
        };
        let Some(remote) = self.remote.as_ref().filter(|_| !self.remote_failed.get()) else {
            return found;
        };
        let asked: Vec<usize> = (0..keys.len()).filter(|&i| found[i].is_none()).collect();
        let ask: Vec<ContentHash> = asked.iter().map(|&i| keys[i]).collect();
        match remote.outputs(&ask) {
            Ok(answers) => {
                for (i, a) in asked.into_iter().zip(answers) {
                    found[i] = a;
                }
            }
            Err(why) => {
                app.warning(&format!("the S3 memo could not be read: {why}"));
                self.remote_failed.set(true);
            }
        }
        found
    }
}

/// The outputs (thunk paths, hashes) of a memo entry whose every object
/// the store holds: a hit, as the build's restore would find it.
fn complete_memo(store: &Store, key: &ContentHash) -> Option<Outputs> {
    let memo = store.memo_get(key)?;
    let complete = memo.objects().all(|h| store.contains(h));
    complete.then(|| memo.outputs.into_iter().map(|o| (o.path, o.hash)).collect())
}

/// Left to the OS, like the graph (see app's `exit_without_freeing`).
fn forget_thunks(tb: &mut ThunkBuilder) {
    std::mem::forget(std::mem::take(&mut tb.done));
}

/// The edges that would run remotely, as the remote engine places them.
struct Footprints {
    edges: HashMap<BuildId, Moves>,
}

/// What one remote edge moves.
struct Moves {
    /// Its in-root input objects (their hashes carry their sizes).
    objects: Vec<ContentHash>,
    /// The real paths of what comes back: its outputs, then its depfile.
    outputs: Vec<PathBuf>,
    depfile: Option<PathBuf>,
}

/// Every edge's thunk made offline (outputs linked to their producers'
/// thunks: those are up already, the function put them there).
fn remote_footprints(g: &Graph, thunks: &Thunks, edges: &[BuildId]) -> Footprints {
    let candidates: Vec<BuildId> = edges.iter().copied().filter(|&b| has_thunk(g, b)).collect();
    let mut remote = HashMap::new();
    thunks.with_builder(g, true, |tb| {
        tb.build_all(&candidates, None);
        for &b in &candidates {
            let Some(Entry::Thunk(t)) = tb.done.get(&b) else {
                continue;
            };
            let thunk = t.thunk();
            if stays_local(&thunk.function.argv, &t.side_outputs).is_some() {
                continue;
            }
            let objects = (thunk.inputs.iter())
                .filter(|i| is_in_root(&i.path))
                .filter_map(|i| match &i.source {
                    Source::Value { hash } => ContentHash::parse(hash),
                    _ => None,
                })
                .collect();
            let real = |f: &str| thunks.roots.host_path(f);
            let outputs = g.build(b).outs.iter().map(|&o| real(g.path(o))).collect();
            let depfile = g.binding(b, "depfile", Escape::None).unwrap_or_default();
            let depfile = (!depfile.is_empty()).then(|| real(&depfile));
            let moves = Moves {
                objects,
                outputs,
                depfile,
            };
            remote.insert(b, moves);
        }
        forget_thunks(tb);
    });
    Footprints { edges: remote }
}

impl Footprints {
    /// Object ids, and output sizes from the disk, else from the memo. A
    /// depfile neither holds was read into the deps log and deleted
    /// (`deps = gcc`): small, counted as 0 and not as unknown.
    fn facts(self, lambda: Lambda, memo_sizes: &HashMap<PathBuf, u64>) -> RemoteFacts {
        let mut ids: HashMap<ContentHash, usize> = HashMap::new();
        let mut unknown = 0;
        let mut edges = HashMap::new();
        let size = |path: &PathBuf| {
            let on_disk = std::fs::metadata(path).ok().map(|m| m.len());
            on_disk.or_else(|| memo_sizes.get(path).copied())
        };
        for (b, moves) in self.edges {
            let uploads = (moves.objects.into_iter())
                .map(|h| {
                    let next = ids.len();
                    (*ids.entry(h).or_insert(next), h.size)
                })
                .collect();
            let mut down_bytes = moves.depfile.as_ref().and_then(size).unwrap_or(0);
            for path in &moves.outputs {
                match size(path) {
                    Some(n) => down_bytes += n,
                    None => unknown += 1,
                }
            }
            edges.insert(
                b,
                RemoteEdge {
                    uploads,
                    down_bytes,
                },
            );
        }
        RemoteFacts {
            lambda,
            edges,
            objects: ids.len(),
            unknown_output_sizes: unknown,
        }
    }
}
