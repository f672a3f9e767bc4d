//! Signs a PutObject with the payload hash we already have: an object's
//! name carries its SHA-256, which is exactly SigV4's `x-amz-content-sha256`.
//! So the SDK hashes nothing, and S3 checks on arrival that the bytes match
//! the name (a mismatch is refused with `XAmzContentSHA256Mismatch`).
//! Ignores everything else about the request.

use aws_runtime::auth::PayloadSigningOverride;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;

/// An interceptor for one request whose body's SHA-256 is known.
#[derive(Debug)]
pub(crate) struct KnownPayloadHash {
    hex: String,
}

impl KnownPayloadHash {
    pub(crate) fn new(digest: &[u8; 32]) -> KnownPayloadHash {
        use std::fmt::Write as _;
        let mut hex = String::with_capacity(64);
        for byte in digest {
            write!(hex, "{byte:02x}").expect("writing to a String");
        }
        KnownPayloadHash { hex }
    }
}

impl Intercept for KnownPayloadHash {
    fn name(&self) -> &'static str {
        "KnownPayloadHash"
    }

    fn modify_before_signing(
        &self,
        _context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(PayloadSigningOverride::Precomputed(self.hex.clone()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_sha256() {
        let digest: [u8; 32] = std::array::from_fn(|i| (i * 17) as u8);
        let k = KnownPayloadHash::new(&digest);
        assert_eq!(k.hex.len(), 64);
        assert!(k.hex.starts_with("00112233"));
    }
}
