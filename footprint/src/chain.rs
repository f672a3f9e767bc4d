//! The include search chain of one compile setting, as GCC builds it from
//! `-iquote`, `-I`, `-isystem`, `-idirafter`, `--sysroot` and the built-in
//! dirs, and where a `#include` or `#include_next` of a name lands in it.
//! Also what the disk says of include dirs: their canonical paths and
//! which files exist in them. Unaware of what files include, of commands
//! and of how the built-in dirs were found.

use crate::args::Settings;
use crate::paths::{clean, is_file};
use crate::stats::RunStats;
use crate::toolchain::BuiltinDirs;
use crate::DirectiveKind;
use rustc_hash::FxHashMap;
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Whether files exist, by absolute path. Keyed by the path's bytes:
/// hashing a `Path` walks its components.
type Exists = Arc<RwLock<FxHashMap<OsString, bool>>>;

/// Where a scanned file was found, which decides where `#include_next`
/// continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Pos {
    /// A source named on the command line.
    Root,
    /// Relative to the includer's directory (or cwd, for `-include`).
    Local,
    /// In the search chain at this index.
    Chain(usize),
}

/// An include directive as the walk meets it: in `from`, of `kind`, for
/// `name`, spelled with quotes or angle brackets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wanted<'a> {
    pub from: &'a Node,
    pub kind: DirectiveKind,
    pub name: &'a str,
    pub quoted: bool,
}

/// A file to scan: as it was found (relative to cwd or absolute) and where.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub path: PathBuf,
    pub pos: Pos,
}

/// Canonical dirs and file existence in include dirs, shared by every
/// chain. Files under built-in dirs are assumed not to come or go; the
/// answers for the others are the run's stats ([`RunStats`]: kept until the
/// build writes there).
#[derive(Default)]
pub(crate) struct SearchDirs {
    canon: RwLock<FxHashMap<OsString, Canon>>,
    sys_exists: Exists,
    stats: Arc<RunStats>,
}

/// A dir's canonical path, the dir it named (device and inode), and when
/// it was last found (`RunStats::relinked`): after a write that may have
/// changed where the name leads (a command ran, a file replaced a link to
/// a dir), the name is stat'ed again.
struct Canon {
    path: PathBuf,
    id: (u64, u64),
    relinked: u64,
}

impl SearchDirs {
    /// The run's stats, through which files outside the built-in dirs are
    /// looked for.
    pub fn run_stats(&self) -> &Arc<RunStats> {
        &self.stats
    }

    /// The canonical path of the directory `dir` (relative to `cwd`), or
    /// `None` if there is no such directory (yet).
    pub fn canon_dir(&self, dir: &Path, cwd: &Path) -> Option<PathBuf> {
        use std::os::unix::fs::MetadataExt;
        let abs = cwd.join(dir);
        let relinked = self.stats.relinked();
        let kept = self
            .canon
            .read()
            .unwrap()
            .get(abs.as_os_str())
            .map(|c| (c.relinked, c.id, c.path.clone()));
        if let Some((when, _, path)) = &kept {
            if *when == relinked {
                return Some(path.clone());
            }
        }
        // A missing dir (`-Igen` before anything is generated) costs one
        // stat, as does a kept one after a relink; realpath would readlink
        // every component, again and again.
        let meta = std::fs::metadata(&abs).ok().filter(|m| m.is_dir())?;
        let id = (meta.dev(), meta.ino());
        let path = match kept.filter(|k| k.1 == id) {
            Some((_, _, path)) => path,
            None => std::fs::canonicalize(&abs).ok()?,
        };
        let canon = Canon {
            path: path.clone(),
            id,
            relinked,
        };
        self.canon.write().unwrap().insert(abs.into(), canon);
        Some(path)
    }

