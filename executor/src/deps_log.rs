//! `.ninja_deps`: the headers each output was last built with (from
//! `deps = gcc|msvc`), in ninja's binary format, version 4.
//!
//! As ninja's, the log names files of the graph: loading it makes a file for
//! every path it records, so a path's text lives once, in the graph, and an
//! output's deps are a slice of `FileId`s (all in one array), as compact as
//! the file itself. The file is read a record at a time, never whole; a
//! long log's first bytes, while they are unchanged, through its index
//! instead (`deps_index.rs`: what reading them did to the graph). Ignores
//! what the deps mean (the scan adds them to builds).

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use ggninja_graph::{FileId, Graph};
use xxhash_rust::xxh3::Xxh3;

use crate::deps_index::{self, Prefix};

const SIGNATURE: &[u8] = b"# ninjadeps\n";
const VERSION: u32 = 4;

/// What a log of this version starts with.
fn header() -> Vec<u8> {
    [SIGNATURE, &VERSION.to_le_bytes()].concat()
}
const MAX_RECORD: usize = (1 << 19) - 1;
/// The bytes a deps record starts with: the output's id and its mtime.
const DEPS_HEAD: usize = 12;

/// An output's deps as the log last recorded them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deps<'a> {
    pub mtime: i64,
    pub nodes: &'a [FileId],
}

/// Where a record's deps are in `DepsLog::nodes`.
#[derive(Debug, Clone, Copy)]
struct Stored {
    mtime: i64,
    start: usize,
    len: usize,
}

#[derive(Debug, Default)]
pub struct DepsLog {
    /// By log id (the order paths were written): the file.
    files: Vec<FileId>,
    /// By graph node index: the file's log id plus one (0: not in the log).
    ids: Vec<u32>,
    /// By log id: the deps recorded with that file as the output.
    deps: Vec<Option<Stored>>,
    /// Every record's deps, back to back: one allocation, not one a
    /// record (88k on bench/everyday.sh's tree). A record replaced leaves
    /// its old deps here, as the log file does until recompacted.
    nodes: Vec<FileId>,
    needs_recompaction: bool,
    file: Option<File>,
    path: PathBuf,
}

impl DepsLog {
    /// Reads the log, making a file in `graph` for each path it names. A
    /// torn tail is cut off and reported as a warning. What a long log's
    /// records did to the graph is taken from its index where that is
    /// current (`deps_index.rs`), and the index made anew when it covers
    /// too little of the log, unless `save_index` is false (a dry run
    /// writes nothing).
    pub fn load(
        path: &Path,
        graph: &mut Graph,
        save_index: bool,
    ) -> io::Result<(DepsLog, Option<String>)> {
        let min_saved = if save_index {
            deps_index::MIN_LOG
        } else {
            u64::MAX
        };
        Self::load_indexed(path, graph, deps_index::MIN_LOG, min_saved)
    }

