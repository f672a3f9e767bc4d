//! Memoized execution (`--cache`): before an edge runs, its thunk is looked
//! up in the store; on a hit its outputs are restored instead of running
//! the command. Any trouble with the cache turns it off with a warning,
//! never fails or corrupts the build. Unaware of how a miss is run.

use std::collections::VecDeque;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Mutex;

use ggninja_graph::{BuildId, Escape, Graph};
use ggninja_store::hash::ContentHash;
use ggninja_store::{Checksum, Memo, MemoOutput, Store, STREAMED};
use ggninja_thunk::{produced, EdgeThunk, Effect, Roots};
use rustc_hash::FxHashMap;

use super::{effects, Backend, Ctx, Done, Exit, Origin, Task, Written};

/// A memo in front of another backend: a task whose thunk was run before
/// is finished by restoring its outputs; the others run behind, and what a
/// successful run produced is stored.
pub struct Memoized {
    inner: Box<dyn Backend>,
    /// None once the store failed: the build goes on without it.
    memo: Option<Memoizer>,
    /// Storing a result failed (a full or read-only store): only look up.
    read_only: bool,
    /// Restored edges, each with what its run printed, until `wait`.
    hits: VecDeque<Done>,
    /// The thunk of each running edge whose result is to be stored.
    keys: FxHashMap<BuildId, EdgeThunk>,
    /// Whether a hit's `deps = gcc` depfile is handed to the build instead
    /// of written (see `hand_over_depfiles`).
    hand_over: bool,
    /// Those depfiles, until the build takes them.
    depfiles: FxHashMap<BuildId, Vec<u8>>,
    /// The files each hit restored, until the build takes them.
    written: FxHashMap<BuildId, Vec<Written>>,
}

impl Memoized {
    pub fn new(memo: Memoizer, inner: Box<dyn Backend>) -> Memoized {
        Memoized {
            inner,
            memo: Some(memo),
            read_only: false,
            hits: VecDeque::new(),
            keys: FxHashMap::default(),
            hand_over: false,
            depfiles: FxHashMap::default(),
            written: FxHashMap::default(),
        }
    }

    /// A hit's depfile that the build reads once and deletes (`deps =
    /// gcc`, without `-d keepdepfile`) is handed over through
    /// `take_depfile` instead of written: a file less to create, read and
    /// remove per hit (creating one is most of a hit's CPU after a clean).
    pub fn hand_over_depfiles(mut self) -> Memoized {
        self.hand_over = true;
        self
    }

    /// Whether the task was finished from the memo.
    fn restored(&mut self, cx: &mut Ctx, task: &Task) -> bool {
        let (Some(m), Some(t)) = (&self.memo, &task.thunk) else {
            return false;
        };
        let (g, b) = (cx.graph, task.edge);
        let key = t.memo_key();
        let out = cx.first_output(b).to_string();
        let hand_over = self.hand_over && read_once(g, b);
        match m.restore(g, b, &key, hand_over, &t.effects) {
            Ok(Restored::Yes {
                depfile,
                written,
                printed: [output, errors],
            }) => {
                let kept = match t.is_kept() {
                    true => " (a key kept from the last run)",
                    false => "",
                };
                cx.explain(|| format!("reusing the outputs of thunk {key}{kept} for {out}"));
                if let Some(d) = depfile {
                    self.depfiles.insert(b, d);
                }
                self.written.insert(b, written);
                let done = Done {
                    output,
                    errors,
                    ..Done::settled(b, Origin::Memo)
                };
                self.hits.push_back(done);
                return true;
            }
            Ok(Restored::No) => cx.explain(|| format!("thunk {key} for {out} is not memoized")),
            // A broken store must never fail or corrupt a build.
            Err(err) => {
                self.memo = None;
                cx.warn(format!("cache disabled: {err}"));
            }
        }
        false
    }

