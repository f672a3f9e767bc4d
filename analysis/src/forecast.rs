//! What `-t simulate` adds from each edge's thunk, before anything runs:
//! the cache prediction (which edges' thunks are memoized; the build
//! replayed over the misses alone, hits taking no time) and the replays
//! under the remote model (`remote`). Owns those replays and their
//! numbers; ignores how hits and byte counts were found (the thunk glue
//! in src/tools passes them as plain per-edge facts).

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use ggninja_executor::priority::Priority;
use ggninja_graph::{BuildId, Graph};
use serde::Serialize;

use crate::bounds::Bounds;
use crate::critical::{longest, Cpm};
use crate::remote::{stragglers, Lambda, Remote, RemoteEdge};
use crate::row::{seconds, Run};
use crate::simulate::{Model, Replays};

/// What the thunk glue found per edge.
#[derive(Debug, Default)]
pub struct Known {
    pub cache: Option<CacheFacts>,
    pub remote: Option<RemoteFacts>,
}

/// The edges whose thunks the store holds results for.
#[derive(Debug)]
pub struct CacheFacts {
    /// The store asked, as printed.
    pub store: String,
    pub hits: HashSet<BuildId>,
}

/// What each edge that would run remotely moves; edges not listed run
/// locally (no thunk, the console, a link with an `-rpath` into a tree).
#[derive(Debug)]
pub struct RemoteFacts {
    pub lambda: Lambda,
    pub edges: HashMap<BuildId, RemoteEdge>,
    /// Distinct input objects (ids in `edges` are below this).
    pub objects: usize,
    /// Outputs whose size nothing told (not built, not memoized): counted
    /// as 0 bytes down.
    pub unknown_output_sizes: usize,
}

/// The cache prediction.
#[derive(Debug, Serialize)]
pub struct CachePrediction {
    pub store: String,
    /// Edges that run a command, and how many of them are predicted hits.
    pub edges: usize,
    pub hits: usize,
    /// Each hit's first output, in dependency order.
    pub hit_edges: Vec<String>,
    pub misses: Misses,
}

/// The build over the misses alone.
#[derive(Debug, Serialize)]
pub struct Misses {
    pub total_work_seconds: f64,
    pub critical_path_seconds: f64,
    /// The first outputs along one critical path of the misses.
    pub critical_path: Vec<String>,
    pub runs: Vec<Row>,
}

/// One replay under the default rule. The bounds are over the times the
/// edges took in it (under the remote model those depend on the replay).
#[derive(Debug, Serialize)]
pub struct Row {
    /// Its speed-up is over the whole build on one local worker (the
    /// logged total work), not over this replay's own work.
    #[serde(flatten)]
    pub run: Run,
    pub work_seconds: f64,
    pub critical_path_seconds: f64,
    /// Remote replays: instances started, bytes uploaded.
    pub cold_starts: usize,
    pub bytes_up: u64,
}

/// The replays under the remote model.
#[derive(Debug, Serialize)]
pub struct RemoteRuns {
    pub model: Lambda,
    pub remote_edges: usize,
    /// Edges that run a command here.
    pub local_edges: usize,
    /// Predicted hits, left out (they take no time).
    pub memo_hits: usize,
    pub objects: usize,
    /// Every distinct object the remote edges need up, and what comes back.
    pub upload_bytes: u64,
    pub download_bytes: u64,
    pub unknown_output_sizes: usize,
    pub runs: Vec<Row>,
}

/// The edges of a replayed build, as `speedup` lays them out.
pub struct Built<'a> {
    pub builds: &'a [BuildId],
    pub model: Model<'a>,
    /// The logged total work: the baseline of every speed-up.
    pub total_ms: u64,
}

/// A replay's row: `took` is what each edge took in it.
fn row(b: &Built, jobs: usize, length: u64, took: &[u64]) -> Row {
    let work: u64 = took.iter().sum();
    let t_inf = longest(b.model.deps, took);
    let bounds = Bounds::of(&b.model, took, t_inf);
    let run = Run::of(jobs, Priority::default(), length, &bounds);
    Row {
        run: Run {
            speedup: match length {
                0 => 1.0,
                t => b.total_ms as f64 / t as f64,
            },
            ..run
        },
        work_seconds: seconds(work),
        critical_path_seconds: seconds(t_inf),
        cold_starts: 0,
        bytes_up: 0,
    }
}

