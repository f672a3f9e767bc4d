//! One edge's way through the remote executor, as a task on the engine's
//! runtime: the S3 memo first; then its in-root inputs uploaded (what the
//! bucket is known to hold is skipped), the function invoked (retried with
//! capped backoff, a straggler launched twice, inputs the function found
//! missing uploaded again), the outputs fetched by hash into the tree and
//! the result memoized in S3; or, when the remote side cannot do it, the
//! command run here. Ends by handing a `Done` to the build's wait.
//! Ignores the plan, logs and the status line.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ggninja_executor::backend::{Done, Exit, Finisher, Note};
use ggninja_executor::process;
use ggninja_graph::BuildId;
use ggninja_store::hash::ContentHash;
use ggninja_store::RemoteFile;
use ggninja_thunk::Roots;
use tokio::sync::Semaphore;

use super::invoke::{InvokeError, Invoker};
use super::summary::Stats;
use super::Config;
use crate::memo::{self, Entry};
use crate::objects::ObjectStore;
use crate::protocol::{Output, Response, Status};
use crate::upload::Uploader;

/// How many times inputs reported missing are uploaded again before the
/// edge runs locally instead.
const HEAL_ROUNDS: usize = 3;

/// A straggler is launched again once it has run this many times its
/// rule's median (and at least `STRAGGLER_SLACK` past it)...
const STRAGGLER_FACTOR: u32 = 4;
const STRAGGLER_SLACK: Duration = Duration::from_secs(1);
/// ...once the rule has this many finished runs to take a median of.
const STRAGGLER_SAMPLES: usize = 3;

/// What every job shares.
pub(crate) struct Shared {
    pub config: Config,
    pub store: Arc<ObjectStore>,
    pub uploader: Uploader,
    pub invoker: Invoker,
    pub roots: Roots,
    pub stats: Stats,
    /// Invocations in flight, relaunches included (`Config::concurrency`).
    pub invoke_slots: Semaphore,
    /// Local fallbacks running at once: the machine's cores.
    pub local_slots: Semaphore,
    pub finisher: Finisher,
    /// Messages for the build, by edge, taken when it is waited for.
    notes: Mutex<HashMap<BuildId, Vec<Note>>>,
    /// Invocation round trips by rule (ms), for straggler detection.
    run_ms: Mutex<HashMap<String, Vec<u64>>>,
    /// A warning for the first fallback only; the summary counts them all.
    warned: std::sync::atomic::AtomicBool,
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: Config,
        store: Arc<ObjectStore>,
        invoker: Invoker,
        roots: Roots,
        finisher: Finisher,
        local_cores: usize,
    ) -> Shared {
        let slots = config.concurrency.max(1);
        Shared {
            uploader: Uploader::new(Arc::clone(&store)),
            store,
            invoker,
            roots,
            stats: Stats::default(),
            invoke_slots: Semaphore::new(slots),
            local_slots: Semaphore::new(local_cores.max(1)),
            finisher,
            notes: Mutex::default(),
            run_ms: Mutex::default(),
            warned: Default::default(),
            config,
        }
    }

    pub fn take_notes(&self, edge: BuildId) -> Vec<Note> {
        self.notes
            .lock()
            .expect("notes")
            .remove(&edge)
            .unwrap_or_default()
    }

    fn note(&self, edge: BuildId, note: Note) {
        let mut notes = self.notes.lock().expect("notes");
        notes.entry(edge).or_default().push(note);
    }

    fn explain(&self, job: &Job, msg: impl FnOnce() -> String) {
        if self.config.explain {
            self.note(job.edge, Note::Explain(msg()));
        }
    }

    fn observe(&self, rule: &str, ms: u64) {
        let mut all = self.run_ms.lock().expect("run times");
        all.entry(rule.to_string()).or_default().push(ms);
    }

    /// When a run of `rule` counts as a straggler, once its runs so far
    /// say what is normal.
    fn straggler_after(&self, rule: &str) -> Option<Duration> {
        let all = self.run_ms.lock().expect("run times");
        let runs = all.get(rule).filter(|r| r.len() >= STRAGGLER_SAMPLES)?;
        let mut sorted = runs.clone();
        sorted.sort_unstable();
        let median = Duration::from_millis(sorted[sorted.len() / 2]);
        Some((median * STRAGGLER_FACTOR).max(median + STRAGGLER_SLACK))
    }
}

/// An edge ready to go remote.
pub(crate) struct Job {
    pub edge: BuildId,
    /// Its first output, for messages.
    pub label: String,
    pub rule: String,
    pub command: String,
    pub restat: bool,
    pub key: ContentHash,
    /// The request, serialized once.
    pub payload: Bytes,
    /// In-root inputs: hash and the real file to upload from.
    pub uploads: Vec<(ContentHash, PathBuf)>,
    /// In-root inputs an earlier edge left in the bucket: fetched only if
    /// the edge has to run here.
    pub remote_inputs: Vec<(PathBuf, RemoteFile)>,
}

