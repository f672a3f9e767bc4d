//! The memo table in S3: a thunk's memo key -> the outputs a successful
//! run left (each an object named by its hash), shared by every machine
//! that uses the bucket. An entry is written only after its objects are in
//! the bucket (by the function that uploaded them, or else by the engine),
//! and whoever uses it verifies them again (a GET checks the hash), so a
//! damaged or pruned bucket costs a rerun, never a wrong output. Ignores
//! how outputs are placed on disk.

use bytes::Bytes;
use ggninja_store::hash::ContentHash;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::objects::ObjectStore;
use crate::protocol::Output;

/// One memoized result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The declared outputs, thunk-visible paths.
    pub outputs: Vec<Output>,
    /// The depfile, its paths thunk-visible (`/ggroot/...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depfile: Option<Output>,
}

impl Entry {
    /// The entry for a run's outputs, without what only a response carries
    /// (inline bytes).
    pub fn of(outputs: &[Output], depfile: Option<&Output>) -> Entry {
        let bare = |o: &Output| Output {
            inline: None,
            ..o.clone()
        };
        Entry {
            outputs: outputs.iter().map(bare).collect(),
            depfile: depfile.map(bare),
        }
    }

    /// Every object the entry names.
    pub fn objects(&self) -> impl Iterator<Item = &Output> {
        self.outputs.iter().chain(&self.depfile)
    }
}

fn name(key: &ContentHash) -> String {
    format!("memo/{key}")
}

/// The entry for `key`; None when there is none or it does not parse.
pub async fn get(store: &ObjectStore, key: &ContentHash) -> Result<Option<Entry>, Error> {
    let Some(bytes) = store.get_named(&name(key)).await? else {
        return Ok(None);
    };
    Ok(serde_json::from_slice(&bytes).ok())
}

pub async fn put(store: &ObjectStore, key: &ContentHash, entry: &Entry) -> Result<(), Error> {
    let bytes = serde_json::to_vec(entry).expect("entries serialize");
    store.put_named(&name(key), Bytes::from(bytes)).await
}
