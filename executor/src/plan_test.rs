//! The plan on manifests in memory: what is wanted, in which order edges
//! become ready, pools, phony edges and failures.

use crate::engine::Engine;
use crate::plan::Plan;
use crate::testing::{engine, node, out, FakeDisk};

const CHAIN: &str = "rule cc\n  command = cc $in -o $out\n\
build b: cc a\nbuild c: cc b\nbuild d: cc c\n";

/// A plan for `target`, scanned first as the builder does.
fn plan_for(e: &mut Engine, target: &str) -> Plan {
    let mut plan = Plan::new(&e.graph);
    let mut validations = Vec::new();
    let t = node(e, target);
    e.recompute_dirty(t, &mut validations).unwrap();
    plan.add_target(e, t, validations).unwrap();
    plan.prepare(e);
    plan
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