    fn record(&mut self, cx: &mut Ctx, done: &Done) {
        let Some(t) = self.keys.remove(&done.edge) else {
            return;
        };
        let Some(m) = self.memo.as_ref().filter(|_| done.exit == Exit::Success) else {
            return;
        };
        let key = t.memo_key();
        let printed = [&done.output[..], &done.errors[..]];
        // What it read may not be what the key names: never stored then.
        let changed = || cx.thunks.and_then(|thunks| thunks.changed_input(&t));
        match m.record(cx.graph, done.edge, &key, &t.side_outputs, printed, changed) {
            Ok(()) => {}
            Err(e @ RecordError::Changed(_)) => {
                cx.explain(|| format!("thunk {key} is not stored: {e}"))
            }
            // A make `.PHONY` recipe, a rule whose command writes elsewhere:
            // nothing to give back, and no fault of the store.
            Err(RecordError::Missing(out)) => {
                cx.explain(|| format!("thunk {key} is not stored: its command did not write {out}"))
            }
            // A full or read-only store can still serve hits.
            Err(RecordError::Store(err)) => {
                if !self.read_only {
                    self.read_only = true;
                    cx.warn(format!("cache: results are no longer stored: {err}"));
                }
            }
        }
    }
}

/// Edge `b`'s thunk made whole, for a key `kept` that missed: the same
/// key, or `-d explain` says otherwise (a kept key is taken only where
/// it is the key made anew).
fn made_whole(cx: &mut Ctx, b: BuildId, kept: ContentHash) -> Option<EdgeThunk> {
    let made = cx.thunks.map(|t| t.of(cx.graph, b))?;
    let out = cx.first_output(b).to_string();
    match made {
        Ok(t) if t.hash != kept => {
            let made = t.hash;
            cx.explain(|| format!("kept key {kept} for {out} made whole is {made}"));
            Some(t)
        }
        Ok(t) => Some(t),
        Err(why) => {
            cx.explain(|| format!("{out} runs locally: {why}"));
            None
        }
    }
}

impl Backend for Memoized {
    fn start(&mut self, cx: &mut Ctx, mut task: Task) -> Result<(), String> {
        if self.restored(cx, &task) {
            return Ok(());
        }
        // A key kept from an earlier run only asks the memo: what runs,
        // and what is stored after, is the thunk made whole.
        if let Some(kept) = task.thunk.as_ref().filter(|t| t.is_kept()) {
            task.thunk = made_whole(cx, task.edge, kept.hash);
        }
        if let Some(t) = task.thunk.as_ref().filter(|_| self.memo.is_some()) {
            if !self.read_only {
                self.keys.insert(task.edge, t.clone());
            }
        }
        self.inner.start(cx, task)
    }

    fn wait(&mut self, cx: &mut Ctx) -> Option<Done> {
        if let Some(done) = self.hits.pop_front() {
            return Some(done);
        }
        let done = self.inner.wait(cx)?;
        self.record(cx, &done);
        Some(done)
    }

    /// Restored edges count until `wait` hands them back, so `-j` holds
    /// for them too and the log times each when it was restored, not when
    /// the loop last waited.
    fn running(&self) -> usize {
        self.inner.running() + self.hits.len()
    }

    fn waker(&self) -> Option<super::Waker> {
        self.inner.waker()
    }

    fn placement(&self) -> Option<super::Placement> {
        self.inner.placement()
    }

    fn abort(&mut self) -> Vec<BuildId> {
        self.hits.clear();
        self.keys.clear();
        self.depfiles.clear();
        self.written.clear();
        self.inner.abort()
    }

    fn take_depfile(&mut self, edge: BuildId) -> Option<Vec<u8>> {
        self.depfiles
            .remove(&edge)
            .or_else(|| self.inner.take_depfile(edge))
    }

    fn take_written(&mut self, edge: BuildId) -> Vec<Written> {
        match self.written.remove(&edge) {
            Some(w) => w,
            None => self.inner.take_written(edge),
        }
    }

    /// Also brings the store back under its limit when this build stored
    /// something.
    fn close(&mut self) {
        self.inner.close();
        if let Some(m) = &self.memo {
            m.settle();
        }
    }
}

/// Why `Memoizer::record` stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The run succeeded without writing this output.
    #[error("the command did not write {0}")]
    Missing(String),
    /// A file the key names no longer holds the bytes it named.
    #[error("{0} changed since it was named")]
    Changed(String),
    #[error(transparent)]
    Store(#[from] std::io::Error),
}

