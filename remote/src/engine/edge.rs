//! An edge ready to go remote: what the backend made of a task and its
//! thunk (the request, the memo key, the inputs to upload), handed to the
//! job that takes it through the remote executor. Ignores how it goes.

use std::path::PathBuf;

use ggninja_graph::BuildId;
use ggninja_store::hash::ContentHash;
use ggninja_store::RemoteFile;

use crate::protocol::Request;

/// An edge ready to go remote.
pub(crate) struct Job {
    pub edge: BuildId,
    /// Its first output, for messages.
    pub label: String,
    pub rule: String,
    pub command: String,
    pub restat: bool,
    pub key: ContentHash,
    /// The request, without the inputs it may carry (`carry`).
    pub request: Request,
    /// In-root inputs: hash and the real file to upload from.
    pub uploads: Vec<(ContentHash, PathBuf)>,
    /// In-root inputs an earlier edge left in the bucket: fetched only if
    /// the edge has to run here.
    pub remote_inputs: Vec<(PathBuf, RemoteFile)>,
}
