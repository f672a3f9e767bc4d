//! A job's directory tree: `/tmp/gg/<n>/{build,src}` stand for the
//! thunk's `/ggroot/build` and `/ggroot/src`. Sorts a thunk's inputs into
//! those laid out there (fetched through the object cache and hard-linked,
//! or copied when executable; directories created) and those the image
//! must provide (checked by `image`); creates the outputs' parent dirs as
//! ninja does. Ignores running and collecting.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use ggninja_store::hash::{ContentHash, Kind};
use ggninja_thunk::{Bundle, BundleFile, Roots, Source, Thunk, BUILD_ROOT, SOURCE_ROOT};
use tokio::task::JoinSet;

use super::cache::{FetchError, ObjectCache};
use crate::objects::ObjectStore;

/// Objects fetched at once.
const FETCH_CONCURRENCY: usize = 32;

/// One job's directories.
#[derive(Debug)]
pub struct Job {
    pub dir: PathBuf,
    pub build: PathBuf,
    pub src: PathBuf,
    /// The laid-out dirs as "real" roots: `unrewrite` maps thunk paths to
    /// them, `rewrite` maps them back.
    pub roots: Roots,
}

impl Job {
    /// Creates `work/gg/<n>/{build,src}`, replacing a stale one.
    pub fn create(work: &Path, n: u64) -> io::Result<Job> {
        let dir = work.join("gg").join(n.to_string());
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        let build = dir.join("build");
        let src = dir.join("src");
        std::fs::create_dir_all(&build)?;
        std::fs::create_dir_all(&src)?;
        let roots = Roots::new(build.clone(), Some(src.clone()));
        Ok(Job {
            dir,
            build,
            src,
            roots,
        })
    }

    /// Where a thunk-visible path is laid out; `None` outside the roots.
    /// A path climbing out of its root with `..` is an error.
    pub fn local_path(&self, virt: &str) -> Result<Option<PathBuf>, String> {
        for (root, dir) in [(BUILD_ROOT, &self.build), (SOURCE_ROOT, &self.src)] {
            let Some(rest) = virt.strip_prefix(root) else {
                continue;
            };
            if !(rest.is_empty() || rest.starts_with('/')) {
                continue;
            }
            // The laid-out trees hold no symlinked directories, so `..`
            // resolves lexically, as the kernel will resolve it there.
            let mut local = dir.clone();
            let mut depth = 0usize;
            for c in Path::new(rest.trim_start_matches('/')).components() {
                match c {
                    Component::Normal(name) => {
                        local.push(name);
                        depth += 1;
                    }
                    Component::CurDir => {}
                    Component::ParentDir if depth > 0 => {
                        local.pop();
                        depth -= 1;
                    }
                    _ => return Err(format!("{virt}: path leaves its root")),
                }
            }
            return Ok(Some(local));
        }
        Ok(None)
    }

