//! GNU make projects: make's own database (`make -p`) read into the same
//! `Graph` a build.ninja gives.
//!
//! `invoke` runs make so that it prints its database and builds nothing;
//! `parse` reads the dump (`db` holds it); `targets` decides, as make would,
//! which rule makes each file the goals need (`implicit` is make's implicit
//! rule search, `pattern` its `%` patterns); `import` expands each recipe
//! (`expand`, `functions`, `variables`, `wildcard`) into one command (`recipe`) and
//! adds the builds. Docs: docs/make.md.

mod cache;
pub mod db;
mod environment;
mod expand;
mod functions;
mod implicit;
mod import;
pub mod invoke;
pub mod parse;
mod pattern;
mod recipe;
mod submake;
mod targets;
mod variables;
mod wildcard;

use std::path::Path;

pub use expand::Message;
pub use import::{ImportError, Imported, Place};
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
    /// make's messages on stderr (`$(warning)`).
    pub said: String,
    pub imported: Imported,
}

/// Runs make in `inv.dir` (or reuses what it printed last time, kept in
/// `cache`) and imports what `goals` need (the default goal when empty),
/// following its sub-makes.
pub fn load(inv: &Invocation, goals: &[String], cache: Option<&Path>) -> Result<Loaded, MakeError> {
    let (mut db, printed, said) = read_make(inv, cache)?;
    invoke::as_if_run_for(&mut db, goals);
    let read = |sub: &Invocation| {
        // A sub-make inherits `-s` through MAKEFLAGS.
        let sub = Invocation {
            silent: inv.silent,
            ..sub.clone()
        };
        let (db, printed, said) = read_make(&sub, cache).map_err(|e| e.to_string())?;
        Ok((db, format!("{printed}{said}")))
    };
    let every = environment::every_recipe(db.exported.as_ref());
    let mut importer = import::Importer::new(&read).with_command_env(every);
    let top = Place {
        rel: String::new(),
        abs: std::path::absolute(&inv.dir)
            .map_err(|e| MakeError::Read(inv.dir.display().to_string(), e))?,
        assignments: inv.assignments.clone(),
        after: Vec::new(),
        env: Vec::new(),
    };
    let files = importer.import(&db, &top, goals)?;
    Ok(Loaded {
        printed,
        said,
        imported: importer.finish(files),
    })
}

/// One make's database, what it printed before it, and its messages.
fn read_make(
    inv: &Invocation,
    cache: Option<&Path>,
) -> Result<(db::Database, String, String), MakeError> {
    let kept = cache.and_then(|dir| cache::lookup(dir, inv));
    let fresh = kept.is_none();
    let dump = match kept {
        Some(dump) => dump,
        None => invoke::run(inv)?,
    };
    let before = dump.stdout.split("# GNU Make ").next().unwrap_or_default();
    let (printed, exported) = environment::split(before);
    let mut db = last_top_level(&dump.stdout, "make -p")?;
    db.exported = exported;
    if let (true, Some(dir)) = (fresh, cache) {
        cache::store(dir, inv, &db, &dump);
    }
    Ok((db, printed, dump.stderr))
}

/// Imports a saved dump (`--make-db FILE`), as if make ran in `dir`.
pub fn load_dump(file: &str, dir: &Path, goals: &[String]) -> Result<Imported, MakeError> {
    let bytes = std::fs::read(file).map_err(|e| MakeError::Read(file.to_string(), e))?;
    let db = last_top_level(&String::from_utf8_lossy(&bytes), file)?;
    let read = |_: &Invocation| Err("sub-makes cannot be followed from a saved dump".to_string());
    let mut importer = import::Importer::new(&read);
    let top = Place {
        rel: String::new(),
        abs: std::path::absolute(dir).map_err(|e| MakeError::Read(dir.display().to_string(), e))?,
        assignments: Vec::new(),
        after: Vec::new(),
        env: Vec::new(),
    };
    let files = importer.import(&db, &top, goals)?;
    Ok(importer.finish(files))
}

/// The top-level make's last database (a make that remade a makefile
/// prints one before it starts over).
fn last_top_level(text: &str, source: &str) -> Result<db::Database, MakeError> {
    let mut dbs = parse::parse(text)?;
    let top = dbs.iter().map(|d| d.level).min();
    let at = dbs
        .iter()
        .rposition(|d| Some(d.level) == top)
        .ok_or_else(|| MakeError::NoDatabase(source.to_string()))?;
    Ok(dbs.swap_remove(at))
}
