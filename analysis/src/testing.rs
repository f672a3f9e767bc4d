//! What the unit tests share: graphs from manifest text, log entries.

use ggninja_executor::build_log::LogEntry;
use ggninja_graph::Graph;

/// The graph of `text`, a manifest whose one rule `r` runs `true`.
pub fn graph(text: &str) -> Graph {
    let text = format!("rule r\n  command = true\n{text}");
    let options = ggninja_importer::Options::default();
    ggninja_importer::parse_str("build.ninja", text.as_bytes(), &options)
        .expect("test manifest parses")
        .graph
}

/// A log entry from `start` to `end` ms.
pub fn entry(start: i32, end: i32) -> LogEntry {
    LogEntry {
        start_ms: start,
        end_ms: end,
        mtime: 0,
        hash: 0xabc,
    }
}

/// Log entries by first output, from `(output, start, end)`.
pub fn log(lines: &[(&str, i32, i32)]) -> Vec<(String, LogEntry)> {
    (lines.iter())
        .map(|&(o, s, e)| (o.to_string(), entry(s, e)))
        .collect()
}

/// A remote model whose numbers are easy to follow: 1 MB/s is 1000 bytes
/// a ms, no stragglers.
pub const LAMBDA: crate::remote::Lambda = crate::remote::Lambda {
    latency_ms: 10,
    startup_ms: 100,
    bandwidth_mb_s: 1.0,
    stragglers_percent: 0.0,
    straggler_factor: 3,
    cores: 0,
    cpu_ms: 0,
};
