//! What the toolchain says of itself: where a program is on `$PATH`, which
//! files running it reads (symlinks, `ldd`), a compiler's built-in include
//! dirs, sub-programs, crt files and library dirs, and the linker's search
//! dirs. Asked once per process (or recalled from an earlier run, see
//! `facts`) and assumed not to change during a build. Unaware of commands,
//! sources and include chains.

mod facts;

use crate::link::DriverKey;
use crate::paths::{file_or_dir_files, sort_paths};
use crate::{programs, LocalOnly};
pub(crate) use facts::Answer;
use facts::Stamp;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// Answers computed once per key, even when asked by many threads at once.
type Memo<K, V> = Mutex<HashMap<K, Arc<OnceLock<V>>>>;
/// (compiler, language, flags that change its search dirs).
type BuiltinKey = (PathBuf, &'static str, Vec<String>);

fn memo<K: Eq + Hash, V: Clone>(m: &Memo<K, V>, k: K, f: impl FnOnce() -> V) -> V {
    let cell = m.lock().unwrap().entry(k).or_default().clone();
    cell.get_or_init(f).clone()
}

/// A compiler's built-in include dirs (canonical), from `-E -v`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct BuiltinDirs {
    pub quote: Vec<PathBuf>,
    pub angle: Vec<PathBuf>,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct CompilerInfo {
    /// Sub-program name → absolute path.
    pub progs: HashMap<String, PathBuf>,
    pub lib_dirs: Vec<PathBuf>,
    pub crt: Vec<PathBuf>,
    pub lto_plugin: Option<PathBuf>,
}

/// The toolchain's answers, each found once.
#[derive(Default)]
pub(crate) struct Toolchain {
    builtin: Memo<BuiltinKey, Result<Arc<Answer<BuiltinDirs>>, String>>,
    compilers: Memo<(PathBuf, Vec<String>), Arc<Answer<CompilerInfo>>>,
    closures: Memo<PathBuf, Arc<Answer<Vec<PathBuf>>>>,
    ld_dirs: Memo<PathBuf, Arc<Answer<Vec<PathBuf>>>>,
    /// Compile and link commands' toolchain lists (see `list`).
    lists: Mutex<FxHashMap<ListKey, Arc<Vec<PathBuf>>>>,
    /// Bare program names on `$PATH` (not saved: a lookup is a few stats).
    programs: RwLock<FxHashMap<String, Option<PathBuf>>>,
    /// Questions asked by running a program (not answered by `facts`).
    queries: AtomicUsize,
}

/// (compiler, flags that change its answers, the sub-programs it runs,
/// and for a link what its driver adds).
type ListKey = (PathBuf, Vec<String>, Vec<&'static str>, Option<DriverKey>);

/// A toolchain list: sorted (`sort_paths`), without the program itself.
pub(crate) fn toolchain_list(mut tc: Vec<PathBuf>, exe: &Path) -> Arc<Vec<PathBuf>> {
    sort_paths(&mut tc);
    tc.retain(|p| p.as_os_str() != exe.as_os_str());
    Arc::new(tc)
}

/// The plugins binutils loads from `/usr/lib/bfd-plugins` (looked up once).
pub(crate) fn bfd_plugins() -> &'static [PathBuf] {
    static PLUGINS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    PLUGINS.get_or_init(|| {
        let dir = Path::new("/usr/lib/bfd-plugins");
        let mut v = Vec::new();
        for p in file_or_dir_files(dir, Path::new("/")) {
            programs::with_canonical(&p, &mut v);
        }
        v
    })
}

impl Toolchain {
    /// How many questions were put to the toolchain by running a program.
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }

    fn asked(&self) {
        self.queries.fetch_add(1, Ordering::Relaxed);
    }

    /// `name` resolved as the shell would; a bare name is looked up on PATH
    /// once per process (every compile edge names the same compiler), and
    /// so is an absolute path once found (CMake names `/usr/bin/cc`): one
    /// not there yet may be a tool the build makes.
    pub fn program(&self, name: &str, cwd: &Path) -> Option<PathBuf> {
        let bare = !name.contains('/');
        if !bare && !name.starts_with('/') {
            return programs::resolve_program(name, cwd);
        }
        if let Some(p) = self.programs.read().unwrap().get(name) {
            return p.clone();
        }
        let p = programs::resolve_program(name, cwd);
        if bare || p.is_some() {
            let mut programs = self.programs.write().unwrap();
            programs.insert(name.to_string(), p.clone());
        }
        p
    }

    /// What running `exe` reads whatever it does: its symlink targets and
    /// libraries, and the dynamic loader's cache.
    /// The toolchain list of commands run by `exe` with `flags`, running
    /// `programs` (`cc1`, `as`, `ld`, ...), and for a link the files its
    /// driver adds (`driver`: crt files, default libraries in the
    /// compiler's library dirs): `make`'s answer, made of the toolchain and
    /// its files alone, which hold for the whole run (see the module's
    /// doc), so it is kept for the run where a template is made again
    /// before every edge (a link's looked at a dozen libraries and linker
    /// scripts each time).
    pub fn list(
        &self,
        exe: &Path,
        flags: &[String],
        programs: &[&'static str],
        driver: Option<DriverKey>,
        make: impl FnOnce() -> Arc<Vec<PathBuf>>,
    ) -> Arc<Vec<PathBuf>> {
        let key = (exe.to_path_buf(), flags.to_vec(), programs.to_vec(), driver);
        if let Some(list) = self.lists.lock().unwrap().get(&key) {
            return Arc::clone(list);
        }
        let list = make();
        let mut lists = self.lists.lock().unwrap();
        Arc::clone(lists.entry(key).or_insert(list))
    }

    pub fn program_files(&self, exe: &Path) -> Vec<PathBuf> {
        static LD_SO_CACHE: OnceLock<bool> = OnceLock::new();
        let mut tc: Vec<PathBuf> = self.closure(exe).to_vec();
        if *LD_SO_CACHE.get_or_init(|| Path::new("/etc/ld.so.cache").exists()) {
            tc.push("/etc/ld.so.cache".into());
        }
        tc
    }

    /// The program, its canonical path, and its shared libraries.
    pub fn closure(&self, prog: &Path) -> Arc<Answer<Vec<PathBuf>>> {
        memo(&self.closures, prog.to_path_buf(), || {
            self.asked();
            let before = vec![Stamp::of(prog), Stamp::of(Path::new("/etc/ld.so.cache"))];
            let mut v = Vec::new();
            programs::with_canonical(prog, &mut v);
            for lib in programs::ldd(prog) {
                programs::with_canonical(&lib, &mut v);
            }
            let found = v.clone();
            Answer::new(v, before, &found)
        })
    }

    /// The dirs `ld` searches for `-l` libraries (its `SEARCH_DIR`s).
    pub fn ld_search_dirs(&self, ld: &Path) -> Arc<Answer<Vec<PathBuf>>> {
        memo(&self.ld_dirs, ld.to_path_buf(), || {
            self.asked();
            let before = vec![Stamp::of(ld)];
            let mut v = Vec::new();
            let mut read_from = Vec::new();
            if let Ok((_, out, _)) = programs::run(ld, &["--verbose".to_string()], Path::new("/")) {
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
        })
    }

    /// The compiler's built-in include dirs for `lang` (a `-x` name).
    pub fn builtin_dirs(
        &self,
        compiler: &Path,
        lang: &'static str,
        flags: &[String],
    ) -> Result<Arc<Answer<BuiltinDirs>>, LocalOnly> {
        let key = (compiler.to_path_buf(), lang, flags.to_vec());
        let found = memo(&self.builtin, key, || {
            self.asked();
            let before = vec![Stamp::of(compiler)];
            let mut a: Vec<String> = flags.to_vec();
            a.extend(["-x", lang, "-E", "-v", "/dev/null"].map(String::from));
            let (ok, _out, err) = programs::run(compiler, &a, Path::new("/"))?;
            if !ok {
                return Err(format!(
                    "`{} -E -v` failed: {}",
                    compiler.display(),
                    err.lines().last().unwrap_or("")
                ));
            }
            let (b, read_from) = parse_search_list(&err);
            Ok(Answer::new(b, before, &read_from))
        });
        found.map_err(LocalOnly::new)
    }

    /// The compiler's sub-programs, library dirs, crt files and LTO plugin
    /// with these flags.
    pub fn compiler_info(&self, compiler: &Path, flags: &[String]) -> Arc<Answer<CompilerInfo>> {
        let key = (compiler.to_path_buf(), flags.to_vec());
        memo(&self.compilers, key, || {
            self.asked();
            Query { compiler, flags }.info()
        })
    }
}

/// The dirs of `-E -v`'s search list, and what else the answer depends on:
/// the compiler proper it ran and the dirs it skipped, whose creation would
/// change the answer.
fn parse_search_list(err: &str) -> (BuiltinDirs, Vec<PathBuf>) {
    let mut b = BuiltinDirs::default();
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
            match section {
                1 => b.quote.push(d),
                _ => b.angle.push(d),
            }
        }
    }
    read_from.extend(b.quote.iter().chain(&b.angle).cloned());
    (b, read_from)
}