    /// The chain of `s` with the compiler's built-in dirs `b`, with GCC's
    /// rules for dirs named twice.
    pub fn chain(&self, s: &Settings, b: &BuiltinDirs, cwd: &Path) -> Chain {
        let sysrooted = |d: &String| -> PathBuf {
            let root = s.sysroot.as_deref().unwrap_or_default();
            match d.strip_prefix('=').or_else(|| d.strip_prefix("$SYSROOT")) {
                Some(r) => PathBuf::from(format!("{root}{r}")),
                None => PathBuf::from(d),
            }
        };
        // (as named, canonical, system), for the dirs that exist.
        let entries = |v: Vec<(PathBuf, bool)>| -> Vec<(PathBuf, PathBuf, bool)> {
            let existing = v.into_iter().filter_map(|(p, sys)| {
                let c = self.canon_dir(&p, cwd)?;
                Some((clean(p), c, sys))
            });
            existing.collect()
        };
        let user = |v: &[String], sys: bool| -> Vec<(PathBuf, bool)> {
            v.iter().map(|d| (sysrooted(d), sys)).collect()
        };
        let builtin = |v: &[PathBuf]| -> Vec<(PathBuf, bool)> {
            v.iter().map(|p| (p.clone(), true)).collect()
        };
        // Named dirs not there yet (`-Igen`): where generated headers land.
        let missing_dirs = [&s.iquote, &s.include_dirs, &s.isystem, &s.idirafter]
            .into_iter()
            .flat_map(|v| v.iter().map(sysrooted))
            .filter(|p| self.canon_dir(p, cwd).is_none())
            .map(clean)
            .collect();
        let mut quote = entries([user(&s.iquote, false), builtin(&b.quote)].concat());
        let mut bracket = entries(
            [
                user(&s.include_dirs, false),
                user(&s.isystem, true),
                builtin(&b.angle),
                user(&s.idirafter, true),
            ]
            .concat(),
        );
        // GCC: a non-system dir that is also a system dir is dropped; later
        // duplicates are dropped.
        let system: HashSet<PathBuf> = bracket
            .iter()
            .filter(|e| e.2)
            .map(|e| e.1.clone())
            .collect();
        let mut seen = HashSet::new();
        bracket.retain(|e| (e.2 || !system.contains(&e.1)) && seen.insert(e.1.clone()));
        let mut seen = HashSet::new();
        quote.retain(|e| !system.contains(&e.1) && seen.insert(e.1.clone()));
        let angle_start = quote.len();
        let mut sys: Vec<PathBuf> = b.quote.iter().chain(&b.angle).cloned().collect();
        // /usr/include holds the others: keep only the outermost prefixes.
        sys.sort();
        sys.dedup_by(|later, earlier| later.starts_with(&*earlier));
        Chain {
            dirs: quote.into_iter().chain(bracket).map(|e| e.0).collect(),
            missing_dirs,
            angle_start,
            sys,
            sys_exists: Arc::clone(&self.sys_exists),
            stats: Arc::clone(&self.stats),
            lookups: RwLock::default(),
        }
    }
}

/// The include search chain: quote-only dirs first, then from `angle_start`
/// the dirs `<...>` includes search.
pub(crate) struct Chain {
    dirs: Vec<PathBuf>,
    /// The dirs named that did not exist when the chain was made.
    missing_dirs: Vec<PathBuf>,
    angle_start: usize,
    /// The compiler's built-in dirs (canonical): assumed not to change.
    sys: Vec<PathBuf>,
    sys_exists: Exists,
    stats: Arc<RunStats>,
    /// Resolved lookups of (chain start, include name), by every source
    /// compiled with this chain.
    lookups: RwLock<HashMap<(usize, String), Option<Node>>>,
}

impl Chain {
    /// Whether a dir it names did not exist when it was made: one made
    /// since (`gen/` under `-Igen`, or the `gen` of `-Igen/../inc`) need
    /// not be told by its own name, so the chain is made again before the
    /// next edge (`Templates::invalidate`).
    pub fn lacks_a_dir(&self) -> bool {
        !self.missing_dirs.is_empty()
    }

