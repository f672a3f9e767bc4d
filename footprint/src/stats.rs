//! What `stat` said of each path during one build, and what each directory
//! listed, so a header a hundred compiles depend on is stat'ed once a run,
//! not once by the kept walk's check (`recall`) and again by the file hash
//! cache for every compile.
//!
//! An answer is kept until the build says the tree may have changed there.
//! Why that is enough: an edge's footprint is taken as the edge starts, and
//! every step the edge is ordered after has finished, its `Done` handled,
//! before then. So whatever a step the edge waits for did to the tree
//! (a command, a memo hit's restore, its effects, its depfile removed) is
//! dropped from here when that step's `Done` is handled, before the edge
//! asks: the build drops everything after a step that ran a command (or
//! did a list's effects: `mkdir`, `mv`, `ln -s`, `rm`), and after a memo
//! hit only what its restore wrote ([`RunStats::wrote`]: each output and
//! its depfile). A step the edge is not ordered after may still be writing
//! while the edge starts: a file it writes is refused as an input of an
//! unordered edge (`thunk::ordering`), and for what it writes undeclared the
//! edge races it in ninja too. The build's own writes before a step runs
//! (directories for outputs, an rspfile) are dropped as they are made; a
//! hit of a make recipe, whose directories the build does not make, drops
//! its outputs' directories and every one above ([`RunStats::made_dir`]):
//! the restore may have made them. Making a directory also drops the
//! answers of the paths stepping out of one so named with a `..` (`x/../y`
//! asked before `x` was made): they may resolve now. A path stepping out
//! of a symlink (`l/../y`) would resolve once the link's target is made,
//! told by the target's name: its answer is not kept.
//! A source edited by hand during a build may be seen as it was when first
//! stat'ed this run, by keys made after the edit: so before a command ends
//! the answers, and as the build ends, the build asks `changed_file`, and
//! sends back the memo hits logged meanwhile if one changed
//! (`executor::hit_checks`).
//!
//! What `wrote` drops: writing a file (or removing it) changes the stat of
//! that file and of its directory, and of nothing else; symlinks make other
//! paths name the same two. An answer is kept only for a path whose last
//! component is not a symlink (the fill takes `lstat`: where that is a
//! symlink, the answer is taken again at every ask), so a path naming the
//! written file or its directory, through whatever directory symlinks,
//! ends in the same name: `wrote` drops the answers for a path ending in
//! either name (and the listings of such directories), unless the path
//! shows another directory than the written one (device and inode, from
//! the path's kept stat or its stat now): CMake's object dirs repeat the
//! source dirs' names (`CMakeFiles/t.dir/src/t/x.o` beside `src/t`), and
//! two targets' objects share names. Writing a symlink
//! may retarget paths through it, whatever their names: everything goes,
//! unless neither it nor what it replaced leads to a directory (a restored
//! `libx.so -> libx.so.1`), when no path goes through it: then only what
//! its name names changed, as for a file (`wrote_file`).
//! A file restored over what was a symlink to a directory (an output whose
//! rule made a directory link on another branch) drops the answers of the
//! paths spelled through it ([`RunStats::wrote_over_dir_link`]), and the
//! include dirs' canonical paths are found again (`relinked`). Not seen:
//! such a path spelled otherwise (through another link, with a `..`,
//! through a link to the build dir), or through a stale depfile so linked
//! that a hit removed; its answer stays the old target's until a command
//! runs, or the build ends and the check of what was kept finds it changed
//! (and sends the hits back).
//!
//! The epoch (`RunStats::epoch`) that decisions made from the answers are
//! kept under changes only when a write could have changed one: when an
//! answer was dropped, or an answer not kept (a symlink's) was given in
//! the epoch; a memo hit's restore in a directory no check looked at
//! leaves the checks of the other edges' kept walks standing. A stat
//! taken while a write was told (its answer maybe from before the write)
//! is neither kept nor trusted past the epoch: `writes` counts what was
//! told, and an answer is kept only if nothing was told since its stat
//! began.
//!
//! Files taken not to change while the process lasts (`stat_system`: those
//! under the compiler's built-in dirs, which the kept walks' check stats,
//! and what the hash cache names once a process: files outside the trees,
//! a program the build made once it is done, offline every file) are
//! stat'ed once a process, never dropped: the check and the hash cache
//! share that answer, so a system header is stat'ed once, not once by each.
//! An undeclared command that edits one of them during the build goes
//! unseen by both, as it did when each kept its own.
//!
//! Ignores what files contain (the hash cache and `recall` check bytes).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// What `stat` says of a path (symlinks followed): device, inode, file
/// type, size, mtime and ctime in ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stat(
    pub(crate) u64,
    pub(crate) u64,
    pub(crate) u32,
    pub(crate) u64,
    pub(crate) i64,
    pub(crate) i64,
);

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;

