//! Invoking the function: one synchronous Invoke per attempt under a time
//! limit, the answer sorted into a response, a failure worth another try
//! (throttling, 5xx, a function that crashed, a timeout, a reset
//! connection) or one that is not (no such function, access denied). The
//! SDK's own retries are off: the job decides (capped backoff with jitter,
//! see `retry`). Ignores what the request means.

use std::time::Duration;

use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::BehaviorVersion;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use bytes::Bytes;

use crate::protocol::Response;

/// Why an attempt failed, and whether another might not.
#[derive(Debug, Clone)]
pub struct InvokeError {
    pub message: String,
    pub retryable: bool,
    /// Lambda refused for lack of capacity (HTTP 429).
    pub throttled: bool,
}

impl InvokeError {
    fn retry(message: String) -> InvokeError {
        InvokeError {
            message,
            retryable: true,
            throttled: false,
        }
    }
}

impl std::fmt::Display for InvokeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub struct Invoker {
    client: aws_sdk_lambda::Client,
    function: String,
    timeout: Duration,
}

impl Invoker {
    /// A Lambda client from the standard AWS chain (region, credentials,
    /// `AWS_ENDPOINT_URL_LAMBDA`). No stalled-stream protection: the answer
    /// comes when the command ends, and `timeout` bounds the whole call.
    pub async fn connect(function: String, timeout: Duration) -> Invoker {
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::disabled())
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .build(),
            )
            .load()
            .await;
        Invoker {
            client: aws_sdk_lambda::Client::new(&conf),
            function,
            timeout,
        }
    }

    pub fn function(&self) -> &str {
        &self.function
    }

    /// One invocation: the function's response, or why there is none.
    pub async fn call(&self, payload: Bytes) -> Result<Response, InvokeError> {
        // Boxed: the SDK's future is ~14 KiB, and unboxed it would be part of
        // every job's future, allocated with its task for the job's life.
        let sent = Box::pin(
            self.client
                .invoke()
                .function_name(&self.function)
                .payload(Blob::new(payload))
                .send(),
        );
        let out = match tokio::time::timeout(self.timeout, sent).await {
            Err(_) => {
                return Err(InvokeError::retry(format!(
                    "no answer within {:?}",
                    self.timeout
                )))
            }
            Ok(Err(e)) => return Err(classify(e)),
            Ok(Ok(out)) => out,
        };
        let body = out.payload().map(|b| b.as_ref()).unwrap_or_default();
        if let Some(kind) = out.function_error() {
            // The function crashed or ran out of time or memory: another
            // instance may do better.
            return Err(InvokeError::retry(format!(
                "function error {kind}: {}",
                clip(body)
            )));
        }
        serde_json::from_slice(body).map_err(|e| InvokeError {
            message: format!("the function's answer does not parse ({e}): {}", clip(body)),
            retryable: false,
            throttled: false,
        })
    }
}

/// The start of a body, for messages.
fn clip(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(300).collect()
}

/// An error and its sources, `a: b: c`, each said once (a wrapper often
/// repeats its source's text).
fn causes(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut next = err.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Sorts an Invoke failure. The emulator reports a function error as HTTP
/// 500 (AWS as 200 with `X-Amz-Function-Error`, handled in `call`).
fn classify<E>(err: SdkError<E, aws_sdk_lambda::config::http::HttpResponse>) -> InvokeError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_string);
    // What the service said, when it said something; else the chain of
    // causes. The SDK's `DisplayErrorContext` appends a debug dump of the
    // error (the raw response, its headers and body) that buries the
    // reason in a message meant for people.
    let message = match (&err, code.as_deref(), err.message()) {
        (SdkError::ServiceError(_), Some(c), Some(m)) => format!("{c}: {m}"),
        (SdkError::ServiceError(_), None, Some(m)) => m.to_string(),
        (SdkError::ServiceError(_), Some(c), None) => c.to_string(),
        // An error the SDK does not model (the emulator's function error):
        // its body says what happened.
        (SdkError::ServiceError(e), None, None) => match e.raw().body().bytes() {
            Some(body) if !body.is_empty() => clip(body),
            _ => causes(&err),
        },
        _ => causes(&err),
    };
    let throttled = status == Some(429)
        || matches!(
            code.as_deref(),
            Some("TooManyRequestsException" | "ThrottlingException")
        );
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(f) => !f.is_user(),
        SdkError::ServiceError(_) => throttled || status.is_some_and(|s| s >= 500),
        _ => false,
    };
    let message = match status {
        Some(404) => format!("no such function ({message})"),
        Some(s) => format!("HTTP {s}: {message}"),
        None => message,
    };
    InvokeError {
        message,
        retryable,
        throttled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrap(&'static str, Option<Box<Wrap>>);

    impl std::fmt::Display for Wrap {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrap {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|w| w as _)
        }
    }

    #[test]
    fn causes_are_chained_once_without_debug_dumps() {
        let inner = Wrap("connection refused", None);
        let mid = Wrap("io error: connection refused", Some(Box::new(inner)));
        let top = Wrap("dispatch failure", Some(Box::new(mid)));
        assert_eq!(
            causes(&top),
            "dispatch failure: io error: connection refused"
        );
    }
}
