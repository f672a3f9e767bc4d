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
//! The file lives in `builddir`, which only the load knows. So that a run
//! finds it without reading a manifest byte, a pointer in the directory the
//! build runs in (`.ggninja_graph_at`) names, for one `-f`, where its last
//! load was saved when that is not here. The pointer is only a guess: what
//! it names is checked as above (the graph's own `builddir` included), so a
//! stale or damaged pointer costs a parse, never a wrong graph. Ignores the
//! logs and dyndep files: the graph is saved as the manifest leaves it.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Loaded, Options};

/// The file's name in the build dir.
pub const FILE_NAME: &str = ".ggninja_graph";

/// The pointer's name, in the directory the build runs in.
pub const POINTER: &str = ".ggninja_graph_at";

/// What the pointer starts with, then a postcard-encoded [`Pointer`].
const POINTER_MAGIC: &[u8] = b"ggninja saved load at 1\n";

/// What the file starts with, then the format's version (little endian).
const MAGIC: &[u8] = b"ggninja loaded manifest\n";
const FORMAT: u32 = 2;

/// How much older than the load's start a file's last change must be for
/// its stamp to be trusted: the coarsest file timestamps (FAT's 2 s).
pub const TICK_NS: i64 = 2_000_000_000;

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

    /// The stamp of the file at `path` now, if there is one.
    pub fn now(path: &str) -> Option<Stamp> {
        std::fs::metadata(path).ok().map(|m| Stamp::of(&m))
    }

    /// Whether a change after `started_ns` must show in this stamp: its
    /// mtime is at least a tick older, and a write sets the mtime to the
    /// time it happens. (A write that also put the old mtime back would
    /// show in the ctime.)
    pub fn settled_before(&self, started_ns: i64) -> bool {
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
    /// This binary (`binary_identity`).
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
        Key {
            identity: binary_identity().unwrap_or_default(),
            cwd: std::env::current_dir()
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_default(),
            manifest: manifest.to_string(),
            options: format!("{options:?}"),
        }
    }
}

