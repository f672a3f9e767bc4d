//! `.ninja_log`: for each output, when it was built and a hash of the command
//! that built it, in ninja's text format so either tool can read the other's.
//! Outputs are interned once (`PathTable`), each with its newest entry.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use ggninja_graph::paths::PathTable;
use ggninja_graph::HashKind;

/// The version a new log gets: what ninja 1.12+ reads and writes (1.13
/// starts over on a v5 log, 1.11 on a v7 one). A log found on disk keeps
/// its version, so the ninja that made it keeps reading it.
const WRITE_VERSION: u32 = 7;
const OLDEST_VERSION: u32 = 5;
const NEWEST_VERSION: u32 = 7;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub start_ms: i32,
    pub end_ms: i32,
    /// ns since the epoch, as ninja records it.
    pub mtime: i64,
    pub hash: u64,
}

#[derive(Debug, Default)]
pub struct BuildLog {
    /// Every output with an entry, numbered as `entries`.
    outputs: PathTable,
    /// By output number: the output's newest entry.
    entries: Vec<LogEntry>,
    /// Versions 5 and 6 hash with MurmurHash64A, 7 with rapidhash; we keep
    /// writing the version we found, so the other tool keeps reading it.
    version: u32,
    needs_recompaction: bool,
    file: Option<File>,
    path: PathBuf,
}

/// A build log as `BuildLog::read` found it.
pub struct Unsettled {
    log: BuildLog,
    warning: Option<String>,
    /// Of a version this one does not read: removed when settled.
    discard: bool,
}

impl Unsettled {
    /// The log and its warning, the file removed if it is to be.
    pub fn settle(self) -> (BuildLog, Option<String>) {
        if self.discard {
            let _ = std::fs::remove_file(&self.log.path);
        }
        (self.log, self.warning)
    }
}

impl BuildLog {
    /// Reads the log at `path`. A missing log is empty; a log of a version we
    /// do not know is discarded with a warning, as ninja does.
    pub fn load(path: &Path) -> io::Result<(BuildLog, Option<String>)> {
        BuildLog::read(path).map(Unsettled::settle)
    }

    /// `load` without touching the file: what to do with it is left to
    /// `Unsettled::settle`, so it can be read before the build knows it wants it
    /// (while the manifest loads).
    pub fn read(path: &Path) -> io::Result<Unsettled> {
        let mut log = BuildLog {
            path: path.to_path_buf(),
            version: WRITE_VERSION,
            ..Default::default()
        };
        let read = |log, warning, discard| Unsettled {
            log,
            warning,
            discard,
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(read(log, None, false)),
            Err(e) => return Err(e),
        };
        let (mut unique, mut total) = (0usize, 0usize);
        let version = read_entries(file, |output, entry| {
            total += 1;
            if log.insert(&output, entry) {
                unique += 1;
            }
        })?;
        if let Some(version) = version.filter(|&v| !known(v)) {
            let why = if version > NEWEST_VERSION {
                "too new"
            } else {
                "too old"
            };
            let warning = format!("build log version is {why}; starting over");
            return Ok(read(log, Some(warning), true));
        }
        log.version = version.unwrap_or(WRITE_VERSION).max(OLDEST_VERSION);
        log.needs_recompaction = total > 100 && total > unique * 3;
        Ok(read(log, None, false))
    }

    /// Sets `output`'s entry; true if it had none.
    fn insert(&mut self, output: &str, entry: LogEntry) -> bool {
        let (id, new) = self.outputs.intern(output);
        if new {
            self.entries.push(entry);
        } else {
            self.entries[id as usize] = entry;
        }
        new
    }

    pub fn lookup(&self, output: &str) -> Option<&LogEntry> {
        Some(&self.entries[self.outputs.find(output)? as usize])
    }

    pub fn entries(&self) -> impl Iterator<Item = (&str, &LogEntry)> {
        self.outputs.iter().zip(&self.entries)
    }

    /// The algorithm of this log's version.
    pub fn hash_kind(&self) -> HashKind {
        match self.version >= 7 {
            true => HashKind::Rapid,
            false => HashKind::Murmur,
        }
    }

