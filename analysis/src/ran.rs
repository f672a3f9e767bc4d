//! What the last run built: the edges of the current graph it logged,
//! with their times and command hashes, the logged edges each waited for,
//! and the chain the build finished by. Ignores entries of outputs the
//! graph no longer builds, and edges the run did not log (they were up to
//! date, or phony).

use std::collections::HashMap;

use ggninja_executor::build_log::LogEntry;
use ggninja_graph::{BuildId, Graph};

/// One edge the run built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub build: BuildId,
    pub start_ms: u64,
    pub end_ms: u64,
    /// The command hash the log records.
    pub hash: u64,
    /// The ran edges whose outputs it reads (through phony edges).
    pub waited_for: Vec<usize>,
}

/// The edges `run` (one run's entries) logged, by start time.
pub fn last_build(g: &Graph, run: &[(String, LogEntry)]) -> Vec<Ran> {
    let mut first: HashMap<BuildId, &LogEntry> = HashMap::new();
    for (output, entry) in run {
        let built_by = g.lookup(output).and_then(|f| g.file(f).in_build);
        if let Some(b) = built_by.filter(|&b| !g.is_phony(b)) {
            first.entry(b).or_insert(entry);
        }
    }
    let ms = |t: i32| u64::try_from(t).unwrap_or(0);
    let mut ran: Vec<Ran> = (first.into_iter())
        .map(|(build, e)| Ran {
            build,
            start_ms: ms(e.start_ms),
            end_ms: ms(e.end_ms).max(ms(e.start_ms)),
            hash: e.hash,
            waited_for: Vec::new(),
        })
        .collect();
    ran.sort_by_key(|r| (r.start_ms, r.end_ms, r.build.index()));
    let index: HashMap<BuildId, usize> = (ran.iter().enumerate())
        .map(|(i, r)| (r.build, i))
        .collect();
    for r in &mut ran {
        r.waited_for = waited_for(g, r.build, &index);
    }
    ran
}

/// The logged edges among the producers of `b`'s inputs, looking through
/// phony edges to what they gather.
fn waited_for(g: &Graph, b: BuildId, index: &HashMap<BuildId, usize>) -> Vec<usize> {
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![b];
    while let Some(at) = stack.pop() {
        for p in g.build(at).ins.iter().filter_map(|&i| g.file(i).in_build) {
            if !seen.insert(p) {
                continue;
            }
            match index.get(&p) {
                Some(&k) => found.push(k),
                None if g.is_phony(p) => stack.push(p),
                None => {}
            }
        }
    }
    found.sort_unstable();
    found
}

/// The edge that finished last, back through the input each edge waited
/// for last: the build's critical path as it ran, first edge to last.
pub fn finishing_chain(ran: &[Ran]) -> Vec<usize> {
    let Some(last) = (0..ran.len()).max_by_key(|&i| (ran[i].end_ms, std::cmp::Reverse(i))) else {
        return Vec::new();
    };
    let mut chain = vec![last];
    let mut on_chain = vec![false; ran.len()];
    on_chain[last] = true;
    let mut at = last;
    while let Some(d) = (ran[at].waited_for.iter().copied())
        .filter(|&d| !on_chain[d] && ran[d].end_ms <= ran[at].start_ms)
        .max_by_key(|&d| (ran[d].end_ms, std::cmp::Reverse(d)))
    {
        on_chain[d] = true;
        chain.push(d);
        at = d;
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{entry, graph};

    #[test]
    fn the_last_build_waits_through_phony_edges() {
        let g = graph(
            "build a: r\nbuild b: r\nbuild ab: phony a b\nbuild c: r ab\n\
             build d: r c\nbuild up_to_date: r\nbuild e: r up_to_date\n",
        );
        let run: Vec<(String, LogEntry)> = [
            ("b", entry(0, 100)),
            ("a", entry(0, 300)),
            ("e", entry(0, 50)),
            ("gone", entry(0, 50)),
            ("c", entry(300, 400)),
            ("d", entry(400, 450)),
        ]
        .map(|(o, e)| (o.to_string(), e))
        .into();
        let ran = last_build(&g, &run);
        let first = |r: &Ran| g.path(g.build(r.build).outs[0]).to_string();
        let names: Vec<String> = ran.iter().map(first).collect();
        assert_eq!(names, ["e", "b", "a", "c", "d"]);
        assert_eq!(ran[3].waited_for, [1, 2], "c waits for b and a through ab");
        assert!(ran[0].waited_for.is_empty(), "up_to_date did not run");
        let chain: Vec<String> = finishing_chain(&ran)
            .iter()
            .map(|&i| first(&ran[i]))
            .collect();
        assert_eq!(chain, ["a", "c", "d"]);
    }

    #[test]
    fn nothing_ran() {
        let g = graph("build a: r\n");
        assert!(last_build(&g, &[]).is_empty());
        assert!(finishing_chain(&[]).is_empty());
    }
}
