//! `--make` and `--make-db`: the build graph from GNU make's database
//! instead of a manifest. The flags become a make invocation; what make
//! printed while reading its makefiles is passed on; the logs then work
//! as for a build.ninja.

use ggninja_graph::Graph;
use ggninja_importer::make::{self, Invocation, Message};

use crate::cli::Cli;

/// Where the graph comes from in make mode.
#[derive(Debug, Clone)]
pub enum Source {
    /// Run make here (`-f` files, `VAR=value` assignments).
    Run(Invocation),
    /// A saved dump.
    Dump(String),
}

/// The make source `cli` asks for, and the goals (targets that are not
/// assignments); None when the build is a manifest's.
pub fn source(cli: &Cli) -> Option<(Source, Vec<String>)> {
    if !cli.make && cli.make_db.is_none() {
        return None;
    }
    let (assignments, goals): (Vec<String>, Vec<String>) =
        cli.targets.iter().cloned().partition(|t| is_assignment(t));
    let source = match &cli.make_db {
        Some(file) => Source::Dump(file.clone()),
        None => Source::Run(Invocation {
            program: None,
            // Absolute: the kept database is keyed by it.
            dir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
            // `-f` keeps ninja's default when not given.
            makefiles: (cli.file != "build.ninja")
                .then(|| cli.file.clone())
                .into_iter()
                .collect(),
            assignments,
            env: Vec::new(),
            // What ninja's `--quiet` hides, the commands, make's `-s` does.
            silent: cli.quiet && cli.quiet_last,
        }),
    };
    Some((source, goals))
}

/// `NAME=value` (also `NAME:=value`, `NAME+=value`), as make tells them
/// from targets.
fn is_assignment(arg: &str) -> bool {
    arg.split_once('=')
        .is_some_and(|(name, _)| !name.is_empty() && !name.contains(['/', ' ']))
}

/// Loads the graph; Err is the message to print.
pub fn load(source: &Source, goals: &[String]) -> Result<Graph, String> {
    let imported = match source {
        Source::Run(inv) => {
            let loaded = make::load(inv, goals, Some(CACHE.as_ref())).map_err(|e| e.to_string())?;
            print!("{}", loaded.printed);
            eprint!("{}", loaded.said);
            loaded.imported
        }
        Source::Dump(file) => {
            make::load_dump(file, ".".as_ref(), goals).map_err(|e| e.to_string())?
        }
    };
    for (name, value) in &imported.command_env {
        ggninja_executor::process::set_command_env(name, value);
    }
    for m in &imported.messages {
        match m {
            Message::Info(text) => println!("{text}"),
            Message::Warning(text) => eprintln!("warning: {text}"),
        }
    }
    Ok(imported.graph)
}

/// Where make's databases are kept between runs (docs/make.md).
pub const CACHE: &str = ".ggninja_make";

/// The hint for a directory that has a Makefile and no build.ninja.
pub fn hint(file: &str) -> Option<&'static str> {
    let makefile = ["GNUmakefile", "makefile", "Makefile"]
        .iter()
        .any(|m| std::path::Path::new(m).exists());
    (file == "build.ninja" && makefile && !std::path::Path::new(file).exists())
        .then_some("there is a Makefile here: use --make to build it")
}