    /// The hash of `command` in the algorithm of this log's version.
    pub fn hash_command(&self, command: &str) -> u64 {
        self.hash_kind().hash(command)
    }

    pub fn needs_recompaction(&self) -> bool {
        self.needs_recompaction
    }

    fn open(&mut self) -> io::Result<&mut File> {
        if self.file.is_none() {
            let header = format!("# ninja log v{}\n", self.version);
            self.file = Some(crate::disk::open_log(&self.path, header.as_bytes())?);
        }
        Ok(self.file.as_mut().expect("opened above"))
    }

    /// Appends one entry per output and flushes, so an interrupted build
    /// keeps every edge that finished.
    pub fn record(&mut self, outputs: &[&str], entry: &LogEntry) -> io::Result<()> {
        let mut text = String::new();
        for out in outputs {
            text.push_str(&format_line(out, entry));
            self.insert(out, entry.clone());
        }
        let f = self.open()?;
        f.write_all(text.as_bytes())
    }

    /// Rewrites the log with one line per live output (atomically).
    pub fn recompact(&mut self, is_dead: impl Fn(&str) -> bool) -> io::Result<()> {
        self.file = None;
        let mut live: Vec<(&str, &LogEntry)> =
            self.entries().filter(|(out, _)| !is_dead(out)).collect();
        live.sort_by(|a, b| a.0.cmp(b.0));
        let mut tmp = crate::disk::beside(&self.path)?;
        let mut kept = BuildLog::default();
        {
            let mut f = io::BufWriter::new(tmp.as_file_mut());
            writeln!(f, "# ninja log v{}", self.version)?;
            for (out, e) in live {
                f.write_all(format_line(out, e).as_bytes())?;
                kept.insert(out, e.clone());
            }
            f.flush()?;
        }
        tmp.persist(&self.path).map_err(|e| e.error)?;
        self.outputs = kept.outputs;
        self.entries = kept.entries;
        self.needs_recompaction = false;
        Ok(())
    }

    /// Re-stats the outputs `selected` accepts, records their current
    /// mtimes (0 when missing) and rewrites the log.
    pub fn restat(&mut self, selected: impl Fn(&str) -> bool) -> io::Result<()> {
        for (out, e) in self.outputs.iter().zip(&mut self.entries) {
            if selected(out) {
                e.mtime = crate::disk::stat(out).map_err(io::Error::other)?;
            }
        }
        self.recompact(|_| false)
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

/// Every entry of the log at `path` in the order written, older entries of
/// an output included (the runs a trace is cut from). Read only: a missing
/// log, or one of a version we do not know, has none.
pub fn read_in_order(path: &Path) -> io::Result<Vec<(String, LogEntry)>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut all = Vec::new();
    let version = read_entries(file, |output, entry| all.push((output, entry)))?;
    if version.is_some_and(|v| !known(v)) {
        all.clear();
    }
    Ok(all)
}

fn known(version: u32) -> bool {
    (OLDEST_VERSION..=NEWEST_VERSION).contains(&version)
}

/// Reads the signature, then (if its version is one we know) hands each
/// entry to `each` in file order; returns the version (None: an empty
/// file, which has no signature).
fn read_entries(file: File, mut each: impl FnMut(String, LogEntry)) -> io::Result<Option<u32>> {
    let mut reader = BufReader::with_capacity(256 << 10, file);
    let mut line = Vec::new();
    let mut version = None;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if version.is_none() {
            let v = parse_signature(&line);
            version = Some(v);
            if !known(v) {
                break;
            }
            continue;
        }
        if line.last() != Some(&b'\n') {
            break; // a torn last line from an interrupted write
        }
        line.pop();
        if let Some((output, entry)) = parse_line(&line) {
            each(output, entry);
        }
    }
    Ok(version)
}

fn parse_signature(line: &[u8]) -> u32 {
    let text = String::from_utf8_lossy(line);
    text.trim_end()
        .strip_prefix("# ninja log v")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn format_line(output: &str, e: &LogEntry) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{:x}\n",
        e.start_ms, e.end_ms, e.mtime, output, e.hash
    )
}

