//! A run's side of the socket: is a daemon watching here, and what changed.

use std::io;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::protocol::{self, Change, Changes, Reply, Request, Stamp};
use crate::SOCKET;

/// How long a run waits for the daemon before it stats everything itself
/// (the first sync of a large tree watches thousands of directories; a
/// stopped daemon must not hold builds up long).
const WAIT: Duration = Duration::from_secs(10);

/// A connection to the daemon watching a directory.
pub struct Client {
    stream: UnixStream,
}

/// What the daemon said.
#[derive(Debug)]
pub struct Synced {
    pub at: Stamp,
    pub changes: Changes,
    pub always: Vec<Change>,
}

impl Client {
    /// The daemon watching `dir`, if one answers there.
    pub fn connect(dir: &Path) -> Option<Client> {
        let stream = UnixStream::connect(dir.join(SOCKET)).ok()?;
        stream.set_read_timeout(Some(WAIT)).ok()?;
        stream.set_write_timeout(Some(WAIT)).ok()?;
        Some(Client { stream })
    }

    /// Watches `dirs` (absolute) from now on, and says what changed since
    /// `since`.
    pub fn sync(mut self, since: Option<Stamp>, dirs: Vec<String>) -> io::Result<Synced> {
        protocol::send(&mut self.stream, &Request::Sync { since, dirs })?;
        match protocol::receive(&mut self.stream)? {
            Reply::Synced {
                at,
                changes,
                always,
            } => Ok(Synced {
                at,
                changes,
                always,
            }),
            Reply::Stopping { .. } => Err(io::Error::other("the daemon is stopping")),
        }
    }

    /// Stops the daemon; its process id.
    pub fn stop(mut self) -> io::Result<u32> {
        protocol::send(&mut self.stream, &Request::Stop)?;
        match protocol::receive(&mut self.stream)? {
            Reply::Stopping { pid } => Ok(pid),
            Reply::Synced { .. } => Err(io::Error::other("the daemon did not stop")),
        }
    }
}
