//! `-t` tools, with ninja's output formats.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use ggninja_executor::build_log::BuildLog;
use ggninja_executor::deps_log::DepsLog;
use ggninja_executor::{disk, Engine};
use ggninja_graph::path::canonicalize;
use ggninja_graph::{BuildId, Escape, FileId, Graph};
use ggninja_store::hash::ContentHash;
use ggninja_thunk::{Entry, Source, ThunkBuilder, Thunks};
use rayon::prelude::*;
use std::path::PathBuf;

use crate::{App, When};

/// Each tool, its description for `-t list`, and the phase it runs at.
pub const TOOLS: &[(&str, &str, When)] = &[
    ("clean", "clean built files", When::Load),
    (
        "commands",
        "list all commands required to rebuild given targets",
        When::Load,
    ),
    (
        "inputs",
        "list all inputs required to rebuild given targets",
        When::Load,
    ),
    (
        "deps",
        "show dependencies stored in the deps log",
        When::Logs,
    ),
    (
        "missingdeps",
        "check deps log dependencies on generated files",
        When::Logs,
    ),
    ("graph", "output graphviz dot file for targets", When::Load),
    ("query", "show inputs/outputs for a path", When::Logs),
    (
        "targets",
        "list targets by their rule or depth in the DAG",
        When::Load,
    ),
    (
        "compdb",
        "dump JSON compilation database to stdout",
        When::Load,
    ),
    (
        "recompact",
        "recompacts ninja-internal data structures",
        When::Load,
    ),
    (
        "restat",
        "restats all outputs in the build log",
        When::Flags,
    ),
    ("rules", "list all rules", When::Load),
    (
        "cleandead",
        "clean built files that are no longer produced by the manifest",
        When::Logs,
    ),
    (
        "thunks",
        "print the thunk of each edge as JSON lines (ggninja)",
        When::Load,
    ),
    (
        "footprint",
        "list one edge's inputs with their hashes and sizes (ggninja)",
        When::Load,
    ),
];

pub fn when(name: &str) -> Option<When> {
    TOOLS.iter().find(|t| t.0 == name).map(|t| t.2)
}

pub fn names() -> Vec<&'static str> {
    TOOLS.iter().map(|t| t.0).collect()
}

pub fn list() {
    println!("ninja subtools:");
    for (name, desc, _) in TOOLS {
        println!("{name:>11}  {desc}");
    }
}

/// Levenshtein distance, as ninja's EditDistance with replacements.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for y in 1..=a.len() {
        let mut previous = row[0];
        row[0] = y;
        for x in 1..=b.len() {
            let old = row[x];
            row[x] = (previous + usize::from(a[y - 1] != b[x - 1])).min(row[x - 1].min(row[x]) + 1);
            previous = old;
        }
    }
    row[b.len()]
}

/// The closest word within an edit distance of 3, if any.
pub fn spellcheck<'a>(word: &str, words: &[&'a str]) -> Option<&'a str> {
    let mut best = None;
    let mut min = 4;
    for &w in words {
        let d = edit_distance(w, word);
        if d < min {
            min = d;
            best = Some(w);
        }
    }
    best
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
    // Like ninja, the graph knows every path the deps log names.
    if e.graph.lookup(&path).is_none() && e.deps_log.paths().contains(&path) {
        e.graph.file_id(&path);
        e.sync_states();
    }
    let g = &e.graph;
    let Some(node) = g.lookup(&path) else {
        let mut err = format!("unknown target '{path}'");
        if path == "clean" {
            err.push_str(", did you mean 'ninja -t clean'?");
        } else if path == "help" {
            err.push_str(", did you mean 'ninja -h'?");
        } else {
            let mut all: Vec<&str> = g.paths.keys().map(String::as_str).collect();
            all.extend(e.deps_log.paths().iter().map(String::as_str));
            if let Some(s) = spellcheck(&path, &all) {
                err.push_str(&format!(", did you mean '{s}'?"));
            }
        }
        return Err(err);
    };
    if !first_dependent {
        return Ok(node);
    }
    if let Some(b) = g.consumers(node).min() {
        return Ok(g.build(b).outs[0]);
    }
    // Fall back to the deps log: the first output that lists it as a header.
    for (out, deps) in e.deps_log.all() {
        if deps.ids.iter().any(|&i| e.deps_log.path(i) == path) {
            if let Some(n) = g.lookup(out) {
                return Ok(n);
            }
        }
    }
    Err(format!("'{path}' has no out edge"))
}

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