    /// The compiler's built-in dirs.
    pub fn sys_dirs(&self) -> &[PathBuf] {
        &self.sys
    }

    /// Whether `abs` is under one of the compiler's built-in dirs.
    pub fn in_sys(&self, abs: &Path) -> bool {
        crate::paths::under_any(abs, &self.sys)
    }

    /// Whether `abs` is a regular file; answers for files under the
    /// built-in dirs are cached for the life of the scanner, the others
    /// are the run's stats. (Every quoted include is first looked for
    /// beside the file including it: in LLVM, a miss each time.)
    fn exists(&self, abs: &Path) -> bool {
        if !self.in_sys(abs) {
            return self.stats.stat(abs).is_some_and(|s| s.is_file());
        }
        let cache = &self.sys_exists;
        if let Some(&e) = cache.read().unwrap().get(abs.as_os_str()) {
            return e;
        }
        let e = is_file(abs);
        cache.write().unwrap().insert(abs.into(), e);
        e
    }

    /// Finds `name` in the chain from index `start`.
    pub fn lookup(&self, cwd: &Path, start: usize, name: &str) -> Option<Node> {
        let key = (start, name.to_string());
        if let Some(r) = self.lookups.read().unwrap().get(&key) {
            return r.clone();
        }
        let found = (start..self.dirs.len()).find_map(|i| {
            let p = self.dirs[i].join(name);
            self.exists(&cwd.join(&p)).then(|| Node {
                path: clean(p),
                pos: Pos::Chain(i),
            })
        });
        self.lookups.write().unwrap().insert(key, found.clone());
        found
    }

    /// Where the directive `kind` `name` in `from` lands: an absolute name
    /// as is; `#include_next` after `from`'s place in the chain; a quoted
    /// name beside `from`, then from the chain's start; an angled one from
    /// `angle_start`.
    pub fn resolve(&self, cwd: &Path, w: &Wanted) -> Option<Node> {
        let (from, name) = (w.from, w.name);
        if name.starts_with('/') {
            return is_file(Path::new(name)).then(|| Node {
                path: PathBuf::from(name),
                pos: Pos::Local,
            });
        }
        let (beside, start) = self.order(w);
        if beside {
            let p = from.path.parent().unwrap_or(Path::new("")).join(name);
            if self.exists(&cwd.join(&p)) {
                return Some(Node {
                    path: clean(p),
                    pos: Pos::Local,
                });
            }
        }
        self.lookup(cwd, start, name)
    }

    /// Whether a directive in `from` looks beside `from` first, and from
    /// which index of the chain it searches.
    fn order(&self, w: &Wanted) -> (bool, usize) {
        let next = matches!(
            w.kind,
            DirectiveKind::IncludeNext | DirectiveKind::HasIncludeNext
        );
        match w.from.pos {
            Pos::Local if next => (false, 0),
            Pos::Chain(i) if next => (false, i + 1),
            _ if !w.quoted => (false, self.angle_start),
            _ => (true, 0),
        }
    }

    /// Where [`Chain::resolve`] looked for `name` and found nothing,
    /// outside the built-in dirs (assumed not to change): the places a
    /// header generated later would be found.
    pub fn missed(&self, cwd: &Path, w: &Wanted) -> Vec<PathBuf> {
        let name = w.name;
        if name.starts_with('/') {
            return match self.in_sys(Path::new(name)) {
                true => Vec::new(),
                false => vec![PathBuf::from(name)],
            };
        }
        // Wherever in the chain they would come, once made.
        let later = self.missing_dirs.iter().map(|d| d.join(name));
        (self.candidates(w).into_iter().chain(later))
            .filter(|p| !self.in_sys(&cwd.join(p)))
            .map(clean)
            .collect()
    }

