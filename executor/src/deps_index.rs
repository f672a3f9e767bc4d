//! `.ggninja_deps_index`, beside `.ninja_deps`: what loading the deps log
//! did to the graph, kept so that the next load need not do it again.
//!
//! Loading the log makes a file in the graph for every path it records and
//! a list of files for every record. On bench/everyday.sh's tree (88k
//! records naming 88k headers the manifest does not) that was a seventh of
//! a no-op's CPU, most of it finding and interning paths. The index keeps
//! the outcome in the graph's own numbering: the paths the log added (their
//! bytes and ends), each log id's path number, each record in log ids. It
//! stands for the log's first `log.len` bytes and is used only when
//!   - the graph's paths before the log's are the ones it was made on
//!     (their count, and XXH3-128 of their bytes and ends): the same
//!     manifest, loaded the same way, numbers its paths the same; and
//!   - the log's first `log.len` bytes hash (XXH3-128) as they did then.
//!
//! The records after those bytes, which ninja and ggninja append, are read
//! as usual. A rewrite of the log (recompaction, a copy over it, a torn
//! tail cut off within those bytes) changes them, and the index is not
//! used. Its own bytes carry their hash: a damaged index, or one of
//! another format, graph or log, is not used, and is replaced. Decoded,
//! every number is checked in range, so a damaged index cannot make a
//! load read out of bounds. The hash finds damage, not forgery: like the
//! log itself, the index is trusted as what a run in this build dir wrote
//! (its added paths are not looked up again: one written to name a path
//! twice would number it twice). `FORMAT` changes with the layout, or with
//! how a log's path record becomes a graph path (`deps_log::load_path`).
//!
//! Ignores what the records mean and how the log lays them out
//! (`deps_log.rs` reads the log and applies the index).

use std::io::Write;
use std::path::Path;

use ggninja_graph::Graph;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

/// The index's name, in the deps log's directory.
pub const FILE_NAME: &str = ".ggninja_deps_index";

/// What the file starts with, then the format's version (little endian).
const MAGIC: &[u8] = b"ggninja deps index\n";
const FORMAT: u32 = 1;

/// Logs shorter than this are only read: an index would save less than
/// writing it costs.
pub const MIN_LOG: u64 = 64 << 10;

/// The graph's paths an index was made on top of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    paths: u32,
    hash: u128,
}

impl Base {
    /// How many paths the graph had.
    pub fn paths(&self) -> u32 {
        self.paths
    }

    /// The graph's paths now.
    pub fn of(graph: &Graph) -> Base {
        let (text, ends) = graph.paths.text_and_ends();
        let mut hasher = Xxh3::new();
        hasher.update(text.as_bytes());
        let mut words = Vec::with_capacity(4096);
        for chunk in ends.chunks(1024) {
            words.clear();
            words.extend(chunk.iter().flat_map(|e| e.to_le_bytes()));
            hasher.update(&words);
        }
        Base {
            paths: ends.len() as u32,
            hash: hasher.digest128(),
        }
    }
}

/// A log's first `len` bytes, by their hash.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefix {
    pub len: u64,
    pub hash: u128,
}

/// What a load of the log's first `log.len` bytes did to a graph with
/// paths `base`.
#[derive(Debug, PartialEq, Eq)]
pub struct Index {
    pub log: Prefix,
    /// Records read, and outputs among them that had none before (the
    /// log's measure of whether it needs recompacting).
    pub total: u64,
    pub unique: u64,
    /// The paths the log added to the graph, back to back, and where each
    /// ends (counted from `text`'s start).
    pub text: String,
    pub ends: Vec<u32>,
    /// By log id: the number of its path in the graph.
    pub files: Vec<u32>,
    /// The records, as words: the output's log id, the mtime's low and
    /// high halves, a count, then that many log ids (its deps).
    pub records: Vec<u32>,
}

/// All the file says before its body (and after it, the hash of all the
/// bytes before that).
#[derive(Serialize, Deserialize)]
struct Header {
    base: Base,
    log: Prefix,
    total: u64,
    unique: u64,
    text_len: u64,
    ends: u64,
    files: u64,
    records: u64,
}

/// An index as read: its bytes, and where each part lies in them; read
/// in place, not copied into vectors (a no-op's deps load spent a quarter
/// of its time there).
#[derive(Debug)]
pub struct Saved {
    pub log: Prefix,
    pub total: u64,
    pub unique: u64,
    bytes: Vec<u8>,
    text: std::ops::Range<usize>,
    ends: std::ops::Range<usize>,
    files: std::ops::Range<usize>,
    records: std::ops::Range<usize>,
}

