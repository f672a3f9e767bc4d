//! `-t analyze`, `-t trace` and `-t simulate` on a real build of sleeping
//! commands of known durations: a diamond (a → b, c → d) and a chain
//! (x → y).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{ggninja, ninja_log, run, text};
use serde_json::Value;

const MANIFEST: &str = "rule sleep\n  command = sleep $t && touch $out\n\
build a: sleep\n  t = 0.3\nbuild b: sleep a\n  t = 0.6\nbuild c: sleep a\n  t = 0.2\n\
build d: sleep b c\n  t = 0.1\nbuild x: sleep\n  t = 0.2\nbuild y: sleep x\n  t = 0.2\n\
build all: phony d y\ndefault all\n";

/// Slack for process start-up on a loaded machine.
const TOLERANCE: f64 = 0.25;

fn build(dir: &Path) {
    let out = run(dir, &ggninja(), &["-j", "8"]);
    assert!(out.status.success(), "{}", text(&out));
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let out = run(dir, &ggninja(), args);
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Each output's newest logged duration, in seconds.
fn logged(dir: &Path) -> BTreeMap<String, f64> {
    let log = ninja_log::read(dir).unwrap();
    let ms = |s: &str| s.parse::<f64>().unwrap();
    (log.entries.iter())
        .map(|e| (e.output.clone(), (ms(&e.end) - ms(&e.start)) / 1000.0))
        .collect()
}

fn near(got: f64, want: f64) -> bool {
    (got - want).abs() < 1e-9
}

/// The critical path's first outputs, and whether each was estimated.
fn path(report: &Value) -> Vec<(String, bool)> {
    let edges = report["critical_path"]["edges"].as_array().unwrap();
    (edges.iter())
        .map(|e| {
            let out = e["outputs"][0].as_str().unwrap().to_string();
            (out, e["estimated"].as_bool().unwrap())
        })
        .collect()
}

#[test]
fn analyze_and_trace_a_build() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("build.ninja"), MANIFEST).unwrap();
    build(dir);

    let report = json(dir, &["-t", "analyze", "--json"]);
    let times = logged(dir);
    let want: Vec<(String, bool)> = ["a", "b", "d"].map(|o| (o.to_string(), false)).into();
    assert_eq!(path(&report), want, "{report:#}");
    let seconds = report["critical_path"]["seconds"].as_f64().unwrap();
    assert!(
        near(seconds, times["a"] + times["b"] + times["d"]),
        "{report:#}"
    );
    assert!((seconds - 1.0).abs() < TOLERANCE, "{report:#}");
    let total = report["total_work_seconds"].as_f64().unwrap();
    assert!(near(total, times.values().sum()), "{report:#}");
    assert!((total - 1.6).abs() < 2.0 * TOLERANCE, "{report:#}");
    assert_eq!(
        (report["edges"].as_u64(), report["depth"].as_u64()),
        (Some(6), Some(3))
    );
    // b's drag: without it a → c → d is the longest path.
    let drag = report["critical_path"]["edges"][1]["drag_seconds"]
        .as_f64()
        .unwrap();
    assert!(near(drag, times["b"] - times["c"]), "{report:#}");

    let table = run(dir, &ggninja(), &["-t", "analyze"]);
    assert!(text(&table).contains("critical path  "), "{}", text(&table));

    check_trace(dir, &["a", "b", "c", "d", "x", "y"]);

    // The next build runs y alone: the trace is of that run only.
    std::fs::remove_file(dir.join("y")).unwrap();
    build(dir);
    check_trace(dir, &["y"]);

    // Without d's entry, d is timed by its rule's median.
    let log_file = dir.join(".ninja_log");
    let kept: String = (std::fs::read_to_string(&log_file).unwrap().lines())
        .filter(|l| !is_entry_of(l, "d"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&log_file, kept).unwrap();
    let report = json(dir, &["-t", "analyze", "--json"]);
    let mut others: Vec<f64> = logged(dir).into_values().collect();
    others.sort_by(f64::total_cmp);
    let median = others[others.len() / 2];
    let last = &report["critical_path"]["edges"][2];
    assert_eq!(last["outputs"][0], "d", "{report:#}");
    assert_eq!(last["estimated"], true, "{report:#}");
    assert!(
        near(last["seconds"].as_f64().unwrap(), median),
        "{report:#}"
    );
    assert_eq!(report["estimated_edges"], 1);
}

/// Whether this `.ninja_log` line is `output`'s (its fourth field).
fn is_entry_of(line: &str, output: &str) -> bool {
    line.split('\t').nth(3) == Some(output)
}

/// The events of phase `ph`.
fn of<'a>(events: &'a [Value], ph: &'a str) -> impl Iterator<Item = &'a Value> {
    events.iter().filter(move |e| e["ph"] == ph)
}

