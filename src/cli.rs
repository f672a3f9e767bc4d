//! Command-line flags, parsed as ninja parses them (everything after
//! `-t TOOL` belongs to the tool), and turned into the build's settings.

use clap::{CommandFactory, FromArgMatches, Parser};
use ggninja_executor::jobserver::Style;
use ggninja_executor::priority::Priority;
use ggninja_executor::status::Verbosity;
use ggninja_executor::Config;
use ggninja_importer::Options;

use crate::spell::did_you_mean;

#[derive(Parser, Debug)]
// As ninja's getopt loop, a flag given again overrides its earlier value.
#[command(
    name = "ggninja",
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true
)]
pub struct Cli {
    /// change to DIR before doing anything else
    #[arg(short = 'C', value_name = "DIR", allow_hyphen_values = true)]
    pub dir: Option<String>,
    /// specify input build file
    #[arg(
        short = 'f',
        value_name = "FILE",
        default_value = "build.ninja",
        allow_hyphen_values = true
    )]
    pub file: String,
    #[arg(short = 'j', value_name = "N", allow_hyphen_values = true)]
    pub jobs: Option<String>,
    #[arg(short = 'k', value_name = "N", allow_hyphen_values = true)]
    pub keep_going: Option<String>,
    #[arg(short = 'l', value_name = "N", allow_hyphen_values = true)]
    pub load: Option<String>,
    #[arg(short = 'n')]
    pub dry_run: bool,
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    #[arg(long)]
    pub quiet: bool,
    #[arg(short = 'd', value_name = "MODE", allow_hyphen_values = true)]
    pub debug: Vec<String>,
    #[arg(short = 'w', value_name = "FLAG", allow_hyphen_values = true)]
    pub warn: Vec<String>,
    #[arg(long)]
    pub version: bool,
    /// Reuse the outputs of identical commands from the store (thunks).
    #[arg(long)]
    pub cache: bool,
    /// Where the store is [default: $GGNINJA_STORE or ~/.cache/ggninja/store].
    #[arg(long, value_name = "DIR")]
    pub store: Option<String>,
    /// The store's size limit [default: $GGNINJA_CACHE_SIZE or 5G].
    #[arg(long, value_name = "SIZE")]
    pub cache_size: Option<String>,
    /// Run each thunk alone with its footprint, under the canonical root.
    #[arg(long)]
    pub sandbox: bool,
    /// Run thunks remotely: `lambda` (with the `remote` feature).
    #[arg(long, value_name = "KIND")]
    pub remote: Option<String>,
    #[arg(long, value_name = "BUCKET")]
    pub remote_bucket: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub remote_function: Option<String>,
    #[arg(long, value_name = "yes|no")]
    pub remote_upload: Option<String>,
    #[arg(long, value_name = "yes|no")]
    pub remote_fallback: Option<String>,
    #[arg(long, value_name = "N")]
    pub remote_retries: Option<String>,
    #[arg(long, value_name = "SECONDS")]
    pub remote_timeout: Option<String>,
    #[arg(long, value_name = "N")]
    pub remote_concurrency: Option<String>,
    #[arg(long, value_name = "all|toplevel")]
    pub remote_download: Option<String>,
    /// Share a jobserver pool of -j slots with the commands run.
    #[arg(long)]
    pub jobserver_pool: bool,
    /// The pool's style: fifo (make 4.4) or pipe (make 4.3 and older).
    #[arg(long, value_name = "fifo|pipe")]
    pub jobserver_style: Option<String>,
    /// Which ready edge starts first: chain (ninja 1.12+), logged, node-order.
    #[arg(long, value_name = "RULE")]
    pub priority: Option<String>,
    /// Read the build from GNU make's database (`make -p`) instead.
    #[arg(long)]
    pub make: bool,
    /// Read the build from a saved `make -p` dump.
    #[arg(long, value_name = "FILE")]
    pub make_db: Option<String>,
    #[arg(short = 'h', long = "help")]
    pub help: bool,
    pub targets: Vec<String>,
    /// `--quiet` came after the last `-v` (ninja applies them in order).
    #[arg(skip)]
    pub quiet_last: bool,
    #[arg(skip)]
    pub tool: Option<String>,
    #[arg(skip)]
    pub tool_args: Vec<String>,
}

/// Short options that take a value, as in ninja's getopt string.
const WITH_VALUE: &str = "dfjklwC";

