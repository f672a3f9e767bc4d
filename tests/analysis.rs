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

/// `--local-cores N`: the workers share N cores. On one core any -j takes
/// the whole work (to the ms per edge the stretched times round to); on
/// as many cores as workers nothing changes.
#[test]
fn simulate_on_shared_cores() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("build.ninja"), WIDE).unwrap();
    assert!(run(dir, &ggninja(), &["-j", "4"]).status.success());
    let seconds = |extra: &[&str]| -> f64 {
        let sim = json(
            dir,
            &[&["-t", "simulate", "-j", "4", "--json"][..], extra].concat(),
        );
        let runs = sim["runs"].as_array().unwrap();
        let row = runs.iter().find(|r| r["rule"] == "chain").unwrap();
        let f = |k: &str| row[k].as_f64().unwrap();
        assert!(f("lower_bound") <= f("seconds") + 0.011, "{row}");
        assert!(f("seconds") <= f("upper_bound") + 0.011, "{row}");
        f("seconds")
    };
    let total = json(dir, &["-t", "simulate", "-j", "1", "--json"])["total_work_seconds"]
        .as_f64()
        .unwrap();
    let alone = seconds(&[]);
    assert!(
        (seconds(&["--local-cores", "1"]) - total).abs() <= 0.011,
        "{total}"
    );
    assert!((seconds(&["--local-cores=4"]) - alone).abs() < 1e-9);
    assert!(alone < total);
    let bad = run(dir, &ggninja(), &["-t", "simulate", "--local-cores", "x"]);
    assert!(!bad.status.success(), "{}", text(&bad));
}

/// The bound on a prediction from another run's log.
const PREDICTION_PERCENT: f64 = 10.0;

/// One run at -j1 (so the log holds each edge's own time) predicts the
/// builds at -j2 and -j4 (under `chain`, the scheduler's default rule):
/// each, then built from clean at that -j, takes within 10% of its
/// prediction (its wall time: the span of its log entries, as the
/// self-check measures it). Sleeps, so the two cores of a small machine
/// do not slow the wider builds down as CPU-bound commands would.
#[test]
fn simulate_predicts_other_jobs_from_a_run_at_j1() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("build.ninja"), WIDE).unwrap();
    let out = run(dir, &ggninja(), &["-j", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    let sim = json(dir, &["-t", "simulate", "-j", "1,2,4", "--json"]);
    let predicted = |jobs: u64| -> f64 {
        let runs = sim["runs"].as_array().unwrap();
        let row = runs
            .iter()
            .find(|r| r["jobs"] == jobs && r["rule"] == "chain");
        row.unwrap_or_else(|| panic!("-j{jobs} in {sim:#}"))["seconds"]
            .as_f64()
            .unwrap()
    };
    for jobs in [1u64, 2, 4] {
        assert!(run(dir, &ggninja(), &["-t", "clean"]).status.success());
        let j = jobs.to_string();
        let out = run(dir, &ggninja(), &["-j", &j]);
        assert!(out.status.success(), "{}", text(&out));
        let last = json(dir, &["-t", "simulate", "-j", &j, "--json"])["last_build"].clone();
        let actual = last["actual_seconds"].as_f64().unwrap();
        let error = 100.0 * (predicted(jobs) - actual) / actual;
        eprintln!(
            "-j{jobs}: predicted {:.3} s from the -j1 run, took {actual:.3} s ({error:+.1}%)",
            predicted(jobs)
        );
        assert!(
            error.abs() < PREDICTION_PERCENT,
            "-j{jobs}: {error:.1}% {last}"
        );
    }
}

/// A small C project: two objects read `h.h`, `main.o` does not, `app`
/// links all three, and a copy of it is made (what reads a miss's output
/// misses too, whatever an older output on disk holds).
const C_PROJECT: &str = "rule cc\n  command = cc -c $in -o $out\n\
rule link\n  command = cc $in -o $out\nrule copy\n  command = cp $in $out\n\
build a.o: cc a.c\nbuild b.o: cc b.c\nbuild main.o: cc main.c\n\
build app: link a.o b.o main.o\nbuild app.copy: copy app\ndefault app.copy\n";

fn write_c_project(dir: &Path) {
    std::fs::write(dir.join("build.ninja"), C_PROJECT).unwrap();
    std::fs::write(dir.join("h.h"), "#define H 1\n").unwrap();
    std::fs::write(
        dir.join("a.c"),
        "#include \"h.h\"\nint a(void) { return H; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.c"),
        "#include \"h.h\"\nint b(void) { return H + 1; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("main.c"),
        "int a(void); int b(void);\nint main(void) { return a() + b() - 3; }\n",
    )
    .unwrap();
}

