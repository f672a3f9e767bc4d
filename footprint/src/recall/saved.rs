//! The header walks on disk (`.ggninja_footprints`): a version line, then
//! frames (a little-endian u32 length, then that many bytes of postcard):
//! one of tables — every path, every (file, stat) and every (dir, what it
//! was, names) that any record names, once — then one per record: its
//! key, how many saves ago a run last used it, and its headers, absent
//! paths, files and dirs as indices into the tables. Records of one project
//! share most of their files and dirs (the system headers, the project's
//! include dirs), so the tables keep the file small, and binary numbers
//! keep its loading quick. A run may ask for few records: it reads each
//! record's key, a record's numbers only when asked for, and of the tables
//! only what those name (`tables`). A damaged record is never given (nor
//! saved again), a truncated one ends the file; another version or damaged
//! tables make the whole file ignored: walking again only costs time.

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{
    Digest, DirDep, Entry, FileDep, Kept, Key, Numbers, Recall, Record, Restamped, Stat, Was,
};

/// Saves a record survives without being used.
const MAX_UNUSED_SAVES: u32 = 16;
/// The first line of the file; any other means another format.
/// (4: a walk kept by an older one never looked for the clock's macros;
/// 5: binary frames.)
const VERSION: &[u8] = b"ggninja-footprints 5\n";

type Line = (Key, u32, Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>);
/// A record's headers, absent paths, files and dirs, numbered.
type Parts = (Vec<u32>, Vec<u32>, Vec<u32>, Vec<u32>);

impl Recall {
    /// Takes the records `save` wrote: the tables now, each record's
    /// numbers when it is asked for (`Numbers::parts`). A key saved twice
    /// (only in a damaged file) keeps its first record.
    pub fn load(&self, path: &Path) {
        let Ok(bytes) = std::fs::read(path) else {
            return;
        };
        if !bytes.starts_with(VERSION) {
            return;
        }
        let file: Arc<[u8]> = bytes.into();
        let mut frames = Frames::new(&file, VERSION.len());
        let Some(tables) = frames
            .next()
            .and_then(|at| super::tables::Tables::read(&file, at))
        else {
            return;
        };
        let tables = Arc::new(tables);
        let mut records = self.records.write().unwrap();
        for frame in frames {
            // The key and the age lead the frame: the rest waits.
            let Ok(((key, unused_saves), _)) =
                postcard::take_from_bytes::<(Key, u32)>(&file[frame.clone()])
            else {
                continue;
            };
            let numbers = Numbers {
                tables: Arc::clone(&tables),
                frame,
            };
            records.entry(key).or_insert(Entry {
                kept: Kept::Loaded(numbers),
                unused_saves,
                used: AtomicBool::new(false),
            });
        }
    }

    /// Writes every record atomically when this run made any or found new
    /// stats for what they kept; records unused for [`MAX_UNUSED_SAVES`]
    /// saves that made records are left out.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let restamped = self.restamped.read().unwrap();
        // Only a save with new records ages the unused ones.
        let aging = u32::from(self.added.load(Ordering::Relaxed) > 0);
        if aging == 0 && restamped.is_empty() {
            return Ok(());
        }
        let records = self.records.read().unwrap();
        let mut t = Interner::new(&restamped);
        let mut lines = Vec::with_capacity(records.len());
        for (key, e) in records.iter() {
            let unused = match e.used.load(Ordering::Relaxed) {
                true => 0,
                false => e.unused_saves + aging,
            };
            if unused <= MAX_UNUSED_SAVES {
                lines.extend(t.line(key, unused, &e.kept));
            }
        }
        // Beside it, so the rename is atomic; 0666 less the umask as from
        // `File::create`, not tempfile's 0600: other users read it too.
        let mut tmp = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(path.parent().unwrap_or(Path::new(".")))?;
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        out.write_all(VERSION)?;
        // A path that is not UTF-8 does not serialize: nothing is kept.
        write_frame(&mut out, &(t.paths.items, t.files.items, t.dirs.items))?;
        for line in lines {
            write_frame(&mut out, &line)?;
        }
        out.flush()?;
        drop(out);
        tmp.persist(path).map(drop).map_err(|e| e.error)
    }
}

