//! The S3 object store: objects keyed by their content hash's printed name
//! (`V`/`T` + base64url SHA-256 + 8 hex digits of size), flat under an
//! optional prefix. Puts are signed with the hash itself (see `signing`), so
//! S3 refuses bytes that do not match their name; gets verify the bytes
//! before returning them. Ignores what is already uploaded (the `upload`
//! module remembers that) and what the objects mean.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::{ByteStream, Length};
use bytes::Bytes;
use ggninja_store::hash::{ContentHash, Kind};
use tokio::sync::Semaphore;

use crate::client::{self, S3Settings};
use crate::error::Error;
use crate::retry::{self, Attempt};
use crate::signing::KnownPayloadHash;

/// Files up to this size are read into memory before a PUT (and re-sent
/// from there on a retry); larger ones are streamed from disk.
const READ_WHOLE_LIMIT: u64 = 8 << 20;

/// Requests sent, counted across all callers (retries included).
#[derive(Debug, Default)]
struct Counters {
    puts: AtomicU64,
    heads: AtomicU64,
    gets: AtomicU64,
    retries: AtomicU64,
}

/// A snapshot of the store's request counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub puts: u64,
    pub heads: u64,
    pub gets: u64,
    pub retries: u64,
}

/// A bucket (and key prefix) holding content-addressed objects.
#[derive(Debug)]
pub struct ObjectStore {
    client: aws_sdk_s3::Client,
    settings: S3Settings,
    counters: Counters,
    /// Turns to send a request (`S3Settings::max_in_flight`).
    turns: Semaphore,
}

impl ObjectStore {
    /// A store with a client from the standard AWS chain (see `client`).
    pub async fn connect(settings: S3Settings) -> Result<ObjectStore, Error> {
        let client = client::connect(&settings).await?;
        Ok(ObjectStore::with_client(client, settings))
    }

    pub fn with_client(client: aws_sdk_s3::Client, settings: S3Settings) -> ObjectStore {
        ObjectStore {
            client,
            turns: Semaphore::new(settings.max_in_flight.max(1)),
            settings,
            counters: Counters::default(),
        }
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub fn settings(&self) -> &S3Settings {
        &self.settings
    }

    /// The key an object is stored under.
    pub fn key(&self, hash: &ContentHash) -> String {
        format!("{}{}", self.settings.prefix, hash)
    }

    pub fn counts(&self) -> RequestCounts {
        let c = &self.counters;
        RequestCounts {
            puts: c.puts.load(Ordering::Relaxed),
            heads: c.heads.load(Ordering::Relaxed),
            gets: c.gets.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
        }
    }

    /// Stores `bytes` as a value object under the hash it computes.
    pub async fn put(&self, bytes: impl Into<Bytes>) -> Result<ContentHash, Error> {
        self.put_as(Kind::Value, bytes).await
    }

    /// Stores `bytes` under the hash of the given kind.
    pub async fn put_as(&self, kind: Kind, bytes: impl Into<Bytes>) -> Result<ContentHash, Error> {
        let bytes = bytes.into();
        let hash = ContentHash::of(kind, &bytes);
        self.put_bytes(&hash, bytes).await?;
        Ok(hash)
    }

    /// Stores the file at `path` under `hash`, which the caller computed.
    /// Returns the number of retries it took. A file that no longer has the
    /// hash's size is an error; one with the size but other bytes is refused
    /// by S3 (the PUT is signed with the hash).
    pub async fn put_file(&self, hash: &ContentHash, path: &Path) -> Result<u32, Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        if hash.size <= READ_WHOLE_LIMIT {
            let bytes = read_whole(path, hash.size).await.map_err(io)?;
            if bytes.len() as u64 != hash.size {
                return Err(Error::SourceChanged {
                    path: path.to_path_buf(),
                    hash: *hash,
                    actual: bytes.len() as u64,
                });
            }
            return self.put_bytes(hash, Bytes::from(bytes)).await;
        }
        let actual = tokio::fs::metadata(path).await.map_err(io)?.len();
        if actual != hash.size {
            return Err(Error::SourceChanged {
                path: path.to_path_buf(),
                hash: *hash,
                actual,
            });
        }
        let key = self.key(hash);
        let (_, retries) = retry::run(&self.settings.retry, &self.counters.retries, || async {
            let body = ByteStream::read_from()
                .path(path)
                .buffer_size(1 << 20)
                .length(Length::Exact(hash.size))
                .build()
                .await
                .map_err(|e| io(std::io::Error::other(e)))?;
            Ok(self.send_put(hash, &key, body).await)
        })
        .await?;
        Ok(retries)
    }

