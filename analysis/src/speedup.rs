//! What `-t simulate` prints: the build of some targets replayed
//! (`simulate`) on each worker count under each rule, with utilisation,
//! speed-up and the bounds every list schedule lies within, and the last
//! build replayed at the `-j` it ran with against its logged wall time;
//! as JSON or a table; with what the thunks tell (`forecast`), the cache
//! prediction and the remote model's replays beside them. Owns which
//! replays are made and their layout; ignores how a replay runs.
//!
//! Bounds (`bounds`), with W the total work and T∞ the critical path: no
//! schedule on N workers beats max(W/N, T∞), and a greedy one never
//! exceeds W/N + T∞ (Graham), each pool with a depth adding its own term.

use std::collections::HashMap;
use std::fmt::Write;

use ggninja_executor::build_log::LogEntry;
use ggninja_graph::{BuildId, FileId, Graph};
use serde::Serialize;

use crate::bounds::Bounds;
use crate::critical::Cpm;
use crate::durations::{durations, logged_ms};
use crate::forecast::{self, Built, CachePrediction, Known, RemoteRuns};
use crate::profile::{profile, widest};
use crate::row::{seconds, Run};
use crate::simulate::{simulate, Model, Replays};
use crate::work::{DependencyCycle, Work};
use ggninja_executor::priority::Priority;

/// The worker counts replayed when none are asked for (the machine's
/// default `-j` is added).
pub const JOBS: [usize; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 1000, 10000];

#[derive(Debug, Serialize)]
pub struct Simulation {
    pub total_work_seconds: f64,
    pub critical_path_seconds: f64,
    /// Per worker count, ascending, each rule.
    pub runs: Vec<Run>,
    /// None when the log has no run of this graph's edges.
    pub last_build: Option<LastBuild>,
    /// With `--cache`: which edges are predicted to hit, and the build
    /// over the misses.
    pub cache: Option<CachePrediction>,
    /// With `--remote lambda`: the build under the remote model.
    pub remote: Option<RemoteRuns>,
}

#[derive(Debug, Serialize)]
pub struct LastBuild {
    /// The most edges it ran at once: its `-j`, unless it never filled it.
    pub jobs: usize,
    pub actual_seconds: f64,
    pub predicted_seconds: f64,
    /// (predicted − actual) / actual, in percent.
    pub error_percent: f64,
}

/// The edges of `work` as a model, their times `ms`.
struct Edges {
    builds: Vec<BuildId>,
    deps: Vec<Vec<usize>>,
    order: Vec<usize>,
    pool: Vec<usize>,
    depths: Vec<usize>,
}

impl Edges {
    fn of(g: &Graph, work: Work) -> Edges {
        Edges {
            builds: work.edges.clone(),
            order: work.edges.iter().map(|b| b.index()).collect(),
            pool: work.edges.iter().map(|&b| g.build(b).pool).collect(),
            depths: g.pools.iter().map(|p| p.depth).collect(),
            deps: work.deps,
        }
    }

    fn model<'a>(&'a self, ms: &'a [u64]) -> Model<'a> {
        Model {
            deps: &self.deps,
            ms,
            order: &self.order,
            pool: &self.pool,
            depths: &self.depths,
            remote: None,
            cores: 0,
        }
    }
}

impl Simulation {
    /// Building `targets` replayed on each of `jobs` workers, timed as
    /// `-t analyze` times it (`entries`' newest per output, else an
    /// estimate); the last build of `entries` replayed against itself.
    pub fn new(
        g: &Graph,
        targets: &[FileId],
        jobs: &[usize],
        entries: &[(String, LogEntry)],
    ) -> Result<Simulation, DependencyCycle> {
        Simulation::knowing(g, targets, jobs, entries, &Known::default(), 0)
    }