/// Sub-programs a GCC driver may run, asked with `-print-prog-name`.
const SUB_PROGRAMS: [&str; 9] = [
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

/// Files a link may read, asked with `-print-file-name`.
const LINK_FILES: [&str; 12] = [
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

/// Questions to one compiler with one set of flags.
struct Query<'a> {
    compiler: &'a Path,
    flags: &'a [String],
}

impl Query<'_> {
    /// The driver's answer to `flags arg`, if it succeeded and said anything.
    fn ask(&self, arg: String) -> Option<String> {
        let mut a = self.flags.to_vec();
        a.push(arg);
        let (ok, out, _) = programs::run(self.compiler, &a, Path::new("/")).ok()?;
        ok.then(|| out.trim().to_string()).filter(|s| !s.is_empty())
    }

    fn info(&self) -> Arc<Answer<CompilerInfo>> {
        let before = vec![Stamp::of(self.compiler)];
        let mut info = CompilerInfo::default();
        // Stamped too: every dir the driver searches for programs and files
        // (and `$PATH`'s, for `as`/`ld` named bare), whose mtime changes
        // when a file comes or goes.
        let mut read_from: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        for (n, p) in self.sub_programs() {
            read_from.push(p.clone());
            info.progs.insert(n.to_string(), p);
        }
        self.search_dirs(&mut info.lib_dirs, &mut read_from);
        for (n, p) in self.link_files() {
            read_from.push(p.clone());
            if n == "liblto_plugin.so" {
                info.lto_plugin = Some(p);
            } else {
                info.crt.push(p);
            }
        }
        Answer::new(info, before, &read_from)
    }

    fn sub_programs(&self) -> Vec<(&'static str, PathBuf)> {
        let found = SUB_PROGRAMS.par_iter().map(|&p| {
            let path = self.ask(format!("-print-prog-name={p}")).and_then(|o| {
                if o.contains('/') {
                    Some(PathBuf::from(o)).filter(|p| p.exists())
                } else {
                    programs::resolve_program(&o, Path::new("/"))
                }
            });
            Some((p, path?))
        });
        found.flatten().collect()
    }

    /// `-print-search-dirs`: existing library dirs into `lib_dirs`, every
    /// library and program dir into `read_from`.
    fn search_dirs(&self, lib_dirs: &mut Vec<PathBuf>, read_from: &mut Vec<PathBuf>) {
        let Some(out) = self.ask("-print-search-dirs".into()) else {
            return;
        };
        for line in out.lines() {
            let (libraries, dirs) = match line.split_once(": ") {
                Some(("libraries", dirs)) => (true, dirs),
                Some(("programs", dirs)) => (false, dirs),
                _ => continue,
            };
            for d in dirs.trim_start_matches('=').split(':') {
                let p = PathBuf::from(d);
                if libraries && p.is_dir() {
                    lib_dirs.push(p.clone());
                }
                read_from.push(p);
            }
        }
    }

    fn link_files(&self) -> Vec<(&'static str, PathBuf)> {
        let found = LINK_FILES.par_iter().map(|&f| {
            let p = self.ask(format!("-print-file-name={f}")).map(PathBuf::from);
            Some((f, p.filter(|p| p.is_absolute() && p.exists())?))
        });
        found.flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_list_sections() {
        let err = "ignoring nonexistent directory \"/no/such\"\n\
            #include \"...\" search starts here:\n /q\n\
            #include <...> search starts here:\n /a\n /b (framework directory)\n\
            End of search list.\n";
        let (b, read_from) = parse_search_list(err);
        assert_eq!(b.quote, [PathBuf::from("/q")]);
        assert_eq!(b.angle, ["/a", "/b"].map(PathBuf::from));
        assert_eq!(read_from, ["/no/such", "/q", "/a", "/b"].map(PathBuf::from));
    }

    #[test]
    fn toolchain_list_sorts_and_drops_the_program() {
        let tc = ["/usr/lib/b", "/usr/bin/gcc", "/usr/lib/a", "/usr/lib/b"];
        let tc = toolchain_list(tc.map(PathBuf::from).to_vec(), Path::new("/usr/bin/gcc"));
        assert_eq!(*tc, ["/usr/lib/a", "/usr/lib/b"].map(PathBuf::from));
    }
}
