//! The function's object cache: input objects fetched from S3 by hash,
//! verified (the store checks every byte against its name), kept read-only
//! under `/tmp` for the life of the instance and bounded by bytes: past the
//! budget the least recently used go first, except those the current job
//! uses. A full disk (ENOSPC) evicts everything and tries once more. Owns
//! the files under its directory; ignores what jobs do with them (they
//! hard-link them elsewhere, so eviction never pulls a file from under a
//! job).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ggninja_store::hash::ContentHash;

use crate::error::Error;
use crate::objects::ObjectStore;

/// The budget when `GGNINJA_CACHE_BYTES` is unset: room for the job dirs in
/// Lambda's default 512 MB `/tmp`.
pub const DEFAULT_BUDGET: u64 = 320 << 20;

#[derive(Debug, Default)]
struct State {
    /// hash -> (size, last use)
    entries: HashMap<ContentHash, (u64, u64)>,
    /// last use -> hash, oldest first
    order: BTreeMap<u64, ContentHash>,
    total: u64,
    clock: u64,
    /// Entries used at or after this tick belong to the current job.
    job_start: u64,
}

#[derive(Debug)]
pub struct ObjectCache {
    dir: PathBuf,
    budget: u64,
    state: Mutex<State>,
}

/// Why an object could not be had.
#[derive(Debug)]
pub enum FetchError {
    /// Not in the bucket.
    Missing(ContentHash),
    Other(String),
}

impl ObjectCache {
    /// A cache in `dir`, emptied first (what an earlier instance left there
    /// is not in the index).
    pub fn new(dir: PathBuf, budget: u64) -> io::Result<ObjectCache> {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir_all(&dir)?;
        Ok(ObjectCache {
            dir,
            budget,
            state: Mutex::new(State::default()),
        })
    }

    /// The budget from `GGNINJA_CACHE_BYTES`, else `DEFAULT_BUDGET`.
    pub fn budget_from_env() -> u64 {
        std::env::var("GGNINJA_CACHE_BYTES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_BUDGET)
    }

    pub fn path(&self, hash: &ContentHash) -> PathBuf {
        self.dir.join(hash.to_string())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the start of a job: what it uses from now on is not evicted
    /// for being old until the next job starts.
    pub fn begin_job(&self) {
        let mut s = self.state();
        s.clock += 1;
        s.job_start = s.clock;
    }

    /// Bytes held.
    pub fn total(&self) -> u64 {
        self.state().total
    }

    pub fn contains(&self, hash: &ContentHash) -> bool {
        self.state().entries.contains_key(hash)
    }

    /// The cached file of `hash`, fetched from `store` if needed.
    pub async fn get(
        &self,
        store: &ObjectStore,
        hash: &ContentHash,
    ) -> Result<PathBuf, FetchError> {
        let path = self.path(hash);
        if self.touch(hash) {
            // A file removed behind the index's back is fetched again.
            if std::fs::metadata(&path).is_ok_and(|m| m.len() == hash.size) {
                return Ok(path);
            }
            self.forget(hash);
        }
        let bytes = match store.get(hash).await {
            Ok(b) => b,
            Err(Error::NotFound(h)) => return Err(FetchError::Missing(h)),
            Err(e) => return Err(FetchError::Other(e.to_string())),
        };
        self.keep(hash, &bytes)
            .map_err(|e| FetchError::Other(format!("caching {hash}: {e}")))?;
        Ok(path)
    }

    /// Caches the bytes of `hash`, which the caller verified (a fetch, or
    /// an object carried in the request); on a full disk, evicts and tries
    /// once more.
    pub fn keep(&self, hash: &ContentHash, bytes: &[u8]) -> io::Result<()> {
        let written = match self.write(hash, bytes) {
            Err(e) if is_enospc(&e) => {
                self.evict_all();
                self.write(hash, bytes)
            }
            other => other,
        };
        written?;
        self.insert(hash);
        Ok(())
    }

    /// Writes an object (temp file + rename, read-only).
    fn write(&self, hash: &ContentHash, bytes: &[u8]) -> io::Result<()> {
        let mut tmp = tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o444))
            .tempfile_in(&self.dir)?;
        tmp.write_all(bytes)?;
        tmp.persist(self.path(hash)).map(drop).map_err(|e| e.error)
    }

    /// Records a use; false when not cached.
    fn touch(&self, hash: &ContentHash) -> bool {
        let mut s = self.state();
        s.clock += 1;
        let now = s.clock;
        let Some(entry) = s.entries.get_mut(hash) else {
            return false;
        };
        let old = std::mem::replace(&mut entry.1, now);
        s.order.remove(&old);
        s.order.insert(now, *hash);
        true
    }

    fn forget(&self, hash: &ContentHash) {
        let mut s = self.state();
        if let Some((size, used)) = s.entries.remove(hash) {
            s.order.remove(&used);
            s.total -= size;
        }
    }

    /// Adds a written object and evicts the oldest past the budget.
    fn insert(&self, hash: &ContentHash) {
        let evicted = {
            let mut s = self.state();
            s.clock += 1;
            let now = s.clock;
            if let Some((size, used)) = s.entries.insert(*hash, (hash.size, now)) {
                s.order.remove(&used);
                s.total -= size;
            }
            s.order.insert(now, *hash);
            s.total += hash.size;
            let mut evicted = Vec::new();
            while s.total > self.budget {
                let Some((&used, &old)) = s.order.iter().next() else {
                    break;
                };
                if used >= s.job_start {
                    break;
                }
                s.order.remove(&used);
                s.entries.remove(&old);
                s.total -= old.size;
                evicted.push(old);
            }
            evicted
        };
        for h in evicted {
            let _ = std::fs::remove_file(self.path(&h));
        }
    }

    /// Empties the cache (jobs keep their hard links).
    pub fn evict_all(&self) {
        let all: Vec<ContentHash> = {
            let mut s = self.state();
            s.order.clear();
            s.total = 0;
            s.entries.drain().map(|(h, _)| h).collect()
        };
        for h in all {
            let _ = std::fs::remove_file(self.path(&h));
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

pub fn is_enospc(e: &io::Error) -> bool {
    e.raw_os_error() == Some(28) || e.kind() == io::ErrorKind::StorageFull
}

#[cfg(test)]
mod tests {
    use super::*;
    use ggninja_store::hash::Kind;

    fn add(c: &ObjectCache, bytes: &[u8]) -> ContentHash {
        let h = ContentHash::of(Kind::Value, bytes);
        c.write(&h, bytes).unwrap();
        c.insert(&h);
        h
    }

    #[test]
    fn evicts_the_oldest_but_not_the_current_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let c = ObjectCache::new(dir.path().join("c"), 10).unwrap();
        c.begin_job();
        let a = add(&c, b"aaaa");
        c.begin_job();
        let b = add(&c, b"bbbb");
        assert!(c.touch(&a));
        c.begin_job();
        let d = add(&c, b"dddd");
        // 12 > 10: b is the oldest used; a was used after it.
        assert!(!c.contains(&b) && !c.path(&b).exists());
        assert!(c.contains(&a) && c.contains(&d));
        assert_eq!(c.total(), 8);
        // Within one job nothing it uses goes, even past the budget.
        let e = add(&c, b"eeeeeeeeeeee");
        assert!(c.contains(&d) && c.contains(&e) && !c.contains(&a));
        c.evict_all();
        assert_eq!(c.total(), 0);
        assert!(!c.path(&e).exists());
    }
}
