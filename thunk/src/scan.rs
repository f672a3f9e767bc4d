//! An edge's footprint for the thunk builder: the footprint crate's scanner
//! on the edge's command, plus its manifest inputs (which name generated
//! files before they exist). Unaware of hashing and linking.

use std::path::{Path, PathBuf};

use ggninja_footprint::{relative, Effect};
use ggninja_graph::path::canonicalize;
use ggninja_graph::{BuildId, Escape, Graph};
use rustc_hash::FxHashSet;

use crate::builder::Footprint;
use crate::ordering::Upstream;
use crate::roots::Roots;

/// What the footprint crate's scanner finds in edge `b`'s command, run in
/// the build dir; why not, if it refuses it (the edge stays local-only).
pub fn scan_edge(
    scanner: &ggninja_footprint::Scanner,
    roots: &Roots,
    g: &Graph,
    b: BuildId,
) -> Result<ggninja_footprint::Footprint, String> {
    let command = g.command(b, false).map_err(|e| e.to_string())?;
    scanner
        .footprint(&command, &roots.build)
        .map_err(|e| e.reason)
}

/// An edge's footprint from what the scanner found in its command (`fp`):
/// compile, link and archive commands through the include scanner and
/// toolchain discovery, plus the edge's manifest inputs (which name
/// generated files before they exist). Other commands: all their inputs
/// and the files their arguments name, the program and the shared
/// libraries it loads; with a depfile (headers unknown) they are
/// local-only. Headers outside the trees (`roots`: the compiler's own,
/// /usr/include) are kept apart: the builder names them with the
/// toolchain, as one bundle. Reads the graph's shape and the edge's
/// `depfile` and `deps` bindings, nothing else (see `kept`).
pub fn edge_footprint(
    roots: &Roots,
    g: &Graph,
    b: BuildId,
    fp: ggninja_footprint::Footprint,
) -> Result<Footprint, String> {
    use ggninja_footprint::Kind;
    let cwd = &roots.build;
    moves_into_outputs(g, b, &fp.effects)?;
    let side_outputs = side_outputs(g, b, cwd, &fp.outputs)?;
    unordered_matches(g, b, cwd, &fp)?;
    let (system, trees): (Vec<PathBuf>, Vec<PathBuf>) =
        (fp.headers.into_iter()).partition(|h| h.is_absolute() && !roots.is_inside(h));
    let system: Vec<String> = system.into_iter().map(text).collect();
    let most = g.build(b).ins.len() + fp.sources.len() + trees.len() + fp.absent.len();
    if fp.kind == Kind::Other && has_depfile(g, b) {
        return Err("reads headers that only a depfile names".to_string());
    }
    let mut files: Vec<String> = Vec::with_capacity(most);
    // The walk's headers first: sorted already, they are the long run a
    // stable sort merges the few files after them into (placed after a
    // few others, half of them were sorted anew).
    files.extend(trees.into_iter().map(text));
    // The deps log's headers are the edge's inputs too, mostly walked
    // already: found among the walk's, each is named once rather than
    // copied, sorted in and dropped again.
    let walked: FxHashSet<&str> = files.iter().map(String::as_str).collect();
    let ins = g.build(b).ins.iter().map(|&i| g.path(i));
    let more: Vec<String> = ins
        .filter(|p| !walked.contains(p))
        .map(str::to_string)
        .collect();
    files.extend(more);
    // Files the command line names (response files, an `Other` program's
    // existing file arguments) count even when the manifest does not list them.
    files.extend(fp.sources.into_iter().map(text));
    // A header not there yet that an edge of the build writes: once
    // written, the include finds it (the builder links it, hashes it, or
    // refuses the thunk when nothing orders that edge first).
    files.extend(fp.absent.iter().filter_map(|p| generated(g, cwd, p)));
    Ok(Footprint {
        toolchain: fp.toolchain,
        program: fp.executable,
        argv: fp.argv,
        files,
        system,
        embeds_cwd: fp.embeds_cwd,
        effects: fp.effects,
        side_outputs,
        collation: fp.collation,
        walks_dirs: fp.kind == Kind::Other,
    })
}

