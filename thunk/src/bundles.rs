//! Toolchain bundles: the ~50 files a compiler and what it loads, listed
//! once and named by the hash of the listing, so a thunk names them with one
//! input. A footprint's toolchain list is shared by every compile of a
//! template, so each list is split and bundled once a process, found again
//! by its address. Unaware of which edges use them.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ggninja_store::hash::{ContentHash, Kind};

use rustc_hash::FxHashMap;

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

/// A toolchain list as a thunk names it: the files inside the trees (a
/// compiler the build made) as plain inputs, the rest as one bundle.
pub(crate) struct Toolchain {
    pub local: Vec<String>,
    pub bundle: Option<Arc<NamedBundle>>,
}

/// Toolchains by their list's address, each with the list (held, so no
/// other list takes the address while it is kept).
type ByList = FxHashMap<usize, (Arc<Vec<PathBuf>>, Result<Arc<Toolchain>, String>)>;

/// The bundles made so far, found again by their file lists.
#[derive(Default)]
pub struct Bundles {
    made: Mutex<BundleMap>,
    by_list: Mutex<ByList>,
}

impl Bundles {
    /// The toolchain `list` stands for. System files do not change during
    /// a build (see `HashCache::hash_system`), nor do the roots: a list's
    /// answer holds for the process.
    pub(crate) fn toolchain(
        &self,
        list: &Arc<Vec<PathBuf>>,
        roots: &Roots,
        cache: &HashCache,
    ) -> Result<Arc<Toolchain>, String> {
        let at = Arc::as_ptr(list) as usize;
        if let Some((_, made)) = self.by_list.lock().expect("bundles lock").get(&at) {
            return made.clone();
        }
        let (local, system): (Vec<&PathBuf>, Vec<&PathBuf>) =
            list.iter().partition(|p| roots.is_inside(p));
        let bundle = match system.is_empty() {
            true => Ok(None),
            false => self.get(&system, cache).map(Some),
        };
        let made = bundle.map(|bundle| {
            let local = local.iter().map(|p| p.display().to_string()).collect();
            Arc::new(Toolchain { local, bundle })
        });
        let mut by_list = self.by_list.lock().expect("bundles lock");
        by_list.insert(at, (Arc::clone(list), made.clone()));
        made
    }

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