    /// Every place [`Chain::resolve`] may look for `name`, in its order
    /// (relative to cwd or absolute, as spelled): it takes the first
    /// regular file among them.
    pub fn candidates(&self, w: &Wanted) -> Vec<PathBuf> {
        let name = w.name;
        if name.starts_with('/') {
            return vec![PathBuf::from(name)];
        }
        let (beside, start) = self.order(w);
        let beside = beside.then(|| w.from.path.parent().unwrap_or(Path::new("")).join(name));
        let chain = self.dirs.iter().skip(start).map(|d| d.join(name));
        beside.into_iter().chain(chain).collect()
    }

    /// The dirs searched, in order (as named).
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Where a file found at `path` sits in the chain: the first dir it
    /// lies under, else beside its includer.
    pub fn position(&self, path: &Path) -> Pos {
        match self.dirs.iter().position(|d| path.starts_with(d)) {
            Some(i) => Pos::Chain(i),
            None => Pos::Local,
        }
    }

    /// What decides where names land, apart from the disk below the dirs:
    /// the dirs in order, where `<...>` starts, the dirs named but missing
    /// and the built-in dirs. Two chains alike here resolve alike.
    pub fn signature(&self) -> String {
        format!(
            "{:?}\0{}\0{:?}\0{:?}",
            self.dirs, self.angle_start, self.missing_dirs, self.sys
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::parse_driver_args;

    fn settings(flags: &str, cwd: &Path) -> Settings {
        let args: Vec<String> = flags.split_whitespace().map(String::from).collect();
        parse_driver_args(&args, false, cwd).settings
    }

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    }

    fn node(path: &str, pos: Pos) -> Node {
        Node {
            path: path.into(),
            pos,
        }
    }

    fn include<'a>(from: &'a Node, name: &'a str, quoted: bool) -> Wanted<'a> {
        Wanted {
            from,
            kind: DirectiveKind::Include,
            name,
            quoted,
        }
    }

    fn found(n: Option<Node>) -> Option<(PathBuf, Pos)> {
        n.map(|n| (n.path, n.pos))
    }

    #[test]
    fn quoted_angled_and_next_lookups_follow_gcc_order() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path();
        for f in ["q/a.h", "i/a.h", "s/a.h", "src/a.h", "i/b.h", "s/b.h"] {
            touch(cwd, f);
        }
        std::fs::create_dir(cwd.join("empty")).unwrap();
        let s = settings(
            "-iquote q -I i -I missing -I ./empty -isystem s -c src/x.c",
            cwd,
        );
        let chain = SearchDirs::default().chain(&s, &BuiltinDirs::default(), cwd);
        assert_eq!(chain.dirs, ["q", "i", "empty", "s"].map(PathBuf::from));
        let src = node("src/x.c", Pos::Root);
        let inc = |name, quoted| found(chain.resolve(cwd, &include(&src, name, quoted)));
        // Beside the includer first, then -iquote, then -I.
        assert_eq!(inc("a.h", true), Some(("src/a.h".into(), Pos::Local)));
        assert_eq!(inc("b.h", true), Some(("i/b.h".into(), Pos::Chain(1))));
        // <...> skips the -iquote dirs.
        assert_eq!(inc("a.h", false), Some(("i/a.h".into(), Pos::Chain(1))));
        assert_eq!(inc("none.h", false), None);
        // #include_next continues after the includer's dir.
        let next = |from: &Node| {
            found(chain.resolve(
                cwd,
                &Wanted {
                    kind: DirectiveKind::IncludeNext,
                    ..include(from, "a.h", false)
                },
            ))
        };
        assert_eq!(
            next(&node("i/a.h", Pos::Chain(1))),
            Some(("s/a.h".into(), Pos::Chain(3)))
        );
        assert_eq!(next(&node("s/a.h", Pos::Chain(3))), None);
    }

