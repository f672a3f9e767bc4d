//! `-t commands`: the command of every build needed for the given targets,
//! each after those of the builds it needs.

use std::collections::HashSet;

use ggninja_executor::Engine;
use ggninja_graph::{BuildId, Graph};

use super::{collect_targets, Args};
use crate::context::App;

const COMMANDS_USAGE: &str = "usage: ninja -t commands [options] [targets]

options:
  -s     only print the final command to build [target], not the whole chain";

pub fn commands(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((opts, rest)) = args.flags("hs", COMMANDS_USAGE) else {
        return 1;
    };
    let Some(nodes) = app.report(collect_targets(e, &rest)) else {
        return 1;
    };
    let single = opts.contains(&'s');
    let g = &e.graph;
    let mut seen = HashSet::new();
    let mut out = String::new();
    for n in nodes {
        if let Some(b) = g.file(n).in_build {
            add_commands(g, b, single, &mut seen, &mut out);
        }
    }
    print!("{out}");
    0
}

/// Build `b`'s command after those of the builds it needs (unless
/// `single`), each build once.
fn add_commands(
    g: &Graph,
    b: BuildId,
    single: bool,
    seen: &mut HashSet<BuildId>,
    out: &mut String,
) {
    if !seen.insert(b) {
        return;
    }
    if !single {
        for &i in &g.build(b).ins {
            if let Some(p) = g.file(i).in_build {
                add_commands(g, p, single, seen, out);
            }
        }
    }
    if !g.is_phony(b) {
        out.push_str(&g.command(b, false).unwrap_or_default());
        out.push('\n');
    }
}