impl Numbers {
    /// The record's headers, absent paths, files and dirs, numbered; None
    /// if its frame does not read or names what the tables lack.
    pub(super) fn parts(&self) -> Option<Parts> {
        let t = &self.tables;
        let line = postcard::from_bytes::<Line>(t.frame(self.frame.clone())).ok()?;
        let (_, _, h, a, f, d) = line;
        let in_range = |v: &[u32], len: usize| v.iter().all(|&i| (i as usize) < len);
        let fits = in_range(&h, t.paths()) && in_range(&a, t.paths());
        let fits = fits && in_range(&f, t.files()) && in_range(&d, t.dirs());
        fits.then_some((h, a, f, d))
    }
}

/// One table being made: each item once, numbered in order.
struct Table<K, V> {
    items: Vec<V>,
    ids: FxHashMap<K, u32>,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            items: Vec::new(),
            ids: FxHashMap::default(),
        }
    }
}

impl<K: std::hash::Hash + Eq, V> Table<K, V> {
    /// The number of `key`'s item, made by `item` when it is new.
    fn id(&mut self, key: K, item: impl FnOnce() -> V) -> u32 {
        if let Some(&i) = self.ids.get(&key) {
            return i;
        }
        let i = self.items.len() as u32;
        self.items.push(item());
        self.ids.insert(key, i);
        i
    }
}

/// The tables being made.
struct Interner<'a> {
    /// By the path's bytes (`Path`'s `Hash` walks components).
    paths: Table<&'a OsStr, &'a Path>,
    files: Table<&'a FileDep, (u32, Stat, Digest)>,
    dirs: Table<&'a DirDep, (u32, Was, Option<&'a [String]>)>,
    restamped: &'a Restamped,
}

impl<'a> Interner<'a> {
    fn new(restamped: &'a Restamped) -> Interner<'a> {
        Interner {
            paths: Table::default(),
            files: Table::default(),
            dirs: Table::default(),
            restamped,
        }
    }

    /// A record's line; None for a loaded one whose frame is damaged.
    fn line(&mut self, key: &Key, unused: u32, kept: &'a Kept) -> Option<Line> {
        let (headers, absent, files, dirs) = match kept {
            Kept::Made(r) => self.made(r),
            Kept::Loaded(n) => self.loaded(n)?,
        };
        Some((*key, unused, headers, absent, files, dirs))
    }

    fn made(&mut self, r: &'a Record) -> Parts {
        let headers = r.headers.iter().map(|p| self.path(p)).collect();
        let absent = r.absent.iter().map(|p| self.path(p)).collect();
        let files = r.files.iter().map(|f| self.file(f)).collect();
        let dirs = r.dirs.iter().map(|d| self.dir(d)).collect();
        (headers, absent, files, dirs)
    }

    /// A record not asked for this run, renumbered without making it.
    fn loaded(&mut self, n: &'a Numbers) -> Option<Parts> {
        let (headers, absent, files, dirs) = n.parts()?;
        let t = &*n.tables;
        let paths = |me: &mut Self, v: Vec<u32>| -> Vec<u32> {
            v.iter().map(|&i| me.path(t.path(i))).collect()
        };
        let (headers, absent) = (paths(self, headers), paths(self, absent));
        let files = files.iter().map(|&i| self.file(t.file(i)));
        let files = files.collect();
        let dirs = dirs.iter().map(|&i| Some(self.dir(t.dir(i)?)));
        let dirs: Option<Vec<u32>> = dirs.collect();
        Some((headers, absent, files, dirs?))
    }

    fn path(&mut self, p: &'a Path) -> u32 {
        self.paths.id(p.as_os_str(), || p)
    }

    fn file(&mut self, f: &'a FileDep) -> u32 {
        let path = self.path(&f.path);
        let stat = match self.restamped.files.get(f.path.as_os_str()) {
            Some((now, digest)) if *digest == f.digest => *now,
            _ => f.stat,
        };
        self.files.id(f, || (path, stat, f.digest))
    }

    fn dir(&mut self, d: &'a DirDep) -> u32 {
        let path = self.path(&d.path);
        let was = self
            .restamped
            .dirs
            .get(d)
            .map_or(d.was, |now| Was::At(*now));
        self.dirs.id(d, || (path, was, d.names.as_deref()))
    }
}

/// Where the frames of a file lie after its version line; a truncated one
/// ends it.
struct Frames<'a> {
    file: &'a [u8],
    at: usize,
}