/// Finds `-t TOOL` (or `-tTOOL`) and splits argv there.
fn split_tool(args: &[String]) -> (Vec<String>, Option<(String, Vec<String>)>) {
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            break;
        }
        if let Some(flags) = a
            .strip_prefix('-')
            .filter(|f| !f.starts_with('-') && !f.is_empty())
        {
            for (pos, c) in flags.char_indices() {
                let rest = &flags[pos + c.len_utf8()..];
                if c == 't' {
                    let (tool, next) = if rest.is_empty() {
                        (args.get(i + 1).cloned(), i + 2)
                    } else {
                        (Some(rest.to_string()), i + 1)
                    };
                    let Some(tool) = tool else { break };
                    let mut before = args[..i].to_vec();
                    let prefix = &flags[..pos];
                    if !prefix.is_empty() {
                        before.push(format!("-{prefix}"));
                    }
                    return (
                        before,
                        Some((tool, args.get(next..).unwrap_or_default().to_vec())),
                    );
                }
                if WITH_VALUE.contains(c) {
                    if rest.is_empty() {
                        i += 1;
                    }
                    break;
                }
            }
        } else if a == "--tool" {
            let tool = args.get(i + 1).cloned().unwrap_or_default();
            return (
                args[..i].to_vec(),
                Some((tool, args.get(i + 2..).unwrap_or_default().to_vec())),
            );
        }
        i += 1;
    }
    (args.to_vec(), None)
}

pub fn parse(args: &[String]) -> Result<Cli, clap::Error> {
    let (before, tool) = split_tool(args);
    let matches = Cli::command().try_get_matches_from(before)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    let last = |id| {
        let given = matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
        matches
            .indices_of(id)
            .filter(|_| given)
            .and_then(|i| i.max())
    };
    cli.quiet_last = last("quiet") > last("verbose");
    if let Some((name, rest)) = tool {
        cli.tool = Some(name);
        cli.tool_args = rest;
    }
    Ok(cli)
}