/// Why an edge did not finish remotely; either way it runs here.
enum Stop {
    /// By design (e.g. a read-only remote cache without the result).
    Local(String),
    /// Remote trouble: a fallback (or, with fallbacks off, a failure).
    Trouble(String),
}

/// Runs `job` to its end and hands the result to the build.
pub(crate) async fn run(sh: Arc<Shared>, job: Job) {
    let done = match remote(&sh, &job).await {
        Ok(done) => done,
        Err(Stop::Local(why)) => run_here(&sh, &job, why).await,
        Err(Stop::Trouble(why)) => fall_back(&sh, &job, why).await,
    };
    sh.finisher.finish(done);
}

/// An edge that must not go remote (see `Remote::start`) runs here, on
/// the runtime, one per core.
pub(crate) async fn run_local(sh: Arc<Shared>, job: Job, why: String) {
    let done = run_here(&sh, &job, why).await;
    sh.finisher.finish(done);
}

async fn remote(sh: &Shared, job: &Job) -> Result<Done, Stop> {
    if from_memo(sh, job).await {
        Stats::add(&sh.stats.memo_hits, 1);
        return Ok(Done::settled(job.edge));
    }
    if !sh.config.upload {
        return Err(Stop::Local(
            "not in the remote cache, which is read-only here (--remote-upload=no)".into(),
        ));
    }
    upload(sh, &job.uploads).await?;
    for _ in 0..HEAL_ROUNDS {
        let resp = invoke(sh, job).await?;
        match resp.status {
            Status::MissingInputs { hashes } => heal(sh, job, &hashes).await?,
            Status::ToolchainMismatch {
                path,
                expected,
                found,
            } => {
                return Err(Stop::Trouble(format!(
                    "the function's image differs from this machine: {path} is {found}, \
                     the thunk needs {expected} (redeploy with -t lambda-deploy)"
                )))
            }
            Status::Error { message } => {
                return Err(Stop::Trouble(format!("the function failed: {message}")))
            }
            // Ninja does not check outputs: run it here, as ninja would.
            Status::OutputsNotWritten { paths } => {
                return Err(Stop::Local(format!(
                    "the command did not write {}",
                    paths.join(", ")
                )))
            }
            Status::Ran { .. } if !resp.succeeded() => {
                return Ok(Done {
                    edge: job.edge,
                    exit: Exit::Failure,
                    output: resp.log.into_bytes(),
                })
            }
            Status::Ran { .. } => return finish(sh, job, resp).await,
        }
    }
    Err(Stop::Trouble(format!(
        "its inputs went missing from the bucket {HEAL_ROUNDS} times"
    )))
}

/// A successful run: outputs taken from the response or fetched into the
/// tree; memoized by the function, or else here.
async fn finish(sh: &Shared, job: &Job, resp: Response) -> Result<Done, Stop> {
    let entry = Entry {
        outputs: resp.outputs,
        depfile: resp.depfile,
    };
    place(sh, job, &entry)
        .await
        .map_err(|e| Stop::Trouble(format!("fetching its outputs: {e}")))?;
    if !resp.memo_written {
        let bare = Entry::of(&entry.outputs, entry.depfile.as_ref());
        if let Err(e) = memo::put(&sh.store, &job.key, &bare).await {
            warn_once(
                sh,
                job,
                format!("remote cache: results are not stored: {e}"),
            );
        }
    }
    Ok(Done {
        edge: job.edge,
        exit: Exit::Success,
        output: resp.log.into_bytes(),
    })
}

/// Restores the edge from the S3 memo; false when it is not there or not
/// usable (then nothing was written).
async fn from_memo(sh: &Shared, job: &Job) -> bool {
    let entry = match memo::get(&sh.store, &job.key).await {
        Ok(Some(entry)) => entry,
        Ok(None) => {
            sh.explain(job, || {
                format!(
                    "thunk {} for {} is not in the remote cache",
                    job.key, job.label
                )
            });
            return false;
        }
        Err(e) => {
            sh.explain(job, || {
                format!("remote cache lookup for {}: {e}", job.label)
            });
            return false;
        }
    };
    match place(sh, job, &entry).await {
        Ok(()) => {
            sh.explain(job, || {
                format!(
                    "reusing the remote outputs of thunk {} for {}",
                    job.key, job.label
                )
            });
            true
        }
        Err(e) => {
            sh.explain(job, || {
                format!("remote cache entry for {} is unusable: {e}", job.label)
            });
            false
        }
    }
}

