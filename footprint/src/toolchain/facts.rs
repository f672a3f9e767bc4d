//! What the toolchain told us, kept between runs: each compiler's
//! sub-programs and search dirs, its built-in include dirs, the linker's
//! search dirs and every program's shared libraries. Asking takes ~100
//! processes (`gcc -print-prog-name=...`, `ldd`, ...), a tenth of a second
//! before the first thunk of every run; a saved answer costs a few stats.
//!
//! Each answer keeps a [`Stamp`] of every file and directory it was read
//! from (the program, what it found, the directories it searched, the dirs
//! it reported missing); it is reused only while all of them are unchanged
//! and the environment variables the tools read are the same. Answers are
//! kept for the last few environments apart: the PATH of a terminal, of an
//! IDE, of a shell with a virtualenv on, of `perf`; each finds its own.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use super::{BuiltinDirs, CompilerInfo, Memo, Toolchain};

/// Bumped whenever what an answer holds, how it is found, or the file's
/// encoding changes (3: postcard, was JSON).
const FORMAT: u32 = 3;
/// Environments whose answers are kept.
const ENVS: usize = 4;

/// Variables that change what gcc, clang, ld and ldd answer.
const ENV: [&str; 10] = [
    "PATH",
    "GCC_EXEC_PREFIX",
    "COMPILER_PATH",
    "LIBRARY_PATH",
    "CPATH",
    "C_INCLUDE_PATH",
    "CPLUS_INCLUDE_PATH",
    "OBJC_INCLUDE_PATH",
    "LD_LIBRARY_PATH",
    "SDKROOT",
];

/// A path and what `stat` said of it (device, inode, size, mtime and
/// ctime in ns); `None`: it did not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp(PathBuf, Option<[i64; 5]>);

impl Stamp {
    pub(crate) fn of(path: &Path) -> Stamp {
        Stamp(path.to_path_buf(), Stamp::key(path))
    }

    fn key(path: &Path) -> Option<[i64; 5]> {
        std::fs::metadata(path).ok().map(|m| {
            [
                m.dev() as i64,
                m.ino() as i64,
                m.size() as i64,
                m.mtime() * 1_000_000_000 + m.mtime_nsec(),
                m.ctime() * 1_000_000_000 + m.ctime_nsec(),
            ]
        })
    }

    /// Whether the file is as stamped, stat'ed once for all the answers
    /// `now` serves (they share the compiler, its libraries and dirs).
    fn still_true(&self, now: &mut Now) -> bool {
        let key = now
            .entry(self.0.clone().into_os_string())
            .or_insert_with(|| Stamp::key(&self.0));
        self.1 == *key
    }
}

/// An answer and the stamps of the files it came from.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Answer<V> {
    pub value: V,
    pub stamps: Vec<Stamp>,
}

impl<V> Answer<V> {
    /// `before`: stamps taken before asking (the program asked), so a
    /// change while it answered is seen next time.
    pub(crate) fn new<'a>(
        value: V,
        before: Vec<Stamp>,
        after: impl IntoIterator<Item = &'a PathBuf>,
    ) -> Arc<Answer<V>> {
        let mut stamps = before;
        stamps.extend(after.into_iter().map(|p| Stamp::of(p)));
        Arc::new(Answer { value, stamps })
    }
}

impl<V> std::ops::Deref for Answer<V> {
    type Target = V;
    fn deref(&self) -> &V {
        &self.value
    }
}

type Entries<K, V> = Vec<(K, Arc<Answer<V>>)>;

/// The file: each environment's answers, the last saved first.
#[derive(Serialize, Deserialize)]
struct SavedFile {
    format: u32,
    envs: Vec<Saved>,
}