/// What `Memoizer::restore` did.
pub enum Restored {
    No,
    /// The outputs are in place; the depfile handed over, if asked (and
    /// any stale one removed); the plain files written (see `Written`); what the run
    /// printed (its output, its stderr kept apart), to print again.
    Yes {
        depfile: Option<Vec<u8>>,
        written: Vec<Written>,
        printed: [Vec<u8>; 2],
    },
}

/// Whether the build reads `b`'s depfile once, at its end (`deps = gcc`).
fn read_once(g: &Graph, b: BuildId) -> bool {
    g.binding(b, "deps", Escape::Shell)
        .is_ok_and(|d| d == "gcc")
}

/// An output's content as a hit checked it, not yet put in place: its
/// bytes (a symlink's target), or a big object's, written beside it.
enum Content {
    Held(Vec<u8>),
    Staged(crate::disk::Staged),
}

pub struct Memoizer {
    store: Store,
    roots: Roots,
    limit: Limit,
    /// Buffers hits read objects into, given back once written (`buffer`).
    buffers: Mutex<Vec<Vec<u8>>>,
}

/// How many buffers are kept, and the largest kept: an edge's outputs are
/// a few, and a rare big one (a linked program) is not held all build.
const KEPT_BUFFERS: usize = 4;
const KEPT_BUFFER_BYTES: usize = 16 << 20;

/// The store's size limit, and the program name its warnings carry.
pub struct Limit {
    pub bytes: u64,
    pub prog: String,
}

impl Memoizer {
    pub fn open(store_root: &Path, roots: Roots, limit: Limit) -> std::io::Result<Memoizer> {
        Ok(Memoizer {
            store: Store::open(store_root)?,
            roots,
            limit,
            buffers: Mutex::default(),
        })
    }

    /// A buffer to read `size` bytes into, with room left by an earlier
    /// one: the least roomy kept that holds them, else the roomiest (a
    /// buffer too small is made anew, and each page of new room faults in
    /// as it is first read into).
    fn buffer(&self, size: usize) -> Vec<u8> {
        let mut kept = self.buffers.lock().unwrap();
        let room = |i: &usize| kept[*i].capacity();
        let fits = (0..kept.len()).filter(|i| room(i) > size).min_by_key(room);
        let pick = fits.or_else(|| (0..kept.len()).max_by_key(room));
        pick.map_or_else(Vec::new, |i| kept.swap_remove(i))
    }

    fn give_back(&self, buffer: Vec<u8>) {
        let mut kept = self.buffers.lock().unwrap();
        if kept.len() < KEPT_BUFFERS && buffer.capacity() <= KEPT_BUFFER_BYTES {
            kept.push(buffer);
        }
    }

    /// Evicts past the limit; a store that cannot be trimmed fails no build.
    fn settle(&self) {
        if let Err(e) = self.store.settle(self.limit.bytes) {
            eprintln!("{}: warning: cache: eviction failed: {e}", self.limit.prog);
        }
    }

