//! Where each edge's result came from, which ninja's log cannot say: run
//! here, restored from the local memo, run on Lambda or taken from the S3
//! memo, with the thunk it was and the bytes that thunk reads. Kept in
//! `.ggninja_edges` beside `.ninja_log`, one JSON line per finished edge,
//! appended as edges finish; `-t trace` matches a line to the log entry of
//! the same output, start and end. Only edges with a thunk are written, so
//! a build that makes none (no `--cache`, `--sandbox` or `--remote`) writes
//! nothing. A damaged line is skipped; a file grown past `COMPACT_AT` is
//! rewritten with the newest line of each output, atomically. Ignores the
//! edges' outputs and commands.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file, in the build dir.
pub const FILE: &str = ".ggninja_edges";

/// Past this size, opening the file for a build first compacts it.
const COMPACT_AT: u64 = 8 << 20;

/// Where an edge's result came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The command ran on this machine.
    #[default]
    Ran,
    /// Its outputs were restored from the local memo (`--cache`).
    Memo,
    /// The command ran on Lambda.
    Remote,
    /// Its outputs came from the S3 memo; nothing ran.
    RemoteMemo,
}

/// One finished edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Its first output, as the log names it.
    pub output: String,
    /// Its times, as the log has them.
    pub start_ms: i32,
    pub end_ms: i32,
    pub origin: Origin,
    /// Its thunk (`T...`).
    pub thunk: String,
    /// Bytes its thunk reads (see `EdgeThunk::bytes`).
    pub footprint_bytes: u64,
}

/// Appends records for one build; opened at the first one.
pub struct Writer {
    path: PathBuf,
    file: Option<std::fs::File>,
    /// Writing failed once: the build goes on without the record.
    broken: bool,
}

impl Writer {
    pub fn new(path: PathBuf) -> Writer {
        Writer {
            path,
            file: None,
            broken: false,
        }
    }

    /// Appends `record`; an error is returned once, then records are dropped
    /// (the record is a help for analysis, never a reason to fail a build).
    pub fn add(&mut self, record: &Record) -> Result<(), String> {
        if self.broken {
            return Ok(());
        }
        let written = self.append(record);
        written.map_err(|e| {
            self.broken = true;
            format!("writing {}: {e}", self.path.display())
        })
    }

    fn append(&mut self, record: &Record) -> std::io::Result<()> {
        if self.file.is_none() {
            compact_if_large(&self.path)?;
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            self.file = Some(f);
        }
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let file = self.file.as_mut().expect("opened above");
        file.write_all(&line)
    }
}

/// Every readable record in `path`, by output, oldest first; none when the
/// file is missing.
pub fn read(path: &Path) -> std::io::Result<HashMap<String, Vec<Record>>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(e),
    };
    let mut by_output: HashMap<String, Vec<Record>> = HashMap::new();
    for line in std::io::BufReader::new(file).split(b'\n') {
        if let Ok(r) = serde_json::from_slice::<Record>(&line?) {
            by_output.entry(r.output.clone()).or_default().push(r);
        }
    }
    Ok(by_output)
}

/// The record of the run of `output` from `start_ms` to `end_ms`, if kept.
pub fn find<'a>(
    records: &'a HashMap<String, Vec<Record>>,
    output: &str,
    start_ms: i32,
    end_ms: i32,
) -> Option<&'a Record> {
    let runs = records.get(output)?;
    runs.iter()
        .rev()
        .find(|r| r.start_ms == start_ms && r.end_ms == end_ms)
}

/// Rewrites a large file with the newest record of each output.
fn compact_if_large(path: &Path) -> std::io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() > COMPACT_AT => {}
        _ => return Ok(()),
    }
    let mut newest: Vec<Record> = read(path)?
        .into_values()
        .filter_map(|mut runs| runs.pop())
        .collect();
    newest.sort_by(|a, b| a.output.cmp(&b.output));
    let mut tmp = crate::disk::beside(path)?;
    let mut out = std::io::BufWriter::new(tmp.as_file_mut());
    for r in &newest {
        serde_json::to_writer(&mut out, r).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
    }
    out.into_inner().map_err(|e| e.into_error())?;
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(output: &str, start_ms: i32, origin: Origin) -> Record {
        Record {
            output: output.into(),
            start_ms,
            end_ms: start_ms + 5,
            origin,
            thunk: format!("T{start_ms}"),
            footprint_bytes: 100,
        }
    }

    #[test]
    fn records_are_found_by_output_and_times_and_damage_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let mut w = Writer::new(path.clone());
        w.add(&record("a.o", 0, Origin::Memo)).unwrap();
        w.add(&record("b.o", 3, Origin::Remote)).unwrap();
        drop(w);
        // A torn line from an interrupted write, then a later build.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"output\":\"a.o\",\"sta").unwrap();
        f.write_all(b"\n").unwrap();
        let mut w = Writer::new(path.clone());
        w.add(&record("a.o", 10, Origin::Ran)).unwrap();
        let all = read(&path).unwrap();
        assert_eq!(find(&all, "a.o", 0, 5).unwrap().origin, Origin::Memo);
        assert_eq!(find(&all, "a.o", 10, 15).unwrap().origin, Origin::Ran);
        assert_eq!(find(&all, "b.o", 3, 8).unwrap().thunk, "T3");
        assert_eq!(find(&all, "b.o", 3, 9), None);
        assert_eq!(find(&all, "c.o", 3, 8), None);
        assert!(read(&dir.path().join("none")).unwrap().is_empty());
    }

    #[test]
    fn a_large_file_keeps_the_newest_record_of_each_output() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        let mut w = Writer::new(path.clone());
        let mut n = 0;
        while std::fs::metadata(&path).map_or(0, |m| m.len()) <= COMPACT_AT {
            for out in ["a.o", "b.o"] {
                w.add(&record(out, n, Origin::Ran)).unwrap();
            }
            n += 1;
        }
        drop(w);
        let mut w = Writer::new(path.clone());
        w.add(&record("c.o", 0, Origin::Memo)).unwrap();
        let all = read(&path).unwrap();
        assert_eq!(all.len(), 3);
        assert!(all.values().all(|runs| runs.len() == 1));
        assert_eq!(all["a.o"][0].start_ms, n - 1);
        assert!(std::fs::metadata(&path).unwrap().len() < 1024);
    }
}