    /// As `new`, with the cache prediction and the remote model's replays
    /// for what `known` holds; the local replays on `cores` shared cores
    /// (0: each worker its own; see `simulate`).
    pub fn knowing(
        g: &Graph,
        targets: &[FileId],
        jobs: &[usize],
        entries: &[(String, LogEntry)],
        known: &Known,
        cores: usize,
    ) -> Result<Simulation, DependencyCycle> {
        let work = Work::needed(g, targets)?;
        let newest = crate::runs::newest(entries);
        let ms: Vec<u64> = (durations(g, &work.edges, |p| newest.get(p).copied()).iter())
            .map(|d| d.ms)
            .collect();
        let last = last_run_ms(g, &work, crate::runs::last_run(entries));
        let edges = Edges::of(g, work);
        let total: u64 = ms.iter().sum();
        let t_inf = Cpm::of(&edges.deps, &ms).length;
        let mut jobs = jobs.to_vec();
        jobs.sort_unstable();
        jobs.dedup();
        let mut runs = Vec::new();
        let bounds = Bounds::of(&edges.model(&ms), &ms, t_inf);
        let mut replays = Replays::new(Model {
            cores,
            ..edges.model(&ms)
        });
        for &n in &jobs {
            for rule in Priority::ALL {
                let length = replays.run(n, rule).length;
                let mut row = Run::of(n, rule, length, &bounds);
                if cores > 0 && cores < n {
                    // At most `cores` ms of work a ms (see `simulate`).
                    row.lower_bound = bounds.lower(cores) / 1000.0;
                    row.upper_bound = bounds.upper(cores) / 1000.0;
                }
                runs.push(row);
            }
        }
        let last_build = last.map(|(ms, actual, n)| {
            // The rule ggninja and ninja 1.12+ start ready edges by.
            let predicted = simulate(edges.model(&ms), n, Priority::default()).length;
            LastBuild {
                jobs: n,
                actual_seconds: seconds(actual),
                predicted_seconds: seconds(predicted),
                error_percent: if actual == 0 {
                    0.0
                } else {
                    (predicted as f64 - actual as f64) / actual as f64 * 100.0
                },
            }
        });
        let built = Built {
            builds: &edges.builds,
            model: edges.model(&ms),
            total_ms: total,
        };
        let cache = known.cache.as_ref();
        Ok(Simulation {
            total_work_seconds: seconds(total),
            critical_path_seconds: seconds(t_inf),
            runs,
            last_build,
            cache: cache.map(|c| forecast::cache(g, &built, &jobs, c)),
            remote: (known.remote.as_ref()).map(|r| forecast::remote(g, &built, &jobs, r, cache)),
        })
    }
}

/// The last run as a replay of `work`: each edge's time in that run (0
/// for those it did not run: up to date, or phony), its wall time (first
/// start to last end of those edges) and the most of them that ran at
/// once. None when it ran none of them.
fn last_run_ms(
    g: &Graph,
    work: &Work,
    run: &[(String, LogEntry)],
) -> Option<(Vec<u64>, u64, usize)> {
    let mut in_run: HashMap<&str, &LogEntry> = HashMap::new();
    for (output, entry) in run {
        in_run.insert(output.as_str(), entry);
    }
    let ran: Vec<Option<&LogEntry>> = (work.edges.iter())
        .map(|&b| match g.is_phony(b) {
            true => None,
            false => in_run.get(g.path(g.build(b).outs[0])).copied(),
        })
        .collect();
    let logged: Vec<&LogEntry> = ran.iter().flatten().copied().collect();
    let ms = |t: i32| u64::try_from(t).unwrap_or(0);
    let first = logged.iter().map(|e| ms(e.start_ms)).min()?;
    let last = logged.iter().map(|e| ms(e.end_ms)).max()?;
    let spans = logged.iter().map(|e| (ms(e.start_ms), ms(e.end_ms)));
    let jobs = widest(&profile(spans)).map_or(1, |s| s.running);
    let times = ran.iter().map(|e| e.map_or(0, logged_ms)).collect();
    Some((times, last.saturating_sub(first), jobs))
}

