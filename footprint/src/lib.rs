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
//!   (device, inode, size, mtime, ctime). A computed `#include MACRO` (or
//!   `__has_include(MACRO)`) makes the scanner also run the compiler's own
//!   `-M -MG` for that command and add its list (counted by
//!   [`Scanner::fallbacks`]).
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
//!
//! Where each part lives: `classify` (what a command's words say it is),
//! `command` and `list` (one command, `&&` lists), `files` (a list's file
//! commands and their effects), `exports` (a list's `export`s), `driver` (compile and
//! link through a compiler driver), `templates` (what commands with the
//! same settings share), `chain` (the include search chain), `walk` (the
//! transitive header walk and its per-file cache), `recall` (each
//! compile's walk kept between runs, with what it depended on), `stats`
//! (this run's stats, kept until the build writes there), `toolchain` (what the
//! compiler, linker and `ldd` say), `link` and `archive` (linker and `ar`
//! inputs), `args` (driver flags), `scan` (directives in one file),
//! `programs` (running helper programs; command lines are split by the
//! `ggninja-syntax` crate's `shell`).

mod archive;
pub mod args;
mod chain;
mod classify;
mod command;
mod driver;
mod exports;
mod files;
mod glob;
mod link;
mod list;
mod paths;
mod programs;
mod recall;
mod scan;
mod stats;
mod templates;
mod toolchain;
mod walk;

pub use classify::is_compiler_name;
pub use glob::matches as pattern_matches;
pub use paths::{normal, relative};
pub use scan::{parse_directives, Directive, DirectiveKind, IncludeTarget};
pub use stats::{now_ns, RunStats, Stat};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where the header walks are kept between runs, in the saved dir.
const FOOTPRINTS: &str = ".ggninja_footprints";
use std::sync::Arc;

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
    /// Where an include that is not there now was looked for, outside the
    /// compiler's built-in dirs (spelled as `headers`): a header another
    /// edge generates later lands at one of them, and is then read.
    /// Sorted by bytes, no duplicates.
    pub absent: Vec<PathBuf>,
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
    /// What the command does to the tree besides writing its outputs, in
    /// order (paths spelled as `outputs`): what a memo hit must do too.
    pub effects: Vec<Effect>,
    /// The file name patterns the shell expands (`*.o`, spelled as
    /// `outputs`): another edge writing a name one matches while this runs
    /// would change what it reads.
    pub patterns: Vec<PathBuf>,
    /// With patterns, the collation the shell sorts their matches by
    /// (`LC_COLLATE`'s value): part of what the command does.
    pub collation: Option<String>,
}

/// Something a command list does to the tree besides writing files whose
/// content it makes: a hit, which restores those files, does it again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Effect {
    /// `mkdir [-p]`: a directory made (with its parents).
    MakeDir { path: PathBuf, parents: bool },
    /// `rmdir`: a directory removed if it is empty.
    RemoveDir(PathBuf),
    /// `rm [-r]`: a file (a tree) removed.
    Remove { path: PathBuf, recursive: bool },
    /// `ln -s TARGET LINK`: LINK, replaced, a symlink to TARGET.
    Symlink { target: String, link: PathBuf },
    /// `mv FROM TO`, where an earlier step wrote FROM: FROM is gone, TO
    /// holds what it held (so TO must be an output a hit restores).
    Moved { from: PathBuf, to: PathBuf },
}

