//! `-t graph [--critical] [targets]`: the build graph as a graphviz dot
//! file; with `--critical`, one critical path of building the targets
//! (timed by `.ninja_log`, as `-t analyze` finds it) drawn in red.

use std::collections::HashSet;

use ggninja_executor::Engine;
use ggninja_graph::{BuildId, FileId, Graph};

use super::{collect_targets, load_pending_dyndep, Args};
use crate::context::App;

/// How the critical path's builds and files are drawn.
const CRITICAL: &str = ", color=\"red\", penwidth=2";

pub fn graph(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let critical = args.args.iter().any(|a| a == "--critical");
    let rest: Vec<String> = (args.args.iter())
        .filter(|a| *a != "--critical")
        .cloned()
        .collect();
    let Some(nodes) = app.report(collect_targets(e, &rest)) else {
        return 1;
    };
    let on_path = match critical {
        false => HashSet::new(),
        true => match super::analysis::critical_path(app, e, &nodes) {
            Some(path) => path.into_iter().collect(),
            None => return 1,
        },
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
        let in_build = e.graph.file(n).in_build;
        out.push_str(&format!(
            "\"{}\" [label=\"{}\"{}]\n",
            id(n.index()),
            e.graph.path(n).replace('\\', "/"),
            style(in_build.is_some_and(|b| on_path.contains(&b)))
        ));
        let Some(b) = in_build else {
            continue;
        };
        if !seen_builds.insert(b) {
            continue;
        }
        load_pending_dyndep(app, e, b);
        add_build(&e.graph, b, &on_path, &mut out);
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

fn style(critical: bool) -> &'static str {
    if critical {
        CRITICAL
    } else {
        ""
    }
}

/// Build `b`: one labelled arrow if it has one input and one output, else
/// an ellipse with arrows in (dotted for order-only inputs) and out. On
/// the critical path, it and the arrows from the critical build before it
/// are red.
fn add_build(g: &Graph, b: BuildId, on_path: &HashSet<BuildId>, out: &mut String) {
    let build = g.build(b);
    let critical = on_path.contains(&b);
    if build.ins.len() == 1 && build.outs.len() == 1 {
        out.push_str(&format!(
            "\"{}\" -> \"{}\" [label=\" {}\"{}]\n",
            id(build.ins[0].index()),
            id(build.outs[0].index()),
            g.rule_name(b),
            style(critical)
        ));
        return;
    }
    out.push_str(&format!(
        "\"{}\" [label=\"{}\", shape=ellipse{}]\n",
        id(b.index()),
        g.rule_name(b),
        style(critical)
    ));
    for &o in &build.outs {
        out.push_str(&format!(
            "\"{}\" -> \"{}\"{}\n",
            id(b.index()),
            id(o.index()),
            if critical {
                " [color=\"red\", penwidth=2]"
            } else {
                ""
            }
        ));
    }
    for (k, &i) in build.ins.iter().enumerate() {
        let style = if build.is_order_only(k) {
            " style=dotted"
        } else {
            ""
        };
        let from_path = critical && g.file(i).in_build.is_some_and(|p| on_path.contains(&p));
        out.push_str(&format!(
            "\"{}\" -> \"{}\" [arrowhead=none{style}{}]\n",
            id(i.index()),
            id(b.index()),
            if from_path {
                " color=\"red\" penwidth=2"
            } else {
                ""
            }
        ));
    }
}
