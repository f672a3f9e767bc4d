//! The dependency footprint of a build command: every file it can read.
//!
//! A [`Scanner`] takes a shell command line as ninja would run it and returns
//! a [`Footprint`]: the program, the source files named on the command line,
//! every header the preprocessor could include (a superset: all `#if`
//! branches are followed), the toolchain binaries and shared libraries, and
//! the outputs. Commands whose footprint cannot be known without running them
//! (shell pipelines, unreadable response files, ...) give [`LocalOnly`].
//!
//! ```no_run
//! use ggninja_footprint::{Scanner, Kind};
//! let scanner = Scanner::new();
//! let fp = scanner.footprint("gcc -Iinclude -c src/a.c -o a.o", std::path::Path::new("/build")).unwrap();
//! assert_eq!(fp.kind, Kind::Compile);
//! for h in &fp.headers { println!("{}", h.display()); }
//! ```
//!
//! How it works, per kind of command:
//!
//! * **Compile** (`gcc`, `g++`, `cc`, `c++`, `clang`, `clang++`, with any
//!   target prefix or version suffix, optionally behind `ccache`/`sccache`/
//!   `distcc`, with `-c`, `-S`, `-E`, `-M` or `-MM`): the include search chain
//!   is rebuilt from `-iquote`, `-I`, `-isystem`, `-idirafter`, `--sysroot`
//!   and the compiler's built-in directories (asked once per compiler,
//!   language and relevant flags with `-E -v`), with GCC's duplicate-removal
//!   rules. Every source and `-include`/`-imacros` file is scanned for
//!   `#include`, `#include_next`, `#import` and `__has_include`, transitively
//!   and in parallel; each file's directive list is cached by
//!   (device, inode, size, mtime, ctime). A computed `#include MACRO` makes the
//!   scanner also run the compiler's own `-M -MG` for that command and add
//!   its list (counted by [`Scanner::fallbacks`]).
//! * **Link** (the driver without `-c`, or `ld`): named objects and libraries,
//!   `-l` libraries resolved through `-L` and the compiler's search dirs
//!   (every `.so`/`.a` candidate in the first directory that has one;
//!   linker scripts such as `libc.so` are followed), files passed with
//!   `-Wl,`, the default libraries and crt files.
//! * **Archive** (`ar`): the members and the existing archive.
//! * **Other**: best effort only: the program, its interpreter if it is a
//!   script, and the arguments (or `--opt=value` values) naming existing
//!   files.
//!
//! Compile commands that differ only in their sources and outputs (the many
//! objects of one target) share a template: the search chain with its
//! lookups, the forced includes and the toolchain list are made once per
//! [`args::Settings`] until [`Scanner::invalidate`] says files may have come
//! or gone.
//!
//! For every kind, [`Footprint::toolchain`] has the program's symlink
//! targets and libraries, the sub-programs the driver runs (`cc1`/`cc1plus`, `as`, `collect2`, `ld`,
//! `lto-wrapper`, found with `-print-prog-name`), the shared libraries each
//! loads (`ldd`), symlink targets, and `/etc/ld.so.cache`.

pub mod args;
mod facts;
mod saved_scans;
mod scan;
mod shell;
mod tools;

pub use scan::{parse_directives, Directive, DirectiveKind, IncludeTarget};
pub use shell::{split_command, split_response_file};

use args::{DriverArgs, Lang};
use facts::{Answer, Stamp};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ffi::OsString;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// Compiler flags whose output records the working directory: debug info
/// (`DW_AT_comp_dir`) and coverage or profile data (absolute `.gcda` paths).
fn records_cwd(arg: &str) -> bool {
    (arg.starts_with("-g") && arg != "-g0")
        || arg == "--coverage"
        || arg == "-fprofile-arcs"
        || arg == "-ftest-coverage"
        || arg.starts_with("-fprofile-generate")
}

/// What kind of build step a command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A compiler driver that compiles (`-c`, `-S`, `-E`, `-M`, `-MM`).
    Compile,
    /// A compiler driver that links, or `ld`.
    Link,
    /// `ar`.
    Archive,
    /// Any other program (footprint is best effort).
    Other,
}

/// Every file a command may read, and the files it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    /// The command's words (launchers included).
    pub argv: Vec<String>,
    /// What kind of step this is.
    pub kind: Kind,
    /// Absolute path of the program run (resolved on `$PATH`, launchers such
    /// as `ccache` unwrapped).
    pub executable: PathBuf,
    /// Files named on the command line that it reads, as written (relative
    /// to `cwd` or absolute): sources, objects, response files, linker
    /// scripts, `-fplugin=`/`-specs=` files, and `-l` libraries as resolved.
    pub sources: Vec<PathBuf>,
    /// Every header the preprocessor can include, relative to `cwd` as found
    /// through a relative `-I` dir or absolute (built-in dirs are reported
    /// canonicalized). Sorted by bytes, no duplicates.
    pub headers: Vec<PathBuf>,
    /// The driver, its sub-programs, crt files, default libraries, and the
    /// shared libraries they load (absolute), but not `executable` itself.
    /// Sorted by bytes, no duplicates; shared by commands of one template.
    pub toolchain: Arc<Vec<PathBuf>>,
    /// Files written: `-o`, `-MF` (or the implied `.d` of `-MD`), the archive.
    pub outputs: Vec<PathBuf>,
    /// Whether the outputs can record the working directory: debug info
    /// (`-g`) and coverage data name the compile directory; any program we
    /// do not know may call getcwd.
    pub embeds_cwd: bool,
}

/// Why a command's footprint cannot be known; it must run locally.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("local only: {reason}")]
pub struct LocalOnly {
    /// Human-readable reason ("shell pipeline (|)", ...).
    pub reason: String,
}

impl LocalOnly {
    fn new(reason: impl Into<String>) -> LocalOnly {
        LocalOnly {
            reason: reason.into(),
        }
    }
}

