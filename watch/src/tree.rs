//! The directories watched, and what each inotify event says may have
//! changed.
//!
//! A run names the directories its files live in ("listed"); each is
//! watched with all its ancestors, top down, so a rename or removal of any
//! directory on the way is seen in its parent. An event on a name is a
//! change of that path; one on a directory (made, removed, moved, or its
//! own watch gone) is a change of everything under it, and a directory
//! made where a registered one belongs is watched again (what happened in
//! it before is covered by that change).
//!
//! A stat follows symlinks, and inotify reports only what happens through
//! the watched name: a symlink in a listed directory, a directory there
//! nobody listed (its mtime moves when its entries do), and everything
//! under a directory that cannot be watched (a symlink on the way, a
//! filesystem inotify does not see all of, the watch limit reached) are
//! "always": stat'ed on every run. Ignores: writes through another hard
//! link (in a directory not watched), writes through a shared mapping
//! until the file is closed, and mounts made over a watched directory:
//! inotify reports none of them (the limits watchman and git's fsmonitor
//! document too).

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;

use inotify::{EventMask, WatchDescriptor, WatchMask, Watches};

use crate::journal::Journal;
use crate::protocol::Change;

/// The daemon's own files in its directory (socket, cookies, snapshots):
/// their events are nobody's change.
pub const OWN_PREFIX: &str = ".ggninja_watch";
/// A cookie's name: this, then its number.
pub const COOKIE_PREFIX: &str = ".ggninja_watch.cookie.";

fn mask() -> WatchMask {
    WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::MODIFY
        | WatchMask::ATTRIB
        | WatchMask::CLOSE_WRITE
        | WatchMask::MOVED_FROM
        | WatchMask::MOVED_TO
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF
        | WatchMask::DONT_FOLLOW
        | WatchMask::ONLYDIR
        | WatchMask::EXCL_UNLINK
}

/// Filesystems whose every change on this machine inotify reports
/// (`statfs`'s f_type): ext2/3/4, xfs, btrfs, tmpfs, f2fs, overlay, zfs,
/// bcachefs. Network and FUSE filesystems change without telling.
const LOCAL_FILESYSTEMS: &[i64] = &[
    0xEF53,
    0x5846_5342,
    0x9123_683E,
    0x0102_1994,
    0xF2F5_2010,
    0x794C_7630,
    0x2FC1_2FC1,
    0xCA45_1A4E,
];

pub struct Tree {
    watches: Watches,
    /// By watch descriptor: the directories it watches (one inode may be
    /// reached by two paths, through a bind mount).
    by_wd: HashMap<i32, (WatchDescriptor, Vec<String>)>,
    wd_of: HashMap<String, i32>,
    /// Every directory listed, and their ancestors.
    registered: BTreeSet<String>,
    listed: BTreeSet<String>,
    /// Registered, there, and not watchable.
    unwatched: BTreeSet<String>,
    /// Symlinks in listed directories.
    links: BTreeSet<String>,
    /// Directories in listed directories, not registered.
    subdirs: BTreeSet<String>,
    root: String,
    root_lost: bool,
}

/// `dir/name`.
fn join(dir: &str, name: &str) -> String {
    match dir {
        "/" => format!("/{name}"),
        _ => format!("{dir}/{name}"),
    }
}

/// `/`, `/a`, `/a/b` for `/a/b`; None for a path that is not absolute and
/// plain (no empty, `.` or `..` component).
fn ancestors_and_self(dir: &str) -> Option<Vec<String>> {
    let rest = dir.strip_prefix('/')?;
    let mut out = vec!["/".to_string()];
    if rest.is_empty() {
        return Some(out);
    }
    for (i, part) in rest.split('/').enumerate() {
        if part.is_empty() || part == "." || part == ".." {
            return None;
        }
        let parent = &out[i];
        out.push(join(parent, part));
    }
    Some(out)
}

