//! The Lambda function's work for one request, in order: check the thunk
//! against its hash, check the files the image provides (`image`), lay out
//! the in-root inputs (`layout`, through `cache`: those the request carried,
//! the rest from S3), run the command
//! (`run`), upload its outputs (`collect`), remove the job. Every failure
//! becomes a `Response` status; nothing here panics on bad input. Owns the
//! per-instance state (S3 client, object cache, verified image hashes);
//! ignores the Lambda runtime (see `bin/ggninja-lambda.rs`).

pub mod cache;
pub mod collect;
pub mod image;
pub mod layout;
pub mod run;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ggninja_store::hash::{ContentHash, Kind};
use ggninja_thunk::Thunk;

use crate::client::S3Settings;
use crate::error::Error;
use crate::memo;
use crate::objects::ObjectStore;
use crate::protocol::{Carried, Request, Response, Status};
use cache::ObjectCache;
use collect::CollectError;
use image::ImageHashes;
use layout::{Job, LayoutError};

/// One instance's state, kept between invocations.
pub struct Function {
    client: aws_sdk_s3::Client,
    /// Timeouts and retries for every store (bucket and prefix per request).
    settings: S3Settings,
    cache: Arc<ObjectCache>,
    image: ImageHashes,
    /// Where jobs go (`<work>/gg/<n>`).
    work: PathBuf,
    jobs: AtomicU64,
}

impl Function {
    /// From the environment: the S3 client from the standard chain,
    /// `GGNINJA_WORK_DIR` (default `/tmp`), `GGNINJA_CACHE_BYTES`.
    pub async fn from_env() -> Result<Function, Error> {
        let bucket = std::env::var("GGNINJA_BUCKET").unwrap_or_default();
        let settings = S3Settings::new(bucket);
        let client = crate::client::connect(&settings).await?;
        let work = std::env::var_os("GGNINJA_WORK_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        Function::new(client, settings, work, ObjectCache::budget_from_env())
    }

    pub fn new(
        client: aws_sdk_s3::Client,
        settings: S3Settings,
        work: PathBuf,
        cache_budget: u64,
    ) -> Result<Function, Error> {
        let io = |source| Error::Io {
            path: work.clone(),
            source,
        };
        let cache = ObjectCache::new(work.join("gg-cache"), cache_budget).map_err(io)?;
        // Jobs of an earlier instance with the same /tmp.
        let _ = std::fs::remove_dir_all(work.join("gg"));
        Ok(Function {
            client,
            settings,
            cache: Arc::new(cache),
            image: ImageHashes::default(),
            work,
            jobs: AtomicU64::new(0),
        })
    }

    /// Handles one request; never panics on its content.
    pub async fn handle(&self, req: Request) -> Response {
        let start = Instant::now();
        let mut resp = self.handle_inner(req).await;
        resp.total_ms = start.elapsed().as_millis() as u64;
        resp
    }

    async fn handle_inner(&self, req: Request) -> Response {
        let expected = ContentHash::of(Kind::Thunk, req.thunk.as_bytes()).to_string();
        if expected != req.thunk_hash {
            return Response::error(format!(
                "the thunk hashes to {expected}, not the request's {}",
                req.thunk_hash
            ));
        }
        let thunk: Thunk = match serde_json::from_str(&req.thunk) {
            Ok(t) => t,
            Err(e) => return Response::error(format!("the thunk does not parse: {e}")),
        };
        let n = self.jobs.fetch_add(1, Ordering::Relaxed);
        let job = match Job::create(&self.work, n) {
            Ok(j) => j,
            Err(e) => return Response::error(format!("creating the job dir: {e}")),
        };
        let resp = self.run_job(&req, &thunk, &job).await;
        job.remove();
        resp
    }

    /// Caches the objects the request carried, so laying out finds them.
    /// One that does not match its hash, or cannot be written, is left out:
    /// it is then fetched from the bucket, or reported missing.
    fn keep_carried(&self, carried: &[Carried]) {
        for (hash, bytes) in carried.iter().filter_map(Carried::verified) {
            if !self.cache.contains(&hash) {
                let _ = self.cache.keep(&hash, &bytes);
            }
        }
    }

    async fn run_job(&self, req: &Request, thunk: &Thunk, job: &Job) -> Response {
        let executable: HashSet<&str> = req.executable.iter().map(String::as_str).collect();
        let mut plan = match layout::plan(thunk, req.bundle.as_deref(), &executable, job) {
            Ok(p) => p,
            Err(e) => return Response::error(e),
        };

        // What the image provides must be what the thunk names.
        for d in &plan.image_dirs {
            if !std::path::Path::new(d).is_dir() {
                return Response::with_status(Status::ToolchainMismatch {
                    path: d.clone(),
                    expected: "a directory".into(),
                    found: "missing".into(),
                });
            }
        }
        if let Err(m) = self.image.check_all(std::mem::take(&mut plan.image)).await {
            return Response::with_status(Status::ToolchainMismatch {
                path: m.path,
                expected: m.expected,
                found: m.found,
            });
        }

        let mut settings = self.settings.clone();
        settings.bucket = req.bucket.clone();
        settings.prefix = req.prefix.clone();
        let store = Arc::new(ObjectStore::with_client(self.client.clone(), settings));
        self.cache.begin_job();
        self.keep_carried(&req.carried);
        match layout::lay_out(&self.cache, &store, &mut plan).await {
            Ok(()) => {}
            Err(LayoutError::Missing(hashes)) => {
                return Response::with_status(Status::MissingInputs { hashes })
            }
            Err(LayoutError::Other(e)) => return Response::error(e),
        }
        if let Err(e) = layout::make_output_dirs(job, thunk.outputs.iter().chain(&req.depfile)) {
            return Response::error(e);
        }

        let inv = run::invocation(thunk, job, &plan.program, req.roots.as_ref());
        let limit = req.limits.log_bytes;
        let ran = match tokio::task::spawn_blocking(move || run::run(&inv, limit)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Response::error(format!("starting {}: {e}", thunk.function.exe)),
            Err(e) => return Response::error(format!("the run task failed: {e}")),
        };
        let mut resp = Response::with_status(Status::Ran {
            exit_code: ran.exit_code,
            signal: ran.signal,
        });
        // Paths as the thunk names them (the engine gives them its roots),
        // not this instance's job dir.
        resp.log = job.roots.rewrite(&String::from_utf8_lossy(&ran.log));
        resp.log_truncated = ran.truncated;
        resp.run_ms = ran.ms;
        if ran.exit_code != Some(0) {
            return resp;
        }

        match collect::collect(&store, job, &thunk.outputs, &req.limits).await {
            Ok(outputs) => resp.outputs = outputs,
            Err(CollectError::NotWritten(paths)) => {
                resp.status = Status::OutputsNotWritten { paths };
                return resp;
            }
            Err(CollectError::Other(e)) => {
                resp.status = Status::Error { message: e };
                return resp;
            }
        }
        if let Some(depfile) = &req.depfile {
            let inline = req.limits.inline_bytes;
            match collect::collect_depfile(&store, job, depfile, inline).await {
                Ok(d) => resp.depfile = d,
                Err(e) => {
                    resp.status = Status::Error { message: e };
                    resp.outputs.clear();
                    return resp;
                }
            }
        }
        if let Some(key) = req.memo_key.as_deref().and_then(ContentHash::parse) {
            let entry = memo::Entry::of(&resp.outputs, resp.depfile.as_ref(), &resp.log);
            // Not written: the engine writes it instead.
            resp.memo_written = memo::put(&store, &key, &entry).await.is_ok();
        }
        resp
    }
}
