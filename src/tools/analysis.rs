//! ggninja's build analysis tools: `-t analyze [--json] [targets]` (the
//! critical path, float, drag and parallelism of building the targets,
//! timed by `.ninja_log`), `-t trace [-o FILE]` (the last build as
//! Chrome/Perfetto trace JSON) and `-t simulate [-j N,N,...] [--json]
//! [targets]` (the build replayed on N workers) and `-t report [-o FILE]
//! [targets]` (all of it as one HTML page). The glue only: flags,
//! targets, the log, where the output goes; the model is in
//! `ggninja-analysis`.

use std::io::Write;
use std::path::Path;

use ggninja_analysis::page::Page;
use ggninja_analysis::speedup::{self, Simulation};
use ggninja_analysis::{analyze, html, ran, runs, table, trace, Analysis};
use ggninja_executor::build_log::{read_in_order, LogEntry};
use ggninja_executor::{disk, Engine};
use ggninja_graph::{BuildId, FileId, Graph};

use super::{collect_targets, Args};
use crate::cli::guess_parallelism;
use crate::context::App;

const ANALYZE_USAGE: &str = "usage: ggninja -t analyze [--json] [targets]

the critical path, float, drag and parallelism of building [targets] on
unlimited workers, timed by .ninja_log (missing edges estimated)