type Memo<K, V> = Mutex<HashMap<K, Arc<OnceLock<V>>>>;
/// (compiler, language, flags that change its search dirs).
type BuiltinKey = (PathBuf, &'static str, Vec<String>);
/// Resolved lookups of (chain start, include name).
type LookupCache = RwLock<HashMap<(usize, String), Option<Node>>>;
/// A scanned file: (directory, name, where in the search chain it was found).
type Key = (OsString, OsString, Pos);
/// One frontier file's includes (with their cache keys) and whether any
/// was computed.
type Scanned = Result<(Vec<(Node, Option<Key>)>, bool), LocalOnly>;

fn memo<K: Eq + Hash, V: Clone>(m: &Memo<K, V>, k: K, f: impl FnOnce() -> V) -> V {
    let cell = m.lock().unwrap().entry(k).or_default().clone();
    cell.get_or_init(f).clone()
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct BuiltinDirs {
    quote: Vec<PathBuf>,
    angle: Vec<PathBuf>,
}

/// Compile (or link) commands that share a template.
#[derive(Clone, PartialEq, Eq, Hash)]
struct TemplateKey<P: AsRef<Path>, L, S> {
    exe: P,
    cwd: P,
    cxx: bool,
    /// The languages of the sources.
    langs: L,
    settings: S,
}

type TemplateCell = Arc<OnceLock<Result<Arc<Template>, LocalOnly>>>;
type OwnedKey = TemplateKey<PathBuf, Vec<Lang>, args::Settings>;
type KeyRef<'a> = TemplateKey<&'a Path, &'a [Lang], &'a args::Settings>;

/// Templates by their key, looked up without copying it (every compile
/// command looks one up).
#[derive(Default)]
struct Templates {
    by_hash: Mutex<FxHashMap<u64, Vec<(OwnedKey, TemplateCell)>>>,
}

impl Templates {
    fn cell(&self, k: &KeyRef) -> TemplateCell {
        let mut h = FxHasher::default();
        k.exe.as_os_str().as_bytes().hash(&mut h);
        k.cwd.as_os_str().as_bytes().hash(&mut h);
        (k.cxx, k.langs, k.settings).hash(&mut h);
        let same = |o: &OwnedKey| {
            o.exe.as_os_str() == k.exe.as_os_str()
                && o.cwd.as_os_str() == k.cwd.as_os_str()
                && o.cxx == k.cxx
                && o.langs == k.langs
                && o.settings == *k.settings
        };
        let mut map = self.by_hash.lock().unwrap();
        let bucket = map.entry(h.finish()).or_default();
        if let Some((_, cell)) = bucket.iter().find(|(o, _)| same(o)) {
            return Arc::clone(cell);
        }
        let owned = TemplateKey {
            exe: k.exe.to_path_buf(),
            cwd: k.cwd.to_path_buf(),
            cxx: k.cxx,
            langs: k.langs.to_vec(),
            settings: k.settings.clone(),
        };
        let cell = TemplateCell::default();
        bucket.push((owned, Arc::clone(&cell)));
        cell
    }

    fn clear(&self) {
        self.by_hash.lock().unwrap().clear();
    }
}

struct Template {
    /// One per preprocessed language.
    langs: Vec<LangTemplate>,
    toolchain: Arc<Vec<PathBuf>>,
    /// The compiler's library search dirs.
    lib_dirs: Vec<PathBuf>,
}

struct LangTemplate {
    lang: Lang,
    chain: Chain,
    /// `-include` files and stdc-predef.h: scanned with every source.
    forced: Vec<Node>,
    /// The forced files and any precompiled headers beside them.
    headers: Vec<PathBuf>,
    /// Lookups of (chain start, include name) by every source.
    lookups: LookupCache,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct CompilerInfo {
    /// Sub-program name → absolute path.
    progs: HashMap<String, PathBuf>,
    lib_dirs: Vec<PathBuf>,
    crt: Vec<PathBuf>,
    lto_plugin: Option<PathBuf>,
}

struct FileEntry {
    stamp: (u64, i64, i64, i64, i64),
    directives: Arc<Vec<Directive>>,
}

/// Computes footprints. Holds caches (file directive lists, compiler
/// built-in dirs, toolchain closures, compile templates); it is `Sync`, so
/// one scanner can be shared by rayon threads. Caches are only of facts that
/// are revalidated (file contents, keyed by inode and timestamps), that do
/// not change during a build (compiler configuration), or, for which files
/// exist in the project's include dirs, that hold until `invalidate`: a
/// build calls it before each scan, so headers generated between calls are
/// seen.
pub struct Scanner {
    files: RwLock<HashMap<(u64, u64), FileEntry>>,
    /// What the toolchain answered (see `facts`).
    builtin: Memo<BuiltinKey, Result<Arc<Answer<BuiltinDirs>>, String>>,
    compilers: Memo<(PathBuf, Vec<String>), Arc<Answer<CompilerInfo>>>,
    closures: Memo<PathBuf, Arc<Answer<Vec<PathBuf>>>>,
    ld_dirs: Memo<PathBuf, Arc<Answer<Vec<PathBuf>>>>,
    /// Questions asked by running a program (not answered by `facts`).
    toolchain_queries: AtomicUsize,
    programs: RwLock<FxHashMap<String, Option<PathBuf>>>,
    canon_dirs: RwLock<FxHashMap<OsString, PathBuf>>,
    sys_exists: Exists,
    /// The same for files in the project, until `invalidate`.
    local_exists: Exists,
    /// Per compile settings, until `invalidate`.
    templates: Templates,
    sys_files: RwLock<HashMap<PathBuf, Arc<Vec<Directive>>>>,
    fallbacks: AtomicUsize,
    files_parsed: AtomicUsize,
}

// The scanner is shared across rayon threads.
const _: fn() = || {
    fn check<T: Send + Sync>() {}
    check::<Scanner>();
};

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

/// Where a scanned file was found, which decides where `#include_next`
/// continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Pos {
    /// A source named on the command line.
    Root,
    /// Relative to the includer's directory (or cwd, for `-include`).
    Local,
    /// In the search chain at this index.
    Chain(usize),
}

#[derive(Debug, Clone)]
struct Node {
    path: PathBuf,
    pos: Pos,
}

/// The include search chain: quote-only dirs first, then from `angle_start`
/// the dirs `<...>` includes search.
struct Chain {
    dirs: Vec<PathBuf>,
    angle_start: usize,
    /// The compiler's built-in dirs (canonical): assumed not to change.
    sys: Vec<PathBuf>,
    sys_exists: Exists,
    local_exists: Exists,
}

/// Whether files exist, by absolute path. Keyed by the path's bytes:
/// hashing a `Path` walks its components.
type Exists = Arc<RwLock<FxHashMap<OsString, bool>>>;

impl Chain {
    /// Whether `abs` is a regular file; answers for files under the
    /// built-in dirs are cached for the life of the scanner, the others
    /// until [`Scanner::invalidate`]. (Every quoted include is first looked
    /// for beside the file including it: in LLVM, a miss each time.)
    fn exists(&self, abs: &Path) -> bool {
        let cache = match self.sys.iter().any(|d| abs.starts_with(d)) {
            true => &self.sys_exists,
            false => &self.local_exists,
        };
        if let Some(&e) = cache.read().unwrap().get(abs.as_os_str()) {
            return e;
        }
        let e = is_file(abs);
        cache.write().unwrap().insert(abs.into(), e);
        e
    }
}

const LAUNCHERS: &[&str] = &["ccache", "sccache", "distcc", "icecc", "buildcache"];

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Whether a program name is a GCC/Clang driver: `gcc`, `g++`, `cc`, `c++`,
/// `clang`, `clang++`, optionally with a `target-` prefix and `-version`
/// suffix (`x86_64-linux-gnu-gcc-12`, `clang++-16`).
pub fn is_compiler_name(name: &str) -> bool {
    let mut n = name;
    // strip a version suffix: -12, -12.2, 12 (gcc12 is unusual: only dashed)
    if let Some(dash) = n.rfind('-') {
        let suffix = &n[dash + 1..];
        if !suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_digit() || c == '.') {
            n = &n[..dash];
        }
    }
    ["gcc", "g++", "cc", "c++", "clang", "clang++"]
        .iter()
        .any(|c| n == *c || (n.ends_with(c) && n[..n.len() - c.len()].ends_with('-')))
}

fn is_ar_name(name: &str) -> bool {
    matches!(name, "ar" | "gcc-ar" | "llvm-ar")
        || name.ends_with("-ar")
        || name.starts_with("gcc-ar-")
        || name.starts_with("llvm-ar-")
}

fn is_ld_name(name: &str) -> bool {
    matches!(
        name,
        "ld" | "ld.bfd" | "ld.gold" | "ld.lld" | "lld" | "mold" | "ld.mold"
    ) || name.ends_with("-ld")
        || name.ends_with("-ld.bfd")
        || name.ends_with("-ld.gold")
}

/// A toolchain list: sorted (`sort_paths`), without the program itself.
fn toolchain_list(mut tc: Vec<PathBuf>, exe: &Path) -> Arc<Vec<PathBuf>> {
    sort_paths(&mut tc);
    tc.retain(|p| p.as_os_str() != exe.as_os_str());
    Arc::new(tc)
}

/// Sorts paths as bytes (cheaper than a set of paths, whose comparisons
/// walk components) and drops duplicates.
fn sort_paths(paths: &mut Vec<PathBuf>) {
    paths.sort_unstable_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    paths.dedup_by(|a, b| a.as_os_str() == b.as_os_str());
}

/// The files `rm [-f] [-r] FILE...` or `cmake -E rm|remove [-f] FILE...`
/// removes, or None for any other command.
fn removed_files(words: &[String]) -> Option<Vec<String>> {
    let args = match words {
        [rm, args @ ..] if basename(rm) == "rm" => args,
        [cmake, e, op, args @ ..]
            if basename(cmake) == "cmake" && e == "-E" && (op == "rm" || op == "remove") =>
        {
            args
        }
        _ => return None,
    };
    Some(
        args.iter()
            .filter(|a| !a.starts_with('-'))
            .cloned()
            .collect(),
    )
}

/// `cmake -E` commands that only read and write the files their arguments
/// name (not `env`, `chdir` or `time`, which run another program, nor
/// `copy_directory`, which reads a whole tree).
fn is_cmake_file_tool(words: &[String]) -> bool {
    const TOOLS: &[&str] = &[
        "cat",
        "compare_files",
        "copy",
        "copy_if_different",
        "create_hardlink",
        "create_symlink",
        "cmake_symlink_executable",
        "cmake_symlink_library",
        "echo",
        "echo_append",
        "false",
        "make_directory",
        "md5sum",
        "remove",
        "remove_directory",
        "rename",
        "rm",
        "sha1sum",
        "sha256sum",
        "sha512sum",
        "touch",
        "touch_nocreate",
        "true",
    ];
    match words {
        [cmake, e, tool, ..] => {
            basename(cmake) == "cmake" && e == "-E" && TOOLS.contains(&tool.as_str())
        }
        _ => false,
    }
}

/// `p` with `.` and `name/..` removed, without looking at the disk: how a
/// list's commands name one file, to match a write with a later read.
fn normal(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// Removes `.` components (keeps `..`: symlinks make it meaningful).
fn clean(p: PathBuf) -> PathBuf {
    if !p.components().any(|c| matches!(c, Component::CurDir)) {
        return p;
    }
    let c: PathBuf = p
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    if c.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        c
    }
}

fn is_file(p: &Path) -> bool {
    std::fs::metadata(p).map(|m| m.is_file()).unwrap_or(false)
}

impl Scanner {
    /// A scanner with empty caches.
    pub fn new() -> Scanner {
        Scanner {
            files: RwLock::new(HashMap::new()),
            builtin: Mutex::default(),
            compilers: Mutex::default(),
            closures: Mutex::default(),
            programs: RwLock::default(),
            ld_dirs: Mutex::default(),
            toolchain_queries: AtomicUsize::new(0),
            canon_dirs: RwLock::default(),
            sys_exists: Arc::default(),
            local_exists: Arc::default(),
            templates: Templates::default(),
            sys_files: RwLock::new(HashMap::new()),
            fallbacks: AtomicUsize::new(0),
            files_parsed: AtomicUsize::new(0),
        }
    }

    /// Takes what an earlier run saved in `dir` with [`Scanner::save`]: the
    /// toolchain's answers (`.ggninja_toolchain`) and every scanned file's
    /// directives (`.ggninja_scans`). Each is used only while the files it
    /// came from are unchanged; a missing or damaged file only costs time.
    pub fn load_saved(&self, dir: &Path) {
        rayon::join(
            || self.load_toolchain(&dir.join(".ggninja_toolchain")),
            || self.load_scans(&dir.join(".ggninja_scans")),
        );
    }

    /// Saves the toolchain's answers and the files' directives in `dir`,
    /// each atomically and only if it grew since `load_saved`.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        self.save_toolchain(&dir.join(".ggninja_toolchain"))?;
        self.save_scans(&dir.join(".ggninja_scans"))
    }

    /// How many questions were put to the toolchain by running a program
    /// (`-print-prog-name`, `-E -v`, `ldd`, ...) rather than answered from
    /// [`Scanner::load_toolchain`]'s saved answers.
    pub fn toolchain_queries(&self) -> usize {
        self.toolchain_queries.load(Ordering::Relaxed)
    }

    /// How many commands needed the compiler's own `-M` output because of a
    /// computed `#include MACRO`.
    pub fn fallbacks(&self) -> usize {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// How many files have been read and parsed (cache misses).
    pub fn files_parsed(&self) -> usize {
        self.files_parsed.load(Ordering::Relaxed)
    }

    /// `command` is the shell command as ninja would run it (via `/bin/sh
    /// -c`), `cwd` the build directory. Returns the footprint or why it
    /// cannot be known.
    pub fn footprint(&self, command: &str, cwd: &Path) -> Result<Footprint, LocalOnly> {
        let mut list = shell::split_list(command).map_err(LocalOnly::new)?;
        // `:` does nothing: CMake writes links as `: && CMD && :`.
        list.retain(|words| !matches!(words.as_slice(), [w] if w == ":" || w == "true"));
        match list.len() {
            0 => Err(LocalOnly::new("no command")),
            1 => {
                let argv = list.pop().unwrap_or_default();
                shell::check_simple(&argv).map_err(LocalOnly::new)?;
                self.simple(argv, cwd)
            }
            _ => self.list(command, list, cwd),
        }
    }

    /// One command's footprint.
    fn simple(&self, argv: Vec<String>, cwd: &Path) -> Result<Footprint, LocalOnly> {
        let mut skip = 0;
        while skip + 1 < argv.len()
            && LAUNCHERS.contains(&basename(&argv[skip]))
            && !argv[skip + 1].starts_with('-')
        {
            skip += 1;
        }
        let words = &argv[skip..];
        if LAUNCHERS.contains(&basename(&words[0])) {
            return Err(LocalOnly::new(format!(
                "launcher `{}` without a compiler",
                words[0]
            )));
        }
        let exe = self
            .program(&words[0], cwd)
            .ok_or_else(|| LocalOnly::new(format!("program not found: {}", words[0])))?;
        let name = basename(&words[0]);
        let mut rsp_files = Vec::new();
        let args = expand_rsp(&words[1..], cwd, &mut rsp_files, 0)?;
        let mut fp = Footprint {
            argv: Vec::new(),
            kind: Kind::Other,
            executable: exe.clone(),
            sources: rsp_files.into_iter().map(PathBuf::from).collect(),
            headers: Vec::new(),
            toolchain: Arc::default(),
            outputs: Vec::new(),
            embeds_cwd: false,
        };
        if is_compiler_name(name) {
            fp.toolchain = self.driver(&mut fp, name, &args, cwd)?;
        } else {
            let mut tc = self.program_files(&exe);
            if is_ar_name(name) {
                archive(&mut fp, &args, cwd)?;
                add_bfd_plugins(&mut tc);
            } else if is_ld_name(name) {
                self.linker(&mut fp, &mut tc, &args, cwd);
                add_bfd_plugins(&mut tc);
            } else if name == "ranlib" || name.ends_with("-ranlib") {
                // `ar s`: indexes the archives it is given, in place.
                fp.kind = Kind::Archive;
                let archives = args.iter().filter(|a| !a.starts_with('-'));
                fp.sources.extend(archives.map(PathBuf::from));
                fp.outputs = fp.sources.clone();
                add_bfd_plugins(&mut tc);
            } else {
                fp.embeds_cwd = true;
                if let Some(interp) = tools::shebang(&exe) {
                    tc.extend(self.closure(&interp).iter().cloned());
                }
                for a in &args {
                    let cand = if a.starts_with('-') {
                        a.split_once('=').map(|(_, v)| v)
                    } else {
                        Some(a.as_str())
                    };
                    if let Some(c) = cand.filter(|c| !c.is_empty()) {
                        if is_file(&cwd.join(c)) {
                            fp.sources.push(c.into());
                        }
                    }
                }
            }
            fp.toolchain = toolchain_list(tc, &exe);
        }
        fp.argv = argv;
        sort_paths(&mut fp.headers);
        Ok(fp)
    }

    /// An `A && B && ...` list (CMake's `rm -f lib.a && ar qc lib.a ... &&
    /// ranlib lib.a`, `cd DIR && ...`), run as `/bin/sh -c LIST`: every
    /// command's footprint, where a file an earlier command wrote or removed
    /// is not an input of a later one. Only lists of commands whose footprint
    /// is known (compile, link, archive, `cd`, `rm`, `cmake -E`) qualify: a
    /// script's (`python3 gen.py`) is a guess, so the list runs locally.
    fn list(
        &self,
        command: &str,
        list: Vec<Vec<String>>,
        cwd: &Path,
    ) -> Result<Footprint, LocalOnly> {
        let sh = PathBuf::from("/bin/sh");
        let mut tc = self.program_files(&sh);
        let mut fp = Footprint {
            argv: vec![sh.display().to_string(), "-c".into(), command.into()],
            kind: Kind::Other,
            executable: sh.clone(),
            sources: Vec::new(),
            headers: Vec::new(),
            toolchain: Arc::default(),
            outputs: Vec::new(),
            embeds_cwd: false,
        };
        let mut dir = cwd.to_path_buf();
        // Files written or removed so far, as lexically normal paths.
        let mut made: HashSet<PathBuf> = HashSet::new();
        for words in list {
            if let [cd, to] = words.as_slice() {
                if cd == "cd" && !to.starts_with('-') {
                    dir = dir.join(to);
                    continue;
                }
            }
            shell::check_simple(&words).map_err(LocalOnly::new)?;
            let removed = removed_files(&words);
            let file_tool = is_cmake_file_tool(&words);
            let step = self.simple(words, &dir)?;
            if step.kind == Kind::Other && removed.is_none() && !file_tool {
                let what = step.argv.first().map_or("", |w| w.as_str());
                return Err(LocalOnly::new(format!("command list running `{what}`")));
            }
            tc.extend(step.toolchain.iter().cloned());
            tc.push(step.executable.clone());
            // As the list's caller sees them: relative to `cwd` if they were.
            let here = |p: &Path| match dir.strip_prefix(cwd) {
                _ if p.is_absolute() => p.to_path_buf(),
                Ok(rel) => rel.join(p),
                Err(_) => dir.join(p),
            };
            if let Some(removed) = removed {
                made.extend(removed.iter().map(|f| normal(&dir.join(f))));
                continue;
            }
            for src in &step.sources {
                if !made.contains(&normal(&dir.join(src))) {
                    fp.sources.push(here(src));
                }
            }
            fp.headers.extend(step.headers.iter().map(|h| here(h)));
            for out in &step.outputs {
                made.insert(normal(&dir.join(out)));
                fp.outputs.push(here(out));
            }
            fp.embeds_cwd |= step.embeds_cwd;
            fp.kind = match (fp.kind, step.kind) {
                (Kind::Other, k) | (k, Kind::Other) => k,
                (Kind::Compile, _) | (_, Kind::Compile) => Kind::Compile,
                (Kind::Link, _) | (_, Kind::Link) => Kind::Link,
                _ => Kind::Archive,
            };
        }
        fp.sources.dedup();
        sort_paths(&mut fp.headers);
        fp.toolchain = toolchain_list(tc, &sh);
        Ok(fp)
    }

    /// Forgets which files exist in the project's include dirs (the compile
    /// templates): files may have been generated or removed since.
    pub fn invalidate(&self) {
        self.templates.clear();
        self.local_exists.write().unwrap().clear();
    }

    /// `name` resolved as the shell would; a bare name is looked up on PATH
    /// once per process (every compile edge names the same compiler).
    fn program(&self, name: &str, cwd: &Path) -> Option<PathBuf> {
        if name.contains('/') {
            return tools::resolve_program(name, cwd);
        }
        if let Some(p) = self.programs.read().unwrap().get(name) {
            return p.clone();
        }
        let p = tools::resolve_program(name, cwd);
        self.programs
            .write()
            .unwrap()
            .insert(name.to_string(), p.clone());
        p
    }

    /// What running `exe` reads whatever it does: its symlink targets and
    /// libraries, and the dynamic loader's cache.
    fn program_files(&self, exe: &Path) -> Vec<PathBuf> {
        static LD_SO_CACHE: OnceLock<bool> = OnceLock::new();
        let mut tc: Vec<PathBuf> = self.closure(exe).to_vec();
        if *LD_SO_CACHE.get_or_init(|| Path::new("/etc/ld.so.cache").exists()) {
            tc.push("/etc/ld.so.cache".into());
        }
        tc
    }

    /// The program, its canonical path, and its shared libraries.
    fn closure(&self, prog: &Path) -> Arc<Answer<Vec<PathBuf>>> {
        memo(&self.closures, prog.to_path_buf(), || {
            self.toolchain_queries.fetch_add(1, Ordering::Relaxed);
            let before = vec![Stamp::of(prog), Stamp::of(Path::new("/etc/ld.so.cache"))];
            let mut v = Vec::new();
            tools::with_canonical(prog, &mut v);
            for lib in tools::ldd(prog) {
                tools::with_canonical(&lib, &mut v);
            }
            let found = v.clone();
            Answer::new(v, before, &found)
        })
    }

    fn builtin_dirs(
        &self,
        compiler: &Path,
        lang: &'static str,
        flags: &[String],
    ) -> Result<Arc<Answer<BuiltinDirs>>, LocalOnly> {
        memo(
            &self.builtin,
            (compiler.to_path_buf(), lang, flags.to_vec()),
            || {
                self.toolchain_queries.fetch_add(1, Ordering::Relaxed);
                let before = vec![Stamp::of(compiler)];
                let mut a: Vec<String> = flags.to_vec();
                a.extend(["-x", lang, "-E", "-v", "/dev/null"].map(String::from));
                let (ok, _out, err) = tools::run(compiler, &a, Path::new("/"))?;
                if !ok {
                    return Err(format!(
                        "`{} -E -v` failed: {}",
                        compiler.display(),
                        err.lines().last().unwrap_or("")
                    ));
                }
                let mut b = BuiltinDirs::default();
                // Also stamped: the compiler proper it ran and the dirs it
                // skipped, whose creation would change the answer.
                let mut read_from = Vec::new();
                let mut section = 0;
                for line in err.lines() {
                    if let Some(d) = line.strip_prefix("ignoring nonexistent directory ") {
                        read_from.push(PathBuf::from(d.trim_matches('"')));
                    } else if section == 0 && line.starts_with(" /") {
                        read_from.extend(line.split_whitespace().next().map(PathBuf::from));
                    } else if line.starts_with("#include \"...\" search starts here") {
                        section = 1;
                    } else if line.starts_with("#include <...> search starts here") {
                        section = 2;
                    } else if line.starts_with("End of search list") {
                        section = 0;
                    } else if section > 0 && line.starts_with(' ') {
                        let d = line.trim().trim_end_matches(" (framework directory)");
                        let d = std::fs::canonicalize(d).unwrap_or_else(|_| PathBuf::from(d));
                        if section == 1 {
                            b.quote.push(d)
                        } else {
                            b.angle.push(d)
                        }
                    }
                }
                read_from.extend(b.quote.iter().chain(&b.angle).cloned());
                Ok(Answer::new(b, before, &read_from))
            },
        )
        .map_err(LocalOnly::new)
    }

    fn compiler_info(&self, compiler: &Path, flags: &[String]) -> Arc<Answer<CompilerInfo>> {
        memo(
            &self.compilers,
            (compiler.to_path_buf(), flags.to_vec()),
            || {
                self.toolchain_queries.fetch_add(1, Ordering::Relaxed);
                let before = vec![Stamp::of(compiler)];
                let q = |arg: String| -> Option<String> {
                    let mut a = flags.to_vec();
                    a.push(arg);
                    let (ok, out, _) = tools::run(compiler, &a, Path::new("/")).ok()?;
                    ok.then(|| out.trim().to_string()).filter(|s| !s.is_empty())
                };
                let progs = [
                    "cc1",
                    "cc1plus",
                    "cc1obj",
                    "cc1objplus",
                    "as",
                    "collect2",
                    "ld",
                    "lto-wrapper",
                    "lto1",
                ];
                let found: Vec<(String, Option<PathBuf>)> = progs
                    .par_iter()
                    .map(|p| {
                        let r = q(format!("-print-prog-name={p}")).and_then(|o| {
                            if o.contains('/') {
                                Some(PathBuf::from(o)).filter(|p| p.exists())
                            } else {
                                tools::resolve_program(&o, Path::new("/"))
                            }
                        });
                        (p.to_string(), r)
                    })
                    .collect();
                let mut info = CompilerInfo::default();
                // Stamped too: every dir the driver searches for programs
                // and files (and `$PATH`'s, for `as`/`ld` named bare), whose
                // mtime changes when a file comes or goes.
                let mut read_from: Vec<PathBuf> = std::env::var_os("PATH")
                    .map(|p| std::env::split_paths(&p).collect())
                    .unwrap_or_default();
                for (n, p) in found {
                    if let Some(p) = p {
                        read_from.push(p.clone());
                        info.progs.insert(n, p);
                    }
                }
                if let Some(out) = q("-print-search-dirs".into()) {
                    for line in out.lines() {
                        let (libraries, dirs) = match line.split_once(": ") {
                            Some(("libraries", dirs)) => (true, dirs),
                            Some(("programs", dirs)) => (false, dirs),
                            _ => continue,
                        };
                        for d in dirs.trim_start_matches('=').split(':') {
                            let p = PathBuf::from(d);
                            if libraries && p.is_dir() {
                                info.lib_dirs.push(p.clone());
                            }
                            read_from.push(p);
                        }
                    }
                }
                let files = [
                    "crt1.o",
                    "Scrt1.o",
                    "rcrt1.o",
                    "gcrt1.o",
                    "crti.o",
                    "crtn.o",
                    "crtbegin.o",
                    "crtbeginS.o",
                    "crtbeginT.o",
                    "crtend.o",
                    "crtendS.o",
                    "liblto_plugin.so",
                ];
                let found: Vec<(usize, Option<PathBuf>)> = files
                    .par_iter()
                    .enumerate()
                    .map(|(i, f)| {
                        (
                            i,
                            q(format!("-print-file-name={f}"))
                                .map(PathBuf::from)
                                .filter(|p| p.is_absolute() && p.exists()),
                        )
                    })
                    .collect();
                for (i, p) in found {
                    if let Some(p) = p {
                        read_from.push(p.clone());
                        if files[i] == "liblto_plugin.so" {
                            info.lto_plugin = Some(p);
                        } else {
                            info.crt.push(p);
                        }
                    }
                }
                Answer::new(info, before, &read_from)
            },
        )
    }

    /// A compiler driver's footprint; returns its toolchain.
    fn driver(
        &self,
        fp: &mut Footprint,
        name: &str,
        args: &[String],
        cwd: &Path,
    ) -> Result<Arc<Vec<PathBuf>>, LocalOnly> {
        let cxx = name.contains("++");
        let d = args::parse_driver_args(args, cxx, cwd);
        if d.settings.modules {
            return Err(LocalOnly::new("clang modules (implicit module maps)"));
        }
        fp.kind = if d.settings.compile_only {
            Kind::Compile
        } else {
            Kind::Link
        };
        fp.embeds_cwd = d.settings.compile_only && args.iter().any(|a| records_cwd(a));
        fp.outputs.extend(d.outputs.iter().map(PathBuf::from));
        fp.sources
            .extend(d.sources.iter().map(|s| PathBuf::from(&s.0)));
        fp.sources.extend(d.inputs.iter().map(PathBuf::from));
        let mut langs: Vec<Lang> = d.sources.iter().map(|s| s.1).collect();
        langs.sort();
        langs.dedup();
        let key: KeyRef = TemplateKey {
            exe: &fp.executable,
            cwd,
            cxx,
            langs: &langs,
            settings: &d.settings,
        };
        let cell = self.templates.cell(&key);
        let t = cell
            .get_or_init(|| self.template(&fp.executable, cxx, &d, cwd).map(Arc::new))
            .clone()?;

        // Headers, per language.
        let mut computed = false;
        for lt in &t.langs {
            let mut roots = Vec::new();
            for (s, l) in &d.sources {
                if *l == lt.lang {
                    roots.push(Node {
                        path: clean(PathBuf::from(s)),
                        pos: Pos::Root,
                    });
                }
            }
            roots.extend(lt.forced.iter().cloned());
            let (found, comp) = self.scan(cwd, &lt.chain, &lt.lookups, roots)?;
            computed |= comp;
            fp.headers.extend(lt.headers.iter().cloned());
            fp.headers.extend(found);
        }
        if computed {
            self.fallbacks.fetch_add(1, Ordering::Relaxed);
            let mut a = d.fallback_args(args);
            a.extend(["-M", "-MG"].map(String::from));
            let (ok, out, err) = tools::run(&fp.executable, &a, cwd).map_err(LocalOnly::new)?;
            if !ok {
                return Err(LocalOnly::new(format!(
                    "computed #include and `-M` fallback failed: {}",
                    err.lines().next().unwrap_or("")
                )));
            }
            let srcs: HashSet<&str> = d.sources.iter().map(|s| s.0.as_str()).collect();
            for dep in tools::parse_make_deps(&out) {
                if !srcs.contains(dep.as_str()) && is_file(&cwd.join(&dep)) {
                    fp.headers.push(clean(PathBuf::from(dep)));
                }
            }
        }
        if fp.kind != Kind::Link {
            return Ok(t.toolchain.clone());
        }
        // What this link names beyond the template: `-l` libraries (and the
        // files their linker scripts name), files passed to the linker.
        let mut tc = Vec::new();
        let mut all_dirs: Vec<PathBuf> = d.lib_dirs.iter().map(PathBuf::from).collect();
        all_dirs.extend(t.lib_dirs.iter().cloned());
        for l in &d.libs {
            for p in find_lib(l, &all_dirs, cwd) {
                expand_linker_script(&p, &all_dirs, cwd, &mut tc);
                fp.sources.push(p);
            }
        }
        let mut args = d.linker_args.iter();
        while let Some(a) = args.next() {
            let (flag, v) = match a.split_once('=').filter(|_| a.starts_with('-')) {
                _ if LD_SEP.contains(&a.as_str()) => (a.as_str(), args.next().map_or("", |v| v)),
                Some(flag_value) => flag_value,
                None => ("", a.as_str()),
            };
            if matches!(flag, "-Map" | "--Map" | "-o" | "--output") {
                fp.outputs.push(v.into());
                continue;
            }
            if LD_NAMES.contains(&flag) {
                continue;
            }
            if !v.is_empty() && is_file(&cwd.join(v)) {
                fp.sources.push(v.into());
            } else if let Some(r) = v.strip_prefix('@') {
                fp.sources.push(r.into());
            }
        }
        if tc.is_empty() {
            return Ok(t.toolchain.clone());
        }
        tc.extend(t.toolchain.iter().cloned());
        Ok(toolchain_list(tc, &fp.executable))
    }

    /// What every command with these settings shares: per language, the
    /// search chain and the files scanned with every source; the toolchain.
    fn template(
        &self,
        exe: &Path,
        cxx: bool,
        d: &DriverArgs,
        cwd: &Path,
    ) -> Result<Template, LocalOnly> {
        let s = &d.settings;
        let info = self.compiler_info(exe, &s.query_flags);
        let mut tc = self.program_files(exe);
        let mut prog_names: Vec<&str> = Vec::new();
        let mut langs: Vec<Lang> = d.sources.iter().map(|s| s.1).collect();
        langs.sort();
        langs.dedup();
        let mut lang_templates = Vec::new();
        for &lang in langs.iter().filter(|l| l.preprocessed()) {
            let builtin = self.builtin_dirs(exe, lang.query_name(), &s.query_flags)?;
            let chain = self.build_chain(s, &builtin, cwd);
            let lookups = LookupCache::default();
            let mut forced = Vec::new();
            let mut headers = Vec::new();
            for f in &s.forced_includes {
                let node = if is_file(&cwd.join(f)) {
                    Some(Node {
                        path: clean(PathBuf::from(f)),
                        pos: Pos::Local,
                    })
                } else {
                    chain_lookup(&chain, cwd, 0, f, Some(&lookups))
                };
                if let Some(n) = node {
                    // A precompiled header next to it is used instead if valid.
                    let gch = PathBuf::from(format!("{}.gch", n.path.display()));
                    let mut found = BTreeSet::new();
                    add_file_or_dir(&mut found, &gch, cwd);
                    headers.extend(found);
                    headers.push(n.path.clone());
                    forced.push(n);
                }
            }
            // The driver pre-includes glibc's stdc-predef.h from the system
            // dirs (gone with -nostdinc, which removes them from the chain).
            if let Some(n) = chain_lookup(&chain, cwd, 0, "stdc-predef.h", Some(&lookups)) {
                headers.push(n.path.clone());
                forced.push(n);
            }
            prog_names.push(lang.cc1());
            lang_templates.push(LangTemplate {
                lang,
                chain,
                forced,
                headers,
                lookups,
            });
        }
        // Plain assembler sources still need `as`.
        let assembles = langs.contains(&Lang::Asm) || !lang_templates.is_empty();
        if assembles && !s.no_assemble {
            prog_names.push("as");
        }
        if !s.compile_only {
            // LTO objects are compiled again at link time (lto1, then as).
            prog_names.extend(["collect2", "ld", "lto-wrapper", "lto1", "as"]);
            tc.extend(info.lto_plugin.iter().cloned());
            if let Some(ld) = &s.fuse_ld {
                let n = if ld.contains('/') {
                    ld.clone()
                } else {
                    format!("ld.{ld}")
                };
                if let Some(p) = tools::resolve_program(&n, cwd) {
                    tc.extend(self.closure(&p).iter().cloned());
                }
            }
            add_bfd_plugins(&mut tc);
            if !s.nostdlib && !s.nostartfiles {
                tc.extend(info.crt.iter().cloned());
            }
            if !s.nostdlib && !s.nodefaultlibs {
                let mut defaults = vec!["gcc", "gcc_s", "gcc_eh", "c"];
                if cxx {
                    defaults.extend(["stdc++", "m"]);
                }
                for l in defaults {
                    for p in find_lib(l, &info.lib_dirs, cwd) {
                        expand_linker_script(&p, &info.lib_dirs, cwd, &mut tc);
                        tc.push(p);
                    }
                }
            }
        }
        for p in prog_names {
            if let Some(path) = info.progs.get(p) {
                tc.extend(self.closure(path).iter().cloned());
            }
        }
        Ok(Template {
            langs: lang_templates,
            toolchain: toolchain_list(tc, exe),
            lib_dirs: info.lib_dirs.clone(),
        })
    }

    fn canon_dir(&self, dir: &Path, cwd: &Path) -> Option<PathBuf> {
        let abs = cwd.join(dir);
        if let Some(c) = self.canon_dirs.read().unwrap().get(abs.as_os_str()) {
            return Some(c.clone());
        }
        // A missing dir (`-Igen` before anything is generated) costs one
        // stat; realpath would readlink every component, again and again,
        // since a dir that may appear later is not cached.
        if !abs.is_dir() {
            return None;
        }
        let c = std::fs::canonicalize(&abs).ok()?;
        self.canon_dirs
            .write()
            .unwrap()
            .insert(abs.into(), c.clone());
        Some(c)
    }

    fn build_chain(&self, d: &args::Settings, b: &BuiltinDirs, cwd: &Path) -> Chain {
        let sysrooted = |s: &String| -> PathBuf {
            let root = d.sysroot.clone().unwrap_or_default();
            if let Some(r) = s.strip_prefix('=') {
                PathBuf::from(format!("{root}{r}"))
            } else if let Some(r) = s.strip_prefix("$SYSROOT") {
                PathBuf::from(format!("{root}{r}"))
            } else {
                PathBuf::from(s)
            }
        };
        let entries = |v: Vec<(PathBuf, bool)>| -> Vec<(PathBuf, PathBuf, bool)> {
            v.into_iter()
                .filter_map(|(p, sys)| {
                    let c = self.canon_dir(&p, cwd)?;
                    Some((clean(p), c, sys))
                })
                .collect()
        };
        let mut quote = entries(
            d.iquote
                .iter()
                .map(|s| (sysrooted(s), false))
                .chain(b.quote.iter().map(|p| (p.clone(), true)))
                .collect(),
        );
        let mut bracket = entries(
            d.include_dirs
                .iter()
                .map(|s| (sysrooted(s), false))
                .chain(d.isystem.iter().map(|s| (sysrooted(s), true)))
                .chain(b.angle.iter().map(|p| (p.clone(), true)))
                .chain(d.idirafter.iter().map(|s| (sysrooted(s), true)))
                .collect(),
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
            angle_start,
            sys,
            sys_exists: Arc::clone(&self.sys_exists),
            local_exists: Arc::clone(&self.local_exists),
        }
    }

    fn directives(&self, abs: &Path, chain: &Chain) -> Option<Arc<Vec<Directive>>> {
        let sys = chain.sys.iter().any(|d| abs.starts_with(d));
        if sys {
            if let Some(d) = self.sys_files.read().unwrap().get(abs) {
                return Some(d.clone());
            }
        }
        // A stat, and the file is read only when its stamp is new. The
        // stamp is taken before reading, so what is cached under it is
        // never older than it.
        let m = std::fs::metadata(abs).ok()?;
        let key = (m.dev(), m.ino());
        let stamp = (
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        );
        let cached = self.files.read().unwrap().get(&key).and_then(|e| {
            let same = e.stamp == stamp;
            same.then(|| e.directives.clone())
        });
        let dirs = match cached {
            Some(dirs) => dirs,
            None => self.parse_file(abs, &m, key, stamp)?,
        };
        if sys {
            self.sys_files
                .write()
                .unwrap()
                .insert(abs.to_path_buf(), dirs.clone());
        }
        Some(dirs)
    }

    /// Reads and parses a file `directives` has not seen with this stamp.
    fn parse_file(
        &self,
        abs: &Path,
        m: &std::fs::Metadata,
        key: (u64, u64),
        stamp: (u64, i64, i64, i64, i64),
    ) -> Option<Arc<Vec<Directive>>> {
        // Through `take`, which skips `File`'s own size probe (another
        // fstat and an lseek): the size is known.
        let mut text = Vec::with_capacity(m.size() as usize + 1);
        let file = std::fs::File::open(abs).ok()?;
        file.take(u64::MAX).read_to_end(&mut text).ok()?;
        self.files_parsed.fetch_add(1, Ordering::Relaxed);
        let dirs = Arc::new(parse_directives(&text));
        self.files.write().unwrap().insert(
            key,
            FileEntry {
                stamp,
                directives: dirs.clone(),
            },
        );
        Some(dirs)
    }

    /// Transitively scans `roots`; returns the files found (not the roots)
    /// and whether a computed include was seen.
    fn scan(
        &self,
        cwd: &Path,
        chain: &Chain,
        lookups: &LookupCache,
        roots: Vec<Node>,
    ) -> Result<(Vec<PathBuf>, bool), LocalOnly> {
        let key_of = |n: &Node| -> Option<Key> {
            let parent = n.path.parent().unwrap_or(Path::new(""));
            Some((
                self.canon_dir(parent, cwd)?.into_os_string(),
                n.path.file_name()?.to_owned(),
                n.pos,
            ))
        };
        // Paths as bytes: hashing a `Path` walks its components.
        let mut visited: FxHashSet<Key> = FxHashSet::default();
        let mut frontier = Vec::new();
        for r in roots {
            let Some(k) = key_of(&r) else {
                if r.pos == Pos::Root {
                    let missing = format!("source not found: {}", r.path.display());
                    return Err(LocalOnly::new(missing));
                }
                continue;
            };
            if visited.insert(k) {
                frontier.push(r);
            }
        }
        let mut found = Vec::new();
        let mut computed = false;
        while !frontier.is_empty() {
            let scan_one = |n: &Node| -> Scanned {
                let Some(dirs) = self.directives(&cwd.join(&n.path), chain) else {
                    if n.pos == Pos::Root {
                        return Err(LocalOnly::new(format!(
                            "source not found: {}",
                            n.path.display()
                        )));
                    }
                    return Ok((Vec::new(), false));
                };
                let mut comp = false;
                let mut kids = Vec::new();
                for d in dirs.iter() {
                    let (name, quoted) = match &d.target {
                        IncludeTarget::Computed => {
                            comp = true;
                            continue;
                        }
                        IncludeTarget::Quoted(s) => (s, true),
                        IncludeTarget::Angle(s) => (s, false),
                    };
                    if let Some(k) = resolve(chain, cwd, n, d.kind, name, quoted, lookups) {
                        let key = key_of(&k);
                        kids.push((k, key));
                    }
                }
                Ok((kids, comp))
            };
            // A source and stdc-predef.h are not worth a parallel split.
            let results: Vec<Scanned> = if frontier.len() < 8 {
                frontier.iter().map(scan_one).collect()
            } else {
                frontier.par_iter().map(scan_one).collect()
            };
            let mut next = Vec::new();
            for r in results {
                let (kids, comp) = r?;
                computed |= comp;
                for (k, key) in kids {
                    if let Some(key) = key {
                        if visited.insert(key) {
                            found.push(k.path.clone());
                            next.push(k);
                        }
                    }
                }
            }
            frontier = next;
        }
        Ok((found, computed))
    }

    fn linker(&self, fp: &mut Footprint, tc: &mut Vec<PathBuf>, args: &[String], cwd: &Path) {
        fp.kind = Kind::Link;
        let dirs = memo(&self.ld_dirs, fp.executable.clone(), || {
            self.toolchain_queries.fetch_add(1, Ordering::Relaxed);
            let before = vec![Stamp::of(&fp.executable)];
            let mut v = Vec::new();
            let mut read_from = Vec::new();
            if let Ok((_, out, _)) =
                tools::run(&fp.executable, &["--verbose".to_string()], Path::new("/"))
            {
                for part in out.split("SEARCH_DIR(\"").skip(1) {
                    if let Some(end) = part.find('"') {
                        let d = PathBuf::from(part[..end].trim_start_matches('='));
                        if d.is_dir() {
                            v.push(d.clone());
                        }
                        read_from.push(d);
                    }
                }
            }
            Answer::new(v, before, &read_from)
        });
        let mut lib_dirs = Vec::new();
        let mut libs = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            i += 1;
            let (flag, val) = if LD_SEP.contains(&a.as_str()) {
                i += 1;
                (a.as_str(), args.get(i - 1).cloned().unwrap_or_default())
            } else if let Some((f, v)) = a.split_once('=').filter(|_| a.starts_with('-')) {
                (f, v.to_string())
            } else if a.starts_with("-L")
                || a.starts_with("-l")
                || a.starts_with("-o")
                || a.starts_with("-T")
            {
                (&a[..2], a[2..].to_string())
            } else {
                (a.as_str(), String::new())
            };
            match flag {
                "-o" | "--output" => fp.outputs.push(val.into()),
                "-Map" => fp.outputs.push(val.into()),
                "-L" | "--library-path" => lib_dirs.push(PathBuf::from(val)),
                "-l" | "--library" => libs.push(val),
                _ if !a.starts_with('-') => fp.sources.push(a.into()),
                _ if LD_NAMES.contains(&flag) => {}
                _ => {
                    if !val.is_empty() && is_file(&cwd.join(&val)) {
                        fp.sources.push(val.into());
                    }
                }
            }
        }
        lib_dirs.extend(dirs.iter().cloned());
        for l in libs {
            for p in find_lib(&l, &lib_dirs, cwd) {
                expand_linker_script(&p, &lib_dirs, cwd, tc);
                fp.sources.push(p);
            }
        }
    }
}