    /// Removes the job's tree (read-only files included).
    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One object to lay out at one or more places.
#[derive(Debug, Default)]
pub struct Placement {
    /// (destination, executable)
    pub dests: Vec<(PathBuf, bool)>,
}

/// What a thunk needs before it can run.
#[derive(Debug, Default)]
pub struct Plan {
    /// In-root files, by object.
    pub fetch: BTreeMap<ContentHash, Placement>,
    /// In-root directories to create.
    pub dirs: Vec<PathBuf>,
    /// Image files: (path, expected printed hash).
    pub image: Vec<(String, String)>,
    /// Image directories that must exist.
    pub image_dirs: Vec<String>,
    /// The program as it will be run.
    pub program: PathBuf,
}

/// The directories a path climbs out of with `..` (`/a/b/../c` climbs out
/// of `/a/b`): they must exist for the kernel to resolve it.
fn climbed_from(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices("/..")
        .filter(|(i, _)| matches!(path.as_bytes().get(i + 3), None | Some(b'/')))
        .map(|(i, _)| &path[..i])
}

/// Sorts the inputs; an error for a request that cannot be run as given.
pub fn plan(
    thunk: &Thunk,
    bundle: Option<&[BundleFile]>,
    executable: &HashSet<&str>,
    job: &Job,
) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut in_root_files = HashSet::new();
    let mut placed = HashSet::new();
    for input in &thunk.inputs {
        let local = job.local_path(&input.path)?;
        for dir in climbed_from(&input.path) {
            plan.dirs.extend(job.local_path(dir)?);
        }
        match (&input.source, local) {
            (Source::Value { hash }, Some(dest)) => {
                let h = ContentHash::parse(hash)
                    .filter(|h| h.kind == Kind::Value)
                    .ok_or_else(|| format!("{}: bad hash {hash}", input.path))?;
                let exec = executable.contains(input.path.as_str());
                in_root_files.insert(input.path.as_str());
                // A file listed twice (or under two spellings) is laid
                // out once.
                if placed.insert(dest.clone()) {
                    plan.fetch.entry(h).or_default().dests.push((dest, exec));
                }
            }
            (Source::Value { hash }, None) => plan.image.push((input.path.clone(), hash.clone())),
            (Source::Directory { .. }, Some(dest)) => plan.dirs.push(dest),
            (Source::Directory { .. }, None) => plan.image_dirs.push(input.path.clone()),
            (Source::Bundle { bundle: name }, _) => {
                let files = bundle.ok_or_else(|| {
                    format!("the thunk names bundle {name} but the request lists no files")
                })?;
                let listing = Bundle {
                    files: files.to_vec(),
                };
                let json = serde_json::to_string(&listing).map_err(|e| e.to_string())?;
                let actual = ContentHash::of(Kind::Value, json.as_bytes()).to_string();
                if &actual != name {
                    return Err(format!(
                        "the request's bundle files hash to {actual}, not the thunk's {name}"
                    ));
                }
                for f in files {
                    if job.local_path(&f.path)?.is_some() {
                        return Err(format!("bundle file {} is inside a root", f.path));
                    }
                    plan.image.push((f.path.clone(), f.hash.clone()));
                }
            }
            (Source::Output { thunk, .. }, _) => {
                return Err(format!(
                    "{}: names thunk {thunk}'s output; only inputs named by content can run",
                    input.path
                ))
            }
        }
    }
    // The builder may spell the program as the manifest did
    // (`/ggroot/build/./tool.sh`) while its input is normalized.
    let exe = &normalize(&thunk.function.exe);
    plan.program = match job.local_path(exe)? {
        Some(local) => {
            if !in_root_files.contains(exe.as_str()) {
                return Err(format!("the program {exe} is not among the inputs"));
            }
            local
        }
        None => {
            plan.image
                .push((exe.clone(), thunk.function.exe_hash.clone()));
            PathBuf::from(exe)
        }
    };
    plan.image.sort();
    plan.image.dedup();
    Ok(plan)
}

/// An absolute path without `.` components or repeated slashes (`..` is
/// left for `Job::local_path` to refuse).
pub fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if path.starts_with('/') {
        format!("/{}", parts.join("/"))
    } else {
        parts.join("/")
    }
}

/// Why the inputs could not be laid out.
#[derive(Debug)]
pub enum LayoutError {
    /// Objects the bucket does not have (printed hashes, sorted).
    Missing(Vec<String>),
    Other(String),
}

/// Fetches every in-root object (through the cache) and places it; creates
/// the directories. Every missing object is reported, not just the first.
pub async fn lay_out(
    cache: &Arc<ObjectCache>,
    store: &Arc<ObjectStore>,
    plan: &mut Plan,
) -> Result<(), LayoutError> {
    for d in &plan.dirs {
        std::fs::create_dir_all(d)
            .map_err(|e| LayoutError::Other(format!("creating {}: {e}", d.display())))?;
    }
    let mut tasks = JoinSet::new();
    let mut missing = Vec::new();
    let mut other = None;
    let fetch = std::mem::take(&mut plan.fetch);
    for (hash, placement) in fetch {
        while tasks.len() >= FETCH_CONCURRENCY {
            settle(tasks.join_next().await, &mut missing, &mut other);
        }
        let (cache, store) = (Arc::clone(cache), Arc::clone(store));
        tasks.spawn(async move { place(&cache, &store, &hash, &placement).await });
    }
    while let Some(done) = tasks.join_next().await {
        settle(Some(done), &mut missing, &mut other);
    }
    if !missing.is_empty() {
        missing.sort();
        return Err(LayoutError::Missing(missing));
    }
    match other {
        Some(e) => Err(LayoutError::Other(e)),
        None => Ok(()),
    }
}