/// This binary, for what it saves between runs: its version and its
/// file's size, mtime, inode and device (not its ctime, which a hard link
/// to it changes).
/// None if the file cannot be found.
pub fn binary_identity() -> Option<String> {
    let exe = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
    let exe = Stamp {
        ctime_ns: 0,
        ..Stamp::of(&exe)
    };
    Some(format!("{} {exe:?}", env!("CARGO_PKG_VERSION")))
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

/// Where the saved load of `-f manifest` was last put, relative to `here`
/// (the directory the build runs in).
#[derive(Serialize, Deserialize)]
struct Pointer {
    manifest: String,
    load: String,
}

/// Where the saved load of `manifest` (`-f`) should be, for a build run in
/// `here`: where the pointer there says, else `.ggninja_graph` in `here`
/// (no pointer, a damaged one, or one for another `-f`). Reads no manifest.
pub fn location(here: &Path, manifest: &str) -> PathBuf {
    pointed(here, manifest).unwrap_or_else(|| here.join(FILE_NAME))
}

/// What the pointer in `here` says for `manifest`, if it is readable.
fn pointed(here: &Path, manifest: &str) -> Option<PathBuf> {
    let bytes = std::fs::read(here.join(POINTER)).ok()?;
    let rest = bytes.strip_prefix(POINTER_MAGIC)?;
    let (pointer, rest): (Pointer, _) = postcard::take_from_bytes(rest).ok()?;
    (rest.is_empty() && pointer.manifest == manifest).then(|| here.join(pointer.load))
}

/// Where `graph` keeps its caches, for a build run in `here`.
fn place(here: &Path, graph: &ggninja_graph::Graph) -> PathBuf {
    here.join(graph.in_builddir(FILE_NAME))
}

/// The load saved at `at` for a build run in `here`, if it is still what
/// loading now would give (and so keeps its caches at `at`).
pub fn load(here: &Path, at: &Path, key: &Key) -> Option<Loaded> {
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
    (place(here, &graph) == at).then_some(Loaded {
        graph,
        warnings: header.warnings,
        files: header.files,
        started_ns: header.started_ns,
    })
}

/// Whether every file is as it was, and was already when the load began.
pub fn unchanged(files: &[ManifestFile], started_ns: i64) -> bool {
    files.iter().all(|f| {
        f.stamp.settled_before(started_ns) && Stamp::now(&f.path).as_ref() == Some(&f.stamp)
    })
}

/// Saves `loaded` in its build dir (a temporary file renamed over the old
/// one, so a reader sees the old file or the new), and points there from
/// `here` (the directory the build runs in) when that is elsewhere.
/// Ok(false): not saved, because a later run would not use it (a file
/// changed too recently to be judged by its stamp).
pub fn save(here: &Path, key: &Key, loaded: &Loaded) -> std::io::Result<bool> {
    let settled = loaded
        .files
        .iter()
        .all(|f| f.stamp.settled_before(loaded.started_ns));
    if !settled || loaded.files.is_empty() {
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
    let at = place(here, &loaded.graph);
    let mut tmp = beside(&at)?;
    tmp.write_all(MAGIC)?;
    tmp.write_all(&FORMAT.to_le_bytes())?;
    tmp.write_all(&header)?;
    tmp.write_all(&graph)?;
    tmp.persist(&at).map_err(|e| e.error)?;
    point(here, &key.manifest, &loaded.graph)?;
    Ok(true)
}

/// Makes the pointer in `here` name where `graph`'s load of `manifest` is
/// saved, or removes it when that is `here` (the default needs none).
fn point(here: &Path, manifest: &str, graph: &ggninja_graph::Graph) -> std::io::Result<()> {
    let load = graph.in_builddir(FILE_NAME);
    if load == FILE_NAME {
        if pointed(here, manifest).is_some() {
            std::fs::remove_file(here.join(POINTER))?;
        }
        return Ok(());
    }
    let pointer = Pointer {
        manifest: manifest.to_string(),
        load,
    };
    let at = here.join(POINTER);
    let mut tmp = beside(&at)?;
    tmp.write_all(POINTER_MAGIC)?;
    tmp.write_all(&postcard::to_allocvec(&pointer).expect("a pointer serializes"))?;
    tmp.persist(&at).map(drop).map_err(|e| e.error)
}

/// A temporary file beside `at`, so renaming it there is atomic; 0666 less
/// the umask as from `File::create`, not tempfile's 0600: other users
/// sharing the build dir read it too.
fn beside(at: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(at.parent().unwrap_or(Path::new(".")))
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

    /// A manifest with an include and a subninja in `dir`, `builddir` set
    /// to `dir` unless `here`, every file dated `age` ago; the loaded
    /// result, and its key.
    fn loaded_in(dir: &Path, age: Duration, here: bool) -> (Loaded, Key) {
        let top = dir.join("build.ninja");
        let builddir = match here {
            true => String::new(),
            false => format!("builddir = {}\n", dir.display()),
        };
        let text = format!(
            "{builddir}rule cc\n  command = cc $in\nbuild c: phony c\ninclude {0}/inc.ninja\nsubninja {0}/sub.ninja\n",
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
        let (dir, run) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (loaded, key) = loaded_in(dir.path(), Duration::from_secs(60), false);
        assert_eq!(loaded.files.len(), 3, "every file read, in order");
        assert!(loaded.files[1].path.ends_with("inc.ninja"));
        assert!(save(run.path(), &key, &loaded).unwrap());
        let at = location(run.path(), &key.manifest);
        assert_eq!(at, dir.path().join(FILE_NAME), "the pointer names builddir");
        let back = load(run.path(), &at, &key).expect("used");
        assert_eq!(back.warnings, loaded.warnings);
        assert_eq!(back.warnings.len(), 1);
        assert_eq!(back.files, loaded.files);
        assert_eq!(format!("{:?}", back.graph), format!("{:?}", loaded.graph));
        let other = Key {
            options: "other".to_string(),
            ..key.clone()
        };
        assert!(load(run.path(), &at, &other).is_none(), "other options");
        // Copied where its graph does not keep its caches: not used there.
        let here = run.path().join(FILE_NAME);
        std::fs::copy(&at, &here).unwrap();
        assert!(load(run.path(), &here, &key).is_none(), "not in builddir");
        std::fs::write(dir.path().join("sub.ninja"), "build b.o: cc b.cc\n").unwrap();
        assert!(load(run.path(), &at, &key).is_none(), "a subninja changed");
    }

    #[test]
    fn a_file_changed_within_a_tick_of_the_load_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let (mut loaded, _) = loaded_in(dir.path(), Duration::from_secs(60), false);
        let mtime = loaded.files[2].stamp.mtime_ns;
        assert!(unchanged(&loaded.files, mtime + TICK_NS + 1));
        assert!(!unchanged(&loaded.files, mtime + TICK_NS));
        assert!(!unchanged(&loaded.files, mtime));
        // Such a load is not saved either.
        loaded.started_ns = mtime + TICK_NS / 2;
        let key = Key::new("m", &Options::default());
        assert!(!save(dir.path(), &key, &loaded).unwrap());
        assert!(!dir.path().join(FILE_NAME).exists());
        loaded.started_ns = mtime + TICK_NS + 1;
        assert!(
            save(dir.path(), &key, &loaded).unwrap(),
            "settled a tick later"
        );
    }

    /// The pointer answers for its own `-f` only, and a damaged one for
    /// none: then the load is looked for here.
    #[test]
    fn the_pointer_names_the_load_of_its_own_manifest() {
        let (dir, run) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (loaded, key) = loaded_in(dir.path(), Duration::from_secs(60), false);
        let here = run.path().join(FILE_NAME);
        assert_eq!(location(run.path(), &key.manifest), here, "no pointer");
        assert!(save(run.path(), &key, &loaded).unwrap());
        let pointer = run.path().join(POINTER);
        let bytes = std::fs::read(&pointer).unwrap();
        assert_eq!(location(run.path(), "other.ninja"), here, "another -f");
        let longer = [&bytes[..], b"more"].concat();
        for damaged in [&bytes[..bytes.len() - 3], b"garbage", &bytes[1..], &longer] {
            std::fs::write(&pointer, damaged).unwrap();
            assert_eq!(location(run.path(), &key.manifest), here, "{damaged:?}");
        }
        std::fs::write(&pointer, &bytes).unwrap();
        assert_eq!(
            location(run.path(), &key.manifest),
            dir.path().join(FILE_NAME)
        );
    }

    /// A load saved in the directory the build runs in needs no pointer:
    /// its own is removed, another `-f`'s kept.
    #[test]
    fn a_load_saved_here_removes_its_pointer() {
        let (dir, run) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (loaded, key) = loaded_in(dir.path(), Duration::from_secs(60), false);
        assert!(save(run.path(), &key, &loaded).unwrap());
        let pointer = run.path().join(POINTER);
        // The same manifest without builddir, loaded in `run`: saved there.
        let (here, _) = loaded_in(dir.path(), Duration::from_secs(60), true);
        let other = Key {
            manifest: "other.ninja".to_string(),
            ..key.clone()
        };
        assert!(save(run.path(), &other, &here).unwrap());
        assert!(pointer.exists(), "another -f's pointer is kept");
        assert!(save(run.path(), &key, &here).unwrap());
        assert!(!pointer.exists());
        assert_eq!(
            location(run.path(), &key.manifest),
            run.path().join(FILE_NAME)
        );
        assert!(load(run.path(), &run.path().join(FILE_NAME), &key).is_some());
    }
}