/// Linker options that take their value as the next argument.
const LD_SEP: &[&str] = &[
    "-o",
    "-L",
    "-l",
    "-T",
    "-e",
    "-m",
    "-h",
    "-soname",
    "-rpath",
    "-rpath-link",
    "-z",
    "-Map",
    "-u",
    "-y",
    "-Y",
    "--version-script",
    "--dynamic-list",
    "-dynamic-linker",
    "--dynamic-linker",
    "-plugin",
    "--plugin",
    "-plugin-opt",
    "--script",
    "-R",
    "-a",
    "-A",
    "-b",
    "-f",
    "-F",
    "-G",
    "-init",
    "-fini",
    "--entry",
    "--output",
    "--library",
    "--library-path",
];

/// Linker options whose value names no file to read (`-soname libx.so.1`
/// names the library being made, which a previous build left on disk).
const LD_NAMES: &[&str] = &[
    "-soname",
    "-h",
    "-rpath",
    "-rpath-link",
    "-z",
    "-e",
    "--entry",
    "-u",
    "--undefined",
    "-y",
    "-Y",
    "-m",
    "-init",
    "-fini",
    "-plugin-opt",
    "-a",
    "-A",
    "-b",
    "-f",
    "-F",
    "-G",
];

/// Finds `name` in the chain from index `start`.
fn chain_lookup(
    chain: &Chain,
    cwd: &Path,
    start: usize,
    name: &str,
    cache: Option<&LookupCache>,
) -> Option<Node> {
    if let Some(c) = cache {
        if let Some(r) = c.read().unwrap().get(&(start, name.to_string())) {
            return r.clone();
        }
    }
    let mut r = None;
    for i in start..chain.dirs.len() {
        let p = chain.dirs[i].join(name);
        if chain.exists(&cwd.join(&p)) {
            r = Some(Node {
                path: clean(p),
                pos: Pos::Chain(i),
            });
            break;
        }
    }
    if let Some(c) = cache {
        c.write()
            .unwrap()
            .insert((start, name.to_string()), r.clone());
    }
    r
}

