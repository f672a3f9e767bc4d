//! `.ninja_deps`: the headers each output was last built with (from
//! `deps = gcc|msvc`), in ninja's binary format, version 4.
//!
//! As ninja's, the log names files of the graph: loading it makes a file for
//! every path it records, so a path's text lives once, in the graph, and an
//! output's deps are a slice of `FileId`s, as compact as the file itself.
//! The file is read a record at a time, never whole. Ignores what the deps
//! mean (the scan adds them to builds).

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use ggninja_graph::{FileId, Graph};

const SIGNATURE: &[u8] = b"# ninjadeps\n";
const VERSION: u32 = 4;

/// What a log of this version starts with.
fn header() -> Vec<u8> {
    [SIGNATURE, &VERSION.to_le_bytes()].concat()
}
const MAX_RECORD: usize = (1 << 19) - 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deps {
    pub mtime: i64,
    pub nodes: Box<[FileId]>,
}

#[derive(Debug, Default)]
pub struct DepsLog {
    /// By log id (the order paths were written): the file.
    files: Vec<FileId>,
    /// By graph node index: the file's log id plus one (0: not in the log).
    ids: Vec<u32>,
    /// By log id: the deps recorded with that file as the output.
    deps: Vec<Option<Deps>>,
    needs_recompaction: bool,
    file: Option<File>,
    path: PathBuf,
}

impl DepsLog {
    /// Reads the log, making a file in `graph` for each path it names. A
    /// torn tail is cut off and reported as a warning.
    pub fn load(path: &Path, graph: &mut Graph) -> io::Result<(DepsLog, Option<String>)> {
        let mut log = DepsLog {
            path: path.to_path_buf(),
            ..Default::default()
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((log, None)),
            Err(e) => return Err(e),
        };
        let mut input = BufReader::with_capacity(1 << 16, file);
        let mut header = [0u8; SIGNATURE.len() + 4];
        let header_len = read_up_to(&mut input, &mut header)?;
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
        let mut pos = header.len();
        let (mut total, mut unique) = (0usize, 0usize);
        let mut torn = false;
        let mut rec = Vec::new();
        loop {
            let mut size_word = [0u8; 4];
            match read_up_to(&mut input, &mut size_word)? {
                0 => break,
                4 => {}
                _ => {
                    torn = true;
                    break;
                }
            }
            let word = u32::from_le_bytes(size_word);
            let is_deps = word >> 31 != 0;
            let size = (word & 0x7fff_ffff) as usize;
            if size > MAX_RECORD || !size.is_multiple_of(4) || size < 4 {
                torn = true;
                break;
            }
            rec.resize(size, 0);
            if read_up_to(&mut input, &mut rec)? < size {
                torn = true;
                break;
            }
            let fits = if is_deps {
                log.load_deps(&rec).inspect(|&new| {
                    total += 1;
                    unique += usize::from(new);
                })
            } else {
                log.load_path(&rec, graph).then_some(false)
            };
            if fits.is_none() {
                torn = true;
                break;
            }
            pos += 4 + size;
        }
        let mut warning = None;
        if torn {
            let f = OpenOptions::new().write(true).open(path)?;
            f.set_len(pos as u64)?;
            warning = Some("premature end of file; recovering".to_string());
        }
        log.needs_recompaction = total > 1000 && total > unique * 3;
        log.reserve_readers(graph);
        Ok((log, warning))
    }

    /// Room in each file's readers for every record naming it as a dep,
    /// made once: the scan makes each logged output's build a reader of
    /// its deps, and one push at a time regrew the lists of headers every
    /// source includes (87k readers each on bench/everyday.sh's tree) a
    /// dozen times, copying them each time. An upper bound: a record the
    /// scan finds stale adds nothing.
    fn reserve_readers(&self, graph: &mut Graph) {
        let mut counts = vec![0usize; self.files.len()];
        for dep in self.deps.iter().flatten().flat_map(|d| d.nodes.iter()) {
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
    /// yet), or None when it names a path not yet read (a torn log).
    fn load_deps(&mut self, rec: &[u8]) -> Option<bool> {
        let file = |id: u32| self.files.get(id as usize).copied();
        let out = u32_at(rec, 0);
        file(out)?;
        let mtime = (u32_at(rec, 4) as u64 | ((u32_at(rec, 8) as u64) << 32)) as i64;
        let nodes = (12..rec.len())
            .step_by(4)
            .map(|o| file(u32_at(rec, o)))
            .collect::<Option<Box<[FileId]>>>()?;
        Some(
            self.deps[out as usize]
                .replace(Deps { mtime, nodes })
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

    pub fn get(&self, output: FileId) -> Option<&Deps> {
        self.deps[self.id(output)? as usize].as_ref()
    }

    /// Every output that has a deps record, with its record.
    pub fn all(&self) -> impl Iterator<Item = (FileId, &Deps)> {
        self.files
            .iter()
            .zip(&self.deps)
            .filter_map(|(&f, d)| d.as_ref().map(|d| (f, d)))
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
        let new = Deps {
            mtime,
            nodes: deps.into(),
        };
        if buf.is_empty() && self.deps[out as usize].as_ref() == Some(&new) {
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
        self.deps[out as usize] = Some(new);
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
            self.record(graph, out, deps.mtime, &deps.nodes)?;
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
        let (mut log, _) = DepsLog::load(&path, &mut g).unwrap();
        log.record(&g, a_o, 42, &[a_c, x_h]).unwrap();
        log.record(&g, b_o, 43, &[b_c, x_h]).unwrap();
        log.record(&g, b_o, 43, &[b_c, x_h]).unwrap();
        log.close();
        let len = std::fs::metadata(&path).unwrap().len();
        // A fresh graph learns every path from the log.
        let mut g = Graph::default();
        let (log, warn) = DepsLog::load(&path, &mut g).unwrap();
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
        let (mut log, warn) = DepsLog::load(&path, &mut g).unwrap();
        assert_eq!(warn.as_deref(), Some("premature end of file; recovering"));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        let a_o = g.lookup("a.o").unwrap();
        log.recompact(&g, |o| o == a_o).unwrap();
        let mut g = Graph::default();
        let (log, _) = DepsLog::load(&path, &mut g).unwrap();
        assert!(g.lookup("b.o").is_none(), "b.o's path went with its record");
        assert!(log.get(g.lookup("a.o").unwrap()).is_some());
        assert!(
            std::fs::metadata(&path).unwrap().len() < len,
            "recompaction dropped b.o's record and paths"
        );
    }
}