options:
  --json  print the report as JSON (every edge's float and drag included)";

const TRACE_USAGE: &str = "usage: ggninja -t trace [-o FILE]

the last build in .ninja_log as Chrome/Perfetto trace JSON

options:
  -o FILE  write the trace to FILE instead of stdout";

const SIMULATE_USAGE: &str = "usage: ggninja -t simulate [-j N,N,...] [--json] [targets]

building [targets] replayed on N workers, timed by .ninja_log, under three
rules (ggninja's --priority): logged (longest chain of logged times first),
chain (longest chain of edges first, as ninja 1.12+) and node-order (ninja
1.11, make); and the
last build replayed at the -j it ran with, against its logged wall time

options:
  -j N,N,...  the worker counts (default 1,2,4,...,128,1000,10000 and
              this machine's default -j)
  --json      print the replays as JSON";

const REPORT_USAGE: &str = "usage: ggninja -t report [-o FILE] [targets]

the last build in .ninja_log as one self-contained HTML page: its edges on
worker lanes with the chain it finished by, edges running over time, the
longest steps, the time per rule, and [targets] replayed on 1 to 1024
workers (as -t simulate)

options:
  -o FILE  write the page to FILE (default: report.html in the build dir)";

pub fn analyze(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let json = args.args.iter().any(|a| a == "--json");
    let rest: Vec<String> = (args.args.iter())
        .filter(|a| *a != "--json")
        .cloned()
        .collect();
    let rest_args = Args {
        tool: args.tool,
        args: &rest,
    };
    let Some((_, targets)) = rest_args.flags("h", ANALYZE_USAGE) else {
        return 1;
    };
    let Some(nodes) = app.report(collect_targets(e, &targets)) else {
        return 1;
    };
    let Some(entries) = read_log(app, &e.graph) else {
        return 1;
    };
    let newest = runs::newest(&entries);
    let report = Analysis::new(&e.graph, &nodes, |p| newest.get(p).copied());
    let Some(report) = app.report(report.map_err(|err| err.to_string())) else {
        return 1;
    };
    if json {
        let text = serde_json::to_string_pretty(&report).expect("plain data");
        emit(&(text + "\n"));
    } else {
        emit(&table::render(&report));
    }
    0
}

pub fn trace(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((file, positional)) = output_flag(args, TRACE_USAGE) else {
        return 1;
    };
    if !positional.is_empty() {
        println!("{TRACE_USAGE}");
        return 1;
    }
    let Some(entries) = read_log(app, &e.graph) else {
        return 1;
    };
    let ran = ran::last_build(&e.graph, runs::last_run(&entries));
    let text = trace::trace(&e.graph, &ran).to_string() + "\n";
    match file {
        None => emit(&text),
        Some(f) => {
            if let Err(err) = std::fs::write(&f, text) {
                app.error(&format!("writing {f}: {}", disk::io_message(&err)));
                return 1;
            }
        }
    }
    0
}

pub fn simulate(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((jobs, json, rest)) = simulate_flags(args) else {
        return 1;
    };
    let rest_args = Args {
        tool: args.tool,
        args: &rest,
    };
    let Some((_, targets)) = rest_args.flags("h", SIMULATE_USAGE) else {
        return 1;
    };
    let Some(nodes) = app.report(collect_targets(e, &targets)) else {
        return 1;
    };
    let Some(entries) = read_log(app, &e.graph) else {
        return 1;
    };
    let simulation = Simulation::new(&e.graph, &nodes, &jobs, &entries);
    let Some(simulation) = app.report(simulation.map_err(|err| err.to_string())) else {
        return 1;
    };
    if json {
        let text = serde_json::to_string_pretty(&simulation).expect("plain data");
        emit(&(text + "\n"));
    } else {
        emit(&speedup::render(&simulation));
    }
    0
}

/// `-j N,N,...` (or `-jN,...`, default `speedup::JOBS` and this machine's
/// `-j`), `--json`, and the other arguments; None after a usage message.
fn simulate_flags(args: &Args) -> Option<(Vec<usize>, bool, Vec<String>)> {
    let mut jobs = None;
    let mut json = false;
    let mut rest = Vec::new();
    let mut words = args.args.iter();
    while let Some(a) = words.next() {
        let list = match a.strip_prefix("-j") {
            Some("") => words.next().map(String::as_str),
            Some(list) => Some(list),
            None if a == "--json" => {
                json = true;
                continue;
            }
            None => {
                rest.push(a.clone());
                continue;
            }
        };
        match list.and_then(job_counts) {
            Some(counts) => jobs = Some(counts),
            None => {
                eprintln!("{}: invalid -j list '{}'", args.tool, list.unwrap_or(""));
                println!("{SIMULATE_USAGE}");
                return None;
            }
        }
    }
    let jobs = jobs.unwrap_or_else(|| {
        let mut all = speedup::JOBS.to_vec();
        all.push(guess_parallelism());
        all
    });
    Some((jobs, json, rest))
}

/// `N,N,...`: positive counts only.
fn job_counts(list: &str) -> Option<Vec<usize>> {
    (list.split(','))
        .map(|n| n.trim().parse().ok().filter(|&n: &usize| n > 0))
        .collect()
}

/// Prints `text`; a closed pipe (`| head`) ends it quietly.
fn emit(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `-o FILE` (or `-oFILE`) if given, and the positional arguments; None
/// after a usage message.
fn output_flag(args: &Args, usage: &str) -> Option<(Option<String>, Vec<String>)> {
    let mut file = None;
    let mut rest = Vec::new();
    let mut words = args.args.iter();
    while let Some(a) = words.next() {
        match a.strip_prefix("-o") {
            Some("") => file = Some(words.next()?.clone()),
            Some(f) => file = Some(f.to_string()),
            None => rest.push(a.clone()),
        }
    }
    let rest_args = Args {
        tool: args.tool,
        args: &rest,
    };
    let (_, positional) = rest_args.flags("h", usage)?;
    if file.as_deref() == Some("") {
        println!("{usage}");
        return None;
    }
    Some((file, positional))
}

pub fn report(app: &App, e: &mut Engine, args: &Args) -> u8 {
    let Some((file, targets)) = output_flag(args, REPORT_USAGE) else {
        return 1;
    };
    let Some(nodes) = app.report(collect_targets(e, &targets)) else {
        return 1;
    };
    let Some(entries) = read_log(app, &e.graph) else {
        return 1;
    };
    let page = Page::new(&e.graph, &nodes, &entries);
    let Some(page) = app.report(page.map_err(|err| err.to_string())) else {
        return 1;
    };
    let file = file.unwrap_or_else(|| e.graph.in_builddir("report.html"));
    if let Err(err) = std::fs::write(&file, html::render(&page)) {
        app.error(&format!("writing {file}: {}", disk::io_message(&err)));
        return 1;
    }
    app.info(&format!("wrote {file}"));
    0
}

/// One critical path of building `nodes`, timed by the log's newest
/// entries (`-t graph --critical`); None after an error message.
pub(super) fn critical_path(app: &App, e: &Engine, nodes: &[FileId]) -> Option<Vec<BuildId>> {
    let entries = read_log(app, &e.graph)?;
    let newest = runs::newest(&entries);
    let path = analyze::critical_builds(&e.graph, nodes, |p| newest.get(p).copied());
    app.report(path.map_err(|err| err.to_string()))
}

/// Every entry of the build log in file order (read here, not by the
/// phase that loads the logs, which may recompact away the runs' order).
fn read_log(app: &App, g: &Graph) -> Option<Vec<(String, LogEntry)>> {
    let file = g.in_builddir(".ninja_log");
    match read_in_order(Path::new(&file)) {
        Ok(entries) => Some(entries),
        Err(err) => {
            app.error(&format!(
                "loading build log {file}: {}",
                disk::io_message(&err)
            ));
            None
        }
    }
}
