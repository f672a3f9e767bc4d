//! A kept walk as it is made (`Recorder`): what the walk read and looked
//! for, gathered as it goes, then stat'ed into a `Record`, racy stamps
//! kept by bytes or not at all (see the parent module). Ignores checking
//! and saving records.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use super::{now_ns, BuiltIn, Digest, DirDep, FileDep, Recall, Record, Stat, Was};
use crate::{parse_directives, Directive};

/// The stat of a file kept by its bytes alone: no file has it.
const BYTES_ONLY: Stat = Stat(0, 0, 0, 0, 0, 0);

/// How the answer depends on a file: through the directives the walk took
/// from it (when known), or (the `-M` fallback's) in any way.
enum Read {
    Walked(Option<Arc<Vec<Directive>>>),
    Any,
}

/// What a walk read and looked for, gathered as it goes (absolute paths),
/// then stat'ed into a [`Record`].
pub(crate) struct Recorder {
    start_ns: i64,
    files: BTreeMap<PathBuf, Read>,
    /// The digests of the racy files read before the compiler ran.
    before: BTreeMap<PathBuf, Digest>,
    /// Directory -> names looked for there and not found.
    misses: BTreeMap<PathBuf, BTreeSet<String>>,
    /// Directories whose any change counts.
    strict: BTreeSet<PathBuf>,
    /// What the answer depends on is not all known: keep nothing.
    unknown: bool,
}

impl Recorder {
    /// Starts recording: stamps from now on are racy.
    pub fn start() -> Recorder {
        Recorder {
            start_ns: now_ns(),
            files: BTreeMap::new(),
            before: BTreeMap::new(),
            misses: BTreeMap::new(),
            strict: BTreeSet::new(),
            unknown: false,
        }
    }

    /// The answer depends on something not recorded: it is not kept.
    pub fn not_kept(&mut self) {
        self.unknown = true;
    }

    /// The compiler is about to read the files: the racy ones' bytes now.
    pub fn before_compiler(&mut self) {
        let racy = |p: &&PathBuf| Stat::of(p).is_some_and(|s| s.racy(self.start_ns));
        let racy: Vec<PathBuf> = self.files.keys().filter(racy).cloned().collect();
        for path in racy {
            if let Ok(bytes) = std::fs::read(&path) {
                self.before.insert(path, Sha256::digest(&bytes).into());
            }
        }
    }

    /// The answer depends on `path` in any way (the compiler read it).
    pub fn read(&mut self, path: PathBuf) {
        self.files.insert(path, Read::Any);
    }

    /// The walk took `path` as found or a root, and `directives` from it
    /// if it scanned it.
    pub fn walked(&mut self, path: PathBuf, directives: Option<Arc<Vec<Directive>>>) {
        let read = self.files.entry(path).or_insert(Read::Walked(None));
        if let (Read::Walked(d), Some(_)) = (&mut *read, &directives) {
            *d = directives;
        }
    }

    /// The walk looked for `path` and found no file there.
    pub fn missed(&mut self, path: &Path) {
        // A path ending in `..` names a dir: never a regular file,
        // so never found there, whatever changes.
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return;
        };
        // A name that is not UTF-8 cannot be saved: its dir binds.
        match name.to_str() {
            Some(n) => {
                let names = self.misses.entry(dir.to_path_buf()).or_default();
                names.insert(n.to_string());
            }
            None => self.strict(dir.to_path_buf()),
        }
    }

    /// Any change of `dir` counts.
    pub fn strict(&mut self, dir: PathBuf) {
        self.strict.insert(dir);
    }

    /// The record of the answer `headers`, `absent`, or `None` when a file
    /// read is gone or racy (or a strict dir racy): not worth keeping. Dirs
    /// under the built-in dirs (`sys`) are kept strict: they hardly change,
    /// and their names would fill every record.
    pub fn finish(
        mut self,
        headers: Vec<PathBuf>,
        absent: Vec<PathBuf>,
        sys: impl BuiltIn,
        recall: &Recall,
    ) -> Option<Record> {
        if self.unknown {
            return None;
        }
        let mut files = Vec::with_capacity(self.files.len());
        for (path, read) in std::mem::take(&mut self.files) {
            let stat = Stat::of(&path)?;
            let dep = match read {
                // Not racy: unchanged since before the walk, so its bytes
                // now are the ones the walk read.
                _ if !stat.racy(self.start_ns) => {
                    let digest = recall.digest(&path, stat)?;
                    FileDep::new(path, stat, digest)
                }
                Read::Walked(Some(directives)) => {
                    bytes_only(path, |b| parse_directives(b) == *directives)?
                }
                Read::Any => {
                    let before = self.before.get(&path).copied();
                    bytes_only(path, |b| before == Some(Sha256::digest(b).into()))?
                }
                Read::Walked(None) => return None,
            };
            files.push(Arc::new(dep));
        }
        let misses = std::mem::take(&mut self.misses);
        let (strict, named): (Vec<_>, Vec<_>) = misses.into_iter().partition(|(d, _)| sys.has(d));
        self.strict.extend(strict.into_iter().map(|(d, _)| d));
        let mut dirs = Vec::with_capacity(named.len() + self.strict.len());
        for path in &self.strict {
            let was = self.was(path);
            if was == Was::Racy {
                return None;
            }
            let (path, names) = (path.clone(), None);
            dirs.push(Arc::new(DirDep::new(path, was, names)));
        }
        for (path, names) in named.into_iter().filter(|(d, _)| !self.strict.contains(d)) {
            let (was, names) = (self.was(&path), Some(names.into_iter().collect()));
            dirs.push(Arc::new(DirDep::new(path, was, names)));
        }
        Some(Record::sorted(headers, absent, files, dirs))
    }

    fn was(&self, dir: &Path) -> Was {
        match Stat::of(dir) {
            None => Was::Absent,
            Some(s) if s.racy(self.start_ns) => Was::Racy,
            Some(s) => Was::At(s),
        }
    }
}

