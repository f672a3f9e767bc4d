//! ggninja's build analysis tools: `-t analyze [--json] [targets]` (the
//! critical path, float, drag and parallelism of building the targets,
//! timed by `.ninja_log`), `-t trace [-o FILE]` (the last build as
//! Chrome/Perfetto trace JSON) and `-t simulate [-j N,N,...] [--json]
//! [--remote lambda ...] [targets]` (the build replayed on N workers,
//! locally, over the predicted cache misses and under the remote model) and `-t report [-o FILE]
//! [targets]` (all of it as one HTML page). The glue only: flags,
//! targets, the log, where the output goes; the model is in
//! `ggninja-analysis`.

use std::io::Write;
use std::path::Path;

use ggninja_analysis::page::Page;
use ggninja_analysis::remote::Lambda;
use ggninja_analysis::speedup::{self, Simulation};
use ggninja_analysis::{analyze, html, ran, runs, table, trace, Analysis};
use ggninja_executor::build_log::{read_in_order, LogEntry};
use ggninja_executor::{disk, provenance, Engine};
use ggninja_graph::{BuildId, FileId, Graph};

use super::{collect_targets, thunk_facts, Args};
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

const SIMULATE_USAGE: &str =
    "usage: ggninja [--cache [--store DIR]] -t simulate [-j N,N,...] [--json]
         [--local-cores N] [--remote lambda [--latency MS] [--startup MS] [--bandwidth MB/s]
         [--stragglers P] [--cores N --cpu MS]] [targets]