    /// Restores a memoized result, after doing what the command does to
    /// the tree besides (`effects`: `mkdir`, `ln -s`, ...); with
    /// `hand_over`, its depfile is returned instead of written.
    /// `Restored::No`: not memoized (or an object was missing or corrupt),
    /// and nothing was written; or an effect failed as the command's own
    /// step would have (`mkdir` of a dir whose parent is gone), and the
    /// command runs to do all of it.
    pub fn restore(
        &self,
        g: &Graph,
        b: BuildId,
        key: &ContentHash,
        hand_over: bool,
        effects: &[Effect],
    ) -> std::io::Result<Restored> {
        let Some(memo) = self.store.memo_get(key) else {
            return Ok(Restored::No);
        };
        let depfile = g.binding(b, "depfile", Escape::None).unwrap_or_default();
        let depfile = (!depfile.is_empty()).then(|| self.roots.host_path(&depfile));
        // Fetch (and verify) everything before putting anything in place.
        // A big object is staged beside its output, unless an effect may
        // remove the directory it would wait in.
        let stage = !effects.iter().any(removes_a_dir);
        let mut files = Vec::new();
        let mut handed = None;
        for o in &memo.outputs {
            let real = self.roots.real_path(&o.path);
            if depfile.as_ref() != Some(&real) {
                let Some(content) = self.fetch(o, &real, stage)? else {
                    return Ok(Restored::No);
                };
                // Before the effects (an `rm -f` of it) change what is there.
                let dir_before = dir_link_at(&real);
                files.push((real, content, o.mode, Some(o.hash), dir_before));
                continue;
            }
            // A depfile's bytes are rewritten: not the object's.
            let Some(data) = self.store.get(&o.hash, o.check) else {
                return Ok(Restored::No);
            };
            let data = self.host_text(data);
            match hand_over {
                true => handed = Some((real, data)),
                false => {
                    let dir_before = dir_link_at(&real);
                    files.push((real, Content::Held(data), o.mode, None, dir_before))
                }
            }
        }
        let [Some(output), Some(errors)] = memo.printed.map(|h| self.printed(&h)) else {
            return Ok(Restored::No);
        };
        if effects::replay(&self.roots, effects).is_err() {
            return Ok(Restored::No);
        }
        let (mut written, mut bytes) = (Vec::new(), 0);
        for (real, content, mode, hash, dir_before) in files {
            let put = match content {
                Content::Held(data) => {
                    let put = restore_file(&real, &data, mode, dir_before)?;
                    self.give_back(data);
                    put
                }
                Content::Staged(staged) => Put::File(staged.put(&real)?),
            };
            // Any other symlink's path is told as any write.
            match put {
                Put::File(stat) => {
                    bytes += stat.len();
                    written.push(Written {
                        path: real,
                        named: hash.map(|hash| (stat, hash)),
                        over_dir_link: dir_before,
                    });
                }
                Put::FileLink => written.push(Written {
                    path: real,
                    named: None,
                    over_dir_link: false,
                }),
                Put::Link => {}
            }
        }
        let depfile = handed.map(|(real, data)| {
            // As if written, read and deleted: no stale one is left. (One
            // that was a link to a dir is not looked for: a stat a hit.)
            let _ = std::fs::remove_file(&real);
            written.push(Written {
                path: real,
                named: None,
                over_dir_link: false,
            });
            data
        });
        crate::metrics::tally("memo hits", bytes, "bytes written");
        // The stamp eviction goes by; evicted meanwhile, nothing is lost.
        let _ = self.store.memo_used(key);
        Ok(Restored::Yes {
            depfile,
            written,
            printed: [output, errors],
        })
    }

