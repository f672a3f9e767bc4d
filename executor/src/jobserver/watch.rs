//! Wakes the build loop when the pool has a token to take, so a build
//! short of slots starts its next command as soon as another member
//! returns one, not when a command of its own ends (ninja 1.13 only tries
//! again then). A thread sleeps until asked (`arm`), then in `poll` on the
//! pool, and calls `wake` once per request when a token is readable. It
//! never reads: the build loop takes the token (or finds another member
//! took it first, and asks again).

use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

#[derive(Default)]
struct State {
    armed: bool,
    stop: bool,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

pub struct Watcher {
    shared: Shared,
    /// A byte here ends a `poll` in progress when the build is over.
    cancel: std::io::PipeWriter,
    /// Its read end, also kept here: the thread may be gone by then, and
    /// a pipe without readers would kill us (SIGPIPE) on that write.
    _cancel_read: std::io::PipeReader,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Watches `pool` (its read side); `wake` is called from the thread.
    pub fn start(pool: OwnedFd, wake: Box<dyn Fn() + Send>) -> io::Result<Watcher> {
        let (cancel_rx, cancel) = std::io::pipe()?;
        let _cancel_read = cancel_rx.try_clone()?;
        let shared: Shared = Arc::default();
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("jobserver".into())
            .spawn(move || watch(&theirs, &pool, &cancel_rx.into(), &*wake))?;
        Ok(Watcher {
            shared,
            cancel,
            _cancel_read,
            thread: Some(thread),
        })
    }

    /// Asks for one `wake` when a token is readable.
    pub fn arm(&self) {
        let (lock, cvar) = &*self.shared;
        lock.lock().unwrap_or_else(|e| e.into_inner()).armed = true;
        cvar.notify_one();
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.shared;
        lock.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
        cvar.notify_one();
        let _ = self.cancel.write_all(b"x");
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn watch(shared: &Shared, pool: &OwnedFd, cancel: &OwnedFd, wake: &dyn Fn()) {
    let (lock, cvar) = &**shared;
    loop {
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !state.armed && !state.stop {
            state = cvar.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if state.stop {
            return;
        }
        drop(state);
        if !readable(pool, cancel) {
            return;
        }
        lock.lock().unwrap_or_else(|e| e.into_inner()).armed = false;
        wake();
    }
}

/// Waits until `pool` has a byte to read (true) or `cancel` does (false).
fn readable(pool: &OwnedFd, cancel: &OwnedFd) -> bool {
    let mut fds = [pool.as_raw_fd(), cancel.as_raw_fd()].map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    loop {
        // SAFETY: poll on two valid descriptors we hold.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        // A hang-up or error on the pool also wakes the loop, which then
        // reads end-of-file and stops asking.
        return n > 0 && fds[1].revents == 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobserver::{Client, Pool, Style};
    use std::sync::mpsc::channel;
    use std::time::Duration;

    #[test]
    fn wakes_once_per_request_when_a_token_comes_back() {
        let pool = Pool::create(2, Style::Fifo).unwrap();
        let mut client = Client::open(pool.auth()).unwrap();
        let implicit = client.try_acquire().unwrap();
        let token = client.try_acquire().unwrap();
        assert_eq!(client.try_acquire(), None);
        let (tx, rx) = channel();
        let wake = Box::new(move || tx.send(()).unwrap());
        let watcher = Watcher::start(client.read_side().unwrap(), wake).unwrap();
        watcher.arm();
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        client.release(token);
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok());
        // Not asked again: the token left unread wakes nobody.
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        client.release(implicit);
        drop(watcher);
    }
}
