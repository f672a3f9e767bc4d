//! Sandboxed execution (`--sandbox`): each thunk runs in a fresh directory
//! tree holding only its footprint (hard links), mounted as `/` in a new
//! mount namespace by bubblewrap. A file the footprint missed is simply not
//! there, so the command fails instead of silently reading it.
//!
//! Files keep their real paths inside, so outputs are byte-identical to an
//! unsandboxed run (a binary's RUNPATH naming the build dir still works);
//! the memo key, not the sandbox, deals with paths (see `Memoizer::key`).

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use ggninja_graph::{BuildId, Escape, Graph};
use ggninja_thunk::{produced, Effect, NamedBundle, Roots, Source, Thunk};
use rustc_hash::FxHashMap;

use super::{effects, Backend, Ctx, Done, Exit, Local, Task};

/// Runs the tasks that carry a thunk in a sandbox, the others as local
/// processes.
pub struct Sandboxed {
    sandbox: Sandbox,
    local: Local,
    /// Edges running in a sandbox, with their `restat`, effects and the
    /// files they write besides their outputs.
    inside: FxHashMap<BuildId, (bool, Vec<Effect>, Vec<String>)>,
}

impl Sandboxed {
    pub fn new(sandbox: Sandbox) -> Sandboxed {
        Sandboxed {
            sandbox,
            local: Local::default(),
            inside: FxHashMap::default(),
        }
    }
}

impl Backend for Sandboxed {
    fn start(&mut self, cx: &mut Ctx, task: Task) -> Result<(), String> {
        let Some(t) = &task.thunk else {
            return self.local.start(cx, task);
        };
        let (g, b) = (cx.graph, task.edge);
        let prepared = self
            .sandbox
            .prepare(b.index(), g, b, &t.thunk(), t.bundle.as_deref());
        let cmd = prepared.map_err(|e| format!("sandbox for '{}': {}", cx.first_output(b), e))?;
        let kept = (task.restat, t.effects.clone(), t.side_outputs.clone());
        self.inside.insert(b, kept);
        self.local
            .start_command(b, cmd, task.streams(), &task.command)
    }

    fn wait(&mut self, cx: &mut Ctx) -> Option<Done> {
        let mut done = self.local.wait(cx)?;
        let Some((restat, effects, side)) = self.inside.remove(&done.edge) else {
            return Some(done);
        };
        let (g, b) = (cx.graph, done.edge);
        if done.exit == Exit::Success {
            // What the command did to its sandbox's tree besides its outputs.
            let replayed = effects::replay(&self.sandbox.roots, &effects);
            let collected =
                replayed.and_then(|_| self.sandbox.collect(b.index(), g, b, &side, restat));
            if let Err(e) = collected {
                let msg = format!("sandbox: {e}\n");
                done.output.extend_from_slice(msg.as_bytes());
                done.exit = Exit::Failure(1);
            }
        }
        self.sandbox.discard(b.index());
        Some(done)
    }

    fn running(&self) -> usize {
        self.local.running()
    }

    fn waker(&self) -> Option<super::Waker> {
        self.local.waker()
    }

    fn abort(&mut self) -> Vec<BuildId> {
        let stopped = self.local.abort();
        self.close();
        stopped
    }

    fn close(&mut self) {
        self.inside.clear();
        self.sandbox.clear();
    }
}

pub struct Sandbox {
    bwrap: PathBuf,
    /// `.ggninja_sandbox` in the build dir: on the build tree's file system,
    /// so inputs can be hard-linked and outputs renamed into place.
    dir: PathBuf,
    roots: Roots,
}

/// How deep symlinks may chain while mirroring a path.
const MAX_LINKS: usize = 40;