    /// An output's object, checked (None: missing or damaged): a big one
    /// copied out in parts, read once and never held whole, into a file
    /// staged beside the output at `real` when `stage` and its directory is
    /// there; the others read into a kept buffer.
    fn fetch(&self, o: &MemoOutput, real: &Path, stage: bool) -> std::io::Result<Option<Content>> {
        if stage && o.mode & S_IFMT != S_IFLNK && o.hash.size > STREAMED as u64 {
            let (mut chunk, mut intact) = (self.buffer(STREAMED), false);
            let copy = |file: &mut std::fs::File| {
                intact = self
                    .store
                    .copy_checked(&o.hash, o.check, file, &mut chunk)?;
                Ok(())
            };
            let staged = crate::disk::stage(real, o.mode, copy);
            self.give_back(chunk);
            match staged {
                Ok(staged) => return Ok(intact.then_some(Content::Staged(staged))),
                // No directory yet: not made for a hit that may fail.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let mut data = self.buffer(o.hash.size as usize);
        let found = self.store.get_into(&o.hash, o.check, &mut data);
        Ok(found.then_some(Content::Held(data)))
    }

    /// What a run printed, as stored.
    fn printed(&self, hash: &ContentHash) -> Option<Vec<u8>> {
        self.store.get(hash, None).map(|text| self.host_text(text))
    }

    /// Text a command wrote (a depfile, what it printed) with this tree's
    /// roots named as a thunk names them, so a hit in another checkout
    /// reads its own paths (`host_text`); bytes that are not UTF-8 are
    /// kept as they are.
    fn thunk_text(&self, bytes: Vec<u8>) -> Vec<u8> {
        match String::from_utf8(bytes) {
            Ok(text) => self.roots.rewrite(&text).into_bytes(),
            Err(e) => e.into_bytes(),
        }
    }

    /// Undoes `thunk_text` for this tree.
    fn host_text(&self, bytes: Vec<u8>) -> Vec<u8> {
        match String::from_utf8(bytes) {
            Ok(text) => self.roots.unrewrite(&text).into_bytes(),
            Err(e) => e.into_bytes(),
        }
    }

    /// Stores what a successful run of `b` produced under `key` (its
    /// outputs, its depfile, the files it wrote besides: `side`), with what
    /// it printed (its output, its stderr kept apart), unless `changed`
    /// names a file the key named that changed since: asked once every
    /// output is found, so a run that wrote none (a make `.PHONY` recipe)
    /// costs no check of its inputs' bytes.
    pub fn record(
        &self,
        g: &Graph,
        b: BuildId,
        key: &ContentHash,
        side: &[String],
        printed: [&[u8]; 2],
        changed: impl FnOnce() -> Option<String>,
    ) -> Result<(), RecordError> {
        let depfile = g.binding(b, "depfile", Escape::None).unwrap_or_default();
        // A depfile (or a file besides) the command did not write is not
        // an output.
        let absent = |f: &String, beside: bool, e: std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound if beside || *f == depfile => Ok(()),
            std::io::ErrorKind::NotFound => Err(RecordError::Missing(f.clone())),
            _ => Err(RecordError::Store(e)),
        };
        // Which files are there, before any is read or the inputs checked.
        let mut found = Vec::new();
        let written = produced(g, b).into_iter().map(|f| (f, false));
        for (f, beside) in written.chain(side.iter().map(|f| (f.clone(), true))) {
            let real = self.roots.host_path(&f);
            match std::fs::symlink_metadata(&real) {
                Ok(_) => found.push((f, beside, real)),
                Err(e) => absent(&f, beside, e)?,
            }
        }
        if let Some(file) = changed() {
            return Err(RecordError::Changed(file));
        }
        // One at a time: each output read, then put, before the next.
        let mut outputs = Vec::with_capacity(found.len());
        for (f, beside, real) in found {
            let Output { data, mode, file } = match read_output(&real) {
                Ok(read) => read,
                Err(e) => {
                    absent(&f, beside, e)?;
                    continue;
                }
            };
            let (hash, data) = match (file, f == depfile) {
                // Depfiles name paths: stored relative to the canonical root.
                (_, true) => {
                    let text = self.thunk_text(data);
                    (self.store.put(&text)?, text)
                }
                (Some((file, meta)), false) => {
                    (self.store.put_read_from(&data, &file, &meta)?, data)
                }
                (None, false) => (self.store.put(&data)?, data),
            };
            outputs.push(MemoOutput {
                path: self.roots.virtual_path(&f),
                hash,
                mode,
                check: Some(Checksum::of(&data)),
            });
        }
        let put = |text: &[u8]| self.store.put(&self.thunk_text(text.to_vec()));
        let printed = [put(printed[0])?, put(printed[1])?];
        Ok(self.store.memo_put(key, &Memo { outputs, printed })?)
    }
}

/// The file-type bits of a mode, and the symlink type among them (as
/// `st_mode` has them): a memo entry's mode carries them for symlinks only,
/// so entries written before symlinks were kept still read as files.
const S_IFMT: u32 = 0o170000;
const S_IFLNK: u32 = 0o120000;

/// An output's bytes and mode as the memo keeps them: a file's content and
/// permission bits, or a symlink's target (not what it points to) with
/// `S_IFLNK`.
struct Output {
    data: Vec<u8>,
    mode: u32,
    /// A file's open file and its stat from before the read: the store may
    /// clone it rather than write the bytes again.
    file: Option<(std::fs::File, std::fs::Metadata)>,
}

fn read_output(path: &Path) -> std::io::Result<Output> {
    use std::io::Read;
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path)?;
        let data = target.into_os_string().into_vec();
        let mode = S_IFLNK | 0o777;
        return Ok(Output {
            data,
            mode,
            file: None,
        });
    }
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    // As `std::fs::read`: a size too big to hold is an error, not an abort.
    let mut data = Vec::new();
    data.try_reserve_exact(meta.len() as usize)
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::OutOfMemory))?;
    file.read_to_end(&mut data)?;
    let mode = meta.permissions().mode() & 0o7777;
    Ok(Output {
        data,
        mode,
        file: Some((file, meta)),
    })
}