/// Each edge's first output.
fn first_output(g: &Graph, b: BuildId) -> &str {
    g.path(g.build(b).outs[0])
}

/// The cache prediction for `facts`, replayed on each of `jobs`.
pub fn cache(g: &Graph, b: &Built, jobs: &[usize], facts: &CacheFacts) -> CachePrediction {
    let hit: Vec<bool> = b.builds.iter().map(|x| facts.hits.contains(x)).collect();
    let ms: Vec<u64> = (b.model.ms.iter().zip(&hit))
        .map(|(&t, &h)| if h { 0 } else { t })
        .collect();
    let cpm = Cpm::of(b.model.deps, &ms);
    let path = (cpm.path.iter())
        .filter(|&&i| ms[i] > 0)
        .map(|&i| first_output(g, b.builds[i]).to_string())
        .collect();
    let model = Model { ms: &ms, ..b.model };
    let mut replays = Replays::new(model);
    let runs = (jobs.iter())
        .map(|&n| {
            let s = replays.run(n, Priority::default());
            row(b, n, s.length, &s.took)
        })
        .collect();
    let commands = |i: &usize| !g.is_phony(b.builds[*i]);
    let hits: Vec<usize> = (0..hit.len())
        .filter(|&i| hit[i])
        .filter(commands)
        .collect();
    CachePrediction {
        store: facts.store.clone(),
        edges: (0..hit.len()).filter(commands).count(),
        hits: hits.len(),
        hit_edges: (hits.iter())
            .map(|&i| first_output(g, b.builds[i]).to_string())
            .collect(),
        misses: Misses {
            total_work_seconds: seconds(ms.iter().sum()),
            critical_path_seconds: seconds(cpm.length),
            critical_path: path,
            runs,
        },
    }
}

/// The replays under the remote model; predicted hits (`cache`) take no
/// time and run nowhere.
pub fn remote(
    g: &Graph,
    b: &Built,
    jobs: &[usize],
    facts: &RemoteFacts,
    cache: Option<&CacheFacts>,
) -> RemoteRuns {
    let hit = |x: &BuildId| cache.is_some_and(|c| c.hits.contains(x));
    let edges: Vec<Option<RemoteEdge>> = (b.builds.iter())
        .map(|x| match hit(x) {
            true => None,
            false => facts.edges.get(x).cloned(),
        })
        .collect();
    let ms: Vec<u64> = (b.model.ms.iter().zip(b.builds))
        .map(|(&t, x)| if hit(x) { 0 } else { t })
        .collect();
    let straggles = stragglers(&edges, facts.lambda.stragglers_percent);
    let mut needed: HashMap<usize, u64> = HashMap::new();
    for e in edges.iter().flatten() {
        needed.extend(e.uploads.iter().copied());
    }
    let model = Model {
        ms: &ms,
        remote: Some(Remote {
            lambda: &facts.lambda,
            edges: &edges,
            straggles: &straggles,
            objects: facts.objects,
        }),
        ..b.model
    };
    let mut replays = Replays::new(model);
    let runs = (jobs.iter())
        .map(|&n| {
            let s = replays.run(n, Priority::default());
            Row {
                cold_starts: s.cold_starts,
                bytes_up: s.bytes_up,
                ..row(b, n, s.length, &s.took)
            }
        })
        .collect();
    let commands = |x: &&BuildId| !g.is_phony(**x);
    let remote_edges = edges.iter().flatten().count();
    let hits = b.builds.iter().filter(commands).filter(|x| hit(x)).count();
    RemoteRuns {
        model: facts.lambda,
        remote_edges,
        local_edges: b.builds.iter().filter(commands).count() - hits - remote_edges,
        memo_hits: hits,
        objects: needed.len(),
        upload_bytes: needed.values().sum(),
        download_bytes: edges.iter().flatten().map(|e| e.down_bytes).sum(),
        unknown_output_sizes: facts.unknown_output_sizes,
        runs,
    }
}

