//! Running GNU make to print its database, without building anything.
//!
//! `LC_ALL=C make -p -q --eval=<goal>: <goal>`: `-p` prints the database
//! when make exits, `-q` runs no recipe, and the goal, a target defined on
//! the command line with neither prerequisites nor recipe, needs nothing
//! else, so no recipe line runs, not even those naming `$(MAKE)` or
//! starting with `+` (make runs those under `-n`). What is left is what
//! every make invocation does before its goals: reading the makefiles
//! (their `$(shell)`, `$(info)`, `$(warning)`, `$(error)`) and remaking
//! makefiles that have a rule and are out of date (automake's
//! `Makefile: Makefile.in`), which `-q` does not prevent; that is decided:
//! the build the user asked for would do the same first.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    // 1 is -q's "the goal is out of date", which ours never is; stopping
    // (2) or a signal is a failure.
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if status > 1 {
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
    cmd.current_dir(dir)
        .env("LC_ALL", "C")
        .arg("-p")
        .arg("-q")
        .arg(format!("--eval={IMPORT_GOAL}:"));
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
