//! `ggninja`: a drop-in replacement for `ninja`.

mod cli;
mod tools;

use std::path::Path;
use std::process::ExitCode;

use ggninja_executor::backend::{Backend, Local, Memoized, Memoizer, Sandbox, Sandboxed};
use ggninja_executor::build_log::BuildLog;
use ggninja_executor::deps_log::DepsLog;
use ggninja_executor::status::{Status, Verbosity};
use ggninja_executor::{process, BuildError, Builder, Config, Engine};
use ggninja_graph::path::canonicalize;
use ggninja_graph::FileId;
use ggninja_importer::Options;
use ggninja_thunk::Thunks;

/// How a tool is run: before the manifest, after it, or after the logs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum When {
    Flags,
    Load,
    Logs,
}

pub struct App {
    pub prog: String,
    /// `--cache`: the store to memoize in.
    pub store: Option<std::path::PathBuf>,
    /// `--sandbox`: run thunks in a mount namespace holding their footprint.
    pub sandbox: bool,
    pub config: Config,
    pub parser: Options,
    pub file: String,
}

impl App {
    pub fn error(&self, msg: &str) {
        eprintln!("{}: error: {msg}", self.prog);
    }
    pub fn warning(&self, msg: &str) {
        eprintln!("{}: warning: {msg}", self.prog);
    }
    pub fn info(&self, msg: &str) {
        println!("{}: {msg}", self.prog);
    }
}

fn fatal(prog: &str, msg: &str) -> u8 {
    eprintln!("{prog}: fatal: {msg}");
    1
}