/// What a restore put at a path.
enum Put {
    /// A file, with its stat as written.
    File(std::fs::Metadata),
    /// A symlink that leads to no directory, over what led to none (a
    /// file, a link to one, nothing): no path goes through it, then or
    /// now, so the build tells it as a file (`Written`).
    FileLink,
    /// Another symlink.
    Link,
}

/// Puts an output back at `real` as `read_output` kept it: a file with
/// `mode` exactly, as when it was built; a symlink as a symlink
/// (`libx.so -> libx.so.1`), never a copy (`disk::put_file`). `dir_before`:
/// whether what was at `real` before the hit (its effects included) led
/// to a directory.
fn restore_file(real: &Path, data: &[u8], mode: u32, dir_before: bool) -> std::io::Result<Put> {
    if mode & S_IFMT != S_IFLNK {
        return crate::disk::put_file_stat(real, data, mode, None).map(Put::File);
    }
    crate::disk::put_symlink(real, std::ffi::OsStr::from_bytes(data))?;
    match dir_before || leads_to_dir(real) {
        true => Ok(Put::Link),
        false => Ok(Put::FileLink),
    }
}

/// Whether an effect may remove a directory (`rm -r`, `rmdir`).
fn removes_a_dir(e: &Effect) -> bool {
    match e {
        Effect::Remove { recursive, .. } => *recursive,
        Effect::RemoveDir(_) => true,
        _ => false,
    }
}

/// Whether `path` is a directory, or leads to one through symlinks.
fn leads_to_dir(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_dir())
}

