//! What the compile commands of one target share, made once per
//! [`args::Settings`] (and compiler, directory, C++ driver and languages):
//! per language the search chain and the files scanned with every source,
//! and the toolchain list. A template is kept while the epoch of the run's
//! stats it was made in lasts: which files exist, as its lookups saw them,
//! are those stats' answers, and the epoch ends when the build tells of a
//! write that drops one (a memo hit restoring a header where a lookup
//! looked, a command run). Its dirs all existed when it was made, and no
//! step but a command (which ends the epoch) removes a dir. One that rests
//! on the disk itself is kept until the next `Scanner::invalidate` only:
//! one with `-include` files (found, with their precompiled headers, on
//! the disk), and one naming an include dir that did not exist (a dir
//! made since need not be told by its own name: a restore makes an
//! output's missing dirs, `-Igen/../inc` appears when `gen` is made).
//! Unaware of the sources themselves and of how headers are walked.

use crate::args::{self, Lang};
use crate::chain::{Chain, Node, Pos, SearchDirs};
use crate::paths::{clean, file_or_dir_files, is_file};
use crate::recall::BuiltIn;
use crate::toolchain::{toolchain_list, Toolchain};
use crate::{link, LocalOnly};
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::{Hash, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Compile (or link) commands that share a template.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct TemplateKey<P: AsRef<Path>, L, S> {
    pub exe: P,
    pub cwd: P,
    pub cxx: bool,
    /// The languages of the sources, sorted, without duplicates.
    pub langs: L,
    pub settings: S,
}

type TemplateCell = Arc<OnceLock<Result<Arc<Template>, LocalOnly>>>;
/// A template's key, the epoch it holds in (None: until `invalidate`), its cell.
type Entry = (OwnedKey, Option<u64>, TemplateCell);
type OwnedKey = TemplateKey<PathBuf, Vec<Lang>, args::Settings>;
pub(crate) type KeyRef<'a> = TemplateKey<&'a Path, &'a [Lang], &'a args::Settings>;

/// Templates by their key, looked up without copying it (every compile
/// command looks one up).
#[derive(Default)]
pub(crate) struct Templates {
    by_hash: Mutex<FxHashMap<u64, Vec<Entry>>>,
}

impl Templates {
    /// The template of `k` in the run's stats' `epoch`, made by `make` on
    /// first use in it (once, however many threads ask).
    pub fn get(
        &self,
        k: &KeyRef,
        epoch: u64,
        make: impl FnOnce() -> Result<Template, LocalOnly>,
    ) -> Result<Arc<Template>, LocalOnly> {
        let cell = self.cell(k, epoch);
        cell.get_or_init(|| make().map(Arc::new)).clone()
    }

    /// Forgets the templates made before `epoch`, and those resting on the
    /// disk itself (see the module doc): files may have been generated or
    /// removed since.
    pub fn invalidate(&self, epoch: u64) {
        let lacks_a_dir = |cell: &TemplateCell| match cell.get() {
            Some(Ok(t)) => t.langs.iter().any(|lt| lt.chain.lacks_a_dir()),
            _ => false,
        };
        let mut map = self.by_hash.lock().unwrap();
        for bucket in map.values_mut() {
            bucket.retain(|(_, made_in, cell)| *made_in == Some(epoch) && !lacks_a_dir(cell));
        }
        map.retain(|_, bucket| !bucket.is_empty());
    }

    fn cell(&self, k: &KeyRef, epoch: u64) -> TemplateCell {
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
        let holds = |made_in: Option<u64>| made_in.is_none_or(|e| e == epoch);
        let mut map = self.by_hash.lock().unwrap();
        let bucket = map.entry(h.finish()).or_default();
        if let Some(at) = bucket.iter().position(|(o, _, _)| same(o)) {
            match holds(bucket[at].1) {
                true => return Arc::clone(&bucket[at].2),
                false => drop(bucket.swap_remove(at)),
            }
        }
        let owned = TemplateKey {
            exe: k.exe.to_path_buf(),
            cwd: k.cwd.to_path_buf(),
            cxx: k.cxx,
            langs: k.langs.to_vec(),
            settings: k.settings.clone(),
        };
        let made_in = k.settings.forced_includes.is_empty().then_some(epoch);
        let cell = TemplateCell::default();
        bucket.push((owned, made_in, Arc::clone(&cell)));
        cell
    }
}

pub(crate) struct Template {
    /// One per preprocessed language.
    pub langs: Vec<LangTemplate>,
    /// Numbers its languages' built-in dirs (see `BuiltIn`).
    sys_id: u64,
    pub toolchain: Arc<Vec<PathBuf>>,
    /// The compiler's library search dirs.
    pub lib_dirs: Vec<PathBuf>,
}

pub(crate) struct LangTemplate {
    pub lang: Lang,
    pub chain: Chain,
    /// `-include` files and stdc-predef.h: scanned with every source.
    pub forced: Vec<Node>,
    /// The forced files and any precompiled headers beside them.
    pub headers: Vec<PathBuf>,
    /// What a kept walk's key takes from this language (`driver::walk_key`),
    /// spelled once: every compile of the template asks for it.
    pub walk_part: String,
}

impl Template {
    /// What every command with key `k` shares.
    pub fn build(
        k: &KeyRef,
        toolchain: &Toolchain,
        dirs: &SearchDirs,
    ) -> Result<Template, LocalOnly> {
        let (exe, cwd, s) = (k.exe, k.cwd, k.settings);
        let info = toolchain.compiler_info(exe, &s.query_flags);
        let mut prog_names: Vec<&'static str> = Vec::new();
        let mut langs = Vec::new();
        for &lang in k.langs.iter().filter(|l| l.preprocessed()) {
            let builtin = toolchain.builtin_dirs(exe, lang.query_name(), &s.query_flags)?;
            let chain = dirs.chain(s, &builtin, cwd);
            langs.push(LangTemplate::new(lang, chain, &s.forced_includes, cwd));
            prog_names.push(lang.cc1());
        }
        // Plain assembler sources still need `as`.
        let assembles = k.langs.contains(&Lang::Asm) || !langs.is_empty();
        if assembles && !s.no_assemble {
            prog_names.push("as");
        }
        let programs = |mut tc: Vec<PathBuf>, names: &[&str]| {
            for p in names {
                if let Some(path) = info.progs.get(*p) {
                    tc.extend(toolchain.closure(path).iter().cloned());
                }
            }
            toolchain_list(tc, exe)
        };
        // The toolchain's answers and files: the same all run.
        let list = match s.compile_only {
            true => toolchain.list(exe, &s.query_flags, &prog_names, None, || {
                programs(toolchain.program_files(exe), &prog_names)
            }),
            false => {
                prog_names.extend(link::DRIVER_PROGRAMS);
                let driver = link::DriverKey::of(s, k.cxx, cwd);
                toolchain.list(exe, &s.query_flags, &prog_names, Some(driver), || {
                    let mut tc = toolchain.program_files(exe);
                    link::driver_files(toolchain, &info, s, k.cxx, cwd, &mut tc);
                    programs(tc, &prog_names)
                })
            }
        };
        Ok(Template {
            sys_id: sys_id(&langs),
            langs,
            toolchain: list,
            lib_dirs: info.lib_dirs.clone(),
        })
    }
}

impl BuiltIn for &Template {
    fn has(&self, path: &Path) -> bool {
        self.langs.iter().any(|lt| lt.chain.in_sys(path))
    }

    fn id(&self) -> u64 {
        self.sys_id
    }
}

/// The number of the built-in dirs of `langs`: the same dirs get the same
/// number for the life of the process (templates are made again after
/// each `Scanner::invalidate`, and many share one compiler's dirs).
fn sys_id(langs: &[LangTemplate]) -> u64 {
    static NUMBERED: Mutex<Vec<Vec<PathBuf>>> = Mutex::new(Vec::new());
    let dirs: Vec<PathBuf> = (langs.iter())
        .flat_map(|lt| lt.chain.sys_dirs().iter().cloned())
        .collect();
    let mut numbered = NUMBERED.lock().unwrap_or_else(|e| e.into_inner());
    let at = match numbered.iter().position(|d| *d == dirs) {
        Some(at) => at,
        None => {
            numbered.push(dirs);
            numbered.len() - 1
        }
    };
    at as u64 + 1
}

impl LangTemplate {
    fn new(lang: Lang, chain: Chain, forced_includes: &[String], cwd: &Path) -> LangTemplate {
        let mut forced = Vec::new();
        let mut headers = Vec::new();
        for f in forced_includes {
            let node = if is_file(&cwd.join(f)) {
                Some(Node {
                    path: clean(PathBuf::from(f)),
                    pos: Pos::Local,
                })
            } else {
                chain.lookup(cwd, 0, f)
            };
            if let Some(n) = node {
                // A precompiled header next to it is used instead if valid.
                let gch = PathBuf::from(format!("{}.gch", n.path.display()));
                headers.extend(file_or_dir_files(&gch, cwd));
                headers.push(n.path.clone());
                forced.push(n);
            }
        }
        // The driver pre-includes glibc's stdc-predef.h from the system
        // dirs (gone with -nostdinc, which removes them from the chain).
        if let Some(n) = chain.lookup(cwd, 0, "stdc-predef.h") {
            headers.push(n.path.clone());
            forced.push(n);
        }
        let walk_part = format!("{:?}\0{}\0{:?}", lang, chain.signature(), forced);
        LangTemplate {
            lang,
            chain,
            forced,
            headers,
            walk_part,
        }
    }
}
