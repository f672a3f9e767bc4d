//! `.ninja_deps`: the headers each output was last built with (from
//! `deps = gcc|msvc`), in ninja's binary format, version 4.
//!
//! Paths are interned once (`PathTable`) and each output's deps are a slice
//! of path numbers, as compact as the file itself; the file is read a record
//! at a time, never whole. Ignores what the paths are in the graph: the
//! scan maps path numbers to files as it loads an edge's deps.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use ggninja_graph::paths::PathTable;

const SIGNATURE: &[u8] = b"# ninjadeps\n";
const VERSION: u32 = 4;
const MAX_RECORD: usize = (1 << 19) - 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deps {
    pub mtime: i64,
    pub ids: Box<[u32]>,
}

#[derive(Debug, Default)]
pub struct DepsLog {
    paths: PathTable,
    /// By path number: the deps recorded for that path as an output.
    deps: Vec<Option<Deps>>,
    needs_recompaction: bool,
    file: Option<File>,
    path: PathBuf,
}

impl DepsLog {
    /// Reads the log. A torn tail is cut off and reported as a warning.
    pub fn load(path: &Path) -> io::Result<(DepsLog, Option<String>)> {
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
                log.load_path(&rec).then_some(false)
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
        Ok((log, warning))
    }

    /// A deps record read into the log: Some(whether the output had none
    /// yet), or None when it names a path not yet read (a torn log).
    fn load_deps(&mut self, rec: &[u8]) -> Option<bool> {
        let known = self.paths.len();
        let out = u32_at(rec, 0);
        let mtime = (u32_at(rec, 4) as u64 | ((u32_at(rec, 8) as u64) << 32)) as i64;
        let ids: Box<[u32]> = (12..rec.len()).step_by(4).map(|o| u32_at(rec, o)).collect();
        if out as usize >= known || ids.iter().any(|&i| i as usize >= known) {
            return None;
        }
        Some(self.deps[out as usize].replace(Deps { mtime, ids }).is_none())
    }

    /// A path record read into the log; false when its checksum (the
    /// complement of its number) is wrong, as in a torn log.
    fn load_path(&mut self, rec: &[u8]) -> bool {
        let size = rec.len();
        let mut len = size - 4;
        while len > 0 && rec[len - 1] == 0 && size - 4 - len < 3 {
            len -= 1;
        }
        let checksum = u32_at(rec, size - 4);
        if !checksum != self.paths.len() as u32 {
            return false;
        }
        self.paths.intern(&String::from_utf8_lossy(&rec[..len]));
        self.deps.push(None);
        true
    }

    pub fn get(&self, output: &str) -> Option<&Deps> {
        let id = self.paths.find(output)?;
        self.deps[id as usize].as_ref()
    }

    /// Every path the log names, outputs and their deps alike.
    pub fn paths(&self) -> &PathTable {
        &self.paths
    }

    pub fn path(&self, id: u32) -> &str {
        self.paths.get(id)
    }

    /// Every output that has a deps record, with its record.
    pub fn all(&self) -> impl Iterator<Item = (&str, &Deps)> {
        self.deps
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.as_ref().map(|d| (self.paths.get(i as u32), d)))
    }

    pub fn needs_recompaction(&self) -> bool {
        self.needs_recompaction
    }

    fn open(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let header = [SIGNATURE, &VERSION.to_le_bytes()].concat();
            self.file = Some(crate::disk::open_log(&self.path, &header)?);
        }
        Ok(self.file.as_mut().expect("opened above"))
    }

    fn id_for(&mut self, path: &str, buf: &mut Vec<u8>) -> u32 {
        let (id, new) = self.paths.intern(path);
        if !new {
            return id;
        }
        let padding = (4 - path.len() % 4) % 4;
        let size = (path.len() + padding + 4) as u32;
        buf.extend_from_slice(&size.to_le_bytes());
        buf.extend_from_slice(path.as_bytes());
        buf.extend(std::iter::repeat_n(0u8, padding));
        buf.extend_from_slice(&(!id).to_le_bytes());
        self.deps.push(None);
        id
    }

    /// Records `output`'s deps; writes nothing when they are unchanged.
    pub fn record(&mut self, output: &str, mtime: i64, deps: &[&str]) -> io::Result<()> {
        let mut buf = Vec::new();
        let out = self.id_for(output, &mut buf);
        let ids: Box<[u32]> = deps.iter().map(|d| self.id_for(d, &mut buf)).collect();
        let new = Deps { mtime, ids };
        if buf.is_empty() && self.deps[out as usize].as_ref() == Some(&new) {
            return Ok(());
        }
        let size = 4 * (1 + 2 + new.ids.len());
        if size > MAX_RECORD {
            return Err(io::Error::other(format!("too many deps for {output}")));
        }
        buf.extend_from_slice(&(size as u32 | 0x8000_0000).to_le_bytes());
        buf.extend_from_slice(&out.to_le_bytes());
        buf.extend_from_slice(&(mtime as u64 as u32).to_le_bytes());
        buf.extend_from_slice(&(((mtime as u64) >> 32) as u32).to_le_bytes());
        for id in &new.ids {
            buf.extend_from_slice(&id.to_le_bytes());
        }
        self.deps[out as usize] = Some(new);
        self.open()?.write_all(&buf)
    }

    /// Rewrites the log keeping only records for outputs `is_live` accepts.
    pub fn recompact(&mut self, is_live: impl Fn(&str) -> bool) -> io::Result<()> {
        self.file = None;
        let old = std::mem::take(self);
        let tmp = old.path.with_extension("recompact");
        let _ = std::fs::remove_file(&tmp);
        *self = DepsLog {
            path: tmp.clone(),
            ..Default::default()
        };
        for (out, deps) in old.all() {
            if !is_live(out) {
                continue;
            }
            let names: Vec<&str> = deps.ids.iter().map(|&i| old.path(i)).collect();
            self.record(out, deps.mtime, &names)?;
        }
        self.open()?.flush()?;
        self.file = None;
        std::fs::rename(&tmp, &old.path)?;
        self.path = old.path;
        Ok(())
    }

    pub fn close(&mut self) {
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
        let (mut log, _) = DepsLog::load(&path).unwrap();
        log.record("a.o", 42, &["a.c", "x.h"]).unwrap();
        log.record("b.o", 43, &["b.c", "x.h"]).unwrap();
        log.record("b.o", 43, &["b.c", "x.h"]).unwrap();
        log.close();
        let len = std::fs::metadata(&path).unwrap().len();
        let (log, warn) = DepsLog::load(&path).unwrap();
        assert!(warn.is_none());
        let d = log.get("b.o").unwrap();
        assert_eq!(d.mtime, 43);
        let names: Vec<_> = d.ids.iter().map(|&i| log.path(i)).collect();
        assert_eq!(names, ["b.c", "x.h"]);
        // A torn tail is cut back to the last whole record.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[1, 2, 3]).unwrap();
        drop(f);
        let (mut log, warn) = DepsLog::load(&path).unwrap();
        assert_eq!(warn.as_deref(), Some("premature end of file; recovering"));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        log.recompact(|o| o == "a.o").unwrap();
        let (log, _) = DepsLog::load(&path).unwrap();
        assert!(log.get("b.o").is_none());
        assert!(log.get("a.o").is_some());
    }
}