/// What one environment's tools answered.
#[derive(Serialize, Deserialize)]
struct Saved {
    env: Vec<Option<String>>,
    compilers: Entries<(PathBuf, Vec<String>), CompilerInfo>,
    builtin: Entries<(PathBuf, String, Vec<String>), BuiltinDirs>,
    closures: Entries<PathBuf, Vec<PathBuf>>,
    ld_dirs: Entries<PathBuf, Vec<PathBuf>>,
}

fn env() -> Vec<Option<String>> {
    ENV.iter().map(|v| std::env::var(v).ok()).collect()
}

/// The answers of `m` that are known.
fn known<K: Clone, V>(m: &Memo<K, Arc<Answer<V>>>) -> Entries<K, V> {
    let m = m.lock().unwrap();
    let known = m
        .iter()
        .filter_map(|(k, c)| Some((k.clone(), c.get()?.clone())));
    known.collect()
}

/// What `stat` says of each stamped path now, as far as asked (by its
/// bytes: `Path`'s equality would take `d/` for `d`).
type Now = HashMap<std::ffi::OsString, Option<[i64; 5]>>;

/// Puts the answers that still hold into `m`, as `wrap` makes its values.
fn recall<K: Eq + std::hash::Hash, V, T>(
    m: &Memo<K, T>,
    saved: impl IntoIterator<Item = (K, Arc<Answer<V>>)>,
    wrap: fn(Arc<Answer<V>>) -> T,
    now: &mut Now,
) {
    let mut m = m.lock().unwrap();
    for (k, answer) in saved {
        if answer.stamps.iter().all(|s| s.still_true(now)) {
            m.insert(k, Arc::new(OnceLock::from(wrap(answer))));
        }
    }
}

/// The languages `builtin_dirs` is asked for, as the static names it keys on.
fn lang_name(name: &str) -> Option<&'static str> {
    ["c", "c++", "objective-c", "objective-c++"]
        .into_iter()
        .find(|&n| n == name)
}

impl Toolchain {
    /// Takes the answers saved by `save` that still hold. A missing,
    /// damaged or foreign file is ignored (it only costs asking again).
    pub(crate) fn load(&self, path: &Path) {
        self.load_for(path, &env());
    }

    /// Saves every answer for the next run, atomically, beside the other
    /// environments' answers; does nothing when no tool was asked anything
    /// since `load`.
    pub(crate) fn save(&self, path: &Path) -> std::io::Result<()> {
        self.save_for(path, env())
    }

    fn load_for(&self, path: &Path, env: &[Option<String>]) {
        let Some(saved) = read(path) else {
            return;
        };
        let Some(mine) = saved.envs.into_iter().find(|s| s.env == env) else {
            return;
        };
        let now = &mut Now::default();
        recall(&self.compilers, mine.compilers, |a| a, now);
        let builtin = mine
            .builtin
            .into_iter()
            .filter_map(|((c, lang, flags), a)| Some(((c, lang_name(&lang)?, flags), a)));
        recall(&self.builtin, builtin, Ok, now);
        recall(&self.closures, mine.closures, |a| a, now);
        recall(&self.ld_dirs, mine.ld_dirs, |a| a, now);
    }

    fn save_for(&self, path: &Path, env: Vec<Option<String>>) -> std::io::Result<()> {
        if self.queries() == 0 {
            return Ok(());
        }
        let builtin = self.builtin.lock().unwrap();
        let builtin = builtin.iter().filter_map(|((c, lang, flags), cell)| {
            let answer = cell.get()?.as_ref().ok()?;
            Some(((c.clone(), lang.to_string(), flags.clone()), answer.clone()))
        });
        let mine = Saved {
            env,
            compilers: known(&self.compilers),
            builtin: builtin.collect(),
            closures: known(&self.closures),
            ld_dirs: known(&self.ld_dirs),
        };
        // The others as the file has them now (another process may have
        // saved since this one loaded).
        let saved = read(path).map_or_else(Vec::new, |f| f.envs);
        let others: Vec<Saved> = saved.into_iter().filter(|s| s.env != mine.env).collect();
        let envs: Vec<Saved> = std::iter::once(mine).chain(others).take(ENVS).collect();
        let file = SavedFile {
            format: FORMAT,
            envs,
        };
        // Beside it, so the rename is atomic; 0666 less the umask as from
        // `File::create`, not tempfile's 0600: other users read it too.
        let mut tmp = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(path.parent().unwrap_or(Path::new(".")))?;
        tmp.write_all(&postcard::to_stdvec(&file).map_err(std::io::Error::other)?)?;
        tmp.persist(path).map(drop).map_err(|e| e.error)
    }
}

