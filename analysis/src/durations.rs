//! How long each edge takes: the newest `.ninja_log` entry of its first
//! output (end − start), or, for an edge the log lacks, an estimate: the
//! median of its rule's logged edges, else the median of every logged
//! edge, else 0. Phony edges take no time. Ignores whether the logged
//! command is still the edge's command (a changed flag rarely changes the
//! time much).

use std::collections::HashMap;

use ggninja_executor::build_log::LogEntry;
use ggninja_graph::{BuildId, Graph};

/// An edge's time in ms, and whether it was estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration {
    pub ms: u64,
    pub estimated: bool,
}

/// What an entry says the edge took (0 if the clock went backwards).
pub fn logged_ms(entry: &LogEntry) -> u64 {
    u64::try_from(i64::from(entry.end_ms) - i64::from(entry.start_ms)).unwrap_or(0)
}

/// The medians estimates come from.
struct Medians {
    by_rule: HashMap<String, u64>,
    overall: u64,
}

/// Each of `edges`' durations. `newest` is the log's newest entry per
/// output; the medians come from every edge of `g` it has.
pub fn durations<'a>(
    g: &Graph,
    edges: &[BuildId],
    newest: impl Fn(&str) -> Option<&'a LogEntry>,
) -> Vec<Duration> {
    let logged = |b: BuildId| newest(g.path(g.build(b).outs[0])).map(logged_ms);
    let medians = medians(g, &logged);
    (edges.iter())
        .map(|&b| match (g.is_phony(b), logged(b)) {
            (true, _) => Duration {
                ms: 0,
                estimated: false,
            },
            (false, Some(ms)) => Duration {
                ms,
                estimated: false,
            },
            (false, None) => Duration {
                ms: (medians.by_rule.get(g.rule_name(b)).copied()).unwrap_or(medians.overall),
                estimated: true,
            },
        })
        .collect()
}

/// The medians over every logged edge of `g` that runs a command.
fn medians(g: &Graph, logged: &impl Fn(BuildId) -> Option<u64>) -> Medians {
    let mut by_rule: HashMap<String, Vec<u64>> = HashMap::new();
    let mut all = Vec::new();
    for &b in g.builds.iter().filter(|&&b| !g.is_phony(b)) {
        if let Some(ms) = logged(b) {
            by_rule
                .entry(g.rule_name(b).to_string())
                .or_default()
                .push(ms);
            all.push(ms);
        }
    }
    Medians {
        by_rule: (by_rule.into_iter())
            .map(|(rule, mut times)| (rule, median(&mut times)))
            .collect(),
        overall: median(&mut all),
    }
}

/// The median (the mean of the middle two for an even count; 0 for none).
fn median(times: &mut [u64]) -> u64 {
    times.sort_unstable();
    let n = times.len();
    match n {
        0 => 0,
        _ if n % 2 == 1 => times[n / 2],
        _ => (times[n / 2 - 1] + times[n / 2]) / 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{entry, graph};

    fn ms(d: &[Duration]) -> Vec<(u64, bool)> {
        d.iter().map(|d| (d.ms, d.estimated)).collect()
    }

    #[test]
    fn missing_edges_get_their_rules_median_else_the_overall_one() {
        let g = graph(
            "rule s\n  command = sleep 1\nrule t\n  command = sleep 2\n\
             build a1: r\nbuild a2: r\nbuild a3: r\nbuild a4: r\n\
             build s1: s\nbuild t1: t\nbuild all: phony a4 s1\n",
        );
        let log: HashMap<&str, LogEntry> = [
            ("a1", entry(0, 100)),
            ("a2", entry(0, 300)),
            ("a3", entry(50, 1050)),
            ("t1", entry(0, 2000)),
            ("unrelated", entry(0, 9999)),
        ]
        .into();
        let edges = g.builds.clone();
        let d = durations(&g, &edges, |p| log.get(p));
        // r's median of 100, 300, 1000 is 300; s has none logged: the
        // median of all four logged edges, (300 + 1000) / 2; phony: 0.
        assert_eq!(
            ms(&d),
            [
                (100, false),
                (300, false),
                (1000, false),
                (300, true),
                (650, true),
                (2000, false),
                (0, false)
            ]
        );
    }

    #[test]
    fn an_empty_log_estimates_zero_and_even_counts_take_the_middle_mean() {
        let g = graph("build a: r\n");
        let d = durations(&g, &g.builds, |_| None);
        assert_eq!(ms(&d), [(0, true)]);
        assert_eq!(median(&mut [4, 1, 3, 2]), 2);
        assert_eq!(median(&mut [10, 30]), 20);
        assert_eq!(logged_ms(&entry(50, 40)), 0);
    }
}
