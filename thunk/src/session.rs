//! One run's thunk-making state: the footprint scanner, the roots, the file
//! hash cache and the bundles, opened from and saved to the build dir in
//! one place. The build path (`of`: an edge at the moment it would start)
//! and the offline tools (`with_builder` over the whole graph) both use it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

use ggninja_footprint::Scanner;
use ggninja_graph::{BuildId, Graph};
use ggninja_store::hash::ContentHash;

use crate::builder::{EdgeThunk, Entry, ThunkBuilder};
use crate::bundles::Bundles;
use crate::hash_cache::HashCache;
use crate::ir::Source;
use crate::kept::KeptKeys;
use crate::known_inputs::KnownInputs;
use crate::roots::Roots;
use crate::scan::scan_edge;

/// The file holding the hash cache, in the saved dir.
const HASHES: &str = ".ggninja_hashes";

pub struct Thunks {
    pub roots: Roots,
    /// Where the caches are kept between runs (the `builddir`).
    saved_dir: PathBuf,
    bundles: Bundles,
    known: KnownInputs,
    caches: Caches,
    /// The binary's identity, once keys are to be kept between runs
    /// (`keep_keys`).
    identity: OnceLock<String>,
}

/// The scanner, the file hash cache and the kept keys, with what earlier
/// runs saved.
struct Loaded {
    scanner: Scanner,
    hashes: HashCache,
    kept: KeptKeys,
}

/// The caches, loaded on a thread of their own while the build loads its
/// logs and scans the graph, and waited for by the first thunk: in a
/// rebuild of a few edges, loading them first held up the scan.
struct Caches {
    loading: Mutex<Option<JoinHandle<Loaded>>>,
    loaded: OnceLock<Loaded>,
}

impl Caches {
    fn load(saved_dir: &Path) -> Caches {
        // Made here: the scanner's racy-stamp rule counts from its making.
        let scanner = Scanner::new();
        let dir = saved_dir.to_path_buf();
        let thread = std::thread::Builder::new().name("ggninja-caches".into());
        let (loading, loaded) = match thread.spawn(move || Loaded::read(scanner, &dir)) {
            Ok(handle) => (Some(handle), OnceLock::new()),
            Err(_) => {
                let loaded = Loaded::read(Scanner::new(), saved_dir);
                (None, OnceLock::from(loaded))
            }
        };
        Caches {
            loading: Mutex::new(loading),
            loaded,
        }
    }

