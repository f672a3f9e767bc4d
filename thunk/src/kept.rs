//! Each edge's memo key kept between runs with what it rested on, so the
//! key of an unchanged edge is checked instead of made again: making a
//! hit's key (its inputs looked up in the graph, hashed, written as JSON
//! and sorted, the canonical JSON hashed) was two thirds of its CPU.
//!
//! The builder makes a thunk from four things only: the edge's footprint
//! (what the scanner found: program, words, files, toolchain, ...), the
//! graph, the roots, and the bytes of the files the thunk names (its inputs
//! by content, its program, its bundle's files). So a key made by an
//! earlier run is the key the builder would make now when
//! - the run's context is the same: this binary (its version and file),
//!   the roots, and the graph's shape: every file's path and producer,
//!   every build's kind, inputs and outputs, after the scan added the
//!   deps. A graph with a dyndep binding keeps no keys (its shape changes
//!   as the build goes); files the build names later have no producer,
//!   which is how the builder takes a file the graph lacks;
//! - what the scanner finds in the edge's command, scanned now as always
//!   (the scanner checks its own kept walks, templates and toolchain),
//!   digests the same, with the edge's `depfile` and `deps` bindings (the
//!   rest of its footprint is made from those and the graph's shape):
//!   XXH3-128 over every field, each length-prefixed;
//! - every file the key named by content hashes the same now, asked the
//!   way the builder asks (`ThunkBuilder::value_input`, `still_named`: a
//!   system file once a process, a tree file through the run's stats).
//!
//! A key taken so is only good for asking the memo: it carries no JSON and
//! no bundle, and an edge whose key misses has its whole thunk made again
//! before it runs (`Thunks::of`). Ignores offline graphs (`link_outputs`).

use std::collections::hash_map::Entry as MapEntry;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ggninja_footprint::{Effect, Footprint as ScannerFootprint};
use ggninja_graph::{BuildId, Escape, Graph};
use ggninja_store::hash::{ContentHash, Kind};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use crate::builder::EdgeThunk;
use crate::bundles::NamedBundle;
use crate::roots::Roots;

/// The file the keys are kept in, in the saved dir.
pub(crate) const FILE: &str = ".ggninja_keys";
/// Its first bytes; another version's file is ignored.
const MAGIC: &[u8; 8] = b"ggkeys02";

/// A file a key named by content, and the hash it named. `system`: asked
/// as a system file (hashed once a process), else through the run's stats.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Fact {
    pub path: Box<str>,
    pub system: bool,
    /// None: a directory.
    pub hash: Option<Named>,
}

/// A value's hash as saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Named {
    digest: [u8; 32],
    size: u64,
}

impl Named {
    pub(crate) fn of(h: ContentHash) -> Named {
        Named {
            digest: h.digest,
            size: h.size,
        }
    }

    fn hash(self, kind: Kind) -> ContentHash {
        ContentHash {
            kind,
            digest: self.digest,
            size: self.size,
        }
    }
}

/// What a made thunk gives a hit besides its hash.
#[derive(Clone, Serialize, Deserialize)]
struct Served {
    thunk: Named,
    sees: Vec<PathBuf>,
    bytes: u64,
    effects: Vec<Effect>,
    side_outputs: Vec<String>,
}

impl Served {
    fn of(t: &EdgeThunk) -> Served {
        Served {
            thunk: Named::of(t.hash),
            sees: t.sees.clone(),
            bytes: t.bytes,
            effects: t.effects.clone(),
            side_outputs: t.side_outputs.clone(),
        }
    }
}

/// A key made this run, with the facts it rested on.
struct Made {
    footprint: u128,
    facts: Vec<Fact>,
    bundle: Option<Arc<NamedBundle>>,
    result: Served,
}

/// The keys as saved: every fact and bundle once, keys naming them by number.
#[derive(Default, Serialize, Deserialize)]
struct Saved {
    context: u128,
    facts: Vec<Fact>,
    /// Each bundle's hash and its files (facts, hashed as system files).
    bundles: Vec<(Named, Vec<u32>)>,
    keys: Vec<SavedKey>,
}