impl Sandbox {
    /// Finds bubblewrap and checks that it can make a namespace here.
    pub fn open(roots: Roots) -> Result<Sandbox, String> {
        let bwrap = PathBuf::from("bwrap");
        let probe = Command::new(&bwrap)
            .args(["--ro-bind", "/", "/", "--unshare-all", "true"])
            .output()
            .map_err(|e| format!("--sandbox needs bubblewrap (`bwrap`) on PATH: {e}"))?;
        if !probe.status.success() {
            return Err(format!(
                "--sandbox: bubblewrap cannot make a mount namespace here: {}",
                String::from_utf8_lossy(&probe.stderr).trim()
            ));
        }
        let dir = roots.build.join(".ggninja_sandbox");
        // Left over from an interrupted build.
        let _ = std::fs::remove_dir_all(&dir);
        Ok(Sandbox { bwrap, dir, roots })
    }

    fn root(&self, id: usize) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// Lays out the footprint of `thunk` for edge `b` and returns the
    /// command that runs it there.
    pub fn prepare(
        &self,
        id: usize,
        g: &Graph,
        b: BuildId,
        thunk: &Thunk,
        bundle: Option<&NamedBundle>,
    ) -> io::Result<Command> {
        let root = self.root(id);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(inside(&root, &self.roots.build))?;
        let mut binds = Vec::new();
        mirror(
            &root,
            &self.roots.real_path(&thunk.function.exe),
            &mut binds,
        )?;
        for input in &thunk.inputs {
            let real = self.roots.real_path(&input.path);
            match &input.source {
                Source::Directory { .. } => std::fs::create_dir_all(inside(&root, &real))?,
                Source::Bundle { .. } => {
                    for f in bundle.iter().flat_map(|b| &b.bundle.files) {
                        mirror(&root, Path::new(&f.path), &mut binds)?;
                    }
                }
                _ => mirror(&root, &real, &mut binds)?,
            }
        }
        for out in produced(g, b) {
            if let Some(dir) = inside(&root, &self.roots.host_path(&out)).parent() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let mut cmd = Command::new(&self.bwrap);
        cmd.arg("--bind").arg(&root).arg("/");
        for (real, virt) in binds {
            cmd.arg("--ro-bind").arg(real).arg(virt);
        }
        // A private /tmp for compilers' temporary files: a directory of the
        // tree, not a tmpfs, which would hide a build dir under /tmp.
        std::fs::create_dir_all(root.join("tmp"))?;
        cmd.args(["--dev", "/dev", "--proc", "/proc"])
            .arg("--chdir")
            .arg(&self.roots.build)
            .args(["--unshare-all", "--die-with-parent", "--clearenv"]);
        for (k, v) in &thunk.function.env {
            cmd.arg("--setenv").arg(k).arg(v);
        }
        cmd.arg("--");
        cmd.args(thunk.function.argv.iter().map(|a| self.roots.unrewrite(a)));
        Ok(cmd)
    }

    /// Moves what a successful run wrote into the build tree: the outputs,
    /// the depfile and the files it writes besides (`side`). With `restat`,
    /// an output whose content did not change is left untouched, as a
    /// command that writes only on change would have left it.
    pub fn collect(
        &self,
        id: usize,
        g: &Graph,
        b: BuildId,
        side: &[String],
        restat: bool,
    ) -> io::Result<()> {
        let root = self.root(id);
        let depfile = g.binding(b, "depfile", Escape::None).unwrap_or_default();
        for out in produced(g, b).into_iter().chain(side.iter().cloned()) {
            let real = self.roots.host_path(&out);
            let inside = inside(&root, &real);
            // Like ninja, an output the command did not write is left as it
            // was (the next build sees it dirty).
            let written = std::fs::symlink_metadata(&inside).is_ok();
            if !written || (restat && out != depfile && same_content(&inside, &real)) {
                continue;
            }
            if let Some(dir) = real.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::rename(&inside, &real)?;
        }
        Ok(())
    }

    /// Removes one thunk's tree.
    pub fn discard(&self, id: usize) {
        let _ = std::fs::remove_dir_all(self.root(id));
    }

    /// Removes every tree (end of the build).
    pub fn clear(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where the host path `real` is in the tree at `root`.
fn inside(root: &Path, real: &Path) -> PathBuf {
    root.join(real.strip_prefix("/").unwrap_or(real))
}

/// Puts `real` at `dst` by a hard link; where the file systems differ, a
/// read-only bind mount of it at `virt` instead.
fn link_or_bind(
    real: &Path,
    dst: &Path,
    virt: &Path,
    binds: &mut Vec<(PathBuf, PathBuf)>,
) -> io::Result<()> {
    if std::fs::symlink_metadata(dst).is_ok() {
        return Ok(());
    }
    if std::fs::hard_link(real, dst).is_err() {
        binds.push((real.to_path_buf(), virt.to_path_buf()));
    }
    Ok(())
}

/// Recreates the absolute system path `path` under `root`: its directories,
/// the symlinks on the way (`/lib` -> `usr/lib`, `libz.so.1` ->
/// `libz.so.1.2.13`) as symlinks, so `..` and every spelling resolve as on
/// the host, and the file itself as a hard link.
fn mirror(root: &Path, path: &Path, binds: &mut Vec<(PathBuf, PathBuf)>) -> io::Result<()> {
    let mut path = path.to_path_buf();
    'restart: for _ in 0..MAX_LINKS {
        // `cur` stays a real directory path without symlinks.
        let mut cur = PathBuf::from("/");
        let comps: Vec<Component> = path.components().collect();
        for (i, c) in comps.iter().enumerate() {
            match c {
                Component::RootDir | Component::CurDir => continue,
                Component::ParentDir => {
                    cur.pop();
                    continue;
                }
                Component::Prefix(_) => unreachable!("no prefixes on unix"),
                Component::Normal(name) => {
                    let next = cur.join(name);
                    let dst = inside(root, &next);
                    let meta = std::fs::symlink_metadata(&next)?;
                    if meta.file_type().is_symlink() {
                        let target = std::fs::read_link(&next)?;
                        if std::fs::symlink_metadata(&dst).is_err() {
                            std::os::unix::fs::symlink(&target, &dst)?;
                        }
                        let rest: PathBuf = comps[i + 1..].iter().collect();
                        path = cur.join(target).join(rest);
                        continue 'restart;
                    }
                    if meta.is_dir() {
                        if std::fs::symlink_metadata(&dst).is_err() {
                            std::fs::create_dir(&dst)?;
                        }
                    } else if i + 1 == comps.len() {
                        return link_or_bind(&next, &dst, &next, binds);
                    } else {
                        return Err(io::Error::other(format!(
                            "{} is not a directory",
                            next.display()
                        )));
                    }
                    cur = next;
                }
            }
        }
        return Ok(());
    }
    Err(io::Error::other(format!(
        "too many symlinks in {}",
        path.display()
    )))
}

/// Whether two files hold the same bytes (a missing one never does).
fn same_content(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(ma), Ok(mb)) if ma.size() == mb.size() => {
            matches!((std::fs::read(a), std::fs::read(b)), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_keeps_symlinks_and_dotdot() {
        let tmp = std::env::temp_dir().join(format!("ggninja-mirror-{}", std::process::id()));
        let host = tmp.join("host");
        let root = tmp.join("root");
        std::fs::create_dir_all(host.join("usr/lib/x")).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(host.join("usr/lib/x/libz.so.1.2"), b"z").unwrap();
        std::os::unix::fs::symlink("usr/lib", host.join("lib")).unwrap();
        std::os::unix::fs::symlink("libz.so.1.2", host.join("usr/lib/x/libz.so.1")).unwrap();
        let mut binds = Vec::new();
        let spelled = host.join("lib/x/../x/libz.so.1");
        mirror(&root, &spelled, &mut binds).unwrap();
        let inside = |p: &Path| root.join(p.strip_prefix("/").unwrap());
        assert!(binds.is_empty());
        assert!(std::fs::symlink_metadata(inside(&host.join("lib")))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(inside(&spelled)).unwrap(), b"z");
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