    /// `load`, taking the index of logs of at least `min_indexed` bytes
    /// and saving one for those of at least `min_saved`.
    fn load_indexed(
        path: &Path,
        graph: &mut Graph,
        min_indexed: u64,
        min_saved: u64,
    ) -> io::Result<(DepsLog, Option<String>)> {
        let mut log = DepsLog {
            path: path.to_path_buf(),
            ..Default::default()
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((log, None)),
            Err(e) => return Err(e),
        };
        let indexed = file.metadata()?.len() >= min_indexed;
        let mut input = Reading {
            input: BufReader::with_capacity(1 << 16, file),
            pos: 0,
            hasher: Xxh3::new(),
        };
        let mut header = [0u8; SIGNATURE.len() + 4];
        let header_len = input.read(&mut header)?;
        let version = if header_len == header.len() {
            u32_at(&header, SIGNATURE.len())
        } else {
            0
        };
        if !header.starts_with(SIGNATURE) || version != VERSION {
            let _ = std::fs::remove_file(path);
            let why = if version == 1 {
                "deps log version change; rebuilding"
            } else {
                "bad deps log signature or version; starting over"
            };
            return Ok((log, Some(why.to_string())));
        }
        let base = indexed.then(|| deps_index::Base::of(graph));
        let index_at = path.with_file_name(deps_index::FILE_NAME);
        let covered = match base {
            Some(base) => log.apply_index(&index_at, base, &mut input, graph)?,
            None => Covered::default(),
        };
        let (total, unique, torn) = log.read_records(&mut input, graph)?;
        let mut warning = None;
        if torn {
            let f = OpenOptions::new().write(true).open(path)?;
            f.set_len(input.pos)?;
            warning = Some("premature end of file; recovering".to_string());
        }
        let (total, unique) = (covered.total + total, covered.unique + unique);
        log.needs_recompaction = total > 1000 && total > unique * 3;
        let read = input.pos - covered.log.len;
        // A log due for recompaction is rewritten next (`recompact`): an
        // index of it now would stand for bytes about to go.
        let worth = read >= min_saved.max(covered.log.len / 4) && !log.needs_recompaction;
        if let Some(base) = base.filter(|_| worth) {
            let prefix = Prefix {
                len: input.pos,
                hash: input.hasher.digest128(),
            };
            // Only a cache: a log that loaded is not failed by it.
            let _t = crate::metrics::time(".ggninja_deps_index save");
            let _ = log
                .index(graph, base, prefix, total, unique)
                .write(&index_at, base);
        }
        log.reserve_readers(graph);
        Ok((log, warning))
    }

    /// Takes the records of the index at `at` if it was made on `base`
    /// and the log's first bytes are still the ones it stands for (then
    /// `input` is past them); else nothing, and `input` back where it was.
    /// What the index covered, either way.
    fn apply_index(
        &mut self,
        at: &Path,
        base: deps_index::Base,
        input: &mut Reading,
        graph: &mut Graph,
    ) -> io::Result<Covered> {
        let none = Covered::default();
        let Some(index) = deps_index::Saved::read(at, base) else {
            return Ok(none);
        };
        let before = (input.pos, input.hasher.clone());
        if !input.skip_prefix(index.log)? {
            input.rewind(before)?;
            return Ok(none);
        }
        let _t = crate::metrics::time(".ggninja_deps_index apply");
        let ends: Vec<u32> = index.ends().iter().collect();
        if graph.append_new_files(index.text(), &ends).is_none() {
            input.rewind(before)?;
            return Ok(none);
        }
        let nodes = graph.file_nodes();
        self.files.reserve_exact(index.files().len());
        self.deps.reserve_exact(index.files().len());
        self.ids
            .reserve(graph.node_count().saturating_sub(self.ids.len()));
        for n in index.files().iter() {
            self.add(nodes[n as usize]);
        }
        self.nodes.reserve_exact(index.record_words());
        for (out, mtime, deps) in index.records() {
            let start = self.nodes.len();
            let files = &self.files;
            self.nodes.extend(deps.iter().map(|d| files[d as usize]));
            let len = deps.len();
            self.deps[out as usize] = Some(Stored { mtime, start, len });
        }
        Ok(Covered {
            log: index.log,
            total: index.total,
            unique: index.unique,
        })
    }

    /// Reads records to the end of `input`: how many deps records, how
    /// many of them for an output that had none yet, and whether the log
    /// ended torn (then `input.pos` is where its last whole record ends).
    fn read_records(
        &mut self,
        input: &mut Reading,
        graph: &mut Graph,
    ) -> io::Result<(u64, u64, bool)> {
        let (mut total, mut unique) = (0, 0);
        let mut rec = Vec::new();
        loop {
            let mut size_word = [0u8; 4];
            match input.peek(&mut size_word)? {
                0 => return Ok((total, unique, false)),
                4 => {}
                _ => return Ok((total, unique, true)),
            }
            let word = u32::from_le_bytes(size_word);
            let is_deps = word >> 31 != 0;
            let size = (word & 0x7fff_ffff) as usize;
            if size > MAX_RECORD || !size.is_multiple_of(4) || size < 4 {
                return Ok((total, unique, true));
            }
            rec.resize(size, 0);
            if input.peek(&mut rec)? < size {
                return Ok((total, unique, true));
            }
            let fits = if is_deps {
                self.load_deps(&rec).inspect(|&new| {
                    total += 1;
                    unique += u64::from(new);
                })
            } else {
                self.load_path(&rec, graph).then_some(false)
            };
            if fits.is_none() {
                return Ok((total, unique, true));
            }
            input.take(&size_word, &rec);
        }
    }

