//! The transitive header walk: from the sources, every file reachable
//! through `#include`-like directives resolved in a [`Chain`], level by
//! level and in parallel, with each file's directives cached by its stat
//! (see `saved_scans` for keeping them between runs). Unaware of compiler
//! flags, of how the chain was made and of the toolchain.

mod saved_scans;

use crate::chain::{Chain, Node, Pos, SearchDirs, Wanted};
use crate::paths::clean;
use crate::{parse_directives, Directive, DirectiveKind, IncludeTarget, LocalOnly};
use rayon::prelude::*;
use rustc_hash::FxHashSet;
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

/// A file's size, mtime and ctime (s, ns): with (device, inode), whether
/// its cached directives are still its own.
type FileStamp = (u64, i64, i64, i64, i64);

/// A file's key (device, inode) and the stamp its cached scan is kept
/// under: size, mtime and ctime.
fn identity(m: &std::fs::Metadata) -> ((u64, u64), FileStamp) {
    let stamp = (
        m.size(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
    );
    ((m.dev(), m.ino()), stamp)
}
/// A scanned file: (directory, name, where in the search chain it was
/// found). Paths as bytes: hashing a `Path` walks its components.
type Key = (OsString, OsString, Pos);
/// One frontier file's includes (with their keys), whether any was
/// computed, where missing includes would land, and every place an include
/// was looked for and not found.
type Scanned = Result<Includes, LocalOnly>;
type Includes = (
    Vec<(Node, Option<Key>)>,
    Computed,
    Vec<PathBuf>,
    Vec<PathBuf>,
    Option<Arc<Vec<Directive>>>,
);

/// Directives whose names only the preprocessor knows (`#include MACRO`,
/// `__has_include(MACRO)`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Computed {
    pub include: bool,
    /// A `__has_include` of a computed name: what it looked for is not
    /// even in the compiler's `-M` list.
    pub probe: bool,
}

impl std::ops::BitOrAssign for Computed {
    fn bitor_assign(&mut self, o: Computed) {
        self.include |= o.include;
        self.probe |= o.probe;
    }
}

/// What a walk found: the files, whether an include was computed, and
/// where includes not there now were looked for ([`Chain::missed`]).
pub(crate) struct Walked {
    pub found: Vec<PathBuf>,
    pub computed: Computed,
    pub absent: Vec<PathBuf>,
    /// Every place looked at and found empty on the way to an answer
    /// (relative to cwd or absolute; repeats possible): a file created at
    /// one changes the answer (see `recall`).
    pub misses: Vec<PathBuf>,
    /// Each file scanned (the roots too) with the directives the walk
    /// took from it.
    pub scanned: Vec<(PathBuf, Arc<Vec<Directive>>)>,
}

struct FileEntry {
    stamp: FileStamp,
    directives: Arc<Vec<Directive>>,
    /// Saves since a run last used it, as loaded (`saved_scans` drops an
    /// entry unused for long: its file is likely gone).
    unused_saves: u32,
    /// Whether this run used it.
    used: AtomicBool,
}

/// Every file's directives, read once per content.
#[derive(Default)]
pub(crate) struct Walker {
    /// By (device, inode), while the stamp matches.
    files: RwLock<HashMap<(u64, u64), FileEntry>>,
    /// Files under the built-in dirs, by path: assumed not to change, so
    /// not even stat'ed again.
    sys_files: RwLock<HashMap<PathBuf, Arc<Vec<Directive>>>>,
    /// How many files were read and parsed (cache misses).
    parsed: AtomicUsize,
}

impl Walker {
    pub fn parsed(&self) -> usize {
        self.parsed.load(Ordering::Relaxed)
    }

    /// Transitively scans `roots`: the files found (not the roots), whether
    /// a computed include was seen, where missing includes were looked for.
    /// A root that cannot be read makes the command local only.
    pub fn scan(
        &self,
        dirs: &SearchDirs,
        cwd: &Path,
        chain: &Chain,
        roots: Vec<Node>,
    ) -> Result<Walked, LocalOnly> {
        let mut visited: FxHashSet<Key> = FxHashSet::default();
        let mut frontier = Vec::new();
        for r in roots {
            let Some(k) = key_of(dirs, cwd, &r) else {
                if r.pos == Pos::Root {
                    return Err(missing_source(&r));
                }
                continue;
            };
            if visited.insert(k) {
                frontier.push(r);
            }
        }
        let mut found = Vec::new();
        let mut computed = Computed::default();
        let mut absent = Vec::new();
        let mut misses = Vec::new();
        let mut scanned = Vec::new();
        while !frontier.is_empty() {
            let scan_one = |n: &Node| self.includes(dirs, cwd, chain, n);
            // A source and stdc-predef.h are not worth a parallel split.
            let results: Vec<Scanned> = if frontier.len() < 8 {
                frontier.iter().map(scan_one).collect()
            } else {
                frontier.par_iter().map(scan_one).collect()
            };
            let mut next = Vec::new();
            for (r, n) in results.into_iter().zip(&frontier) {
                let (kids, comp, missed, empty, directives) = r?;
                scanned.extend(directives.map(|d| (n.path.clone(), d)));
                computed |= comp;
                absent.extend(missed);
                misses.extend(empty);
                for (k, key) in kids {
                    if key.is_some_and(|key| visited.insert(key)) {
                        found.push(k.path.clone());
                        next.push(k);
                    }
                }
            }
            frontier = next;
        }
        Ok(Walked {
            found,
            computed,
            absent,
            misses,
            scanned,
        })
    }