    /// A missing include was looked for beside its includer and in every
    /// dir after the chain's start, made yet or not, but not in the
    /// compiler's own dirs.
    #[test]
    fn a_missed_include_lists_where_it_would_land() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path();
        std::fs::create_dir_all(cwd.join("i")).unwrap();
        let s = settings("-iquote q -I i -I gen -c src/x.c", cwd);
        let sys = BuiltinDirs {
            angle: vec![cwd.join("i")],
            ..BuiltinDirs::default()
        };
        let chain = SearchDirs::default().chain(&s, &BuiltinDirs::default(), cwd);
        let src = node("src/x.c", Pos::Root);
        let missed = |quoted| chain.missed(cwd, &include(&src, "g.h", quoted));
        assert_eq!(
            missed(true),
            ["src/g.h", "i/g.h", "q/g.h", "gen/g.h"].map(PathBuf::from)
        );
        assert_eq!(
            missed(false),
            ["i/g.h", "q/g.h", "gen/g.h"].map(PathBuf::from)
        );
        let in_sys = SearchDirs::default().chain(&s, &sys, cwd);
        let missed = in_sys.missed(cwd, &include(&src, "g.h", false));
        assert_eq!(missed, ["q/g.h", "gen/g.h"].map(PathBuf::from));
    }

    #[test]
    fn a_dir_named_as_user_and_system_dir_is_searched_as_system() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path();
        for dir in ["a", "b"] {
            std::fs::create_dir(cwd.join(dir)).unwrap();
        }
        let s = settings("-I b -I a -isystem b -iquote a -I a -c x.c", cwd);
        let chain = SearchDirs::default().chain(&s, &BuiltinDirs::default(), cwd);
        assert_eq!(chain.angle_start, 1);
        assert_eq!(chain.dirs, ["a", "a", "b"].map(PathBuf::from));
    }

    /// A named dir that was a link to another named dir stands for it (GCC
    /// drops a dir named twice) only while it leads there: once the build
    /// puts a file in its place, the other dir is searched.
    #[test]
    fn a_dir_link_replaced_by_a_file_no_longer_stands_for_its_target() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path();
        touch(cwd, "inc1/x.h");
        std::os::unix::fs::symlink("inc1", cwd.join("gen")).unwrap();
        let dirs = SearchDirs::default();
        let s = settings("-I gen -I inc1 -c x.c", cwd);
        let chain = || dirs.chain(&s, &BuiltinDirs::default(), cwd);
        assert_eq!(chain().dirs, ["gen"].map(PathBuf::from));
        std::fs::remove_file(cwd.join("gen")).unwrap();
        std::fs::write(cwd.join("gen"), "a file").unwrap();
        assert_eq!(chain().dirs, ["gen"].map(PathBuf::from), "not told: kept");
        dirs.run_stats().wrote_over_dir_link(&cwd.join("gen"));
        let chain = chain();
        assert_eq!(chain.dirs, ["inc1"].map(PathBuf::from));
        let src = node("x.c", Pos::Root);
        let x = chain.resolve(cwd, &include(&src, "x.h", false));
        assert_eq!(found(x), Some(("inc1/x.h".into(), Pos::Chain(0))));
    }

    #[test]
    fn existence_is_remembered_until_forgotten() {
        let d = tempfile::tempdir().unwrap();
        let cwd = d.path();
        std::fs::create_dir(cwd.join("gen")).unwrap();
        let dirs = SearchDirs::default();
        let s = settings("-I gen -c x.c", cwd);
        let src = node("x.c", Pos::Root);
        let chain = dirs.chain(&s, &BuiltinDirs::default(), cwd);
        let angled = |c: &Chain| c.resolve(cwd, &include(&src, "g.h", false));
        assert!(angled(&chain).is_none());
        touch(cwd, "gen/g.h");
        // The same chain keeps its answer; a new one asks the disk again
        // once the build says it wrote there.
        assert!(angled(&chain).is_none());
        assert!(angled(&dirs.chain(&s, &BuiltinDirs::default(), cwd)).is_none());
        dirs.run_stats().wrote(&cwd.join("gen/g.h"));
        assert!(angled(&dirs.chain(&s, &BuiltinDirs::default(), cwd)).is_some());
    }
}