/// `-t trace -o FILE`: valid JSON, every edge of the last run once, lanes
/// that never overlap and are named, flows paired.
fn check_trace(dir: &Path, ran: &[&str]) {
    let out = run(dir, &ggninja(), &["-t", "trace", "-o", "trace.json"]);
    assert!(out.status.success(), "{}", text(&out));
    let trace: Value =
        serde_json::from_slice(&std::fs::read(dir.join("trace.json")).unwrap()).unwrap();
    assert_eq!(trace["displayTimeUnit"], "ms");
    let events = trace["traceEvents"].as_array().unwrap();
    let of = |ph: &'static str| of(events, ph);

    let mut lanes: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
    let mut names = BTreeSet::new();
    for e in of("X") {
        let n = |k: &str| e[k].as_u64().unwrap_or_else(|| panic!("{k} in {e}"));
        assert_eq!(n("pid"), 1);
        lanes
            .entry(n("tid"))
            .or_default()
            .push((n("ts"), n("ts") + n("dur")));
        assert!(names.insert(e["name"].as_str().unwrap()), "{e} twice");
        assert!(
            e["args"]["outputs"].is_array() && e["args"]["rule"] == "sleep",
            "{e}"
        );
        assert!(e["args"]["command_hash"].is_string(), "{e}");
    }
    assert_eq!(names, ran.iter().copied().collect(), "{trace:#}");
    let named: BTreeSet<u64> = (of("M").filter(|e| e["name"] == "thread_name"))
        .map(|e| e["tid"].as_u64().unwrap())
        .collect();
    for (tid, mut spans) in lanes {
        assert!(named.contains(&tid), "lane {tid} has no thread_name");
        spans.sort();
        for w in spans.windows(2) {
            assert!(w[0].1 <= w[1].0, "lane {tid} overlaps: {spans:?}");
        }
    }
    assert!(of("C").count() >= 2, "{trace:#}");
    let ids =
        |ph: &'static str| -> Vec<u64> { of(ph).map(|e| e["id"].as_u64().unwrap()).collect() };
    assert_eq!(ids("s"), ids("f"), "{trace:#}");
    assert_eq!(
        ids("s").len(),
        ran.len().min(3) - 1,
        "a → b → d, or y alone"
    );
}

/// Eight independent sleeps, two feeding a chain q → r: at -j2 the
/// workers, not the chain, bound the build.
const WIDE: &str = "rule sleep\n  command = sleep $t && touch $out\n\
build p1: sleep\n  t = 0.2\nbuild p2: sleep\n  t = 0.3\nbuild p3: sleep\n  t = 0.4\n\
build p4: sleep\n  t = 0.1\nbuild p5: sleep\n  t = 0.2\nbuild p6: sleep\n  t = 0.3\n\
build p7: sleep\n  t = 0.4\nbuild p8: sleep\n  t = 0.1\n\
build q: sleep p1 p2\n  t = 0.2\nbuild r: sleep q p5\n  t = 0.1\n\
build all: phony p3 p4 p6 p7 p8 r\ndefault all\n";

/// The self-check's allowed error: the model leaves out process start-up
/// and the scheduler's own latency, a few ms per edge on a loaded machine.
const SELF_CHECK_PERCENT: f64 = 25.0;

/// `-t simulate`: a build at -j2 replayed at -j2 predicts its own wall
/// time; every replay lies within its bounds; one worker takes the total
/// work and unlimited ones the critical path.
#[test]
fn simulate_predicts_the_build_it_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("build.ninja"), WIDE).unwrap();
    let out = run(dir, &ggninja(), &["-j", "2"]);
    assert!(out.status.success(), "{}", text(&out));

    let sim = json(dir, &["-t", "simulate", "-j", "2", "--json"]);
    let last = &sim["last_build"];
    assert_eq!(last["jobs"], 2, "{sim:#}");
    let error = last["error_percent"].as_f64().unwrap();
    assert!(error.abs() < SELF_CHECK_PERCENT, "{sim:#}");
    eprintln!("self-check at -j2: {last}");

    let sim = json(dir, &["-t", "simulate", "-j1,2,3,1000", "--json"]);
    let total = sim["total_work_seconds"].as_f64().unwrap();
    let critical = sim["critical_path_seconds"].as_f64().unwrap();
    let runs = sim["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4 * 3, "{sim:#}");
    for r in runs {
        let f = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} in {r}"));
        let slack = 1e-6;
        assert!(f("lower_bound") <= f("seconds") + slack, "{r}");
        assert!(f("seconds") <= f("upper_bound") + slack, "{r}");
        match r["jobs"].as_u64() {
            Some(1) => assert!(near(f("seconds"), total), "{r}"),
            Some(1000) => assert!(near(f("seconds"), critical), "{r}"),
            _ => {}
        }
    }

    let table = run(dir, &ggninja(), &["-t", "simulate"]);
    assert!(
        text(&table).contains("last build at -j2 "),
        "{}",
        text(&table)
    );
    let bad = run(dir, &ggninja(), &["-t", "simulate", "-j", "0"]);
    assert!(!bad.status.success(), "{}", text(&bad));
}