fn resolve(
    chain: &Chain,
    cwd: &Path,
    from: &Node,
    kind: DirectiveKind,
    name: &str,
    quoted: bool,
    cache: &LookupCache,
) -> Option<Node> {
    if name.starts_with('/') {
        return is_file(Path::new(name)).then(|| Node {
            path: PathBuf::from(name),
            pos: Pos::Local,
        });
    }
    let next = matches!(
        kind,
        DirectiveKind::IncludeNext | DirectiveKind::HasIncludeNext
    );
    if next {
        match from.pos {
            Pos::Root => {}
            Pos::Local => return chain_lookup(chain, cwd, 0, name, Some(cache)),
            Pos::Chain(i) => return chain_lookup(chain, cwd, i + 1, name, Some(cache)),
        }
    }
    if quoted {
        let dir = from.path.parent().unwrap_or(Path::new(""));
        let p = dir.join(name);
        if chain.exists(&cwd.join(&p)) {
            return Some(Node {
                path: clean(p),
                pos: Pos::Local,
            });
        }
        chain_lookup(chain, cwd, 0, name, Some(cache))
    } else {
        chain_lookup(chain, cwd, chain.angle_start, name, Some(cache))
    }
}

fn add_file_or_dir(set: &mut BTreeSet<PathBuf>, p: &Path, cwd: &Path) {
    let abs = cwd.join(p);
    if abs.is_file() {
        set.insert(p.to_path_buf());
    } else if abs.is_dir() {
        if let Ok(rd) = std::fs::read_dir(&abs) {
            for e in rd.flatten() {
                if e.path().is_file() {
                    set.insert(p.join(e.file_name()));
                }
            }
        }
    }
}

