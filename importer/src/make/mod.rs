//! GNU make projects: make's own database (`make -p`) read into the same
//! `Graph` a build.ninja gives.
//!
//! `invoke` runs make so that it prints its database and builds nothing;
//! `parse` reads the dump (`db` holds it); `targets` decides, as make would,
//! which rule makes each file the goals need (`implicit` is make's implicit
//! rule search, `pattern` its `%` patterns); `import` expands each recipe
//! (`expand`, `functions`, `variables`) into one command (`recipe`) and
//! adds the builds. Docs: docs/make.md.

pub mod db;
mod expand;
mod functions;
mod implicit;
mod import;
pub mod invoke;
pub mod parse;
mod pattern;
mod recipe;
mod targets;
mod variables;

use std::path::Path;

pub use expand::Message;
pub use import::{ImportError, Imported};
pub use invoke::Invocation;
pub use parse::ParseError;

#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    #[error(transparent)]
    Invoke(#[from] invoke::InvokeError),
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("{0}: no make database found (was it printed by GNU make -p?)")]
    NoDatabase(String),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("reading {0}: {1}")]
    Read(String, std::io::Error),
}

/// What make printed while reading its makefiles, and the imported build.
pub struct Loaded {
    /// `$(info)` output (stdout before the database), to show as make does.
    pub printed: String,
    pub imported: Imported,
}

/// Runs make in `inv.dir` and imports what `goals` need (the default goal
/// when empty).
pub fn load(inv: &Invocation, goals: &[String]) -> Result<Loaded, MakeError> {
    let dump = invoke::run(inv)?;
    let printed = dump
        .stdout
        .split("# GNU Make ")
        .next()
        .unwrap_or_default()
        .to_string();
    let imported = from_text(&dump.stdout, "make -p", &inv.dir, goals)?;
    Ok(Loaded { printed, imported })
}

/// Imports a saved dump (`--make-db FILE`), as if make ran in `dir`.
pub fn load_dump(file: &str, dir: &Path, goals: &[String]) -> Result<Imported, MakeError> {
    let bytes = std::fs::read(file).map_err(|e| MakeError::Read(file.to_string(), e))?;
    from_text(&String::from_utf8_lossy(&bytes), file, dir, goals)
}

/// The top-level make's last database (a make that remade a makefile
/// prints one before it starts over).
fn from_text(
    text: &str,
    source: &str,
    dir: &Path,
    goals: &[String],
) -> Result<Imported, MakeError> {
    let dbs = parse::parse(text)?;
    let db = dbs
        .iter()
        .rev()
        .find(|d| d.level == 0)
        .ok_or_else(|| MakeError::NoDatabase(source.to_string()))?;
    Ok(import::import(db, dir, goals)?)
}