impl Saved {
    /// The index saved at `at`, if it was made on `base` and is whole and
    /// consistent.
    pub fn read(at: &Path, base: Base) -> Option<Saved> {
        let mut bytes = std::fs::read(at).ok()?;
        let (body, hash) = bytes.split_last_chunk::<16>()?;
        if xxh3_128(body) != u128::from_le_bytes(*hash) {
            return None;
        }
        bytes.truncate(bytes.len() - 16);
        let rest = bytes.strip_prefix(MAGIC)?;
        let (format, rest) = rest.split_first_chunk::<4>()?;
        if u32::from_le_bytes(*format) != FORMAT {
            return None;
        }
        let (h, body): (Header, _) = postcard::take_from_bytes(rest).ok()?;
        if h.base != base {
            return None;
        }
        let mut at = bytes.len() - body.len();
        let mut part = |len: u64, size: u64| {
            let end = at.checked_add(usize::try_from(len.checked_mul(size)?).ok()?)?;
            let range = at..end;
            at = end;
            Some(range)
        };
        let saved = Saved {
            log: h.log,
            total: h.total,
            unique: h.unique,
            text: part(h.text_len, 1)?,
            ends: part(h.ends, 4)?,
            files: part(h.files, 4)?,
            records: part(h.records, 4)?,
            bytes,
        };
        let whole = at == saved.bytes.len()
            && std::str::from_utf8(&saved.bytes[saved.text.clone()]).is_ok();
        (whole && saved.in_range(base)).then_some(saved)
    }

    /// The paths the log added, back to back.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.bytes[self.text.clone()]).expect("checked when read")
    }

    /// Where each added path ends, counted from `text`'s start.
    pub fn ends(&self) -> Words<'_> {
        Words(&self.bytes[self.ends.clone()])
    }

    /// By log id: the number of its path in the graph.
    pub fn files(&self) -> Words<'_> {
        Words(&self.bytes[self.files.clone()])
    }

    /// The records: (output's log id, mtime, deps' log ids).
    pub fn records(&self) -> impl Iterator<Item = (u32, i64, Words<'_>)> {
        Records(Words(&self.bytes[self.records.clone()])).map_while(|r| r)
    }

    /// How many words the records take.
    pub fn record_words(&self) -> usize {
        self.records.len() / 4
    }

    /// Whether every path number and log id names one: the graph's paths
    /// and the added ones, the log ids `files` gives; whether the records'
    /// words are whole records; and whether the counts fit the log (a deps
    /// record takes 16 bytes of it at least: its size, output and mtime),
    /// so that adding them to the log's own cannot overflow.
    fn in_range(&self, base: Base) -> bool {
        let paths = u64::from(base.paths) + self.ends().len() as u64;
        let ids = self.files().len() as u64;
        let records = Records(Words(&self.bytes[self.records.clone()]));
        let counts = self.unique <= self.total && self.total <= self.log.len / 16;
        counts
            && self.files().iter().all(|n| u64::from(n) < paths)
            && records.into_iter().all(|r| {
                r.is_some_and(|(out, _, deps)| {
                    u64::from(out) < ids && deps.iter().all(|d| u64::from(d) < ids)
                })
            })
    }
}

/// Little-endian 32-bit words, in place.
#[derive(Debug, Clone, Copy)]
pub struct Words<'a>(&'a [u8]);

impl<'a> Words<'a> {
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        self.0
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes(w.try_into().expect("4 bytes")))
    }

    fn split_first(&self) -> Option<(u32, Words<'a>)> {
        let (w, rest) = self.0.split_first_chunk::<4>()?;
        Some((u32::from_le_bytes(*w), Words(rest)))
    }

    fn split_at(&self, words: usize) -> Option<(Words<'a>, Words<'a>)> {
        let (a, b) = self.0.split_at_checked(words.checked_mul(4)?)?;
        Some((Words(a), Words(b)))
    }
}

impl Index {
    /// Saves the index at `at` for a graph whose paths were `base` (a
    /// temporary file renamed over the old one, so a reader sees either).
    pub fn write(&self, at: &Path, base: Base) -> std::io::Result<()> {
        let header = Header {
            base,
            log: self.log,
            total: self.total,
            unique: self.unique,
            text_len: self.text.len() as u64,
            ends: self.ends.len() as u64,
            files: self.files.len() as u64,
            records: self.records.len() as u64,
        };
        let header = postcard::to_allocvec(&header).expect("a header serializes to memory");
        let words = self.ends.len() + self.files.len() + self.records.len();
        let mut bytes =
            Vec::with_capacity(MAGIC.len() + 4 + header.len() + self.text.len() + 4 * words + 16);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT.to_le_bytes());
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(self.text.as_bytes());
        for words in [&self.ends, &self.files, &self.records] {
            bytes.extend(words.iter().flat_map(|w| w.to_le_bytes()));
        }
        bytes.extend_from_slice(&xxh3_128(&bytes).to_le_bytes());
        let mut tmp = crate::disk::beside(at)?;
        tmp.write_all(&bytes)?;
        tmp.persist(at).map(drop).map_err(|e| e.error)
    }
}

