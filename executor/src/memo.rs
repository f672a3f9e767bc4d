//! Memoized execution (`--cache`): before an edge runs, its thunk is looked
//! up in the store; on a hit its outputs are restored instead of running
//! the command. Any trouble with the cache turns it off with a warning,
//! never fails or corrupts the build.

use std::path::{Path, PathBuf};

use ggninja_footprint::Scanner;
use ggninja_graph::hash::{ContentHash, HashCache, Kind};
use ggninja_graph::thunk::{edge_footprint, Entry, Roots, ThunkBuilder};
use ggninja_graph::{Escape, Graph, NodeId};

use std::os::unix::fs::PermissionsExt;

use crate::store::{Memo, MemoOutput, Store};

pub struct Memoizer {
    store: Store,
    scanner: Scanner,
    roots: Roots,
    hashes: HashCache,
    hashes_path: PathBuf,
}

impl Memoizer {
    /// `hashes_path` is the build dir's file hash cache.
    pub fn open(
        store_root: &Path,
        build_dir: &Path,
        hashes_path: PathBuf,
    ) -> std::io::Result<Memoizer> {
        Ok(Memoizer {
            store: Store::open(store_root)?,
            scanner: Scanner::new(),
            roots: Roots::detect(build_dir),
            hashes: HashCache::load(&hashes_path),
            hashes_path,
        })
    }

    /// The memo key of `b`: its thunk with every input named by content,
    /// plus the real build and source roots. Commands do not run under the
    /// canonical root yet, so outputs can embed these paths (debug info,
    /// `__FILE__`); keying on them keeps a hit from another checkout from
    /// restoring someone else's paths (ccache without `base_dir`).
    /// Err: the edge is local-only, with the reason.
    pub fn key(&self, g: &Graph, b: NodeId) -> Result<ContentHash, String> {
        let cwd = self.roots.build.clone();
        let scan = |g: &Graph, b: NodeId| edge_footprint(&self.scanner, &cwd, g, b);
        let mut tb = ThunkBuilder {
            graph: g,
            roots: &self.roots,
            cache: &self.hashes,
            scan: &scan,
            done: Default::default(),
            link_outputs: false,
        };
        tb.build(b);
        match tb.done.remove(&b) {
            Some(Entry::Thunk { hash, .. }) => {
                let source = self.roots.source.as_deref().unwrap_or(Path::new(""));
                let key = format!(
                    "{hash}\0{}\0{}",
                    self.roots.build.display(),
                    source.display()
                );
                Ok(ContentHash::of(Kind::Thunk, key.as_bytes()))
            }
            Some(Entry::LocalOnly(why)) => Err(why),
            None => Err("phony".to_string()),
        }
    }

    /// The files an edge leaves behind: its outputs and its depfile.
    fn produced(&self, g: &Graph, b: NodeId) -> Vec<String> {
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

    fn real(&self, path: &str) -> PathBuf {
        if Path::new(path).is_relative() {
            self.roots.build.join(path)
        } else {
            PathBuf::from(path)
        }
    }

    /// Restores a memoized result. Ok(false): not memoized (or an object
    /// was missing or corrupt), and nothing was written.
    pub fn restore(&self, g: &Graph, b: NodeId, key: &ContentHash) -> std::io::Result<bool> {
        let Some(memo) = self.store.memo_get(key) else {
            return Ok(false);
        };
        let depfile = g.binding(b, "depfile", Escape::None).unwrap_or_default();
        // Fetch (and verify) everything before writing anything.
        let mut files = Vec::new();
        for o in &memo.outputs {
            let Some(data) = self.store.get(&o.hash) else {
                return Ok(false);
            };
            let real = self.roots.real_path(&o.path);
            let is_depfile = !depfile.is_empty() && real == self.real(&depfile);
            let data = if is_depfile {
                self.roots
                    .unrewrite(&String::from_utf8_lossy(&data))
                    .into_bytes()
            } else {
                data
            };
            files.push((real, data, o.mode));
        }
        for (real, data, mode) in files {
            if let Some(dir) = real.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = real.with_extension("ggninja-restore");
            std::fs::write(&tmp, &data)?;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
            std::fs::rename(&tmp, &real)?;
        }
        Ok(true)
    }

    /// Stores what a successful run of `b` produced under `key`.
    pub fn record(&self, g: &Graph, b: NodeId, key: &ContentHash) -> std::io::Result<()> {
        let depfile = g.binding(b, "depfile", Escape::None).unwrap_or_default();
        let mut outputs = Vec::new();
        for f in self.produced(g, b) {
            let real = self.real(&f);
            let (data, mode) =
                match std::fs::read(&real).and_then(|d| Ok((d, std::fs::metadata(&real)?))) {
                    Ok((d, meta)) => (d, meta.permissions().mode() & 0o7777),
                    // A depfile the command did not write is not an output.
                    Err(e) if f == depfile && e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
            // Depfiles name paths: store them relative to the canonical root.
            let data = if f == depfile {
                self.roots
                    .rewrite(&String::from_utf8_lossy(&data))
                    .into_bytes()
            } else {
                data
            };
            outputs.push(MemoOutput {
                path: self.roots.virtual_path(&f),
                hash: self.store.put(&data)?,
                mode,
            });
        }
        self.store.memo_put(key, &Memo { outputs })
    }

    /// Keeps the file hashes for the next build; losing them only costs time.
    pub fn save_hashes(&self) {
        let _ = self.hashes.save(&self.hashes_path);
    }
}
