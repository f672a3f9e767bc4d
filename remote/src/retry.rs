//! When and how long to wait before trying an S3 request again: capped
//! exponential backoff with jitter, and which failures are worth a retry
//! (5xx, SlowDown and other throttling, timeouts, connection errors). The
//! SDK's own retries are off (see `client`), so every request goes through
//! here. Ignores what the request is.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::error::Error;

/// How many times to try and how long to wait in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The wait before the first retry, before jitter; doubled per retry.
    pub base_delay: Duration,
    /// The cap on one wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 10 tries over at most about 20 s: rides out a server restart or a
    /// burst of SlowDown, gives up on a server that is gone.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry):
    /// "equal jitter", half fixed and half random, so concurrent clients
    /// spread out but none retries at once.
    pub fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let ceiling = exp.min(self.max_delay);
        let half = ceiling / 2;
        let random = RandomState::new().build_hasher().finish();
        half + half.mul_f64((random >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// Whether a failed request might succeed if sent again.
pub fn is_retryable<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            status >= 500
                || status == 429
                || matches!(
                    service.err().code(),
                    Some(
                        "SlowDown"
                            | "Throttling"
                            | "ThrottlingException"
                            | "RequestTimeout"
                            | "InternalError"
                            | "ServiceUnavailable"
                    )
                )
        }
        _ => false,
    }
}

/// What one call of a retried operation ended with.
pub(crate) enum Attempt<T> {
    Done(T),
    /// Failed with an `Error::S3`; its `retryable` says whether to go on.
    Failed(Error),
}

/// Runs `op` until it succeeds, fails for good, or the policy's tries are
/// spent. Returns the value and the number of retries it took; on failure
/// the `Error::S3` carries the number of tries.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    retries: &AtomicU64,
    mut op: F,
) -> Result<(T, u32), Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, Error>>,
{
    let max = policy.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        match op().await? {
            Attempt::Done(value) => return Ok((value, attempt - 1)),
            Attempt::Failed(mut err) => {
                let retryable = match &mut err {
                    Error::S3 {
                        attempts,
                        retryable,
                        ..
                    } => {
                        *attempts = attempt;
                        *retryable
                    }
                    _ => false,
                };
                if !retryable || attempt >= max {
                    return Err(err);
                }
                retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(policy.delay(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// Turns an SDK failure into an attempt outcome: an `Error::S3` that says
/// whether it is worth retrying.
pub(crate) fn failed<T, E>(
    op: &'static str,
    key: &str,
    err: SdkError<E, HttpResponse>,
) -> Attempt<T>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    Attempt::Failed(s3_error(op, key, err))
}

/// An SDK failure as an `Error::S3` of one attempt.
pub(crate) fn s3_error<E>(op: &'static str, key: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    Error::S3 {
        op,
        key: key.to_string(),
        attempts: 1,
        retryable: is_retryable(&err),
        message: DisplayErrorContext(&err).to_string(),
        source: Box::new(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for _ in 0..100 {
            let first = p.delay(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = p.delay(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let late = p.delay(30);
            assert!(late >= Duration::from_millis(500) && late <= Duration::from_secs(1));
        }
    }

    #[test]
    fn jitter_spreads_waits() {
        let p = RetryPolicy::default();
        let waits: std::collections::HashSet<_> = (0..20).map(|_| p.delay(4)).collect();
        assert!(waits.len() > 1);
    }
}
