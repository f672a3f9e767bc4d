//! The memo table in S3: a thunk's memo key -> the outputs a successful
//! run left (each an object named by its hash), shared by every machine
//! that uses the bucket. An entry is written only after its objects are in
//! the bucket (by the function that uploaded them, or else by the engine),
//! small ones also inline, and whoever uses it verifies them again (a GET,
//! or the inline bytes, checked against the hash), so a
//! damaged or pruned bucket costs a rerun, never a wrong output. Ignores
//! how outputs are placed on disk.

use std::sync::Arc;

use bytes::Bytes;
use ggninja_store::hash::ContentHash;
use serde::{Deserialize, Serialize};

use crate::client::S3Settings;
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
    /// What the run printed (stdout and stderr as one, cut as the response
    /// cuts it), its roots thunk-visible: a hit prints it again. Required:
    /// an entry an older ggninja wrote has none, and reads as no entry
    /// rather than a hit that would swallow a warning.
    pub log: String,
}

/// A run's outputs totalling at most this many bytes keep their bytes in
/// its entry (as the response brought them): a hit then costs one GET, not
/// one more per output. Larger ones are only named.
pub const INLINE_BYTES: u64 = 64 << 10;

impl Entry {
    /// The entry for a run's outputs: their bytes kept when the response
    /// carried them all and they are small (`INLINE_BYTES`), else dropped.
    pub fn of(outputs: &[Output], depfile: Option<&Output>, log: &str) -> Entry {
        let all = || outputs.iter().chain(depfile);
        let total: u64 = all().filter(|o| o.link.is_none()).map(|o| o.size).sum();
        let every = all().all(|o| o.link.is_some() || o.inline.is_some());
        let keep = every && total <= INLINE_BYTES;
        let entry = |o: &Output| Output {
            inline: o.inline.clone().filter(|_| keep),
            ..o.clone()
        };
        Entry {
            outputs: outputs.iter().map(entry).collect(),
            depfile: depfile.map(entry),
            log: log.to_string(),
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

/// The entries of many keys, asked at once (the store bounds how many
/// requests are in flight); the first error, if any request failed.
pub async fn get_all(
    store: &Arc<ObjectStore>,
    keys: &[ContentHash],
) -> Result<Vec<Option<Entry>>, Error> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, key) in keys.iter().copied().enumerate() {
        let store = Arc::clone(store);
        tasks.spawn(async move { (i, get(&store, &key).await) });
    }
    let mut found = vec![None; keys.len()];
    while let Some(done) = tasks.join_next().await {
        let (i, entry) = done.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
        found[i] = entry?;
    }
    Ok(found)
}

/// The S3 memo read from outside a remote build (`-t simulate`'s cache
/// prediction): a runtime and a client of its own.
pub struct Reader {
    rt: tokio::runtime::Runtime,
    store: Arc<ObjectStore>,
}

impl Reader {
    pub fn connect(settings: S3Settings) -> Result<Reader, Error> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|source| Error::Io {
                path: "tokio runtime".into(),
                source,
            })?;
        let store = rt.block_on(ObjectStore::connect(settings))?;
        Ok(Reader {
            rt,
            store: Arc::new(store),
        })
    }

    /// The entry of each key, None where there is none.
    pub fn entries(&self, keys: &[ContentHash]) -> Result<Vec<Option<Entry>>, Error> {
        self.rt.block_on(get_all(&self.store, keys))
    }

    /// Where it reads, as printed (`s3://bucket/prefix`).
    pub fn location(&self) -> String {
        let s = self.store.settings();
        format!("s3://{}/{}", s.bucket, s.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(size: u64, inline: bool) -> Output {
        Output {
            path: "/ggroot/build/a.o".into(),
            hash: "V-".into(),
            size,
            mode: 0o644,
            link: None,
            inline: inline.then(|| "b2JqZWN0".into()),
        }
    }

    /// Small outputs the response carried stay in the entry; a large one,
    /// or one the response did not carry, leaves every output named only.
    #[test]
    fn small_outputs_keep_their_bytes_in_the_entry() {
        let kept = |outs: &[Output]| {
            let e = Entry::of(outs, None, "");
            e.outputs.iter().filter(|o| o.inline.is_some()).count()
        };
        assert_eq!(kept(&[output(6, true), output(100, true)]), 2);
        assert_eq!(kept(&[output(6, true), output(INLINE_BYTES, true)]), 0);
        assert_eq!(kept(&[output(6, true), output(10, false)]), 0);
        let depfile = output(10, true);
        let e = Entry::of(&[output(6, true)], Some(&depfile), "");
        assert!(e.depfile.is_some_and(|d| d.inline.is_some()));
    }
}
