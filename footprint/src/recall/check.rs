//! A kept walk checked against the disk (`Look`): every file by its stat,
//! or else by its bytes' digest, and every dir a name was missed in by its
//! stat, or else by its names still missing; each file's check kept while
//! the run's stats drop nothing (`Checked`), and the new stats that were
//! found to stand for what a record kept (`Restamped`), for the next save.
//! See the parent module for why each check is enough. Ignores how
//! records are made and saved.

use std::ffi::OsString;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{Digest, DirDep, FileDep, Recall, Record, RunStats, Stat, Was};

/// A file's or dir's dependency's last check (whether it held) with the
/// `RunStats::epoch` it was made in, apart for a look under the built-in
/// dirs and one through the run's stats: the records of the edges made at
/// once share most of their files (the system headers) and dirs, and within
/// one epoch a check gives what it gave. Also whether the path lies under
/// the built-in dirs numbered `BuiltIn::id` last asked about: every
/// record's every path is asked that, and the answer holds while the dirs
/// do. Not part of the dependency: left out of its equality and hash,
/// printed as nothing.
#[derive(Default)]
pub(super) struct Checked([AtomicU64; 3]);

impl Checked {
    fn get(&self, sys: bool, epoch: u64) -> Option<bool> {
        let v = self.0[usize::from(sys)].load(Ordering::Relaxed);
        (v >> 1 == epoch).then_some(v & 1 == 1)
    }

    fn set(&self, sys: bool, epoch: u64, held: bool) {
        self.0[usize::from(sys)].store(epoch << 1 | u64::from(held), Ordering::Relaxed);
    }

    /// Whether the file is under the built-in dirs `id` numbers (0: not
    /// numbered, asked each time), `under` answering when not kept.
    fn sys(&self, id: u64, under: impl FnOnce() -> bool) -> bool {
        let v = self.0[2].load(Ordering::Relaxed);
        if id != 0 && v >> 1 == id {
            return v & 1 == 1;
        }
        let answer = under();
        if id != 0 {
            self.0[2].store(id << 1 | u64::from(answer), Ordering::Relaxed);
        }
        answer
    }
}

/// Which paths lie under the compiler's built-in dirs, and a number for
/// those dirs (not 0) when the same number always means the same dirs, so
/// each file can keep its answer (a closure has none: asked every time).
pub(crate) trait BuiltIn {
    fn has(&self, path: &Path) -> bool;
    fn id(&self) -> u64 {
        0
    }
}

impl<F: Fn(&Path) -> bool> BuiltIn for F {
    fn has(&self, path: &Path) -> bool {
        self(path)
    }
}

/// A copy starts unchecked (a copy is a key of `Restamped`, never checked).
impl Clone for Checked {
    fn clone(&self) -> Checked {
        Checked::default()
    }
}

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("_")
    }
}

/// New stats found to stand for what records kept (see `Recall::restamped`).
#[derive(Default)]
pub(super) struct Restamped {
    pub(super) files: FxHashMap<OsString, (Stat, Digest)>,
    /// By the dependency, names and all.
    pub(super) dirs: FxHashMap<DirDep, Stat>,
}

impl Restamped {
    pub(super) fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }
}

/// How a check sees the disk: paths under the compiler's built-in dirs
/// (`sys`) stat'ed once a process, shared with the hash cache
/// (`RunStats::stat_system`: the scanner takes them not to change during a
/// build), the others and listings through the run's stats.
pub(super) struct Look<'a, S> {
    pub(super) recall: &'a Recall,
    pub(super) sys: S,
    pub(super) stats: &'a RunStats,
}

