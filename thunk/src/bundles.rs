//! Bundles: the files many thunks share outside the build and source
//! trees, listed once and named by the hash of the listing, so a thunk
//! names them with one input. A compile's bundle is its toolchain (the ~50
//! files a compiler and what it loads) and the system headers it includes
//! (a hundred under /usr/include for a C file): the compiles of one
//! target share the first by address and mostly the second by content,
//! so each pair is split and bundled once a process. Unaware of which
//! edges use them.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ggninja_graph::Graph;
use ggninja_store::hash::{ContentHash, Kind};

use rustc_hash::{FxHashMap, FxHasher};

use crate::hash_cache::HashCache;
use crate::ir::{Bundle, BundleFile};
use crate::roots::Roots;

/// A bundle with its name (a value hash over its canonical JSON).
#[derive(Debug)]
pub struct NamedBundle {
    pub hash: ContentHash,
    pub bundle: Bundle,
    /// Its files' bytes in all.
    pub bytes: u64,
}

/// Bundles by a hash of their file lists (each bucket: list, bundle).
type BundleMap = HashMap<u64, Vec<(Vec<PathBuf>, Arc<NamedBundle>)>>;

/// What a thunk names of a toolchain list and a system header list: the
/// files inside the trees (a compiler the build made) and the system files
/// an edge writes or a phony target stands for, as plain inputs; the rest
/// as one bundle.
pub(crate) struct Shared {
    pub local: Vec<String>,
    pub bundle: Option<Arc<NamedBundle>>,
}

/// Made pairs by (toolchain list's address, system list's hash), each with
/// the toolchain list (held, so no other list takes the address while it
/// is kept) and the system list.
type ByLists = FxHashMap<
    (usize, u64),
    Vec<(
        Arc<Vec<PathBuf>>,
        Box<[String]>,
        Result<Arc<Shared>, String>,
    )>,
>;

/// The bundles made so far, found again by their file lists.
#[derive(Default)]
pub struct Bundles {
    made: Mutex<BundleMap>,
    by_lists: Mutex<ByLists>,
}

impl Bundles {
    /// What `toolchain` and `system` (sorted absolute paths outside the
    /// roots) stand for. System files do not change during a build (see
    /// `HashCache::hash_system`), nor do the roots, nor which edges write
    /// what: a pair's answer holds for the process.
    pub(crate) fn shared(
        &self,
        toolchain: &Arc<Vec<PathBuf>>,
        system: &[String],
        g: &Graph,
        roots: &Roots,
        cache: &HashCache,
    ) -> Result<Arc<Shared>, String> {
        let mut h = FxHasher::default();
        system.hash(&mut h);
        let key = (Arc::as_ptr(toolchain) as usize, h.finish());
        let found = |m: &ByLists| {
            let mut bucket = m.get(&key)?.iter();
            bucket.find(|(_, s, _)| **s == *system).map(|e| e.2.clone())
        };
        if let Some(made) = found(&self.by_lists.lock().expect("bundles lock")) {
            return made;
        }
        let made = self.split(toolchain, system, g, roots, cache);
        let mut by_lists = self.by_lists.lock().expect("bundles lock");
        let entry = (Arc::clone(toolchain), system.into(), made.clone());
        by_lists.entry(key).or_default().push(entry);
        made
    }

    fn split(
        &self,
        toolchain: &[PathBuf],
        system: &[String],
        g: &Graph,
        roots: &Roots,
        cache: &HashCache,
    ) -> Result<Arc<Shared>, String> {
        let (inside, mut bundled): (Vec<&Path>, Vec<&Path>) = (toolchain.iter())
            .map(PathBuf::as_path)
            .partition(|p| roots.is_inside(p));
        let mut local: Vec<String> = inside.iter().map(|p| p.display().to_string()).collect();
        // Written by an edge, or a phony target's (not one the deps log
        // gave it): the builder's own rules name it.
        let named = |s: &String| {
            let p = g.lookup(s).and_then(|n| g.file(n).in_build);
            p.is_some_and(|p| !g.build(p).generated_by_dep_loader)
        };
        for s in system {
            match named(s) {
                true => local.push(s.clone()),
                false => bundled.push(Path::new(s)),
            }
        }
        let bundle = match bundled.is_empty() {
            true => None,
            false => Some(self.get(&bundled, cache)?),
        };
        Ok(Arc::new(Shared { local, bundle }))
    }

    /// The bundle of `files` (absolute system paths), hashing each once.
    fn get(&self, files: &[&Path], cache: &HashCache) -> Result<Arc<NamedBundle>, String> {
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
                .ok_or_else(|| format!("system file '{}' cannot be read", f.display()))?;
            entries.push(BundleFile {
                path: f.display().to_string(),
                hash: hash.to_string(),
            });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries.dedup();
        let bundle = Bundle { files: entries };
        let canonical = serde_json::to_string(&bundle).expect("bundles always serialize");
        let bytes = (bundle.files.iter())
            .filter_map(|f| ContentHash::parse(&f.hash))
            .map(|h| h.size)
            .sum();
        let named = Arc::new(NamedBundle {
            hash: ContentHash::of(Kind::Value, canonical.as_bytes()),
            bundle,
            bytes,
        });
        let mut made = self.made.lock().expect("bundles lock");
        if let Some(b) = found(&made) {
            return Ok(b);
        }
        made.entry(key).or_default().push((
            files.iter().map(|&f| f.to_path_buf()).collect(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A toolchain and the system headers of a compile are one bundle,
    /// made once a process for each pair; a system path an edge writes
    /// stays a plain input, and a different header list is another bundle.
    #[test]
    fn a_toolchain_and_its_system_headers_are_one_bundle() {
        let d = tempfile::tempdir().unwrap();
        let file = |name: &str| {
            let p = d.path().join(name);
            std::fs::write(&p, name).unwrap();
            p.display().to_string()
        };
        let (cc1, stdio, gen) = (file("cc1"), file("stdio.h"), file("gen.h"));
        let text = format!("rule r\n  command = true\nbuild {gen}: r\n");
        let options = ggninja_importer::Options::default();
        let parsed = ggninja_importer::parse_str("build.ninja", text.as_bytes(), &options);
        let g = parsed.expect("test manifest parses").graph;
        let roots = Roots::new(d.path().join("build"), None);
        let (bundles, cache) = (Bundles::default(), HashCache::default());
        let toolchain = Arc::new(vec![PathBuf::from(&cc1)]);
        let shared =
            |system: &[String]| (bundles.shared(&toolchain, system, &g, &roots, &cache)).unwrap();
        let both = shared(&[gen.clone(), stdio.clone()]);
        assert_eq!(both.local, std::slice::from_ref(&gen));
        let listed = |s: &Shared| -> Vec<String> {
            let b = s.bundle.as_ref().unwrap();
            b.bundle.files.iter().map(|f| f.path.clone()).collect()
        };
        assert_eq!(listed(&both), [cc1.clone(), stdio.clone()]);
        assert!(Arc::ptr_eq(&both, &shared(&[gen.clone(), stdio.clone()])));
        let alone = shared(&[]);
        assert_eq!(listed(&alone), [cc1]);
        assert!(alone.local.is_empty());
        assert_ne!(
            alone.bundle.as_ref().unwrap().hash,
            both.bundle.as_ref().unwrap().hash
        );
    }
}