impl Stat {
    /// `path`'s stat now, symlinks followed; None if there is nothing.
    pub fn of(path: &Path) -> Option<Stat> {
        std::fs::metadata(path).ok().map(|m| Stat::from(&m))
    }

    pub fn from(m: &std::fs::Metadata) -> Stat {
        let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
        Stat(
            m.dev(),
            m.ino(),
            m.mode() & S_IFMT,
            m.size(),
            ns(m.mtime(), m.mtime_nsec()),
            ns(m.ctime(), m.ctime_nsec()),
        )
    }

    pub fn dev(&self) -> u64 {
        self.0
    }
    pub fn ino(&self) -> u64 {
        self.1
    }
    pub fn size(&self) -> u64 {
        self.3
    }
    pub fn mtime_ns(&self) -> i64 {
        self.4
    }
    pub fn ctime_ns(&self) -> i64 {
        self.5
    }
    pub fn is_dir(&self) -> bool {
        self.2 == S_IFDIR
    }
    pub fn is_file(&self) -> bool {
        self.2 == S_IFREG
    }

    /// Whether the stamps are too close to `start_ns` (or after it) to
    /// stand for the bytes read since: file systems stamp with a clock
    /// that lags by up to a tick, so a change within it may keep them
    /// (git's racy rule).
    pub fn racy(&self, start_ns: i64) -> bool {
        self.4.max(self.5) >= start_ns - RACY_NS
    }
}

/// How close to a start a stamp is not trusted (see `Stat::racy`).
const RACY_NS: i64 = 1_000_000_000;

/// Now, in nanoseconds since the epoch (what `Stat::racy` compares with).
pub fn now_ns() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_nanos()).unwrap_or(i64::MAX)
}

/// Paths as bytes: hashing a `Path` walks its components.
type Map<V> = FxHashMap<Vec<u8>, V>;

#[derive(Default)]
struct Answers {
    stats: Map<Option<Stat>>,
    /// Directory -> the names it listed.
    listings: Map<Arc<FxHashSet<OsString>>>,
    /// Last component -> the paths above ending in it (for `wrote`).
    by_name: FxHashMap<OsString, Vec<PathBuf>>,
    /// Directory name -> the paths above that step out of a directory so
    /// named with a `..` (`x/../y`): making it may make them resolve, so
    /// `made_dir` drops them too. Writing a file changes no `..`.
    through: FxHashMap<OsString, Vec<PathBuf>>,
    /// The identity of each directory the build wrote a file in, as
    /// `wrote_file` found it: a directory is replaced only by a command
    /// (then every answer goes) or made by the build (`made_dir`), and
    /// its files are written one after another.
    dir_ids: Map<Option<DirId>>,
}

impl Answers {
    fn index(&mut self, path: &Path) {
        if let Some(name) = path.file_name() {
            let paths = self.by_name.entry(name.to_os_string()).or_default();
            paths.push(path.to_path_buf());
        }
        for name in stepped_out_of(path) {
            let paths = self.through.entry(name.to_os_string()).or_default();
            paths.push(path.to_path_buf());
        }
    }

    /// Drops the answers of paths ending in `name` that `may_be` says may
    /// name what was written; whether there were any.
    fn drop_name_if(&mut self, name: &OsStr, may_be: impl Fn(&Answers, &Path) -> bool) -> bool {
        let Some(paths) = self.by_name.remove(name) else {
            return false;
        };
        let (gone, others): (Vec<PathBuf>, Vec<PathBuf>) =
            paths.into_iter().partition(|p| may_be(self, p));
        if !others.is_empty() {
            self.by_name.insert(name.to_os_string(), others);
        }
        self.forget(&gone)
    }