fn parse_line(line: &[u8]) -> Option<(String, LogEntry)> {
    let mut fields = line.splitn(5, |&c| c == b'\t');
    let num = |f: Option<&[u8]>| -> Option<i64> {
        let s = std::str::from_utf8(f?).ok()?;
        Some(s.trim().parse::<i64>().unwrap_or(0))
    };
    let start_ms = num(fields.next())? as i32;
    let end_ms = num(fields.next())? as i32;
    let mtime = num(fields.next())?;
    let output = String::from_utf8_lossy(fields.next()?).into_owned();
    let hash_text = std::str::from_utf8(fields.next()?).ok()?;
    let hash = u64::from_str_radix(hash_text.trim(), 16).unwrap_or(0);
    Some((
        output,
        LogEntry {
            start_ms,
            end_ms,
            mtime,
            hash,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_ninja() {
        // From a .ninja_log written by ninja 1.11.1 for these commands.
        assert_eq!(HashKind::Murmur.hash("touch out"), 0x8ea3cc54bdccad2c);
        assert_eq!(HashKind::Murmur.hash("touch out2"), 0xc227b36dd6819128);
        // From the rapidhash.h that ninja 1.13 ships (log v7).
        let v7 = BuildLog {
            version: 7,
            ..Default::default()
        };
        assert_eq!(v7.hash_command("touch out"), 0x97d3af5e46e1e935);
        assert_eq!(v7.hash_command(""), 0x5a6ef77074ebc84b);
        let long =
            "a somewhat longer command line that exceeds forty eight bytes in length for sure";
        assert_eq!(v7.hash_command(long), 0x18487a4aa11c532d);
        // 48 bytes, where the rapidhash crate's 1.x releases differed from
        // the C rapidhash (from a .ninja_log ninja 1.13.2 wrote).
        let at_48 = "gcc @hello.rsp -o hello;rspfile=main.o libutil.a";
        assert_eq!(v7.hash_command(at_48), 0x7ac27d9e75ff186c);
    }

    #[test]
    fn an_empty_log_is_kept_and_an_unknown_version_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".ninja_log");
        std::fs::write(&path, "").unwrap();
        let (_, warn) = BuildLog::load(&path).unwrap();
        assert!(warn.is_none() && path.exists());
        std::fs::write(&path, "# ninja log v99\n1\t2\t3\ta\t0\n").unwrap();
        assert!(read_in_order(&path).unwrap().is_empty());
        assert!(path.exists(), "reading in order leaves the file alone");
        let read = BuildLog::read(&path).unwrap();
        assert!(path.exists(), "read, not settled");
        let (log, warn) = read.settle();
        assert!(warn.is_some() && !path.exists());
        assert_eq!(log.entries().count(), 0);
    }

    #[test]
    fn a_log_keeps_the_version_it_was_found_with() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".ninja_log");
        std::fs::write(&path, "# ninja log v5\n").unwrap();
        let (mut log, _) = BuildLog::load(&path).unwrap();
        assert_eq!(log.hash_command("touch out"), 0x8ea3cc54bdccad2c);
        let e = LogEntry {
            start_ms: 0,
            end_ms: 1,
            mtime: 2,
            hash: 3,
        };
        log.record(&["out"], &e).unwrap();
        log.recompact(|_| false).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# ninja log v5\n0\t1\t2\tout\t"), "{text}");
    }

    #[test]
    fn round_trip_and_recompact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".ninja_log");
        let (mut log, warn) = BuildLog::load(&path).unwrap();
        assert!(warn.is_none());
        let e = LogEntry {
            start_ms: 1,
            end_ms: 5,
            mtime: 123,
            hash: log.hash_command("cc a.c"),
        };
        for _ in 0..3 {
            log.record(&["a.o", "b.o"], &e).unwrap();
        }
        log.close();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# ninja log v7\n1\t5\t123\ta.o\t"));
        let (mut log, _) = BuildLog::load(&path).unwrap();
        assert_eq!(log.lookup("a.o"), Some(&e));
        let all = read_in_order(&path).unwrap();
        let outs: Vec<&str> = all.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(outs, ["a.o", "b.o", "a.o", "b.o", "a.o", "b.o"]);
        log.recompact(|p| p == "b.o").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
    }
}
