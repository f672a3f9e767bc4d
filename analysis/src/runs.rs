//! Which `.ninja_log` entries count: the newest per output (what
//! `-t analyze` times edges by) and those of the last run (what `-t trace`
//! draws). Owns the rule that cuts the log into runs; ignores the graph.
//!
//! Neither ninja's log nor ours names the run an entry came from, but
//! both append an entry when its edge finishes, with times in ms since
//! that run started: within a run the end times never decrease (start
//! times do: a long edge started first is written after short ones
//! started later). So a run starts at every entry whose end is earlier
//! than the entry before it, and the last run is everything after the
//! last such entry. A recompacted log (sorted by output) has lost its
//! order: its "last run" is only its tail.

use std::collections::HashMap;

use ggninja_executor::build_log::LogEntry;

/// The newest entry of each output (the last one in file order).
pub fn newest(entries: &[(String, LogEntry)]) -> HashMap<&str, &LogEntry> {
    (entries.iter())
        .map(|(output, entry)| (output.as_str(), entry))
        .collect()
}

/// The entries of the last run, in file order.
pub fn last_run(entries: &[(String, LogEntry)]) -> &[(String, LogEntry)] {
    let start = (1..entries.len())
        .rev()
        .find(|&k| entries[k].1.end_ms < entries[k - 1].1.end_ms)
        .unwrap_or(0);
    &entries[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{entry, log};

    #[test]
    fn the_last_run_starts_where_end_times_go_back() {
        let entries = log(&[
            ("a", 0, 100),
            ("b", 0, 300),
            // Second run: b started first but finished last.
            ("a", 10, 50),
            ("c", 20, 60),
            ("b", 0, 400),
            ("d", 400, 400),
        ]);
        let outs: Vec<&str> = last_run(&entries).iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(outs, ["a", "c", "b", "d"]);
        assert_eq!(newest(&entries)["b"], &entry(0, 400));
    }

    #[test]
    fn one_run_and_none() {
        let entries = log(&[("a", 0, 10), ("b", 5, 10)]);
        assert_eq!(last_run(&entries).len(), 2);
        assert!(last_run(&[]).is_empty());
    }
}