    async fn put_bytes(&self, hash: &ContentHash, bytes: Bytes) -> Result<u32, Error> {
        let key = self.key(hash);
        let (_, retries) = retry::run(&self.settings.retry, &self.counters.retries, || {
            let body = ByteStream::from(bytes.clone());
            let key = &key;
            async move { Ok(self.send_put(hash, key, body).await) }
        })
        .await?;
        Ok(retries)
    }

    /// One PUT attempt.
    async fn send_put(&self, hash: &ContentHash, key: &str, body: ByteStream) -> Attempt<()> {
        self.count_attempt(&self.counters.puts);
        let request = Box::pin(
            self.client
                .put_object()
                .bucket(&self.settings.bucket)
                .key(key)
                .content_length(hash.size as i64)
                .body(body)
                .customize()
                .interceptor(KnownPayloadHash::new(&hash.digest))
                .send(),
        );
        match self.timed("PUT", key, hash.size, request).await {
            Err(timed_out) => Attempt::Failed(timed_out),
            Ok(Ok(_)) => Attempt::Done(()),
            Ok(Err(err)) => retry::failed("PUT", key, err),
        }
    }

    /// Fetches an object and checks it against its name. A missing object
    /// is `NotFound`; bytes that do not hash to `hash` are `Corrupt` and
    /// never returned.
    pub async fn get(&self, hash: &ContentHash) -> Result<Bytes, Error> {
        let bytes = self
            .fetch(&self.key(hash), hash.size)
            .await?
            .ok_or(Error::NotFound(*hash))?;
        let actual = ContentHash::of(hash.kind, &bytes);
        if actual != *hash {
            return Err(Error::Corrupt {
                expected: *hash,
                actual,
                size: bytes.len(),
            });
        }
        Ok(bytes)
    }

    /// Stores `bytes` under a name of the caller's (`memo/...`, under the
    /// prefix) instead of their hash: records that point at objects.
    pub async fn put_named(&self, name: &str, bytes: Bytes) -> Result<(), Error> {
        let hash = ContentHash::of(Kind::Value, &bytes);
        let key = format!("{}{name}", self.settings.prefix);
        retry::run(&self.settings.retry, &self.counters.retries, || {
            let body = ByteStream::from(bytes.clone());
            let (hash, key) = (&hash, &key);
            async move { Ok(self.send_put(hash, key, body).await) }
        })
        .await?;
        Ok(())
    }

    /// A record stored by `put_named`, None when there is none. Unverified:
    /// whoever reads it verifies the objects it names.
    pub async fn get_named(&self, name: &str) -> Result<Option<Bytes>, Error> {
        self.fetch(&format!("{}{name}", self.settings.prefix), 0)
            .await
    }

