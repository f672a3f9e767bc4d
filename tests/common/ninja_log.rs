//! Reading `.ninja_log` (v5: a header line, then one tab-separated line per
//! output: start, end, mtime, output, command hash).

use std::fs;
use std::path::Path;

/// One entry line, its fields as written.
#[derive(Debug, Clone)]
pub struct Entry {
    pub start: String,
    pub end: String,
    pub mtime: String,
    pub output: String,
    pub hash: String,
}

impl Entry {
    /// Asserts that start, end and mtime are (unsigned) numbers.
    pub fn assert_numbers(&self) {
        for n in [&self.start, &self.end, &self.mtime] {
            n.parse::<u64>()
                .unwrap_or_else(|_| panic!("bad number in .ninja_log line {:?}", self.line()));
        }
    }

    /// The line as it stands in the log.
    pub fn line(&self) -> String {
        [
            &self.start,
            &self.end,
            &self.mtime,
            &self.output,
            &self.hash,
        ]
        .map(String::as_str)
        .join("\t")
    }
}

pub struct Log {
    /// The first line (`# ninja log v7`); None for an empty file.
    pub header: Option<String>,
    pub entries: Vec<Entry>,
}

impl Log {
    /// The outputs of the entries, in the log's order.
    pub fn outputs(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.output.clone()).collect()
    }
}

/// `dir/.ninja_log`, or None when it cannot be read. Asserts that every
/// line after the header has the five fields.
pub fn read(dir: &Path) -> Option<Log> {
    let text = fs::read_to_string(dir.join(".ninja_log")).ok()?;
    let mut lines = text.lines();
    let header = lines.next().map(str::to_string);
    let entries = lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(
                f.len(),
                5,
                "bad .ninja_log line in {}: {l:?}",
                dir.display()
            );
            Entry {
                start: f[0].to_string(),
                end: f[1].to_string(),
                mtime: f[2].to_string(),
                output: f[3].to_string(),
                hash: f[4].to_string(),
            }
        })
        .collect();
    Some(Log { header, entries })
}