    /// Drops the answers of paths stepping out of a directory `name`
    /// with a `..`; whether there were any.
    fn drop_through(&mut self, name: &OsStr) -> bool {
        let gone = self.through.remove(name).unwrap_or_default();
        self.forget(&gone)
    }

    /// Drops the answers of `paths` (each maybe still listed in another
    /// index, dropped already or kept again since); whether there were any.
    fn forget(&mut self, paths: &[PathBuf]) -> bool {
        let mut any = false;
        for p in paths {
            let key = p.as_os_str().as_bytes();
            any |= self.stats.remove(key).is_some();
            any |= self.listings.remove(key).is_some();
        }
        any
    }

    /// Whether `dir` may be the directory `id` is of: it is unless its
    /// kept stat, or else its stat now, shows another directory.
    fn may_be_dir(&self, dir: &Path, id: Option<DirId>) -> bool {
        let now = match self.stats.get(dir.as_os_str().as_bytes()) {
            Some(Some(s)) if s.is_dir() => Some((s.dev(), s.ino())),
            Some(_) => None,
            None => dir_id(dir),
        };
        match (now, id) {
            (Some(now), Some(id)) => now == id,
            _ => true,
        }
    }
}

/// The names `path` steps out of with a `..` (`x` in `a/x/../y`, `b` in
/// `a/b/../../c`): while it does not resolve, one of the directories so
/// named is missing, and it resolves only once that one is made (none of
/// them being a symlink: `steps_out_of_a_link`).
fn stepped_out_of(path: &Path) -> Vec<&OsStr> {
    if !path.as_os_str().as_bytes().windows(3).any(|w| w == b"/..") {
        return Vec::new();
    }
    let parts: Vec<Component> = path.components().collect();
    let steps = parts.windows(2).filter_map(|w| match w {
        [Component::Normal(name), Component::ParentDir] => Some(*name),
        _ => None,
    });
    steps.collect()
}

/// Whether `path` steps out of a symlink with a `..` (`l/../y`): it then
/// resolves once the link's target is made, which is told by the
/// target's name, not the link's.
fn steps_out_of_a_link(path: &Path) -> bool {
    if stepped_out_of(path).is_empty() {
        return false;
    }
    let mut prefix = PathBuf::new();
    let mut parts = path.components().peekable();
    while let Some(part) = parts.next() {
        prefix.push(part);
        let steps_out = parts.peek() == Some(&Component::ParentDir);
        if steps_out && matches!(part, Component::Normal(_)) {
            let link = std::fs::symlink_metadata(&prefix).is_ok_and(|m| m.is_symlink());
            if link {
                return true;
            }
        }
    }
    false
}

/// A directory's device and inode.
type DirId = (u64, u64);

/// `dir`'s identity, symlinks followed; None if it is not a directory.
fn dir_id(dir: &Path) -> Option<DirId> {
    let m = std::fs::metadata(dir).ok().filter(|m| m.is_dir())?;
    Some((m.dev(), m.ino()))
}

/// This run's stats and listings (see the module doc); shared by threads.
pub struct RunStats {
    answers: RwLock<Answers>,
    /// `stat_system`'s answers, by the path's bytes.
    system: RwLock<Map<Option<Stat>>>,
    /// See `epoch`.
    epoch: AtomicU64,
    /// Writes told so far (`wrote`, `made_dir`, `forget_all`).
    writes: AtomicU64,
    /// See `relinked`.
    relinked: AtomicU64,
    /// An answer not kept may have been given in this epoch.
    unkept: AtomicBool,
    /// When the answers kept began to be taken (`now_ns`): at the making,
    /// or the last `forget_all`.
    since_ns: std::sync::atomic::AtomicI64,
    /// A kept file found changed before its answers were all dropped (see
    /// `changed_file`).
    changed: std::sync::Mutex<Option<PathBuf>>,
}

/// Epochs handed out in this process: each unique, whatever `RunStats`.
static EPOCHS: AtomicU64 = AtomicU64::new(1);

impl Default for RunStats {
    fn default() -> RunStats {
        RunStats {
            answers: RwLock::default(),
            system: RwLock::default(),
            epoch: AtomicU64::new(EPOCHS.fetch_add(1, Ordering::Relaxed)),
            writes: AtomicU64::new(0),
            relinked: AtomicU64::new(0),
            unkept: AtomicBool::new(false),
            since_ns: std::sync::atomic::AtomicI64::new(now_ns()),
            changed: std::sync::Mutex::new(None),
        }
    }
}