/// Whether a symlink that leads to a directory is at `path`: followed
/// only once it is found to be a link (an old one may lead into an
/// automount).
fn dir_link_at(path: &Path) -> bool {
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    link && leads_to_dir(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file comes back with the exact mode it was built with, whatever
    /// the umask, over what was there; a symlink as a symlink; and no
    /// temporary is left in the directory.
    #[test]
    fn an_output_comes_back_with_its_mode_or_as_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/app");
        restore_file(&file, b"old", 0o644, false).unwrap();
        restore_file(&file, b"binary", 0o751, false).unwrap();
        let read = read_output(&file).unwrap();
        assert_eq!((read.data, read.mode), (b"binary".to_vec(), 0o751));
        let link = dir.path().join("sub/libx.so");
        restore_file(&link, b"libx.so.1", S_IFLNK | 0o777, false).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("libx.so.1"));
        let read = read_output(&link).unwrap();
        assert_eq!(
            (read.data, read.mode),
            (b"libx.so.1".to_vec(), S_IFLNK | 0o777)
        );
        assert!(read.file.is_none());
        let left = std::fs::read_dir(dir.path().join("sub")).unwrap().count();
        assert_eq!(left, 2);
        // A symlink's directory is made too when missing.
        let deep = dir.path().join("lib/deep/libx.so");
        restore_file(&deep, b"libx.so.1", S_IFLNK | 0o777, false).unwrap();
        assert_eq!(std::fs::read_link(&deep).unwrap(), Path::new("libx.so.1"));
    }

    /// A restored symlink is told as a file only when no path goes through
    /// it, before or after: it leads to no directory and replaced nothing
    /// that did.
    #[test]
    fn a_symlink_is_told_as_a_file_only_when_no_dir_is_behind_it() {
        let dir = tempfile::tempdir().unwrap();
        let at = |p: &str| dir.path().join(p);
        std::fs::write(at("libx.so.1"), "elf").unwrap();
        std::fs::create_dir(at("sub")).unwrap();
        let link = |path: &str, target: &str| {
            let before = dir_link_at(&at(path));
            let put = restore_file(&at(path), target.as_bytes(), S_IFLNK | 0o777, before);
            matches!(put.unwrap(), Put::FileLink)
        };
        assert!(link("libx.so", "libx.so.1"), "over nothing, to a file");
        assert!(link("libx.so", "libx.so.1"), "over a link to a file");
        assert!(link("gone", "nothing"), "to nothing");
        assert!(!link("to_sub", "sub"), "to a directory");
        assert!(!link("to_sub", "libx.so.1"), "over a link to a directory");
        assert!(link("to_sub", "libx.so.1"), "that link now leads to a file");
        std::fs::write(at("plain"), "x").unwrap();
        assert!(link("plain", "libx.so.1"), "over a file");
    }

    /// A file restored where a symlink to a directory was says so; over a
    /// file, or over nothing, it does not.
    #[test]
    fn a_file_restored_over_a_dir_link_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let build = dir.path().join("build");
        std::fs::create_dir_all(build.join("inc")).unwrap();
        let (m, g, b, key) = one_edge(dir.path(), "out");
        let out = build.join("out");
        std::fs::write(&out, "x").unwrap();
        assert!(m.record(&g, b, &key, &[], [b"", b""], || None).is_ok());
        let over_dir_link = || match m.restore(&g, b, &key, false, &[]).unwrap() {
            Restored::Yes { written, .. } => written.iter().any(|w| w.over_dir_link),
            Restored::No => panic!("not restored"),
        };
        assert!(!over_dir_link(), "over a file");
        std::fs::remove_file(&out).unwrap();
        assert!(!over_dir_link(), "over nothing");
        std::fs::remove_file(&out).unwrap();
        std::os::unix::fs::symlink("inc", &out).unwrap();
        assert!(over_dir_link(), "over a link to a directory");
        assert_eq!(std::fs::read(&out).unwrap(), b"x");
    }

    /// A memoizer with a store in `dir`, for `build.ninja` `text` in
    /// `dir/build`, and its graph.
    fn memoizer(dir: &Path, text: &str) -> (Memoizer, Graph) {
        let options = ggninja_importer::Options::default();
        let parsed = ggninja_importer::parse_str("build.ninja", text.as_bytes(), &options);
        let roots = Roots::new(dir.join("build"), None);
        let limit = Limit {
            bytes: u64::MAX,
            prog: "ggninja".into(),
        };
        let m = Memoizer::open(&dir.join("store"), roots, limit).unwrap();
        (m, parsed.unwrap().graph)
    }

    /// `memoizer` for one edge writing `out`, with the edge and a key to
    /// store it under.
    fn one_edge(dir: &Path, out: &str) -> (Memoizer, Graph, BuildId, ContentHash) {
        let (m, g) = memoizer(dir, &format!("rule r\n  command = true\nbuild {out}: r\n"));
        let b = g.file(g.lookup(out).unwrap()).in_build.unwrap();
        let key = ContentHash::of(ggninja_store::hash::Kind::Thunk, b"key");
        (m, g, b, key)
    }

    /// A hit reads into the least roomy buffer kept that holds its object,
    /// else into the roomiest, whatever order they came back in.
    #[test]
    fn an_object_is_read_into_the_buffer_that_fits_it_best() {
        let dir = tempfile::tempdir().unwrap();
        let (m, _) = memoizer(dir.path(), "");
        let rooms = [10, 1000, 100];
        for room in rooms {
            m.give_back(Vec::with_capacity(room));
        }
        let taken = |size| {
            let b = m.buffer(size);
            let room = rooms
                .into_iter()
                .find(|&r| b.capacity() >= r && b.capacity() < r * 2);
            m.give_back(b);
            room
        };
        assert_eq!(taken(50), Some(100));
        assert_eq!(taken(5), Some(10));
        assert_eq!(taken(100), Some(1000), "room for one more byte");
        assert_eq!(taken(5000), Some(1000), "none holds it: the roomiest");
    }

    /// A run's inputs are checked only once its outputs are all found: one
    /// that wrote none is not stored and costs no check; one whose input
    /// changed is not stored either, and the next lookup misses.
    #[test]
    fn inputs_are_checked_only_for_a_run_that_wrote_its_outputs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("build")).unwrap();
        let (m, g, b, key) = one_edge(dir.path(), "out");
        let asked = std::cell::Cell::new(0);
        let changed = |file: Option<&str>| {
            asked.set(asked.get() + 1);
            file.map(str::to_string)
        };
        let missing = m.record(&g, b, &key, &[], [b"", b""], || changed(None));
        assert!(matches!(missing, Err(RecordError::Missing(o)) if o == "out"));
        assert_eq!(asked.get(), 0, "no output, no check");
        std::fs::write(dir.path().join("build/out"), "x").unwrap();
        let stale = m.record(&g, b, &key, &[], [b"", b""], || changed(Some("in")));
        assert!(matches!(stale, Err(RecordError::Changed(f)) if f == "in"));
        assert_eq!(asked.get(), 1);
        let restored = || m.restore(&g, b, &key, false, &[]).unwrap();
        assert!(matches!(restored(), Restored::No));
        let stored = m.record(&g, b, &key, &[], [b"", b""], || changed(None));
        assert!(stored.is_ok());
        assert!(matches!(restored(), Restored::Yes { .. }));
    }

    /// A big output (over `STREAMED`) comes back whole, staged beside it,
    /// in a directory made since too; with its object damaged, nothing is
    /// put (the file there stays), no temporary is left, and the object
    /// is gone from the store.
    #[test]
    fn a_big_output_comes_back_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let build = dir.path().join("build");
        std::fs::create_dir_all(build.join("sub")).unwrap();
        let (m, g, b, key) = one_edge(dir.path(), "sub/big");
        let big: Vec<u8> = (0..STREAMED * 3 + 5).map(|i| (i % 253) as u8).collect();
        let out = build.join("sub/big");
        std::fs::write(&out, &big).unwrap();
        m.record(&g, b, &key, &[], [b"", b""], || None).unwrap();
        let restore = || m.restore(&g, b, &key, false, &[]).unwrap();
        let entries = |d: &str| std::fs::read_dir(build.join(d)).unwrap().count();
        for gone in ["file", "dir"] {
            match gone {
                "file" => std::fs::remove_file(&out).unwrap(),
                _ => std::fs::remove_dir_all(build.join("sub")).unwrap(),
            }
            assert!(matches!(restore(), Restored::Yes { .. }), "{gone}");
            assert!(std::fs::read(&out).unwrap() == big, "{gone}");
            assert_eq!(entries("sub"), 1, "{gone}");
        }
        std::fs::write(&out, b"old").unwrap();
        let value = ContentHash::of(ggninja_store::hash::Kind::Value, &big);
        let object = dir.path().join("store/objects").join(value.to_string());
        let mut damaged = big.clone();
        damaged[STREAMED + 1] ^= 1;
        std::fs::write(&object, &damaged).unwrap();
        assert!(matches!(restore(), Restored::No));
        assert_eq!(std::fs::read(&out).unwrap(), b"old");
        assert_eq!(entries("sub"), 1);
        assert!(!object.exists());
    }

    /// A symlink output is told as a file only when what was there before
    /// the hit led to no directory: its own `rm -f` replayed first does
    /// not hide a link to a directory it removes.
    #[test]
    fn a_symlink_over_a_removed_dir_link_is_not_told_as_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let at = |p: &str| dir.path().join("build").join(p);
        std::fs::create_dir_all(at("sub")).unwrap();
        std::fs::write(at("libx.so.1"), "elf").unwrap();
        let (m, g, b, key) = one_edge(dir.path(), "lib");
        std::os::unix::fs::symlink("libx.so.1", at("lib")).unwrap();
        m.record(&g, b, &key, &[], [b"", b""], || None).unwrap();
        let told_as_file = |effects: &[Effect]| match m.restore(&g, b, &key, false, effects) {
            Ok(Restored::Yes { written, .. }) => written.iter().any(|w| w.path == at("lib")),
            _ => panic!("not restored"),
        };
        let rm = [Effect::Remove {
            path: "lib".into(),
            recursive: false,
        }];
        assert!(told_as_file(&rm), "over a link to a file");
        std::fs::remove_file(at("lib")).unwrap();
        std::os::unix::fs::symlink("sub", at("lib")).unwrap();
        assert!(!told_as_file(&rm), "over a link to a directory");
        assert_eq!(
            std::fs::read_link(at("lib")).unwrap(),
            Path::new("libx.so.1")
        );
    }
}