#[derive(Serialize, Deserialize)]
struct SavedKey {
    edge: BuildId,
    footprint: u128,
    facts: Vec<u32>,
    bundle: Option<u32>,
    result: Served,
}

impl Saved {
    /// Every number in range.
    fn sound(&self) -> bool {
        let fact = |&n: &u32| (n as usize) < self.facts.len();
        let bundle = |n: &Option<u32>| n.is_none_or(|n| (n as usize) < self.bundles.len());
        self.bundles.iter().all(|(_, files)| files.iter().all(fact))
            && self
                .keys
                .iter()
                .all(|k| k.facts.iter().all(fact) && bundle(&k.bundle))
    }
}

/// The keys loaded from the last run and made in this one.
#[derive(Default)]
pub struct KeptKeys {
    loaded: Saved,
    by_edge: FxHashMap<BuildId, usize>,
    /// Whether each loaded system fact and bundle holds, once asked: a
    /// system file is hashed once a process (`HashCache::hash_system`), so
    /// the answer cannot change in it.
    system_holds: Vec<OnceLock<bool>>,
    bundle_holds: Vec<OnceLock<bool>>,
    /// This run's context (None: no keys kept, a dyndep graph), once known.
    context: OnceLock<Option<u128>>,
    made: Mutex<FxHashMap<BuildId, Made>>,
}

impl KeptKeys {
    /// The keys saved in `dir`; none if the file is missing, damaged or
    /// from another version.
    pub(crate) fn load(dir: &Path) -> KeptKeys {
        let loaded = std::fs::read(dir.join(FILE))
            .ok()
            .and_then(|bytes| decode(&bytes))
            .unwrap_or_default();
        let by_edge = (loaded.keys.iter().enumerate())
            .map(|(i, k)| (k.edge, i))
            .collect();
        KeptKeys {
            system_holds: loaded.facts.iter().map(|_| OnceLock::new()).collect(),
            bundle_holds: loaded.bundles.iter().map(|_| OnceLock::new()).collect(),
            loaded,
            by_edge,
            ..KeptKeys::default()
        }
    }

    /// This run's context, made at the first question (the graph's shape
    /// after the scan); None when keys cannot be kept.
    pub(crate) fn context(&self, identity: &str, roots: &Roots, g: &Graph) -> Option<u128> {
        *self.context.get_or_init(|| context_of(identity, roots, g))
    }

    /// The thunk of edge `b` as kept, if its footprint digests to
    /// `footprint` and each fact it rested on still `holds`.
    pub(crate) fn recall(
        &self,
        b: BuildId,
        footprint: u128,
        holds: impl Fn(&Fact) -> bool,
        since_ns: i64,
    ) -> Option<EdgeThunk> {
        let context = (*self.context.get()?)?;
        let saved = &self.loaded;
        let key = &saved.keys[*self.by_edge.get(&b)?];
        if saved.context != context || key.footprint != footprint {
            return None;
        }
        let fact = |n: u32| {
            let (f, once) = (&saved.facts[n as usize], &self.system_holds[n as usize]);
            match f.system {
                true => *once.get_or_init(|| holds(f)),
                false => holds(f),
            }
        };
        if !key.facts.iter().all(|&n| fact(n)) {
            return None;
        }
        if let Some(n) = key.bundle {
            let files = &saved.bundles[n as usize].1;
            let once = &self.bundle_holds[n as usize];
            if !*once.get_or_init(|| files.iter().all(|&f| fact(f))) {
                return None;
            }
        }
        let r = &key.result;
        Some(EdgeThunk {
            hash: r.thunk.hash(Kind::Thunk),
            canonical: String::new(),
            sees: r.sees.clone(),
            bundle: None,
            bytes: r.bytes,
            effects: r.effects.clone(),
            side_outputs: r.side_outputs.clone(),
            since_ns,
        })
    }

    /// Keeps the key the builder made for `b` from a footprint digesting
    /// to `footprint`, resting on `facts` and `t`'s bundle.
    pub(crate) fn made(&self, b: BuildId, footprint: u128, facts: Vec<Fact>, t: &EdgeThunk) {
        let made = Made {
            footprint,
            facts,
            bundle: t.bundle.clone(),
            result: Served::of(t),
        };
        self.made.lock().expect("kept keys lock").insert(b, made);
    }

