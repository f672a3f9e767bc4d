//! A run as trace JSON for chrome://tracing and Perfetto (the Trace Event
//! Format's object form): one complete event (`X`) per edge on a worker
//! lane (a thread, named by `M` events), a counter (`C`) of running edges,
//! and flow arrows (`s`→`f`) along the chain the build finished by.
//! Times are µs since the run started. Each edge's args say where its
//! result came from, its thunk and the bytes the thunk reads, from
//! `.ggninja_edges` (`executor::provenance`); an edge it lacks had no
//! thunk, so it ran here.

use std::collections::HashMap;

use ggninja_executor::provenance::{self, Origin, Record};
use ggninja_graph::{BuildId, Graph};
use serde_json::{json, Value};

use crate::lanes::lanes;
use crate::profile::profile;
use crate::ran::{finishing_chain, Ran};

/// One process holds every lane.
const PID: u32 = 1;

/// Records of `.ggninja_edges`, by output (`provenance::read`).
pub type Records = HashMap<String, Vec<Record>>;

/// The trace of `ran` (one run's edges, as `ran::last_build` gives them).
pub fn trace(g: &Graph, ran: &[Ran], records: &Records) -> Value {
    let spans: Vec<(u64, u64)> = ran.iter().map(|r| (r.start_ms, r.end_ms)).collect();
    let lane = lanes(&spans);
    let mut events = names(lane.iter().max().map_or(0, |&m| m + 1));
    for (r, &l) in ran.iter().zip(&lane) {
        events.push(complete(g, r, tid(l), records));
    }
    for step in profile(spans.iter().copied()) {
        // A category of its own: catapult names a counter `cat.name`, and
        // one without reads "undefined.running edges".
        events.push(json!({
            "name": "running edges", "cat": "ggninja", "ph": "C", "pid": PID, "ts": us(step.at_ms),
            "args": {"running": step.running},
        }));
    }
    events.extend(flows(ran, &lane));
    json!({"traceEvents": events, "displayTimeUnit": "ms"})
}

fn us(ms: u64) -> u64 {
    ms * 1000
}

/// Lane `l`'s thread id (ids from 1: some viewers treat 0 as "none").
fn tid(l: usize) -> usize {
    l + 1
}

/// The metadata naming the process and each lane, lanes kept in order.
fn names(lane_count: usize) -> Vec<Value> {
    let mut events = vec![json!({
        "name": "process_name", "ph": "M", "pid": PID, "tid": 0, "ts": 0,
        "args": {"name": "ggninja build"},
    })];
    for l in 0..lane_count {
        let t = tid(l);
        events.push(json!({
            "name": "thread_name", "ph": "M", "pid": PID, "tid": t, "ts": 0,
            "args": {"name": format!("lane {t}")},
        }));
        events.push(json!({
            "name": "thread_sort_index", "ph": "M", "pid": PID, "tid": t, "ts": 0,
            "args": {"sort_index": t},
        }));
    }
    events
}

/// An edge as a complete event named by its first output.
fn complete(g: &Graph, r: &Ran, tid: usize, records: &Records) -> Value {
    let outputs = outputs(g, r.build);
    let (start, end) = (r.start_ms as i32, r.end_ms as i32);
    let record = provenance::find(records, outputs[0], start, end);
    let mut args = json!({
        "outputs": outputs,
        "rule": g.rule_name(r.build),
        "command_hash": format!("{:x}", r.hash),
        "origin": record.map_or(Origin::Ran, |rec| rec.origin),
    });
    if let Some(rec) = record {
        args["thunk"] = json!(rec.thunk);
        args["footprint_bytes"] = json!(rec.footprint_bytes);
    }
    json!({
        "name": outputs[0], "cat": g.rule_name(r.build), "ph": "X", "pid": PID, "tid": tid,
        "ts": us(r.start_ms), "dur": us(r.end_ms - r.start_ms), "args": args,
    })
}

fn outputs(g: &Graph, b: BuildId) -> Vec<&str> {
    g.build(b).outs.iter().map(|&o| g.path(o)).collect()
}