fn settle(
    done: Option<Result<Result<(), FetchError>, tokio::task::JoinError>>,
    missing: &mut Vec<String>,
    other: &mut Option<String>,
) {
    match done {
        None | Some(Ok(Ok(()))) => {}
        Some(Ok(Err(FetchError::Missing(h)))) => missing.push(h.to_string()),
        Some(Ok(Err(FetchError::Other(e)))) => {
            other.get_or_insert(e);
        }
        Some(Err(e)) => {
            other.get_or_insert(format!("a fetch task failed: {e}"));
        }
    }
}

/// Fetches one object and puts it at each destination. If the cache file
/// vanishes between the fetch and the link (an ENOSPC eviction by another
/// fetch), it is fetched once more.
async fn place(
    cache: &ObjectCache,
    store: &ObjectStore,
    hash: &ContentHash,
    placement: &Placement,
) -> Result<(), FetchError> {
    let mut tries = 0;
    loop {
        tries += 1;
        let cached = cache.get(store, hash).await?;
        match link_all(&cached, &placement.dests) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound && tries < 2 => continue,
            Err(e) => {
                return Err(FetchError::Other(format!(
                    "laying out {hash} from {}: {e}",
                    cached.display()
                )))
            }
        }
    }
}

fn link_all(cached: &Path, dests: &[(PathBuf, bool)]) -> io::Result<()> {
    for (dest, exec) in dests {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if *exec {
            std::fs::copy(cached, dest)?;
            std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o755))?;
        } else if std::fs::hard_link(cached, dest).is_err() {
            // Another file system, or links refused: a read-only copy.
            if !cached.exists() {
                return Err(io::ErrorKind::NotFound.into());
            }
            std::fs::copy(cached, dest)?;
            std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o444))?;
        }
    }
    Ok(())
}

/// Creates the parent directory of each output (and the depfile), as ninja
/// does before it runs a command.
pub fn make_output_dirs<'a>(
    job: &Job,
    paths: impl IntoIterator<Item = &'a String>,
) -> Result<(), String> {
    for p in paths {
        let local = job
            .local_path(p)?
            .ok_or_else(|| format!("output {p} is outside the roots"))?;
        if let Some(parent) = local.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("creating {}: {e}", parent.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thunk_paths_map_into_the_job_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let job = Job::create(dir.path(), 7).unwrap();
        let p = |v: &str| job.local_path(v).unwrap();
        assert_eq!(p("/ggroot/build/obj/a.o"), Some(job.build.join("obj/a.o")));
        assert_eq!(p("/ggroot/src"), Some(job.src.clone()));
        assert_eq!(p("/usr/include/stdio.h"), None);
        assert_eq!(p("/ggroot/buildx/a"), None);
        assert_eq!(
            normalize("/ggroot/build/./tool.sh"),
            "/ggroot/build/tool.sh"
        );
        assert_eq!(normalize("/usr//bin/cc"), "/usr/bin/cc");
        assert!(job.local_path("/ggroot/build/../../etc/passwd").is_err());
        assert_eq!(
            job.local_path("/ggroot/src/cat/../fe/err.h").unwrap(),
            Some(job.src.join("fe/err.h"))
        );
        let climbed: Vec<_> = climbed_from("/ggroot/src/a/b/../../c/..x/d").collect();
        assert_eq!(climbed, ["/ggroot/src/a/b", "/ggroot/src/a/b/.."]);
        assert_eq!(
            job.roots.unrewrite("-I/ggroot/src/inc"),
            format!("-I{}/inc", job.src.display())
        );
        job.remove();
        assert!(!job.dir.exists());
    }
}
