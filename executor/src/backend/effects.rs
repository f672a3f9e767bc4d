//! What a command list does to the tree besides writing its outputs
//! (`footprint::Effect`: `mkdir objs`, `mv objs/a.o a.lo`, `ln -s libz.so.1.2
//! libz.so`, `rm -f`, `rmdir objs`), done again in the build tree when its
//! outputs come from elsewhere: a memo hit, a sandbox. Each is done as the
//! command would, to the same end: an existing directory made, a missing
//! file removed or a non-empty directory kept are no error (an ignored
//! make line, `rm -f`). Ignores the outputs themselves.

use std::io::{self, ErrorKind};
use std::path::Path;

use ggninja_thunk::{Effect, Roots};

/// Does `effects`, in order, with paths relative to the build dir.
pub fn replay(roots: &Roots, effects: &[Effect]) -> io::Result<()> {
    let real = |p: &Path| roots.host_path(&p.display().to_string());
    for effect in effects {
        match effect {
            Effect::MakeDir { path, parents } => make_dir(&real(path), *parents)?,
            Effect::RemoveDir(path) => {
                // rmdir: only an empty directory goes.
                let _ = std::fs::remove_dir(real(path));
            }
            Effect::Remove { path, recursive } => remove(&real(path), *recursive)?,
            Effect::Moved { from, .. } => remove(&real(from), false)?,
            Effect::Symlink { target, link } => {
                let link = real(link);
                remove(&link, false)?;
                std::os::unix::fs::symlink(target, &link)?;
            }
        }
    }
    Ok(())
}

fn make_dir(dir: &Path, parents: bool) -> io::Result<()> {
    let made = match parents {
        true => std::fs::create_dir_all(dir),
        false => std::fs::create_dir(dir),
    };
    match made {
        Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other,
    }
}

/// `rm -f [-r]`: a file or symlink, or with `recursive` a whole tree.
fn remove(path: &Path, recursive: bool) -> io::Result<()> {
    let removed = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
        Ok(meta) if meta.is_dir() && recursive => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    match removed {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_end_as_the_commands_do() {
        let d = tempfile::tempdir().unwrap();
        let at = |p: &str| d.path().join(p);
        let roots = Roots::new(d.path().to_path_buf(), None);
        std::fs::write(at("stale.o"), "x").unwrap();
        std::fs::write(at("libz.so"), "old").unwrap();
        std::fs::create_dir_all(at("tree/sub")).unwrap();
        std::fs::create_dir(at("full")).unwrap();
        std::fs::write(at("full/f"), "").unwrap();
        let effects = [
            Effect::MakeDir {
                path: "objs".into(),
                parents: false,
            },
            Effect::MakeDir {
                path: "objs".into(),
                parents: false,
            },
            Effect::MakeDir {
                path: "a/b".into(),
                parents: true,
            },
            Effect::Moved {
                from: "stale.o".into(),
                to: "a.lo".into(),
            },
            Effect::Remove {
                path: "missing".into(),
                recursive: false,
            },
            Effect::Remove {
                path: "tree".into(),
                recursive: true,
            },
            Effect::Symlink {
                target: "libz.so.1.2".into(),
                link: "libz.so".into(),
            },
            Effect::RemoveDir("full".into()),
            Effect::RemoveDir("a/b".into()),
        ];
        replay(&roots, &effects).unwrap();
        assert!(at("objs").is_dir() && at("a").is_dir() && !at("a/b").exists());
        assert!(!at("stale.o").exists() && !at("tree").exists());
        assert_eq!(
            std::fs::read_link(at("libz.so")).unwrap(),
            Path::new("libz.so.1.2")
        );
        assert!(at("full/f").exists());
        // A directory made without its parent fails as `mkdir` does.
        let orphan = Effect::MakeDir {
            path: "no/parent".into(),
            parents: false,
        };
        assert!(replay(&roots, &[orphan]).is_err());
    }
}
