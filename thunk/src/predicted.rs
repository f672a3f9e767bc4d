//! Files as a build is predicted to leave them before it runs (`-t
//! simulate`'s cache prediction): each output of an edge predicted to hit
//! the memo by the hash its memoized result names, each output of an edge
//! that must run first as unknown. Consulted before the disk: an output
//! left by an older build must not name an input the build would replace.
//! Ignores how predictions are made.

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use ggninja_store::hash::ContentHash;
use rustc_hash::FxHashMap;

/// Predicted files by real path: Some(hash), or None for unknown.
#[derive(Debug, Default)]
pub struct Predicted {
    files: RwLock<FxHashMap<PathBuf, Option<ContentHash>>>,
}

impl Predicted {
    pub fn set(&self, path: PathBuf, hash: Option<ContentHash>) {
        self.files
            .write()
            .expect("predicted files")
            .insert(path, hash);
    }

    /// Leaves `path` to the disk again.
    pub fn forget(&self, path: &Path) {
        self.files.write().expect("predicted files").remove(path);
    }

    /// Some(prediction) when `path` is predicted.
    pub(crate) fn get(&self, path: &Path) -> Option<Option<ContentHash>> {
        self.files
            .read()
            .expect("predicted files")
            .get(path)
            .copied()
    }
}
