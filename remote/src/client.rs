//! Building the S3 client from the standard AWS configuration chain
//! (environment, profiles, SSO, ...): region, credentials and endpoint
//! (`AWS_ENDPOINT_URL_S3`) come from there. Owns the settings that are ours
//! (bucket, key prefix, retries, timeouts, path-style addressing); ignores
//! what is stored.

use std::time::Duration;

use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::BehaviorVersion;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};

use crate::error::Error;
use crate::retry::RetryPolicy;

/// Where objects go and how hard to try.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// Put before every key (e.g. `"objects/"`); empty for flat keys.
    pub prefix: String,
    /// Overrides the chain's endpoint (like the AWS CLI's `--endpoint-url`);
    /// `None` leaves it to the chain, e.g. `AWS_ENDPOINT_URL_S3`.
    pub endpoint_url: Option<String>,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    /// Each attempt may take this long plus `size / min_throughput`.
    pub attempt_timeout: Duration,
    /// Bytes per second below which a transfer counts as stuck.
    pub min_throughput: u64,
    /// Requests in flight at once, across all callers: more only opens
    /// more connections (each a handshake and buffers), S3 answers no
    /// faster.
    pub max_in_flight: usize,
}

impl S3Settings {
    pub fn new(bucket: impl Into<String>) -> S3Settings {
        S3Settings {
            bucket: bucket.into(),
            prefix: String::new(),
            endpoint_url: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(30),
            min_throughput: 1 << 20,
            max_in_flight: 64,
        }
    }

    /// The time one attempt at moving `size` bytes may take.
    pub fn attempt_timeout_for(&self, size: u64) -> Duration {
        self.attempt_timeout + Duration::from_secs(size / self.min_throughput.max(1))
    }
}

/// An S3 client from the standard chain, with path-style addressing (what
/// local servers need and AWS accepts), the SDK's own retries off (ours are
/// in `retry`), no CRC checksums (objects are verified by SHA-256), and no
/// stalled-stream protection (each attempt has our time limit, which
/// allows for its size; the SDK's throughput check wraps every body, a
/// twentieth of the engine's CPU at -j 1000).
pub async fn connect(settings: &S3Settings) -> Result<aws_sdk_s3::Client, Error> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::disabled())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(settings.connect_timeout)
                .build(),
        );
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let shared = loader.load().await;
    if shared.region().is_none() {
        return Err(Error::Config(
            "no region: set AWS_REGION or a profile's region".into(),
        ));
    }
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    Ok(aws_sdk_s3::Client::from_conf(config))
}
