//! `-t graph [targets]`: the build graph as a graphviz dot file.

use std::collections::HashSet;

use ggninja_executor::Engine;
use ggninja_graph::{BuildId, FileId, Graph};

use super::{collect_targets, load_pending_dyndep, Args};
use crate::context::App;

pub fn graph(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some(nodes) = app.report(collect_targets(e, args.args)) else {
        return 1;
    };
    let mut out = String::from(
        "digraph ninja {\nrankdir=\"LR\"\nnode [fontsize=10, shape=box, height=0.25]\nedge [fontsize=10]\n",
    );
    let mut seen_nodes = HashSet::new();
    let mut seen_builds = HashSet::new();
    // Depth first, in argument and input order, as ninja walks.
    let mut stack: Vec<FileId> = nodes.into_iter().rev().collect();
    while let Some(n) = stack.pop() {
        if !seen_nodes.insert(n) {
            continue;
        }
        out.push_str(&format!(
            "\"{}\" [label=\"{}\"]\n",
            id(n.index()),
            e.graph.path(n).replace('\\', "/")
        ));
        let Some(b) = e.graph.file(n).in_build else {
            continue;
        };
        if !seen_builds.insert(b) {
            continue;
        }
        load_pending_dyndep(app, e, b);
        add_build(&e.graph, b, &mut out);
        stack.extend(e.graph.build(b).ins.iter().rev());
    }
    out.push_str("}\n");
    print!("{out}");
    0
}

/// A dot id: ninja prints pointers; any unique hex number will do (files
/// and builds share one index space).
fn id(index: usize) -> String {
    format!("0x{:x}", index + 1)
}

/// Build `b`: one labelled arrow if it has one input and one output, else
/// an ellipse with arrows in (dotted for order-only inputs) and out.
fn add_build(g: &Graph, b: BuildId, out: &mut String) {
    let build = g.build(b);
    if build.ins.len() == 1 && build.outs.len() == 1 {
        out.push_str(&format!(
            "\"{}\" -> \"{}\" [label=\" {}\"]\n",
            id(build.ins[0].index()),
            id(build.outs[0].index()),
            g.rule_name(b)
        ));
        return;
    }
    out.push_str(&format!(
        "\"{}\" [label=\"{}\", shape=ellipse]\n",
        id(b.index()),
        g.rule_name(b)
    ));
    for &o in &build.outs {
        out.push_str(&format!("\"{}\" -> \"{}\"\n", id(b.index()), id(o.index())));
    }
    for (k, &i) in build.ins.iter().enumerate() {
        let style = if build.is_order_only(k) {
            " style=dotted"
        } else {
            ""
        };
        out.push_str(&format!(
            "\"{}\" -> \"{}\" [arrowhead=none{style}]\n",
            id(i.index()),
            id(b.index())
        ));
    }
}