/// Splits getopt-style short flags off `args`; unknown flags are errors.
/// Unknown options print getopt's message for `tool`; `-h` prints nothing.
fn flags(tool: &str, args: &[String], allowed: &str) -> Result<(BTreeSet<char>, Vec<String>), ()> {
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
                eprintln!("{tool}: invalid option -- '{c}'");
                return Err(());
            }
            if c == 'h' {
                return Err(());
            }
            set.insert(c);
        }
    }
    Ok((set, rest))
}

pub fn run_after_flags(app: &App, name: &str, args: &[String]) -> u8 {
    match name {
        "restat" => restat(app, args),
        _ => 1,
    }
}

pub fn run(app: &App, e: &mut Engine, name: &str, args: &[String]) -> u8 {
    match name {
        "clean" => clean(app, e, args),
        "commands" => commands(app, e, args),
        "inputs" => inputs(app, e, args),
        "deps" => deps(app, e, args),
        "missingdeps" => missingdeps(app, e, args),
        "thunks" => thunks(app, e, args),
        "footprint" => footprint(app, e, args),
        "graph" => graph(app, e, args),
        "query" => query(app, e, args),
        "targets" => targets(app, e, args),
        "compdb" => compdb(app, e, args),
        "recompact" => recompact(app, e),
        "rules" => rules(e, args),
        "cleandead" => cleandead(app, e),
        _ => 1,
    }
}

fn targets_list(g: &Graph, nodes: &[FileId], depth: i64, indent: usize, out: &mut String) {
    for &n in nodes {
        out.push_str(&"  ".repeat(indent));
        match g.file(n).in_build {
            Some(b) => {
                out.push_str(&format!("{}: {}\n", g.path(n), g.rule_name(b)));
                if depth > 1 || depth <= 0 {
                    targets_list(g, &g.build(b).ins, depth - 1, indent + 1, out);
                }
            }
            None => {
                out.push_str(g.path(n));
                out.push('\n');
            }
        }
    }
}

fn targets(app: &App, e: &mut Engine, args: &[String]) -> u8 {
    let g = &e.graph;
    let mut out = String::new();
    let mut depth = 1;
    if let Some(mode) = args.first() {
        match mode.as_str() {
            "rule" => {
                match args.get(1).filter(|r| !r.is_empty()) {
                    None => {
                        for &b in &g.builds {
                            for &i in &g.build(b).ins {
                                if g.file(i).in_build.is_none() {
                                    out.push_str(&format!("{}\n", g.path(i)));
                                }
                            }
                        }
                    }
                    Some(rule) => {
                        let mut set = BTreeSet::new();
                        for &b in &g.builds {
                            if g.rule_name(b) == rule {
                                set.extend(g.build(b).outs.iter().map(|&o| g.path(o)));
                            }
                        }
                        for p in set {
                            out.push_str(&format!("{p}\n"));
                        }
                    }
                }
                print!("{out}");
                return 0;
            }
            "depth" => depth = args.get(1).map(|d| atoi(d)).unwrap_or(1),
            "all" => {
                for &b in &g.builds {
                    for &o in &g.build(b).outs {
                        out.push_str(&format!("{}: {}\n", g.path(o), g.rule_name(b)));
                    }
                }
                print!("{out}");
                return 0;
            }
            other => {
                match spellcheck(other, &["rule", "depth", "all"]) {
                    Some(s) => app.error(&format!(
                        "unknown target tool mode '{other}', did you mean '{s}'?"
                    )),
                    None => app.error(&format!("unknown target tool mode '{other}'")),
                }
                return 1;
            }
        }
    }
    let roots = g.roots();
    if roots.is_empty() {
        app.error("could not determine root nodes of build graph");
        return 1;
    }
    targets_list(g, &roots, depth, 0, &mut out);
    print!("{out}");
    0
}

fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(t.len(), |(i, _)| i);
    t[..end].parse().unwrap_or(0)
}

fn commands(app: &App, e: &mut Engine, args: &[String]) -> u8 {
    let Ok((opts, rest)) = flags("commands", args, "hs") else {
        println!("usage: ninja -t commands [options] [targets]\n\noptions:\n  -s     only print the final command to build [target], not the whole chain");
        return 1;
    };
    let nodes = match collect_targets(e, &rest) {
        Ok(n) => n,
        Err(err) => {
            app.error(&err);
            return 1;
        }
    };
    let single = opts.contains(&'s');
    let mut seen = HashSet::new();
    let mut out = String::new();
    fn walk(
        g: &Graph,
        b: Option<BuildId>,
        single: bool,
        seen: &mut HashSet<BuildId>,
        out: &mut String,
    ) {
        let Some(b) = b else { return };
        if !seen.insert(b) {
            return;
        }
        if !single {
            for &i in &g.build(b).ins {
                walk(g, g.file(i).in_build, single, seen, out);
            }
        }
        if !g.is_phony(b) {
            out.push_str(&g.command(b, false).unwrap_or_default());
            out.push('\n');
        }
    }
    for n in nodes {
        walk(
            &e.graph,
            e.graph.file(n).in_build,
            single,
            &mut seen,
            &mut out,
        );
    }
    print!("{out}");
    0
}

