//! `-t` tools: the table (one row per tool, carrying its function), and
//! what tools and the build share: target lookup, tool flags.

mod analysis;
mod cache;
mod clean;
mod commands;
mod compdb;
mod deps;
mod getopt;
mod graph;
mod inputs;
mod lambda_deploy;
pub mod logs;
mod query;
mod rules;
mod targets;
mod thunk_facts;
mod thunks;
mod watch;

use std::collections::BTreeSet;

use ggninja_executor::Engine;
use ggninja_graph::path::canonicalize;
use ggninja_graph::{BuildId, Escape, FileId, Graph};

use crate::context::App;
use crate::spell::did_you_mean;

/// A tool that runs once the manifest (and maybe the logs) are loaded.
pub type Run = fn(&App, &mut Engine, &Args) -> u8;

/// When a tool runs, and the function that runs it then.
#[derive(Clone, Copy)]
pub enum When {
    /// Right after the flags, before any manifest (ninja's RUN_AFTER_FLAGS).
    Flags(fn(&App, &Args) -> u8),
    /// After the manifest is loaded, with empty logs.
    Load(Run),
    /// After the manifest and both logs are loaded.
    Logs(Run),
}

pub struct Tool {
    pub name: &'static str,
    /// Its line in `-t list`.
    pub description: &'static str,
    pub when: When,
}

/// Every tool, in `-t list` order (ninja 1.13's, then ggninja's own).
pub const TOOLS: &[Tool] = &[
    tool("clean", "clean built files", When::Load(clean::clean)),
    tool(
        "commands",
        "list all commands required to rebuild given targets",
        When::Load(commands::commands),
    ),
    tool(
        "inputs",
        "list all inputs required to rebuild given targets",
        When::Load(inputs::inputs),
    ),
    tool(
        "multi-inputs",
        "print one or more sets of inputs required to build targets",
        When::Load(inputs::multi_inputs),
    ),
    tool(
        "deps",
        "show dependencies stored in the deps log",
        When::Logs(deps::deps),
    ),
    tool(
        "missingdeps",
        "check deps log dependencies on generated files",
        When::Logs(deps::missingdeps),
    ),
    tool(
        "graph",
        "output graphviz dot file for targets",
        When::Load(graph::graph),
    ),
    tool(
        "query",
        "show inputs/outputs for a path",
        When::Logs(query::query),
    ),
    tool(
        "targets",
        "list targets by their rule or depth in the DAG",
        When::Load(targets::targets),
    ),
    tool(
        "compdb",
        "dump JSON compilation database to stdout",
        When::Load(compdb::compdb),
    ),
    tool(
        "compdb-targets",
        "dump JSON compilation database for a given list of targets to stdout",
        When::Load(compdb::compdb_targets),
    ),
    tool(
        "recompact",
        "recompacts ninja-internal data structures",
        When::Load(logs::recompact),
    ),
    tool(
        "restat",
        "restats all outputs in the build log",
        When::Flags(logs::restat),
    ),
    tool("rules", "list all rules", When::Load(rules::rules)),
    tool(
        "cleandead",
        "clean built files that are no longer produced by the manifest",
        When::Logs(clean::cleandead),
    ),
    tool(
        "thunks",
        "print the thunk of each edge as JSON lines (ggninja)",
        When::Load(thunks::thunks),
    ),
    tool(
        "footprint",
        "list one edge's inputs with their hashes and sizes (ggninja)",
        When::Load(thunks::footprint),
    ),
    tool(
        "analyze",
        "critical path, float, drag and parallelism from .ninja_log (ggninja)",
        When::Load(analysis::analyze),
    ),
    tool(
        "trace",
        "the last build as Chrome/Perfetto trace JSON (ggninja)",
        When::Load(analysis::trace),
    ),
    tool(
        "simulate",
        "the build replayed on N workers or on Lambda, with cache hits predicted (ggninja)",
        When::Load(analysis::simulate),
    ),
    tool(
        "report",
        "the last build and its replays as one HTML page (ggninja)",
        When::Load(analysis::report),
    ),
    tool(
        "cache",
        "the local store: stats, clean, evict-to SIZE (ggninja)",
        When::Flags(cache::cache),
    ),
    tool(
        "watch",
        "a daemon telling no-op builds here what changed: start, serve, stop (ggninja)",
        When::Flags(watch::watch),
    ),
    tool(
        "lambda-deploy",
        "write the Lambda function's image, create or update the function (ggninja)",
        When::Load(lambda_deploy::lambda_deploy),
    ),
];

