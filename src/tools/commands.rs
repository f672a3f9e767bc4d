//! `-t commands` and `-t inputs`: the commands, or the inputs, of every
//! build needed for the given targets.

use std::collections::{BTreeSet, HashSet};

use ggninja_executor::Engine;
use ggninja_graph::{BuildId, FileId, Graph};

use super::{collect_targets, Args};
use crate::context::App;

const COMMANDS_USAGE: &str = "usage: ninja -t commands [options] [targets]

options:
  -s     only print the final command to build [target], not the whole chain";

const INPUTS_USAGE: &str = "Usage '-t inputs [options] [targets]

List all inputs used for a set of targets. Note that this includes
explicit, implicit and order-only inputs, but not validation ones.

Options:
  -h, --help   Print this message.";

/// The prologue both tools share: their flags, then the targets named by
/// the other arguments. None (after the message) ends the tool with 1.
fn flags_and_targets(
    app: &App,
    e: &mut Engine,
    args: &Args,
    allowed: &str,
    usage: &str,
) -> Option<(BTreeSet<char>, Vec<FileId>)> {
    let (opts, rest) = args.flags(allowed, usage)?;
    let nodes = app.report(collect_targets(e, &rest))?;
    Some((opts, nodes))
}

pub fn commands(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((opts, nodes)) = flags_and_targets(app, e, args, "hs", COMMANDS_USAGE) else {
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

pub fn inputs(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((_, nodes)) = flags_and_targets(app, e, args, "h", INPUTS_USAGE) else {
        return 1;
    };
    let g = &e.graph;
    let mut seen = HashSet::new();
    // Sorted and shell-escaped, as ninja prints them.
    let mut result = BTreeSet::new();
    let mut stack: Vec<BuildId> = nodes.iter().filter_map(|&n| g.file(n).in_build).collect();
    while let Some(b) = stack.pop() {
        if !seen.insert(b) {
            continue;
        }
        let ins = &g.build(b).ins;
        stack.extend(ins.iter().filter_map(|&i| g.file(i).in_build));
        if !g.is_phony(b) {
            for &i in ins {
                let mut s = String::new();
                ggninja_graph::eval::shell_escape(g.path(i), &mut s);
                result.insert(s);
            }
        }
    }
    for r in result {
        println!("{r}");
    }
    0
}
