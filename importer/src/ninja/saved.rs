//! The loaded manifest, saved: a load's graph and warnings kept in the build
//! dir (`.ggninja_graph`), used instead of parsing while nothing the load
//! depended on has changed.
//!
//! A saved load is used only when all of these match, and is otherwise
//! ignored (then rewritten), never trusted and never an error: the format,
//! the binary (its version and its file's stamp), the directory the build
//! runs in, the manifest's name and the parser's options; every file the
//! load read (build.ninja, each include and subninja, in order) with the
//! same (size, mtime, ctime, inode, device); and no file's mtime within
//! `TICK_NS` of the moment the load began, since a file written again within
//! the same timestamp tick would keep its mtime (git's "racy" index rule).
//! The graph's bytes carry a checksum and are checked once decoded
//! (`ggninja_graph::saved`), so a truncated or damaged file is ignored.
//!
//! The file lives in `builddir`, which only the load knows: before it,
//! `location` reads `builddir = ...` from the top manifest's own lines.
//! When that guess and the loaded graph disagree (builddir set in an
//! include, or through a variable) nothing is saved. Ignores the logs and
//! dyndep files: the graph is saved as the manifest leaves it.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Loaded, Options};

/// The file's name in the build dir.
pub const FILE_NAME: &str = ".ggninja_graph";

/// What the file starts with, then the format's version (little endian).
const MAGIC: &[u8] = b"ggninja loaded manifest\n";
const FORMAT: u32 = 1;

/// How much older than the load's start a file's last change must be for
/// its stamp to be trusted: the coarsest file timestamps (FAT's 2 s).
const TICK_NS: i64 = 2_000_000_000;

/// A file as its metadata describes it: a change to it changes this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
    pub device: u64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            size: meta.size(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            inode: meta.ino(),
            device: meta.dev(),
        }
    }

    fn now(path: &str) -> Option<Stamp> {
        std::fs::metadata(path).ok().map(|m| Stamp::of(&m))
    }

    /// Whether a change after `started_ns` must show in this stamp: its
    /// mtime is at least a tick older, and a write sets the mtime to the
    /// time it happens. (A write that also put the old mtime back would
    /// show in the ctime.)
    fn settled_before(&self, started_ns: i64) -> bool {
        self.mtime_ns < started_ns.saturating_sub(TICK_NS)
    }
}

/// A manifest file the load read, and its stamp then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub stamp: Stamp,
}

/// What the load depended on besides its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// This binary: its version and its file's size, mtime, inode and
    /// device (not its ctime, which a hard link to it changes).
    identity: String,
    /// The absolute directory the build runs in (relative paths start there).
    cwd: String,
    /// The manifest's name as given (`-f`).
    manifest: String,
    /// The parser's options.
    options: String,
}

impl Key {
    /// The key of a load of `manifest` with `options` here, by this binary.
    pub fn new(manifest: &str, options: &Options) -> Key {
        let exe = std::env::current_exe().ok();
        let exe = exe.and_then(|p| std::fs::metadata(p).ok());
        let exe = exe.map(|m| Stamp {
            ctime_ns: 0,
            ..Stamp::of(&m)
        });
        Key {
            identity: format!("{} {exe:?}", env!("CARGO_PKG_VERSION")),
            cwd: std::env::current_dir()
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_default(),
            manifest: manifest.to_string(),
            options: format!("{options:?}"),
        }
    }
}

/// All the file says before the graph's bytes.
#[derive(Serialize, Deserialize)]
struct Header {
    key: Key,
    started_ns: i64,
    files: Vec<ManifestFile>,
    warnings: Vec<String>,
    graph_len: u64,
    graph_crc: u32,
}