/// The saved file, if it is one of this format.
fn read(path: &Path) -> Option<SavedFile> {
    let text = std::fs::read(path).ok()?;
    let file = postcard::from_bytes::<SavedFile>(&text).ok()?;
    (file.format == FORMAT).then_some(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toolchain that asked `ldd` about `/bin/sh` (any host has both).
    fn asked() -> Toolchain {
        let t = Toolchain::default();
        t.closure(Path::new("/bin/sh"));
        assert!(t.queries() > 0);
        t
    }

    /// Whether a toolchain loading `path` in `env` answers without asking.
    fn recalled(path: &Path, env: &[Option<String>]) -> bool {
        let t = Toolchain::default();
        t.load_for(path, env);
        t.closure(Path::new("/bin/sh"));
        t.queries() == 0
    }

    /// A file stamped by several answers is stat'ed once for them all, and
    /// once changed, no answer that stamped it is taken.
    #[test]
    fn a_changed_file_drops_every_answer_it_stamped() {
        let d = tempfile::tempdir().unwrap();
        let (shared, own) = (d.path().join("libc.so"), d.path().join("cc1"));
        std::fs::write(&shared, "one").unwrap();
        std::fs::write(&own, "x").unwrap();
        let saved = || {
            let a = Answer::new(1, vec![Stamp::of(&shared)], []);
            let b = Answer::new(2, vec![Stamp::of(&own)], [&shared]);
            vec![("a", a), ("b", b)]
        };
        let taken = |saved: Vec<(&'static str, Arc<Answer<i32>>)>| {
            let m: Memo<&str, Arc<Answer<i32>>> = Memo::default();
            let now = &mut Now::default();
            recall(&m, saved, |a| a, now);
            assert_eq!(now.len(), 2, "each distinct file stat'ed once");
            let mut keys: Vec<&str> = m.lock().unwrap().keys().copied().collect();
            keys.sort();
            keys
        };
        assert_eq!(taken(saved()), ["a", "b"]);
        let before = saved();
        std::fs::write(&shared, "longer").unwrap();
        assert!(taken(before).is_empty());
    }

    /// Each environment finds its own answers, the last `ENVS` saved kept;
    /// one saved again moves first.
    #[test]
    fn answers_are_kept_per_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("facts");
        let env = |n: usize| vec![Some(format!("/bin{n}")), None];
        asked().save_for(&path, env(0)).unwrap();
        assert!(recalled(&path, &env(0)));
        assert!(!recalled(&path, &env(1)));
        asked().save_for(&path, env(1)).unwrap();
        assert!(recalled(&path, &env(0)) && recalled(&path, &env(1)));
        // One environment's entry once, however often saved.
        asked().save_for(&path, env(1)).unwrap();
        assert_eq!(read(&path).unwrap().envs.len(), 2);
        for n in 2..ENVS {
            asked().save_for(&path, env(n)).unwrap();
        }
        asked().save_for(&path, env(0)).unwrap();
        asked().save_for(&path, env(ENVS)).unwrap();
        // 1 was the least recently saved.
        assert!(!recalled(&path, &env(1)));
        assert!((2..=ENVS).all(|n| recalled(&path, &env(n))));
        assert!(recalled(&path, &env(0)));
        assert_eq!(read(&path).unwrap().envs.len(), ENVS);
    }
}
