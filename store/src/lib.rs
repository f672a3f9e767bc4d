//! Where results live: content-addressed objects and the memo table that
//! maps a thunk to the objects it produced, and the record of outputs that
//! exist only remotely. Shared by the local memoizer and the remote
//! executor, whose objects live in S3 under the same names.
//!
//! Unaware of build graphs, thunks' structure and the file system outside
//! the store's own directory.

mod check;
mod clone;
pub mod evict;
pub mod hash;
mod local;
mod remote_files;

pub use check::Checksum;
pub use evict::{format_size, parse_size, SizeError, Usage, DEFAULT_LIMIT};
pub use hash::{ContentHash, Kind};
pub use local::{Evicted, Memo, MemoOutput, Store, STREAMED};
pub use remote_files::{RemoteFile, RemoteFiles, REMOTE_FILES};
