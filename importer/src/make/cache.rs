//! make's printed database, kept between runs so that a build whose
//! makefiles did not change does not run make to read them again.
//!
//! One file per invocation (directory, makefiles, command-line variables)
//! under the cache directory, written atomically, versioned, and ignored —
//! never trusted — when damaged or from another version. It is reused only
//! while everything make's reading depended on is unchanged: every makefile
//! it read (`MAKEFILE_LIST`: size and mtime to the nanosecond), every
//! file it looked for and did not find (an `-include`d makefile: still
//! absent), and the environment value of every variable name it knows. A
//! makefile that calls `$(shell)`, `$(wildcard)` or `!=` while being read
//! can depend on anything: such databases are not kept, and make runs each
//! time.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::db::Database;
use super::invoke::{Dump, Invocation};

const VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    key: Key,
    /// (path, size, mtime in ns): the makefiles make read.
    read: Vec<(String, u64, i128)>,
    /// Makefiles make looked for and did not find.
    absent: Vec<String>,
    /// Every variable name make knew, and its environment value then.
    env: Vec<(String, Option<String>)>,
    stdout: String,
    stderr: String,
}

#[derive(Serialize, Deserialize, PartialEq, Eq)]
struct Key {
    dir: PathBuf,
    program: Option<String>,
    makefiles: Vec<String>,
    assignments: Vec<String>,
    env: Vec<(String, Option<String>)>,
    silent: bool,
}

impl Key {
    fn of(inv: &Invocation) -> Key {
        Key {
            dir: inv.dir.clone(),
            program: inv.program.clone(),
            makefiles: inv.makefiles.clone(),
            assignments: inv.assignments.clone(),
            env: inv.env.clone(),
            silent: inv.silent,
        }
    }

    /// The entry's file name: a hash of the key (std's SipHash with fixed
    /// keys is stable for a given build of ggninja, and the version
    /// field catches the rest).
    fn file_name(&self) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.dir.hash(&mut h);
        self.program.hash(&mut h);
        self.makefiles.hash(&mut h);
        self.assignments.hash(&mut h);
        self.env.hash(&mut h);
        self.silent.hash(&mut h);
        format!("{:016x}.json", h.finish())
    }
}

/// The dump kept for `inv`, if everything it depended on is unchanged.
pub fn lookup(dir: &Path, inv: &Invocation) -> Option<Dump> {
    let key = Key::of(inv);
    let text = std::fs::read(dir.join(key.file_name())).ok()?;
    let entry: Entry = serde_json::from_slice(&text).ok()?;
    if entry.version != VERSION || entry.key != key || !still_valid(&entry, &inv.dir) {
        return None;
    }
    Some(Dump {
        stdout: entry.stdout,
        stderr: entry.stderr,
    })
}

fn still_valid(entry: &Entry, make_dir: &Path) -> bool {
    let read_same = entry
        .read
        .iter()
        .all(|(path, size, mtime)| stamp(&make_dir.join(path)) == Some((*size, *mtime)));
    let absent_still = entry.absent.iter().all(|p| !make_dir.join(p).exists());
    let env_same = entry
        .env
        .iter()
        .all(|(name, value)| std::env::var(name).ok() == *value);
    read_same && absent_still && env_same
}

fn stamp(path: &Path) -> Option<(u64, i128)> {
    let m = std::fs::metadata(path).ok()?;
    let t = m
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_nanos() as i128;
    Some((m.len(), t))
}

/// Keeps `dump` (whose database is `db`) for `inv`, when it can be kept.
/// Failing to write the cache only costs the next run a make.
pub fn store(dir: &Path, inv: &Invocation, db: &Database, dump: &Dump) {
    let Some(entry) = entry(inv, db, dump) else {
        return;
    };
    let Ok(text) = serde_json::to_vec(&entry) else {
        return;
    };
    let path = dir.join(entry.key.file_name());
    let _ = std::fs::create_dir_all(dir).and_then(|()| {
        // Beside it, so the rename is atomic; 0666 less the umask as from
        // `File::create`, not tempfile's 0600: other users read it too.
        let mut tmp = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)?;
        tmp.write_all(&text)?;
        tmp.persist(&path).map(drop).map_err(|e| e.error)
    });
}

fn entry(inv: &Invocation, db: &Database, dump: &Dump) -> Option<Entry> {
    let list = db.variable("MAKEFILE_LIST")?.value.clone();
    let mut read = Vec::new();
    for path in list.split_whitespace() {
        let text = std::fs::read_to_string(inv.dir.join(path)).ok()?;
        if reads_the_world(&text) {
            return None;
        }
        let (size, mtime) = stamp(&inv.dir.join(path))?;
        read.push((path.to_string(), size, mtime));
    }
    let absent = db
        .files
        .iter()
        .filter(|f| f.absent && !inv.dir.join(&f.name).exists())
        .map(|f| f.name.clone())
        .collect();
    let mut env: Vec<(String, Option<String>)> = db
        .variables
        .keys()
        .map(|n| (n.clone(), std::env::var(n).ok()))
        .collect();
    env.sort();
    Some(Entry {
        version: VERSION,
        key: Key::of(inv),
        read,
        absent,
        env,
        stdout: dump.stdout.clone(),
        stderr: dump.stderr.clone(),
    })
}

/// Could reading this makefile depend on more than its text?
fn reads_the_world(text: &str) -> bool {
    ["$(shell", "${shell", "$(wildcard", "${wildcard", "!="]
        .iter()
        .any(|c| text.contains(c))
}
