//! The uploader: sends many (hash, source file) items to the object store
//! concurrently (bounded), never re-uploading what is known to be there.
//! "Known" is a per-run set, filled by a HEAD the first time a hash comes up
//! (or by a PUT), so an emptied or changed bucket costs uploads, never a
//! failure (gg kept this as local marker files that went stale, its issue
//! #47); `forget` drops a hash a function later reports missing. Objects up
//! to `blind_below` bytes may be PUT without the HEAD: a PUT signed with the
//! content hash is idempotent, and for a small object costs about what the
//! HEAD does. Ignores where the items come from and what they mean.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ggninja_store::hash::ContentHash;
use tokio::task::JoinSet;

use crate::error::Error;
use crate::objects::ObjectStore;

/// In-flight requests by default: enough to hide S3's latency, few enough
/// to stay under its per-prefix request rate.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// What one `upload` call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadReport {
    /// Distinct hashes asked for.
    pub items: usize,
    /// Skipped without a request: already known this run.
    pub already_known: usize,
    /// Skipped after a HEAD found them in the bucket.
    pub already_present: usize,
    /// Sent by PUT (after a HEAD found them missing, or without one).
    pub uploaded: usize,
    /// Of those, sent without asking first (`with_blind_puts`).
    pub blind: usize,
    pub bytes_uploaded: u64,
    /// Requests sent again after a retryable failure.
    pub retries: u64,
}

/// Uploads objects, remembering for the run which ones the bucket holds.
#[derive(Debug, Clone)]
pub struct Uploader {
    inner: Arc<Inner>,
}

/// Inputs smaller than this are uploaded without asking the bucket first:
/// a cold build's inputs are mostly new, and a HEAD then a PUT is two
/// requests where one would do (sources are rarely larger).
pub const BLIND_PUT_BELOW: u64 = 64 << 10;

#[derive(Debug)]
struct Inner {
    store: Arc<ObjectStore>,
    known: Mutex<HashSet<ContentHash>>,
    concurrency: usize,
    /// Objects smaller than this are PUT without a HEAD first.
    blind_below: u64,
}

enum Outcome {
    Present {
        retries: u32,
    },
    Uploaded {
        size: u64,
        retries: u32,
        blind: bool,
    },
}

impl Uploader {
    pub fn new(store: Arc<ObjectStore>) -> Uploader {
        Uploader::with_concurrency(store, DEFAULT_CONCURRENCY)
    }

    pub fn with_concurrency(store: Arc<ObjectStore>, concurrency: usize) -> Uploader {
        Uploader::with_blind_puts(store, concurrency, 0)
    }

    /// Objects under `blind_below` bytes go up without a HEAD first: one
    /// request instead of two when the bucket lacks them (a fresh bucket,
    /// new sources), their bytes sent again for nothing when it has them.
    /// For files the size of a source the two cost about the same time (an
    /// S3 PUT is priced as 12 HEADs: still fractions of a cent per 1,000).
    pub fn with_blind_puts(
        store: Arc<ObjectStore>,
        concurrency: usize,
        blind_below: u64,
    ) -> Uploader {
        Uploader {
            inner: Arc::new(Inner {
                store,
                known: Mutex::new(HashSet::new()),
                concurrency: concurrency.max(1),
                blind_below,
            }),
        }
    }

    pub fn store(&self) -> &Arc<ObjectStore> {
        &self.inner.store
    }

    /// Whether this run has seen `hash` in the bucket.
    pub fn is_known(&self, hash: &ContentHash) -> bool {
        self.inner.known().contains(hash)
    }

    /// Records that the bucket holds `hash` (e.g. a function uploaded it).
    pub fn mark_known(&self, hash: ContentHash) {
        self.inner.known().insert(hash);
    }

    /// Drops `hash` from the known set, e.g. when a function reports it
    /// missing: the next `upload` of it asks the bucket again.
    pub fn forget(&self, hash: &ContentHash) {
        self.inner.known().remove(hash);
    }