/// The plugins binutils loads from `/usr/lib/bfd-plugins` (looked up once).
fn add_bfd_plugins(tc: &mut Vec<PathBuf>) {
    static PLUGINS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    let plugins = PLUGINS.get_or_init(|| {
        let mut s = BTreeSet::new();
        add_file_or_dir(&mut s, Path::new("/usr/lib/bfd-plugins"), Path::new("/"));
        let mut v = Vec::new();
        for p in s {
            tools::with_canonical(&p, &mut v);
        }
        v
    });
    tc.extend(plugins.iter().cloned());
}

/// `-lname` candidates: every `libname.so`/`libname.a` in the first dir that
/// has either (`-l:file` looks for `file`).
fn find_lib(name: &str, dirs: &[PathBuf], cwd: &Path) -> Vec<PathBuf> {
    let cands: Vec<String> = match name.strip_prefix(':') {
        Some(f) => vec![f.to_string()],
        None => vec![format!("lib{name}.so"), format!("lib{name}.a")],
    };
    for d in dirs {
        let hits: Vec<PathBuf> = cands
            .iter()
            .map(|c| d.join(c))
            .filter(|p| is_file(&cwd.join(p)))
            .collect();
        if !hits.is_empty() {
            return hits;
        }
    }
    Vec::new()
}

