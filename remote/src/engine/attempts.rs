//! Invoking until an answer comes: capped, jittered backoff between failed
//! attempts (throttling, 5xx, crashes, timeouts), and a straggler — a run
//! far slower than its rule's runs so far — launched a second time, the
//! first good answer winning. Each invocation counted and billed. Ignores
//! what the answer says.

use bytes::Bytes;

use super::edge::Job;
use super::invoke::InvokeError;
use super::shared::Shared;
use super::summary::Stats;
use crate::protocol::Response;

/// Invokes until an answer comes, with capped, jittered backoff between
/// failed attempts; past the cap, the edge runs locally.
pub(crate) async fn invoke(sh: &Shared, job: &Job, payload: &Bytes) -> Result<Response, String> {
    let policy = &sh.config.retry;
    let mut attempt = 1;
    loop {
        match attempt_once(sh, job, payload).await {
            Ok(resp) => return Ok(resp),
            Err(e) => {
                if e.throttled {
                    Stats::add(&sh.stats.throttled, 1);
                }
                if !e.retryable || attempt >= policy.max_attempts.max(1) {
                    return Err(format!(
                        "invoking {} failed after {attempt} attempt(s): {e}",
                        sh.invoker.function()
                    ));
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
async fn attempt_once(sh: &Shared, job: &Job, payload: &Bytes) -> Result<Response, InvokeError> {
    // Never closed; were it, the call would go without a slot.
    let _slot = sh.invoke_slots.acquire().await.ok();
    let first = call(sh, job, payload);
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
    sh.explain(job.edge, || {
        format!("{} ran past {after:?}: launched again", job.label)
    });
    let second = call(sh, job, payload);
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
async fn call(sh: &Shared, job: &Job, payload: &Bytes) -> Result<Response, InvokeError> {
    Stats::add(&sh.stats.invocations, 1);
    let started = std::time::Instant::now();
    let resp = sh.invoker.call(payload.clone()).await?;
    // Lambda bills every started millisecond at the configured memory.
    Stats::add(&sh.stats.mb_ms, sh.config.memory_mb * resp.total_ms.max(1));
    if resp.succeeded() {
        // The round trip, not the function's own time: what a straggler
        // is compared with includes the same network and queueing.
        sh.observe(&job.rule, started.elapsed().as_millis() as u64);
    }
    Ok(resp)
}