impl<'a> Frames<'a> {
    fn new(file: &'a [u8], at: usize) -> Frames<'a> {
        Frames { file, at }
    }
}

impl Iterator for Frames<'_> {
    type Item = std::ops::Range<usize>;

    fn next(&mut self) -> Option<std::ops::Range<usize>> {
        let rest = self.file.get(self.at..)?;
        let (len, _) = rest.split_first_chunk::<4>()?;
        let start = self.at + 4;
        let end = start.checked_add(u32::from_le_bytes(*len) as usize)?;
        if end > self.file.len() {
            return None;
        }
        self.at = end;
        Some(start..end)
    }
}

fn write_frame(out: &mut impl Write, item: &impl serde::Serialize) -> std::io::Result<()> {
    let bytes = postcard::to_stdvec(item).map_err(std::io::Error::other)?;
    let len = u32::try_from(bytes.len()).map_err(std::io::Error::other)?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&bytes)
}

#[cfg(test)]
mod tests {
    use super::super::key;
    use super::*;
    use std::path::PathBuf;

    fn record(header: &str) -> Record {
        let dir = Arc::new(DirDep::new(
            "/d".into(),
            Was::Absent,
            Some(vec!["x.h".to_string()]),
        ));
        let stat = Stat(1, 2, 0o100000, 3, 4, 5);
        let file = Arc::new(FileDep::new(header.into(), stat, [7; 32]));
        Record {
            headers: vec![header.into()],
            absent: vec!["gen/b.h".into()],
            files: vec![file],
            dirs: vec![dir],
        }
    }

    /// A file holding `record("/a.h")` and `record("/b.h")` under the
    /// two keys returned, in `dir`.
    fn two_saved(dir: &Path) -> (PathBuf, Key, Key) {
        let saved = dir.join(".ggninja_footprints");
        let recall = Recall::default();
        let (k1, k2) = (key([b"1".as_slice()]), key([b"2".as_slice()]));
        recall.put(k1, record("/a.h"));
        recall.put(k2, record("/b.h"));
        recall.save(&saved).unwrap();
        (saved, k1, k2)
    }

    /// Any byte of a saved file changed or cut: the load keeps what still
    /// reads and never panics, and what it keeps saves again.
    #[test]
    fn every_damaged_byte_loads_without_panic() {
        let d = tempfile::tempdir().unwrap();
        let (saved, k1, k2) = two_saved(d.path());
        let good = std::fs::read(&saved).unwrap();
        for at in 0..good.len() {
            for damaged in [
                good[..at].to_vec(),
                [&good[..at], &[good[at] ^ 0xff], &good[at + 1..]].concat(),
            ] {
                std::fs::write(&saved, &damaged).unwrap();
                let back = Recall::default();
                back.load(&saved);
                let _ = (back.kept(&k1), back.kept(&k2));
                back.put(key([b"3".as_slice()]), record("/c.h"));
                back.save(&saved).unwrap();
            }
        }
    }

    /// A dir listing a name that is not UTF-8 (a damaged file: names are
    /// read when a record asks for their dir) gives no record naming it;
    /// the others still come, and what is kept saves again.
    #[test]
    fn a_damaged_name_drops_only_the_records_naming_its_dir() {
        let d = tempfile::tempdir().unwrap();
        let saved = d.path().join(".ggninja_footprints");
        let (k1, k2) = (key([b"1".as_slice()]), key([b"2".as_slice()]));
        let first = Recall::default();
        first.put(k1, record("/a.h"));
        let mut other = record("/b.h");
        other.dirs = vec![Arc::new(DirDep::new(
            "/e".into(),
            Was::Absent,
            Some(vec!["y.h".to_string()]),
        ))];
        first.put(k2, other);
        first.save(&saved).unwrap();
        let mut bytes = std::fs::read(&saved).unwrap();
        let at = bytes.windows(3).position(|w| w == b"x.h").unwrap();
        bytes[at] = 0xff;
        std::fs::write(&saved, &bytes).unwrap();
        let back = Recall::default();
        back.load(&saved);
        assert!(back.kept(&k1).is_none());
        assert_eq!(back.kept(&k2).unwrap().headers, [PathBuf::from("/b.h")]);
        back.put(key([b"3".as_slice()]), record("/c.h"));
        back.save(&saved).unwrap();
    }

