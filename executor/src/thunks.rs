//! Each edge as a thunk, for memoized and sandboxed execution: the
//! footprint scanner, the roots, and the file hash cache a build keeps.

use std::path::{Path, PathBuf};

use ggninja_footprint::Scanner;
use ggninja_graph::hash::HashCache;
pub use ggninja_graph::thunk::EdgeThunk;
use ggninja_graph::thunk::{edge_footprint, Bundles, Entry, Roots, ThunkBuilder};
use ggninja_graph::{Escape, Graph, NodeId};

pub struct Thunks {
    scanner: Scanner,
    pub roots: Roots,
    hashes: HashCache,
    /// Where the caches are kept between builds (the `builddir`).
    saved_dir: PathBuf,
    bundles: Bundles,
}

impl Thunks {
    /// `saved_dir` holds the file hash cache (`.ggninja_hashes`) and the
    /// scanner's saved answers.
    pub fn open(build_dir: &Path, saved_dir: &Path) -> Thunks {
        let scanner = Scanner::new();
        let hashes = std::thread::scope(|s| {
            s.spawn(|| scanner.load_saved(saved_dir));
            HashCache::load(&saved_dir.join(".ggninja_hashes"))
        });
        Thunks {
            scanner,
            roots: Roots::detect(build_dir),
            hashes,
            saved_dir: saved_dir.to_path_buf(),
            bundles: Bundles::default(),
        }
    }

    /// The thunk of `b` (every input named by its current content), or
    /// why it must run locally. Inputs are named by
    /// content, not by their producers: an identical object from a changed
    /// source then still hits downstream.
    pub fn of(&self, g: &Graph, b: NodeId) -> Result<EdgeThunk, String> {
        // Edges finished since the last call may have generated headers.
        self.scanner.invalidate();
        let cwd = self.roots.build.clone();
        let scan = |g: &Graph, b: NodeId| edge_footprint(&self.scanner, &cwd, g, b);
        let (roots, bundles) = (&self.roots, &self.bundles);
        let mut tb = ThunkBuilder::new(g, roots, &self.hashes, bundles, &scan, false);
        tb.build(b);
        match tb.done.remove(&b) {
            Some(Entry::Thunk(t)) => Ok(*t),
            Some(Entry::LocalOnly(why)) => Err(why),
            None => Err("phony".to_string()),
        }
    }

    /// Keeps the file hashes and the scanner's answers for the next build;
    /// losing them only costs time.
    pub fn save_caches(&self) {
        let _ = self.hashes.save(&self.saved_dir.join(".ggninja_hashes"));
        let _ = self.scanner.save(&self.saved_dir);
    }
}

/// The files an edge leaves behind: its outputs and its depfile.
pub(crate) fn produced(g: &Graph, b: NodeId) -> Vec<String> {
    let mut files: Vec<String> = g
        .build(b)
        .outs
        .iter()
        .map(|&o| g.path(o).to_string())
        .collect();
    let depfile = g.binding(b, "depfile", Escape::None).unwrap_or_default();
    if !depfile.is_empty() {
        files.push(depfile);
    }
    files
}