    /// Saves the loaded keys still good and the ones made, if any was
    /// made; losing them only costs time.
    pub(crate) fn save(&self, dir: &Path) {
        let (Some(&Some(context)), Ok(made)) = (self.context.get(), self.made.lock()) else {
            return;
        };
        if made.is_empty() {
            return;
        }
        let mut out = Interned::default();
        if self.loaded.context == context {
            for k in self
                .loaded
                .keys
                .iter()
                .filter(|k| !made.contains_key(&k.edge))
            {
                out.loaded(&self.loaded, k);
            }
        }
        for (&b, m) in made.iter() {
            out.made(b, m);
        }
        let saved = Saved {
            context,
            ..out.saved
        };
        let _ = write(dir, &saved);
    }
}

/// Builds a `Saved`, each fact and bundle once.
#[derive(Default)]
struct Interned {
    saved: Saved,
    facts: FxHashMap<Fact, u32>,
    bundles: FxHashMap<Named, u32>,
}

impl Interned {
    fn fact(&mut self, f: &Fact) -> u32 {
        let n = self.saved.facts.len() as u32;
        match self.facts.entry(f.clone()) {
            MapEntry::Occupied(e) => *e.get(),
            MapEntry::Vacant(e) => {
                self.saved.facts.push(f.clone());
                *e.insert(n)
            }
        }
    }

    fn bundle(&mut self, hash: Named, files: Vec<Fact>) -> u32 {
        if let Some(&n) = self.bundles.get(&hash) {
            return n;
        }
        let files = files.iter().map(|f| self.fact(f)).collect();
        let n = self.saved.bundles.len() as u32;
        self.saved.bundles.push((hash, files));
        self.bundles.insert(hash, n);
        n
    }

    fn loaded(&mut self, from: &Saved, k: &SavedKey) {
        let facts = k.facts.iter().map(|&n| self.fact(&from.facts[n as usize]));
        let facts = facts.collect();
        let bundle = k.bundle.map(|n| {
            let (hash, files) = &from.bundles[n as usize];
            let files = files.iter().map(|&f| from.facts[f as usize].clone());
            self.bundle(*hash, files.collect())
        });
        self.saved.keys.push(SavedKey {
            edge: k.edge,
            footprint: k.footprint,
            facts,
            bundle,
            result: k.result.clone(),
        });
    }

    fn made(&mut self, b: BuildId, m: &Made) {
        let bundle = m.bundle.as_ref().and_then(|nb| {
            let files: Option<Vec<Fact>> = (nb.bundle.files.iter())
                .map(|f| {
                    let hash = ContentHash::parse(&f.hash)?;
                    let path = f.path.as_str().into();
                    let hash = Some(Named::of(hash));
                    Some(Fact {
                        path,
                        system: true,
                        hash,
                    })
                })
                .collect();
            Some(self.bundle(Named::of(nb.hash), files?))
        });
        // A bundle that did not parse back cannot be checked: not kept.
        if m.bundle.is_some() && bundle.is_none() {
            return;
        }
        let facts = m.facts.iter().map(|f| self.fact(f)).collect();
        self.saved.keys.push(SavedKey {
            edge: b,
            footprint: m.footprint,
            facts,
            bundle,
            result: m.result.clone(),
        });
    }
}

/// The file's bytes: the magic, the payload's XXH3-128, the payload.
fn write(dir: &Path, saved: &Saved) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    let payload = postcard::to_stdvec(saved).map_err(std::io::Error::other)?;
    // Renamed into place; 0666 less the umask, as the other caches.
    let mut tmp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    tmp.write_all(MAGIC)?;
    tmp.write_all(&xxh3_128(&payload).to_le_bytes())?;
    tmp.write_all(&payload)?;
    tmp.persist(dir.join(FILE)).map(drop).map_err(|e| e.error)
}

