//! The file tree an image holds, keyed by absolute path: host paths added
//! with every directory and symlink on the way to them (`/usr/bin/cc` ->
//! `/etc/alternatives/cc` -> `/usr/bin/gcc`, `/lib` -> `usr/lib`), so every
//! spelling a thunk uses, `..` included, resolves in the image as on the
//! host. Owns that walk; ignores file contents (read when the layer is
//! written) and what the paths are for.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// How deep symlinks may chain while walking one path.
const MAX_LINKS: usize = 40;

/// The mode of directories the tree makes itself (the bootstrap's).
const DIR_MODE: u32 = 0o755;

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A device, socket or fifo; or a file where a directory must be.
    #[error("{}: neither a regular file, a directory nor a symlink on the way to one", .0.display())]
    Unsupported(PathBuf),
    #[error("{}: more than {MAX_LINKS} symlinks", .0.display())]
    TooManyLinks(PathBuf),
    #[error("{}: needed as a directory, but the image has something else there", .0.display())]
    Conflict(PathBuf),
    #[error("ldd {}: {}", .0.display(), .1)]
    Ldd(PathBuf, String),
}

/// One entry of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir {
        mode: u32,
    },
    /// A regular file, its bytes read from `source` on the host.
    File {
        mode: u32,
        source: PathBuf,
    },
    Symlink {
        target: PathBuf,
    },
}

#[derive(Debug, Default)]
pub struct Tree {
    nodes: BTreeMap<PathBuf, Node>,
}

impl Tree {
    /// Every entry, parents before children (paths compare by component).
    pub fn nodes(&self) -> impl Iterator<Item = (&Path, &Node)> {
        self.nodes.iter().map(|(p, n)| (p.as_path(), n))
    }

    pub fn get(&self, path: &Path) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Adds the absolute host path `path` (a file or a directory) with
    /// what lies on the way to it, resolving symlinks as the kernel does.
    pub fn add_host_path(&mut self, path: &Path) -> Result<(), TreeError> {
        let mut path = path.to_path_buf();
        for _ in 0..MAX_LINKS {
            match self.walk(&path)? {
                Some(next) => path = next,
                None => return Ok(()),
            }
        }
        Err(TreeError::TooManyLinks(path))
    }