/// Where the saved load of `manifest` is kept: `.ggninja_graph` in the
/// `builddir` its own lines set (the last literal one), else here. None
/// when its builddir is not a literal.
pub fn location(manifest: &str) -> Option<PathBuf> {
    let text = std::fs::read(manifest).ok()?;
    let mut dir: Option<&[u8]> = None;
    for line in text.split(|&b| b == b'\n') {
        let Some(rest) = line.strip_prefix(b"builddir") else {
            continue;
        };
        let rest = rest.trim_ascii_start();
        if let Some(value) = rest.strip_prefix(b"=") {
            dir = Some(value.trim_ascii_start());
        }
    }
    match dir {
        Some(d) if d.contains(&b'$') => None,
        Some(d) if !d.is_empty() => {
            let d = std::str::from_utf8(d).ok()?;
            Some(Path::new(d).join(FILE_NAME))
        }
        _ => Some(PathBuf::from(FILE_NAME)),
    }
}

/// Whether `graph` keeps its caches where `at` is.
fn lives_at(graph: &ggninja_graph::Graph, at: &Path) -> bool {
    Path::new(&graph.in_builddir(FILE_NAME)) == at
}

/// The load saved at `at`, if it is still what loading now would give.
pub fn load(at: &Path, key: &Key) -> Option<Loaded> {
    let bytes = std::fs::read(at).ok()?;
    let rest = bytes.strip_prefix(MAGIC)?;
    let (format, rest) = rest.split_first_chunk::<4>()?;
    if u32::from_le_bytes(*format) != FORMAT {
        return None;
    }
    let (header, graph): (Header, _) = postcard::take_from_bytes(rest).ok()?;
    if header.key != *key || !unchanged(&header.files, header.started_ns) {
        return None;
    }
    if graph.len() as u64 != header.graph_len || crc32fast::hash(graph) != header.graph_crc {
        return None;
    }
    let graph = ggninja_graph::saved::from_bytes(graph).ok()?;
    lives_at(&graph, at).then_some(Loaded {
        graph,
        warnings: header.warnings,
        files: header.files,
        started_ns: header.started_ns,
    })
}

/// Whether every file is as it was, and was already when the load began.
fn unchanged(files: &[ManifestFile], started_ns: i64) -> bool {
    files.iter().all(|f| {
        f.stamp.settled_before(started_ns) && Stamp::now(&f.path).as_ref() == Some(&f.stamp)
    })
}

/// Saves `loaded` at `at` (a temporary file renamed over it, so a reader
/// sees the old file or the new). Ok(false): not saved, because a later
/// run would not use it (a file changed too recently to be judged by its
/// stamp, or the graph keeps its caches elsewhere).
pub fn save(at: &Path, key: &Key, loaded: &Loaded) -> std::io::Result<bool> {
    let settled = loaded
        .files
        .iter()
        .all(|f| f.stamp.settled_before(loaded.started_ns));
    if !settled || loaded.files.is_empty() || !lives_at(&loaded.graph, at) {
        return Ok(false);
    }
    let graph = ggninja_graph::saved::to_bytes(&loaded.graph);
    let header = Header {
        key: key.clone(),
        started_ns: loaded.started_ns,
        files: loaded.files.clone(),
        warnings: loaded.warnings.clone(),
        graph_len: graph.len() as u64,
        graph_crc: crc32fast::hash(&graph),
    };
    let header = postcard::to_allocvec(&header).expect("a header serializes to memory");
    // Beside it, so the rename is atomic; 0666 less the umask as from
    // `File::create`, not tempfile's 0600: other users read it too.
    let mut tmp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(at.parent().unwrap_or(Path::new(".")))?;
    tmp.write_all(MAGIC)?;
    tmp.write_all(&FORMAT.to_le_bytes())?;
    tmp.write_all(&header)?;
    tmp.write_all(&graph)?;
    tmp.persist(at).map_err(|e| e.error)?;
    Ok(true)
}

