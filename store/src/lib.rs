//! Where results live: content-addressed objects and the memo table that
//! maps a thunk to the objects it produced. Shared by the local memoizer
//! and (later) the remote executor, whose objects live in S3 under the same
//! names.
//!
//! Unaware of build graphs, thunks' structure and the file system outside
//! the store's own directory.

pub mod hash;
mod local;

pub use hash::{ContentHash, Kind};
pub use local::{Memo, MemoOutput, Store};