/// If `lib` is a linker script (like glibc's `libc.so`), adds the files it names.
fn expand_linker_script(lib: &Path, dirs: &[PathBuf], cwd: &Path, out: &mut Vec<PathBuf>) {
    let Ok(text) = std::fs::read(cwd.join(lib)) else {
        return;
    };
    if text.starts_with(b"\x7fELF")
        || text.starts_with(b"!<arch>")
        || text.starts_with(b"!<thin>")
        || text.len() > 64 * 1024
    {
        return;
    }
    let text = String::from_utf8_lossy(&text);
    for tok in text.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',') {
        if tok.starts_with('/') && Path::new(tok).is_file() {
            let mut v = Vec::new();
            tools::with_canonical(Path::new(tok), &mut v);
            out.extend(v);
        } else if let Some(l) = tok.strip_prefix("-l") {
            for p in find_lib(l, dirs, cwd) {
                out.push(cwd.join(p));
            }
        } else if tok.starts_with("lib") && !tok.contains('/') {
            // A bare name (`GROUP ( libgcc_s.so.1 -lgcc )`): ld looks in
            // the current directory, then on the library search path.
            let found = std::iter::once(cwd.join(tok))
                .chain(dirs.iter().map(|d| cwd.join(d).join(tok)))
                .find(|p| p.is_file());
            if let Some(p) = found {
                let mut v = Vec::new();
                tools::with_canonical(&p, &mut v);
                out.extend(v);
            }
        }
    }
}

