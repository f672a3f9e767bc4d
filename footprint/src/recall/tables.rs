//! The tables of a loaded `.ggninja_footprints` (see `saved`) as read:
//! each path and dir listing's name where it lies in the file, each file
//! and dir made when a record asked for first names it, then shared by
//! every record naming it. A run asks for few records, and the dirs'
//! listings are most of the file. Unaware of records and of checks.

use std::ffi::OsStr;
use std::ops::Range;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::{Digest, DirDep, FileDep, Stat, Was};

/// The tables as postcard reads them: paths and names borrowed from the
/// file as bytes (postcard writes a `str` as it does bytes), a name
/// checked for UTF-8 only when its dir is made.
type Saved<'a> = (
    Vec<&'a [u8]>,
    Vec<(u32, Stat, Digest)>,
    Vec<(u32, Was, Option<Vec<&'a [u8]>>)>,
);

/// Where bytes lie in the file: start and length.
type Span = (u32, u32);

pub(super) struct Tables {
    file: Arc<[u8]>,
    paths: Vec<Span>,
    files: Vec<File>,
    dirs: Vec<Dir>,
    /// Every dir's listing, one after another.
    names: Vec<Span>,
}

struct File {
    path: u32,
    stat: Stat,
    digest: Digest,
    made: OnceLock<Arc<FileDep>>,
}

struct Dir {
    path: u32,
    was: Was,
    /// Its names in `Tables::names`.
    listing: Option<Range<u32>>,
    /// None: a name is not UTF-8.
    made: OnceLock<Option<Arc<DirDep>>>,
}

impl Tables {
    /// The tables in the frame at `at` of `file`; None if they do not read,
    /// a path is not UTF-8 (it would not save again) or a file or dir
    /// names a path they lack.
    pub(super) fn read(file: &Arc<[u8]>, at: Range<usize>) -> Option<Tables> {
        u32::try_from(file.len()).ok()?;
        let (paths, files, dirs) = postcard::from_bytes::<Saved>(&file[at]).ok()?;
        let span = |s: &[u8]| {
            let start = s.as_ptr() as usize - file.as_ptr() as usize;
            (start as u32, s.len() as u32)
        };
        let utf8 = |p: &[u8]| std::str::from_utf8(p).is_ok().then(|| span(p));
        let paths = paths.into_iter().map(utf8).collect::<Option<Vec<Span>>>()?;
        let known = |p: u32| (p as usize) < paths.len();
        let files = files.into_iter().map(|(path, stat, digest)| {
            let made = OnceLock::new();
            known(path).then_some(File {
                path,
                stat,
                digest,
                made,
            })
        });
        let files = files.collect::<Option<Vec<File>>>()?;
        let mut names = Vec::new();
        let mut listed = |listing: Option<Vec<&[u8]>>| {
            let start = names.len() as u32;
            names.extend(listing?.into_iter().map(span));
            Some(start..names.len() as u32)
        };
        let dirs = dirs.into_iter().map(|(path, was, listing)| {
            let (listing, made) = (listed(listing), OnceLock::new());
            known(path).then_some(Dir {
                path,
                was,
                listing,
                made,
            })
        });
        let dirs = dirs.collect::<Option<Vec<Dir>>>()?;
        let file = Arc::clone(file);
        Some(Tables {
            file,
            paths,
            files,
            dirs,
            names,
        })
    }

    /// The bytes of a record's frame (`Frames` found it in this file).
    pub(super) fn frame(&self, at: Range<usize>) -> &[u8] {
        &self.file[at]
    }

    pub(super) fn paths(&self) -> usize {
        self.paths.len()
    }

    pub(super) fn files(&self) -> usize {
        self.files.len()
    }

    pub(super) fn dirs(&self) -> usize {
        self.dirs.len()
    }

    pub(super) fn path(&self, i: u32) -> &Path {
        Path::new(OsStr::from_bytes(self.bytes(self.paths[i as usize])))
    }

    pub(super) fn file(&self, i: u32) -> &Arc<FileDep> {
        let f = &self.files[i as usize];
        let make = || FileDep::new(self.path(f.path).into(), f.stat, f.digest);
        f.made.get_or_init(|| Arc::new(make()))
    }

    /// The dir numbered `i`; None if a name in its listing is not UTF-8
    /// (written from `String`s: the file is damaged there).
    pub(super) fn dir(&self, i: u32) -> Option<&Arc<DirDep>> {
        let d = &self.dirs[i as usize];
        let make = || {
            let names = match d.listing.clone() {
                None => None,
                Some(r) => Some(self.names(r)?),
            };
            Some(Arc::new(DirDep::new(
                self.path(d.path).into(),
                d.was,
                names,
            )))
        };
        d.made.get_or_init(make).as_ref()
    }

    fn names(&self, r: Range<u32>) -> Option<Vec<String>> {
        let spans = &self.names[r.start as usize..r.end as usize];
        let name = |&s| String::from_utf8(self.bytes(s).to_vec()).ok();
        spans.iter().map(name).collect()
    }

    fn bytes(&self, (start, len): Span) -> &[u8] {
        &self.file[start as usize..(start + len) as usize]
    }
}
