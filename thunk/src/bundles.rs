//! Toolchain bundles: the ~50 files a compiler and what it loads, listed
//! once and named by the hash of the listing, so a thunk names them with one
//! input. Unaware of which edges use them.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ggninja_store::hash::{ContentHash, Kind};

use crate::hash_cache::HashCache;
use crate::ir::{Bundle, BundleFile};

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

/// The bundles made so far, found again by their file lists.
#[derive(Default)]
pub struct Bundles {
    made: Mutex<BundleMap>,
}

impl Bundles {
    /// The bundle of `files` (absolute system paths), hashing each once.
    pub(crate) fn get(
        &self,
        files: &[&PathBuf],
        cache: &HashCache,
    ) -> Result<Arc<NamedBundle>, String> {
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
