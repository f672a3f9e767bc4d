//! What `-t report`'s page shows, as numbers: the last build's edges on
//! worker lanes (start, time, rule, outputs, command) with the chain it
//! finished by, the longest steps, the time per rule, and the build of the
//! targets replayed on 1 to 1024 workers (`speedup`). Owns which edges
//! and rows are listed and how the page's data is kept small; ignores the
//! HTML (`html`).
//!
//! Size: the page must stay a few MB at 50,000 edges. Columns, not
//! objects; start times as differences from the previous edge's; outputs
//! and commands coded against their rule's previous one (`delta`), the
//! edge's first output in its command replaced by a marker; and commands
//! cut to the longest length that keeps them within `COMMAND_BUDGET`.

use std::collections::HashMap;

use ggninja_executor::build_log::LogEntry;
use ggninja_graph::{BuildId, FileId, Graph};
use serde::Serialize;

use crate::delta::{Coded, Coder};
use crate::lanes::lanes;
use crate::profile::{profile, widest};
use crate::ran::{finishing_chain, last_build, Ran};
use crate::speedup::Simulation;
use crate::work::DependencyCycle;

/// Stands for the edge's first output in its command (a private-use
/// character: commands do not contain it).
pub const OUTPUT_MARK: char = '\u{E000}';

/// Roughly how many bytes of commands a page carries, whatever the edges.
const COMMAND_BUDGET: usize = 2_000_000;

/// No command is cut shorter than this, whatever the budget says.
const SHORTEST_CUT: usize = 120;

/// How many outputs an edge's label lists.
const OUTPUTS_SHOWN: usize = 8;

/// How many rows the longest-steps table has.
const TOP_STEPS: usize = 25;

