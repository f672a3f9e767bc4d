//! `.ninja_deps`: the headers each output was last built with (from
//! `deps = gcc|msvc`), in ninja's binary format, version 4.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

const SIGNATURE: &[u8] = b"# ninjadeps\n";
const VERSION: u32 = 4;
const MAX_RECORD: usize = (1 << 19) - 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deps {
    pub mtime: i64,
    pub ids: Vec<u32>,
}

#[derive(Debug, Default)]
pub struct DepsLog {
    paths: Vec<String>,
    ids: HashMap<String, u32>,
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
        let mut data = Vec::new();
        match File::open(path) {
            Ok(f) => BufReader::new(f).read_to_end(&mut data)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((log, None)),
            Err(e) => return Err(e),
        };
        let header_ok = data.len() >= SIGNATURE.len() + 4
            && data.starts_with(SIGNATURE)
            && u32_at(&data, SIGNATURE.len()) == VERSION;
        if !header_ok {
            let version = if data.len() >= SIGNATURE.len() + 4 {
                u32_at(&data, SIGNATURE.len())
            } else {
                0
            };
            let _ = std::fs::remove_file(path);
            let why = if version == 1 {
                "deps log version change; rebuilding"
            } else {
                "bad deps log signature or version; starting over"
            };
            return Ok((log, Some(why.to_string())));
        }
        let mut pos = SIGNATURE.len() + 4;
        let (mut total, mut unique) = (0usize, 0usize);
        let mut torn = false;
        while pos < data.len() {
            let record_start = pos;
            if pos + 4 > data.len() {
                torn = true;
                break;
            }
            let header = u32_at(&data, pos);
            let is_deps = header >> 31 != 0;
            let size = (header & 0x7fff_ffff) as usize;
            pos += 4;
            if size > MAX_RECORD || pos + size > data.len() || !size.is_multiple_of(4) || size < 4 {
                pos = record_start;
                torn = true;
                break;
            }
            let rec = &data[pos..pos + size];
            if is_deps {
                let out = u32_at(rec, 0);
                let mtime = (u32_at(rec, 4) as u64 | ((u32_at(rec, 8) as u64) << 32)) as i64;
                let ids: Vec<u32> = (12..size).step_by(4).map(|o| u32_at(rec, o)).collect();
                if (out as usize) >= log.paths.len()
                    || ids.iter().any(|&i| i as usize >= log.paths.len())
                {
                    pos = record_start;
                    torn = true;
                    break;
                }
                total += 1;
                if log.deps[out as usize]
                    .replace(Deps { mtime, ids })
                    .is_none()
                {
                    unique += 1;
                }
            } else {
                let mut len = size - 4;
                while len > 0 && rec[len - 1] == 0 && size - 4 - len < 3 {
                    len -= 1;
                }
                let checksum = u32_at(rec, size - 4);
                if !checksum != log.paths.len() as u32 {
                    pos = record_start;
                    torn = true;
                    break;
                }
                let p = String::from_utf8_lossy(&rec[..len]).into_owned();
                log.ids.insert(p.clone(), log.paths.len() as u32);
                log.paths.push(p);
                log.deps.push(None);
            }
            pos += size;
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

    pub fn get(&self, output: &str) -> Option<&Deps> {
        let id = *self.ids.get(output)?;
        self.deps[id as usize].as_ref()
    }

    /// Every path the log names, outputs and their deps alike.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    pub fn path(&self, id: u32) -> &str {
        &self.paths[id as usize]
    }

    /// Every output that has a deps record, with its record.
    pub fn all(&self) -> impl Iterator<Item = (&str, &Deps)> {
        self.deps
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.as_ref().map(|d| (self.paths[i].as_str(), d)))
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
        if let Some(&id) = self.ids.get(path) {
            return id;
        }
        let id = self.paths.len() as u32;
        let padding = (4 - path.len() % 4) % 4;
        let size = (path.len() + padding + 4) as u32;
        buf.extend_from_slice(&size.to_le_bytes());
        buf.extend_from_slice(path.as_bytes());
        buf.extend(std::iter::repeat_n(0u8, padding));
        buf.extend_from_slice(&(!id).to_le_bytes());
        self.ids.insert(path.to_string(), id);
        self.paths.push(path.to_string());
        self.deps.push(None);
        id
    }

    /// Records `output`'s deps; writes nothing when they are unchanged.
    pub fn record(&mut self, output: &str, mtime: i64, deps: &[&str]) -> io::Result<()> {
        let mut buf = Vec::new();
        let out = self.id_for(output, &mut buf);
        let ids: Vec<u32> = deps.iter().map(|d| self.id_for(d, &mut buf)).collect();
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