    /// Makes sure the bucket holds every item: for each distinct hash not
    /// known this run, a HEAD, then a PUT from the file if it is missing; at
    /// most `concurrency` of these at a time. On the first failure no new
    /// item is started; the ones in flight finish, and the error is
    /// returned. Must run inside a tokio runtime.
    pub async fn upload<I, P>(&self, items: I) -> Result<UploadReport, Error>
    where
        I: IntoIterator<Item = (ContentHash, P)>,
        P: Into<PathBuf>,
    {
        let mut report = UploadReport::default();
        let mut seen = HashSet::new();
        let mut todo = Vec::new();
        for (hash, path) in items {
            if seen.insert(hash) {
                todo.push((hash, path.into()));
            }
        }
        report.items = todo.len();
        let mut first_error = None;
        // One item (an edge with one input, the usual case of a job) is
        // sent from the caller's task: a task of its own would cost more
        // than the request's bookkeeping.
        if let [(hash, path)] = &todo[..] {
            if self.is_known(hash) {
                report.already_known += 1;
            } else {
                let done = self.inner.upload_one(*hash, path.clone()).await;
                settle(done, &mut report, &mut first_error);
            }
        } else {
            self.upload_concurrently(todo, &mut report, &mut first_error)
                .await;
        }
        match first_error {
            Some(err) => Err(err),
            None => Ok(report),
        }
    }

    /// The items not known by the time their turn comes, at most
    /// `concurrency` at a time, each in a task; none started after a failure.
    async fn upload_concurrently(
        &self,
        todo: Vec<(ContentHash, PathBuf)>,
        report: &mut UploadReport,
        first_error: &mut Option<Error>,
    ) {
        let mut tasks = JoinSet::new();
        for (hash, path) in todo {
            if self.is_known(&hash) {
                report.already_known += 1;
                continue;
            }
            if first_error.is_some() {
                break;
            }
            while tasks.len() >= self.inner.concurrency {
                let Some(done) = tasks.join_next().await else {
                    break;
                };
                settle(joined(done), report, first_error);
            }
            let inner = Arc::clone(&self.inner);
            tasks.spawn(async move { inner.upload_one(hash, path).await });
        }
        while let Some(done) = tasks.join_next().await {
            settle(joined(done), report, first_error);
        }
    }
}

/// A finished task's result; a task that panicked passes the panic on.
fn joined(done: Result<Result<Outcome, Error>, tokio::task::JoinError>) -> Result<Outcome, Error> {
    done.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))
}

/// Adds a finished item to the report, or keeps its error if it is the first.
fn settle(
    done: Result<Outcome, Error>,
    report: &mut UploadReport,
    first_error: &mut Option<Error>,
) {
    match done {
        Ok(Outcome::Present { retries }) => {
            report.already_present += 1;
            report.retries += u64::from(retries);
        }
        Ok(Outcome::Uploaded {
            size,
            retries,
            blind,
        }) => {
            report.uploaded += 1;
            report.blind += usize::from(blind);
            report.bytes_uploaded += size;
            report.retries += u64::from(retries);
        }
        Err(err) => {
            first_error.get_or_insert(err);
        }
    }
}

impl Inner {
    fn known(&self) -> std::sync::MutexGuard<'_, HashSet<ContentHash>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn upload_one(&self, hash: ContentHash, path: PathBuf) -> Result<Outcome, Error> {
        let blind = hash.size < self.blind_below;
        let mut head_retries = 0;
        if !blind {
            let (present, retries) = self.store.head(&hash).await?;
            if present {
                self.known().insert(hash);
                return Ok(Outcome::Present { retries });
            }
            head_retries = retries;
        }
        let put_retries = self.store.put_file(&hash, &path).await?;
        self.known().insert(hash);
        Ok(Outcome::Uploaded {
            size: hash.size,
            retries: head_retries + put_retries,
            blind,
        })
    }
}