    /// The index of what the log holds now, its first `log` bytes: the
    /// paths it added to `graph` past `base`'s, each log id's path, each
    /// record.
    fn index(
        &self,
        graph: &Graph,
        base: deps_index::Base,
        log: Prefix,
        total: u64,
        unique: u64,
    ) -> deps_index::Index {
        let (text, ends) = graph.paths.text_and_ends();
        let first = base.paths() as usize;
        let from = first.checked_sub(1).map_or(0, |i| ends[i]);
        let files = self.files.iter().map(|&f| graph.path_number(f)).collect();
        let mut records = Vec::new();
        for (out, deps) in self.deps.iter().enumerate() {
            let Some(deps) = deps.map(|d| self.view(d)) else {
                continue;
            };
            let mtime = deps.mtime as u64;
            records.extend([out as u32, mtime as u32, (mtime >> 32) as u32]);
            records.push(deps.nodes.len() as u32);
            records.extend(
                deps.nodes
                    .iter()
                    .map(|&d| self.id(d).expect("a dep has a log id")),
            );
        }
        deps_index::Index {
            log,
            total,
            unique,
            text: text[from as usize..].to_string(),
            ends: ends[first..].iter().map(|e| e - from).collect(),
            files,
            records,
        }
    }

    /// Room in each file's readers for every record naming it as a dep,
    /// made once: the scan makes each logged output's build a reader of
    /// its deps, and one push at a time regrew the lists of headers every
    /// source includes (87k readers each on bench/everyday.sh's tree) a
    /// dozen times, copying them each time. An upper bound: a record the
    /// scan finds stale adds nothing.
    fn reserve_readers(&self, graph: &mut Graph) {
        let mut counts = vec![0usize; self.files.len()];
        for dep in self.all().flat_map(|(_, d)| d.nodes) {
            if let Some(id) = self.id(*dep) {
                counts[id as usize] += 1;
            }
        }
        for (&file, &count) in self.files.iter().zip(&counts) {
            if count > 0 {
                graph.reserve_readers(file, count);
            }
        }
    }

    /// A deps record read into the log: Some(whether the output had none
    /// yet), or None when it is too short for its output and mtime, or
    /// names a path not yet read (a torn log).
    fn load_deps(&mut self, rec: &[u8]) -> Option<bool> {
        if rec.len() < DEPS_HEAD {
            return None;
        }
        let files = &self.files;
        let file = |id: u32| files.get(id as usize).copied();
        let out = u32_at(rec, 0);
        file(out)?;
        let mtime = (u32_at(rec, 4) as u64 | ((u32_at(rec, 8) as u64) << 32)) as i64;
        let start = self.nodes.len();
        for o in (DEPS_HEAD..rec.len()).step_by(4) {
            match file(u32_at(rec, o)) {
                Some(f) => self.nodes.push(f),
                None => {
                    self.nodes.truncate(start);
                    return None;
                }
            }
        }
        let len = self.nodes.len() - start;
        Some(
            self.deps[out as usize]
                .replace(Stored { mtime, start, len })
                .is_none(),
        )
    }

    /// A path record read into the log; false when its checksum (the
    /// complement of its number) is wrong, as in a torn log.
    fn load_path(&mut self, rec: &[u8], graph: &mut Graph) -> bool {
        let size = rec.len();
        let mut len = size - 4;
        while len > 0 && rec[len - 1] == 0 && size - 4 - len < 3 {
            len -= 1;
        }
        let checksum = u32_at(rec, size - 4);
        if !checksum != self.files.len() as u32 {
            return false;
        }
        let file = match std::str::from_utf8(&rec[..len]) {
            Ok(path) => graph.file_id(path),
            Err(_) => graph.file_id(&String::from_utf8_lossy(&rec[..len])),
        };
        self.add(file);
        true
    }

