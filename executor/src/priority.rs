//! Which ready edge starts first: each wanted edge's critical-path weight,
//! its own cost plus the costliest chain of edges that wait for it, so the
//! plan can start the edge the most work hangs off before the others.
//!
//! ninja 1.12 and 1.13 weigh every edge with a command 1 (phony edges 0):
//! the longest chain in edges goes first. With a `.ninja_log` we know
//! better — how long each edge took — and the replays of `-t simulate`
//! show what each rule gains (docs/analysis.md). Ties, and edges without a
//! weight (planned later, through a dyndep file), start in node order.
//!
//! Ignores pools, workers and time: it only ranks.

use ggninja_graph::{BuildId, FileId, Graph};

use crate::build_log::{BuildLog, LogEntry};

/// How the plan ranks ready edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Priority {
    /// Node order, as ninja 1.11's ready set (and make, which has no
    /// priority: an imported make graph keeps it).
    NodeOrder,
    /// The longest chain of edges with a command first: ninja 1.12+.
    #[default]
    Chain,
    /// The longest chain of logged durations first; an edge the log lacks
    /// counts as the median logged edge.
    Logged,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Logged, Priority::Chain, Priority::NodeOrder];

    /// The name `--priority` and `-t simulate` use.
    pub fn name(self) -> &'static str {
        match self {
            Priority::NodeOrder => "node-order",
            Priority::Chain => "chain",
            Priority::Logged => "logged",
        }
    }

    pub fn named(name: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Weights for the edges `targets` need, indexed by node index; an edge
/// without one ranks below every weighed edge.
pub fn weights(g: &Graph, log: &BuildLog, targets: &[FileId], rule: Priority) -> Vec<i64> {
    let mut weight = vec![-1; g.node_count()];
    if rule == Priority::NodeOrder {
        return weight;
    }
    let order = topological(g, targets);
    let cost = Cost::new(log, rule);
    // Each edge's own cost once: asked again for every input a producer
    // makes (every compile's headers, once the deps log is read), it was
    // a tenth of a small rebuild's CPU.
    let mut own = vec![0; g.node_count()];
    for &b in &order {
        own[b.index()] = cost.of(g, b);
        weight[b.index()] = own[b.index()];
    }
    // Dependents come after their producers in `order`: walking it
    // backwards, an edge's weight is final before it raises its producers'.
    for &b in order.iter().rev() {
        let w = weight[b.index()];
        for &i in &g.build(b).ins {
            if let Some(p) = g.file(i).in_build {
                let candidate = w + own[p.index()];
                if candidate > weight[p.index()] {
                    weight[p.index()] = candidate;
                }
            }
        }
    }
    weight
}

/// The edges `targets` need, each after the edges making its inputs.
fn topological(g: &Graph, targets: &[FileId]) -> Vec<BuildId> {
    // By node index: a set's hashing cost more than the walk (every
    // compile's headers are inputs once the deps log is read).
    let mut seen = vec![false; g.node_count()];
    let mut order = Vec::new();
    // An explicit stack: real graphs are deep enough to overflow recursion.
    let mut stack: Vec<(BuildId, usize)> = Vec::new();
    for &t in targets {
        let Some(root) = g.file(t).in_build else {
            continue;
        };
        if std::mem::replace(&mut seen[root.index()], true) {
            continue;
        }
        stack.push((root, 0));
        while let Some((b, next)) = stack.last_mut() {
            let ins = &g.build(*b).ins;
            if let Some(&input) = ins.get(*next) {
                *next += 1;
                if let Some(p) = g.file(input).in_build {
                    if !std::mem::replace(&mut seen[p.index()], true) {
                        stack.push((p, 0));
                    }
                }
            } else {
                order.push(*b);
                stack.pop();
            }
        }
    }
    order
}

/// One edge's own cost under a rule.
struct Cost<'a> {
    log: Option<&'a BuildLog>,
    /// What an edge the log lacks costs (ms).
    unlogged: i64,
}

impl<'a> Cost<'a> {
    fn new(log: &'a BuildLog, rule: Priority) -> Cost<'a> {
        if rule != Priority::Logged {
            return Cost {
                log: None,
                unlogged: 1,
            };
        }
        let mut ms: Vec<i64> = log.entries().map(|(_, e)| duration(e)).collect();
        ms.sort_unstable();
        Cost {
            log: Some(log),
            unlogged: ms.get(ms.len() / 2).copied().unwrap_or(1).max(1),
        }
    }

    fn of(&self, g: &Graph, b: BuildId) -> i64 {
        if g.is_phony(b) {
            return 0;
        }
        let Some(log) = self.log else {
            return 1;
        };
        let first = g.build(b).outs.first().copied();
        first
            .and_then(|o| log.lookup(g.path(o)))
            // 1 ms at least: an edge with a command never weighs nothing.
            .map_or(self.unlogged, |e| duration(e).max(1))
    }
}

fn duration(e: &LogEntry) -> i64 {
    i64::from(e.end_ms) - i64::from(e.start_ms)
}