/// Bytes for people: B, kB, MB, GB (powers of 1000, as the bandwidth).
fn human(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} kB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.1} GB", b / 1e9),
    }
}

/// The cache prediction as text.
pub fn render_cache(out: &mut String, c: &CachePrediction) {
    let _ = writeln!(
        out,
        "\ncache prediction (from {})\n\
         predicted hits  {} of {} edges",
        c.store, c.hits, c.edges
    );
    for h in &c.hit_edges {
        let _ = writeln!(out, "  hit  {h}");
    }
    let m = &c.misses;
    let _ = writeln!(
        out,
        "over the misses (replayed under {}): total work {:.3} s, critical path {:.3} s{}{}",
        Priority::default().name(),
        m.total_work_seconds,
        m.critical_path_seconds,
        if m.critical_path.is_empty() { "" } else { ": " },
        m.critical_path.join(" -> ")
    );
    rows(out, &m.runs, false);
}

/// The remote replays as text.
pub fn render_remote(out: &mut String, r: &RemoteRuns) {
    let l = &r.model;
    let _ = writeln!(
        out,
        "\nremote lambda (replayed under {}): latency {} ms, cold start {} ms, {} MB/s, \
         stragglers {}% at {}x{}\n\
         {} edges remote, {} local, {} memo hits left out; {} objects up ({}), \
         {} down{}",
        Priority::default().name(),
        l.latency_ms,
        l.startup_ms,
        l.bandwidth_mb_s,
        l.stragglers_percent,
        l.straggler_factor,
        match l.cores {
            0 => String::new(),
            n => format!(", {n} shared cores at {} ms CPU an invocation", l.cpu_ms),
        },
        r.remote_edges,
        r.local_edges,
        r.memo_hits,
        r.objects,
        human(r.upload_bytes),
        human(r.download_bytes),
        match r.unknown_output_sizes {
            0 => String::new(),
            n => format!(" ({n} output sizes unknown, counted as 0)"),
        }
    );
    rows(out, &r.runs, true);
}