/// A pattern (`*.o`) matches what is there when the edge starts, and what
/// its own steps write: a matching name that another edge, not ordered
/// before this one, writes may appear while it runs, and the run would
/// then read what its key did not name.
fn unordered_matches(
    g: &Graph,
    b: BuildId,
    cwd: &Path,
    fp: &ggninja_footprint::Footprint,
) -> Result<(), String> {
    let rel = |p: &Path| canonicalize(&p.strip_prefix(cwd).unwrap_or(p).display().to_string());
    let own: Vec<Option<String>> = fp.outputs.iter().map(|p| rel(p)).collect();
    let mut upstream = Upstream::of(g, b);
    for pattern in fp.patterns.iter().map(|p| rel(p).unwrap_or_default()) {
        let (dir, name) = pattern.rsplit_once('/').unwrap_or(("", &pattern));
        for &f in g.file_nodes() {
            let path = g.path(f);
            let (d, n) = path.rsplit_once('/').unwrap_or(("", path));
            let Some(p) = g.file(f).in_build.filter(|&p| p != b && !g.is_phony(p)) else {
                continue;
            };
            if d != dir || !ggninja_footprint::pattern_matches(name.as_bytes(), n.as_bytes()) {
                continue;
            }
            if !own.contains(&Some(path.to_string())) && !upstream.contains(p) {
                return Err(format!(
                    "`{pattern}` may match {path}, which another edge writes \
                     without being ordered before it"
                ));
            }
        }
    }
    Ok(())
}

/// `path` as the graph spells it (relative to the build dir), if an edge
/// writes it.
fn generated(g: &Graph, cwd: &Path, path: &Path) -> Option<String> {
    let rel = relative(path, cwd).to_str()?;
    let producer = g.lookup(rel).and_then(|n| g.file(n).in_build);
    producer
        .is_some_and(|p| !g.is_phony(p))
        .then(|| rel.to_string())
}

/// A path as text: it is UTF-8 nearly always, and then keeps its buffer
/// (lossy otherwise, as `display` prints it).
fn text(p: PathBuf) -> String {
    p.into_os_string()
        .into_string()
        .unwrap_or_else(|p| Path::new(&p).display().to_string())
}

/// A file a step moves (`mv objs/a.o a.lo`) must land on an output of the
/// edge: a hit restores only those.
fn moves_into_outputs(g: &Graph, b: BuildId, effects: &[Effect]) -> Result<(), String> {
    for effect in effects {
        let Effect::Moved { to, .. } = effect else {
            continue;
        };
        let to = to.display().to_string();
        let node = g.lookup(&to);
        if !node.is_some_and(|n| g.build(b).outs.contains(&n)) {
            return Err(format!("it moves a file to {to}, which is not its output"));
        }
    }
    Ok(())
}

/// The files an edge leaves behind: its outputs and its depfile.
pub fn produced(g: &Graph, b: BuildId) -> Vec<String> {
    let mut files: Vec<String> = g
        .build(b)
        .outs
        .iter()
        .map(|&o| g.path(o).to_string())
        .collect();
    let depfile = g.binding(b, "depfile", Escape::None).unwrap_or_default();
    if !depfile.is_empty() {
        files.push(depfile);
    }
    files
}

/// The files the command leaves written besides the edge's outputs and
/// depfile (make's `-MMD` depfile, which the next import reads for the
/// header dependencies; an object a recipe compiles on the way to its
/// archive, which another recipe links), as the graph spells paths: a hit
/// must restore them too. One outside the build dir makes the edge local.
fn side_outputs(
    g: &Graph,
    b: BuildId,
    cwd: &Path,
    written: &[PathBuf],
) -> Result<Vec<String>, String> {
    let canonical = |p: &str| canonicalize(p).unwrap_or_default();
    let declared: Vec<String> = produced(g, b).iter().map(|p| canonical(p)).collect();
    let mut side = Vec::new();
    for w in written {
        let rel = w.strip_prefix(cwd).unwrap_or(w);
        let path = canonical(&rel.display().to_string());
        if declared.contains(&path) || side.contains(&path) {
            continue;
        }
        if rel.is_absolute() || path.starts_with("../") || path == ".." {
            return Err(format!("it writes {path}, outside the build dir"));
        }
        side.push(path);
    }
    Ok(side)
}

fn has_depfile(g: &Graph, b: BuildId) -> bool {
    let set = |name, escape| !g.binding(b, name, escape).unwrap_or_default().is_empty();
    set("deps", Escape::Shell) || set("depfile", Escape::None)
}