    /// Gives `file` the next log id.
    fn add(&mut self, file: FileId) -> u32 {
        let id = self.files.len() as u32;
        if self.ids.len() <= file.index() {
            self.ids.resize(file.index() + 1, 0);
        }
        self.ids[file.index()] = id + 1;
        self.files.push(file);
        self.deps.push(None);
        id
    }

    fn id(&self, file: FileId) -> Option<u32> {
        self.ids.get(file.index()).and_then(|&i| i.checked_sub(1))
    }

    pub fn get(&self, output: FileId) -> Option<Deps<'_>> {
        self.deps[self.id(output)? as usize].map(|s| self.view(s))
    }

    fn view(&self, s: Stored) -> Deps<'_> {
        Deps {
            mtime: s.mtime,
            nodes: &self.nodes[s.start..s.start + s.len],
        }
    }

    /// Every output that has a deps record, with its record.
    pub fn all(&self) -> impl Iterator<Item = (FileId, Deps<'_>)> {
        self.files
            .iter()
            .zip(&self.deps)
            .filter_map(|(&f, d)| d.map(|d| (f, self.view(d))))
    }

    pub fn needs_recompaction(&self) -> bool {
        self.needs_recompaction
    }

    fn open(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            self.file = Some(crate::disk::open_log(&self.path, &header())?);
        }
        Ok(self.file.as_mut().expect("opened above"))
    }

    fn id_for(&mut self, graph: &Graph, file: FileId, buf: &mut Vec<u8>) -> u32 {
        if let Some(id) = self.id(file) {
            return id;
        }
        let id = self.add(file);
        let path = graph.path(file);
        let padding = (4 - path.len() % 4) % 4;
        let size = (path.len() + padding + 4) as u32;
        buf.extend_from_slice(&size.to_le_bytes());
        buf.extend_from_slice(path.as_bytes());
        buf.extend(std::iter::repeat_n(0u8, padding));
        buf.extend_from_slice(&(!id).to_le_bytes());
        id
    }

    /// Records `output`'s deps, files of `graph`; writes nothing when they
    /// are unchanged.
    pub fn record(
        &mut self,
        graph: &Graph,
        output: FileId,
        mtime: i64,
        deps: &[FileId],
    ) -> io::Result<()> {
        let mut buf = Vec::new();
        let out = self.id_for(graph, output, &mut buf);
        let ids: Vec<u32> = deps
            .iter()
            .map(|&d| self.id_for(graph, d, &mut buf))
            .collect();
        let new = Deps { mtime, nodes: deps };
        if buf.is_empty() && self.deps[out as usize].map(|s| self.view(s)) == Some(new) {
            return Ok(());
        }
        let size = 4 * (1 + 2 + ids.len());
        if size > MAX_RECORD {
            let output = graph.path(output);
            return Err(io::Error::other(format!("too many deps for {output}")));
        }
        buf.extend_from_slice(&(size as u32 | 0x8000_0000).to_le_bytes());
        buf.extend_from_slice(&out.to_le_bytes());
        buf.extend_from_slice(&(mtime as u64 as u32).to_le_bytes());
        buf.extend_from_slice(&(((mtime as u64) >> 32) as u32).to_le_bytes());
        for id in &ids {
            buf.extend_from_slice(&id.to_le_bytes());
        }
        let (start, len) = (self.nodes.len(), deps.len());
        self.nodes.extend_from_slice(deps);
        self.deps[out as usize] = Some(Stored { mtime, start, len });
        self.open()?.write_all(&buf)
    }

    /// Rewrites the log keeping only records for outputs `is_live` accepts.
    pub fn recompact(&mut self, graph: &Graph, is_live: impl Fn(FileId) -> bool) -> io::Result<()> {
        self.file = None;
        let old = std::mem::take(self);
        let mut tmp = crate::disk::beside(&old.path)?;
        tmp.write_all(&header())?;
        // `record` appends to the temporary file (a clone shares its offset).
        *self = DepsLog {
            path: old.path.clone(),
            file: Some(tmp.as_file().try_clone()?),
            ..Default::default()
        };
        for (out, deps) in old.all() {
            if !is_live(out) {
                continue;
            }
            self.record(graph, out, deps.mtime, deps.nodes)?;
        }
        self.file = None;
        tmp.persist(&old.path).map_err(|e| e.error)?;
        Ok(())
    }

    pub fn close(&mut self) {
        self.file = None;
    }

    /// Creates the log (its header alone) unless it exists: what ninja's
    /// logs do when they are closed, which only happens when a rebuilt
    /// manifest starts the build over (ninja exits without closing them
    /// otherwise). Losing it costs nothing, so a failure is ignored.
    pub fn create(&mut self) {
        let _ = self.open();
        self.file = None;
    }
}