/// Whether `path` is `dir` or lies under it.
fn at_or_under(path: &str, dir: &str) -> bool {
    dir == "/"
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl Tree {
    /// A tree watching `root` (the daemon's directory, absolute) and its
    /// ancestors. Err: `root` cannot be watched.
    pub fn new(watches: Watches, root: &str) -> io::Result<Tree> {
        let mut tree = Tree {
            watches,
            by_wd: HashMap::new(),
            wd_of: HashMap::new(),
            registered: BTreeSet::new(),
            listed: BTreeSet::new(),
            unwatched: BTreeSet::new(),
            links: BTreeSet::new(),
            subdirs: BTreeSet::new(),
            root: root.to_string(),
            root_lost: false,
        };
        tree.register(&[root.to_string()]);
        if !tree.wd_of.contains_key(root) {
            let why = match std::fs::metadata(root) {
                Err(e) => e.to_string(),
                Ok(_) => "not a local filesystem, or the watch limit reached".to_string(),
            };
            return Err(io::Error::other(format!("cannot watch {root}: {why}")));
        }
        Ok(tree)
    }

    /// Whether the root's watch is gone (removed or moved): nothing can be
    /// vouched for any more.
    pub fn root_lost(&self) -> bool {
        self.root_lost
    }

    /// Watches `dirs` (absolute) and their ancestors from now on: a later
    /// change shows in the journal.
    pub fn register(&mut self, dirs: &[String]) {
        for dir in dirs {
            if self.listed.contains(dir) {
                continue;
            }
            let Some(chain) = ancestors_and_self(dir) else {
                self.unwatched.insert(dir.clone());
                continue;
            };
            for a in chain {
                if self.registered.insert(a.clone()) {
                    self.watch(&a);
                }
            }
            if self.listed.insert(dir.clone()) && self.wd_of.contains_key(dir) {
                self.list(dir);
            }
        }
    }

    /// Starts watching registered `dir`, unless something above it is
    /// not watchable (its changes are "always" already) or it is not there
    /// (its making is seen in a parent).
    fn watch(&mut self, dir: &str) {
        if self
            .unwatched
            .iter()
            .any(|u| u != dir && at_or_under(dir, u))
        {
            return;
        }
        match self.add(dir) {
            Ok(()) => {
                self.unwatched.remove(dir);
                self.subdirs.remove(dir);
                if self.listed.contains(dir) {
                    self.list(dir);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => {
                self.unwatched.insert(dir.to_string());
            }
        }
    }

    fn add(&mut self, dir: &str) -> io::Result<()> {
        if !local_filesystem(dir)? {
            return Err(io::Error::other("not a local filesystem"));
        }
        let wd = self.watches.add(dir, mask())?;
        let id = wd.get_watch_descriptor_id();
        if self.wd_of.get(dir) == Some(&id) {
            return Ok(());
        }
        self.forget_path(dir);
        let entry = self.by_wd.entry(id).or_insert_with(|| (wd, Vec::new()));
        entry.1.push(dir.to_string());
        self.wd_of.insert(dir.to_string(), id);
        Ok(())
    }

    /// Notes the symlinks and unlisted directories in listed `dir`.
    fn list(&mut self, dir: &str) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            self.unwatched.insert(dir.to_string());
            return;
        };
        for entry in entries {
            let Ok(entry) = entry else {
                self.unwatched.insert(dir.to_string());
                return;
            };
            let path = join(dir, &String::from_utf8_lossy(entry.file_name().as_bytes()));
            match entry.file_type() {
                Ok(t) if t.is_symlink() => {
                    self.links.insert(path);
                }
                Ok(t) if t.is_dir() => {
                    if !self.registered.contains(&path) {
                        self.subdirs.insert(path);
                    }
                }
                Ok(_) => {}
                Err(_) => {
                    self.links.insert(path);
                }
            }
        }
    }

    /// Applies one event; a cookie of the daemon's returns its number.
    pub fn event(
        &mut self,
        wd: i32,
        mask: EventMask,
        name: Option<&OsStr>,
        journal: &mut Journal,
    ) -> Option<u64> {
        if mask.contains(EventMask::Q_OVERFLOW) {
            journal.lose_all();
            return None;
        }
        let dirs = self.by_wd.get(&wd)?.1.clone();
        let mut cookie = None;
        for dir in dirs {
            match name {
                Some(name) => {
                    let name = String::from_utf8_lossy(name.as_bytes());
                    if dir == self.root && name.starts_with(OWN_PREFIX) {
                        cookie = cookie.or_else(|| cookie_number(&name, mask));
                        continue;
                    }
                    self.named(&dir, &name, mask, journal);
                }
                None => self.on_itself(wd, &dir, mask, journal),
            }
        }
        cookie
    }

    /// An event on `name` in watched `dir`.
    fn named(&mut self, dir: &str, name: &str, mask: EventMask, journal: &mut Journal) {
        let path = join(dir, name);
        if !self.listed.contains(dir) && !self.registered.contains(&path) {
            // In a directory watched only as the way to others (`/tmp`,
            // the home directory): no file of the run's lies there.
            return;
        }
        let made = mask.intersects(EventMask::CREATE | EventMask::MOVED_TO);
        let gone = mask.intersects(EventMask::DELETE | EventMask::MOVED_FROM);
        if mask.contains(EventMask::ISDIR) {
            journal.record(Change::Under(path.clone()));
            // Seen from its parent: the daemon's own working directory
            // keeps the root's inode, so its own removal may never be told.
            self.root_lost |= gone && path == self.root;
            if gone {
                self.subdirs.remove(&path);
            } else if made && self.registered.contains(&path) {
                self.watch_again_under(&path);
            } else if made && self.listed.contains(dir) {
                self.subdirs.insert(path);
            }
            return;
        }
        journal.record(Change::File(path.clone()));
        if !self.listed.contains(dir) || !(made || gone) {
            return;
        }
        // The name's latest event decides: each looks at what is there now.
        self.links.remove(&path);
        if made && std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            self.links.insert(path);
        }
    }

    /// An event on watched `dir` itself.
    fn on_itself(&mut self, wd: i32, dir: &str, mask: EventMask, journal: &mut Journal) {
        let ends =
            EventMask::DELETE_SELF | EventMask::MOVE_SELF | EventMask::IGNORED | EventMask::UNMOUNT;
        if !mask.intersects(ends) {
            // Its own mode or times: the directory as a file.
            journal.record(Change::File(dir.to_string()));
            return;
        }
        journal.record(Change::Under(dir.to_string()));
        if dir == self.root {
            self.root_lost = true;
        }
        if let Some((descriptor, _)) = self.by_wd.remove(&wd) {
            if !mask.contains(EventMask::IGNORED) {
                let _ = self.watches.remove(descriptor);
            }
        }
        self.wd_of.retain(|_, id| *id != wd);
    }

    /// A directory appeared at registered `dir`: watch it and every
    /// registered directory under it afresh, parents first.
    fn watch_again_under(&mut self, dir: &str) {
        let again: Vec<String> = self
            .registered
            .range(dir.to_string()..)
            .take_while(|r| r.starts_with(dir))
            .filter(|r| at_or_under(r, dir))
            .cloned()
            .collect();
        for r in again {
            self.unwatched.remove(&r);
            self.watch(&r);
        }
    }

    /// Drops `dir`'s old watch, if any (another inode was there).
    fn forget_path(&mut self, dir: &str) {
        let Some(id) = self.wd_of.remove(dir) else {
            return;
        };
        if let Some((descriptor, dirs)) = self.by_wd.get_mut(&id) {
            dirs.retain(|d| d != dir);
            if dirs.is_empty() {
                let _ = self.watches.remove(descriptor.clone());
                self.by_wd.remove(&id);
            }
        }
    }

    /// What must be stat'ed on every run (see the module's doc).
    pub fn always(&self) -> Vec<Change> {
        let files = self.links.iter().chain(&self.subdirs);
        let files = files.map(|p| Change::File(p.clone()));
        let under = self.unwatched.iter().map(|p| Change::Under(p.clone()));
        files.chain(under).collect()
    }

    /// How many directories are watched.
    pub fn watched(&self) -> usize {
        self.wd_of.len()
    }
}