    /// The files `n` includes, each with its key, and whether it has a
    /// computed include.
    fn includes(&self, dirs: &SearchDirs, cwd: &Path, chain: &Chain, n: &Node) -> Scanned {
        let Some(directives) = self.directives(&cwd.join(&n.path), chain) else {
            if n.pos == Pos::Root {
                return Err(missing_source(n));
            }
            return Ok((
                Vec::new(),
                Computed::default(),
                Vec::new(),
                Vec::new(),
                None,
            ));
        };
        let mut computed = Computed::default();
        let mut kids = Vec::new();
        let mut missed = Vec::new();
        let mut empty = Vec::new();
        for d in directives.iter() {
            if d.kind == DirectiveKind::ReadsClock {
                return Err(LocalOnly::new(format!(
                    "{} names __DATE__ or __TIME__: what it builds holds the time it ran",
                    n.path.display()
                )));
            }
            let (name, quoted) = match &d.target {
                IncludeTarget::Computed => {
                    computed.include = true;
                    computed.probe |= matches!(
                        d.kind,
                        DirectiveKind::HasInclude | DirectiveKind::HasIncludeNext
                    );
                    continue;
                }
                IncludeTarget::Quoted(s) => (s, true),
                IncludeTarget::Angle(s) => (s, false),
            };
            let w = Wanted {
                from: n,
                kind: d.kind,
                name,
                quoted,
            };
            let mut looked = chain.candidates(&w);
            match chain.resolve(cwd, &w) {
                Some(k) => {
                    // The places before the one it was found at. (Not
                    // found among them: all of them, which `recall` then
                    // finds is no miss, and keeps nothing.)
                    let at = looked.iter().position(|c| clean(c.clone()) == k.path);
                    looked.truncate(at.unwrap_or(looked.len()));
                    let key = key_of(dirs, cwd, &k);
                    kids.push((k, key));
                }
                None => missed.extend(chain.missed(cwd, &w)),
            }
            empty.append(&mut looked);
        }
        Ok((kids, computed, missed, empty, Some(directives)))
    }

    /// The directives of the file `abs`, or `None` if it cannot be read.
    fn directives(&self, abs: &Path, chain: &Chain) -> Option<Arc<Vec<Directive>>> {
        let sys = chain.in_sys(abs);
        if sys {
            if let Some(d) = self.sys_files.read().unwrap().get(abs) {
                return Some(d.clone());
            }
        }
        // A stat, and the file is read only when its stamp is new. The
        // stamp is taken before reading, so what is cached under it is
        // never older than it.
        let m = std::fs::metadata(abs).ok()?;
        let (key, stamp) = identity(&m);
        let dirs = match self.cached(key, stamp) {
            Some(dirs) => dirs,
            None => self.parse_file(abs, &m, key, stamp)?,
        };
        if sys {
            let mut sys_files = self.sys_files.write().unwrap();
            sys_files.insert(abs.to_path_buf(), dirs.clone());
        }
        Some(dirs)
    }

    /// The directives cached for the file `key` if its stamp is still
    /// `stamp`; the entry is then marked used.
    fn cached(&self, key: (u64, u64), stamp: FileStamp) -> Option<Arc<Vec<Directive>>> {
        let files = self.files.read().unwrap();
        let e = files.get(&key).filter(|e| e.stamp == stamp)?;
        e.used.store(true, Ordering::Relaxed);
        Some(e.directives.clone())
    }

    /// Reads and parses a file `directives` has not seen with this stamp.
    fn parse_file(
        &self,
        abs: &Path,
        m: &std::fs::Metadata,
        key: (u64, u64),
        stamp: FileStamp,
    ) -> Option<Arc<Vec<Directive>>> {
        // Through `take`, which skips `File`'s own size probe (another
        // fstat and an lseek): the size is known.
        let mut text = Vec::with_capacity(m.size() as usize + 1);
        let file = std::fs::File::open(abs).ok()?;
        file.take(u64::MAX).read_to_end(&mut text).ok()?;
        self.parsed.fetch_add(1, Ordering::Relaxed);
        let directives = Arc::new(parse_directives(&text));
        let entry = FileEntry {
            stamp,
            directives: directives.clone(),
            unused_saves: 0,
            used: AtomicBool::new(true),
        };
        self.files.write().unwrap().insert(key, entry);
        Some(directives)
    }
}

/// One key per file and chain position, whatever the path it was reached
/// by; `None` if its directory does not exist.
fn key_of(dirs: &SearchDirs, cwd: &Path, n: &Node) -> Option<Key> {
    let parent = n.path.parent().unwrap_or(Path::new(""));
    Some((
        dirs.canon_dir(parent, cwd)?.into_os_string(),
        n.path.file_name()?.to_owned(),
        n.pos,
    ))
}

fn missing_source(n: &Node) -> LocalOnly {
    LocalOnly::new(format!("source not found: {}", n.path.display()))
}
