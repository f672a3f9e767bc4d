//! One run, phase by phase as ninja's main: the flags, then a tool at its
//! phase or the build: load the manifest, open the logs (recompacting
//! them), rebuild the manifest (and start over if it changed), build.

use std::path::Path;
use std::time::Instant;

use ggninja_executor::backend::{Backend, Limit, Local, Memoized, Memoizer, Sandbox, Sandboxed};
use ggninja_executor::build_log::{BuildLog, Unsettled};
use ggninja_executor::deps_log::DepsLog;
use ggninja_executor::noop::{Basis, Recalled};
use ggninja_executor::status::{Status, Verbosity};
use ggninja_executor::{metrics, process, BuildError, Builder, Engine};
use ggninja_graph::path::canonicalize;
use ggninja_graph::{FileId, Graph};
use ggninja_importer::saved;
use ggninja_thunk::Thunks;

use crate::cli::{self, Cli, Message};
use crate::context::App;
use crate::noop::{self, Manifest};
use crate::remote;
use crate::tools::{self, Run, Tool, When};

fn fatal(prog: &str, msg: &str) -> u8 {
    Message::Fatal(msg.to_string()).print(prog)
}

/// Runs `ggninja ARGS...`; returns the exit code.
pub fn run(args: &[String]) -> u8 {
    let prog = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ggninja".to_string());
    let jobs = cli::guess_parallelism();
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
    match start(prog, &cli, jobs) {
        Ok(code) | Err(code) => code,
    }
}

/// After `--help` and `--version`: the settings, the tool, `-C`, then the
/// tool or the main loop. Err: stopped early with that exit code.
fn start(prog: String, cli: &Cli, jobs: usize) -> Result<u8, u8> {
    let warn = &mut |w: &str| eprintln!("{prog}: warning: {w}");
    let settings = cli::settings(cli, &prog, jobs, warn).map_err(|m| m.print(&prog))?;
    if settings.stats {
        metrics::enable();
    }
    let tool = choose_tool(&prog, cli.tool.as_deref())?;
    if let Some(dir) = &cli.dir {
        // Tools print only their output (and --quiet nothing extra).
        if tool.is_none() && settings.config.verbosity != Verbosity::NoStatusUpdate {
            println!("{prog}: Entering directory `{dir}'");
        }
        std::env::set_current_dir(dir).map_err(|e| {
            let msg = ggninja_executor::disk::io_message(&e);
            fatal(&prog, &format!("chdir to '{dir}' - {msg}"))
        })?;
    }
    // Still one thread: no other reads the environment.
    ggninja_executor::direct::export_pwd();
    let app = App::new(prog, cli, settings);
    if let Some((t, When::Flags(run))) = tool.map(|t| (t, t.when)) {
        return Ok(run(&app, &t.args(&cli.tool_args)));
    }
    process::install_signal_handlers();
    Ok(load_and_run(&app, tool, cli))
}

/// The tool `-t NAME` asks for, if any. Err: `-t list` listed them (0),
/// or there is no such tool (1).
fn choose_tool(prog: &str, name: Option<&str>) -> Result<Option<&'static Tool>, u8> {
    match name {
        None => Ok(None),
        Some("list") => {
            tools::list();
            Err(0)
        }
        Some(name) => tools::find(name).map(Some).map_err(|e| fatal(prog, &e)),
    }
}