pub fn usage(prog: &str, jobs: usize) -> String {
    format!(
        "usage: {prog} [options] [targets...]

if targets are unspecified, builds the 'default' target (see manual).

options:
  --version      print ninja version (\"{v}\")
  -v, --verbose  show all command lines while building
  --quiet        don't show progress status, just command output

  -C DIR   change to DIR before doing anything else
  -f FILE  specify input build file [default=build.ninja]

  -j N     run N jobs in parallel (0 means infinity) [default={jobs} on this system]
  -k N     keep going until N jobs fail (0 means infinity) [default=1]
  -l N     do not start new jobs if the load average is greater than N
  -n       dry run (don't run commands but act like they succeeded)

  -d MODE  enable debugging (use '-d list' to list modes)
  -t TOOL  run a subtool (use '-t list' to list subtools)
    terminates toplevel options; further flags are passed to the tool
  -w FLAG  adjust warnings (use '-w list' to list warnings)

ggninja options:
  --cache        reuse outputs of identical commands from the store (memoized thunks)
  --store DIR    the store [default: $GGNINJA_STORE or ~/.cache/ggninja/store]
  --cache-size SIZE  evict least recently used results past SIZE (as 5G, 500M)
                 [default: $GGNINJA_CACHE_SIZE or 5G; see -t cache]
  --sandbox      run each thunk with only its footprint visible (bubblewrap)
  --remote lambda          run thunks on AWS Lambda, objects and memo in S3 [default -j 64]
  --remote-bucket B        [default: $GGNINJA_BUCKET]
  --remote-function F      [default: $GGNINJA_LAMBDA_FUNCTION]
  --remote-upload=no       only read the remote cache; run misses here
  --remote-fallback=no     fail an edge after remote trouble instead of running it here
  --remote-retries N       invocation attempts before that [default 6]
  --remote-timeout SECS    one invocation's limit [default 900]
  --remote-concurrency N   invocations in flight at most [default: $GGNINJA_REMOTE_CONCURRENCY or -j]
  --remote-download=toplevel  leave intermediate objects and archives in the bucket [default: all]
  --jobserver-pool         share a GNU make jobserver pool of -j slots with the commands
                           (their sub-makes, cargo, ninja) [also a client of it]
  --jobserver-style=pipe   the pool as inherited pipe descriptors, for make 4.3 and older
                           [default: fifo, as make 4.4]
  --priority RULE  which ready edge starts first: chain (the longest chain of edges after it,
                 as ninja 1.12+), logged (the longest chain of .ninja_log times), node-order
                 (ninja 1.11; make) [default: chain; node-order with --make]
  --make         read the build from GNU make's database (make -p): -f names the makefile,
                 VAR=value among the targets is passed to make [make: $MAKE]
  --make-db FILE read the build from a saved `make -p` dump
",
        v = ggninja_importer::VERSION
    )
}

/// Why the flags end the run before anything is loaded, with exit 1.
#[derive(Debug, PartialEq)]
pub enum Message {
    /// A listing (`-d list`, `-w list`), on stdout.
    List(&'static str),
    /// `PROG: error: ...`
    Error(String),
    /// `PROG: fatal: ...`
    Fatal(String),
}

impl Message {
    /// Prints the message; returns the exit code.
    pub fn print(&self, prog: &str) -> u8 {
        match self {
            Message::List(text) => println!("{text}"),
            Message::Error(msg) => eprintln!("{prog}: error: {msg}"),
            Message::Fatal(msg) => eprintln!("{prog}: fatal: {msg}"),
        }
        1
    }
}

/// What the flags set besides the tool, its arguments and the targets.
#[derive(Debug)]
pub struct Settings {
    pub config: Config,
    pub parser: Options,
    /// `-d stats`: time and count operations, and print the table at exit.
    pub stats: bool,
    /// `--remote lambda` and its flags.
    pub remote: Option<RemoteFlags>,
    pub jobserver: JobserverFlags,
    /// `--cache-size`: the store's limit in bytes.
    pub cache_limit: u64,
}

/// What decides the jobserver's part in a build.
#[derive(Debug, Clone, PartialEq)]
pub struct JobserverFlags {
    /// `-j` given: a pool `MAKEFLAGS` names is ignored (as with `-n`).
    pub explicit_jobs: bool,
    /// `--jobserver-pool`, in this style.
    pub pool: Option<Style>,
}

/// `--jobserver-pool` and `--jobserver-style`.
fn jobserver_flags(cli: &Cli) -> Result<JobserverFlags, Message> {
    let style = match cli.jobserver_style.as_deref() {
        None | Some("fifo") => Style::Fifo,
        Some("pipe") => Style::Pipe,
        Some(v) => {
            return Err(Message::Error(format!(
                "--jobserver-style: expected fifo or pipe, got '{v}'"
            )))
        }
    };
    Ok(JobserverFlags {
        explicit_jobs: cli.jobs.is_some(),
        pool: cli.jobserver_pool.then_some(style),
    })
}

/// Where and how to run remotely, as the flags and environment say.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteFlags {
    pub bucket: String,
    pub function: String,
    pub upload: bool,
    pub fallback: bool,
    pub retries: Option<u32>,
    pub timeout_secs: Option<u64>,
    /// Invocations in flight at most (the function's reserved
    /// concurrency), whatever `-j` says.
    pub concurrency: Option<usize>,
    /// `--remote-download=toplevel`: leave intermediate objects in the
    /// bucket.
    pub toplevel_only: bool,
}

/// The `-j` of a remote build when none is given: invocations wait on the
/// network, not on this machine's cores.
pub const REMOTE_JOBS: usize = 64;

/// `--remote KIND` and its flags; None without `--remote`.
pub fn remote_flags(
    cli: &Cli,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<RemoteFlags>, Message> {
    let Some(kind) = &cli.remote else {
        return Ok(None);
    };
    if kind != "lambda" {
        return Err(Message::Error(format!(
            "unknown remote '{kind}' (the one there is: lambda)"
        )));
    }
    let named = |flag: &Option<String>, var: &str, what: &str| {
        flag.clone()
            .or_else(|| env(var))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Message::Error(format!(
                    "--remote lambda needs a {what}: --remote-{what} or {var}"
                ))
            })
    };
    let yes_no = |flag: &Option<String>, name: &str| match flag.as_deref() {
        None | Some("yes") => Ok(true),
        Some("no") => Ok(false),
        Some(v) => Err(Message::Error(format!(
            "--remote-{name}: expected yes or no, got '{v}'"
        ))),
    };
    let number = |flag: &Option<String>, name: &str| {
        flag.as_deref()
            .map(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| Message::Error(format!("--remote-{name}: invalid number '{v}'")))
            })
            .transpose()
    };
    Ok(Some(RemoteFlags {
        bucket: named(&cli.remote_bucket, "GGNINJA_BUCKET", "bucket")?,
        function: named(&cli.remote_function, "GGNINJA_LAMBDA_FUNCTION", "function")?,
        upload: yes_no(&cli.remote_upload, "upload")?,
        fallback: yes_no(&cli.remote_fallback, "fallback")?,
        retries: number(&cli.remote_retries, "retries")?.map(|n| n.min(100) as u32),
        timeout_secs: number(&cli.remote_timeout, "timeout")?,
        concurrency: number(
            &cli.remote_concurrency
                .clone()
                .or_else(|| env("GGNINJA_REMOTE_CONCURRENCY")),
            "concurrency",
        )?
        .map(|n| n as usize),
        toplevel_only: match cli.remote_download.as_deref() {
            None | Some("all") => false,
            Some("toplevel") => true,
            Some(v) => {
                return Err(Message::Error(format!(
                    "--remote-download: expected all or toplevel, got '{v}'"
                )))
            }
        },
    }))
}

