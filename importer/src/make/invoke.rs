//! Running GNU make to print its database, without building anything.
//!
//! `LC_ALL=C make -p --eval=<goal>: ... <goal>`: `-p` prints the database
//! when make exits, and the goal, a target defined on the command line
//! with no prerequisites, needs nothing else: its own recipe, which only
//! prints the environment make gives recipes (`environment.rs`), is the
//! one line that runs. No recipe of the makefiles runs, not even those
//! naming `$(MAKE)` or starting with `+` (make runs those under `-n`).
//! What is left is what
//! every make invocation does before its goals: reading the makefiles
//! (their `$(shell)`, `$(info)`, `$(warning)`, `$(error)`) and remaking
//! makefiles that have a rule and are out of date (automake's
//! `Makefile: Makefile.in`), which `-q` does not prevent; that is decided:
//! the build the user asked for would do the same first.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::db::Database;

/// The goal the database is printed for: it makes nothing.
pub const IMPORT_GOAL: &str = ".ggninja-import";

/// How to run make.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// `$MAKE`, else `make`.
    pub program: Option<String>,
    pub dir: PathBuf,
    /// `-f FILE`s, in order.
    pub makefiles: Vec<String>,
    /// `VAR=value` given on the command line.
    pub assignments: Vec<String>,
    /// Changes to ggninja's environment for make (set, or remove when
    /// None): what a parent make exports to a sub-make.
    pub env: Vec<(String, Option<String>)>,
    /// make's `-s` (ggninja's `--quiet`, which also shows no command): make
    /// echoes no line of a makefile it remakes while reading, and puts `s`
    /// in `MAKEFLAGS`, which sub-makes inherit.
    pub silent: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("running {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    /// make stopped (a `$(error)`, a syntax error, a failed makefile
    /// remake): what it said, then the status.
    #[error("{stderr}{program} stopped while reading the makefiles (exit status {status})")]
    Failed {
        program: String,
        status: i32,
        stderr: String,
    },
}

/// What make printed: its database(s), whatever `$(info)` wrote before
/// them, and its messages (`$(warning)`, ...) on stderr.
pub struct Dump {
    pub stdout: String,
    pub stderr: String,
}

pub fn run(inv: &Invocation) -> Result<Dump, InvokeError> {
    let program = inv
        .program
        .clone()
        .or_else(|| std::env::var("MAKE").ok().filter(|m| !m.is_empty()))
        .unwrap_or_else(|| "make".to_string());
    let output = command(&program, inv, &inv.dir)
        .output()
        .map_err(|source| InvokeError::Spawn {
            program: program.clone(),
            source,
        })?;
    let status = output.status.code().unwrap_or(2);
    // Stopping (a `$(error)`, a failed makefile remake) or a signal.
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if status != 0 {
        return Err(InvokeError::Failed {
            program,
            status,
            stderr,
        });
    }
    Ok(Dump {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    })
}

fn command(program: &str, inv: &Invocation, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir).env("LC_ALL", "C").arg("-p");
    if inv.silent {
        cmd.arg("-s");
    }
    for eval in super::environment::probe(IMPORT_GOAL) {
        cmd.arg(format!("--eval={eval}"));
    }
    for (name, value) in &inv.env {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    for f in &inv.makefiles {
        cmd.arg("-f").arg(f);
    }
    cmd.args(&inv.assignments)
        .arg(IMPORT_GOAL)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// The variables that describe make's invocation, as the user's build
/// would have them rather than the import's: `MAKECMDGOALS` the goals
/// asked for, `MAKEFLAGS` and `MFLAGS` without `-p` and the `--eval`s.
pub fn as_if_run_for(db: &mut Database, goals: &[String]) {
    let vars = &mut db.variables;
    if let Some(v) = vars.get_mut("MAKECMDGOALS") {
        if v.value == IMPORT_GOAL {
            v.value = goals.join(" ");
        }
    }
    if let Some(v) = vars.get_mut("MAKEFLAGS") {
        let value = v.value.replacen(" $(-*-eval-flags-*-)", "", 1);
        let (first, rest) = value.split_at(value.find(' ').unwrap_or(value.len()));
        v.value = if first.starts_with('-') || first.contains('=') {
            value.clone()
        } else {
            format!("{}{rest}", first.replacen('p', "", 1))
        };
    }
    if let Some(v) = vars.get_mut("MFLAGS") {
        v.value = match v.value.replacen('p', "", 1).as_str() {
            "-" => String::new(),
            other => other.to_string(),
        };
    }
}