/// What of the log an index stood for: its first bytes, and their records
/// counted as `read_records` counts them.
#[derive(Default)]
struct Covered {
    log: Prefix,
    total: u64,
    unique: u64,
}

/// The log as it is read: where the records read so far end, and the hash
/// of the bytes before (what the index stands for).
struct Reading {
    input: BufReader<File>,
    pos: u64,
    hasher: Xxh3,
}

impl Reading {
    /// Reads and takes up to `buf.len()` bytes; how many there were.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let got = read_up_to(&mut self.input, buf)?;
        self.take(&buf[..got], &[]);
        Ok(got)
    }

    /// Reads up to `buf.len()` bytes of a record, taken only once the
    /// record proves whole (`take`); how many there were.
    fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_up_to(&mut self.input, buf)
    }

    /// Counts `a` and `b`, read last, as part of the log read so far.
    fn take(&mut self, a: &[u8], b: &[u8]) {
        self.hasher.update(a);
        self.hasher.update(b);
        self.pos += (a.len() + b.len()) as u64;
    }

    /// Reads on to the end of `prefix`: whether the bytes read so far and
    /// these are the ones it stands for.
    fn skip_prefix(&mut self, prefix: Prefix) -> io::Result<bool> {
        let mut buf = vec![0u8; 1 << 16];
        while self.pos < prefix.len {
            let want = (prefix.len - self.pos).min(buf.len() as u64) as usize;
            if self.read(&mut buf[..want])? < want {
                return Ok(false);
            }
        }
        Ok(self.pos == prefix.len && self.hasher.digest128() == prefix.hash)
    }

    /// Goes back to `pos`, where the hash of the bytes before was `hasher`.
    fn rewind(&mut self, (pos, hasher): (u64, Xxh3)) -> io::Result<()> {
        self.input.seek(io::SeekFrom::Start(pos))?;
        (self.pos, self.hasher) = (pos, hasher);
        Ok(())
    }
}