/// The worker counts the curve is replayed at (the last build's width is
/// added).
const CURVE_JOBS: [usize; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/// Everything the page shows.
#[derive(Debug)]
pub struct Page {
    pub summary: Summary,
    /// What the page's script draws from (embedded as JSON).
    pub data: Data,
    pub top: Vec<Step>,
    pub by_rule: Vec<RuleTime>,
}

#[derive(Debug, PartialEq)]
pub struct Summary {
    pub edges: usize,
    /// First start to last end, ms.
    pub wall_ms: u64,
    /// The sum of the edges' times, ms.
    pub busy_ms: u64,
    /// The most edges that ran at once.
    pub widest: usize,
    pub chain_edges: usize,
}

/// The last build's edges by start time, as columns.
#[derive(Debug, Serialize)]
pub struct Data {
    /// Each edge's start minus the previous edge's (the first's from 0), ms.
    pub start: Vec<u64>,
    pub ms: Vec<u64>,
    pub lane: Vec<usize>,
    /// Index into `rules`.
    pub rule: Vec<usize>,
    pub rules: Vec<String>,
    /// Outputs, one a line, coded per rule.
    pub outputs: Coded,
    /// Commands as the manifest says now (the log keeps only a hash),
    /// `OUTPUT_MARK` for the first output, coded per rule.
    pub commands: Coded,
    /// Commands were cut to this many bytes (a `…` ends those cut).
    pub command_cut: Option<usize>,
    /// The chain the build finished by, first edge to last.
    pub chain: Vec<usize>,
    pub simulation: Simulation,
}

/// A row of the longest steps.
#[derive(Debug, PartialEq)]
pub struct Step {
    pub ms: u64,
    pub start_ms: u64,
    pub rule: String,
    pub outputs: Vec<String>,
    pub on_chain: bool,
}

/// A row of the time per rule.
#[derive(Debug, PartialEq)]
pub struct RuleTime {
    pub rule: String,
    pub edges: usize,
    pub ms: u64,
    pub longest_ms: u64,
}

impl Page {
    /// The last build of `entries` (all of its edges the graph still has),
    /// and the build of `targets` replayed on 1 to 1024 workers.
    pub fn new(
        g: &Graph,
        targets: &[FileId],
        entries: &[(String, LogEntry)],
    ) -> Result<Page, DependencyCycle> {
        let ran = last_build(g, crate::runs::last_run(entries));
        let spans: Vec<(u64, u64)> = ran.iter().map(|r| (r.start_ms, r.end_ms)).collect();
        let widest = widest(&profile(spans.iter().copied())).map_or(0, |s| s.running);
        let mut jobs = CURVE_JOBS.to_vec();
        jobs.push(widest.max(1));
        let simulation = Simulation::new(g, targets, &jobs, entries)?;
        let chain = finishing_chain(&ran);
        Ok(Page {
            summary: summary(&ran, widest, chain.len()),
            top: top(g, &ran, &chain),
            by_rule: by_rule(g, &ran),
            data: data(g, &ran, &spans, chain, simulation),
        })
    }
}

fn summary(ran: &[Ran], widest: usize, chain_edges: usize) -> Summary {
    let first = ran.iter().map(|r| r.start_ms).min().unwrap_or(0);
    let last = ran.iter().map(|r| r.end_ms).max().unwrap_or(0);
    Summary {
        edges: ran.len(),
        wall_ms: last - first,
        busy_ms: ran.iter().map(|r| r.end_ms - r.start_ms).sum(),
        widest,
        chain_edges,
    }
}

fn data(
    g: &Graph,
    ran: &[Ran],
    spans: &[(u64, u64)],
    chain: Vec<usize>,
    simulation: Simulation,
) -> Data {
    let mut rules = Rules::default();
    let rule: Vec<usize> = ran
        .iter()
        .map(|r| rules.index(g.rule_name(r.build)))
        .collect();
    let mut outputs = Coder::default();
    for (r, &k) in ran.iter().zip(&rule) {
        outputs.push(k, label(g, r.build));
    }
    let commands: Vec<String> = ran.iter().map(|r| command(g, r.build)).collect();
    let (commands, command_cut) = cut(commands, &rule);
    let mut coded = Coder::default();
    for (c, &k) in commands.into_iter().zip(&rule) {
        coded.push(k, c);
    }
    let mut before = 0;
    let start = (ran.iter())
        .map(|r| r.start_ms - std::mem::replace(&mut before, r.start_ms))
        .collect();
    Data {
        start,
        ms: spans.iter().map(|(s, e)| e - s).collect(),
        lane: lanes(spans),
        rule,
        rules: rules.names,
        outputs: outputs.finish(),
        commands: coded.finish(),
        command_cut,
        chain,
        simulation,
    }
}

/// Rule names numbered in order of appearance.
#[derive(Default)]
struct Rules {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Rules {
    fn index(&mut self, name: &str) -> usize {
        if let Some(&k) = self.index.get(name) {
            return k;
        }
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }
}

/// An edge's outputs, one a line, the first `OUTPUTS_SHOWN` of them.
fn label(g: &Graph, b: BuildId) -> String {
    let outs = &g.build(b).outs;
    let mut lines: Vec<String> = (outs.iter().take(OUTPUTS_SHOWN))
        .map(|&o| g.path(o).to_string())
        .collect();
    if outs.len() > OUTPUTS_SHOWN {
        lines.push(format!("… {} more", outs.len() - OUTPUTS_SHOWN));
    }
    lines.join("\n")
}

/// The edge's command with its first output as `OUTPUT_MARK` (the part
/// most commands share with their rule's others, once the name is out).
fn command(g: &Graph, b: BuildId) -> String {
    let command = g.command(b, false).unwrap_or_default();
    let command = command.replace(OUTPUT_MARK, "\u{FFFD}");
    let first = g.path(g.build(b).outs[0]);
    // A short output would be found inside words: no saving, only noise.
    if first.len() < 4 {
        return command;
    }
    command.replace(first, &OUTPUT_MARK.to_string())
}

/// The commands cut to the longest length (in bytes) whose coded size
/// stays within `COMMAND_BUDGET`, `…` ending those cut; and that length,
/// if any was cut.
fn cut(commands: Vec<String>, rule: &[usize]) -> (Vec<String>, Option<usize>) {
    let shared = shared_prefixes(&commands, rule);
    let cost = |at: usize| -> usize {
        (commands.iter().zip(&shared))
            .map(|(c, &p)| c.len().min(at) - p.min(at))
            .sum()
    };
    let longest = commands.iter().map(String::len).max().unwrap_or(0);
    if cost(longest) <= COMMAND_BUDGET {
        return (commands, None);
    }
    // cost grows with `at`: the largest `at` within the budget.
    let (mut fits, mut over) = (SHORTEST_CUT, longest);
    while over - fits > 1 {
        let mid = (fits + over) / 2;
        match cost(mid) <= COMMAND_BUDGET {
            true => fits = mid,
            false => over = mid,
        }
    }
    let cut = commands.into_iter().map(|c| cut_one(c, fits)).collect();
    (cut, Some(fits))
}

/// Each command's common prefix in bytes with its rule's previous one.
fn shared_prefixes(commands: &[String], rule: &[usize]) -> Vec<usize> {
    let mut last: HashMap<usize, &str> = HashMap::new();
    (commands.iter().zip(rule))
        .map(|(c, &k)| {
            let prev = last.insert(k, c).unwrap_or("");
            (prev.bytes().zip(c.bytes()))
                .take_while(|(a, b)| a == b)
                .count()
        })
        .collect()
}

fn cut_one(mut c: String, at: usize) -> String {
    if c.len() <= at {
        return c;
    }
    let mut end = at;
    while !c.is_char_boundary(end) {
        end -= 1;
    }
    c.truncate(end);
    c.push('…');
    c
}

/// The longest edges, longest first.
fn top(g: &Graph, ran: &[Ran], chain: &[usize]) -> Vec<Step> {
    let mut order: Vec<usize> = (0..ran.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(ran[i].end_ms - ran[i].start_ms), i));
    (order.into_iter().take(TOP_STEPS))
        .map(|i| Step {
            ms: ran[i].end_ms - ran[i].start_ms,
            start_ms: ran[i].start_ms,
            rule: g.rule_name(ran[i].build).to_string(),
            outputs: (g.build(ran[i].build).outs.iter())
                .map(|&o| g.path(o).to_string())
                .collect(),
            on_chain: chain.contains(&i),
        })
        .collect()
}

/// Each rule's edges and time, most time first.
fn by_rule(g: &Graph, ran: &[Ran]) -> Vec<RuleTime> {
    let mut rows: HashMap<&str, RuleTime> = HashMap::new();
    for r in ran {
        let name = g.rule_name(r.build);
        let row = rows.entry(name).or_insert_with(|| RuleTime {
            rule: name.to_string(),
            edges: 0,
            ms: 0,
            longest_ms: 0,
        });
        let ms = r.end_ms - r.start_ms;
        row.edges += 1;
        row.ms += ms;
        row.longest_ms = row.longest_ms.max(ms);
    }
    let mut rows: Vec<RuleTime> = rows.into_values().collect();
    rows.sort_by(|a, b| b.ms.cmp(&a.ms).then_with(|| a.rule.cmp(&b.rule)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{graph, log};

    /// a → b (on the chain), c beside them; one run.
    #[test]
    fn the_last_build_as_columns_and_tables() {
        let g = graph(
            "rule cc\n  command = cc -c $in -o $out\n\
             build src.o: cc src.c\nbuild b: r src.o\nbuild c: r\nbuild all: phony b c\n",
        );
        // In the order a build writes them: by end time.
        let entries = log(&[("c", 10, 50), ("src.o", 0, 100), ("b", 100, 400)]);
        let p = Page::new(&g, &[g.lookup("all").unwrap()], &entries).unwrap();
        let d = &p.data;
        assert_eq!(d.start, [0, 10, 90]);
        assert_eq!(d.ms, [100, 40, 300]);
        assert_eq!(d.lane, [0, 1, 0]);
        assert_eq!(
            (d.rule.clone(), d.rules.clone()),
            (vec![0, 1, 1], vec!["cc".into(), "r".into()])
        );
        assert_eq!(d.commands.middle[0], "cc -c src.c -o \u{E000}");
        assert_eq!(d.outputs.middle, ["src.o", "c", "b"]);
        assert_eq!(d.chain, [0, 2]);
        assert_eq!(d.command_cut, None);
        assert_eq!(
            p.summary,
            Summary {
                edges: 3,
                wall_ms: 400,
                busy_ms: 440,
                widest: 2,
                chain_edges: 2
            }
        );
        let top: Vec<(&str, u64, bool)> = (p.top.iter())
            .map(|s| (s.outputs[0].as_str(), s.ms, s.on_chain))
            .collect();
        assert_eq!(
            top,
            [("b", 300, true), ("src.o", 100, true), ("c", 40, false)]
        );
        let rules: Vec<(&str, usize, u64, u64)> = (p.by_rule.iter())
            .map(|r| (r.rule.as_str(), r.edges, r.ms, r.longest_ms))
            .collect();
        assert_eq!(rules, [("r", 2, 340, 300), ("cc", 1, 100, 100)]);
        let jobs: Vec<usize> = d.simulation.runs.iter().map(|r| r.jobs).collect();
        assert!(jobs.contains(&2) && jobs.contains(&1024), "{jobs:?}");
    }

    #[test]
    fn commands_past_the_budget_are_cut_to_fit() {
        // Every command different from its first byte: nothing shared.
        let commands: Vec<String> = (0..3000)
            .map(|i| format!("{}{}", i % 10, "x".repeat(1000)))
            .collect();
        let rule = vec![0; commands.len()];
        let (cut_commands, at) = cut(commands, &rule);
        let at = at.unwrap();
        assert!(
            at * 3000 <= COMMAND_BUDGET && (at + 1) * 3000 > COMMAND_BUDGET,
            "{at}"
        );
        assert!(cut_commands.iter().all(|c| c.len() == at + '…'.len_utf8()));
        assert_eq!(cut_one("aé".to_string(), 2), "a…");
    }

    #[test]
    fn an_empty_log_is_an_empty_page() {
        let g = graph("build a: r\n");
        let p = Page::new(&g, &[g.lookup("a").unwrap()], &[]).unwrap();
        assert_eq!(p.summary.edges, 0);
        assert!(p.data.start.is_empty() && p.top.is_empty() && p.by_rule.is_empty());
    }
}