/// ninja's main loop: load the manifest; run a tool at its phase, or
/// bring the manifest up to date (loading it again if that changed it)
/// and build.
fn load_and_run(app: &App, tool: Option<&'static Tool>, cli: &Cli) -> u8 {
    let key = saved::Key::new(&app.file, &app.parser);
    let mut request = noop::request(app, tool, cli, &key);
    // Before any stat: what the run stat'ed must be settled before it.
    let began_ns = saved::now_ns();
    let mut seen = None;
    // A daemon that did not answer is not asked again (one wait at most).
    let mut may_watch = true;
    match request.as_deref().map(noop::recall) {
        Some(Recalled::Holds(warnings)) => return noop::answer(app, &warnings),
        Some(Recalled::Not(s)) if !s.is_empty() => seen = Some(s),
        Some(Recalled::Unanswered) => may_watch = false,
        Some(Recalled::Not(_)) | None => {}
    }
    // One status line for every cycle, as ninja 1.12+ keeps one: a rebuilt
    // manifest's edges stay in the build's total (`[1/2]` after it).
    let mut carried: Option<Status> = None;
    for _cycle in 0..100 {
        // Build times count from here, as ninja's from each load.
        let start = Instant::now();
        let status = match carried.take() {
            Some(mut s) => {
                s.restart_clock(start);
                s
            }
            None => new_status(app, start),
        };
        // A remembered verdict rests on the text read: stamped before.
        let stamp_ahead = || (BUILD_LOG, saved::now_ns(), saved::Stamp::now(BUILD_LOG));
        let read_ahead = request.as_ref().map(|_| stamp_ahead());
        let ahead = tool.is_none().then(read_build_log_ahead).flatten();
        let Some((graph, manifest)) = load_manifest(app, &key) else {
            return 1;
        };
        let (build_log, deps_log) = (BuildLog::default(), DepsLog::default());
        let mut engine = Engine::new(graph, build_log, deps_log, app.config.clone());
        let targets = match &app.make {
            Some((_, goals)) => goals,
            None => &cli.targets,
        };
        let local = tool.is_none() && app.remote.is_none();
        let watching = local && may_watch && engine.watch();
        // What a no-op's check stat'ed, for the files named so far.
        seen = seen.and_then(|s| engine.take_seen(s));
        match tool.map(|t| (t, t.when)) {
            Some((t, When::Load(run))) => return run_tool(app, engine, t, run, &cli.tool_args),
            // The manifest's files are stat'ed while the logs load (not for
            // a remote build, whose disk also knows the files it left
            // remote, nor when a watcher says which need a stat).
            None if local && !watching => {
                engine.prestat(&tools::manifest_targets(&engine.graph, targets))
            }
            _ => {}
        }
        // Only the first cycle's verdict can be remembered: a rebuilt
        // manifest printed more than a no-op does.
        let logs = log_files(&engine.graph);
        let remembered = request.take().zip(manifest).zip(read_ahead);
        let basis = remembered.and_then(|((r, m), read_ahead)| {
            let basis = noop::basis(r, m, &logs, began_ns, read_ahead)?;
            engine.note_reads();
            Some(basis)
        });
        if open_logs(app, &mut engine, ahead).is_none() {
            return 1;
        }
        // And for the files the deps log named.
        if let Some(seen) = seen.take() {
            engine.take_seen(seen);
        }
        if let Some((t, When::Logs(run))) = tool.map(|t| (t, t.when)) {
            return run_tool(app, engine, t, run, &cli.tool_args);
        }
        // Before any file is stat'ed, the manifest's inputs included.
        engine.recall_watched();
        let status = match rebuild_manifest(app, &mut engine, status) {
            Ok(Rebuilt::Yes(_)) if app.config.dry_run => return 0,
            Ok(Rebuilt::Yes(s)) => {
                // ninja's logs, closed as the cycle ends, exist from now on.
                engine.build_log.create();
                engine.deps_log.create();
                carried = Some(s);
                continue;
            }
            Ok(Rebuilt::No(s)) => s,
            Err(BuildError::Fatal(msg)) => return app.fatal(&msg),
            Err(e) => {
                app.error(&format!("rebuilding '{}': {}", app.file, e.reason()));
                return 1;
            }
        };
        return build(app, engine, targets, status, basis);
    }
    app.error(&format!(
        "manifest '{}' still dirty after 100 tries, perhaps system time is not set",
        app.file
    ));
    1
}