/// The table for people: one row per worker count, both rules side by
/// side, then the last build's check.
pub fn render(s: &Simulation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "total work     {:.3} s\ncritical path  {:.3} s\n",
        s.total_work_seconds, s.critical_path_seconds
    );
    let group = |name: &str| format!("  {name:>25}");
    let _ = writeln!(
        out,
        "{:>6}{}{}{}  {:>21}",
        "",
        group(Priority::ALL[0].name()),
        group(Priority::ALL[1].name()),
        group(Priority::ALL[2].name()),
        "bounds (s)"
    );
    let columns = format!("  {:>9} {:>7} {:>7}", "seconds", "speedup", "busy");
    let _ = writeln!(
        out,
        "{:>6}{columns}{columns}{columns}  {:>10} {:>10}",
        "jobs", "lower", "upper"
    );
    for runs in s.runs.chunks(Priority::ALL.len()) {
        let _ = write!(out, "{:>6}", runs[0].jobs);
        for r in runs {
            let _ = write!(
                out,
                "  {:>9.3} {:>6.2}x {:>6.1}%",
                r.seconds,
                r.speedup,
                r.utilisation * 100.0
            );
        }
        let _ = writeln!(
            out,
            "  {:>10.3} {:>10.3}",
            runs[0].lower_bound, runs[0].upper_bound
        );
    }
    match &s.last_build {
        None => out.push_str("\nlast build: none of these edges in .ninja_log\n"),
        Some(l) => {
            let _ = writeln!(
                out,
                "\nlast build at -j{} (the most edges it ran at once): \
                 {:.3} s, predicted {:.3} s ({:+.1}%)",
                l.jobs, l.actual_seconds, l.predicted_seconds, l.error_percent
            );
        }
    }
    if let Some(c) = &s.cache {
        forecast::render_cache(&mut out, c);
    }
    if let Some(r) = &s.remote {
        forecast::render_remote(&mut out, r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{graph, log};

    /// Four short edges before a chain a → b in the manifest, all under
    /// `all`; the log one run of it at -j2 in the order ggninja and ninja
    /// 1.12+ start them (the longer chain first).
    #[test]
    fn replays_each_count_and_checks_the_last_build() {
        let g = graph(
            "build s1: r\nbuild s2: r\nbuild s3: r\nbuild s4: r\n\
             build a: r\nbuild b: r a\nbuild all: phony s1 s2 s3 s4 b\n",
        );
        let entries = log(&[
            ("s1", 0, 1000),
            ("s2", 1000, 2000),
            ("a", 0, 3000),
            ("s3", 2000, 3000),
            ("s4", 3000, 4000),
            ("b", 3000, 6200),
        ]);
        let all = [g.lookup("all").unwrap()];
        let s = Simulation::new(&g, &all, &[2, 1, 2], &entries).unwrap();
        assert_eq!(s.total_work_seconds, 10.2);
        assert_eq!(s.critical_path_seconds, 6.2);
        let rows: Vec<(usize, &str, f64)> = (s.runs.iter())
            .map(|r| (r.jobs, r.rule, r.seconds))
            .collect();
        assert_eq!(
            rows,
            [
                (1, "logged", 10.2),
                (1, "chain", 10.2),
                (1, "node-order", 10.2),
                (2, "logged", 6.2),
                (2, "chain", 6.2),
                (2, "node-order", 8.2)
            ]
        );
        let fifo = &s.runs[5];
        assert_eq!((fifo.lower_bound, fifo.upper_bound), (6.2, 11.3));
        assert!((fifo.speedup - 10.2 / 8.2).abs() < 1e-9);
        assert!((fifo.utilisation - 10.2 / 16.4).abs() < 1e-9);
        let l = s.last_build.as_ref().unwrap();
        assert_eq!(
            (l.jobs, l.actual_seconds, l.predicted_seconds),
            (2, 6.2, 6.2)
        );
        assert_eq!(l.error_percent, 0.0);
        let text = render(&s);
        assert!(text.contains("     2      6.200   1.65x   82.3%      6.200   1.65x   82.3%      8.200   1.24x   62.2%       6.200     11.300\n"), "{text}");
        assert!(text.contains("last build at -j2 (the most edges it ran at once): 6.200 s, predicted 6.200 s (+0.0%)"), "{text}");
    }

    /// Only what the last run ran is replayed: an up-to-date edge takes
    /// no time there, and a log of other outputs has no last build.
    #[test]
    fn the_last_build_replays_only_what_ran() {
        let g = graph("build a: r\nbuild b: r a\n");
        let b = [g.lookup("b").unwrap()];
        let entries = log(&[("a", 0, 1000), ("b", 1000, 1500), ("b", 0, 400)]);
        let s = Simulation::new(&g, &b, &[1], &entries).unwrap();
        let l = s.last_build.unwrap();
        assert_eq!(
            (l.jobs, l.actual_seconds, l.predicted_seconds),
            (1, 0.4, 0.4)
        );
        assert_eq!(s.total_work_seconds, 1.4, "b's newest time");
        let s = Simulation::new(&g, &b, &[1], &log(&[("other", 0, 5)])).unwrap();
        assert!(s.last_build.is_none());
        assert!(render(&s).contains("last build: none"));
    }
}