/// One line per replay, under the default rule.
fn rows(out: &mut String, runs: &[Row], remote: bool) {
    let _ = write!(
        out,
        "{:>6}  {:>9} {:>7} {:>7}  {:>10} {:>10}",
        "jobs", "seconds", "speedup", "busy", "lower", "upper"
    );
    let _ = match remote {
        true => writeln!(out, "  {:>9} {:>9}", "instances", "up"),
        false => writeln!(out),
    };
    for r in runs {
        let _ = write!(
            out,
            "{:>6}  {:>9.3} {:>6.2}x {:>6.1}%  {:>10.3} {:>10.3}",
            r.run.jobs,
            r.run.seconds,
            r.run.speedup,
            r.run.utilisation * 100.0,
            r.run.lower_bound,
            r.run.upper_bound
        );
        let _ = match remote {
            true => writeln!(out, "  {:>9} {:>9}", r.cold_starts, human(r.bytes_up)),
            false => writeln!(out),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speedup::Simulation;
    use crate::testing::{graph, log, LAMBDA};

    /// A diamond s(100) → {x(400), y(300)} → e(200), e local, the others
    /// remote reading object 0 (5000 bytes), x also object 1 (3000).
    fn diamond(hits: &[&str]) -> Simulation {
        let g = graph("build s: r\nbuild x: r s\nbuild y: r s\nbuild e: r x y\n");
        let entries = log(&[
            ("s", 0, 100),
            ("y", 100, 400),
            ("x", 100, 500),
            ("e", 500, 700),
        ]);
        let id = |o: &str| g.file(g.lookup(o).unwrap()).in_build.unwrap();
        let edge = |uploads: &[(usize, u64)], down| RemoteEdge {
            uploads: uploads.to_vec(),
            down_bytes: down,
        };
        let known = Known {
            cache: Some(CacheFacts {
                store: "S".to_string(),
                hits: hits.iter().map(|o| id(o)).collect(),
            }),
            remote: Some(RemoteFacts {
                lambda: LAMBDA,
                edges: HashMap::from([
                    (id("s"), edge(&[(0, 5000)], 2000)),
                    (id("x"), edge(&[(0, 5000), (1, 3000)], 1000)),
                    (id("y"), edge(&[(0, 5000)], 1000)),
                ]),
                objects: 2,
                unknown_output_sizes: 0,
            }),
        };
        let e = [g.lookup("e").unwrap()];
        Simulation::knowing(&g, &e, &[1, 2], &entries, &known, 0).unwrap()
    }

    /// By hand, at -j2: s uploads object 0 (5 ms), starts an instance
    /// (100), runs (10 + 100), brings 2000 bytes back (2): 217. Then x
    /// uploads object 1 (3) on the warm instance: 3 + 410 + 1 = 414, to
    /// 631; y, beside it, needs a second instance: 100 + 310 + 1 = 411;
    /// e runs here from 631 for 200: 831. At -j1 y finds x's instance
    /// free: 311, and the build is the sum, 1142.
    #[test]
    fn the_remote_model_by_hand() {
        let s = diamond(&[]);
        let r = s.remote.as_ref().unwrap();
        let got: Vec<(usize, f64, f64, usize, u64)> = (r.runs.iter())
            .map(|x| {
                (
                    x.run.jobs,
                    x.run.seconds,
                    x.work_seconds,
                    x.cold_starts,
                    x.bytes_up,
                )
            })
            .collect();
        assert_eq!(
            got,
            [(1, 1.142, 1.142, 1, 8000), (2, 0.831, 1.242, 2, 8000)]
        );
        let two = &r.runs[1];
        assert_eq!(two.critical_path_seconds, 0.831);
        assert_eq!((two.run.lower_bound, two.run.upper_bound), (0.831, 1.452));
        assert!((two.run.speedup - 1.0 / 0.831).abs() < 1e-9);
        assert!((two.run.utilisation - 1.242 / (2.0 * 0.831)).abs() < 1e-9);
        assert_eq!((r.remote_edges, r.local_edges, r.memo_hits), (3, 1, 0));
        assert_eq!(
            (r.objects, r.upload_bytes, r.download_bytes),
            (2, 8000, 4000)
        );
        assert_eq!(s.cache.as_ref().unwrap().hits, 0);
        let text = crate::speedup::render(&s);
        assert!(
            text.contains(
                "     2      0.831   1.20x   74.7%       0.831      1.452          2    8.0 kB\n"
            ),
            "{text}"
        );
    }

    /// x predicted to hit: it takes no time and uploads nothing. Locally
    /// the misses' critical path is s, y, e (600 ms); remotely y runs
    /// warm after s: 217 + 311 + 200.
    #[test]
    fn hits_take_no_time() {
        let s = diamond(&["x"]);
        let c = s.cache.as_ref().unwrap();
        assert_eq!(
            (c.edges, c.hits, c.hit_edges.clone()),
            (4, 1, vec!["x".to_string()])
        );
        assert_eq!(c.misses.critical_path, ["s", "y", "e"]);
        assert_eq!(c.misses.critical_path_seconds, 0.6);
        assert_eq!(c.misses.total_work_seconds, 0.6);
        let local: Vec<f64> = c.misses.runs.iter().map(|r| r.run.seconds).collect();
        assert_eq!(local, [0.6, 0.6]);
        let r = s.remote.as_ref().unwrap();
        assert_eq!((r.remote_edges, r.memo_hits, r.upload_bytes), (2, 1, 5000));
        assert_eq!(r.runs[1].run.seconds, 0.728);
        let text = crate::speedup::render(&s);
        assert!(
            text.contains("predicted hits  1 of 4 edges\n  hit  x\n"),
            "{text}"
        );
        assert!(
            text.contains("critical path 0.600 s: s -> y -> e\n"),
            "{text}"
        );
        let remote =
            "2 edges remote, 1 local, 1 memo hits left out; 1 objects up (5.0 kB), 3.0 kB down\n";
        assert!(text.contains(remote), "{text}");
    }
}