/// An arrow from each edge of the finishing chain to the next: a flow
/// start inside the first and an end bound (`bp: e`) to the slice
/// enclosing it, both at their slices' middles so either viewer binds
/// them whatever it thinks of a slice's end points.
fn flows(ran: &[Ran], lane: &[usize]) -> Vec<Value> {
    let chain = finishing_chain(ran);
    let middle = |i: usize| (us(ran[i].start_ms) + us(ran[i].end_ms)) / 2;
    let mut events = Vec::new();
    for (id, pair) in (1..).zip(chain.windows(2)) {
        let (from, to) = (pair[0], pair[1]);
        events.push(json!({
            "name": "critical path", "cat": "critical_path", "ph": "s", "id": id,
            "pid": PID, "tid": tid(lane[from]), "ts": middle(from),
        }));
        events.push(json!({
            "name": "critical path", "cat": "critical_path", "ph": "f", "bp": "e", "id": id,
            "pid": PID, "tid": tid(lane[to]), "ts": middle(to),
        }));
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ran::last_build;
    use crate::testing::{entry, graph};
    use ggninja_executor::build_log::LogEntry;

    fn of_phase<'a>(t: &'a Value, ph: &str) -> Vec<&'a Value> {
        let events = t["traceEvents"].as_array().unwrap();
        events.iter().filter(|e| e["ph"] == ph).collect()
    }

    #[test]
    fn a_diamond_as_a_trace() {
        let g = graph("build a: r\nbuild b c: r a\nbuild d: r a\nbuild e: r c d\n");
        let run: Vec<(String, LogEntry)> = [
            ("a", entry(0, 10)),
            ("d", entry(10, 20)),
            ("b", entry(10, 40)),
            ("c", entry(10, 40)),
            ("e", entry(40, 45)),
        ]
        .map(|(o, e)| (o.to_string(), e))
        .into();
        // b came from the memo; a record of another run of d does not match.
        let record = |output: &str, start_ms, end_ms, origin| Record {
            output: output.into(),
            start_ms,
            end_ms,
            origin,
            thunk: format!("T{output}"),
            footprint_bytes: 1234,
        };
        let records: Records = [
            ("b".into(), vec![record("b", 10, 40, Origin::Memo)]),
            ("d".into(), vec![record("d", 10, 21, Origin::Remote)]),
        ]
        .into();
        let t = trace(&g, &last_build(&g, &run), &records);
        assert_eq!(t["displayTimeUnit"], "ms");
        let slices = of_phase(&t, "X");
        let named: Vec<(&str, u64, u64, u64)> = (slices.iter())
            .map(|e| {
                let n = |k: &str| e[k].as_u64().unwrap();
                (e["name"].as_str().unwrap(), n("ts"), n("dur"), n("tid"))
            })
            .collect();
        assert_eq!(
            named,
            [
                ("a", 0, 10_000, 1),
                ("d", 10_000, 10_000, 1),
                ("b", 10_000, 30_000, 2),
                ("e", 40_000, 5_000, 1)
            ]
        );
        assert_eq!(slices[2]["args"]["outputs"], json!(["b", "c"]));
        assert_eq!(slices[2]["args"]["rule"], "r");
        assert_eq!(slices[2]["args"]["command_hash"], "abc");
        assert_eq!(slices[2]["args"]["origin"], "memo");
        assert_eq!(slices[2]["args"]["thunk"], "Tb");
        assert_eq!(slices[2]["args"]["footprint_bytes"], 1234);
        assert_eq!(slices[1]["args"]["origin"], "ran");
        assert!(slices[1]["args"].get("thunk").is_none());
        assert_eq!(of_phase(&t, "M").len(), 1 + 2 * 2, "process + 2 lanes");
        let running: Vec<u64> = (of_phase(&t, "C").iter())
            .map(|e| e["args"]["running"].as_u64().unwrap())
            .collect();
        assert_eq!(running, [1, 2, 1, 0]);
        assert!(of_phase(&t, "C").iter().all(|e| e["cat"] == "ggninja"));
        // a → b → e, as two arrows from middle to middle.
        let starts = of_phase(&t, "s");
        let ends = of_phase(&t, "f");
        let at = |e: &&Value| (e["id"].as_u64().unwrap(), e["ts"].as_u64().unwrap());
        assert_eq!(
            starts.iter().map(at).collect::<Vec<_>>(),
            [(1, 5_000), (2, 25_000)]
        );
        assert_eq!(
            ends.iter().map(at).collect::<Vec<_>>(),
            [(1, 25_000), (2, 42_500)]
        );
    }
}