/// Fetches (verified by hash) every object of `entry` that comes back to
/// this machine, then writes them to their real paths; nothing is written
/// unless every object arrived. The others are checked to be in the bucket
/// and recorded as remote-only (a stale file at their path is removed, so
/// the tree never shows an old version).
async fn place(sh: &Shared, job: &Job, entry: &Entry) -> Result<(), String> {
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
    let roots = sh.roots.clone();
    let depfile = entry.depfile.clone();
    let restat = job.restat;
    let written = tokio::task::spawn_blocking(move || {
        for (o, bytes) in &files {
            let bytes = match depfile.as_ref() == Some(o) {
                true => Bytes::from(roots.unrewrite(&String::from_utf8_lossy(bytes))),
                false => bytes.clone(),
            };
            write_output(&roots, o, &bytes, restat)?;
        }
        Ok::<_, std::io::Error>(())
    });
    match written.await {
        Ok(r) => r.map_err(|e| e.to_string())?,
        Err(e) => return Err(e.to_string()),
    }
    for (real, hash, mode) in left {
        leave_remote(sh, real, hash, mode)?;
    }
    Ok(())
}

/// An output's bytes from the response, when it carried them and they are
/// what the hash names (else the object is fetched from the bucket).
fn inline_bytes(o: &Output, hash: &ContentHash) -> Option<Bytes> {
    use base64::Engine as _;
    let text = o.inline.as_deref()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    (ContentHash::of(hash.kind, &bytes) == *hash).then(|| Bytes::from(bytes))
}

/// Records an output as remote-only, as of now.
fn leave_remote(sh: &Shared, real: PathBuf, hash: ContentHash, mode: u32) -> Result<(), String> {
    match std::fs::remove_file(&real) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("removing the stale {}: {e}", real.display()))
        }
        _ => {}
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as i64);
    Stats::add(&sh.stats.left_remote, 1);
    sh.config.remote_files.insert(
        real,
        RemoteFile {
            hash,
            mode,
            mtime_ns: now,
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
            let mut tmp = real.clone().into_os_string();
            tmp.push(".ggninja-fetch");
            std::fs::write(&tmp, &bytes)?;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(f.mode & 0o7777))?;
            let mtime = std::time::UNIX_EPOCH + Duration::from_nanos(f.mtime_ns.max(0) as u64);
            std::fs::File::open(&tmp)?.set_modified(mtime)?;
            std::fs::rename(&tmp, &real)
        });
        match written.await {
            Ok(r) => r.map_err(|e| e.to_string())?,
            Err(e) => return Err(e.to_string()),
        }
        sh.config.remote_files.remove(path);
    }
    Ok(())
}

/// Writes one output (or link) atomically. Under `restat` an output already
/// holding these bytes is left untouched, as the local command would have
/// left it.
fn write_output(roots: &Roots, o: &Output, bytes: &[u8], restat: bool) -> std::io::Result<()> {
    let real = roots.real_path(&o.path);
    if let Some(dir) = real.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = real.clone().into_os_string();
    tmp.push(".ggninja-fetch");
    let _ = std::fs::remove_file(&tmp);
    if let Some(target) = &o.link {
        if restat && std::fs::read_link(&real).is_ok_and(|t| t.as_os_str() == target.as_str()) {
            return Ok(());
        }
        std::os::unix::fs::symlink(target, &tmp)?;
        return std::fs::rename(&tmp, &real);
    }
    if restat && std::fs::read(&real).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(&tmp, bytes)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(o.mode & 0o7777))?;
    std::fs::rename(&tmp, &real)
}

async fn upload(sh: &Shared, items: &[(ContentHash, PathBuf)]) -> Result<(), Stop> {
    match sh.uploader.upload(items.iter().cloned()).await {
        Ok(report) => {
            Stats::add(&sh.stats.bytes_up, report.bytes_uploaded);
            Ok(())
        }
        Err(e) => Err(Stop::Trouble(format!("uploading its inputs: {e}"))),
    }
}

/// Uploads again what the function found missing (the bucket was emptied
/// or pruned since this build saw it).
async fn heal(sh: &Shared, job: &Job, missing: &[String]) -> Result<(), Stop> {
    let mut items = Vec::new();
    for m in missing {
        let item = job.uploads.iter().find(|(h, _)| h.to_string() == *m);
        let Some(item) = item else {
            return Err(Stop::Trouble(format!(
                "the function misses object {m}, which this build does not have"
            )));
        };
        sh.uploader.forget(&item.0);
        items.push(item.clone());
    }
    sh.explain(job, || {
        format!(
            "{}: {} inputs were missing from the bucket; uploading them again",
            job.label,
            items.len()
        )
    });
    Stats::add(&sh.stats.healed, items.len() as u64);
    upload(sh, &items).await
}