impl<S: BuiltIn> Look<'_, S> {
    fn stat(&self, path: &Path) -> Option<Stat> {
        self.stat_as(path, self.sys.has(path))
    }

    fn stat_as(&self, path: &Path, sys: bool) -> Option<Stat> {
        match sys {
            true => self.stats.stat_system(path),
            false => self.stats.stat(path),
        }
    }

    pub(super) fn holds(&self, r: &Record) -> bool {
        let epoch = self.stats.epoch();
        let id = self.sys.id();
        let file_holds = |f: &Arc<FileDep>| {
            let sys = f.checked.sys(id, || self.sys.has(&f.path));
            f.checked.get(sys, epoch).unwrap_or_else(|| {
                let held = self.file_holds(f, sys);
                f.checked.set(sys, epoch, held);
                held
            })
        };
        let dir_holds = |d: &Arc<DirDep>| {
            let sys = d.checked.sys(id, || self.sys.has(&d.path));
            d.checked.get(sys, epoch).unwrap_or_else(|| {
                let held = self.dir_holds(d, sys);
                d.checked.set(sys, epoch, held);
                held
            })
        };
        r.files.iter().all(file_holds) && r.dirs.iter().all(dir_holds)
    }

    fn file_holds(&self, f: &FileDep, sys: bool) -> bool {
        match self.stat_as(&f.path, sys) {
            Some(now) if now == f.stat => true,
            // Written again: the same bytes give the same directives.
            Some(now) => {
                let same = self.recall.digest(&f.path, now) == Some(f.digest);
                if same && !now.racy(self.recall.start_ns) {
                    let mut r = self.recall.restamped.write().unwrap();
                    r.files
                        .insert(f.path.as_os_str().to_os_string(), (now, f.digest));
                }
                same
            }
            None => false,
        }
    }

    fn dir_holds(&self, d: &DirDep, sys: bool) -> bool {
        let now = self.stat_as(&d.path, sys);
        let same = match d.was {
            Was::Absent => now.is_none(),
            Was::At(s) => now == Some(s),
            Was::Racy => false,
        };
        if same {
            return true;
        }
        let Some(names) = &d.names else {
            return false;
        };
        if !self.still_missing(&d.path, names) {
            return false;
        }
        let settled = now.filter(|s| !s.racy(self.recall.start_ns));
        if let Some(now) = settled.filter(|_| self.none_listed(&d.path, names)) {
            let mut r = self.recall.restamped.write().unwrap();
            r.dirs.insert(d.clone(), now);
        }
        true
    }

    /// Whether `dir` lists none of `names`, of whatever type.
    fn none_listed(&self, dir: &Path, names: &[String]) -> bool {
        let listed = self.stats.names_in(dir);
        listed.is_some_and(|l| !names.iter().any(|n| l.contains(std::ffi::OsStr::new(n))))
    }

    /// Whether none of `names` is a regular file in `dir` (symlinks
    /// followed): one listing of the dir, and a stat of each name it holds.
    fn still_missing(&self, dir: &Path, names: &[String]) -> bool {
        let Some(listed) = self.stats.names_in(dir) else {
            // Gone, or not a dir: nothing is found under it.
            return self.stat(dir).is_none_or(|s| !s.is_dir());
        };
        let is_file = |n: &String| self.stat(&dir.join(n)).is_some_and(|s| s.is_file());
        !names
            .iter()
            .any(|n| listed.contains(std::ffi::OsStr::new(n)) && is_file(n))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{key, none_built_in, Key};
    use super::*;
    use sha2::{Digest as _, Sha256};

    /// Whether a file lies under the built-in dirs is asked once per
    /// numbered dirs, and every time for dirs without a number.
    #[test]
    fn a_files_place_is_kept_for_numbered_built_in_dirs() {
        let (checked, asked) = (Checked::default(), std::cell::Cell::new(0));
        let ask = |answer| {
            asked.set(asked.get() + 1);
            answer
        };
        assert!(checked.sys(1, || ask(true)));
        assert!(checked.sys(1, || ask(false)), "kept");
        assert!(!checked.sys(2, || ask(false)), "other dirs");
        assert!(checked.sys(0, || ask(true)) && !checked.sys(0, || ask(false)));
        assert!(!checked.sys(2, || ask(true)), "kept for 2");
        assert_eq!(asked.get(), 4);
    }

    #[test]
    fn a_record_holds_until_a_file_changes_or_a_missed_name_appears() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        std::fs::write(&h, "x").unwrap();
        // As `Recorder::finish` keeps it once the stamps are old.
        let r = Record {
            headers: vec![h.clone()],
            absent: Vec::new(),
            files: vec![Arc::new(FileDep::new(
                h.clone(),
                Stat::of(&h).unwrap(),
                Sha256::digest(b"x").into(),
            ))],
            dirs: vec![Arc::new(DirDep::new(
                d.path().join("sub"),
                Was::Absent,
                Some(vec!["none.h".to_string()]),
            ))],
        };
        let recall = Recall::default();
        let k = key([b"k".as_slice()]);
        recall.put(k, r);
        // Stats as a new run takes them.
        let no_sys = || RunStats::default();
        assert!(recall.get(&k, none_built_in, &no_sys()).is_some());
        // The dir appears, without the name: still holds.
        std::fs::create_dir(d.path().join("sub")).unwrap();
        assert!(recall.get(&k, none_built_in, &no_sys()).is_some());
        std::fs::write(d.path().join("sub/none.h"), "").unwrap();
        assert!(recall.get(&k, none_built_in, &no_sys()).is_none());
        std::fs::remove_file(d.path().join("sub/none.h")).unwrap();
        assert!(recall.get(&k, none_built_in, &no_sys()).is_some());
        std::fs::write(&h, "y").unwrap();
        assert!(recall.get(&k, none_built_in, &no_sys()).is_none());
        // Written again with its old bytes (a new file, a new stat): the
        // same walk; then other bytes of the same size: not.
        std::fs::remove_file(&h).unwrap();
        std::fs::write(&h, "x").unwrap();
        assert!(recall.get(&k, none_built_in, &no_sys()).is_some());
        std::fs::write(&h, "z").unwrap();
        assert!(recall.get(&k, none_built_in, &no_sys()).is_none());
    }

    /// A header written again with the same bytes, in a dir where a
    /// missed name is still missing, holds; once the new stats are settled
    /// the next save keeps them, so later runs check by stat, reading
    /// nothing. Racy new stats are not kept.
    #[test]
    fn what_holds_under_a_new_stat_is_saved_with_it() {
        let d = tempfile::tempdir().unwrap();
        let (h, sub) = (d.path().join("a.h"), d.path().join("sub"));
        std::fs::write(&h, "x").unwrap();
        let old_stat = Stat::of(&h).unwrap();
        let r = Record {
            headers: vec![h.clone()],
            absent: Vec::new(),
            files: vec![Arc::new(FileDep::new(
                h.clone(),
                old_stat,
                Sha256::digest(b"x").into(),
            ))],
            dirs: vec![Arc::new(DirDep::new(
                sub.clone(),
                Was::Absent,
                Some(vec!["none.h".to_string()]),
            ))],
        };
        let saved = d.path().join(".ggninja_footprints");
        let k = key([b"k".as_slice()]);
        let first = Recall::default();
        first.put(k, r);
        first.save(&saved).unwrap();
        std::fs::remove_file(&h).unwrap();
        std::fs::write(&h, "x").unwrap();
        std::fs::create_dir(&sub).unwrap();
        // One run: load, check, save; what the file then keeps.
        let run = || {
            let recall = Recall::default();
            recall.load(&saved);
            assert!(recall
                .get(&k, none_built_in, &RunStats::default())
                .is_some());
            recall.save(&saved).unwrap();
            let back = Recall::default();
            back.load(&saved);
            let r = back.kept(&k).unwrap();
            let read = recall.digests.read().unwrap().len();
            (r.files[0].stat, r.dirs[0].was, read)
        };
        assert_eq!(run(), (old_stat, Was::Absent, 1), "racy: nothing new kept");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let (new_file, new_dir) = (Stat::of(&h).unwrap(), Stat::of(&sub).unwrap());
        assert_eq!(run(), (new_file, Was::At(new_dir), 1));
        assert_eq!(run(), (new_file, Was::At(new_dir), 0), "checked by stat");
        // Other bytes under a settled stat: the record no longer holds.
        std::fs::write(&h, "y").unwrap();
        let recall = Recall::default();
        recall.load(&saved);
        assert!(recall
            .get(&k, none_built_in, &RunStats::default())
            .is_none());
    }

    /// A record of the header at `path`, holding `bytes` as stat'ed now.
    fn one_file(path: &Path, bytes: &[u8]) -> Record {
        let stat = Stat::of(path).unwrap();
        let dep = FileDep::new(path.to_path_buf(), stat, Sha256::digest(bytes).into());
        Record {
            headers: vec![path.to_path_buf()],
            absent: Vec::new(),
            files: vec![Arc::new(dep)],
            dirs: Vec::new(),
        }
    }

    /// A file's check is remembered while the run's stats stand: once the
    /// build says it wrote the file, or in another run, it is made again.
    #[test]
    fn a_check_lasts_until_the_run_s_stats_drop_answers() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        std::fs::write(&h, "x").unwrap();
        let (recall, k) = (Recall::default(), key([b"k".as_slice()]));
        recall.put(k, one_file(&h, b"x"));
        let stats = RunStats::default();
        assert!(recall.get(&k, none_built_in, &stats).is_some());
        std::fs::write(&h, "other").unwrap();
        // The run's stats still give the old stat: so does the check.
        assert!(recall.get(&k, none_built_in, &stats).is_some());
        stats.wrote(&h);
        assert!(recall.get(&k, none_built_in, &stats).is_none());
        std::fs::write(&h, "x").unwrap();
        let other_run = RunStats::default();
        assert!(recall.get(&k, none_built_in, &other_run).is_some());
        std::fs::write(&h, "other").unwrap();
        assert!(recall.get(&k, none_built_in, &other_run).is_some());
        assert!(
            recall.get(&k, |_: &Path| true, &other_run).is_none(),
            "under the built-in dirs"
        );
        assert!(recall
            .get(&k, none_built_in, &RunStats::default())
            .is_none());
    }

    /// A check stands while the run's writes miss every file it looked
    /// at; a file reached through a symlink is looked at anew after any
    /// write, so a write to its target (under another name) is seen.
    #[test]
    fn a_check_stands_through_writes_elsewhere_but_not_to_a_linked_file() {
        let d = tempfile::tempdir().unwrap();
        let (h, link, o) = (
            d.path().join("a.h"),
            d.path().join("l.h"),
            d.path().join("x.o"),
        );
        std::fs::write(&h, "x").unwrap();
        std::os::unix::fs::symlink(&h, &link).unwrap();
        let recall = Recall::default();
        let (direct, linked) = (key([b"direct".as_slice()]), key([b"linked".as_slice()]));
        recall.put(direct, one_file(&h, b"x"));
        recall.put(linked, one_file(&link, b"x"));
        let stats = RunStats::default();
        assert!(recall.get(&direct, none_built_in, &stats).is_some());
        std::fs::write(&o, "").unwrap();
        stats.wrote(&o);
        assert!(recall.get(&direct, none_built_in, &stats).is_some());
        // Only the link looked at: no answer kept names a.h.
        let stats = RunStats::default();
        assert!(recall.get(&linked, none_built_in, &stats).is_some());
        std::fs::write(&h, "y").unwrap();
        stats.wrote(&h);
        assert!(recall.get(&linked, none_built_in, &stats).is_none());
    }

    /// A dir's check is kept while the run's stats stand, and made again
    /// once the build says it wrote there: a missed name that appears is
    /// seen.
    #[test]
    fn a_dir_check_lasts_until_a_write_there_is_told() {
        let d = tempfile::tempdir().unwrap();
        let sub = d.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let record = missed_in(&sub, Was::At(Stat::of(&sub).unwrap()), "none.h");
        let (recall, k) = (Recall::default(), key([b"k".as_slice()]));
        recall.put(k, record);
        let stats = RunStats::default();
        assert!(recall.get(&k, none_built_in, &stats).is_some());
        std::fs::write(sub.join("none.h"), "").unwrap();
        assert!(recall.get(&k, none_built_in, &stats).is_some(), "not told");
        stats.wrote(&sub.join("none.h"));
        assert!(recall.get(&k, none_built_in, &stats).is_none());
    }

    /// A record that only missed `name` in `dir`, found there `was`.
    fn missed_in(dir: &Path, was: Was, name: &str) -> Record {
        Record {
            headers: Vec::new(),
            absent: Vec::new(),
            files: Vec::new(),
            dirs: vec![Arc::new(DirDep::new(
                dir.to_path_buf(),
                was,
                Some(vec![name.to_string()]),
            ))],
        }
    }

    /// Saves `records` under keys 1, 2, ... in a new file at `saved`.
    fn save_new(saved: &Path, records: Vec<Record>) -> Vec<Key> {
        let recall = Recall::default();
        let keys: Vec<Key> = (0..records.len())
            .map(|i| key([i.to_string().as_bytes()]))
            .collect();
        for (k, r) in keys.iter().zip(records) {
            recall.put(*k, r);
        }
        recall.save(saved).unwrap();
        keys
    }

    /// One run: load, ask for `asked` (whether each holds), save.
    fn run_asking(saved: &Path, asked: &[Key]) -> Vec<bool> {
        let recall = Recall::default();
        recall.load(saved);
        let stats = RunStats::default();
        let held = asked
            .iter()
            .map(|k| recall.get(k, none_built_in, &stats).is_some());
        let held = held.collect();
        recall.save(saved).unwrap();
        held
    }

    /// Two records missed different names in one dir: the dir's new stat,
    /// found by one, is not kept for the other, whose name is there now.
    #[test]
    fn a_dir_s_new_stat_vouches_only_for_the_names_checked() {
        let d = tempfile::tempdir().unwrap();
        let inc = d.path().join("inc");
        std::fs::create_dir(&inc).unwrap();
        let before = Was::At(Stat::of(&inc).unwrap());
        let saved = d.path().join(".ggninja_footprints");
        let keys = save_new(
            &saved,
            vec![
                missed_in(&inc, before, "a.h"),
                missed_in(&inc, before, "b.h"),
            ],
        );
        std::fs::write(inc.join("b.h"), "").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(run_asking(&saved, &keys[..1]), [true]);
        assert_eq!(run_asking(&saved, &keys), [true, false]);
    }

    /// A missed name that is a dangling symlink may come to name a file
    /// without its dir changing: the dir's new stat is not kept.
    #[test]
    fn a_dir_listing_a_missed_name_keeps_its_stat() {
        let d = tempfile::tempdir().unwrap();
        let (inc, gen) = (d.path().join("inc"), d.path().join("gen"));
        std::fs::create_dir(&inc).unwrap();
        std::fs::create_dir(&gen).unwrap();
        std::os::unix::fs::symlink("../gen/config.h", inc.join("config.h")).unwrap();
        let elsewhere = Was::At(Stat(1, 2, 0o040000, 3, 4, 5));
        let saved = d.path().join(".ggninja_footprints");
        let keys = save_new(&saved, vec![missed_in(&inc, elsewhere, "config.h")]);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(run_asking(&saved, &keys), [true]);
        std::fs::write(gen.join("config.h"), "").unwrap();
        assert_eq!(run_asking(&saved, &keys), [false]);
    }

    /// A file rewritten after the run began is racy for the whole run,
    /// however late its check: its bytes may have been read in its tick.
    #[test]
    fn a_stat_newer_than_the_run_is_not_kept() {
        let d = tempfile::tempdir().unwrap();
        let h = d.path().join("a.h");
        std::fs::write(&h, "x").unwrap();
        let old = Stat::of(&h).unwrap();
        let digest = Sha256::digest(b"x").into();
        let record = Record {
            headers: vec![h.clone()],
            absent: Vec::new(),
            files: vec![Arc::new(FileDep::new(h.clone(), old, digest))],
            dirs: Vec::new(),
        };
        let saved = d.path().join(".ggninja_footprints");
        let keys = save_new(&saved, vec![record]);
        let run = Recall::default();
        std::fs::remove_file(&h).unwrap();
        std::fs::write(&h, "x").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        run.load(&saved);
        assert!(run
            .get(&keys[0], none_built_in, &RunStats::default())
            .is_some());
        run.save(&saved).unwrap();
        let back = Recall::default();
        back.load(&saved);
        assert_eq!(back.kept(&keys[0]).unwrap().files[0].stat, old);
    }
}