/// The manifest's graph: its saved load when still current, else parsed
/// (and saved for the next run); and what the load read, unless the graph
/// came from make. A failure printed: None.
fn load_manifest(app: &App, key: &saved::Key) -> Option<(Graph, Option<Manifest>)> {
    if let Some((source, goals)) = &app.make {
        let _t = metrics::time(".ninja parse");
        return app
            .report(crate::make::load(source, goals))
            .map(|g| (g, None));
    }
    // Relative paths are the build's: it runs here.
    let here = Path::new("");
    let reused = {
        let _t = metrics::time(".ggninja_graph load");
        saved::load(here, &saved::location(here, &app.file), key)
    };
    let loaded = match reused {
        Some(loaded) => loaded,
        None => {
            let mut loaded = parse_manifest(app)?;
            if !app.config.dry_run {
                let _t = metrics::time(".ggninja_graph save");
                loaded.graph.hash_commands();
                // Only a cache: one that cannot be written is parsed next time.
                let _ = saved::save(here, key, &loaded);
            }
            loaded
        }
    };
    for w in &loaded.warnings {
        app.warning(w);
    }
    let manifest = Manifest {
        files: loaded.files,
        started_ns: loaded.started_ns,
        warnings: loaded.warnings,
    };
    Some((loaded.graph, Some(manifest)))
}

/// Parses the manifest (a failure printed: None).
fn parse_manifest(app: &App) -> Option<ggninja_importer::Loaded> {
    let _t = metrics::time(".ninja parse");
    let loaded = ggninja_importer::load(&app.file, &app.parser);
    app.report(loaded.map_err(|e| match crate::make::hint(&app.file) {
        Some(hint) => format!("{e}\n{hint}"),
        None => e.to_string(),
    }))
}

fn run_tool(app: &App, mut engine: Engine, tool: &Tool, run: Run, args: &[String]) -> u8 {
    let code = run(app, &mut engine, &tool.args(args));
    // A tool's stdout is its output: the table goes to stderr.
    if let Some(table) = metrics::report() {
        eprint!("{table}");
    }
    exit_without_freeing(engine);
    code
}

fn build(
    app: &App,
    mut engine: Engine,
    targets: &[String],
    status: Status,
    noop: Option<Basis>,
) -> u8 {
    let code = run_build(app, &mut engine, targets, status, noop);
    if let Some(table) = metrics::report() {
        print!(
            "{table}\npath->node entries: {}\n",
            engine.graph.paths.len()
        );
    }
    exit_without_freeing(engine);
    code
}

/// Leaves a loaded graph to the OS: freeing 100k nodes one by one costs
/// more than the rest of a no-op build's bookkeeping. (Logs are flushed on
/// every write, so nothing is lost.)
fn exit_without_freeing(engine: Engine) {
    std::mem::forget(engine);
}

/// A loaded log and its warning, or why it could not be read.
type Loaded<T> = std::io::Result<(T, Option<String>)>;