/// A racy file kept by its bytes now, if `gave_the_answer` says they give
/// the record's answer (the directives the walk took from it; the bytes
/// the compiler read).
fn bytes_only(path: PathBuf, gave_the_answer: impl Fn(&[u8]) -> bool) -> Option<FileDep> {
    let bytes = std::fs::read(&path).ok()?;
    if !gave_the_answer(&bytes) {
        return None;
    }
    let digest = Sha256::digest(&bytes).into();
    Some(FileDep::new(path, BYTES_ONLY, digest))
}

#[cfg(test)]
mod tests {
    use super::super::{key, none_built_in};
    use super::*;
    use crate::stats::RunStats;
    use std::time::SystemTime;

    fn old(path: &Path) {
        // An hour ago: not racy.
        let t = SystemTime::now() - std::time::Duration::from_secs(3600);
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(t).unwrap();
    }

    fn record_of(dir: &Path, header: &Path) -> Option<Record> {
        let mut r = Recorder::start();
        r.read(header.to_path_buf());
        r.missed(&dir.join("sub/none.h"));
        let recall = Recall::default();
        r.finish(
            vec![header.to_path_buf()],
            Vec::new(),
            none_built_in,
            &recall,
        )
    }

    #[test]
    fn a_file_stamped_in_the_walk_keeps_no_record() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        std::fs::write(&h, "x").unwrap();
        // Its ctime is now, whatever its mtime: racy.
        old(&h);
        assert!(record_of(d.path(), &h).is_none());
    }

    /// A header just written (a generator's, a hit's restore) is racy:
    /// the record keeps it by the bytes there now, if they give what the
    /// walk took from it, and holds while the bytes do.
    #[test]
    fn a_file_the_walk_only_scanned_is_kept_by_its_bytes_when_racy() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        let text = "#include <b.h>\n";
        std::fs::write(&h, text).unwrap();
        let scanned = Arc::new(parse_directives(text.as_bytes()));
        let recall = Recall::default();
        let finish = |directives: &Arc<Vec<Directive>>| {
            let mut r = Recorder::start();
            r.walked(h.clone(), None);
            r.walked(h.clone(), Some(directives.clone()));
            r.finish(vec![h.clone()], Vec::new(), none_built_in, &recall)
        };
        // What the walk took is not what the file gives now: not kept.
        let other = Arc::new(parse_directives(b"#include <c.h>\n"));
        assert!(finish(&other).is_none());
        let k = key([b"k".as_slice()]);
        recall.put(k, finish(&scanned).expect("kept by its bytes"));
        let no_sys = || RunStats::default();
        assert!(recall.get(&k, none_built_in, &no_sys()).is_some());
        // Written again with the same bytes, then with others.
        std::fs::remove_file(&h).unwrap();
        std::fs::write(&h, text).unwrap();
        assert!(recall.get(&k, none_built_in, &no_sys()).is_some());
        std::fs::write(&h, "#include <b.h>\n\n").unwrap();
        assert!(recall.get(&k, none_built_in, &no_sys()).is_none());
        // Read by the compiler too (the `-M` fallback): kept only if its
        // bytes were these before the compiler ran.
        let compiled = |before: bool, after: &str| {
            std::fs::write(&h, text).unwrap();
            let mut r = Recorder::start();
            r.walked(h.clone(), Some(scanned.clone()));
            if before {
                r.before_compiler();
            }
            std::fs::write(&h, after).unwrap();
            r.read(h.clone());
            r.finish(vec![], Vec::new(), none_built_in, &recall)
        };
        assert!(compiled(false, text).is_none());
        assert!(compiled(true, "#include <b.h> /* the same directives */\n").is_none());
        assert!(compiled(true, text).is_some());
    }

    #[test]
    fn a_kept_record_names_the_digest_of_what_the_walk_read() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        std::fs::write(&h, "#include <b.h>\n").unwrap();
        old(&h);
        let recall = Recall::default();
        let stat = Stat::of(&h).unwrap();
        let want: Digest = Sha256::digest(b"#include <b.h>\n").into();
        assert_eq!(recall.digest(&h, stat), Some(want));
        // Changed since: its new stat gets its new bytes' digest; a stale
        // stat, asked for the first time this run, none.
        std::fs::write(&h, "other").unwrap();
        let now = Stat::of(&h).unwrap();
        let other: Digest = Sha256::digest(b"other").into();
        assert_eq!(recall.digest(&h, now), Some(other));
        assert_eq!(Recall::default().digest(&h, stat), None);
        assert_eq!(recall.digest(d.path(), Stat::of(d.path()).unwrap()), None);
    }
}