    /// Walks `path` from `/`, adding each entry; at a symlink, adds it and
    /// returns the path that remains to resolve.
    fn walk(&mut self, path: &Path) -> Result<Option<PathBuf>, TreeError> {
        let comps: Vec<Component> = path.components().collect();
        // `cur` stays a host directory path without symlinks, so `..` pops.
        let mut cur = PathBuf::from("/");
        for (i, c) in comps.iter().enumerate() {
            let name = match c {
                Component::Normal(name) => name,
                Component::ParentDir => {
                    cur.pop();
                    continue;
                }
                _ => continue,
            };
            let next = cur.join(name);
            let io = |source| TreeError::Io {
                path: next.clone(),
                source,
            };
            let meta = std::fs::symlink_metadata(&next).map_err(io)?;
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&next).map_err(io)?;
                let rest: PathBuf = comps[i + 1..].iter().collect();
                self.insert(
                    &next,
                    Node::Symlink {
                        target: target.clone(),
                    },
                )?;
                return Ok(Some(cur.join(target).join(rest)));
            }
            if meta.is_dir() {
                self.insert(&next, Node::Dir { mode })?;
            } else if meta.is_file() && i + 1 == comps.len() {
                let source = next.clone();
                self.insert(&next, Node::File { mode, source })?;
            } else {
                return Err(TreeError::Unsupported(next));
            }
            cur = next;
        }
        Ok(None)
    }

    /// Adds the host file `source` at `dest` with `mode`; missing parent
    /// directories are made with mode 0755.
    pub fn add_file_as(&mut self, dest: &Path, source: &Path, mode: u32) -> Result<(), TreeError> {
        let meta = std::fs::metadata(source).map_err(|e| TreeError::Io {
            path: source.to_path_buf(),
            source: e,
        })?;
        if !meta.is_file() {
            return Err(TreeError::Unsupported(source.to_path_buf()));
        }
        self.add_parents(dest)?;
        let source = source.to_path_buf();
        self.nodes
            .insert(dest.to_path_buf(), Node::File { mode, source });
        Ok(())
    }

    /// Adds an empty directory (and its parents) unless the path is taken.
    pub fn add_dir(&mut self, dest: &Path, mode: u32) {
        if self.add_parents(dest).is_ok() {
            self.nodes
                .entry(dest.to_path_buf())
                .or_insert(Node::Dir { mode });
        }
    }

    /// The directories above `dest`: made when missing; an error where the
    /// tree holds a file or a symlink (the walk would have to follow it).
    fn add_parents(&mut self, dest: &Path) -> Result<(), TreeError> {
        for dir in dest.ancestors().skip(1).filter(|d| d.parent().is_some()) {
            match self.nodes.get(dir) {
                None => {
                    self.nodes
                        .insert(dir.to_path_buf(), Node::Dir { mode: DIR_MODE });
                }
                Some(Node::Dir { .. }) => {}
                Some(_) => return Err(TreeError::Conflict(dir.to_path_buf())),
            }
        }
        Ok(())
    }

    /// Keeps the first node at a path: the host gives one answer per path
    /// and run, and a directory must not turn into something else.
    fn insert(&mut self, path: &Path, node: Node) -> Result<(), TreeError> {
        match self.nodes.get(path) {
            None => {
                self.nodes.insert(path.to_path_buf(), node);
                Ok(())
            }
            Some(Node::Dir { .. }) if !matches!(node, Node::Dir { .. }) => {
                Err(TreeError::Conflict(path.to_path_buf()))
            }
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn walks_keep_symlinks_and_dotdot_on_the_way() {
        let tmp = tempfile::tempdir().unwrap();
        let host = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(host.join("usr/lib/x/gcc")).unwrap();
        std::fs::create_dir_all(host.join("alt")).unwrap();
        std::fs::write(host.join("usr/lib/x/crt1.o"), "crt").unwrap();
        std::fs::write(host.join("usr/lib/x/gcc/cc1"), "cc1").unwrap();
        symlink("usr/lib", host.join("lib")).unwrap();
        symlink(host.join("usr/lib/x/gcc/cc1"), host.join("alt/cc")).unwrap();
        symlink(host.join("alt/cc"), host.join("cc")).unwrap();

        let mut tree = Tree::default();
        tree.add_host_path(&host.join("lib/x/gcc/../crt1.o"))
            .unwrap();
        tree.add_host_path(&host.join("cc")).unwrap();
        let node = |p: &str| tree.get(&host.join(p)).cloned();
        assert_eq!(
            node("lib"),
            Some(Node::Symlink {
                target: "usr/lib".into()
            })
        );
        assert!(matches!(node("usr/lib/x/gcc"), Some(Node::Dir { .. })));
        assert!(matches!(node("usr/lib/x/crt1.o"), Some(Node::File { .. })));
        assert!(matches!(node("cc"), Some(Node::Symlink { .. })));
        assert!(matches!(node("alt/cc"), Some(Node::Symlink { .. })));
        assert!(
            matches!(node("usr/lib/x/gcc/cc1"), Some(Node::File { mode, .. }) if mode & 0o444 != 0)
        );
        // Parents come before children.
        let paths: Vec<&Path> = tree.nodes().map(|(p, _)| p).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        assert!(tree.add_host_path(&host.join("missing")).is_err());
    }

    #[test]
    fn a_file_as_placed_makes_its_parents_and_refuses_a_link_on_the_way() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("fn");
        std::fs::write(&bin, "elf").unwrap();
        let mut tree = Tree::default();
        tree.add_file_as(Path::new("/var/runtime/bootstrap"), &bin, 0o755)
            .unwrap();
        assert_eq!(
            tree.get(Path::new("/var/runtime")),
            Some(&Node::Dir { mode: 0o755 })
        );
        tree.nodes.insert(
            "/lib".into(),
            Node::Symlink {
                target: "usr/lib".into(),
            },
        );
        assert!(matches!(
            tree.add_file_as(Path::new("/lib/x"), &bin, 0o644),
            Err(TreeError::Conflict(_))
        ));
    }
}