/// The time now, in ns since the epoch (as file stamps count).
pub fn now_ns() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| d.as_nanos() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    /// A manifest with an include and a subninja in `dir`, every file
    /// dated `age` ago; the loaded result, run from `dir`.
    fn loaded_in(dir: &Path, age: Duration) -> (Loaded, Key) {
        let top = dir.join("build.ninja");
        let text = format!(
            "builddir = {0}\nrule cc\n  command = cc $in\nbuild c: phony c\ninclude {0}/inc.ninja\nsubninja {0}/sub.ninja\n",
            dir.display()
        );
        std::fs::write(&top, text).unwrap();
        std::fs::write(dir.join("inc.ninja"), "build a.o: cc a.c\n").unwrap();
        std::fs::write(dir.join("sub.ninja"), "build b.o: cc b.c\n").unwrap();
        for f in ["build.ninja", "inc.ninja", "sub.ninja"] {
            let file = std::fs::File::options().append(true).open(dir.join(f));
            file.unwrap().set_modified(SystemTime::now() - age).unwrap();
        }
        let top = top.to_str().unwrap().to_string();
        let options = Options::default();
        (
            crate::load(&top, &options).unwrap(),
            Key::new(&top, &options),
        )
    }

    #[test]
    fn a_settled_load_comes_back_with_its_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let (loaded, key) = loaded_in(dir.path(), Duration::from_secs(60));
        assert_eq!(loaded.files.len(), 3, "every file read, in order");
        assert!(loaded.files[1].path.ends_with("inc.ninja"));
        assert!(
            !save(Path::new(FILE_NAME), &key, &loaded).unwrap(),
            "not in builddir"
        );
        let at = dir.path().join(FILE_NAME);
        assert!(save(&at, &key, &loaded).unwrap());
        let back = load(&at, &key).expect("used");
        assert_eq!(back.warnings, loaded.warnings);
        assert_eq!(back.warnings.len(), 1);
        assert_eq!(back.files, loaded.files);
        assert_eq!(format!("{:?}", back.graph), format!("{:?}", loaded.graph));
        let other = Key {
            options: "other".to_string(),
            ..key.clone()
        };
        assert!(load(&at, &other).is_none(), "other options");
        std::fs::write(dir.path().join("sub.ninja"), "build b.o: cc b.cc\n").unwrap();
        assert!(load(&at, &key).is_none(), "a subninja changed");
    }

    #[test]
    fn a_file_changed_within_a_tick_of_the_load_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let (mut loaded, _) = loaded_in(dir.path(), Duration::from_secs(60));
        let mtime = loaded.files[2].stamp.mtime_ns;
        assert!(unchanged(&loaded.files, mtime + TICK_NS + 1));
        assert!(!unchanged(&loaded.files, mtime + TICK_NS));
        assert!(!unchanged(&loaded.files, mtime));
        // Such a load is not saved either.
        loaded.started_ns = mtime + TICK_NS / 2;
        let (at, key) = (
            dir.path().join(FILE_NAME),
            Key::new("m", &Options::default()),
        );
        assert!(!save(&at, &key, &loaded).unwrap());
        loaded.started_ns = mtime + TICK_NS + 1;
        assert!(save(&at, &key, &loaded).unwrap(), "settled a tick later");
    }

    #[test]
    fn builddir_is_read_from_the_top_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let at = |text: &str| {
            let m = dir.path().join("m.ninja");
            std::fs::write(&m, text).unwrap();
            location(m.to_str().unwrap())
        };
        assert_eq!(at("rule x\n"), Some(PathBuf::from(FILE_NAME)));
        assert_eq!(
            at("builddir = out\n"),
            Some(Path::new("out").join(FILE_NAME))
        );
        assert_eq!(
            at("builddir=a\nbuilddir  = b\n"),
            Some(Path::new("b").join(FILE_NAME))
        );
        assert_eq!(at("builddir = $root/out\n"), None);
        assert_eq!(at("builddir_x = out\n"), Some(PathBuf::from(FILE_NAME)));
    }
}
