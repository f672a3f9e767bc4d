//! `-t query PATH...`: each path's build (rule and inputs) and the builds
//! that read or validate it.

use ggninja_executor::Engine;
use ggninja_graph::{BuildId, FileId, Graph};

use super::{collect_target, load_pending_dyndep, Args};
use crate::context::App;

pub fn query(app: &App, e: &mut Engine, args: &Args) -> u8 {
    if args.args.is_empty() {
        app.error("expected a target to query");
        return 1;
    }
    let mut out = String::new();
    for a in args.args {
        let node = match collect_target(e, a) {
            Ok(n) => n,
            Err(err) => {
                // What was found before the bad path is still printed.
                print!("{out}");
                app.error(&err);
                return 1;
            }
        };
        out.push_str(&format!("{}:\n", e.graph.path(node)));
        if let Some(b) = e.graph.file(node).in_build {
            load_pending_dyndep(app, e, b);
            add_inputs(&e.graph, b, &mut out);
        }
        add_readers(&e.graph, node, &mut out);
    }
    print!("{out}");
    0
}

/// Build `b`'s rule, inputs (`| ` implicit, `|| ` order-only), validations.
fn add_inputs(g: &Graph, b: BuildId, out: &mut String) {
    let build = g.build(b);
    out.push_str(&format!("  input: {}\n", g.rule_name(b)));
    let explicit = build.explicit_ins().len();
    for (k, &i) in build.ins.iter().enumerate() {
        let label = if build.is_order_only(k) {
            "|| "
        } else if k >= explicit {
            "| "
        } else {
            ""
        };
        out.push_str(&format!("    {label}{}\n", g.path(i)));
    }
    if !build.validations.is_empty() {
        out.push_str("  validations:\n");
        for &v in &build.validations {
            out.push_str(&format!("    {}\n", g.path(v)));
        }
    }
}

/// The outputs of the builds reading `node`, then of those it validates.
fn add_readers(g: &Graph, node: FileId, out: &mut String) {
    out.push_str("  outputs:\n");
    let mut consumers: Vec<BuildId> = g.consumers(node).collect();
    consumers.sort();
    add_outputs(g, &consumers, out);
    let mut validated: Vec<BuildId> = g.validation_consumers(node).collect();
    validated.sort();
    if !validated.is_empty() {
        out.push_str("  validation for:\n");
        add_outputs(g, &validated, out);
    }
}

fn add_outputs(g: &Graph, builds: &[BuildId], out: &mut String) {
    for &b in builds {
        for &o in &g.build(b).outs {
            out.push_str(&format!("    {}\n", g.path(o)));
        }
    }
}
