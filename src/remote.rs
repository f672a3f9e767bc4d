//! `--remote lambda`: the remote executor made from the flags. Built only
//! with the `remote` cargo feature (the AWS SDK takes minutes to compile);
//! without it the flag is an error that says how to get it.

use ggninja_executor::backend::Backend;
use ggninja_thunk::Roots;

use crate::cli::RemoteFlags;
use crate::context::App;

/// `-j 0` means no limit; in-flight invocations still need one.
#[cfg(feature = "remote")]
const MAX_JOBS: usize = 10_000;

#[cfg(feature = "remote")]
pub fn backend(app: &App, flags: &RemoteFlags, roots: Roots) -> Result<Box<dyn Backend>, String> {
    use ggninja_remote::engine::{Config, Remote};

    let jobs = match app.config.parallelism {
        0 => MAX_JOBS,
        j => j.min(MAX_JOBS),
    };
    let mut c = Config::new(flags.bucket.clone(), flags.function.clone(), jobs);
    c.upload = flags.upload;
    c.fallback = flags.fallback;
    if let Some(n) = flags.retries {
        c.retry.max_attempts = n;
    }
    if let Some(secs) = flags.timeout_secs {
        c.timeout = std::time::Duration::from_secs(secs);
    }
    if let Some(n) = flags.concurrency {
        c.concurrency = n.min(MAX_JOBS);
    }
    c.explain = app.config.explain;
    Ok(Box::new(Remote::connect(c, roots)?))
}

#[cfg(not(feature = "remote"))]
pub fn backend(_: &App, _: &RemoteFlags, _: Roots) -> Result<Box<dyn Backend>, String> {
    Err("this ggninja was built without remote execution; \
         build it with `cargo build --release --features remote`"
        .to_string())
}