/// The number of the daemon's cookie `name`, when this event made it.
fn cookie_number(name: &str, mask: EventMask) -> Option<u64> {
    if !mask.contains(EventMask::CREATE) {
        return None;
    }
    name.strip_prefix(COOKIE_PREFIX)?.parse().ok()
}

/// Whether `dir` is on a filesystem inotify sees every change of.
fn local_filesystem(dir: &str) -> io::Result<bool> {
    let c = std::ffi::CString::new(dir).map_err(io::Error::other)?;
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `st` a buffer of the right type.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast)]
    Ok(LOCAL_FILESYSTEMS.contains(&(st.f_type as i64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_absolute_dir_has_its_ancestors_and_others_none() {
        let want = ["/", "/a", "/a/b"].map(String::from).to_vec();
        assert_eq!(ancestors_and_self("/a/b"), Some(want));
        assert_eq!(ancestors_and_self("/"), Some(vec!["/".to_string()]));
        for bad in ["a/b", "/a//b", "/a/./b", "/a/../b", "/a/"] {
            assert_eq!(ancestors_and_self(bad), None, "{bad}");
        }
    }

    #[test]
    fn under_means_at_or_below_a_component() {
        assert!(at_or_under("/a/b", "/a"));
        assert!(at_or_under("/a", "/a"));
        assert!(at_or_under("/x", "/"));
        assert!(!at_or_under("/ab", "/a"));
    }
}