/// ninja's default -j: cores + 2 (3 on two cores, 2 on one).
fn guess_parallelism() -> usize {
    match std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
    {
        0 | 1 => 2,
        2 => 3,
        n => n + 2,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let prog = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ggninja".to_string());
    ExitCode::from(real_main(prog, &args))
}

fn real_main(prog: String, args: &[String]) -> u8 {
    let jobs = guess_parallelism();
    let cli = match cli::parse(args) {
        Ok(c) => c,
        Err(e) => {
            eprint!("{prog}: {}", e.render());
            eprint!("{}", cli::usage(&prog, jobs));
            return 1;
        }
    };
    if cli.help {
        eprint!("{}", cli::usage(&prog, jobs));
        return 1;
    }
    if cli.version {
        println!("{}", ggninja_importer::VERSION);
        return 0;
    }
    let mut config = Config {
        prog: prog.clone(),
        parallelism: jobs,
        failures_allowed: 1,
        max_load: None,
        dry_run: cli.dry_run,
        verbosity: Verbosity::Normal,
        explain: false,
        keep_depfile: false,
        keep_rsp: false,
    };
    let mut parser = Options::default();
    for d in &cli.debug {
        match d.as_str() {
            "list" => {
                println!(
                    "debugging modes:\n  stats        print operation counts/timing info\n  explain      explain what caused a command to execute\n  keepdepfile  don't delete depfiles after they're read by ninja\n  keeprsp      don't delete @response files on success\nmultiple modes can be enabled via -d FOO -d BAR"
                );
                return 1;
            }
            "stats" => ggninja_executor::metrics::enable(),
            "nostatcache" => {}
            "explain" => config.explain = true,
            "keepdepfile" => config.keep_depfile = true,
            "keeprsp" => config.keep_rsp = true,
            other => {
                let words = ["stats", "explain", "keepdepfile", "keeprsp", "nostatcache"];
                let hint = tools::spellcheck(other, &words)
                    .map(|s| format!(", did you mean '{s}'?"))
                    .unwrap_or_default();
                eprintln!("{prog}: error: unknown debug setting '{other}'{hint}");
                return 1;
            }
        }
    }
    for w in &cli.warn {
        match w.as_str() {
            "list" => {
                println!("warning flags:\n  phonycycle={{err,warn}}  phony build statement references itself");
                return 1;
            }
            "dupbuild=err" => parser.dupbuild_is_error = true,
            "dupbuild=warn" => parser.dupbuild_is_error = false,
            "phonycycle=err" => parser.phonycycle_is_error = true,
            "phonycycle=warn" => parser.phonycycle_is_error = false,
            "depfilemulti=err" | "depfilemulti=warn" => {
                eprintln!("{prog}: warning: deprecated warning 'depfilemulti'")
            }
            other => {
                let words = [
                    "dupbuild=err",
                    "dupbuild=warn",
                    "phonycycle=err",
                    "phonycycle=warn",
                ];
                let hint = tools::spellcheck(other, &words)
                    .map(|s| format!(", did you mean '{s}'?"))
                    .unwrap_or_default();
                eprintln!("{prog}: error: unknown warning flag '{other}'{hint}");
                return 1;
            }
        }
    }
    if let Some(j) = &cli.jobs {
        match j.parse::<i64>() {
            Ok(0) => config.parallelism = usize::MAX,
            Ok(n) if n > 0 => config.parallelism = n as usize,
            _ => return fatal(&prog, "invalid -j parameter"),
        }
    }
    if let Some(k) = &cli.keep_going {
        match k.parse::<i64>() {
            Ok(n) if n > 0 => config.failures_allowed = n as usize,
            Ok(_) => config.failures_allowed = 0,
            Err(_) => return fatal(&prog, "-k parameter not numeric; did you mean -k 0?"),
        }
    }
    if let Some(l) = &cli.load {
        match l.trim().parse::<f64>() {
            Ok(v) => config.max_load = Some(v),
            Err(_) => return fatal(&prog, "-l parameter not numeric: did you mean -l 0.0?"),
        }
    }
    if cli.verbose {
        config.verbosity = Verbosity::Verbose;
    }
    if cli.quiet {
        config.verbosity = Verbosity::NoStatusUpdate;
    }
    let tool = match cli.tool.as_deref() {
        Some("list") => {
            tools::list();
            return 0;
        }
        Some(name) => match tools::when(name) {
            Some(w) => Some((name.to_string(), w)),
            None => {
                let hint = tools::spellcheck(name, &tools::names())
                    .map(|s| format!(", did you mean '{s}'?"))
                    .unwrap_or_default();
                return fatal(&prog, &format!("unknown tool '{name}'{hint}"));
            }
        },
        None => None,
    };
    if let Some(dir) = &cli.dir {
        if tool.is_none() && config.verbosity != Verbosity::NoStatusUpdate {
            println!("{prog}: Entering directory `{dir}'");
        }
        if let Err(e) = std::env::set_current_dir(dir) {
            let msg = ggninja_executor::disk::io_message(&e);
            return fatal(&prog, &format!("chdir to '{dir}' - {msg}"));
        }
    }
    let store = cli.cache.then(|| {
        cli.store
            .as_ref()
            .map(std::path::PathBuf::from)
            .unwrap_or_else(ggninja_store::Store::default_root)
    });
    let app = App {
        store,
        sandbox: cli.sandbox,
        prog,
        config,
        parser,
        file: cli.file.clone(),
    };
    if let Some((name, When::Flags)) = &tool {
        return tools::run_after_flags(&app, name, &cli.tool_args);
    }
    process::install_signal_handlers();
    for _cycle in 0..100 {
        let parse_timer = ggninja_executor::metrics::time(".ninja parse");
        let loaded = ggninja_importer::load(&app.file, &app.parser);
        drop(parse_timer);
        let loaded = match loaded {
            Ok(l) => l,
            Err(e) => {
                app.error(&e.to_string());
                return 1;
            }
        };
        for w in &loaded.warnings {
            app.warning(w);
        }
        if let Some((name, When::Load)) = &tool {
            let mut engine = Engine::new(
                loaded.graph,
                BuildLog::default(),
                DepsLog::default(),
                app.config.clone(),
            );
            let code = tools::run(&app, &mut engine, name, &cli.tool_args);
            // A tool's stdout is its output: the table goes to stderr.
            if let Some(table) = ggninja_executor::metrics::report() {
                eprint!("{table}");
            }
            exit_without_freeing(engine);
            return code;
        }
        let Some(mut engine) = open_logs(&app, loaded.graph) else {
            return 1;
        };
        if let Some((name, When::Logs)) = &tool {
            let code = tools::run(&app, &mut engine, name, &cli.tool_args);
            // A tool's stdout is its output: the table goes to stderr.
            if let Some(table) = ggninja_executor::metrics::report() {
                eprint!("{table}");
            }
            exit_without_freeing(engine);
            return code;
        }
        match rebuild_manifest(&app, &mut engine) {
            Ok(true) => {
                if app.config.dry_run {
                    return 0;
                }
                continue;
            }
            Ok(false) => {}
            Err(e) => {
                app.error(&format!("rebuilding '{}': {e}", app.file));
                return 1;
            }
        }
        let code = run_build(&app, &mut engine, &cli.targets);
        if let Some(table) = ggninja_executor::metrics::report() {
            print!(
                "{table}\npath->node entries: {}\n",
                engine.graph.paths.len()
            );
        }
        exit_without_freeing(engine);
        return code;
    }
    app.error(&format!(
        "manifest '{}' still dirty after 100 tries, perhaps system time is not set",
        app.file
    ));
    1
}

/// Leaves a loaded graph to the OS: freeing 100k nodes one by one costs
/// more than the rest of a no-op build's bookkeeping. (Logs are flushed on
/// every write, so nothing is lost.)
fn exit_without_freeing(engine: Engine) {
    std::mem::forget(engine);
}

/// The directory that holds the logs, from the manifest's `builddir`.
pub fn log_path(graph: &ggninja_graph::Graph, name: &str) -> String {
    match graph.scopes.lookup(ggninja_graph::ROOT_SCOPE, "builddir") {
        Some(dir) if !dir.is_empty() => format!("{dir}/{name}"),
        _ => name.to_string(),
    }
}

/// How a log is read: the log and an optional warning to print.
type LogLoader<T> = fn(&Path) -> std::io::Result<(T, Option<String>)>;

/// Loads one log, printing its warning; None (after the error) if it cannot be read.
fn load_log<T>(app: &App, what: &'static str, file: &str, load: LogLoader<T>) -> Option<T> {
    let timer = ggninja_executor::metrics::time(if what == "build log" {
        ".ninja_log load"
    } else {
        ".ninja_deps load"
    });
    let loaded = load(Path::new(file));
    drop(timer);
    match loaded {
        Ok((log, warning)) => {
            if let Some(w) = warning {
                app.warning(&w);
            }
            Some(log)
        }
        Err(e) => {
            let msg = ggninja_executor::disk::io_message(&e);
            app.error(&format!("loading {what} {file}: {msg}"));
            None
        }
    }
}

/// Loads both logs, recompacting them when they have grown too large.
fn open_logs(app: &App, graph: ggninja_graph::Graph) -> Option<Engine> {
    if let Some(dir) = graph.scopes.lookup(ggninja_graph::ROOT_SCOPE, "builddir") {
        if !dir.is_empty() && !app.config.dry_run {
            if let Err(e) = std::fs::create_dir_all(dir) {
                let msg = ggninja_executor::disk::io_message(&e);
                app.error(&format!("creating build directory {dir}: {msg}"));
                return None;
            }
        }
    }
    let build_log = load_log(
        app,
        "build log",
        &log_path(&graph, ".ninja_log"),
        BuildLog::load,
    )?;
    let deps_log = load_log(
        app,
        "deps log",
        &log_path(&graph, ".ninja_deps"),
        DepsLog::load,
    )?;
    let mut engine = Engine::new(graph, build_log, deps_log, app.config.clone());
    if !app.config.dry_run {
        if let Err(e) = tools::recompact_if_needed(&mut engine, false) {
            app.error(&e);
            return None;
        }
    }
    Some(engine)
}

fn new_status(app: &App) -> Result<Status, String> {
    Status::new(app.config.verbosity, app.config.parallelism.min(1024)).map_err(|e| e.to_string())
}

/// Brings the manifest up to date first, as ninja does. Ok(true): it was
/// rebuilt and must be loaded again.
fn rebuild_manifest(app: &App, engine: &mut Engine) -> Result<bool, String> {
    let Some(path) = canonicalize(&app.file) else {
        return Err("empty path".to_string());
    };
    let Some(node) = engine.graph.lookup(&path) else {
        return Ok(false);
    };
    let status = new_status(app)?;
    let mut builder = Builder::new(engine, status);
    builder.add_target(node)?;
    if builder.already_up_to_date() {
        return Ok(false);
    }
    let result = builder.build();
    drop(builder);
    match result {
        Ok(()) => {}
        Err(BuildError::Stopped(msg)) | Err(BuildError::Setup(msg)) => return Err(msg),
        Err(BuildError::Interrupted) => return Err("interrupted by user".to_string()),
    }
    if !engine.is_dirty(node) {
        // A restat found the manifest unchanged: rescan from scratch.
        engine.reset_states();
        return Ok(false);
    }
    Ok(true)
}

/// The execution backends `--sandbox` and `--cache` ask for: the sandbox
/// or local processes, behind the memo.
fn backend_stack(app: &App, thunks: &Thunks) -> Result<Box<dyn Backend>, String> {
    let runner: Box<dyn Backend> = match app.sandbox {
        true => Box::new(Sandboxed::new(Sandbox::open(thunks.roots.clone())?)),
        false => Box::new(Local::default()),
    };
    let Some(store) = &app.store else {
        return Ok(runner);
    };
    match Memoizer::open(store, thunks.roots.clone()) {
        Ok(m) => Ok(Box::new(Memoized::new(m, runner))),
        Err(e) => {
            app.warning(&format!("cache disabled: {}: {e}", store.display()));
            Ok(runner)
        }
    }
}

fn run_build(app: &App, engine: &mut Engine, args: &[String]) -> u8 {
    let targets: Vec<FileId> = match tools::collect_targets(engine, args) {
        Ok(t) => t,
        Err(e) => {
            app.error(&e);
            return 1;
        }
    };
    let status = match new_status(app) {
        Ok(s) => s,
        Err(e) => return fatal(&app.prog, &e),
    };
    let saved_dir = std::path::PathBuf::from(log_path(&engine.graph, ""));
    let mut builder = Builder::new(engine, status);
    if app.store.is_some() || app.sandbox {
        let cwd = std::env::current_dir().unwrap_or_default();
        let thunks = Thunks::open(&cwd, &saved_dir);
        let backend = match backend_stack(app, &thunks) {
            Ok(b) => b,
            Err(e) => return fatal(&app.prog, &e),
        };
        builder = builder.with_backend(backend, thunks);
    }
    for t in targets {
        if let Err(e) = builder.add_target(t) {
            app.error(&e);
            return 1;
        }
    }
    if builder.already_up_to_date() {
        app.info("no work to do.");
        return 0;
    }
    let result = builder.build();
    builder.close();
    match result {
        Ok(()) => 0,
        Err(BuildError::Interrupted) => {
            app.info("build stopped: interrupted by user.");
            2
        }
        Err(e) => {
            app.info(&e.to_string());
            1
        }
    }
}

/// mimalloc: allocation-heavy phases (loading a manifest, building 50k
/// thunks on every core) spend a fifth of their time in glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
