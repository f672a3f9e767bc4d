//! A big output stored as a clone (a reflink, `FICLONE`) where the store
//! and the tree share a copy-on-write file system (btrfs, XFS): the object
//! shares the output's blocks instead of taking as much disk again, and
//! the store writes nothing. A change to either file later copies the
//! blocks it touches, so an object never changes with the tree's file.
//!
//! The object is kept only if the output's stat is unchanged since its
//! bytes were read and hashed (`Store::put_read_from`), and a hit reads
//! and checks every byte it gives out in any case. A hit copies: a
//! restored clone would have to be read back to be checked (its blocks
//! come from the disk, not from the object's cached pages), which costs
//! more than writing the bytes. Where the file system cannot clone (tmpfs,
//! ext4, the two on different file systems), the first refusal turns
//! clones off for the store's life: one failed call a run, not one an
//! output.
//!
//! Ignores ranges (`FICLONERANGE`) and dedup: a whole file or nothing.

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether to try cloning still: true until a clone fails.
pub(crate) struct Cloner {
    on: AtomicBool,
}

impl Cloner {
    pub(crate) fn new() -> Cloner {
        Cloner {
            on: AtomicBool::new(true),
        }
    }

    /// Whether clones are still tried: none has failed yet.
    pub(crate) fn on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Makes `to`, empty, share `from`'s blocks: whether it does (if not,
    /// `to` may hold a part of them, to be thrown away).
    pub(crate) fn clone_into(&self, from: &File, to: &File) -> bool {
        if !self.on() {
            return false;
        }
        let cloned = rustix::fs::ioctl_ficlone(to, from).is_ok();
        if !cloned {
            self.on.store(false, Ordering::Relaxed);
        }
        cloned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal (here from a device, which no file system clones) turns
    /// clones off.
    #[test]
    fn a_refused_clone_turns_clones_off() {
        let cloner = Cloner::new();
        let to = tempfile::tempfile().unwrap();
        assert!(cloner.on());
        assert!(!cloner.clone_into(&File::open("/dev/zero").unwrap(), &to));
        assert!(!cloner.on());
    }
}