/// Records as words, one at a time: Some(record), or None for words that
/// do not make one (then no more).
struct Records<'a>(Words<'a>);

impl<'a> Iterator for Records<'a> {
    type Item = Option<(u32, i64, Words<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let record = self.split_record();
        if record.is_none() {
            self.0 = Words(&[]);
        }
        Some(record)
    }
}

impl<'a> Records<'a> {
    fn split_record(&mut self) -> Option<(u32, i64, Words<'a>)> {
        let (out, rest) = self.0.split_first()?;
        let (low, rest) = rest.split_first()?;
        let (high, rest) = rest.split_first()?;
        let (count, rest) = rest.split_first()?;
        let (deps, rest) = rest.split_at(count as usize)?;
        self.0 = rest;
        let mtime = (u64::from(low) | (u64::from(high) << 32)) as i64;
        Some((out, mtime, deps))
    }
}

#[cfg(test)]
impl Saved {
    /// The index as made, to compare.
    pub fn to_index(&self) -> Index {
        Index {
            log: self.log,
            total: self.total,
            unique: self.unique,
            text: self.text().to_string(),
            ends: self.ends().iter().collect(),
            files: self.files().iter().collect(),
            records: Words(&self.bytes[self.records.clone()]).iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Base {
        let mut g = Graph::default();
        g.file_id("a.c");
        g.file_id("a.o");
        Base::of(&g)
    }

    fn index() -> Index {
        Index {
            log: Prefix { len: 99, hash: 7 },
            total: 2,
            unique: 1,
            text: "x.hy.h".to_string(),
            ends: vec![3, 6],
            files: vec![1, 0, 2, 3],
            records: vec![0, 5, 0, 3, 1, 2, 3, 0, u32::MAX, 1, 1, 1],
        }
    }

    #[test]
    fn an_index_comes_back_only_on_its_base() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join(FILE_NAME);
        index().write(&at, base()).unwrap();
        let back = Saved::read(&at, base()).expect("read back");
        assert_eq!(back.to_index(), index());
        let records: Vec<_> = back
            .records()
            .map(|(o, m, d)| (o, m, d.iter().collect::<Vec<_>>()))
            .collect();
        assert_eq!(
            records,
            [
                (0, 5, vec![1, 2, 3]),
                (0, (u32::MAX as u64 | 1 << 32) as i64, vec![1])
            ]
        );
        let mut g = Graph::default();
        g.file_id("a.c");
        g.file_id("b.o");
        assert!(Saved::read(&at, Base::of(&g)).is_none(), "another graph");
        g.file_id("c.h");
        assert!(Saved::read(&at, Base::of(&g)).is_none(), "more paths");
    }

    /// Every byte changed, and every length cut short, gives no index;
    /// so does an index whose numbers name nothing.
    #[test]
    fn a_damaged_or_inconsistent_index_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join(FILE_NAME);
        index().write(&at, base()).unwrap();
        let bytes = std::fs::read(&at).unwrap();
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0x20;
            std::fs::write(&at, &damaged).unwrap();
            assert!(Saved::read(&at, base()).is_none(), "byte {i} changed");
            std::fs::write(&at, &bytes[..i]).unwrap();
            assert!(Saved::read(&at, base()).is_none(), "cut at {i}");
        }
        let bad = |change: fn(&mut Index)| {
            let mut ix = index();
            change(&mut ix);
            ix.write(&at, base()).unwrap();
            Saved::read(&at, base()).is_none()
        };
        assert!(bad(|ix| ix.files[0] = 4), "a path number past the added");
        assert!(bad(|ix| ix.records[5] = 4), "a dep's log id past the files");
        assert!(bad(|ix| ix.records[0] = 4), "an output's past the files");
        assert!(bad(|ix| ix.records[3] = 9), "a count past the words");
        assert!(bad(|ix| ix.records.truncate(2)), "a record cut short");
        assert!(!bad(|ix| ix.records.clear()), "no records is an index");
        // Counts past what the log can hold (found by fuzzing: they were
        // added and multiplied unchecked).
        assert!(bad(|ix| ix.total = u64::MAX), "more records than bytes");
        assert!(bad(|ix| ix.total = 99 / 16 + 1), "a record under 16 bytes");
        assert!(bad(|ix| ix.unique = 1 << 63), "more new than records");
        assert!(!bad(|ix| ix.total = 99 / 16), "16 bytes a record");
    }
}
