//! `-t inputs` and `-t multi-inputs` as ninja 1.13 prints them: every input
//! a target needs (explicit, implicit and order-only, never validations),
//! found depth first so each input follows what it needs; outputs of phony
//! builds are walked through but not listed. `inputs` sorts and shell-escapes
//! by default; `multi-inputs` prints one line per target and input, in
//! dependency order, unescaped. Ignores dyndep files (not loaded by tools).

use std::collections::HashSet;
use std::io::Write;

use ggninja_executor::Engine;
use ggninja_graph::eval::shell_escape;
use ggninja_graph::{FileId, Graph};

use super::getopt::{Long, Parsed};
use super::{collect_targets, Args};
use crate::context::App;

const INPUTS_USAGE: &str = "Usage '-t inputs [options] [targets]

List all inputs used for a set of targets, sorted in dependency order.
Note that by default, results are shell escaped, and sorted alphabetically,
and never include validation target paths.

Options:
  -h, --help          Print this message.
  -0, --print0            Use \\0, instead of \\n as a line terminator.
  -E, --no-shell-escape   Do not shell escape the result.
  -d, --dependency-order  Sort results by dependency order.";

const INPUTS_LONGS: &[Long] = &[
    long("help", 'h', false),
    long("no-shell-escape", 'E', false),
    long("print0", '0', false),
    long("dependency-order", 'd', false),
];

const MULTI_USAGE: &str = "Usage '-t multi-inputs [options] [targets]

Print one or more sets of inputs required to build targets, sorted in dependency order.
The tool works like inputs tool but with addition of the target for each line.
The output will be a series of lines with the following elements:
<target> <delimiter> <input> <terminator>
Note that a given input may appear for several targets if it is used by more than one targets.
Options:
  -h, --help                   Print this message.
  -d  --delimiter=DELIM        Use DELIM instead of TAB for field delimiter.
  -0, --print0                 Use \\0, instead of \\n as a line terminator.";

const MULTI_LONGS: &[Long] = &[
    long("help", 'h', false),
    long("delimiter", 'd', true),
    long("print0", '0', false),
];

const fn long(name: &'static str, short: char, takes_arg: bool) -> Long {
    Long {
        name,
        short,
        takes_arg,
    }
}

/// The inputs of the targets visited, in the order found.
struct Collector<'g> {
    g: &'g Graph,
    visited: HashSet<FileId>,
    inputs: Vec<FileId>,
}

impl<'g> Collector<'g> {
    fn new(g: &'g Graph) -> Self {
        Collector {
            g,
            visited: HashSet::new(),
            inputs: Vec::new(),
        }
    }

    /// Adds the inputs of the build making `node`, each after its own.
    fn visit(&mut self, node: FileId) {
        let Some(b) = self.g.file(node).in_build else {
            return;
        };
        for &i in &self.g.build(b).ins {
            if !self.visited.insert(i) {
                continue;
            }
            self.visit(i);
            let phony_output = self.g.file(i).in_build.is_some_and(|p| self.g.is_phony(p));
            if !phony_output {
                self.inputs.push(i);
            }
        }
    }

    fn strings(&self, escape: bool) -> Vec<String> {
        let path = |&i: &FileId| {
            let p = self.g.path(i);
            if !escape {
                return p.to_string();
            }
            let mut s = String::new();
            shell_escape(p, &mut s);
            s
        };
        self.inputs.iter().map(path).collect()
    }
}

/// The tool's options and targets. None (after the message) ends it with 1.
fn parse(
    app: &App,
    e: &mut Engine,
    args: &Args,
    shorts: &str,
    longs: &[Long],
    usage: &str,
) -> Option<(Parsed, Vec<FileId>)> {
    let parsed = args.getopt_long(shorts, longs, usage)?;
    let nodes = app.report(collect_targets(e, &parsed.operands))?;
    Some((parsed, nodes))
}

pub fn inputs(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((opts, nodes)) = parse(app, e, args, "h0Ed", INPUTS_LONGS, INPUTS_USAGE) else {
        return 1;
    };
    let mut c = Collector::new(&e.graph);
    for n in nodes {
        c.visit(n);
    }
    let mut lines = c.strings(!opts.has('E'));
    if !opts.has('d') {
        lines.sort();
    }
    let end = if opts.has('0') { b'\0' } else { b'\n' };
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l.as_bytes());
        out.push(end);
    }
    write_out(&out);
    0
}

pub fn multi_inputs(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((opts, nodes)) = parse(app, e, args, "d:h0", MULTI_LONGS, MULTI_USAGE) else {
        return 1;
    };
    let delimiter = opts.last_arg('d').unwrap_or("\t");
    let end = if opts.has('0') { b'\0' } else { b'\n' };
    let g = &e.graph;
    let mut out = Vec::new();
    for n in nodes {
        let mut c = Collector::new(g);
        c.visit(n);
        for input in c.strings(false) {
            out.extend_from_slice(g.path(n).as_bytes());
            out.extend_from_slice(delimiter.as_bytes());
            out.extend_from_slice(input.as_bytes());
            out.push(end);
        }
    }
    write_out(&out);
    0
}

/// Writes the tool's output; a closed pipe (`| head`) ends it quietly.
fn write_out(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
}
