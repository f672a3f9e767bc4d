//! Big objects as clones (reflinks, `FICLONE`) where the store and the
//! tree share a copy-on-write file system (btrfs, XFS): a hit restores an
//! object by sharing its blocks instead of writing its bytes again, and an
//! output is stored the same way. Writing them was most of what a hit
//! restoring a linked program or an archive cost, and it doubled the disk
//! they take. A change to either file later copies the blocks it touches,
//! so an object never changes with the tree's file.
//!
//! A clone is still checked. A restore reads and sums the object's bytes
//! as for a copy, only without writing them; a stored clone is kept only
//! if the output's stat is unchanged since its bytes were read and hashed
//! (and a hit checks it again in any case). Where the file system cannot
//! clone (tmpfs, ext4, the two on different file systems), the first
//! refusal turns clones off for the store's life, so a build that cannot
//! clone pays one failed call, not one an object.
//!
//! Ignores ranges (`FICLONERANGE`) and dedup: a whole object or nothing.

use std::fs::File;
use std::io;
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

    /// Makes `to`, empty, share `from`'s blocks: Ok(true) when it does,
    /// Ok(false) when it cannot (`to` left empty: a failed clone may have
    /// shared some blocks, and they are cut off again).
    pub(crate) fn clone_into(&self, from: &File, to: &File) -> io::Result<bool> {
        if !self.on() {
            return Ok(false);
        }
        match rustix::fs::ioctl_ficlone(to, from) {
            Ok(()) => Ok(true),
            Err(_) => {
                self.on.store(false, Ordering::Relaxed);
                to.set_len(0)?;
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};

    /// A refusal (here from a device, which no file system clones) leaves
    /// `to` empty and turns clones off: a file that could be cloned is not
    /// tried after it.
    #[test]
    fn a_refused_clone_leaves_the_file_empty_and_clones_off() {
        let cloner = Cloner::new();
        let mut to = tempfile::tempfile().unwrap();
        to.write_all(b"shared by half a clone").unwrap();
        let device = File::open("/dev/zero").unwrap();
        assert!(!cloner.clone_into(&device, &to).unwrap());
        assert_eq!(to.metadata().unwrap().len(), 0);
        let mut from = tempfile::tempfile().unwrap();
        from.write_all(b"an object").unwrap();
        assert!(!cloner.clone_into(&from, &to).unwrap());
        let mut left = Vec::new();
        to.rewind().unwrap();
        to.read_to_end(&mut left).unwrap();
        assert!(left.is_empty());
    }
}
