//! After a successful run: each declared output (and the depfile) read from
//! the job, hashed as a value and uploaded under that hash; the depfile's
//! laid-out root prefixes rewritten to `/ggroot/...` first, so it names
//! thunk paths like everything else. A symbolic link stays a link (named
//! by its target, nothing uploaded). Ignores running and removing the job.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use bytes::Bytes;
use tokio::task::JoinSet;

use super::layout::Job;
use crate::objects::ObjectStore;
use crate::protocol::{Limits, Output};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ggninja_store::hash::{ContentHash, Kind};

/// Why outputs could not be collected.
#[derive(Debug)]
pub enum CollectError {
    /// Declared outputs the command did not write (thunk paths).
    NotWritten(Vec<String>),
    Other(String),
}

/// Reads, checks and uploads the outputs, in the order given.
pub async fn collect(
    store: &Arc<ObjectStore>,
    job: &Job,
    outputs: &[String],
    limits: &Limits,
) -> Result<Vec<Output>, CollectError> {
    let limit = limits.output_bytes;
    let mut files = Vec::new();
    let mut links = Vec::new();
    let mut missing = Vec::new();
    let mut total = 0u64;
    for (i, virt) in outputs.iter().enumerate() {
        let local = job
            .local_path(virt)
            .map_err(CollectError::Other)?
            .ok_or_else(|| CollectError::Other(format!("output {virt} is outside the roots")))?;
        match std::fs::symlink_metadata(&local) {
            Ok(m) if m.is_symlink() => links.push((i, link(virt, &local)?)),
            Ok(m) if m.is_file() => {
                total += m.len();
                files.push((i, virt.clone(), local, m.permissions().mode() & 0o7777));
            }
            Ok(_) => {
                return Err(CollectError::Other(format!(
                    "output {virt} is not a regular file"
                )))
            }
            Err(_) => missing.push(virt.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(CollectError::NotWritten(missing));
    }
    if total > limit {
        return Err(CollectError::Other(format!(
            "outputs total {total} bytes, over the limit of {limit}"
        )));
    }
    let inline = total <= limits.inline_bytes;
    let mut tasks = JoinSet::new();
    for (i, virt, local, mode) in files {
        let store = Arc::clone(store);
        tasks.spawn(async move {
            let bytes = tokio::fs::read(&local)
                .await
                .map_err(|e| format!("reading output {virt}: {e}"))?;
            let bytes = Bytes::from(bytes);
            let mut out = upload(&store, virt, bytes.clone(), mode).await?;
            if inline {
                out.inline = Some(BASE64.encode(&bytes));
            }
            Ok::<_, String>((i, out))
        });
    }
    let mut done = links;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(x)) => done.push(x),
            Ok(Err(e)) => return Err(CollectError::Other(e)),
            Err(e) => return Err(CollectError::Other(format!("an upload task failed: {e}"))),
        }
    }
    done.sort_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, o)| o).collect())
}

/// A symbolic link among the outputs (`libfoo.so -> libfoo.so.1`): kept
/// as a link, named by its target, which must be relative (an absolute one
/// would name this job's directory).
fn link(virt: &str, local: &std::path::Path) -> Result<Output, CollectError> {
    let target = std::fs::read_link(local)
        .map_err(|e| CollectError::Other(format!("reading link {virt}: {e}")))?;
    let text = target.to_string_lossy().into_owned();
    if target.is_absolute() {
        return Err(CollectError::Other(format!(
            "output {virt} is a link to the absolute path {text}"
        )));
    }
    Ok(Output {
        path: virt.to_string(),
        hash: ContentHash::of(Kind::Value, text.as_bytes()).to_string(),
        size: text.len() as u64,
        mode: 0o777,
        link: Some(text),
        inline: None,
    })
}

async fn upload(
    store: &ObjectStore,
    path: String,
    bytes: Bytes,
    mode: u32,
) -> Result<Output, String> {
    let size = bytes.len() as u64;
    let hash = store
        .put(bytes)
        .await
        .map_err(|e| format!("uploading {path}: {e}"))?;
    Ok(Output {
        path,
        hash: hash.to_string(),
        size,
        mode,
        link: None,
        inline: None,
    })
}

/// The depfile with laid-out prefixes rewritten, uploaded; `None` when the
/// command wrote none.
pub async fn collect_depfile(
    store: &ObjectStore,
    job: &Job,
    virt: &str,
    inline_bytes: u64,
) -> Result<Option<Output>, String> {
    let Some(local) = job.local_path(virt)? else {
        return Err(format!("depfile {virt} is outside the roots"));
    };
    let bytes = match std::fs::read(&local) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("reading depfile {virt}: {e}")),
    };
    let mode = std::fs::metadata(&local)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644);
    let text = match String::from_utf8(bytes) {
        Ok(text) => job.roots.rewrite(&text).into_bytes(),
        // Not UTF-8: a byte-wise replace of the two prefixes.
        Err(e) => rewrite_bytes(job, e.into_bytes()),
    };
    let text = Bytes::from(text);
    let mut out = upload(store, virt.to_string(), text.clone(), mode).await?;
    if text.len() as u64 <= inline_bytes {
        out.inline = Some(BASE64.encode(&text));
    }
    Ok(Some(out))
}

fn rewrite_bytes(job: &Job, bytes: Vec<u8>) -> Vec<u8> {
    let mut out = bytes;
    for (dir, virt) in [
        (&job.build, ggninja_thunk::BUILD_ROOT),
        (&job.src, ggninja_thunk::SOURCE_ROOT),
    ] {
        let from = dir.display().to_string().into_bytes();
        let mut next = Vec::with_capacity(out.len());
        let mut i = 0;
        while i < out.len() {
            if out[i..].starts_with(&from) {
                next.extend_from_slice(virt.as_bytes());
                i += from.len();
            } else {
                next.push(out[i]);
                i += 1;
            }
        }
        out = next;
    }
    out
}