/// Invokes until an answer comes, with capped, jittered backoff between
/// failed attempts; past the cap, the edge runs locally.
async fn invoke(sh: &Shared, job: &Job) -> Result<Response, Stop> {
    let policy = &sh.config.retry;
    let mut attempt = 1;
    loop {
        match attempt_once(sh, job).await {
            Ok(resp) => return Ok(resp),
            Err(e) => {
                if e.throttled {
                    Stats::add(&sh.stats.throttled, 1);
                }
                if !e.retryable || attempt >= policy.max_attempts.max(1) {
                    return Err(Stop::Trouble(format!(
                        "invoking {} failed after {attempt} attempt(s): {e}",
                        sh.invoker.function()
                    )));
                }
                Stats::add(&sh.stats.retries, 1);
                tokio::time::sleep(policy.delay(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// One attempt; a run that takes far longer than its rule's runs usually
/// do is launched a second time (when a slot is free), and the first
/// answer that is not a failure wins.
async fn attempt_once(sh: &Shared, job: &Job) -> Result<Response, InvokeError> {
    let _slot = sh.invoke_slots.acquire().await.expect("slots stay open");
    let first = call(sh, job);
    tokio::pin!(first);
    let Some(after) = sh.straggler_after(&job.rule) else {
        return first.await;
    };
    tokio::select! {
        r = &mut first => return r,
        _ = tokio::time::sleep(after) => {}
    }
    let Ok(_extra) = sh.invoke_slots.try_acquire() else {
        return first.await;
    };
    Stats::add(&sh.stats.relaunched, 1);
    sh.explain(job, || {
        format!("{} ran past {after:?}: launched again", job.label)
    });
    let second = call(sh, job);
    tokio::pin!(second);
    tokio::select! {
        r = &mut first => match r {
            Ok(resp) => Ok(resp),
            Err(_) => second.await,
        },
        r = &mut second => match r {
            Ok(resp) => Ok(resp),
            Err(_) => first.await,
        },
    }
}

/// One invocation, counted and billed.
async fn call(sh: &Shared, job: &Job) -> Result<Response, InvokeError> {
    Stats::add(&sh.stats.invocations, 1);
    let started = std::time::Instant::now();
    let resp = sh.invoker.call(job.payload.clone()).await?;
    // Lambda bills every started millisecond at the configured memory.
    Stats::add(&sh.stats.mb_ms, sh.config.memory_mb * resp.total_ms.max(1));
    if resp.succeeded() {
        // The round trip, not the function's own time: what a straggler
        // is compared with includes the same network and queueing.
        sh.observe(&job.rule, started.elapsed().as_millis() as u64);
    }
    Ok(resp)
}

/// Runs the edge here after remote trouble; or, with fallbacks off, fails
/// it with the reason.
async fn fall_back(sh: &Shared, job: &Job, why: String) -> Done {
    if !sh.config.fallback {
        let msg = format!("ggninja: remote execution of {} failed: {why}\n", job.label);
        return Done {
            edge: job.edge,
            exit: Exit::Failure,
            output: msg.into_bytes(),
        };
    }
    warn_once(sh, job, format!("{} runs locally: {why}", job.label));
    Stats::add(&sh.stats.fallbacks, 1);
    run_here(sh, job, why).await
}

/// Runs the edge's command on this machine, at most one per core, once
/// its inputs left in the bucket are here.
async fn run_here(sh: &Shared, job: &Job, why: String) -> Done {
    sh.explain(job, || format!("{} runs locally: {why}", job.label));
    Stats::add(&sh.stats.local_runs, 1);
    if let Err(e) = materialize(sh, &job.remote_inputs).await {
        let msg = format!("ggninja: fetching the inputs of {}: {e}\n", job.label);
        return Done {
            edge: job.edge,
            exit: Exit::Failure,
            output: msg.into_bytes(),
        };
    }
    let _core = sh.local_slots.acquire().await.expect("slots stay open");
    let command = job.command.clone();
    let ran = tokio::task::spawn_blocking(move || process::run_captured(&command)).await;
    let (exit, output) = match ran {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => (Exit::Failure, format!("ggninja: {e}\n").into_bytes()),
        Err(e) => (Exit::Failure, format!("ggninja: {e}\n").into_bytes()),
    };
    Done {
        edge: job.edge,
        exit,
        output,
    }
}

fn warn_once(sh: &Shared, job: &Job, msg: String) {
    use std::sync::atomic::Ordering;
    if !sh.warned.swap(true, Ordering::Relaxed) {
        sh.note(
            job.edge,
            Note::Warning(format!(
                "remote: {msg} (further ones are counted in the summary)"
            )),
        );
    }
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