impl Tool {
    /// What the tool is given: `args`, and its name for its messages.
    pub fn args<'a>(&self, args: &'a [String]) -> Args<'a> {
        Args {
            tool: self.name,
            args,
        }
    }
}

const fn tool(name: &'static str, description: &'static str, when: When) -> Tool {
    Tool {
        name,
        description,
        when,
    }
}

/// `-t list`, as ninja prints it.
pub fn list() {
    println!("ninja subtools:");
    for t in TOOLS {
        println!("{:>11}  {}", t.name, t.description);
    }
}

/// The tool named `name`, or the error naming the closest one.
pub fn find(name: &str) -> Result<&'static Tool, String> {
    TOOLS.iter().find(|t| t.name == name).ok_or_else(|| {
        let names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        format!("unknown tool '{name}'{}", did_you_mean(name, &names))
    })
}

/// What a tool was given: its own name (for getopt's messages) and the
/// arguments after `-t NAME`.
pub struct Args<'a> {
    pub tool: &'static str,
    pub args: &'a [String],
}

/// The short flags a tool was given, and its other arguments.
pub type Flags = (BTreeSet<char>, Vec<String>);

impl Args<'_> {
    /// Splits getopt-style short flags off the arguments. An unknown flag
    /// prints getopt's message (naming this tool) and then `usage`; `-h`
    /// prints just `usage`. None then: the tool exits 1.
    pub fn flags(&self, allowed: &str, usage: &str) -> Option<Flags> {
        match split_flags(self.args, allowed) {
            Ok(flags) => Some(flags),
            Err(bad) => {
                if let Some(c) = bad {
                    eprintln!("{}: invalid option -- '{c}'", self.tool);
                }
                println!("{usage}");
                None
            }
        }
    }

    /// The same for a tool parsing with getopt_long: short options
    /// `shorts` (a `:` after one taking an argument) and `longs`.
    pub fn getopt_long(
        &self,
        shorts: &str,
        longs: &[getopt::Long],
        usage: &str,
    ) -> Option<getopt::Parsed> {
        match getopt::parse(self.tool, self.args, shorts, longs) {
            Ok(parsed) => Some(parsed),
            Err(stop) => {
                if let getopt::Stop::Message(m) = stop {
                    eprintln!("{m}");
                }
                println!("{usage}");
                None
            }
        }
    }
}

/// getopt on `args`: Err(Some(c)) for an unknown flag, Err(None) for `-h`.
fn split_flags(args: &[String], allowed: &str) -> Result<Flags, Option<char>> {
    let mut set = BTreeSet::new();
    let mut rest = Vec::new();
    let mut only_positional = false;
    for a in args {
        if only_positional || !a.starts_with('-') || a == "-" {
            rest.push(a.clone());
            continue;
        }
        if a == "--" {
            only_positional = true;
            continue;
        }
        for c in a[1..].chars() {
            if !allowed.contains(c) {
                return Err(Some(c));
            }
            if c == 'h' {
                return Err(None);
            }
            set.insert(c);
        }
    }
    Ok((set, rest))
}

/// Resolves a command-line target: canonical path, or `path^` for the
/// first output of the first build that reads it.
pub fn collect_target(e: &mut Engine, arg: &str) -> Result<FileId, String> {
    let Some(mut path) = canonicalize(arg) else {
        return Err("empty path".to_string());
    };
    let first_dependent = path.ends_with('^');
    if first_dependent {
        path.pop();
    }
    // Like ninja's, the graph knows every path the deps log names (loading
    // the log made them files).
    let Some(node) = e.graph.lookup(&path) else {
        return Err(unknown_target(e, &path));
    };
    if first_dependent {
        first_dependent_of(e, node, &path)
    } else {
        Ok(node)
    }
}

