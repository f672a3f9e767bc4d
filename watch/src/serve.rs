//! The daemon: one per build directory, serving its socket there.
//!
//! One thread reads inotify events into the journal; the other answers
//! runs, one at a time. A sync first watches the run's new directories,
//! then makes a cookie file and waits until the reader has seen it: the
//! kernel queues one inotify instance's events in order, so every change
//! made before the request is journaled by then, and the stamp taken after
//! it covers them. A cookie not seen in time answers `All` (the run stats
//! everything). Ignores: who asks (the socket is the directory's, with its
//! permissions).

use std::io;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use inotify::Inotify;

use crate::journal::Journal;
use crate::protocol::{self, Changes, Reply, Request};
use crate::tree::{Tree, COOKIE_PREFIX};
use crate::{WatchError, SOCKET};

/// How long a sync waits for its cookie.
const COOKIE_WAIT: Duration = Duration::from_secs(5);
/// How long a run may take to send its request or read the reply.
const CLIENT_WAIT: Duration = Duration::from_secs(30);

struct State {
    tree: Tree,
    journal: Journal,
    /// The highest cookie number the reader has seen made.
    cookie_seen: u64,
    /// Events can no longer be read.
    broken: bool,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// Watches the current directory and serves its socket until told to stop
/// (Ok), or until events cannot be read (Err). The directory removed or
/// moved ends the process.
pub fn serve() -> Result<(), WatchError> {
    let root = std::env::current_dir().map_err(WatchError::Io)?;
    let root = root.to_str().ok_or(WatchError::NotUtf8)?.to_string();
    let listener = bind()?;
    let result = watch_and_answer(&listener, root);
    let _ = std::fs::remove_file(SOCKET);
    result
}

/// The daemon once its socket is bound: a run that connects meanwhile
/// waits until the directory is watched.
fn watch_and_answer(listener: &UnixListener, root: String) -> Result<(), WatchError> {
    let inotify = Inotify::init().map_err(WatchError::Io)?;
    let tree = Tree::new(inotify.watches(), &root).map_err(WatchError::Io)?;
    let state = State {
        tree,
        journal: Journal::new(epoch()),
        cookie_seen: 0,
        broken: false,
    };
    let shared: Shared = Arc::new((Mutex::new(state), Condvar::new()));
    let reader = shared.clone();
    std::thread::Builder::new()
        .name("inotify".to_string())
        .spawn(move || read_events(inotify, &reader))
        .map_err(WatchError::Io)?;
    answer(listener, &shared, &root)
}

/// The socket, unless a daemon answers on it already (a stale one is
/// replaced).
fn bind() -> Result<UnixListener, WatchError> {
    if UnixStream::connect(SOCKET).is_ok() {
        return Err(WatchError::AlreadyWatched);
    }
    let _ = std::fs::remove_file(SOCKET);
    UnixListener::bind(SOCKET).map_err(WatchError::Io)
}

/// A number this daemon's stamps carry, unlike any earlier daemon's.
fn epoch() -> u64 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (t.as_nanos() as u64) ^ (u64::from(std::process::id()) << 48)
}

fn read_events(mut inotify: Inotify, shared: &Shared) {
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let events = match inotify.read_events_blocking(&mut buffer) {
            Ok(events) => events,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let (lock, seen) = &**shared;
        let mut st = lock.lock().unwrap_or_else(|p| p.into_inner());
        let st = &mut *st;
        for ev in events {
            let wd = ev.wd.get_watch_descriptor_id();
            if let Some(n) = st.tree.event(wd, ev.mask, ev.name, &mut st.journal) {
                st.cookie_seen = st.cookie_seen.max(n);
            }
        }
        if st.tree.root_lost() {
            // Removed or moved: no run will find this daemon where it
            // watches (a socket moved along must not answer).
            let _ = std::fs::remove_file(SOCKET);
            std::process::exit(0);
        }
        seen.notify_all();
    }
    let (lock, seen) = &**shared;
    lock.lock().unwrap_or_else(|p| p.into_inner()).broken = true;
    seen.notify_all();
}

/// Answers runs until one says stop.
fn answer(listener: &UnixListener, shared: &Shared, root: &str) -> Result<(), WatchError> {
    let mut cookie = 0u64;
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(CLIENT_WAIT));
        let _ = stream.set_write_timeout(Some(CLIENT_WAIT));
        let request = match protocol::receive::<Request>(&mut stream) {
            Ok(r) => r,
            Err(_) => continue,
        };
        let reply = match request {
            Request::Stop => {
                let pid = std::process::id();
                let _ = protocol::send(&mut stream, &Reply::Stopping { pid });
                return Ok(());
            }
            Request::Sync { since, dirs } => {
                cookie += 1;
                sync(shared, root, cookie, since, &dirs)
            }
        };
        let broken = reply.is_none();
        if let Some(reply) = reply {
            let _ = protocol::send(&mut stream, &reply);
        }
        if broken {
            return Err(WatchError::Lost);
        }
    }
    Ok(())
}

/// Watches `dirs`, waits for cookie `n`, then says what changed since
/// `since`. None: the watch is lost.
fn sync(
    shared: &Shared,
    root: &str,
    n: u64,
    since: Option<protocol::Stamp>,
    dirs: &[String],
) -> Option<Reply> {
    let (lock, seen) = &**shared;
    lock.lock()
        .unwrap_or_else(|p| p.into_inner())
        .tree
        .register(dirs);
    let cookie = Path::new(root).join(format!("{COOKIE_PREFIX}{n}"));
    let made = std::fs::File::create(&cookie).is_ok();
    let st = lock.lock().unwrap_or_else(|p| p.into_inner());
    let (st, timeout) = seen
        .wait_timeout_while(st, COOKIE_WAIT, |st| {
            made && !st.broken && st.cookie_seen < n
        })
        .unwrap_or_else(|p| p.into_inner());
    let _ = std::fs::remove_file(&cookie);
    if st.broken {
        return None;
    }
    let changes = match made && !timeout.timed_out() {
        true => st.journal.since(since),
        false => Changes::All,
    };
    Some(Reply::Synced {
        at: st.journal.now(),
        changes,
        always: st.tree.always(),
    })
}