/// Prints a log's warning, or its error (then None).
fn report_log<T>(app: &App, what: &str, file: &str, loaded: Loaded<T>) -> Option<T> {
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

/// Loads both logs into `engine`, recompacting them when they have grown
/// too large; the build log from `ahead` if it is where that read it. An
/// error printed: None.
fn open_logs(app: &App, engine: &mut Engine, ahead: Option<Ahead>) -> Option<()> {
    let graph = &mut engine.graph;
    if let Some(dir) = graph.scopes.lookup(ggninja_graph::ROOT_SCOPE, "builddir") {
        if !dir.is_empty() && !app.config.dry_run {
            if let Err(e) = std::fs::create_dir_all(dir) {
                let msg = ggninja_executor::disk::io_message(&e);
                app.error(&format!("creating build directory {dir}: {msg}"));
                return None;
            }
        }
    }
    let [build_file, deps_file] = log_files(graph);
    let ahead = ahead.filter(|_| build_file == BUILD_LOG);
    let save_index = !app.config.dry_run;
    let (build_log, deps_log) = load_logs(&build_file, &deps_file, graph, ahead, save_index);
    engine.build_log = report_log(app, "build log", &build_file, build_log)?;
    let deps_log = deps_log.expect("read when the build log was");
    engine.deps_log = report_log(app, "deps log", &deps_file, deps_log)?;
    engine.sync_states();
    if !app.config.dry_run {
        app.report(tools::logs::recompact_if_needed(engine, false))?;
    }
    Some(())
}

/// Where the build log and the deps log are.
fn log_files(graph: &Graph) -> [String; 2] {
    [BUILD_LOG, ".ninja_deps"].map(|f| graph.in_builddir(f))
}

/// The build log's name, and where it is when the manifest sets no
/// `builddir`.
const BUILD_LOG: &str = ".ninja_log";

/// The build log read on another thread while the manifest loads: the
/// graph's load is one thread's work, and a core waits meanwhile (for the
/// logs, then the stats ahead of the scan, both cores are busy).
type Ahead = std::thread::JoinHandle<std::io::Result<Unsettled>>;

/// Reads the build log where it is without a `builddir`, ahead; None if
/// no thread could start. Read only: `load_logs` settles it if the
/// manifest says it is the build's log.
fn read_build_log_ahead() -> Option<Ahead> {
    let read = || BuildLog::read(Path::new(BUILD_LOG));
    std::thread::Builder::new()
        .name("build log".to_string())
        .spawn(read)
        .ok()
}

/// Reads the build log, then the deps log unless the build log failed
/// (reading the deps log may repair or remove it: ninja would not have).
/// When the build log opens as a file, the two are read at once: it on
/// another thread, the deps log, which makes files in the graph, here
/// (saving its index unless told not to: a dry run writes nothing).
fn load_logs(
    build_file: &str,
    deps_file: &str,
    graph: &mut Graph,
    ahead: Option<Ahead>,
    save_index: bool,
) -> (Loaded<BuildLog>, Option<Loaded<DepsLog>>) {
    let load_build = || {
        let _t = metrics::time(".ninja_log load");
        BuildLog::load(Path::new(build_file))
    };
    let load_deps = |graph: &mut Graph| {
        let _t = metrics::time(".ninja_deps load");
        DepsLog::load(Path::new(deps_file), graph, save_index)
    };
    if let Some(ahead) = ahead {
        let build = {
            let _t = metrics::time(".ninja_log load");
            let read = ahead.join();
            read.unwrap_or_else(|p| std::panic::resume_unwind(p))
        };
        let build = build.map(Unsettled::settle);
        let deps = build.is_ok().then(|| load_deps(graph));
        return (build, deps);
    }
    // At once only when the build log is a file or absent, so it cannot
    // fail before a byte of it is read.
    let at_once = match std::fs::File::open(build_file) {
        Ok(f) => f.metadata().is_ok_and(|m| m.is_file()),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    };
    if !at_once {
        let build = load_build();
        let deps = build.is_ok().then(|| load_deps(graph));
        return (build, deps);
    }
    std::thread::scope(|s| {
        let build = s.spawn(load_build);
        let deps = load_deps(graph);
        let build = build
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (build, Some(deps))
    })
}

fn new_status(app: &App, start: Instant) -> Status {
    let parallelism = app.config.parallelism.min(1024);
    Status::new(app.config.verbosity, parallelism, start)
}

/// Whether the manifest was rebuilt (and must be loaded again), with the
/// status line to go on with.
enum Rebuilt {
    Yes(Status),
    No(Status),
}

/// Brings the manifest up to date first, as ninja does.
fn rebuild_manifest(app: &App, engine: &mut Engine, status: Status) -> Result<Rebuilt, BuildError> {
    let Some(path) = canonicalize(&app.file) else {
        return Err(BuildError::Setup("empty path".to_string()));
    };
    let Some(node) = engine.graph.lookup(&path) else {
        return Ok(Rebuilt::No(status));
    };
    let mut builder = Builder::new(engine, status);
    builder.add_target(node).map_err(BuildError::Setup)?;
    if builder.already_up_to_date() {
        return Ok(Rebuilt::No(builder.into_status()));
    }
    let result = builder.build();
    let status = builder.into_status();
    result?;
    if !engine.is_dirty(node) {
        // A restat found the manifest unchanged: rescan from scratch.
        engine.reset_states();
        return Ok(Rebuilt::No(status));
    }
    Ok(Rebuilt::Yes(status))
}

/// The execution backends `--remote`, `--sandbox` and `--cache` ask for:
/// the remote executor, the sandbox or local processes, behind the memo.
fn backend_stack(
    app: &App,
    engine: &mut Engine,
    targets: &[FileId],
    thunks: &Thunks,
) -> Result<Box<dyn Backend>, String> {
    let runner: Box<dyn Backend> = match (&app.remote, app.sandbox) {
        // A dry run runs nothing: no reason to connect.
        (Some(flags), _) if !app.config.dry_run => {
            remote::backend(app, flags, engine, targets, thunks)?
        }
        (_, true) => Box::new(Sandboxed::new(Sandbox::open(thunks.roots.clone())?)),
        (_, false) => Box::new(Local::default()),
    };
    let Some(store) = &app.store else {
        return Ok(runner);
    };
    let limit = Limit {
        bytes: app.cache_limit,
        prog: app.prog.clone(),
    };
    match Memoizer::open(store, thunks.roots.clone(), limit) {
        Ok(m) => {
            // The memo is asked first: keys kept between runs can serve.
            if let Some(identity) = ggninja_importer::saved::binary_identity() {
                thunks.keep_keys(identity);
            }
            let memo = Memoized::new(m, runner);
            Ok(Box::new(match app.config.keep_depfile {
                true => memo,
                false => memo.hand_over_depfiles(),
            }))
        }
        Err(e) => {
            cache_disabled(app, store, &e);
            Ok(runner)
        }
    }
}

/// The warning of a `--cache` build whose store cannot be opened: it goes
/// on without it.
pub fn cache_disabled(app: &App, store: &std::path::Path, e: &std::io::Error) {
    app.warning(&format!("cache disabled: {}: {e}", store.display()));
}

fn run_build(
    app: &App,
    engine: &mut Engine,
    args: &[String],
    status: Status,
    noop: Option<Basis>,
) -> u8 {
    let targets: Vec<FileId> = match tools::collect_targets(engine, args) {
        Ok(t) => t,
        Err(e) => {
            app.error(&e);
            return 1;
        }
    };
    // Dropped after the builder: the pool outlives every slot taken from it.
    let mut jobserver = crate::jobserver::setup(app);
    let saved_dir = std::path::PathBuf::from(engine.graph.in_builddir(""));
    let mut stack = None;
    if app.store.is_some() || app.sandbox || app.remote.is_some() {
        let cwd = std::env::current_dir().unwrap_or_default();
        let thunks = Thunks::open(&cwd, &saved_dir);
        match backend_stack(app, engine, &targets, &thunks) {
            Ok(b) => stack = Some((b, thunks)),
            Err(e) => return fatal(&app.prog, &e),
        }
    }
    let mut builder = Builder::new(engine, status).with_times_from_log();
    if let Some((backend, thunks)) = stack {
        builder = builder.with_backend(backend, thunks);
    }
    if let Some(client) = jobserver.client.take() {
        builder = builder.with_jobserver(client);
    }
    builder.prestat(&targets);
    for t in targets {
        if let Err(e) = builder.add_target(t) {
            app.error(&e);
            return 1;
        }
    }
    let up_to_date = builder.already_up_to_date();
    // A verdict is remembered only when it is all the run printed.
    let noop = noop.filter(|b| up_to_date && app.printed() == b.warnings.len());
    builder.remember(noop.as_ref());
    if up_to_date {
        // ninja 1.13's --quiet keeps this quiet too (1.11 printed it).
        if app.config.verbosity != Verbosity::NoStatusUpdate {
            app.info("no work to do.");
        }
        // A backend may still owe the tree something (outputs a remote
        // build left in its bucket).
        builder.close();
        return 0;
    }
    crate::allocator::building();
    let result = builder.build();
    builder.close();
    match result {
        Ok(()) => 0,
        Err(BuildError::Fatal(msg)) => app.fatal(&msg),
        Err(e) => {
            app.info(&e.to_string());
            e.exit_code()
        }
    }
}
