//! Small inputs ride in the Invoke request instead of going to S3 first.
//! A cold edge's sources are mostly new to the bucket, and each would cost
//! a PUT and its round trip before the invocation could start. The first
//! job that needs an object the bucket is not known to hold carries it
//! (objects up to `CARRY_OBJECT_BYTES`, `CARRY_BUDGET_BYTES` in one
//! request); a later job needing the same object uploads it as before, so
//! a header that many edges read goes to the bucket once and is not sent
//! again in every request. Ignores what the function does with them.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;

use bytes::Bytes;
use ggninja_store::hash::ContentHash;

use super::summary::Stats;
use crate::protocol::{Carried, Request, CARRY_BUDGET_BYTES, CARRY_OBJECT_BYTES};
use crate::upload::Uploader;

/// The objects some request has carried this run.
#[derive(Default)]
pub(crate) struct CarriedSet(Mutex<HashSet<ContentHash>>);

impl CarriedSet {
    /// True for the first caller asking about `hash`: that one carries it.
    fn claim(&self, hash: ContentHash) -> bool {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(hash)
    }

    /// Fills `request` with the inputs this job carries (those `uploader`
    /// does not know the bucket holds) and serializes it; the other
    /// inputs are left to upload. Fails only when the request is over
    /// Lambda's limit even without carried objects.
    pub fn pack(
        &self,
        uploader: &Uploader,
        stats: &Stats,
        mut request: Request,
        inputs: &[(ContentHash, PathBuf)],
    ) -> Result<Packed, String> {
        let mut uploads = Vec::new();
        let mut here = HashSet::new();
        let mut budget = CARRY_BUDGET_BYTES;
        for (hash, path) in inputs {
            if here.contains(hash) {
                continue; // the same bytes at two paths
            }
            match self.carry(uploader, hash, path, &mut budget) {
                Some(c) => {
                    here.insert(*hash);
                    request.carried.push(c);
                }
                None => uploads.push((*hash, path.clone())),
            }
        }
        let carried = request.carried.len() as u64;
        let payload = match request.to_payload() {
            Ok(p) => p,
            Err(_) if carried > 0 => {
                request.carried.clear();
                return pack_plain(&request, inputs);
            }
            Err(e) => return Err(e),
        };
        Stats::add(&stats.carried, carried);
        Stats::add(&stats.bytes_up, CARRY_BUDGET_BYTES - budget);
        Ok(Packed {
            payload: Bytes::from(payload),
            uploads,
        })
    }

    /// The object to carry for one input, if this job is the one to carry
    /// it and it fits. The file is read as it is now; should it no longer
    /// be what the hash names, the function sees the mismatch, fetches it
    /// from the bucket instead, and reports it missing, so it is uploaded
    /// (and the upload refuses changed bytes) as any other input.
    fn carry(
        &self,
        uploader: &Uploader,
        hash: &ContentHash,
        path: &PathBuf,
        budget: &mut u64,
    ) -> Option<Carried> {
        if hash.size > CARRY_OBJECT_BYTES || hash.size > *budget || uploader.is_known(hash) {
            return None;
        }
        if !self.claim(*hash) {
            return None;
        }
        // Small: read on the runtime's thread, as small outputs are written.
        let bytes = std::fs::read(path).ok()?;
        *budget -= hash.size;
        Some(Carried::new(hash, &bytes))
    }
}

/// A job's request ready to send, and the inputs still to upload first.
pub(crate) struct Packed {
    pub payload: Bytes,
    pub uploads: Vec<(ContentHash, PathBuf)>,
}

/// The request without carried objects: every input uploaded.
fn pack_plain(request: &Request, inputs: &[(ContentHash, PathBuf)]) -> Result<Packed, String> {
    Ok(Packed {
        payload: Bytes::from(request.to_payload()?),
        uploads: inputs.to_vec(),
    })
}
