//! The errors of the object store and the uploader. Owns what a caller can
//! tell apart (missing, corrupt, unreadable source, S3 refused or
//! unreachable); ignores how each is retried (see `retry`).

use std::path::PathBuf;

use ggninja_store::hash::ContentHash;

/// Boxed source of an S3 failure (an `SdkError` of whichever operation).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bucket has no object under the hash's key.
    #[error("object {0} is not in the store")]
    NotFound(ContentHash),

    /// The object's bytes do not hash to its name. Never returned as data.
    #[error("object {expected} is corrupt: its {size} bytes hash to {actual}")]
    Corrupt {
        expected: ContentHash,
        actual: ContentHash,
        size: usize,
    },

    /// A source file could not be read.
    #[error("reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A source file's size differs from the size its hash names: it changed
    /// after it was hashed.
    #[error("{} is {actual} bytes, but its hash {hash} says {}", path.display(), hash.size)]
    SourceChanged {
        path: PathBuf,
        hash: ContentHash,
        actual: u64,
    },

    /// S3 refused the request, or could not be reached, after `attempts`
    /// tries. `retryable` tells whether more retries might have helped
    /// (server errors, throttling, connection failures) or not (access
    /// denied, no such bucket, a bad request).
    #[error("S3 {op} {key} failed after {attempts} attempt(s){}: {message}",
            if *retryable { " (retry cap reached)" } else { "" })]
    S3 {
        op: &'static str,
        key: String,
        attempts: u32,
        retryable: bool,
        message: String,
        #[source]
        source: BoxError,
    },

    /// The AWS configuration is unusable (e.g. no region).
    #[error("AWS configuration: {0}")]
    Config(String),
}