/// What `write` wrote, if it is whole and sound.
fn decode(bytes: &[u8]) -> Option<Saved> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (sum, payload) = rest.split_first_chunk::<16>()?;
    if u128::from_le_bytes(*sum) != xxh3_128(payload) {
        return None;
    }
    let saved: Saved = postcard::from_bytes(payload).ok()?;
    saved.sound().then_some(saved)
}

/// Feeds `bytes` length-prefixed, so no two field lists digest alike.
fn put(h: &mut Xxh3, bytes: &[u8]) {
    h.update(&(bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// Feeds an optional field, tagged.
fn put_option(h: &mut Xxh3, bytes: Option<&[u8]>) {
    match bytes {
        Some(b) => {
            h.update(&[1]);
            put(h, b);
        }
        None => h.update(&[0]),
    }
}

fn put_all<'a>(h: &mut Xxh3, items: impl ExactSizeIterator<Item = &'a [u8]>) {
    h.update(&(items.len() as u64).to_le_bytes());
    for i in items {
        put(h, i);
    }
}

fn path_bytes(p: &Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes()
}

/// The digest of what the scanner found in edge `b`'s command, every
/// field, and of the bindings `edge_footprint` reads besides the graph's
/// shape; None if a binding or an effect's path does not make text.
pub(crate) fn footprint_digest(g: &Graph, b: BuildId, fp: &ScannerFootprint) -> Option<u128> {
    let mut h = Xxh3::new();
    put(&mut h, &postcard::to_stdvec(&fp.effects).ok()?);
    put_all(&mut h, fp.argv.iter().map(|a| a.as_bytes()));
    h.update(&[fp.kind as u8]);
    put(&mut h, path_bytes(&fp.executable));
    for paths in [
        &fp.sources,
        &fp.headers,
        &fp.absent,
        &fp.toolchain,
        &fp.outputs,
        &fp.patterns,
    ] {
        put_all(&mut h, paths.iter().map(|p| path_bytes(p)));
    }
    h.update(&[u8::from(fp.embeds_cwd)]);
    put_option(&mut h, fp.collation.as_deref().map(str::as_bytes));
    for (name, escape) in [("depfile", Escape::None), ("deps", Escape::Shell)] {
        put(&mut h, g.binding(b, name, escape).ok()?.as_bytes());
    }
    Some(h.digest128())
}

/// The digest of this binary, the roots and the graph's shape; None if a
/// build has a dyndep binding.
fn context_of(identity: &str, roots: &Roots, g: &Graph) -> Option<u128> {
    let mut h = Xxh3::new();
    put(&mut h, identity.as_bytes());
    put(&mut h, path_bytes(&roots.build));
    put_option(&mut h, roots.source.as_deref().map(path_bytes));
    let ids = |ids: &[ggninja_graph::FileId]| {
        let mut bytes = Vec::with_capacity(ids.len() * 4 + 8);
        bytes.extend((ids.len() as u64).to_le_bytes());
        for i in ids {
            bytes.extend((i.index() as u32).to_le_bytes());
        }
        bytes
    };
    for &f in g.file_nodes() {
        let file = g.file(f);
        put(&mut h, g.path(f).as_bytes());
        h.update(&(f.index() as u32).to_le_bytes());
        h.update(&[u8::from(file.generated_by_dep_loader)]);
        let Some(b) = file.in_build else {
            h.update(&[0]);
            continue;
        };
        let build = g.build(b);
        h.update(&[1]);
        h.update(&(b.index() as u32).to_le_bytes());
        if build.outs.first() != Some(&f) {
            continue;
        }
        if build.dyndep.is_some() {
            return None;
        }
        let flags = [
            u8::from(g.is_phony(b)),
            u8::from(build.generated_by_dep_loader),
        ];
        h.update(&flags);
        let counts = [
            build.implicit_ins,
            build.order_only_ins,
            build.implicit_outs,
        ];
        for c in counts {
            h.update(&c.to_le_bytes());
        }
        h.update(&ids(&build.ins));
        h.update(&ids(&build.outs));
    }
    Some(h.digest128())
}

#[cfg(test)]
#[path = "kept_test.rs"]
mod tests;