/// Reads until `buf` is full or the input ends; how many bytes were read.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_truncation_and_recompact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".ninja_deps");
        let mut g = Graph::default();
        let [a_o, a_c, x_h, b_o, b_c] = ["a.o", "a.c", "x.h", "b.o", "b.c"].map(|p| g.file_id(p));
        let (mut log, _) = DepsLog::load(&path, &mut g, true).unwrap();
        log.record(&g, a_o, 42, &[a_c, x_h]).unwrap();
        log.record(&g, b_o, 43, &[b_c, x_h]).unwrap();
        log.record(&g, b_o, 43, &[b_c, x_h]).unwrap();
        log.close();
        let len = std::fs::metadata(&path).unwrap().len();
        // A fresh graph learns every path from the log.
        let mut g = Graph::default();
        let (log, warn) = DepsLog::load(&path, &mut g, true).unwrap();
        assert!(warn.is_none());
        let d = log.get(g.lookup("b.o").unwrap()).unwrap();
        assert_eq!(d.mtime, 43);
        let names: Vec<_> = d.nodes.iter().map(|&n| g.path(n)).collect();
        assert_eq!(names, ["b.c", "x.h"]);
        // A torn tail is cut back to the last whole record.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[1, 2, 3]).unwrap();
        drop(f);
        let mut g = Graph::default();
        let (mut log, warn) = DepsLog::load(&path, &mut g, true).unwrap();
        assert_eq!(warn.as_deref(), Some("premature end of file; recovering"));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        let a_o = g.lookup("a.o").unwrap();
        log.recompact(&g, |o| o == a_o).unwrap();
        let mut g = Graph::default();
        let (log, _) = DepsLog::load(&path, &mut g, true).unwrap();
        assert!(g.lookup("b.o").is_none(), "b.o's path went with its record");
        assert!(log.get(g.lookup("a.o").unwrap()).is_some());
        assert!(
            std::fs::metadata(&path).unwrap().len() < len,
            "recompaction dropped b.o's record and paths"
        );
    }

    /// A deps record too short to name its output and mtime (found by
    /// fuzzing: a slice past its end) ends the log as a torn record does:
    /// cut back to the records before it, with ninja's warning.
    #[test]
    fn a_deps_record_too_short_for_its_head_is_a_torn_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".ninja_deps");
        let mut g = Graph::default();
        let [a_o, a_c] = ["a.o", "a.c"].map(|p| g.file_id(p));
        let (mut log, _) = DepsLog::load(&path, &mut g, true).unwrap();
        log.record(&g, a_o, 42, &[a_c]).unwrap();
        log.close();
        let len = std::fs::metadata(&path).unwrap().len();
        for size in [4u32, 8] {
            let mut f = OpenOptions::new().append(true).open(&path).unwrap();
            f.write_all(&(size | 1 << 31).to_le_bytes()).unwrap();
            f.write_all(&vec![0; size as usize]).unwrap();
            drop(f);
            let mut g = Graph::default();
            let (log, warn) = DepsLog::load(&path, &mut g, true).unwrap();
            assert_eq!(warn.as_deref(), Some("premature end of file; recovering"));
            assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
            assert_eq!(log.get(g.lookup("a.o").unwrap()).unwrap().mtime, 42);
        }
    }

    /// What a load gives, by path: the graph's paths in order, and each
    /// output's deps.
    type Seen = (Vec<String>, Vec<(String, i64, Vec<String>)>);

    fn seen(path: &Path, manifest: &[&str], min_indexed: u64) -> Seen {
        load_seen(path, manifest, min_indexed, min_indexed).0
    }

    /// What a load on a graph of `manifest` gives, with its warning and
    /// its recompaction verdict.
    fn load_seen(
        path: &Path,
        manifest: &[&str],
        min_indexed: u64,
        min_saved: u64,
    ) -> (Seen, Option<String>, bool) {
        let mut g = Graph::default();
        for p in manifest {
            g.file_id(p);
        }
        let (log, warning) = DepsLog::load_indexed(path, &mut g, min_indexed, min_saved).unwrap();
        let mut deps: Vec<_> = log
            .all()
            .map(|(o, d)| {
                let names = d.nodes.iter().map(|&n| g.path(n).to_string()).collect();
                (g.path(o).to_string(), d.mtime, names)
            })
            .collect();
        deps.sort();
        let paths = g.paths.iter().map(String::from).collect();
        ((paths, deps), warning, log.needs_recompaction())
    }

    /// A log of `n` outputs, each with its source and two headers.
    fn write_log(path: &Path, n: usize, mtime: i64) {
        let mut g = Graph::default();
        let (mut log, _) = DepsLog::load(path, &mut g, true).unwrap();
        for i in 0..n {
            let [o, c, h] = [format!("{i}.o"), format!("{i}.c"), format!("{i}.h")];
            let [o, c, h, x] = [&o, &c, &h, "x.h"].map(|p| g.file_id(p));
            log.record(&g, o, mtime, &[c, h, x]).unwrap();
        }
        log.close();
    }

    /// Sets the mtime of every record in the index beside `path`.
    #[track_caller]
    fn doctor_index(path: &Path, manifest: &[&str], mtime: i64) {
        let mut g = Graph::default();
        for p in manifest {
            g.file_id(p);
        }
        let at = path.with_file_name(deps_index::FILE_NAME);
        let base = deps_index::Base::of(&g);
        let mut index = deps_index::Saved::read(&at, base)
            .expect("an index")
            .to_index();
        let mut words = &mut index.records[..];
        while let [_, low, high, count, rest @ ..] = words {
            [*low, *high] = [mtime as u32, (mtime as u64 >> 32) as u32];
            words = &mut rest[*count as usize..];
        }
        index.write(&at, base).unwrap();
    }

    /// The index stands for the log's bytes it was made from: it is what a
    /// load uses while they are unchanged (an index whose mtimes were
    /// changed shows it), with records appended since read after it; a
    /// log rewritten in place, cut short or recompacted, or another graph,
    /// makes a load read the log, as a load without an index does.
    #[test]
    fn an_index_stands_for_the_bytes_it_was_made_from() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".ninja_deps");
        let at = path.with_file_name(deps_index::FILE_NAME);
        let manifest = ["all", "0.o", "1.o", "0.c"];
        write_log(&path, 40, 7);
        let plain = |m: &[&str]| seen(&path, m, u64::MAX);
        let mut g = Graph::default();
        DepsLog::load_indexed(&path, &mut g, 0, u64::MAX).unwrap();
        assert!(!at.exists(), "not made by a load told not to (a dry run)");
        assert_eq!(seen(&path, &manifest, 0), plain(&manifest));
        assert!(at.exists(), "made by the load that read the log");
        doctor_index(&path, &manifest, 99);
        let (paths, deps) = seen(&path, &manifest, 0);
        assert_eq!(paths, plain(&manifest).0, "paths numbered as the log's");
        assert!(deps.iter().all(|d| d.1 == 99), "the index was used");

        // Records appended since: read after the index's.
        let mut g = Graph::default();
        for p in manifest {
            g.file_id(p);
        }
        let (mut log, _) = DepsLog::load(&path, &mut g, true).unwrap();
        let [o, c, y] = ["0.o", "new.c", "y.h"].map(|p| g.file_id(p));
        log.record(&g, o, 8, &[c, y]).unwrap();
        log.close();
        let (paths, deps) = seen(&path, &manifest, 0);
        assert_eq!(paths, plain(&manifest).0);
        let zero = deps.iter().find(|d| d.0 == "0.o").unwrap();
        assert_eq!(
            zero,
            &("0.o".to_string(), 8, vec!["new.c".into(), "y.h".into()])
        );
        assert!(
            deps.iter().filter(|d| d.1 == 99).count() == 39,
            "the rest from the index"
        );

        // Another graph: the log read (and the index made for that graph,
        // then for this one again).
        let other = ["all", "0.o", "1.o", "0.c", "more.c"];
        assert_eq!(seen(&path, &other, 0), plain(&other));
        assert_eq!(seen(&path, &manifest, 0), plain(&manifest));

        // The log rewritten in place, its length kept: "1.c" becomes "1.d".
        doctor_index(&path, &manifest, 99);
        let mut bytes = std::fs::read(&path).unwrap();
        let at_path = bytes.windows(3).position(|w| w == b"1.c").unwrap();
        bytes[at_path + 2] = b'd';
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(seen(&path, &manifest, 0), plain(&manifest), "rewritten");

        // Cut short within the bytes the index stands for.
        doctor_index(&path, &manifest, 99);
        let len = std::fs::metadata(&path).unwrap().len();
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len / 2 + 1).unwrap();
        drop(f);
        let mut copy = std::fs::read(&path).unwrap();
        let torn = seen(&path, &manifest, 0);
        std::fs::write(&path, &copy).unwrap();
        assert_eq!(torn, plain(&manifest), "cut short");

        // Recompacted.
        doctor_index(&path, &manifest, 99);
        let mut g = Graph::default();
        let (mut log, _) = DepsLog::load_indexed(&path, &mut g, u64::MAX, u64::MAX).unwrap();
        log.recompact(&g, |_| true).unwrap();
        copy = std::fs::read(&path).unwrap();
        assert_eq!(seen(&path, &manifest, 0), plain(&manifest), "recompacted");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            copy,
            "the log itself untouched"
        );
    }

    /// An index that covers too little of the log is made anew: after a
    /// quarter of its length is appended, not before.
    #[test]
    fn an_index_is_made_anew_when_the_log_outgrows_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".ninja_deps");
        let at = path.with_file_name(deps_index::FILE_NAME);
        write_log(&path, 40, 7);
        let manifest = ["x.h"];
        seen(&path, &manifest, 0);
        let made = std::fs::read(&at).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        let mut g = Graph::default();
        g.file_id("x.h");
        let (mut log, _) = DepsLog::load(&path, &mut g, true).unwrap();
        let mut i = 0;
        while std::fs::metadata(&path).unwrap().len() < len + len / 4 {
            let [o, h] = [format!("more{i}.o"), "x.h".to_string()].map(|p| g.file_id(&p));
            log.record(&g, o, 9, &[h]).unwrap();
            i += 1;
            if std::fs::metadata(&path).unwrap().len() < len + len / 4 {
                seen(&path, &manifest, 0);
                assert_eq!(std::fs::read(&at).unwrap(), made, "kept at {i} more");
            }
        }
        log.close();
        assert_eq!(seen(&path, &manifest, 0), seen(&path, &manifest, u64::MAX));
        assert_ne!(std::fs::read(&at).unwrap(), made, "made anew");
        doctor_index(&path, &manifest, 99);
        assert!(
            seen(&path, &manifest, 0).1.iter().all(|d| d.1 == 99),
            "covering it all"
        );
    }

    /// What a load gives with the warning and the recompaction verdict,
    /// through the index (saving none) or by reading the log alone.
    fn loaded(path: &Path, indexed: bool) -> (Seen, Option<String>, bool) {
        let min = if indexed { 0 } else { u64::MAX };
        load_seen(path, &["x.h"], min, u64::MAX)
    }

    /// Logs cut anywhere, with bytes changed anywhere or garbage after
    /// them: a load through the index made from the whole log gives what
    /// reading the log alone gives (each mutation from a seeded generator).
    #[test]
    fn a_damaged_log_loads_through_its_index_as_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".ninja_deps");
        let at = path.with_file_name(deps_index::FILE_NAME);
        write_log(&path, 300, 7);
        let mut g = Graph::default();
        g.file_id("x.h");
        DepsLog::load_indexed(&path, &mut g, 0, 0).unwrap();
        let index = std::fs::read(&at).unwrap();
        let indexed = std::fs::metadata(&path).unwrap().len() as usize;
        // Records after the indexed bytes, rewriting those of the first
        // ones: recompaction due, and mutations after the index's bytes
        // (it is used) as well as within them (it is not).
        let mut g = Graph::default();
        let (mut log, _) = DepsLog::load(&path, &mut g, false).unwrap();
        for i in 0..1200 {
            let [o, h] = [format!("{}.o", i % 300), format!("{i}.h")].map(|p| g.file_id(&p));
            log.record(&g, o, i as i64, &[h]).unwrap();
        }
        log.close();
        let whole = std::fs::read(&path).unwrap();
        assert!(indexed < whole.len() / 2);
        assert!(loaded(&path, true).2, "recompaction due");
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..200 {
            let mut bytes = whole.clone();
            match round % 4 {
                0 => bytes.truncate(next(whole.len())),
                1 => {
                    let i = next(whole.len());
                    bytes[i] ^= 1 << next(8);
                }
                2 => bytes.extend((0..next(64)).map(|_| next(256) as u8)),
                _ => {
                    bytes.truncate(next(whole.len()));
                    bytes.extend((0..next(16)).map(|_| next(256) as u8));
                }
            }
            std::fs::write(&at, &index).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            let through = loaded(&path, true);
            let left = std::fs::read(&path).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            let alone = loaded(&path, false);
            assert_eq!(through, alone, "round {round}");
            assert_eq!(
                std::fs::read(&path).unwrap(),
                left,
                "round {round}: the same file left"
            );
        }
    }
}
