//! The numbers `-t analyze` prints, gathered from the work, durations,
//! critical path and profile, in seconds, ready for JSON or `table`.
//! Owns what is listed and how many; ignores presentation.

use ggninja_executor::build_log::LogEntry;
use ggninja_graph::{BuildId, FileId, Graph};
use serde::Serialize;

use crate::critical::Cpm;
use crate::durations::{durations, Duration};
use crate::profile::{profile, widest};
use crate::work::{DependencyCycle, Work};

/// How many edges the fan-in and fix-first lists keep.
const TOP: usize = 10;

#[derive(Debug, Serialize)]
pub struct Analysis {
    /// Edges that run a command (phony ones counted apart).
    pub edges: usize,
    pub phony_edges: usize,
    pub files: usize,
    /// The longest chain, in edges that run a command.
    pub depth: usize,
    pub total_work_seconds: f64,
    /// Edges timed by an estimate, not the log.
    pub estimated_edges: usize,
    pub critical_path: CriticalPath,
    pub parallelism: Parallelism,
    /// The edges with the most inputs (any), most first.
    pub fan_ins: Vec<FanIn>,
    /// The edges with the most drag, most first.
    pub fix_first: Vec<Fix>,
    /// Every edge that runs a command, in dependency order.
    pub schedule: Vec<Timing>,
}

#[derive(Debug, Serialize)]
pub struct CriticalPath {
    /// The build's length on unlimited workers.
    pub seconds: f64,
    /// First to last; phony edges left out.
    pub edges: Vec<PathEdge>,
}