impl Footprint {
    /// An empty footprint of an `Other` command running `executable`.
    fn new(argv: Vec<String>, executable: PathBuf) -> Footprint {
        Footprint {
            argv,
            kind: Kind::Other,
            executable,
            sources: Vec::new(),
            headers: Vec::new(),
            absent: Vec::new(),
            toolchain: Arc::default(),
            outputs: Vec::new(),
            embeds_cwd: false,
            effects: Vec::new(),
            patterns: Vec::new(),
            collation: None,
        }
    }
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

/// Computes footprints. Holds caches (file directive lists, compiler
/// built-in dirs, toolchain closures, compile templates); it is `Sync`, so
/// one scanner can be shared by rayon threads. Caches are only of facts that
/// are revalidated (file contents, keyed by inode and timestamps), that do
/// not change during a build (compiler configuration), or, for which files
/// exist in the project's include dirs, that hold until the build says it
/// wrote there (the run's stats, [`RunStats`]); the templates' lookups
/// hold until `invalidate`: a build calls it before each scan, so headers
/// generated between calls are seen.
#[derive(Default)]
pub struct Scanner {
    /// What the toolchain answered.
    toolchain: toolchain::Toolchain,
    /// Canonical include dirs and which files exist in them.
    dirs: chain::SearchDirs,
    /// Per compile settings, while the run's stats' epoch lasts.
    templates: templates::Templates,
    /// Every file's directives.
    walker: walk::Walker,
    /// Header walks kept between runs.
    recall: recall::Recall,
    fallbacks: AtomicUsize,
}

// The scanner is shared across rayon threads.
const _: fn() = || {
    fn check<T: Send + Sync>() {}
    check::<Scanner>();
};

impl Scanner {
    /// A scanner with empty caches.
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// Takes what an earlier run saved in `dir` with [`Scanner::save`]: the
    /// toolchain's answers (`.ggninja_toolchain`), every scanned file's
    /// directives (`.ggninja_scans`) and every compile's header walk
    /// (`.ggninja_footprints`). Each is used only while the files it came
    /// from are unchanged; a missing or damaged file only costs time.
    pub fn load_saved(&self, dir: &Path) {
        rayon::join(
            || self.toolchain.load(&dir.join(".ggninja_toolchain")),
            || {
                rayon::join(
                    || self.walker.load(&dir.join(".ggninja_scans")),
                    || self.recall.load(&dir.join(FOOTPRINTS)),
                )
            },
        );
    }

    /// Saves the toolchain's answers, the files' directives and the header
    /// walks in `dir`, each atomically and only if it grew since
    /// `load_saved`.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        self.toolchain.save(&dir.join(".ggninja_toolchain"))?;
        self.walker.save(&dir.join(".ggninja_scans"))?;
        self.recall.save(&dir.join(FOOTPRINTS))
    }

    /// This run's stats and listings, which the build keeps told of what
    /// it writes (see [`RunStats`]).
    pub fn run_stats(&self) -> Arc<RunStats> {
        Arc::clone(self.dirs.run_stats())
    }

    /// How many compiles took the headers an earlier walk found (see
    /// `load_saved`) instead of walking.
    pub fn walks_recalled(&self) -> usize {
        self.recall.used()
    }

    /// How many questions were put to the toolchain by running a program
    /// (`-print-prog-name`, `-E -v`, `ldd`, ...) rather than answered from
    /// the answers [`Scanner::load_saved`] took.
    pub fn toolchain_queries(&self) -> usize {
        self.toolchain.queries()
    }

    /// How many commands needed the compiler's own `-M` output because of a
    /// computed `#include MACRO` or `__has_include(MACRO)`.
    pub fn fallbacks(&self) -> usize {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// How many files have been read and parsed (cache misses).
    pub fn files_parsed(&self) -> usize {
        self.walker.parsed()
    }

    /// `command` is the shell command as ninja would run it (via `/bin/sh
    /// -c`), `cwd` the build directory. Returns the footprint or why it
    /// cannot be known.
    pub fn footprint(&self, command: &str, cwd: &Path) -> Result<Footprint, LocalOnly> {
        use ggninja_syntax::shell::{check_simple, split_steps, Step};
        let mut list = split_steps(command).map_err(LocalOnly::new)?;
        list.retain(|step| !matches!(step, Step::Run(words) if classify::is_noop(words)));
        match list.as_mut_slice() {
            [] => Err(LocalOnly::new("no command")),
            [Step::Run(argv)] => {
                check_simple(argv).map_err(LocalOnly::new)?;
                self.simple(std::mem::take(argv), cwd)
            }
            _ => self.list(command, list, cwd),
        }
    }

    /// Forgets the compile templates (their chains' lookups) made before
    /// the run's stats' epoch: files may have been generated or removed
    /// since. (Which files exist is the run's stats, which the build tells
    /// of what it writes; see `templates`.)
    pub fn invalidate(&self) {
        self.templates.invalidate(self.dirs.run_stats().epoch());
    }
}