/// `--cache -d explain` built for real: the outputs it restored from the
/// store and those it ran, by its own report.
fn cached_build(dir: &Path, store: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let store = store.to_str().unwrap();
    let out = run(
        dir,
        &ggninja(),
        &["--cache", "--store", store, "-d", "explain"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let log = text(&out);
    let outputs = |marker: &str| -> BTreeSet<String> {
        (log.lines())
            .filter(|l| l.contains(marker))
            .map(|l| l.rsplit(' ').next().unwrap().to_string())
            .collect()
    };
    let hits = outputs("reusing the outputs of thunk ");
    let misses: BTreeSet<String> = (log.lines())
        .filter(|l| l.contains(" is not memoized"))
        .map(|l| {
            l.split(" for ")
                .nth(1)
                .unwrap()
                .trim_end_matches(" is not memoized")
                .to_string()
        })
        .collect();
    (hits, misses)
}

/// `--cache -t simulate --remote lambda --json` with `args`.
fn predicted(dir: &Path, store: &Path, args: &[&str]) -> Value {
    let store = store.to_str().unwrap();
    let mut all = vec![
        "--cache", "--store", store, "-t", "simulate", "--json", "--remote", "lambda",
    ];
    all.extend(args);
    json(dir, &all)
}

fn hit_edges(sim: &Value) -> BTreeSet<String> {
    let hits = sim["cache"]["hit_edges"].as_array().unwrap();
    hits.iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect()
}

fn size(dir: &Path, file: &str) -> u64 {
    std::fs::metadata(dir.join(file)).unwrap().len()
}

/// Every remote replay within its bounds, one worker taking the work.
fn check_remote_runs(sim: &Value) {
    for r in sim["remote"]["runs"].as_array().unwrap() {
        let f = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} in {r}"));
        assert!(f("lower_bound") <= f("seconds") + 1e-6, "{r}");
        assert!(f("seconds") <= f("upper_bound") + 1e-6, "{r}");
        if r["jobs"] == 1 {
            assert!(near(f("seconds"), f("work_seconds")), "{r}");
        }
    }
}

/// The cache prediction against the build that follows it: a C project
/// built with `--cache`, then a source edited (its object and the link
/// must run again), then a header (both objects reading it and the link).
/// Before and after `-t clean`, `-t simulate` predicts exactly the edges
/// the next `-t clean` + `--cache` build restores, by that build's own
/// `-d explain` report; the remote model uploads exactly the edited
/// sources the misses read.
#[test]
fn simulate_predicts_the_cache_hits_of_the_next_build() {
    if common::require_tool("cc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (dir, store) = (tmp.path().join("src"), tmp.path().join("store"));
    std::fs::create_dir(&dir).unwrap();
    let dir = dir.as_path();
    write_c_project(dir);
    let (hits, misses) = cached_build(dir, &store);
    assert!(hits.is_empty(), "an empty store: {hits:?}");
    assert_eq!(misses.len(), 5, "{misses:?}");

    let all = predicted(dir, &store, &["-j", "1,2"]);
    assert_eq!(all["cache"]["hits"], 5, "{all:#}");
    assert_eq!(all["cache"]["misses"]["total_work_seconds"], 0.0, "{all:#}");
    assert_eq!(all["remote"]["remote_edges"], 0, "{all:#}");

    let edits: [(&str, &str, &[&str]); 2] = [
        (
            "a.c",
            "#include \"h.h\"\nint a(void) { return H + 5; }\n",
            &["b.o", "main.o"],
        ),
        ("h.h", "#define H 7\n", &["main.o"]),
    ];
    for (file, content, want) in edits {
        std::fs::write(dir.join(file), content).unwrap();
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        let before = predicted(dir, &store, &["-j", "1,2"]);
        assert_eq!(
            hit_edges(&before),
            want,
            "before -t clean, {file}: {before:#}"
        );
        // The misses are remote; what they read from the tree that is
        // not another thunk's output is uploaded: the edited sources.
        let sources: &[&str] = if file == "a.c" {
            &["a.c", "h.h"]
        } else {
            &["a.c", "b.c", "h.h"]
        };
        let remote = &before["remote"];
        assert_eq!(
            remote["remote_edges"].as_u64(),
            Some(5 - want.len() as u64),
            "{remote:#}"
        );
        assert_eq!(
            remote["objects"].as_u64(),
            Some(sources.len() as u64),
            "{remote:#}"
        );
        let bytes: u64 = sources.iter().map(|s| size(dir, s)).sum();
        assert_eq!(remote["upload_bytes"].as_u64(), Some(bytes), "{remote:#}");
        let missed = ["a.o", "b.o", "main.o", "app", "app.copy"]
            .into_iter()
            .filter(|o| !want.contains(*o));
        let down: u64 = missed.map(|o| size(dir, o)).sum();
        assert_eq!(remote["download_bytes"].as_u64(), Some(down), "{remote:#}");
        check_remote_runs(&before);

        let clean = run(dir, &ggninja(), &["-t", "clean"]);
        assert!(clean.status.success(), "{}", text(&clean));
        let after = predicted(dir, &store, &[]);
        assert_eq!(hit_edges(&after), want, "after -t clean, {file}: {after:#}");
        check_remote_runs(&after);
        let (hits, misses) = cached_build(dir, &store);
        assert_eq!(hits, want, "the build's own hits after editing {file}");
        assert_eq!(hits.len() + misses.len(), 5, "{misses:?}");
        eprintln!("{file} edited: predicted and restored {hits:?}, ran {misses:?}");
        check_origins(dir, &hits, &misses);
    }
}

/// `-t trace` says where each edge of the last build got its result, as
/// that build reported it, with its thunk and the bytes the thunk reads.
fn check_origins(dir: &Path, hits: &BTreeSet<String>, misses: &BTreeSet<String>) {
    let out = run(dir, &ggninja(), &["-t", "trace"]);
    assert!(out.status.success(), "{}", text(&out));
    let trace: Value = serde_json::from_slice(&out.stdout).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let mut seen = BTreeSet::new();
    for e in of(events, "X") {
        let (name, args) = (e["name"].as_str().unwrap(), &e["args"]);
        let want = if hits.contains(name) { "memo" } else { "ran" };
        assert!(hits.contains(name) || misses.contains(name), "{e}");
        assert_eq!(args["origin"], want, "{e}");
        assert!(args["thunk"].as_str().unwrap().starts_with('T'), "{e}");
        let bytes = args["footprint_bytes"].as_u64().unwrap();
        if name == "a.o" {
            assert!(bytes >= size(dir, "a.c") + size(dir, "h.h"), "{e}");
        }
        seen.insert(name.to_string());
    }
    let all: BTreeSet<String> = hits.union(misses).cloned().collect();
    assert_eq!(seen, all);
}

/// `--cores N --cpu MS`: on one shared core, the three compiles that start
/// together queue for 1 s of CPU each, so the replay at -j3 is at least
/// the two waits longer than with each instance on its own CPU.
#[test]
fn simulate_queues_invocations_on_shared_cores() {
    if common::require_tool("cc").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_c_project(dir);
    let out = run(dir, &ggninja(), &[]);
    assert!(out.status.success(), "{}", text(&out));
    let base = ["-t", "simulate", "--json", "-j", "3", "--remote", "lambda"];
    let replay = |extra: &[&str]| {
        let sim = json(dir, &[&base[..], extra].concat());
        check_remote_runs(&sim);
        sim
    };
    let own = replay(&[]);
    let shared = replay(&["--cores", "1", "--cpu", "1000"]);
    assert_eq!(own["remote"]["remote_edges"], 5, "{own:#}");
    let model = &shared["remote"]["model"];
    assert_eq!(
        (model["cores"].as_u64(), model["cpu_ms"].as_u64()),
        (Some(1), Some(1000))
    );
    let seconds = |sim: &Value| sim["remote"]["runs"][0]["seconds"].as_f64().unwrap();
    let (own, shared) = (seconds(&own), seconds(&shared));
    assert!(shared >= own + 1.5, "{own} s alone, {shared} s on one core");
    let bad = run(dir, &ggninja(), &["-t", "simulate", "--cores", "2"]);
    assert!(!bad.status.success(), "--cores needs --remote lambda");
}