/// ninja's default -j: cores + 2 (3 on two cores, 2 on one).
pub fn guess_parallelism() -> usize {
    match std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
    {
        0 | 1 => 2,
        2 => 3,
        n => n + 2,
    }
}

/// The settings `cli` asks for, in ninja's order: `-d`, `-w`, then `-j`,
/// `-k`, `-l`, `-v`, `--quiet`. `warn` prints a warning as it is found.
pub fn settings(
    cli: &Cli,
    prog: &str,
    jobs: usize,
    warn: &mut dyn FnMut(&str),
) -> Result<Settings, Message> {
    let mut s = Settings {
        config: Config {
            prog: prog.to_string(),
            parallelism: jobs,
            failures_allowed: 1,
            max_load: None,
            dry_run: cli.dry_run,
            verbosity: Verbosity::Normal,
            explain: false,
            keep_depfile: false,
            keep_rsp: false,
            priority: Priority::default(),
        },
        parser: Options::default(),
        stats: false,
        remote: remote_flags(cli, &|v| std::env::var(v).ok())?,
        jobserver: jobserver_flags(cli)?,
        cache_limit: cache_limit(cli, &|v| std::env::var(v).ok())?,
    };
    if s.remote.is_some() {
        s.config.parallelism = REMOTE_JOBS;
    }
    for d in &cli.debug {
        debug_mode(d, &mut s)?;
    }
    for w in &cli.warn {
        if let Some(deprecated) = warning_flag(w, &mut s.parser)? {
            warn(deprecated);
        }
    }
    if let Some(j) = &cli.jobs {
        s.config.parallelism = parallelism(j)?;
    }
    s.config.priority = priority(cli)?;
    if let Some(k) = &cli.keep_going {
        s.config.failures_allowed = failures_allowed(k)?;
    }
    if let Some(l) = &cli.load {
        s.config.max_load = Some(max_load(l)?);
    }
    if cli.verbose {
        s.config.verbosity = Verbosity::Verbose;
    }
    if cli.quiet && cli.quiet_last {
        s.config.verbosity = Verbosity::NoStatusUpdate;
    }
    Ok(s)
}

const DEBUG_LIST: &str = "debugging modes:
  stats        print operation counts/timing info
  explain      explain what caused a command to execute
  keepdepfile  don't delete depfiles after they're read by ninja
  keeprsp      don't delete @response files on success
multiple modes can be enabled via -d FOO -d BAR";

/// `-d` modes, in the order ninja spellchecks them.
const DEBUG_MODES: &[Setting<Settings>] = &[
    ("stats", |s| s.stats = true),
    ("explain", |s| s.config.explain = true),
    ("keepdepfile", |s| s.config.keep_depfile = true),
    ("keeprsp", |s| s.config.keep_rsp = true),
    // Accepted as ninja accepts it; it changes nothing here.
    ("nostatcache", |_| {}),
];

/// Applies `-d MODE`.
pub fn debug_mode(mode: &str, s: &mut Settings) -> Result<(), Message> {
    if mode == "list" {
        return Err(Message::List(DEBUG_LIST));
    }
    apply(DEBUG_MODES, mode, s, "debug setting")
}

const WARNING_LIST: &str =
    "warning flags:\n  phonycycle={err,warn}  phony build statement references itself";