building [targets] replayed on N workers, timed by .ninja_log, under three
rules (ggninja's --priority): logged (longest chain of logged times first),
chain (longest chain of edges first, as ninja 1.12+) and node-order (ninja
1.11, make); and the
last build replayed at the -j it ran with, against its logged wall time

with --cache, the edges whose thunks the local store holds (with --remote
lambda, the S3 memo too) and the build over the misses alone; with --remote
lambda, the build replayed with each thunk run on Lambda (docs/analysis.md)

options:
  -j N,N,...        the worker counts (default 1,2,4,...,128,1000,10000 and
                    this machine's default -j)
  --json            print the replays as JSON
  --local-cores N   the workers share N cores: running edges beyond N each
                    slow down, as on this machine at a -j above its cores
                    (default 0: each worker its own core)
  --remote lambda   add the remote model's replays
  --latency MS      per invocation (default 30)
  --startup MS      a cold start, once per instance (default 100)
  --bandwidth MB/s  uploads and downloads (default 40)
  --stragglers P    P% of invocations take 4x (default 0)
  --cores N         the instances share N cores, as on the local stack
                    (default 0: each its own, as on Lambda)
  --cpu MS          CPU per invocation on those cores (default 0)";

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
    let records = read_provenance(app, &e.graph);
    let text = trace::trace(&e.graph, &ran, &records).to_string() + "\n";
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
    let Some(flags) = simulate_flags(args) else {
        return 1;
    };
    let rest_args = Args {
        tool: args.tool,
        args: &flags.rest,
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
    let Some(known) = app.report(thunk_facts::known(app, e, &nodes, flags.remote)) else {
        return 1;
    };
    let simulation = Simulation::knowing(
        &e.graph,
        &nodes,
        &flags.jobs,
        &entries,
        &known,
        flags.local_cores,
    );
    let Some(simulation) = app.report(simulation.map_err(|err| err.to_string())) else {
        return 1;
    };
    if flags.json {
        let text = serde_json::to_string_pretty(&simulation).expect("plain data");
        emit(&(text + "\n"));
    } else {
        emit(&speedup::render(&simulation));
    }
    0
}

/// `-t simulate`'s own flags.
struct SimulateFlags {
    jobs: Vec<usize>,
    json: bool,
    /// `--local-cores N`: the cores the local workers share (0: unlimited).
    local_cores: usize,
    /// `--remote lambda` with its parameters.
    remote: Option<Lambda>,
    /// The other arguments.
    rest: Vec<String>,
}

/// `-j N,N,...` (or `-jN,...`, default `speedup::JOBS` and this machine's
/// `-j`), `--json`, `--remote lambda` and the model's parameters (as
/// `--flag VALUE` or `--flag=VALUE`, only with `--remote lambda`); None
/// after a usage message.
fn simulate_flags(args: &Args) -> Option<SimulateFlags> {
    let mut jobs = None;
    let mut json = false;
    let mut local_cores = 0;
    let (mut remote, mut tuned) = (false, None);
    let mut lambda = Lambda::default();
    let mut rest = Vec::new();
    let mut words = args.args.iter();
    let bad = |what: &str, value: Option<&str>| {
        eprintln!("{}: invalid {what} '{}'", args.tool, value.unwrap_or(""));
        println!("{SIMULATE_USAGE}");
    };
    while let Some(a) = words.next() {
        if let Some(list) = a.strip_prefix("-j") {
            let list = match list {
                "" => words.next().map(String::as_str),
                list => Some(list),
            };
            let Some(counts) = list.and_then(job_counts) else {
                bad("-j list", list);
                return None;
            };
            jobs = Some(counts);
            continue;
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        if name == "--local-cores" {
            let value = inline.or_else(|| words.next().cloned());
            let Some(n) = value.as_deref().and_then(|v| v.parse().ok()) else {
                bad(name, value.as_deref());
                return None;
            };
            local_cores = n;
            continue;
        }
        if name != "--remote" && !MODEL_FLAGS.contains(&name) {
            match a.as_str() {
                "--json" => json = true,
                _ => rest.push(a.clone()),
            }
            continue;
        }
        let value = inline.or_else(|| words.next().cloned());
        let ok = match name {
            "--remote" => value.as_deref() == Some("lambda"),
            _ => model_flag(&mut lambda, name, value.as_deref()),
        };
        if !ok {
            bad(name, value.as_deref());
            return None;
        }
        match name {
            "--remote" => remote = true,
            _ => tuned = Some(name),
        }
    }
    if let Some(name) = tuned.filter(|_| !remote) {
        eprintln!("{}: {name} needs --remote lambda", args.tool);
        println!("{SIMULATE_USAGE}");
        return None;
    }
    let jobs = jobs.unwrap_or_else(|| {
        let mut all = speedup::JOBS.to_vec();
        all.push(guess_parallelism());
        all
    });
    Some(SimulateFlags {
        jobs,
        json,
        local_cores,
        remote: remote.then_some(lambda),
        rest,
    })
}

/// The remote model's parameters.
const MODEL_FLAGS: [&str; 6] = [
    "--latency",
    "--startup",
    "--bandwidth",
    "--stragglers",
    "--cores",
    "--cpu",
];

/// Sets the parameter `name` of `lambda` to `value`: false when it is not
/// a number in range (non-negative; a bandwidth above 0; at most 100%).
fn model_flag(lambda: &mut Lambda, name: &str, value: Option<&str>) -> bool {
    let Some(x) =
        (value.and_then(|v| v.parse::<f64>().ok())).filter(|x| x.is_finite() && *x >= 0.0)
    else {
        return false;
    };
    match name {
        "--latency" => lambda.latency_ms = x as u64,
        "--startup" => lambda.startup_ms = x as u64,
        "--bandwidth" if x > 0.0 => lambda.bandwidth_mb_s = x,
        "--stragglers" if x <= 100.0 => lambda.stragglers_percent = x,
        "--cores" => lambda.cores = x as usize,
        "--cpu" => lambda.cpu_ms = x as u64,
        _ => return false,
    }
    true
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
/// Where each edge's result came from (`.ggninja_edges`); an unreadable
/// file is a warning and no records (the trace then says "ran").
fn read_provenance(app: &App, g: &Graph) -> trace::Records {
    let file = g.in_builddir(provenance::FILE);
    provenance::read(Path::new(&file)).unwrap_or_else(|err| {
        app.warning(&format!("reading {file}: {}", disk::io_message(&err)));
        Default::default()
    })
}

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
