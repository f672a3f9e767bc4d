//! Outputs into the tree: each object of a result taken from the response
//! (inline) or fetched by hash, verified, and written atomically at its
//! real path with its mode (links as links); under
//! `--remote-download=toplevel` the ones that stay in the bucket recorded
//! instead, and fetched later when something here needs them. Ignores how
//! the result was made.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use ggninja_executor::disk;
use ggninja_store::hash::ContentHash;
use ggninja_store::RemoteFile;
use ggninja_thunk::Roots;

use super::shared::Shared;
use super::summary::Stats;
use crate::memo::Entry;
use crate::protocol::{verified_bytes, Output};

/// Outputs up to this many bytes in all are written without a blocking
/// thread (see `write_all`).
const WRITE_HERE_BYTES: u64 = 1 << 20;

/// Fetches (verified by hash) every object of `entry` that comes back to
/// this machine, then writes them to their real paths; nothing is written
/// unless every object arrived. The others are checked to be in the bucket
/// and recorded as remote-only (a stale file at their path is removed, so
/// the tree never shows an old version).
pub(crate) async fn place(sh: &Shared, restat: bool, entry: &Entry) -> Result<(), String> {
    let mut files = Vec::new();
    let mut left = Vec::new();
    for o in entry.objects() {
        if let Some(target) = &o.link {
            files.push((o.clone(), Bytes::from(target.clone())));
            continue;
        }
        let hash = ContentHash::parse(&o.hash).ok_or_else(|| format!("bad hash {}", o.hash))?;
        let real = sh.roots.real_path(&o.path);
        if entry.depfile.as_ref() != Some(o) && !sh.config.fetches(&real) {
            if !sh.store.exists(&hash).await.map_err(|e| e.to_string())? {
                return Err(format!("object {hash} ({}) is not in the bucket", o.path));
            }
            left.push((real, hash, o.mode));
            continue;
        }
        let bytes = match inline_bytes(o, &hash) {
            Some(bytes) => bytes,
            None => sh.store.get(&hash).await.map_err(|e| e.to_string())?,
        };
        Stats::add(&sh.stats.bytes_down, bytes.len() as u64);
        files.push((o.clone(), bytes));
    }
    write_all(sh, restat, entry, files).await?;
    for (real, hash, mode) in left {
        leave_remote(sh, real, hash, mode)?;
    }
    Ok(())
}

/// Writes the fetched outputs. Small ones (the usual compile's object and
/// depfile) are written on the runtime's thread: a handoff to a blocking
/// thread and back costs more than their few syscalls. Large ones go to a
/// blocking thread, so a slow disk does not stall the other jobs.
async fn write_all(
    sh: &Shared,
    restat: bool,
    entry: &Entry,
    files: Vec<(Output, Bytes)>,
) -> Result<(), String> {
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    if total as u64 <= WRITE_HERE_BYTES {
        return write_files(&sh.roots, entry.depfile.as_ref(), &files, restat)
            .map_err(|e| e.to_string());
    }
    let roots = sh.roots.clone();
    let depfile = entry.depfile.clone();
    let written =
        tokio::task::spawn_blocking(move || write_files(&roots, depfile.as_ref(), &files, restat));
    match written.await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Writes each file at its real path, the depfile's paths mapped back.
fn write_files(
    roots: &Roots,
    depfile: Option<&Output>,
    files: &[(Output, Bytes)],
    restat: bool,
) -> std::io::Result<()> {
    for (o, bytes) in files {
        let bytes = match depfile == Some(o) {
            true => Bytes::from(roots.unrewrite(&String::from_utf8_lossy(bytes))),
            false => bytes.clone(),
        };
        write_output(roots, o, &bytes, restat)?;
    }
    Ok(())
}

/// An output's bytes from the response, when it carried them and they are
/// what the hash names (else the object is fetched from the bucket).
fn inline_bytes(o: &Output, hash: &ContentHash) -> Option<Bytes> {
    verified_bytes(hash, o.inline.as_deref()?).map(Bytes::from)
}

/// Records an output as remote-only, as of now by the file system's clock.
fn leave_remote(sh: &Shared, real: PathBuf, hash: ContentHash, mode: u32) -> Result<(), String> {
    match std::fs::remove_file(&real) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("removing the stale {}: {e}", real.display()))
        }
        _ => {}
    }
    Stats::add(&sh.stats.left_remote, 1);
    sh.config.remote_files.insert(
        real,
        RemoteFile {
            hash,
            mode,
            mtime_ns: RemoteFile::stamp_now(),
        },
    );
    Ok(())
}

/// Fetches files left in the bucket into the tree, each with the mtime the
/// build recorded for it (so nothing downstream looks out of date).
pub(crate) async fn materialize(
    sh: &Shared,
    files: &[(PathBuf, RemoteFile)],
) -> Result<(), String> {
    for (path, f) in files {
        let bytes = sh
            .store
            .get(&f.hash)
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Stats::add(&sh.stats.bytes_down, bytes.len() as u64);
        let (real, f) = (path.clone(), *f);
        let written = tokio::task::spawn_blocking(move || {
            let mtime = std::time::UNIX_EPOCH + Duration::from_nanos(f.mtime_ns.max(0) as u64);
            disk::put_file(&real, &bytes, f.mode, Some(mtime))
        });
        match written.await {
            Ok(r) => r.map_err(|e| e.to_string())?,
            Err(e) => return Err(e.to_string()),
        }
        sh.config.remote_files.remove(path);
    }
    Ok(())
}

/// Writes one output (or link) atomically (`disk::put_file`). Under
/// `restat` an output already holding these bytes is left untouched, as the
/// local command would have left it. No fsync, as for every other output
/// of the build.
fn write_output(roots: &Roots, o: &Output, bytes: &[u8], restat: bool) -> std::io::Result<()> {
    let real = roots.real_path(&o.path);
    if let Some(target) = &o.link {
        if restat && std::fs::read_link(&real).is_ok_and(|t| t.as_os_str() == target.as_str()) {
            return Ok(());
        }
        return disk::put_symlink(&real, target.as_ref());
    }
    if restat && std::fs::read(&real).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    disk::put_file(&real, bytes, o.mode, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use ggninja_store::hash::Kind;

    fn output(inline: Option<&[u8]>) -> Output {
        Output {
            path: "/ggroot/build/a.o".into(),
            hash: String::new(),
            size: 0,
            mode: 0o644,
            link: None,
            inline: inline.map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        }
    }

    #[test]
    fn inline_bytes_are_used_only_when_they_match_the_hash() {
        let hash = ContentHash::of(Kind::Value, b"object");
        assert_eq!(
            inline_bytes(&output(Some(b"object")), &hash).as_deref(),
            Some(&b"object"[..])
        );
        assert_eq!(inline_bytes(&output(Some(b"other")), &hash), None);
        assert_eq!(inline_bytes(&output(None), &hash), None);
        let mut bad = output(None);
        bad.inline = Some("not base64!".into());
        assert_eq!(inline_bytes(&bad, &hash), None);
    }
}
