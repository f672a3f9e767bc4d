//! The plan on manifests in memory: what is wanted, in which order edges
//! become ready, pools, phony edges and failures.

use crate::build_log::BuildLog;
use crate::engine::Engine;
use crate::plan::Plan;
use crate::priority::Priority;
use crate::testing::{engine, node, out, FakeDisk};

const CHAIN: &str = "rule cc\n  command = cc $in -o $out\n\
build b: cc a\nbuild c: cc b\nbuild d: cc c\n";

/// A plan for `target`, scanned first as the builder does.
fn plan_for(e: &mut Engine, target: &str) -> Plan {
    plan_ranked(e, target, Priority::default())
}

fn plan_ranked(e: &mut Engine, target: &str, rule: Priority) -> Plan {
    let mut plan = Plan::new(&e.graph);
    let mut validations = Vec::new();
    let t = node(e, target);
    e.recompute_dirty(t, &mut validations).unwrap();
    plan.add_target(e, t, validations).unwrap();
    plan.prepare_queue(e, rule);
    plan
}

/// `x` comes first in node order and ends nothing; `b` starts a chain of
/// three edges.
const SHORT_AND_LONG: &str = "rule cc\n  command = cc\n\
build x: cc a\nbuild b: cc a\nbuild c: cc b\nbuild d: cc c\nbuild all: phony x d\n";

fn order_under(rule: Priority, log: BuildLog) -> Vec<String> {
    let disk = FakeDisk::default();
    disk.touch(&[("a", 1)]);
    let mut e = engine(SHORT_AND_LONG, &disk);
    e.build_log = log;
    let mut plan = plan_ranked(&mut e, "all", rule);
    run_all(&mut e, &mut plan)
}

/// A `.ninja_log` in which `x` took 900 ms and the chain 10 ms an edge.
fn log_of_a_slow_x() -> BuildLog {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".ninja_log");
    let mut text = String::from("# ninja log v5\n");
    for (out, ms) in [("x", 900), ("b", 10), ("c", 10), ("d", 10)] {
        text.push_str(&format!("0\t{ms}\t0\t{out}\t0\n"));
    }
    std::fs::write(&path, text).unwrap();
    BuildLog::load(&path).unwrap().0
}

#[test]
fn node_order_starts_the_first_ready_edge_as_ninja_1_11() {
    let order = order_under(Priority::NodeOrder, BuildLog::default());
    assert_eq!(order, ["x", "b", "c", "d"]);
}

#[test]
fn the_longest_chain_of_edges_starts_first_as_ninja_1_12() {
    let order = order_under(Priority::Chain, BuildLog::default());
    // d and x weigh 1 each once c is done: node order breaks the tie.
    assert_eq!(order, ["b", "c", "x", "d"]);
    // The log does not change ninja's rule.
    assert_eq!(order_under(Priority::Chain, log_of_a_slow_x()), order);
}

#[test]
fn the_longest_chain_of_logged_time_starts_first() {
    let order = order_under(Priority::Logged, log_of_a_slow_x());
    assert_eq!(order, ["x", "b", "c", "d"]);
    // Without a log every edge costs the same: the longest chain first.
    let unlogged = order_under(Priority::Logged, BuildLog::default());
    assert_eq!(unlogged, ["b", "c", "x", "d"]);
}

#[test]
fn a_pool_releases_its_heaviest_edge_first() {
    let disk = FakeDisk::default();
    disk.touch(&[("a", 1)]);
    let manifest = "pool one\n  depth = 1\nrule cc\n  command = cc\n  pool = one\n\
rule free\n  command = cc\nbuild x: cc a\nbuild y: cc a\nbuild z: free y\nbuild all: phony x z\n";
    let mut e = engine(manifest, &disk);
    let mut plan = plan_ranked(&mut e, "all", Priority::Chain);
    let first = plan.pop_ready().unwrap();
    assert_eq!(out(&e, first), "y", "y has z after it");
    assert_eq!(plan.pop_ready(), None, "the pool is full");
    plan.edge_finished(&mut e, first, true).unwrap();
    // x and z weigh the same now: node order breaks the tie.
    assert_eq!(run_all(&mut e, &mut plan), ["x", "z"]);
}

/// Runs the plan to the end, every edge succeeding; the outputs of the
/// edges with a command, in the order they were started.
fn run_all(e: &mut Engine, plan: &mut Plan) -> Vec<String> {
    let mut order = Vec::new();
    while plan.more_to_do() {
        let edge = plan.pop_ready().expect("work left means an edge is ready");
        if !e.graph.is_phony(edge) {
            order.push(out(e, edge).to_string());
        }
        plan.edge_finished(e, edge, true).unwrap();
    }
    order
}

#[test]
fn a_chain_runs_in_dependency_order_one_edge_at_a_time() {
    let disk = FakeDisk::default();
    disk.touch(&[("a", 1)]);
    let mut e = engine(CHAIN, &disk);
    let mut plan = plan_for(&mut e, "d");
    assert_eq!(plan.command_edges(), 3);
    let first = plan.pop_ready().unwrap();
    assert_eq!(out(&e, first), "b");
    assert_eq!(plan.pop_ready(), None, "c waits for b");
    plan.edge_finished(&mut e, first, true).unwrap();
    assert_eq!(run_all(&mut e, &mut plan), ["c", "d"]);
}