    fn get(&self) -> &Loaded {
        self.loaded.get_or_init(|| {
            let handle = self.loading.lock().unwrap().take();
            let handle = handle.expect("the caches are loaded once");
            handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }
}

impl Loaded {
    /// Loads the file hash cache, the scanner's saved answers and the
    /// kept keys from `saved_dir`, in parallel; missing or damaged ones
    /// start empty.
    fn read(scanner: Scanner, saved_dir: &Path) -> Loaded {
        let (hashes, kept) = std::thread::scope(|s| {
            s.spawn(|| scanner.load_saved(saved_dir));
            let kept = s.spawn(|| KeptKeys::load(saved_dir));
            let hashes = HashCache::load(&saved_dir.join(HASHES));
            (hashes, kept.join().unwrap_or_default())
        });
        hashes.set_run_stats(scanner.run_stats());
        Loaded {
            scanner,
            hashes,
            kept,
        }
    }
}

impl Thunks {
    /// Starts loading the caches saved in `saved_dir` (see [`Caches`]).
    pub fn open(build_dir: &Path, saved_dir: &Path) -> Thunks {
        Thunks {
            roots: Roots::detect(build_dir),
            saved_dir: saved_dir.to_path_buf(),
            bundles: Bundles::default(),
            known: KnownInputs::default(),
            caches: Caches::load(saved_dir),
            identity: OnceLock::new(),
        }
    }

    /// Keeps each edge's memo key between runs of the binary `identity`
    /// (its version and file), and takes them where they still hold
    /// (`kept`). Only for a build whose thunks go to the memo first: a
    /// kept key carries no JSON, and the memo makes a missed edge's thunk
    /// again (`of`) before it runs.
    pub fn keep_keys(&self, identity: String) {
        let _ = self.identity.set(identity);
    }

    fn scanner(&self) -> &Scanner {
        &self.caches.get().scanner
    }

    fn hashes(&self) -> &HashCache {
        &self.caches.get().hashes
    }

    /// Runs `f` with a thunk builder over `g`. `link_outputs`: name produced
    /// inputs by their producer's thunk (a self-contained graph, offline) or
    /// by their current content (the memo key at build time).
    pub fn with_builder<T>(
        &self,
        g: &Graph,
        link_outputs: bool,
        f: impl FnOnce(&mut ThunkBuilder) -> T,
    ) -> T {
        self.builder(g, link_outputs, None, f)
    }

    /// `with_builder`, taking and keeping `kept` keys.
    fn builder<T>(
        &self,
        g: &Graph,
        link_outputs: bool,
        kept: Option<&KeptKeys>,
        f: impl FnOnce(&mut ThunkBuilder) -> T,
    ) -> T {
        let scan = |g: &Graph, b: BuildId| scan_edge(self.scanner(), &self.roots, g, b);
        let (roots, hashes, bundles) = (&self.roots, self.hashes(), &self.bundles);
        let known = &self.known;
        let mut tb = ThunkBuilder::new(g, roots, hashes, bundles, known, &scan, link_outputs);
        tb.kept = kept;
        f(&mut tb)
    }

    /// The thunk of `b` (every input named by its current content), made
    /// whole (never a kept key), or why it must run locally. Inputs are
    /// named by content, not by their producers: an identical object from
    /// a changed source then still hits downstream.
    pub fn of(&self, g: &Graph, b: BuildId) -> Result<EdgeThunk, String> {
        let mut made = self.made(g, &[b], false);
        made.pop()
            .map_or_else(|| Err("phony".to_string()), |(_, t)| t)
    }

    /// `of` for several edges whose inputs are all there (ready to start),
    /// made in parallel, in the order given, or their keys as kept (see
    /// `keep_keys`). Made now or when each starts, a ready edge's thunk is
    /// the same: what it reads is done, and a file it would read that an
    /// edge not ordered before it writes keeps it local either way.
    pub fn of_ready(
        &self,
        g: &Graph,
        edges: &[BuildId],
    ) -> Vec<(BuildId, Result<EdgeThunk, String>)> {
        self.made(g, edges, true)
    }

    /// The thunks of `edges`, or (`kept`) their keys as kept where they
    /// hold.
    fn made(
        &self,
        g: &Graph,
        edges: &[BuildId],
        kept: bool,
    ) -> Vec<(BuildId, Result<EdgeThunk, String>)> {
        // Edges finished since the last call may have generated headers.
        self.scanner().invalidate();
        let keys = &self.caches.get().kept;
        let id = self.identity.get().filter(|_| kept);
        let keeps = id.is_some_and(|id| keys.context(id, &self.roots, g).is_some());
        self.builder(g, false, keeps.then_some(keys), |tb| {
            tb.build_all(edges, None);
            let mut entry = |b: &BuildId| match tb.done.remove(b) {
                Some(Entry::Thunk(t)) => Ok(*t),
                Some(Entry::LocalOnly(why)) => Err(why),
                None => Err("phony".to_string()),
            };
            edges.iter().map(|b| (*b, entry(b))).collect()
        })
    }

    /// The first file `t` names by content (a program, an input) that no
    /// longer holds those bytes, checked once its command ran on the real
    /// tree: a result stored under a key naming bytes the command did not
    /// read (a source saved while it compiled, then undone) would be
    /// restored for them. The toolchain bundle is not looked at: system
    /// files are taken not to change during a build (`HashCache::hash_system`).
    pub fn changed_input(&self, t: &EdgeThunk) -> Option<String> {
        let thunk = t.thunk();
        let exe = (&thunk.function.exe, &thunk.function.exe_hash);
        let values = thunk.inputs.iter().filter_map(|i| match &i.source {
            Source::Value { hash } => Some((&i.path, hash)),
            _ => None,
        });
        std::iter::once(exe).chain(values).find_map(|(path, hash)| {
            let real = self.roots.real_path(path);
            let now = self.hashes().hash_now(&real, t.since_ns);
            let same = matches!(now, Ok(Some(h)) if h.to_string() == *hash);
            (!same).then(|| real.display().to_string())
        })
    }

    /// The build wrote or removed the file at `path` (relative to the
    /// build dir or absolute): what this run's stats kept of it goes
    /// (`footprint::RunStats` says why the build's writes are all it needs
    /// to tell).
    /// A file among `restored` (a memo hit's outputs and depfile, put in
    /// place by a rename or removed) is told as a file, not looked at
    /// again: no symlink, or one through which no path goes
    /// (`executor::Written`).
    pub fn wrote(&self, path: &str, restored: &[PathBuf]) {
        let (stats, path) = (self.scanner().run_stats(), self.roots.build.join(path));
        match restored.contains(&path) {
            true => stats.wrote_file(&path),
            false => stats.wrote(&path),
        }
    }

    /// The build put the bytes `hash` names at `path` (absolute), whose
    /// stat after writing is `meta` (a memo hit's restored output): the
    /// next thunk reading it names it without reading it.
    pub fn wrote_bytes(&self, path: &Path, meta: &std::fs::Metadata, hash: ContentHash) {
        self.hashes().wrote(path, meta, hash);
    }

    /// The build put a file at `path` (absolute) where a symlink to a
    /// directory was: paths through it changed too.
    pub fn wrote_over_dir_link(&self, path: &Path) {
        self.scanner().run_stats().wrote_over_dir_link(path);
    }

    /// The build made directory `dir` (and maybe its parents).
    pub fn made_dir(&self, dir: &str) {
        self.scanner()
            .run_stats()
            .made_dir(&self.roots.build.join(dir));
    }

    /// A file that changed by hand since the keys made from this run's
    /// stats looked at it (`RunStats::changed_file`); None if no key was
    /// made.
    pub fn changed_file(&self) -> Option<PathBuf> {
        let loaded = self.caches.loaded.get()?;
        loaded.scanner.run_stats().changed_file()
    }

    /// A command ran (or a list's effects were done): anything may have
    /// changed, so this run's stats are all taken again.
    pub fn tree_changed(&self) {
        self.scanner().run_stats().forget_all();
    }

    /// Names outputs left only in the remote store by their hashes.
    pub fn set_remote_files(&self, files: std::sync::Arc<ggninja_store::RemoteFiles>) {
        self.hashes().set_remote_files(files);
    }

    /// Names the files `predicted` lists by its predictions, whatever the
    /// disk holds (`-t simulate`'s cache prediction).
    pub fn set_predicted(&self, predicted: std::sync::Arc<crate::Predicted>) {
        self.hashes().set_predicted(predicted);
    }

    /// Keeps the file hashes and the scanner's answers for the next run;
    /// losing them only costs time.
    /// Nothing to keep if no thunk was made: then they are not waited for.
    pub fn save_caches(&self) {
        let Some(loaded) = self.caches.loaded.get() else {
            return;
        };
        let _ = loaded.hashes.save(&self.saved_dir.join(HASHES));
        let _ = loaded.scanner.save(&self.saved_dir);
        loaded.kept.save(&self.saved_dir);
    }
}