#[derive(Debug, Serialize)]
pub struct PathEdge {
    pub outputs: Vec<String>,
    pub rule: String,
    pub seconds: f64,
    pub estimated: bool,
    pub drag_seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct Parallelism {
    /// Total work over the critical path's length.
    pub average: f64,
    pub widest: usize,
    pub widest_at_seconds: f64,
    /// From `at_seconds` on, `running` edges run at once.
    pub profile: Vec<Running>,
}

#[derive(Debug, Serialize)]
pub struct Running {
    pub at_seconds: f64,
    pub running: usize,
}

#[derive(Debug, Serialize)]
pub struct FanIn {
    pub outputs: Vec<String>,
    pub inputs: usize,
}

#[derive(Debug, Serialize)]
pub struct Fix {
    pub outputs: Vec<String>,
    pub rule: String,
    pub seconds: f64,
    /// What the build would save if this edge took no time.
    pub saving_seconds: f64,
    pub critical_path_after_seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct Timing {
    pub outputs: Vec<String>,
    pub rule: String,
    pub seconds: f64,
    pub estimated: bool,
    pub start_seconds: f64,
    pub float_seconds: f64,
    pub drag_seconds: f64,
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn outputs(g: &Graph, b: BuildId) -> Vec<String> {
    g.build(b)
        .outs
        .iter()
        .map(|&o| g.path(o).to_string())
        .collect()
}

impl Analysis {
    /// The analysis of building `targets`, timed by `newest` (the log's
    /// newest entry per output).
    pub fn new<'a>(
        g: &Graph,
        targets: &[FileId],
        newest: impl Fn(&str) -> Option<&'a LogEntry>,
    ) -> Result<Analysis, DependencyCycle> {
        let work = Work::needed(g, targets)?;
        let times = durations(g, &work.edges, newest);
        let ms: Vec<u64> = times.iter().map(|d| d.ms).collect();
        let cpm = Cpm::of(&work.deps, &ms);
        let runs = |&i: &usize| !g.is_phony(work.edges[i]);
        let commands: Vec<usize> = (0..work.edges.len()).filter(runs).collect();
        let total: u64 = ms.iter().sum();
        Ok(Analysis {
            edges: commands.len(),
            phony_edges: work.edges.len() - commands.len(),
            files: work.files(g),
            depth: work.depth(g),
            total_work_seconds: seconds(total),
            estimated_edges: times.iter().filter(|d| d.estimated).count(),
            critical_path: critical_path(g, &work, &times, &cpm),
            parallelism: parallelism(&cpm, &ms, total),
            fan_ins: fan_ins(g, &work, &commands),
            fix_first: fix_first(g, &work, &ms, &cpm),
            schedule: schedule(g, &work, &times, &cpm, &commands),
        })
    }
}

/// The edges of one critical path of building `targets` (as `Analysis`
/// finds it, phony edges on it included), first to last, timed by
/// `newest`: what `-t graph --critical` highlights.
pub fn critical_builds<'a>(
    g: &Graph,
    targets: &[FileId],
    newest: impl Fn(&str) -> Option<&'a LogEntry>,
) -> Result<Vec<BuildId>, DependencyCycle> {
    let work = Work::needed(g, targets)?;
    let ms: Vec<u64> = (durations(g, &work.edges, newest).iter())
        .map(|d| d.ms)
        .collect();
    let cpm = Cpm::of(&work.deps, &ms);
    Ok(cpm.path.iter().map(|&i| work.edges[i]).collect())
}

fn schedule(
    g: &Graph,
    work: &Work,
    times: &[Duration],
    cpm: &Cpm,
    commands: &[usize],
) -> Vec<Timing> {
    (commands.iter())
        .map(|&i| Timing {
            outputs: outputs(g, work.edges[i]),
            rule: g.rule_name(work.edges[i]).to_string(),
            seconds: seconds(times[i].ms),
            estimated: times[i].estimated,
            start_seconds: seconds(cpm.earliest_start[i]),
            float_seconds: seconds(cpm.float(i)),
            drag_seconds: seconds(cpm.drag[i]),
        })
        .collect()
}

fn critical_path(g: &Graph, work: &Work, times: &[Duration], cpm: &Cpm) -> CriticalPath {
    let edges = (cpm.path.iter())
        .filter(|&&i| !g.is_phony(work.edges[i]))
        .map(|&i| PathEdge {
            outputs: outputs(g, work.edges[i]),
            rule: g.rule_name(work.edges[i]).to_string(),
            seconds: seconds(times[i].ms),
            estimated: times[i].estimated,
            drag_seconds: seconds(cpm.drag[i]),
        })
        .collect();
    CriticalPath {
        seconds: seconds(cpm.length),
        edges,
    }
}

/// Every edge started as early as it can be, on unlimited workers.
fn parallelism(cpm: &Cpm, ms: &[u64], total: u64) -> Parallelism {
    let spans = (0..ms.len()).map(|i| (cpm.earliest_start[i], cpm.earliest_start[i] + ms[i]));
    let steps = profile(spans);
    let top = widest(&steps);
    Parallelism {
        average: if cpm.length == 0 {
            0.0
        } else {
            total as f64 / cpm.length as f64
        },
        widest: top.map_or(0, |s| s.running),
        widest_at_seconds: seconds(top.map_or(0, |s| s.at_ms)),
        profile: (steps.iter())
            .map(|s| Running {
                at_seconds: seconds(s.at_ms),
                running: s.running,
            })
            .collect(),
    }
}

fn fan_ins(g: &Graph, work: &Work, commands: &[usize]) -> Vec<FanIn> {
    let mut by_inputs: Vec<(usize, BuildId)> = (commands.iter())
        .map(|&i| (g.build(work.edges[i]).ins.len(), work.edges[i]))
        .filter(|&(n, _)| n > 0)
        .collect();
    by_inputs.sort_by_key(|&(n, _)| std::cmp::Reverse(n));
    (by_inputs.into_iter().take(TOP))
        .map(|(inputs, b)| FanIn {
            outputs: outputs(g, b),
            inputs,
        })
        .collect()
}

fn fix_first(g: &Graph, work: &Work, ms: &[u64], cpm: &Cpm) -> Vec<Fix> {
    let mut dragging: Vec<usize> = (0..ms.len()).filter(|&i| cpm.drag[i] > 0).collect();
    dragging.sort_by_key(|&i| std::cmp::Reverse(cpm.drag[i]));
    (dragging.into_iter().take(TOP))
        .map(|i| Fix {
            outputs: outputs(g, work.edges[i]),
            rule: g.rule_name(work.edges[i]).to_string(),
            seconds: seconds(ms[i]),
            saving_seconds: seconds(cpm.drag[i]),
            critical_path_after_seconds: seconds(cpm.length - cpm.drag[i]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{entry, graph};
    use std::collections::HashMap;

    /// A diamond (a → b, c → d) plus a chain (x → y), under a phony.
    #[test]
    fn a_diamond_and_a_chain() {
        let g = graph(
            "build a: r\nbuild b: r a\nbuild c: r a\nbuild d: r b c\n\
             build x: r\nbuild y: r x\nbuild all: phony d y\n",
        );
        let log: HashMap<&str, LogEntry> = [
            ("a", entry(0, 100)),
            ("b", entry(100, 400)),
            ("c", entry(100, 200)),
            ("d", entry(400, 500)),
            ("x", entry(0, 200)),
        ]
        .into();
        let r = Analysis::new(&g, &[g.lookup("all").unwrap()], |p| log.get(p)).unwrap();
        assert_eq!((r.edges, r.phony_edges, r.files, r.depth), (6, 1, 7, 3));
        // y is estimated at r's median of 100, 300, 100, 100, 200.
        assert_eq!(r.estimated_edges, 1);
        assert_eq!(r.total_work_seconds, 0.9);
        let path: Vec<&str> = (r.critical_path.edges.iter())
            .map(|e| e.outputs[0].as_str())
            .collect();
        assert_eq!(path, ["a", "b", "d"]);
        assert_eq!(r.critical_path.seconds, 0.5);
        // Without b, a → c → d takes 0.3, x → y 0.3: b saves 0.2.
        let fixes: Vec<(&str, f64)> = (r.fix_first.iter())
            .map(|f| (f.outputs[0].as_str(), f.saving_seconds))
            .collect();
        assert_eq!(fixes, [("b", 0.2), ("a", 0.1), ("d", 0.1)]);
        let y = r.schedule.iter().find(|t| t.outputs == ["y"]).unwrap();
        assert!(y.estimated && y.seconds == 0.1 && y.float_seconds == 0.2);
        assert_eq!(
            (r.parallelism.widest, r.parallelism.widest_at_seconds),
            (3, 0.1)
        );
        assert_eq!(r.fan_ins[0].outputs, ["d"]);
        let path = critical_builds(&g, &[g.lookup("all").unwrap()], |p| log.get(p)).unwrap();
        let first = |b: &BuildId| g.path(g.build(*b).outs[0]);
        assert_eq!(path.iter().map(first).collect::<Vec<_>>(), ["a", "b", "d"]);
    }
}
