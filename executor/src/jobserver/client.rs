//! A member of a pool: takes a slot without ever blocking, and gives it
//! back. The first slot is the implicit one the parent granted by starting
//! us; the others are bytes read from the pool, written back as read (the
//! protocol asks for the same byte). Ignores how many slots the pool has.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

use super::Auth;
use crate::disk::io_message;

/// One job slot held.
#[derive(Debug, PartialEq, Eq)]
pub enum Slot {
    Implicit,
    Token(u8),
}

/// Why a pool cannot be used; ninja's wording.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("Empty fifo path")]
    EmptyPath,
    #[error("Error opening fifo for reading: {}", io_message(.0))]
    OpenRead(io::Error),
    #[error("Not a fifo path: {0}")]
    NotFifo(String),
    #[error("Error opening fifo for writing: {}", io_message(.0))]
    OpenWrite(io::Error),
    #[error("Invalid file descriptors")]
    BadDescriptors,
    #[error("Could not duplicate read descriptor")]
    DupRead,
    #[error("Could not duplicate write descriptor")]
    DupWrite,
}

pub struct Client {
    /// Non-blocking, so taking a slot never stalls the build loop.
    read: File,
    write: File,
    implicit_free: bool,
    /// The pool's writers are all gone: no slot will come from it again.
    closed: bool,
}

impl Client {
    /// Joins the pool `auth` names. Our descriptors are close-on-exec:
    /// commands reach the pool through what `MAKEFLAGS` names.
    pub fn open(auth: &Auth) -> Result<Client, OpenError> {
        let (read, write) = match auth {
            Auth::Fifo(path) => open_fifo(path)?,
            Auth::Pipe { read, write } => open_pipe(*read, *write)?,
        };
        Ok(Client {
            read,
            write,
            implicit_free: true,
            closed: false,
        })
    }

    /// A slot if one is free now: the implicit one, else a byte from the pool.
    pub fn try_acquire(&mut self) -> Option<Slot> {
        if std::mem::take(&mut self.implicit_free) {
            return Some(Slot::Implicit);
        }
        if self.closed {
            return None;
        }
        let mut byte = [0u8];
        loop {
            match self.read.read(&mut byte) {
                Ok(1) => return Some(Slot::Token(byte[0])),
                Ok(_) => {
                    self.closed = true;
                    return None;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
    }

    /// Gives `slot` back. A pool gone meanwhile loses it: nothing to do.
    pub fn release(&mut self, slot: Slot) {
        match slot {
            Slot::Implicit => self.implicit_free = true,
            Slot::Token(byte) => loop {
                match self.write.write(&[byte]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    _ => break,
                }
            },
        }
    }

    /// Whether a token may still come from the pool (worth watching for).
    pub fn open_pool(&self) -> bool {
        !self.closed
    }

    /// A descriptor of the pool's read side, for `Watcher` to poll.
    pub fn read_side(&self) -> io::Result<OwnedFd> {
        self.read.as_fd().try_clone_to_owned()
    }
}

fn open_fifo(path: &str) -> Result<(File, File), OpenError> {
    if path.is_empty() {
        return Err(OpenError::EmptyPath);
    }
    let open = |write: bool| {
        OpenOptions::new()
            .read(!write)
            .write(write)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
    };
    let read = open(false).map_err(OpenError::OpenRead)?;
    let is_fifo = read.metadata().is_ok_and(|m| m.file_type().is_fifo());
    if !is_fifo {
        return Err(OpenError::NotFifo(path.to_string()));
    }
    let write = open(true).map_err(OpenError::OpenWrite)?;
    Ok((read, write))
}

/// Inherited pipe descriptors. The read side is opened anew through
/// /proc, so making it non-blocking does not change it for make and the
/// other members sharing the original (ninja shares it); a duplicate
/// where /proc is missing.
fn open_pipe(read: i32, write: i32) -> Result<(File, File), OpenError> {
    if !is_fifo_fd(read) || !is_fifo_fd(write) {
        return Err(OpenError::BadDescriptors);
    }
    let reopened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(format!("/proc/self/fd/{read}"));
    let read = match reopened {
        Ok(f) => f,
        Err(_) => {
            let f = duplicate(read).ok_or(OpenError::DupRead)?;
            set_nonblocking(&f).map_err(|_| OpenError::DupRead)?;
            f
        }
    };
    let write = duplicate(write).ok_or(OpenError::DupWrite)?;
    Ok((read, write))
}

fn is_fifo_fd(fd: i32) -> bool {
    if fd < 0 {
        return false;
    }
    // SAFETY: fstat only writes into the zeroed struct; a closed or bad
    // descriptor makes it fail.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(fd, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFIFO
    }
}

/// A close-on-exec duplicate of an inherited descriptor we do not own.
fn duplicate(fd: i32) -> Option<File> {
    // SAFETY: `fd` was checked open (fstat) and stays open while borrowed.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    borrowed.try_clone_to_owned().ok().map(File::from)
}

fn set_nonblocking(f: &File) -> io::Result<()> {
    let fd = f.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobserver::{Pool, Style};

    #[test]
    fn implicit_slot_first_then_tokens_until_none() {
        for style in [Style::Fifo, Style::Pipe] {
            let pool = Pool::create(3, style).unwrap();
            let mut c = Client::open(pool.auth()).unwrap();
            let slots: Vec<Slot> = std::iter::from_fn(|| c.try_acquire()).collect();
            assert_eq!(
                slots,
                [Slot::Implicit, Slot::Token(b'+'), Slot::Token(b'+')]
            );
            assert_eq!(pool.available(), 0);
            for s in slots {
                c.release(s);
            }
            assert_eq!(pool.available(), 2);
            assert_eq!(c.try_acquire(), Some(Slot::Implicit));
        }
    }

    #[test]
    fn ninjas_messages_for_unusable_pools() {
        let err = |auth: Auth| Client::open(&auth).err().unwrap().to_string();
        assert_eq!(err(Auth::Fifo(String::new())), "Empty fifo path");
        assert_eq!(
            err(Auth::Fifo("/nonexistent/fifo".into())),
            "Error opening fifo for reading: No such file or directory"
        );
        assert_eq!(
            err(Auth::Fifo("/dev/null".into())),
            "Not a fifo path: /dev/null"
        );
        let pipe = |read, write| Auth::Pipe { read, write };
        assert_eq!(err(pipe(-1, -1)), "Invalid file descriptors");
        assert_eq!(err(pipe(9999, 9998)), "Invalid file descriptors");
    }
}