#[test]
fn an_up_to_date_chain_plans_nothing() {
    let disk = FakeDisk::default();
    disk.touch(&[("a", 1), ("b", 2), ("c", 3), ("d", 4)]);
    let mut e = engine(
        "rule cc\n  command = cc\n  generator = 1\nbuild b: cc a\nbuild c: cc b\nbuild d: cc c\n",
        &disk,
    );
    let plan = plan_for(&mut e, "d");
    assert!(!plan.more_to_do());
}

#[test]
fn only_the_edges_after_a_changed_input_run() {
    let disk = FakeDisk::default();
    disk.touch(&[("a", 1), ("b", 2), ("c", 1), ("d", 4)]);
    let mut e = engine(
        "rule cc\n  command = cc\n  generator = 1\nbuild b: cc a\nbuild c: cc b\nbuild d: cc c\n",
        &disk,
    );
    let mut plan = plan_for(&mut e, "d");
    assert_eq!(plan.command_edges(), 2);
    assert_eq!(run_all(&mut e, &mut plan), ["c", "d"]);
}

#[test]
fn a_pool_of_depth_one_holds_back_its_second_edge() {
    let disk = FakeDisk::default();
    disk.touch(&[("a", 1)]);
    let manifest = "pool one\n  depth = 1\nrule cc\n  command = cc\n  pool = one\n\
build x: cc a\nbuild y: cc a\nbuild all: phony x y\n";
    let mut e = engine(manifest, &disk);
    let mut plan = plan_for(&mut e, "all");
    let first = plan.pop_ready().unwrap();
    assert_eq!(plan.pop_ready(), None, "the pool is full");
    plan.edge_finished(&mut e, first, true).unwrap();
    let second = plan.pop_ready().expect("the pool has room again");
    assert_ne!(first, second);
}

#[test]
fn phony_edges_are_waited_for_but_not_counted() {
    let disk = FakeDisk::default();
    disk.touch(&[("a", 1)]);
    let mut e = engine(&format!("{CHAIN}build all: phony d b\n"), &disk);
    let mut plan = plan_for(&mut e, "all");
    assert_eq!(plan.command_edges(), 3);
    assert_eq!(run_all(&mut e, &mut plan), ["b", "c", "d"]);
}

#[test]
fn a_failed_edge_blocks_its_dependents_only() {
    let disk = FakeDisk::default();
    disk.touch(&[("a", 1)]);
    let manifest = "rule cc\n  command = cc\nbuild b: cc a\nbuild c: cc b\nbuild x: cc a\n\
build all: phony c x\n";
    let mut e = engine(manifest, &disk);
    let mut plan = plan_for(&mut e, "all");
    let b = plan.pop_ready().unwrap();
    assert_eq!(out(&e, b), "b");
    plan.edge_finished(&mut e, b, false).unwrap();
    let x = plan.pop_ready().unwrap();
    assert_eq!(out(&e, x), "x");
    plan.edge_finished(&mut e, x, true).unwrap();
    assert_eq!(plan.pop_ready(), None, "c never becomes ready");
    assert!(plan.more_to_do(), "c is still wanted");
}

#[test]
fn a_missing_source_names_what_needs_it() {
    let disk = FakeDisk::default();
    let mut e = engine(CHAIN, &disk);
    let mut plan = Plan::new(&e.graph);
    let d = node(&e, "d");
    let mut validations = Vec::new();
    e.recompute_dirty(d, &mut validations).unwrap();
    let err = plan.add_target(&mut e, d, validations).unwrap_err();
    assert_eq!(
        err,
        "'a', needed by 'b', missing and no known rule to make it"
    );
}

/// An edge is ready only when every input is, inputs a dyndep file adds
/// mid-build among them: here `late`, added (as an implicit input, before
/// the order-only ones) after `oo1` was seen ready and while `oo2` was
/// not. What was seen ready before the dyndep file is looked at again.
#[test]
fn an_input_a_dyndep_file_adds_is_waited_for() {
    let disk = FakeDisk::default();
    disk.touch(&[("x", 1)]);
    let manifest = "rule cc\n  command = cc\n\
build dd: cc\nbuild late: cc\nbuild oo1: cc\nbuild oo2: cc\n\
build out: cc x || oo1 oo2 dd\n  dyndep = dd\nbuild all: phony out late\n";
    let mut e = engine(manifest, &disk);
    let mut plan = plan_for(&mut e, "all");
    let mut ready = std::collections::HashMap::new();
    while let Some(b) = plan.pop_ready() {
        ready.insert(out(&e, b).to_string(), b);
    }
    let mut finish = |e: &mut Engine, name: &str| {
        plan.edge_finished(e, ready[name], true).unwrap();
        std::iter::from_fn(|| plan.pop_ready())
            .map(|b| out(e, b).to_string())
            .collect::<Vec<_>>()
    };
    assert!(finish(&mut e, "oo1").is_empty());
    disk.write(
        "dd",
        2,
        "ninja_dyndep_version = 1\nbuild out: dyndep | late\n",
    );
    assert!(finish(&mut e, "dd").is_empty());
    assert!(finish(&mut e, "oo2").is_empty(), "out waits for late");
    assert_eq!(finish(&mut e, "late"), ["out"]);
}