/// ninja's error for a target it does not know, with its hints.
fn unknown_target(e: &Engine, path: &str) -> String {
    let hint = match path {
        "clean" => ", did you mean 'ninja -t clean'?".to_string(),
        "help" => ", did you mean 'ninja -h'?".to_string(),
        _ => {
            let all: Vec<&str> = e.graph.paths.iter().collect();
            did_you_mean(path, &all)
        }
    };
    format!("unknown target '{path}'{hint}")
}

/// `path^`: the first output of the first build reading `node`, else of
/// the first one whose deps log record lists it (a header).
fn first_dependent_of(e: &Engine, node: FileId, path: &str) -> Result<FileId, String> {
    let g = &e.graph;
    if let Some(b) = g.consumers(node).min() {
        return Ok(g.build(b).outs[0]);
    }
    for (out, deps) in e.deps_log.all() {
        if deps.nodes.contains(&node) {
            return Ok(out);
        }
    }
    Err(format!("'{path}' has no out edge"))
}

/// The nodes the arguments name, or the manifest's defaults if none.
pub fn collect_targets(e: &mut Engine, args: &[String]) -> Result<Vec<FileId>, String> {
    if args.is_empty() {
        let defaults = e.graph.default_targets();
        if defaults.is_empty() && !e.graph.builds.is_empty() {
            return Err("could not determine root nodes of build graph".to_string());
        }
        return Ok(defaults);
    }
    args.iter().map(|a| collect_target(e, a)).collect()
}

/// The targets `args` name as far as the manifest alone knows them (no
/// `path^`, no deps-log paths, no errors): what can be stat'ed while the
/// logs load. `collect_targets` says what is built.
pub fn manifest_targets(g: &Graph, args: &[String]) -> Vec<FileId> {
    if args.is_empty() {
        return g.default_targets();
    }
    let known = |a: &String| canonicalize(a).and_then(|p| g.lookup(&p));
    args.iter().filter_map(known).collect()
}

/// Whether build `b` records its deps in the deps log (`deps = gcc|msvc`).
fn has_deps_binding(g: &Graph, b: BuildId) -> bool {
    !g.binding(b, "deps", Escape::Shell)
        .unwrap_or_default()
        .is_empty()
}

/// Loads the dyndep file of build `b` if it is still pending; a failure
/// is only a warning, as in ninja's graph and query tools.
fn load_pending_dyndep(app: &App, e: &mut Engine, b: BuildId) {
    if let Some(dd) = e.graph.build(b).dyndep {
        if e.nodes[dd.index()].dyndep_pending {
            if let Err(err) = e.load_dyndeps(dd) {
                app.warning(&format!("{err}\n"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn every_tool_name_is_unique_and_found() {
        let mut seen = BTreeSet::new();
        for t in TOOLS {
            assert!(seen.insert(t.name), "{} twice", t.name);
            assert_eq!(find(t.name).map(|f| f.name), Ok(t.name));
            assert!(!t.description.is_empty(), "{}", t.name);
        }
        // `restat` runs before the manifest, as in ninja; `cache` needs
        // only the store, `watch` only the directory.
        let flags: Vec<&str> = TOOLS
            .iter()
            .filter(|t| matches!(t.when, When::Flags(_)))
            .map(|t| t.name)
            .collect();
        assert_eq!(flags, ["restat", "cache", "watch"]);
    }

    #[test]
    fn unknown_tool_suggests_the_closest() {
        assert_eq!(
            find("comands").err().as_deref(),
            Some("unknown tool 'comands', did you mean 'commands'?")
        );
        assert_eq!(
            find("zzzzzzzzzz").err().as_deref(),
            Some("unknown tool 'zzzzzzzzzz'")
        );
    }

    #[test]
    fn flags_are_split_as_getopt_does() {
        let (set, rest) = split_flags(&strings(&["-gr", "a", "-", "--", "-x"]), "hgr").unwrap();
        assert_eq!(set.into_iter().collect::<String>(), "gr");
        assert_eq!(rest, ["a", "-", "-x"]);
        assert_eq!(split_flags(&strings(&["-x"]), "h"), Err(Some('x')));
        assert_eq!(split_flags(&strings(&["-sh"]), "hs"), Err(None));
        assert_eq!(split_flags(&strings(&["--help"]), "h"), Err(Some('-')));
    }
}