    /// A run that asks for no record but makes one writes the loaded ones
    /// back as they were, renumbered among the new tables.
    #[test]
    fn records_not_asked_for_are_saved_as_they_were() {
        let d = tempfile::tempdir().unwrap();
        let saved = d.path().join(".ggninja_footprints");
        let (k1, k2) = (key([b"1".as_slice()]), key([b"2".as_slice()]));
        let first = Recall::default();
        first.put(k1, record("/a.h"));
        first.save(&saved).unwrap();
        let run = Recall::default();
        run.load(&saved);
        let mut made = record("/b.h");
        made.headers.insert(0, "/c.h".into());
        made.absent.clear();
        run.put(k2, made);
        run.save(&saved).unwrap();
        let back = Recall::default();
        back.load(&saved);
        let text = |r: Option<Arc<Record>>| format!("{:?}", r.unwrap());
        assert_eq!(text(back.kept(&k1)), format!("{:?}", record("/a.h")));
        // Loaded sorted, as a walk's record is made.
        let (headers, absent) = (["/b.h", "/c.h"], Vec::<PathBuf>::new());
        let b = back.kept(&k2).unwrap();
        assert_eq!(
            (b.headers.clone(), b.absent.clone()),
            (headers.map(PathBuf::from).to_vec(), absent)
        );
    }

    #[test]
    fn saved_records_come_back_and_damage_is_ignored() {
        let d = tempfile::tempdir().unwrap();
        let (saved, k1, k2) = two_saved(d.path());
        let back = Recall::default();
        back.load(&saved);
        let r = back.kept(&k1).unwrap();
        assert_eq!(format!("{r:?}"), format!("{:?}", record("/a.h")));
        // Truncated: the damaged last record is skipped, the others kept.
        let bytes = std::fs::read(&saved).unwrap();
        std::fs::write(&saved, &bytes[..bytes.len() - 5]).unwrap();
        let cut = Recall::default();
        cut.load(&saved);
        assert_eq!(cut.records.read().unwrap().len(), 1);
        // A record naming what is not in the tables, or not a record: it
        // alone is skipped.
        let mut bad = bytes.clone();
        let out_of_range: Line = (k2, 0, vec![9], vec![], vec![], vec![]);
        write_frame(&mut bad, &out_of_range).unwrap();
        write_frame(&mut bad, &"not a record").unwrap();
        std::fs::write(&saved, &bad).unwrap();
        let some = Recall::default();
        some.load(&saved);
        assert_eq!(some.records.read().unwrap().len(), 2);
        assert!(some
            .kept(&k2)
            .is_some_and(|r| r.headers[0] == Path::new("/b.h")));
        // Read when asked for: one naming what the tables lack under a key
        // of its own is taken, never given, and not saved again.
        let k3 = key([b"3".as_slice()]);
        let mut bad = bytes.clone();
        write_frame(
            &mut bad,
            &(
                k3,
                0u32,
                vec![9u32],
                vec![0u32; 0],
                vec![0u32; 0],
                vec![0u32; 0],
            ),
        )
        .unwrap();
        std::fs::write(&saved, &bad).unwrap();
        let lazy = Recall::default();
        lazy.load(&saved);
        assert_eq!(lazy.records.read().unwrap().len(), 3);
        assert!(lazy.kept(&k3).is_none());
        lazy.put(key([b"4".as_slice()]), record("/d.h"));
        lazy.save(&saved).unwrap();
        let again = Recall::default();
        again.load(&saved);
        assert_eq!(again.records.read().unwrap().len(), 3);
        assert!(again.kept(&k3).is_none() && again.kept(&k1).is_some());
        // Another version, garbage: nothing.
        let old = [
            b"ggninja-footprints 4\n".as_slice(),
            &bytes[VERSION.len()..],
        ]
        .concat();
        for bad in [b"\xff\x00garbage\n[1,2]\n".to_vec(), old] {
            std::fs::write(&saved, bad).unwrap();
            let bad = Recall::default();
            bad.load(&saved);
            assert_eq!(bad.records.read().unwrap().len(), 0);
        }
    }
}