fn inputs(app: &App, e: &mut Engine, args: &[String]) -> u8 {
    let Ok((_, rest)) = flags("restat", args, "h") else {
        println!("Usage '-t inputs [options] [targets]\n\nList all inputs used for a set of targets. Note that this includes\nexplicit, implicit and order-only inputs, but not validation ones.\n\nOptions:\n  -h, --help   Print this message.");
        return 1;
    };
    let nodes = match collect_targets(e, &rest) {
        Ok(n) => n,
        Err(err) => {
            app.error(&err);
            return 1;
        }
    };
    let g = &e.graph;
    let mut seen = HashSet::new();
    let mut result = BTreeSet::new();
    let mut stack: Vec<BuildId> = nodes.iter().filter_map(|&n| g.file(n).in_build).collect();
    while let Some(b) = stack.pop() {
        if !seen.insert(b) {
            continue;
        }
        for &i in &g.build(b).ins {
            if let Some(p) = g.file(i).in_build {
                stack.push(p);
            }
        }
        if !g.is_phony(b) {
            for &i in &g.build(b).ins {
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

fn deps(app: &App, e: &mut Engine, args: &[String]) -> u8 {
    let nodes: Vec<String> = if args.is_empty() {
        let g = &e.graph;
        e.deps_log
            .all()
            .map(|(p, _)| p)
            .filter(|p| {
                g.lookup(p)
                    .and_then(|n| g.file(n).in_build)
                    .is_some_and(|b| {
                        !g.binding(b, "deps", Escape::Shell)
                            .unwrap_or_default()
                            .is_empty()
                    })
            })
            .map(String::from)
            .collect()
    } else {
        match collect_targets(e, args) {
            Ok(n) => n.iter().map(|&n| e.graph.path(n).to_string()).collect(),
            Err(err) => {
                app.error(&err);
                return 1;
            }
        }
    };
    let mut out = String::new();
    for path in nodes {
        let Some(d) = e.deps_log.get(&path) else {
            out.push_str(&format!("{path}: deps not found\n"));
            continue;
        };
        let mtime = disk::stat(&path).unwrap_or_else(|err| {
            app.error(&err);
            -1
        });
        let state = if mtime == 0 || mtime > d.mtime {
            "STALE"
        } else {
            "VALID"
        };
        out.push_str(&format!(
            "{path}: #deps {}, deps mtime {} ({state})\n",
            d.ids.len(),
            d.mtime
        ));
        for &i in &d.ids {
            out.push_str(&format!("    {}\n", e.deps_log.path(i)));
        }
        out.push('\n');
    }
    print!("{out}");
    0
}

/// Runs `f` with a thunk builder (outputs linked) over `e`'s graph and
/// the caches saved in the build dir, then saves them.
fn with_thunks<T>(e: &Engine, f: impl FnOnce(&mut ThunkBuilder) -> T) -> T {
    let cwd = std::env::current_dir().unwrap_or_default();
    let saved_dir = PathBuf::from(crate::log_path(&e.graph, ""));
    let timer = ggninja_executor::metrics::time("caches load");
    let thunks = Thunks::open(&cwd, &saved_dir);
    drop(timer);
    let out = thunks.with_builder(&e.graph, true, |tb| {
        let out = f(tb);
        // Left to the OS, like the graph (see main's `exit_without_freeing`).
        std::mem::forget(std::mem::take(&mut tb.done));
        out
    });
    let timer = ggninja_executor::metrics::time("caches save");
    thunks.save_caches();
    drop(timer);
    std::mem::forget(thunks);
    out
}

/// `-t thunks [targets]`: one JSON object per line for each edge needed.
fn thunks(app: &App, e: &mut Engine, args: &[String]) -> u8 {
    let nodes = match collect_targets(e, args) {
        Ok(n) => n,
        Err(err) => {
            app.error(&err);
            return 1;
        }
    };
    with_thunks(e, |tb| {
        use std::io::Write;
        let g = tb.graph;
        let edges: Vec<BuildId> = nodes.iter().filter_map(|&n| g.file(n).in_build).collect();
        let mut out = std::io::stdout().lock();
        let mut printed = HashSet::new();
        let mut failed = false;
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let bundles = tb.bundles;
        // Each batch as the builder finishes it: every thunk after those it
        // names, and each bundle before the first thunk naming it.
        let mut emit = |made: Vec<(BuildId, Entry)>| {
            let _timer = ggninja_executor::metrics::time("thunk lines");
            let mut text = Vec::new();
            for named in bundles.all() {
                if printed.insert(named.hash) {
                    let line = ThunkLine::Bundle {
                        bundle: named.hash.to_string(),
                        files: &named.bundle.files,
                    };
                    let _ = serde_json::to_writer(&mut text, &line);
                    text.push(b'\n');
                }
            }
            // Buffers reused from batch to batch: growing fresh ones costs
            // more in page faults than making the lines.
            lines.resize_with(made.len().div_ceil(256), Vec::new);
            let lines = &mut lines[..made.len().div_ceil(256)];
            made.par_chunks(256)
                .zip(lines.par_iter_mut())
                .for_each(|(part, buf)| {
                    buf.clear();
                    for (b, entry) in part {
                        thunk_line(buf, g.path(g.build(*b).outs[0]), entry);
                    }
                });
            // A closed pipe (`| head`): stop quietly.
            failed = failed
                || out.write_all(&text).is_err()
                || lines.iter().any(|l| out.write_all(l).is_err());
        };
        let timer = ggninja_executor::metrics::time("thunks (with lines)");
        tb.build_all(&edges, Some(&mut emit));
        let _ = out.flush();
        drop(timer);
        0
    })
}

/// One thunk's line of `-t thunks`.
fn thunk_line(buf: &mut Vec<u8>, output: &str, entry: &Entry) {
    let _ = match entry {
        // The thunk as hashed, not serialized a second time.
        Entry::Thunk(t) => write_thunk_line(buf, output, &t.hash.to_string(), &t.canonical),
        Entry::LocalOnly(why) => {
            let why = ThunkLine::LocalOnly {
                output,
                local_only: why,
            };
            serde_json::to_writer(&mut *buf, &why).map_err(std::io::Error::from)
        }
    };
    buf.push(b'\n');
}

/// A thunk's line of `-t thunks`: `{"output","hash","thunk"}`.
fn write_thunk_line(
    out: &mut impl std::io::Write,
    output: &str,
    hash: &str,
    canonical: &str,
) -> std::io::Result<()> {
    out.write_all(b"{\"output\":")?;
    serde_json::to_writer(&mut *out, output)?;
    write!(out, ",\"hash\":\"{hash}\",\"thunk\":{canonical}}}")
}

/// The other lines of `-t thunks`.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum ThunkLine<'a> {
    Bundle {
        bundle: String,
        files: &'a [ggninja_thunk::BundleFile],
    },
    LocalOnly {
        output: &'a str,
        local_only: &'a str,
    },
}

/// `-t footprint TARGET`: the inputs of the edge that builds TARGET.
fn footprint(app: &App, e: &mut Engine, args: &[String]) -> u8 {
    let [target] = args else {
        app.error("usage: ggninja -t footprint TARGET");
        return 1;
    };
    let node = match collect_target(e, target) {
        Ok(n) => n,
        Err(err) => {
            app.error(&err);
            return 1;
        }
    };
    let result = with_thunks(e, |tb| match tb.entry_for(node).cloned() {
        None => Err(format!("'{target}' is not built by any command")),
        Some(Entry::LocalOnly(why)) => Err(format!("'{target}' is local-only: {why}")),
        Some(Entry::Thunk(t)) => {
            let (hash, thunk, bundle) = (t.hash, t.thunk(), t.bundle);
            let mut out = format!(
                "thunk {hash}\nprogram {} {}\n",
                thunk.function.exe, thunk.function.exe_hash
            );
            let value = |out: &mut String, hash: &str, path: &str| {
                let size = ContentHash::parse(hash).map(|h| h.size).unwrap_or(0);
                out.push_str(&format!("{hash} {size:>10} {path}\n"));
            };
            for i in &thunk.inputs {
                match &i.source {
                    Source::Value { hash } => value(&mut out, hash, &i.path),
                    Source::Bundle { .. } => {
                        for f in bundle.iter().flat_map(|b| &b.bundle.files) {
                            value(&mut out, &f.hash, &f.path);
                        }
                    }
                    Source::Output { thunk, .. } => {
                        out.push_str(&format!("{thunk} {:>10} {}\n", "output", i.path))
                    }
                    Source::Directory { .. } => {
                        out.push_str(&format!("{:<52} {:>10} {}\n", "-", "directory", i.path))
                    }
                }
            }
            Ok(out)
        }
    });
    match result {
        Ok(out) => {
            print!("{out}");
            0
        }
        Err(err) => {
            app.error(&err);
            1
        }
    }
}

/// `-t missingdeps`: outputs whose recorded deps include a generated file
/// that no path in the manifest orders before them.
fn missingdeps(app: &App, e: &mut Engine, args: &[String]) -> u8 {
    let nodes = match collect_targets(e, args) {
        Ok(n) => n,
        Err(err) => {
            app.error(&err);
            return 1;
        }
    };
    let mut scan = MissingDeps::default();
    for n in nodes {
        scan.process(e, n);
    }
    let mut out = String::new();
    for line in &scan.report {
        out.push_str(line);
    }
    out.push_str(&format!("Processed {} nodes.\n", scan.seen.len()));
    if scan.nodes_missing.is_empty() {
        out.push_str("No missing dependencies on generated files found.\n");
    } else {
        out.push_str(&format!(
            "Error: There are {} missing dependency paths.\n{} targets had depfile dependencies on {} distinct generated inputs (from {} rules)  without a non-depfile dep path to the generator.\nThere might be build flakiness if any of the targets listed above are built alone, or not late enough, in a clean output directory.\n",
            scan.path_count,
            scan.nodes_missing.len(),
            scan.generated.len(),
            scan.rules.len()
        ));
    }
    print!("{out}");
    if scan.nodes_missing.is_empty() {
        0
    } else {
        3
    }
}

#[derive(Default)]
struct MissingDeps {
    seen: HashSet<FileId>,
    report: Vec<String>,
    path_count: usize,
    nodes_missing: HashSet<FileId>,
    generated: HashSet<FileId>,
    rules: HashSet<String>,
    /// (from build, to build) -> whether `to` depends on `from`.
    paths: std::collections::HashMap<(BuildId, BuildId), bool>,
}

impl MissingDeps {
    fn process(&mut self, e: &mut Engine, node: FileId) {
        let Some(b) = e.graph.file(node).in_build else {
            return;
        };
        if !self.seen.insert(node) {
            return;
        }
        for i in e.graph.build(b).ins.clone() {
            self.process(e, i);
        }
        let deps_type = e
            .graph
            .binding(b, "deps", Escape::Shell)
            .unwrap_or_default();
        let deps: Vec<String> = if !deps_type.is_empty() {
            match e.deps_log.get(e.graph.path(node)) {
                Some(d) => d
                    .ids
                    .iter()
                    .map(|&i| e.deps_log.path(i).to_string())
                    .collect(),
                None => return,
            }
        } else {
            let depfile = e
                .graph
                .binding(b, "depfile", Escape::None)
                .unwrap_or_default();
            let content = if depfile.is_empty() {
                Vec::new()
            } else {
                disk::read_or_empty(&*e.disk, &depfile).unwrap_or_default()
            };
            match ggninja_syntax::depfile::parse(&content) {
                Ok(d) => d.ins.iter().filter_map(|p| canonicalize(p)).collect(),
                Err(_) => return,
            }
        };
        self.process_deps(e, node, b, &deps);
    }

    fn process_deps(&mut self, e: &Engine, node: FileId, build: BuildId, deps: &[String]) {
        let g = &e.graph;
        let mut dep_builds = BTreeSet::new();
        let mut producers = Vec::new();
        for d in deps {
            if d == "build.ninja" {
                return;
            }
            let producer = g.lookup(d).and_then(|n| g.file(n).in_build);
            producers.push(producer);
            dep_builds.extend(producer);
        }
        let missing: Vec<BuildId> = dep_builds
            .into_iter()
            .filter(|&p| !self.path_exists(g, p, build))
            .collect();
        if missing.is_empty() {
            return;
        }
        let mut rule_names = BTreeSet::new();
        for m in &missing {
            for (d, p) in deps.iter().zip(&producers) {
                if *p == Some(*m) {
                    if let Some(n) = g.lookup(d) {
                        self.generated.insert(n);
                    }
                    let rule = g.rule_name(*m).to_string();
                    self.report.push(format!(
                        "Missing dep: {} uses {d} (generated by {rule})\n",
                        g.path(node)
                    ));
                    self.rules.insert(rule.clone());
                    rule_names.insert(rule);
                }
            }
        }
        self.path_count += rule_names.len();
        self.nodes_missing.insert(node);
    }

    fn path_exists(&mut self, g: &Graph, from: BuildId, to: BuildId) -> bool {
        if let Some(&known) = self.paths.get(&(from, to)) {
            return known;
        }
        let mut found = false;
        for &i in &g.build(to).ins {
            if let Some(p) = g.file(i).in_build {
                if p == from || self.path_exists(g, from, p) {
                    found = true;
                    break;
                }
            }
        }
        self.paths.insert((from, to), found);
        found
    }
}

fn load_pending_dyndep(app: &App, e: &mut Engine, b: BuildId) {
    if let Some(dd) = e.graph.build(b).dyndep {
        if e.nodes[dd.index()].dyndep_pending {
            if let Err(err) = e.load_dyndeps(dd) {
                app.warning(&format!("{err}\n"));
            }
        }
    }
}

fn graph(app: &App, e: &mut Engine, args: &[String]) -> u8 {
    let nodes = match collect_targets(e, args) {
        Ok(n) => n,
        Err(err) => {
            app.error(&err);
            return 1;
        }
    };
    let mut out = String::from(
        "digraph ninja {\nrankdir=\"LR\"\nnode [fontsize=10, shape=box, height=0.25]\nedge [fontsize=10]\n",
    );
    let mut seen_nodes = HashSet::new();
    let mut seen_builds = HashSet::new();
    let mut stack: Vec<FileId> = nodes.into_iter().rev().collect();
    // Files and builds share one index space, as ninja's node and edge pointers.
    let id = |index: usize| format!("0x{:x}", index + 1);
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
        let g = &e.graph;
        let build = g.build(b);
        if build.ins.len() == 1 && build.outs.len() == 1 {
            out.push_str(&format!(
                "\"{}\" -> \"{}\" [label=\" {}\"]\n",
                id(build.ins[0].index()),
                id(build.outs[0].index()),
                g.rule_name(b)
            ));
        } else {
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
        stack.extend(build.ins.iter().rev());
    }
    out.push_str("}\n");
    print!("{out}");
    0
}

fn query(app: &App, e: &mut Engine, args: &[String]) -> u8 {
    if args.is_empty() {
        app.error("expected a target to query");
        return 1;
    }
    let mut out = String::new();
    for a in args {
        let node = match collect_target(e, a) {
            Ok(n) => n,
            Err(err) => {
                print!("{out}");
                app.error(&err);
                return 1;
            }
        };
        out.push_str(&format!("{}:\n", e.graph.path(node)));
        if let Some(b) = e.graph.file(node).in_build {
            load_pending_dyndep(app, e, b);
            let g = &e.graph;
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
        let g = &e.graph;
        out.push_str("  outputs:\n");
        let mut consumers: Vec<BuildId> = g.consumers(node).collect();
        consumers.sort();
        for b in consumers {
            for &o in &g.build(b).outs {
                out.push_str(&format!("    {}\n", g.path(o)));
            }
        }
        let mut validated: Vec<BuildId> = g.validation_consumers(node).collect();
        validated.sort();
        if !validated.is_empty() {
            out.push_str("  validation for:\n");
            for b in validated {
                for &o in &g.build(b).outs {
                    out.push_str(&format!("    {}\n", g.path(o)));
                }
            }
        }
    }
    print!("{out}");
    0
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

fn compdb(app: &App, e: &mut Engine, args: &[String]) -> u8 {
    let Ok((opts, rules)) = flags("compdb", args, "hx") else {
        println!("usage: ninja -t compdb [options] [rules]\n\noptions:\n  -x     expand @rspfile style response file invocations");
        return 1;
    };
    let expand = opts.contains(&'x');
    let cwd = match std::env::current_dir() {
        Ok(d) => d.to_string_lossy().into_owned(),
        Err(err) => {
            app.error(&format!(
                "cannot determine working directory: {}",
                disk::io_message(&err)
            ));
            return 1;
        }
    };
    let g = &e.graph;
    let mut out = String::from("[");
    let mut first = true;
    for &b in &g.builds {
        let build = g.build(b);
        if build.ins.is_empty() {
            continue;
        }
        let times = if rules.is_empty() {
            1
        } else {
            rules.iter().filter(|r| *r == g.rule_name(b)).count()
        };
        for _ in 0..times {
            if !first {
                out.push(',');
            }
            first = false;
            let mut command = g.command(b, false).unwrap_or_default();
            if expand {
                let rsp = g.binding(b, "rspfile", Escape::None).unwrap_or_default();
                if let Some(idx) = command.find(&rsp).filter(|&i| !rsp.is_empty() && i > 0) {
                    if command.as_bytes()[idx - 1] == b'@' {
                        let content = g
                            .binding(b, "rspfile_content", Escape::Shell)
                            .unwrap_or_default()
                            .replace('\n', " ");
                        command.replace_range(idx - 1..idx + rsp.len(), &content);
                    }
                }
            }
            out.push_str(&format!(
                "\n  {{\n    \"directory\": \"{}\",\n    \"command\": \"{}\",\n    \"file\": \"{}\",\n    \"output\": \"{}\"\n  }}",
                json_escape(&cwd),
                json_escape(&command),
                json_escape(g.path(build.ins[0])),
                json_escape(g.path(build.outs[0]))
            ));
        }
    }
    out.push_str("\n]\n");
    print!("{out}");
    0
}

/// Rewrites the logs without dead entries. `always`: do it even if small.
pub fn recompact_if_needed(e: &mut Engine, always: bool) -> Result<(), String> {
    let log_file = crate::log_path(&e.graph, ".ninja_log");
    if (always || e.build_log.needs_recompaction()) && Path::new(&log_file).exists() {
        let g = &e.graph;
        let dead = |p: &str| {
            if g.lookup(p).is_some_and(|n| g.file(n).in_build.is_some()) {
                return false;
            }
            disk::stat(p).unwrap_or(1) == 0
        };
        e.build_log
            .recompact(dead)
            .map_err(|err| format!("failed recompaction: {}", disk::io_message(&err)))?;
    }
    let deps_file = crate::log_path(&e.graph, ".ninja_deps");
    if (always || e.deps_log.needs_recompaction()) && Path::new(&deps_file).exists() {
        let g = &e.graph;
        let live = |p: &str| {
            g.lookup(p)
                .and_then(|n| g.file(n).in_build)
                .is_some_and(|b| {
                    !g.binding(b, "deps", Escape::Shell)
                        .unwrap_or_default()
                        .is_empty()
                })
        };
        e.deps_log
            .recompact(live)
            .map_err(|err| format!("failed recompaction: {}", disk::io_message(&err)))?;
    }
    Ok(())
}

fn recompact(app: &App, e: &mut Engine) -> u8 {
    if let Some(dir) = e.graph.scopes.lookup(ggninja_graph::ROOT_SCOPE, "builddir") {
        if !dir.is_empty() && !app.config.dry_run {
            let _ = std::fs::create_dir_all(dir);
        }
    }
    let load = |name: &str| crate::log_path(&e.graph, name);
    let (log_file, deps_file) = (load(".ninja_log"), load(".ninja_deps"));
    match (
        BuildLog::load(Path::new(&log_file)),
        DepsLog::load(Path::new(&deps_file)),
    ) {
        (Ok((b, w1)), Ok((d, w2))) => {
            for w in [w1, w2].into_iter().flatten() {
                app.warning(&w);
            }
            e.build_log = b;
            e.deps_log = d;
        }
        (Err(err), _) => {
            app.error(&format!(
                "loading build log {log_file}: {}",
                disk::io_message(&err)
            ));
            return 1;
        }
        (_, Err(err)) => {
            app.error(&format!(
                "loading deps log {deps_file}: {}",
                disk::io_message(&err)
            ));
            return 1;
        }
    }
    match recompact_if_needed(e, true) {
        Ok(()) => 0,
        Err(err) => {
            app.error(&err);
            1
        }
    }
}

/// `-t restat [outputs]`: refreshes the mtimes recorded in the log. Runs
/// without a manifest, like ninja's, so missing files and logs are fine.
fn restat(app: &App, args: &[String]) -> u8 {
    let Ok((_, outputs)) = flags("restat", args, "h") else {
        println!("usage: ninja -t restat [outputs]");
        return 1;
    };
    let path = Path::new(".ninja_log");
    if !path.exists() {
        return 0;
    }
    let mut log = match BuildLog::load(path) {
        Ok((log, warning)) => {
            if let Some(w) = warning {
                app.warning(&w);
            }
            log
        }
        Err(err) => {
            app.error(&format!(
                "loading build log .ninja_log: {}",
                disk::io_message(&err)
            ));
            return 1;
        }
    };
    let filter: HashSet<&str> = outputs.iter().map(String::as_str).collect();
    match log.restat(|out| filter.is_empty() || filter.contains(out)) {
        Ok(()) => 0,
        Err(err) => {
            app.error(&format!("failed recompaction: {err}"));
            1
        }
    }
}

fn rules(e: &mut Engine, args: &[String]) -> u8 {
    let Ok((opts, _)) = flags("rules", args, "hd") else {
        println!("usage: ninja -t rules [options]\n\noptions:\n  -d     also print the description of the rule\n  -h     print this message");
        return 1;
    };
    let scopes = &e.graph.scopes;
    let root = &scopes.scopes[ggninja_graph::ROOT_SCOPE];
    let sorted: BTreeMap<&String, &usize> = root.rules.iter().collect();
    for (name, &id) in sorted {
        let mut line = name.clone();
        if opts.contains(&'d') {
            if let Some(d) = scopes.rules[id].bindings.get("description") {
                line.push_str(&format!(": {}", d.serialize()));
            }
        }
        println!("{line}");
    }
    0
}

struct Cleaner<'a> {
    app: &'a App,
    removed: HashSet<String>,
    count: usize,
    status: u8,
}

impl<'a> Cleaner<'a> {
    fn new(app: &'a App) -> Self {
        Cleaner {
            app,
            removed: HashSet::new(),
            count: 0,
            status: 0,
        }
    }

    fn verbose(&self) -> bool {
        use ggninja_executor::status::Verbosity;
        let v = self.app.config.verbosity;
        v != Verbosity::Quiet && (v == Verbosity::Verbose || self.app.config.dry_run)
    }

    fn header(&self) {
        print!("Cleaning...");
        if self.verbose() {
            println!();
        } else {
            print!(" ");
        }
    }

    fn footer(&self) {
        println!("{} files.", self.count);
    }

    fn remove(&mut self, path: &str) {
        if !self.removed.insert(path.to_string()) {
            return;
        }
        let removed = if self.app.config.dry_run {
            disk::stat(path).unwrap_or(0) > 0
        } else {
            match std::fs::remove_file(path).or_else(|e| {
                if Path::new(path).is_dir() {
                    std::fs::remove_dir(path)
                } else {
                    Err(e)
                }
            }) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => {
                    self.app
                        .error(&format!("remove({path}): {}", disk::io_message(&e)));
                    self.status = 1;
                    false
                }
            }
        };
        if removed {
            self.count += 1;
            if self.verbose() {
                println!("Remove {path}");
            }
        }
    }

    fn remove_edge_files(&mut self, g: &Graph, b: BuildId) {
        for var in ["depfile", "rspfile"] {
            let f = g.binding(b, var, Escape::None).unwrap_or_default();
            if !f.is_empty() {
                self.remove(&f);
            }
        }
    }
}

fn load_all_dyndeps(e: &mut Engine) {
    for b in e.graph.builds.clone() {
        if let Some(dd) = e.graph.build(b).dyndep {
            if e.nodes[dd.index()].dyndep_pending {
                let _ = e.load_dyndeps(dd);
            }
        }
    }
}

fn clean(app: &App, e: &mut Engine, args: &[String]) -> u8 {
    let Ok((opts, rest)) = flags("clean", args, "hgr") else {
        println!("usage: ninja -t clean [options] [targets]\n\noptions:\n  -g     also clean files marked as ninja generator output\n  -r     interpret targets as a list of rules to clean instead");
        return 1;
    };
    let generator = opts.contains(&'g');
    let by_rule = opts.contains(&'r');
    if by_rule && rest.is_empty() {
        app.error("expected a rule to clean");
        return 1;
    }
    let mut c = Cleaner::new(app);
    c.header();
    load_all_dyndeps(e);
    let g = &e.graph;
    if rest.is_empty() {
        for &b in &g.builds {
            if g.is_phony(b) || (!generator && g.binding_bool(b, "generator")) {
                continue;
            }
            for &o in &g.build(b).outs {
                c.remove(g.path(o));
            }
            c.remove_edge_files(g, b);
        }
    } else if by_rule {
        for name in &rest {
            let Some(rule) = g.scopes.find_rule(ggninja_graph::ROOT_SCOPE, name) else {
                app.error(&format!("unknown rule '{name}'"));
                c.status = 1;
                continue;
            };
            if c.verbose() {
                println!("Rule {name}");
            }
            for &b in &g.builds {
                if g.build(b).rule == rule {
                    for &o in &g.build(b).outs {
                        c.remove(g.path(o));
                        c.remove_edge_files(g, b);
                    }
                }
            }
        }
    } else {
        let mut cleaned = HashSet::new();
        for t in &rest {
            let Some(path) = canonicalize(t) else {
                app.error("failed to canonicalize '': empty path");
                c.status = 1;
                continue;
            };
            let Some(node) = g.lookup(&path) else {
                app.error(&format!("unknown target '{path}'"));
                c.status = 1;
                continue;
            };
            if c.verbose() {
                println!("Target {path}");
            }
            let mut stack = vec![node];
            while let Some(n) = stack.pop() {
                if !cleaned.insert(n) {
                    continue;
                }
                if let Some(b) = g.file(n).in_build {
                    if !g.is_phony(b) {
                        c.remove(g.path(n));
                        c.remove_edge_files(g, b);
                    }
                    stack.extend(g.build(b).ins.iter().rev());
                }
            }
        }
    }
    c.footer();
    c.status
}

fn cleandead(app: &App, e: &mut Engine) -> u8 {
    let mut c = Cleaner::new(app);
    c.header();
    let g = &e.graph;
    let mut dead: Vec<&String> = e
        .build_log
        .entries()
        .map(|(p, _)| p)
        .filter(|p| {
            g.lookup(p)
                .is_none_or(|n| g.file(n).in_build.is_none() && g.consumers(n).next().is_none())
        })
        .collect();
    dead.sort();
    for p in dead {
        c.remove(p);
    }
    c.footer();
    c.status
}
