//! A pool of our own for the commands a build runs (`--jobserver-pool`):
//! `jobs - 1` tokens, the build itself holding the implicit slot, as make
//! does for `make -jN`. A named fifo (make 4.4's default style), which
//! commands open by path, or an anonymous pipe whose descriptors every
//! command inherits (the only style make 4.3 and older understand).
//! Ignores who takes the tokens: the build joins it as any client.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Auth;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Fifo,
    Pipe,
}

pub struct Pool {
    auth: Auth,
    /// Keeps the pool open while the build runs (for a pipe, the read end).
    read: File,
    _write: Option<File>,
    /// The fifo to remove when the build is over.
    fifo: Option<PathBuf>,
}

/// The token byte GNU make writes.
const TOKEN: u8 = b'+';

impl Pool {
    /// A pool for `jobs` jobs at once (at least 1).
    pub fn create(jobs: usize, style: Style) -> io::Result<Pool> {
        let pool = match style {
            Style::Fifo => Self::fifo()?,
            Style::Pipe => Self::pipe()?,
        };
        let tokens = vec![TOKEN; jobs.max(1) - 1];
        let mut writer = pool._write.as_ref().unwrap_or(&pool.read);
        writer.write_all(&tokens)?;
        Ok(pool)
    }

    fn fifo() -> io::Result<Pool> {
        static CREATED: AtomicUsize = AtomicUsize::new(0);
        let n = CREATED.fetch_add(1, Ordering::Relaxed);
        let name = format!("ggninja-jobserver-{}-{n}", std::process::id());
        let path = std::env::temp_dir().join(name);
        if let Err(e) = mkfifo(&path) {
            // A fifo left by an earlier process with our pid: ours now.
            if e.kind() != io::ErrorKind::AlreadyExists {
                return Err(e);
            }
            std::fs::remove_file(&path)?;
            mkfifo(&path)?;
        }
        // Read and write, so neither open waits for the other side; our
        // descriptor is close-on-exec (commands open the path).
        let read = OpenOptions::new().read(true).write(true).open(&path)?;
        Ok(Pool {
            auth: Auth::Fifo(path.to_string_lossy().into_owned()),
            read,
            _write: None,
            fifo: Some(path),
        })
    }

    fn pipe() -> io::Result<Pool> {
        let (read, write) = std::io::pipe()?;
        let (read, write): (OwnedFd, OwnedFd) = (read.into(), write.into());
        for fd in [&read, &write] {
            inherit(fd)?;
        }
        Ok(Pool {
            auth: Auth::Pipe {
                read: read.as_raw_fd(),
                write: write.as_raw_fd(),
            },
            read: File::from(read),
            _write: Some(File::from(write)),
            fifo: None,
        })
    }

    /// Where commands (and the build) find the pool.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Tokens in the pool now.
    pub fn available(&self) -> usize {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int.
        let ok = unsafe { libc::ioctl(self.read.as_raw_fd(), libc::FIONREAD, &mut n) } == 0;
        if ok {
            n.max(0) as usize
        } else {
            0
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Some(path) = &self.fifo {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn mkfifo(path: &std::path::Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: a NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Clears close-on-exec: every command started from now on inherits `fd`.
fn inherit(fd: &OwnedFd) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_one_token_less_than_jobs_and_removes_its_fifo() {
        let pool = Pool::create(4, Style::Fifo).unwrap();
        assert_eq!(pool.available(), 3);
        let Auth::Fifo(path) = pool.auth().clone() else {
            panic!("{:?}", pool.auth())
        };
        assert!(std::path::Path::new(&path).exists());
        drop(pool);
        assert!(!std::path::Path::new(&path).exists());
        let pool = Pool::create(1, Style::Pipe).unwrap();
        assert_eq!(pool.available(), 0);
        assert!(matches!(pool.auth(), Auth::Pipe { .. }));
    }
}