/// `-w` flags, in the order ninja spellchecks them.
const WARNING_FLAGS: &[Setting<Options>] = &[
    ("phonycycle=err", |p| p.phonycycle_is_error = true),
    ("phonycycle=warn", |p| p.phonycycle_is_error = false),
];

/// Applies `-w FLAG`. Ok(Some(w)): a warning to print, and go on.
pub fn warning_flag(flag: &str, parser: &mut Options) -> Result<Option<&'static str>, Message> {
    match flag {
        "list" => return Err(Message::List(WARNING_LIST)),
        "depfilemulti=err" | "depfilemulti=warn" => {
            return Ok(Some("deprecated warning 'depfilemulti'"))
        }
        // Since ninja 1.12 a duplicate output is always an error.
        "dupbuild=err" | "dupbuild=warn" => return Ok(Some("deprecated warning 'dupbuild'")),
        _ => {}
    }
    apply(WARNING_FLAGS, flag, parser, "warning flag").map(|()| None)
}

/// A `-d` mode or `-w` flag: its name and what it sets.
type Setting<T> = (&'static str, fn(&mut T));

/// Applies the setting `name` from `table` to `target`; else the error
/// for an unknown `what`, naming the closest.
fn apply<T>(table: &[Setting<T>], name: &str, target: &mut T, what: &str) -> Result<(), Message> {
    if let Some((_, set)) = table.iter().find(|(n, _)| *n == name) {
        set(target);
        return Ok(());
    }
    let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
    let hint = did_you_mean(name, &names);
    Err(Message::Error(format!("unknown {what} '{name}'{hint}")))
}

/// `-j N`: 0 means no limit.
/// `--priority`; make has no priority, so an imported make build keeps
/// its node order unless asked otherwise.
fn priority(cli: &Cli) -> Result<Priority, Message> {
    match cli.priority.as_deref() {
        None if cli.make || cli.make_db.is_some() => Ok(Priority::NodeOrder),
        None => Ok(Priority::default()),
        Some(name) => Priority::named(name).ok_or_else(|| {
            Message::Error(format!(
                "unknown --priority '{name}' (chain, logged, node-order)"
            ))
        }),
    }
}

/// `--cache-size`, else `$GGNINJA_CACHE_SIZE`, else 5 GiB.
fn cache_limit(cli: &Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<u64, Message> {
    let (text, from) = match (&cli.cache_size, env("GGNINJA_CACHE_SIZE")) {
        (Some(t), _) => (t.clone(), "--cache-size"),
        (None, Some(t)) if !t.is_empty() => (t, "GGNINJA_CACHE_SIZE"),
        _ => return Ok(ggninja_store::DEFAULT_LIMIT),
    };
    ggninja_store::parse_size(&text).map_err(|e| Message::Error(format!("{from}: {e}")))
}

pub fn parallelism(value: &str) -> Result<usize, Message> {
    match value.parse::<i64>() {
        Ok(0) => Ok(usize::MAX),
        Ok(n) if n > 0 => Ok(n as usize),
        _ => Err(Message::Fatal("invalid -j parameter".to_string())),
    }
}

/// `-k N`: 0 (or less) means never stop.
pub fn failures_allowed(value: &str) -> Result<usize, Message> {
    match value.parse::<i64>() {
        Ok(n) => Ok(n.max(0) as usize),
        Err(_) => Err(Message::Fatal(
            "-k parameter not numeric; did you mean -k 0?".to_string(),
        )),
    }
}

/// `-l N`: the load average above which no new job starts.
pub fn max_load(value: &str) -> Result<f64, Message> {
    value
        .trim()
        .parse::<f64>()
        .map_err(|_| Message::Fatal("-l parameter not numeric: did you mean -l 0.0?".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn tool_args_are_split_off() {
        let cli = parse(&args("ninja -C out -t clean -g foo")).unwrap();
        assert_eq!(cli.dir.as_deref(), Some("out"));
        assert_eq!(cli.tool.as_deref(), Some("clean"));
        assert_eq!(cli.tool_args, ["-g", "foo"]);
        let cli = parse(&args("ninja -ttargets all")).unwrap();
        assert_eq!(cli.tool.as_deref(), Some("targets"));
        assert_eq!(cli.tool_args, ["all"]);
        let cli = parse(&args("ninja -j8 all -v")).unwrap();
        assert_eq!(cli.jobs.as_deref(), Some("8"));
        assert!(cli.verbose);
        assert_eq!(cli.targets, ["all"]);
        let cli = parse(&args("ninja -C -t")).unwrap();
        assert_eq!(cli.dir.as_deref(), Some("-t"));
        assert!(cli.tool.is_none());
    }

    fn settings_of(line: &str) -> Result<Settings, Message> {
        let mut warnings = Vec::new();
        let s = settings(&parse(&args(line)).unwrap(), "ninja", 3, &mut |w| {
            warnings.push(w.to_string())
        });
        assert!(warnings.is_empty(), "{warnings:?}");
        s
    }

    #[test]
    fn a_repeated_flag_takes_its_last_value() {
        let s = settings_of("ninja -j 1 -n -j 4 -n -k 2 -k 3 -d explain -d stats").unwrap();
        assert_eq!(s.config.parallelism, 4);
        assert_eq!(s.config.failures_allowed, 3);
        assert!(s.config.dry_run && s.config.explain && s.stats);
    }

    #[test]
    fn the_last_of_verbose_and_quiet_wins() {
        let v = |line| settings_of(line).unwrap().config.verbosity;
        assert_eq!(v("ninja --quiet -v"), Verbosity::Verbose);
        assert_eq!(v("ninja -v --quiet"), Verbosity::NoStatusUpdate);
        assert_eq!(v("ninja --verbose --quiet --verbose"), Verbosity::Verbose);
    }

    #[test]
    fn defaults() {
        let s = settings_of("ninja").unwrap();
        assert_eq!(s.config.prog, "ninja");
        assert_eq!(s.config.parallelism, 3);
        assert_eq!(s.config.failures_allowed, 1);
        assert_eq!(s.config.max_load, None);
        assert_eq!(s.config.verbosity, Verbosity::Normal);
        assert!(!s.stats && !s.config.explain && !s.config.dry_run);
        assert!(!s.parser.phonycycle_is_error);
    }

    #[test]
    fn values_become_settings() {
        let s = settings_of("ninja -j 0 -k 0 -l 2.5 -n -d explain -d stats --quiet").unwrap();
        assert_eq!(s.config.parallelism, usize::MAX);
        assert_eq!(s.config.failures_allowed, 0);
        assert_eq!(s.config.max_load, Some(2.5));
        assert!(s.config.dry_run && s.config.explain && s.stats);
        assert_eq!(s.config.verbosity, Verbosity::NoStatusUpdate);
        let s = settings_of("ninja -j7 -k 5 -w phonycycle=err -v").unwrap();
        assert_eq!(s.config.parallelism, 7);
        assert_eq!(s.config.failures_allowed, 5);
        assert_eq!(failures_allowed("-3"), Ok(0));
        assert!(s.parser.phonycycle_is_error);
        assert_eq!(s.config.verbosity, Verbosity::Verbose);
    }

    #[test]
    fn jobserver_flags_come_from_j_and_the_pool_flags() {
        let flags = |line: &str| settings_of(line).map(|s| s.jobserver);
        let none = JobserverFlags {
            explicit_jobs: false,
            pool: None,
        };
        assert_eq!(flags("ninja"), Ok(none.clone()));
        assert!(flags("ninja -j3").unwrap().explicit_jobs);
        let pool = |style| JobserverFlags {
            pool: Some(style),
            ..none.clone()
        };
        assert_eq!(flags("ninja --jobserver-pool"), Ok(pool(Style::Fifo)));
        assert_eq!(
            flags("ninja --jobserver-pool --jobserver-style=pipe"),
            Ok(pool(Style::Pipe))
        );
        assert!(matches!(
            flags("ninja --jobserver-style=sem"),
            Err(Message::Error(m)) if m.contains("fifo or pipe")
        ));
    }

    #[test]
    fn bad_values_are_ninjas_errors() {
        fn fatal<T>(m: &str) -> Result<T, Message> {
            Err(Message::Fatal(m.to_string()))
        }
        assert_eq!(parallelism("-1"), fatal("invalid -j parameter"));
        assert_eq!(parallelism("x"), fatal("invalid -j parameter"));
        assert_eq!(
            failures_allowed("x"),
            fatal("-k parameter not numeric; did you mean -k 0?")
        );
        assert_eq!(
            max_load("x"),
            fatal("-l parameter not numeric: did you mean -l 0.0?")
        );
        assert_eq!(max_load(" 1.5 "), Ok(1.5));
        assert!(matches!(settings_of("ninja -j x"), Err(Message::Fatal(_))));
    }

    #[test]
    fn debug_and_warning_flags() {
        let mut s = settings_of("ninja").unwrap();
        assert!(matches!(debug_mode("list", &mut s), Err(Message::List(_))));
        assert_eq!(
            debug_mode("explian", &mut s),
            Err(Message::Error(
                "unknown debug setting 'explian', did you mean 'explain'?".to_string()
            ))
        );
        assert_eq!(debug_mode("nostatcache", &mut s), Ok(()));
        assert!(matches!(
            warning_flag("list", &mut s.parser),
            Err(Message::List(_))
        ));
        assert_eq!(
            warning_flag("depfilemulti=err", &mut s.parser),
            Ok(Some("deprecated warning 'depfilemulti'"))
        );
        assert_eq!(
            warning_flag("dupbuild=warn", &mut s.parser),
            Ok(Some("deprecated warning 'dupbuild'"))
        );
        assert_eq!(
            warning_flag("phonycycle=wrn", &mut s.parser),
            Err(Message::Error(
                "unknown warning flag 'phonycycle=wrn', did you mean 'phonycycle=warn'?"
                    .to_string()
            ))
        );
    }

    #[test]
    fn the_cache_size_comes_from_the_flag_then_the_environment() {
        let env = |v: &str| (v == "GGNINJA_CACHE_SIZE").then(|| "200M".to_string());
        let none = |_: &str| None;
        let limit = |line: &str, env: &dyn Fn(&str) -> Option<String>| {
            cache_limit(&parse(&args(line)).unwrap(), env)
        };
        assert_eq!(limit("ninja", &none), Ok(5 << 30));
        assert_eq!(limit("ninja", &env), Ok(200 << 20));
        assert_eq!(limit("ninja --cache-size 1G", &env), Ok(1 << 30));
        assert_eq!(limit("ninja --cache-size=0", &env), Ok(0));
        let Err(Message::Error(e)) = limit("ninja --cache-size 5X", &none) else {
            panic!("a bad size is an error");
        };
        assert!(e.starts_with("--cache-size: invalid size '5X'"), "{e}");
    }

    #[test]
    fn remote_flags_come_from_flags_then_environment() {
        let env = |v: &str| match v {
            "GGNINJA_BUCKET" => Some("env-bucket".to_string()),
            "GGNINJA_LAMBDA_FUNCTION" => Some("env-fn".to_string()),
            _ => None,
        };
        let none = |_: &str| None;
        let flags = |line: &str, env: &dyn Fn(&str) -> Option<String>| {
            remote_flags(&parse(&args(line)).unwrap(), env)
        };
        assert_eq!(flags("ninja", &env), Ok(None));
        let r = flags("ninja --remote lambda --remote-bucket b", &env)
            .unwrap()
            .unwrap();
        assert_eq!((r.bucket.as_str(), r.function.as_str()), ("b", "env-fn"));
        assert!(r.upload && r.fallback && r.retries.is_none());
        let r = flags(
            "ninja --remote lambda --remote-upload=no --remote-fallback no --remote-retries 3",
            &env,
        )
        .unwrap()
        .unwrap();
        assert!(!r.upload && !r.fallback);
        assert_eq!(r.retries, Some(3));
        let err = |line: &str, env: &dyn Fn(&str) -> Option<String>| match flags(line, env) {
            Err(Message::Error(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(err("ninja --remote lambda", &none).contains("GGNINJA_BUCKET"));
        assert!(err("ninja --remote ec2", &env).contains("unknown remote"));
        assert!(err("ninja --remote lambda --remote-upload=maybe", &env).contains("yes or no"));
        assert!(err("ninja --remote lambda --remote-retries 0", &env).contains("invalid"));
        assert!(err("ninja --remote lambda --remote-download=some", &env).contains("toplevel"));
        let r = flags("ninja --remote lambda --remote-download=toplevel", &env);
        assert!(r.unwrap().unwrap().toplevel_only);
        let s = settings_of("ninja --remote lambda --remote-bucket b --remote-function f").unwrap();
        assert_eq!(s.config.parallelism, REMOTE_JOBS);
        let s = settings_of("ninja -j 7 --remote lambda --remote-bucket b --remote-function f")
            .unwrap();
        assert_eq!(s.config.parallelism, 7);
    }
}
