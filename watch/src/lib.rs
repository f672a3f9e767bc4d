//! A watcher, so that a no-op need not stat every file (issue 15): an
//! opt-in daemon per build directory (`ggninja -t watch`) keeps an inotify
//! watch on every directory the build's files live in, and on their
//! ancestors, and journals what changed. A run asks what changed since its
//! last snapshot of mtimes (`executor::watched`) and stats only that; with
//! no daemon, or one that cannot say (restarted, overflowed, a cookie not
//! seen), it stats everything, as before.
//!
//! Why it is never wrong where inotify reports: the run's stamp is taken
//! after a cookie made at its request was seen, so every change before the
//! request is in the journal by then, and every change after it is
//! journaled after the stamp (`serve.rs`); what a stat would see through a
//! path inotify does not watch is stat'ed on every run (`tree.rs`, which
//! also lists what inotify does not report: other hard links, shared
//! mappings before close, mounts).
//!
//! Modules: `protocol` (the socket's messages), `journal` (changes by
//! generation), `tree` (the watches and what an event means), `serve` (the
//! daemon), `client` (a run's side).

pub mod client;
pub mod journal;
pub mod protocol;
pub mod serve;
pub mod tree;

pub use client::{Client, Synced};
pub use protocol::{Change, Changes, Stamp};

/// The daemon's socket, in the directory it watches.
pub const SOCKET: &str = ".ggninja_watch.sock";

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("a watcher already serves this directory")]
    AlreadyWatched,
    #[error("the directory's path is not UTF-8")]
    NotUtf8,
    #[error("the watch on the directory was lost")]
    Lost,
    #[error("{0}")]
    Io(std::io::Error),
}