    /// GETs `key` (`size`: the expected size, for the time limit); None
    /// when there is no such key.
    async fn fetch(&self, key: &str, size: u64) -> Result<Option<Bytes>, Error> {
        let (bytes, _) = retry::run(&self.settings.retry, &self.counters.retries, || async {
            self.count_attempt(&self.counters.gets);
            let fetch = Box::pin(async {
                let out = self
                    .client
                    .get_object()
                    .bucket(&self.settings.bucket)
                    .key(key)
                    .send()
                    .await?;
                Ok::<_, SdkError<GetObjectError, HttpResponse>>(out.body.collect().await)
            });
            Ok(match self.timed("GET", key, size, fetch).await {
                Err(timed_out) => Attempt::Failed(timed_out),
                Ok(Ok(Ok(body))) => Attempt::Done(Some(body.into_bytes())),
                // The body broke off mid-transfer: worth another try.
                Ok(Ok(Err(err))) => Attempt::Failed(Error::S3 {
                    op: "GET",
                    key: key.to_string(),
                    attempts: 1,
                    retryable: true,
                    message: format!("reading the body: {err}"),
                    source: Box::new(err),
                }),
                Ok(Err(err)) => {
                    if err.as_service_error().is_some_and(|e| e.is_no_such_key()) {
                        return Ok(Attempt::Done(None));
                    }
                    retry::failed("GET", key, err)
                }
            })
        })
        .await?;
        Ok(bytes)
    }

    /// Whether the bucket holds `hash` (by HEAD). An object whose size is
    /// not the hash's counts as absent: a PUT will replace it.
    pub async fn exists(&self, hash: &ContentHash) -> Result<bool, Error> {
        Ok(self.head(hash).await?.0)
    }

    /// `exists`, plus the number of retries it took.
    pub(crate) async fn head(&self, hash: &ContentHash) -> Result<(bool, u32), Error> {
        let key = self.key(hash);
        let (present, retries) =
            retry::run(&self.settings.retry, &self.counters.retries, || async {
                self.count_attempt(&self.counters.heads);
                let request = Box::pin(
                    self.client
                        .head_object()
                        .bucket(&self.settings.bucket)
                        .key(&key)
                        .send(),
                );
                Ok(match self.timed("HEAD", &key, 0, request).await {
                    Err(timed_out) => Attempt::Failed(timed_out),
                    Ok(Ok(out)) => Attempt::Done(out.content_length() == Some(hash.size as i64)),
                    Ok(Err(err)) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {
                        Attempt::Done(false)
                    }
                    Ok(Err(err)) => retry::failed("HEAD", &key, err),
                })
            })
            .await?;
        Ok((present, retries))
    }

    fn count_attempt(&self, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs one attempt, once it has a turn, under the per-attempt time
    /// limit; past it, a retryable failure. Waiting for the turn is not
    /// part of the limit: the queue is ours, not S3's. The attempt comes
    /// boxed: an SDK request's future is ~14 KiB, and unboxed it would be
    /// part of every caller's future (a remote job's task holds its
    /// largest for the job's whole life).
    async fn timed<T>(
        &self,
        op: &'static str,
        key: &str,
        size: u64,
        attempt: Pin<Box<impl Future<Output = T>>>,
    ) -> Result<T, Error> {
        // The semaphore is never closed; were it, requests would go unbounded.
        let _turn = self.turns.acquire().await.ok();
        let limit: Duration = self.settings.attempt_timeout_for(size);
        tokio::time::timeout(limit, attempt)
            .await
            .map_err(|_| Error::S3 {
                op,
                key: key.to_string(),
                attempts: 1,
                retryable: true,
                message: format!("no answer within {limit:?}"),
                source: Box::new(std::io::Error::from(std::io::ErrorKind::TimedOut)),
            })
    }
}

/// Files up to this size are read on the caller's thread: a handoff to a
/// blocking thread and back costs more than reading a source file.
const READ_HERE_LIMIT: u64 = 64 << 10;

/// Reads a whole file of about `size` bytes, on a blocking thread when it
/// is large.
async fn read_whole(path: &Path, size: u64) -> std::io::Result<Vec<u8>> {
    if size <= READ_HERE_LIMIT {
        return std::fs::read(path);
    }
    tokio::fs::read(path).await
}
