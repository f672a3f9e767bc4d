//! One edge's way through the remote executor, as a task on the engine's
//! runtime: the S3 memo first; then its in-root inputs carried in the
//! request (`carry`) or uploaded (what the bucket is known to hold is
//! skipped), the function invoked (`attempts`),
//! inputs it found missing uploaded again, the outputs placed in the tree
//! (`place`); or, when the remote side cannot do it, the command run here.
//! Ends by handing a `Done` to the build's wait. Ignores the plan, logs and
//! the status line.

use std::path::PathBuf;
use std::sync::Arc;

use ggninja_executor::backend::{Done, Exit, Origin};
use ggninja_executor::process;
use ggninja_store::hash::ContentHash;

use super::attempts::invoke;
use super::edge::Job;
use super::place::{materialize, place};
use super::shared::Shared;
use super::summary::Stats;
use crate::memo::{self, Entry};
use crate::protocol::{Response, Status};

/// How many times inputs reported missing are uploaded again before the
/// edge runs locally instead.
const HEAL_ROUNDS: usize = 3;

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

async fn remote(sh: &Shared, job: &Job) -> Result<Done, Stop> {
    if let Some(log) = from_memo(sh, job).await {
        Stats::add(&sh.stats.memo_hits, 1);
        return Ok(Done {
            output: sh.roots.unrewrite(&log).into_bytes(),
            ..Done::settled(job.edge, Origin::RemoteMemo)
        });
    }
    if !sh.config.upload {
        return Err(Stop::Local(
            "not in the remote cache, which is read-only here (--remote-upload=no)".into(),
        ));
    }
    let packed = sh
        .carried
        .pack(&sh.uploader, &sh.stats, job.request.clone(), &job.uploads)
        .map_err(Stop::Local)?;
    upload(sh, &packed.uploads).await?;
    for _ in 0..HEAL_ROUNDS {
        let resp = invoke(sh, job, &packed.payload)
            .await
            .map_err(Stop::Trouble)?;
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
                    exit: Exit::Failure(1),
                    output: sh.roots.unrewrite(&resp.log).into_bytes(),
                    errors: Vec::new(),
                    origin: Origin::Remote,
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
    let output = sh.roots.unrewrite(&resp.log).into_bytes();
    let entry = Entry {
        outputs: resp.outputs,
        depfile: resp.depfile,
        log: resp.log,
    };
    place(sh, job.restat, &entry)
        .await
        .map_err(|e| Stop::Trouble(format!("fetching its outputs: {e}")))?;
    mark_known(sh, &entry);
    if !resp.memo_written {
        let memo = Entry::of(&entry.outputs, entry.depfile.as_ref(), &entry.log);
        if let Err(e) = memo::put(&sh.store, &job.key, &memo).await {
            sh.warn_once(
                job.edge,
                format!("remote cache: results are not stored: {e}"),
            );
        }
    }
    Ok(Done {
        edge: job.edge,
        exit: Exit::Success,
        output,
        errors: Vec::new(),
        origin: Origin::Remote,
    })
}

/// Restores the edge from the S3 memo and gives what its run printed;
/// None when it is not there or not usable (then nothing was written).
async fn from_memo(sh: &Shared, job: &Job) -> Option<String> {
    let entry = match memo::get(&sh.store, &job.key).await {
        Ok(Some(entry)) => entry,
        Ok(None) => {
            sh.explain(job.edge, || {
                format!(
                    "thunk {} for {} is not in the remote cache",
                    job.key, job.label
                )
            });
            return None;
        }
        Err(e) => {
            sh.explain(job.edge, || {
                format!("remote cache lookup for {}: {e}", job.label)
            });
            return None;
        }
    };
    match place(sh, job.restat, &entry).await {
        Ok(()) => {
            mark_known(sh, &entry);
            sh.explain(job.edge, || {
                format!(
                    "reusing the remote outputs of thunk {} for {}",
                    job.key, job.label
                )
            });
            Some(entry.log)
        }
        Err(e) => {
            sh.explain(job.edge, || {
                format!("remote cache entry for {} is unusable: {e}", job.label)
            });
            None
        }
    }
}

/// Records that the bucket holds a placed result's objects (the function
/// uploaded them before it answered; a memo hit's were fetched or found):
/// the edges reading these outputs skip asking for them. Should the bucket
/// lose them, the function says so and `heal` uploads them again.
fn mark_known(sh: &Shared, entry: &Entry) {
    let objects = entry.objects().filter(|o| o.link.is_none());
    for hash in objects.filter_map(|o| ContentHash::parse(&o.hash)) {
        sh.uploader.mark_known(hash);
    }
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
    sh.explain(job.edge, || {
        format!(
            "{}: {} inputs were missing from the bucket; uploading them again",
            job.label,
            items.len()
        )
    });
    Stats::add(&sh.stats.healed, items.len() as u64);
    upload(sh, &items).await
}

/// Runs the edge here after remote trouble; or, with fallbacks off, fails
/// it with the reason.
async fn fall_back(sh: &Shared, job: &Job, why: String) -> Done {
    if !sh.config.fallback {
        let msg = format!("ggninja: remote execution of {} failed: {why}\n", job.label);
        return Done {
            edge: job.edge,
            exit: Exit::Failure(1),
            output: msg.into_bytes(),
            errors: Vec::new(),
            origin: Origin::Ran,
        };
    }
    sh.warn_once(job.edge, format!("{} runs locally: {why}", job.label));
    Stats::add(&sh.stats.fallbacks, 1);
    run_here(sh, job, why).await
}

/// Runs the edge's command on this machine, at most one per core, once
/// its inputs left in the bucket are here.
async fn run_here(sh: &Shared, job: &Job, why: String) -> Done {
    sh.explain(job.edge, || format!("{} runs locally: {why}", job.label));
    Stats::add(&sh.stats.local_runs, 1);
    if let Err(e) = materialize(sh, &job.remote_inputs).await {
        let msg = format!("ggninja: fetching the inputs of {}: {e}\n", job.label);
        return Done {
            edge: job.edge,
            exit: Exit::Failure(1),
            output: msg.into_bytes(),
            errors: Vec::new(),
            origin: Origin::Ran,
        };
    }
    // Never closed; were it, the run would go without a slot.
    let _core = sh.local_slots.acquire().await.ok();
    let command = job.command.clone();
    let children = Arc::clone(&sh.children);
    let ran = tokio::task::spawn_blocking(move || {
        if children.aborted() {
            return Ok((Exit::Interrupted, Vec::new()));
        }
        let mut pid = None;
        let ran = process::run_captured(&command, |p| {
            pid = Some(p);
            children.started(p);
        });
        if let Some(p) = pid {
            children.ended(p);
        }
        ran
    })
    .await;
    let (exit, output) = match ran {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => (Exit::Failure(1), format!("ggninja: {e}\n").into_bytes()),
        Err(e) => (Exit::Failure(1), format!("ggninja: {e}\n").into_bytes()),
    };
    Done {
        edge: job.edge,
        exit,
        output,
        errors: Vec::new(),
        origin: Origin::Ran,
    }
}