fn expand_rsp(
    args: &[String],
    cwd: &Path,
    rsp: &mut Vec<String>,
    depth: usize,
) -> Result<Vec<String>, LocalOnly> {
    let mut out = Vec::new();
    for a in args {
        if let Some(f) = a.strip_prefix('@') {
            if depth > 8 {
                return Err(LocalOnly::new("response files nested too deep"));
            }
            let text = std::fs::read_to_string(cwd.join(f))
                .map_err(|e| LocalOnly::new(format!("unreadable response file {f}: {e}")))?;
            rsp.push(f.to_string());
            out.extend(expand_rsp(
                &split_response_file(&text),
                cwd,
                rsp,
                depth + 1,
            )?);
        } else {
            out.push(a.clone());
        }
    }
    Ok(out)
}

fn archive(fp: &mut Footprint, args: &[String], cwd: &Path) -> Result<(), LocalOnly> {
    fp.kind = Kind::Archive;
    let mut i = 0;
    let mut ops: Option<String> = None;
    let mut rest = Vec::new();
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--plugin" || a == "--target" || a == "--output" {
            i += 1;
        } else if a.starts_with("--") || (a.starts_with("-X") && ops.is_none()) {
        } else if let (Some(o), Some(modifiers)) = (&mut ops, a.strip_prefix('-')) {
            // Modifiers after the operation (`ar rcsD -T lib.a ...`).
            o.push_str(modifiers);
        } else if ops.is_none() {
            ops = Some(a.trim_start_matches('-').to_string());
        } else {
            rest.push(a.clone());
        }
    }
    let ops = ops.ok_or_else(|| LocalOnly::new("ar without an operation"))?;
    let mut rest = rest.into_iter();
    if ops.contains(['a', 'b', 'i']) {
        rest.next(); // relpos member name
    }
    if ops.contains('N') {
        rest.next(); // count
    }
    let archive = rest
        .next()
        .ok_or_else(|| LocalOnly::new("ar without an archive"))?;
    let members: Vec<String> = rest.collect();
    let op = ops.chars().find(|c| "dmpqrstx".contains(*c)).unwrap_or('r');
    match op {
        'x' => {
            if members.is_empty() {
                return Err(LocalOnly::new("ar x extracts members not known in advance"));
            }
            fp.sources.push(archive.into());
            fp.outputs.extend(members.into_iter().map(PathBuf::from));
        }
        't' | 'p' => fp.sources.push(archive.into()),
        _ => {
            // r/q/d/m/s update an existing archive in place.
            if cwd.join(&archive).exists() {
                fp.sources.push(PathBuf::from(&archive));
            }
            fp.sources.extend(members.into_iter().map(PathBuf::from));
            fp.outputs.push(archive.into());
        }
    }
    Ok(())
}
