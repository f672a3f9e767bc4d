//! What a run and the daemon say over the socket: one request, one reply,
//! each a length (u32, little endian) and its postcard bytes. Paths are
//! absolute, as the run spelled its directories (the daemon joins entry
//! names to them); a name that is not UTF-8 is kept lossily, which can only
//! name no file of the graph or too many.

use std::io::{self, Read, Write};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Where a run's snapshot stands in a daemon's journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Which daemon (a number drawn at its start).
    pub epoch: u64,
    pub gen: u64,
}

/// One thing that may have changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Change {
    /// The file at this path (and so its directory's listing).
    File(String),
    /// Everything at or below this path.
    Under(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Changes {
    /// Not known: stat everything.
    All,
    Some(Vec<Change>),
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// Watch `dirs` (and their ancestors) from now on, then say what
    /// changed since `since`.
    Sync {
        since: Option<Stamp>,
        dirs: Vec<String>,
    },
    /// Stop the daemon.
    Stop,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    Synced {
        /// Taken after every change before the request was journaled: a
        /// run that stats from now on asks from here next time.
        at: Stamp,
        changes: Changes,
        /// What the daemon cannot watch, to be stat'ed on every run:
        /// symlinks and directories not watched, under a listed directory,
        /// and what lies under a directory it cannot watch.
        always: Vec<Change>,
    },
    Stopping {
        pid: u32,
    },
}

/// Frames beyond this are refused (a run's directory list fits well below).
const MAX_FRAME: u32 = 1 << 30;

pub fn send<T: Serialize>(out: &mut impl Write, msg: &T) -> io::Result<()> {
    let bytes = postcard::to_allocvec(msg).map_err(io::Error::other)?;
    let len = u32::try_from(bytes.len()).map_err(io::Error::other)?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&bytes)?;
    out.flush()
}

pub fn receive<T: DeserializeOwned>(input: &mut impl Read) -> io::Result<T> {
    let mut len = [0u8; 4];
    input.read_exact(&mut len)?;
    let len = u32::from_le_bytes(len);
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut bytes = vec![0u8; len as usize];
    input.read_exact(&mut bytes)?;
    postcard::from_bytes(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_comes_back_as_sent_and_garbage_is_an_error() {
        let reply = Reply::Synced {
            at: Stamp { epoch: 1, gen: 2 },
            changes: Changes::Some(vec![Change::File("/a\nb".into())]),
            always: vec![Change::Under("/l".into())],
        };
        let mut wire = Vec::new();
        send(&mut wire, &reply).unwrap();
        let back: Reply = receive(&mut wire.as_slice()).unwrap();
        assert_eq!(format!("{back:?}"), format!("{reply:?}"));
        let torn = &wire[..wire.len() - 1];
        assert!(receive::<Reply>(&mut &torn[..]).is_err());
        let huge = u32::MAX.to_le_bytes();
        assert!(receive::<Reply>(&mut &huge[..]).is_err());
        let junk = [3u8, 0, 0, 0, 9, 9, 9];
        assert!(receive::<Reply>(&mut &junk[..]).is_err());
    }
}