impl RunStats {
    /// `path`'s stat (symlinks followed), taken once while kept.
    pub fn stat(&self, path: &Path) -> Option<Stat> {
        let key = path.as_os_str().as_bytes();
        if let Some(s) = self.read().stats.get(key) {
            return *s;
        }
        // A path ending in `..` has no name to be dropped by, and one
        // stepping out of a symlink is dropped by none (see
        // `steps_out_of_a_link`): not kept.
        if path.file_name().is_none() || steps_out_of_a_link(path) {
            self.unkept();
            return Stat::of(path);
        }
        let began = self.writes.load(Ordering::SeqCst);
        let stat = match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                self.unkept();
                return Stat::of(path);
            }
            Ok(m) => Some(Stat::from(&m)),
            Err(_) => None,
        };
        let mut a = self.write();
        if self.writes.load(Ordering::SeqCst) != began {
            // Maybe from before a write: good for this ask only.
            drop(a);
            self.dropped();
        } else if a.stats.insert(key.to_vec(), stat).is_none() {
            a.index(path);
        }
        stat
    }

    /// `path`'s stat (symlinks followed), taken once a process: for a file
    /// taken not to change while it lasts (see the module doc), so no write
    /// drops it.
    pub fn stat_system(&self, path: &Path) -> Option<Stat> {
        let key = path.as_os_str().as_bytes();
        let kept = self.system.read().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = kept.get(key) {
            return *s;
        }
        drop(kept);
        let s = Stat::of(path);
        let mut kept = self.system.write().unwrap_or_else(|e| e.into_inner());
        kept.insert(key.to_vec(), s);
        s
    }

    /// An answer is given that is not kept, so no drop would show that a
    /// write changed it: the next write ends the epoch. Called before the
    /// answer is taken, so a write told after that sees it.
    fn unkept(&self) {
        self.unkept.store(true, Ordering::SeqCst);
    }

    /// The names in directory `dir`, listed once while kept; None if it
    /// cannot be listed.
    pub fn names_in(&self, dir: &Path) -> Option<Arc<FxHashSet<OsString>>> {
        let key = dir.as_os_str().as_bytes();
        if let Some(l) = self.read().listings.get(key) {
            return Some(Arc::clone(l));
        }
        let began = self.writes.load(Ordering::SeqCst);
        // Listed through a symlink: not kept (see the module doc).
        let link = std::fs::symlink_metadata(dir)
            .ok()?
            .file_type()
            .is_symlink();
        let kept = !link && dir.file_name().is_some();
        if !kept {
            self.unkept();
        }
        let names: FxHashSet<OsString> = std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.file_name())
            .collect();
        let names = Arc::new(names);
        if kept {
            let mut a = self.write();
            if self.writes.load(Ordering::SeqCst) != began {
                drop(a);
                self.dropped();
            } else if a
                .listings
                .insert(key.to_vec(), Arc::clone(&names))
                .is_none()
            {
                a.index(dir);
            }
        }
        Some(names)
    }

    /// The build wrote or removed the file (or symlink) at `path`: its
    /// answers and its directory's go, or all of them for a symlink.
    pub fn wrote(&self, path: &Path) {
        let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        match link {
            true => {
                self.recheck();
                self.forget_all()
            }
            false => self.wrote_file(path),
        }
    }

    /// `wrote` of a path known to hold no symlink (a file the build has
    /// just put there, or removed), which is not looked at again; or a
    /// symlink that leads to no directory and replaced none that did: no
    /// path went or goes through it, so only what its name names changed.
    pub fn wrote_file(&self, path: &Path) {
        let dir = path.parent().unwrap_or(Path::new(""));
        let mut a = self.write();
        // Stat'ed only if an answer of the same name is kept, and once.
        let kept = a.dir_ids.get(dir.as_os_str().as_bytes()).copied();
        let found = std::cell::OnceCell::new();
        let id = || kept.unwrap_or_else(|| *found.get_or_init(|| dir_id(dir)));
        self.writes.fetch_add(1, Ordering::SeqCst);
        let mut changed = false;
        if let Some(name) = path.file_name() {
            let in_dir = |a: &Answers, p: &Path| p.parent().is_none_or(|d| a.may_be_dir(d, id()));
            changed |= a.drop_name_if(name, in_dir);
        }
        if let Some(name) = dir.file_name() {
            changed |= a.drop_name_if(name, |a, p| a.may_be_dir(p, id()));
        }
        if let Some(&found) = found.get() {
            a.dir_ids.insert(dir.as_os_str().as_bytes().into(), found);
        }
        self.end_epoch_if(changed);
    }

    /// `wrote_file` of a file put where a symlink to a directory was:
    /// every path through the old link named a file in that directory and
    /// now names nothing. Those spelled through `path` are dropped (every
    /// kept answer looked at: this is rare); one spelled otherwise keeps
    /// its answer (see the module doc).
    pub fn wrote_over_dir_link(&self, path: &Path) {
        self.wrote_file(path);
        let mut a = self.write();
        self.writes.fetch_add(1, Ordering::SeqCst);
        let mut under = path.as_os_str().as_bytes().to_vec();
        under.push(b'/');
        let keys = a.stats.keys().chain(a.listings.keys());
        let through = keys.filter(|k| k.starts_with(&under));
        let gone: Vec<PathBuf> = through
            .map(|k| PathBuf::from(OsStr::from_bytes(k)))
            .collect();
        a.forget(&gone);
        self.relinked.fetch_add(1, Ordering::SeqCst);
        // Whatever was dropped: what was made from the include dirs'
        // canonical paths (the compile templates) lasts an epoch.
        self.end_epoch_if(true);
    }

    /// A number that changes whenever a write may have changed where a
    /// name leads (a command ran, a symlink was written, a file replaced a
    /// link to a dir), not when a file was written: the include dirs'
    /// canonical paths (`SearchDirs`) are found again then.
    pub fn relinked(&self) -> u64 {
        self.relinked.load(Ordering::SeqCst)
    }

    /// The build made directory `dir` and maybe its missing parents: each
    /// of them and the one above are forgotten, and the paths stepping out
    /// of one so named.
    pub fn made_dir(&self, dir: &Path) {
        let mut a = self.write();
        self.writes.fetch_add(1, Ordering::SeqCst);
        a.dir_ids.clear();
        let mut changed = false;
        for d in dir.ancestors() {
            if let Some(name) = d.file_name() {
                changed |= a.drop_name_if(name, |_, _| true);
                changed |= a.drop_through(name);
            }
        }
        self.end_epoch_if(changed);
    }

    /// When the answers kept now began to be taken (ns since the epoch):
    /// none is older.
    pub fn since_ns(&self) -> i64 {
        self.since_ns.load(Ordering::SeqCst)
    }

    /// A file whose kept answer no longer holds, found since the last
    /// call: a file changed by hand during the build (the build's own
    /// writes drop their answers first). What was decided from the
    /// answers (a memo hit's key) may not hold for it, though what the
    /// build logs says it does: the caller asks before a command ends the
    /// answers (`forget_all`), and as the build ends. Files only: an
    /// absent name or a directory that changed (a header added where an
    /// include looked) is not among an edge's inputs, so ninja would not
    /// rebuild for it either.
    pub fn changed_file(&self) -> Option<PathBuf> {
        self.recheck();
        self.changed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Notes the first kept file whose stat changed, if none is noted.
    fn recheck(&self) {
        let mut noted = self.changed.lock().unwrap_or_else(|e| e.into_inner());
        if noted.is_some() {
            return;
        }
        let a = self.read();
        *noted = a.stats.iter().find_map(|(path, kept)| {
            let kept = kept.filter(Stat::is_file)?;
            let path = Path::new(OsStr::from_bytes(path));
            let now = std::fs::symlink_metadata(path).ok();
            (now.map(|m| Stat::from(&m)) != Some(kept)).then(|| path.to_path_buf())
        });
    }

    /// Anything may have changed (a command ran): every answer goes.
    pub fn forget_all(&self) {
        let mut a = self.write();
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.relinked.fetch_add(1, Ordering::SeqCst);
        self.since_ns.store(now_ns(), Ordering::SeqCst);
        *a = Answers::default();
        self.unkept.store(false, Ordering::SeqCst);
        self.dropped();
    }

    /// A write was told: the epoch ends if an answer was `dropped`, or an
    /// answer not kept may have been given in it.
    fn end_epoch_if(&self, dropped: bool) {
        if self.unkept.swap(false, Ordering::SeqCst) || dropped {
            self.dropped();
        }
    }

    /// A number, never 0, that changes whenever a write may have changed
    /// an answer given since it began (see the module doc), and is never
    /// another `RunStats`'s: what was decided from the answers in one
    /// epoch holds while it lasts (the keys of the edges made at once
    /// share one).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Called after answers were dropped, so an epoch read since sees it.
    fn dropped(&self) {
        let next = EPOCHS.fetch_add(1, Ordering::Relaxed);
        self.epoch.store(next, Ordering::Release);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Answers> {
        self.answers.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Answers> {
        self.answers.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kept stat stands until the build says the file (or its dir)
    /// was written; a path reaching the file through a directory symlink
    /// is dropped with it.
    #[test]
    fn a_kept_stat_goes_when_the_file_or_its_dir_is_written() {
        let d = tempfile::tempdir().unwrap();
        let gen = d.path().join("gen");
        std::fs::create_dir(&gen).unwrap();
        std::os::unix::fs::symlink(&gen, d.path().join("inc")).unwrap();
        let (h, alias) = (gen.join("a.h"), d.path().join("inc/a.h"));
        let stats = RunStats::default();
        assert_eq!(stats.stat(&h), None);
        assert_eq!(stats.stat(&alias), None);
        std::fs::write(&h, "x").unwrap();
        // Not told: the kept answers stand (this is what saves the stats).
        assert_eq!(stats.stat(&h), None);
        stats.wrote(&h);
        assert_eq!(stats.stat(&h), Stat::of(&h));
        assert!(stats.stat(&h).is_some());
        assert_eq!(stats.stat(&alias), Stat::of(&h));
        assert!(stats.names_in(&gen).unwrap().contains(OsStr::new("a.h")));
    }

    /// A file put where a symlink to a directory was drops the answers of
    /// the paths through it (and a listing through it), ending the epoch;
    /// a path beside it that only shares its name's start keeps its own.
    #[test]
    fn a_file_over_a_dir_link_drops_the_paths_through_it() {
        let d = tempfile::tempdir().unwrap();
        let (inc, gen, beside) = (
            d.path().join("inc"),
            d.path().join("gen"),
            d.path().join("gen2"),
        );
        std::fs::create_dir_all(inc.join("sub")).unwrap();
        std::fs::create_dir(&beside).unwrap();
        std::fs::write(inc.join("x.h"), "x").unwrap();
        std::fs::write(beside.join("y.h"), "y").unwrap();
        std::os::unix::fs::symlink(&inc, &gen).unwrap();
        let stats = RunStats::default();
        let (through, other) = (gen.join("x.h"), beside.join("y.h"));
        assert!(stats.stat(&through).is_some());
        assert!(stats.names_in(&gen.join("sub")).is_some());
        let kept = stats.stat(&other);
        let epoch = stats.epoch();
        std::fs::remove_file(&gen).unwrap();
        std::fs::write(&gen, "a file").unwrap();
        stats.wrote_over_dir_link(&gen);
        assert_eq!(stats.stat(&through), None);
        assert!(stats.names_in(&gen.join("sub")).is_none());
        assert_ne!(stats.epoch(), epoch);
        std::fs::write(&other, "longer").unwrap();
        assert_eq!(stats.stat(&other), kept, "not through it: kept");
    }

    /// A write into a directory keeps the answers of same-named files in
    /// other directories, which directory it is being found once; one the
    /// build made since is found again (here a symlink to where the kept
    /// file is, through which the write reached it).
    #[test]
    fn a_write_drops_a_same_named_answer_only_in_its_own_directory() {
        let d = tempfile::tempdir().unwrap();
        let (src, out) = (d.path().join("src"), d.path().join("out"));
        std::fs::create_dir(&src).unwrap();
        std::fs::create_dir(&out).unwrap();
        let (kept, written) = (src.join("a.h"), out.join("a.h"));
        std::fs::write(&kept, "x").unwrap();
        let stats = RunStats::default();
        let before = stats.stat(&kept);
        assert!(before.is_some());
        std::fs::write(&written, "y").unwrap();
        stats.wrote_file(&written);
        stats.wrote_file(&written);
        std::fs::write(&kept, "longer").unwrap();
        assert_eq!(stats.stat(&kept), before, "another directory's: kept");
        std::fs::remove_dir_all(&out).unwrap();
        std::os::unix::fs::symlink(&src, &out).unwrap();
        stats.made_dir(&out);
        stats.wrote_file(&written);
        assert_eq!(stats.stat(&kept), Stat::of(&kept));
        assert_ne!(stats.stat(&kept), before);
    }

    /// A path stepping out of a directory with `..` resolves once the
    /// build makes the directory, though neither its name nor its
    /// directory's is the one made: its kept answer goes, and the epoch
    /// ends; a dir made elsewhere keeps it.
    #[test]
    fn a_path_stepping_out_of_a_made_dir_is_asked_again() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::write(r.join("y.h"), "x").unwrap();
        std::fs::create_dir(r.join("sub")).unwrap();
        let (through, deep) = (r.join("x/../y.h"), r.join("a/b/../../sub"));
        let stats = RunStats::default();
        assert_eq!(stats.stat(&through), None);
        assert_eq!(stats.stat(&deep), None);
        let e = stats.epoch();
        std::fs::create_dir(r.join("other")).unwrap();
        stats.made_dir(&r.join("other"));
        assert_eq!(stats.epoch(), e);
        std::fs::create_dir(r.join("x")).unwrap();
        stats.made_dir(&r.join("x"));
        assert_ne!(stats.epoch(), e);
        assert_eq!(stats.stat(&through), Stat::of(&r.join("y.h")));
        std::fs::create_dir_all(r.join("a/b")).unwrap();
        stats.made_dir(&r.join("a/b"));
        assert!(stats.stat(&deep).is_some_and(|s| s.is_dir()));
        // Out of a symlink to a dir not made yet, told by its own name.
        std::os::unix::fs::symlink("gen/sub", r.join("l")).unwrap();
        std::fs::create_dir(r.join("gen")).unwrap();
        std::fs::write(r.join("gen/y.h"), "x").unwrap();
        let linked = r.join("l/../y.h");
        assert_eq!(stats.stat(&linked), None);
        std::fs::create_dir(r.join("gen/sub")).unwrap();
        stats.made_dir(&r.join("gen/sub"));
        assert_eq!(stats.stat(&linked), Stat::of(&r.join("gen/y.h")));
    }

    /// A symlink to a file, told as a file (a restored `libx.so`), drops
    /// the answers of its name: the path now leads to the file.
    #[test]
    fn a_file_link_told_as_a_file_is_asked_again() {
        let d = tempfile::tempdir().unwrap();
        let (file, link) = (d.path().join("libx.so.1"), d.path().join("libx.so"));
        std::fs::write(&file, "elf").unwrap();
        let stats = RunStats::default();
        assert_eq!(stats.stat(&link), None);
        std::os::unix::fs::symlink("libx.so.1", &link).unwrap();
        stats.wrote_file(&link);
        assert_eq!(stats.stat(&link), Stat::of(&file));
    }

    /// A system file's stat is taken once a process: neither a write told
    /// nor a command run drops it (it is taken not to change), and the
    /// run's own answers do not stand in for it.
    #[test]
    fn a_system_stat_is_taken_once_a_process() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("sys.h");
        std::fs::write(&h, "one").unwrap();
        let stats = RunStats::default();
        let first = stats.stat_system(&h);
        assert_eq!(first, Stat::of(&h));
        std::fs::write(&h, "longer").unwrap();
        stats.wrote(&h);
        stats.forget_all();
        assert_eq!(stats.stat_system(&h), first);
        assert_eq!(stats.stat(&h), Stat::of(&h));
        assert_ne!(stats.stat(&h), first);
    }

    #[test]
    fn a_listing_goes_when_a_file_in_it_is_written_and_all_go_after_a_command() {
        let d = tempfile::tempdir().unwrap();
        let stats = RunStats::default();
        assert!(stats.names_in(d.path()).unwrap().is_empty());
        let b = d.path().join("b.h");
        std::fs::write(&b, "").unwrap();
        assert!(stats.names_in(d.path()).unwrap().is_empty());
        stats.wrote(&b);
        assert_eq!(stats.names_in(d.path()).unwrap().len(), 1);
        let c = d.path().join("sub/c.h");
        assert_eq!(stats.stat(&c), None);
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(&c, "").unwrap();
        stats.forget_all();
        assert!(stats.stat(&c).is_some());
    }

    /// The epoch ends with a write only if the write may have changed an
    /// answer given in it: one kept for the written name or its dir's, or
    /// one not kept (a symlink's).
    #[test]
    fn an_epoch_ends_when_a_write_may_have_changed_an_answer() {
        let d = tempfile::tempdir().unwrap();
        let (sub, other) = (d.path().join("sub"), d.path().join("other"));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        let (h, o) = (sub.join("a.h"), other.join("x.o"));
        std::fs::write(&h, "").unwrap();
        let stats = RunStats::default();
        let e = stats.epoch();
        stats.stat(&h);
        stats.wrote(&o);
        assert_eq!(stats.epoch(), e, "nothing asked of other/x.o");
        stats.wrote(&sub.join("b.h"));
        assert_eq!(stats.epoch(), e, "nothing asked of sub or b.h");
        stats.names_in(&sub);
        stats.wrote(&sub.join("b.h"));
        let e2 = stats.epoch();
        assert_ne!(e2, e, "sub's listing");
        stats.names_in(&sub);
        stats.made_dir(&other.join("new"));
        assert_eq!(stats.epoch(), e2);
        stats.made_dir(&sub.join("new"));
        assert_ne!(stats.epoch(), e2);
        // Through a symlink: not kept, so any write ends the epoch.
        std::os::unix::fs::symlink(&h, d.path().join("l.h")).unwrap();
        stats.stat(&d.path().join("l.h"));
        let e3 = stats.epoch();
        stats.wrote(&o);
        assert_ne!(stats.epoch(), e3);
        let e4 = stats.epoch();
        stats.wrote(&o);
        assert_eq!(stats.epoch(), e4, "once");
    }

    /// A write drops no answer of a path that shows another directory:
    /// two targets' objects of one name, a source dir named as an object
    /// dir; a path through a symlink to the written dir goes.
    #[test]
    fn a_write_keeps_the_answers_of_other_dirs_of_the_same_names() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a.dir/src/t"), d.path().join("src/t"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let (ao, bo) = (a.join("x.o"), b.join("x.o"));
        std::fs::write(&bo, "").unwrap();
        let stats = RunStats::default();
        let kept = stats.stat(&bo);
        let listed = stats.names_in(&b).unwrap();
        let e = stats.epoch();
        std::fs::write(&ao, "new").unwrap();
        stats.wrote(&ao);
        assert_eq!(stats.epoch(), e);
        // Still the kept answers: b's file changed untold is not seen.
        std::fs::write(&bo, "changed").unwrap();
        assert_eq!(stats.stat(&bo), kept);
        assert!(Arc::ptr_eq(&stats.names_in(&b).unwrap(), &listed));
        std::os::unix::fs::symlink(&a, d.path().join("alias")).unwrap();
        let via = d.path().join("alias/x.o");
        let before = stats.stat(&via);
        std::fs::write(&ao, "newer!").unwrap();
        stats.wrote(&ao);
        assert_ne!(stats.stat(&via), before);
        assert_ne!(stats.epoch(), e);
    }

    /// A symlink's stat is never kept (what it points to may change under
    /// another name), and writing one drops everything.
    #[test]
    fn symlinks_are_stat_ed_every_time() {
        let d = tempfile::tempdir().unwrap();
        let (a, b, link) = (d.path().join("a"), d.path().join("b"), d.path().join("l"));
        std::fs::write(&a, "1").unwrap();
        std::fs::write(&b, "22").unwrap();
        std::os::unix::fs::symlink(&a, &link).unwrap();
        let stats = RunStats::default();
        assert_eq!(stats.stat(&link).unwrap().size(), 1);
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&b, &link).unwrap();
        assert_eq!(stats.stat(&link).unwrap().size(), 2);
        let other = d.path().join("other");
        assert_eq!(stats.stat(&other), None);
        std::fs::write(&other, "").unwrap();
        stats.wrote(&link);
        assert!(stats.stat(&other).is_some());
    }
}
