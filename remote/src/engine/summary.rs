//! What a remote build did and what it cost: counters every job adds to,
//! read once at the end into the line printed after the build and the
//! JSON written to `.ggninja_remote.json`. The cost is an estimate from
//! AWS's published list prices (the dated table below); ignores free
//! tiers, savings plans and other regions.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// AWS list prices, us-east-1, x86_64 Lambda and S3 Standard, as
/// published on aws.amazon.com/lambda/pricing and /s3/pricing (unchanged
/// from 2023 through 2025; check before relying on them).
pub struct Prices {
    pub as_of: &'static str,
    pub lambda_gb_second: f64,
    pub lambda_request: f64,
    pub s3_put: f64,
    pub s3_get: f64,
    /// Data transfer out of AWS to the internet, per GB (what downloads
    /// to a laptop cost; transfer in is free).
    pub transfer_out_gb: f64,
}

pub const PRICES: Prices = Prices {
    as_of: "2025-01",
    lambda_gb_second: 0.000_016_666_7,
    lambda_request: 0.20 / 1e6,
    s3_put: 0.005 / 1e3,
    s3_get: 0.0004 / 1e3,
    transfer_out_gb: 0.09,
};

/// Counters, added to by every job.
#[derive(Debug, Default)]
pub struct Stats {
    pub invocations: AtomicU64,
    pub memo_hits: AtomicU64,
    pub local_runs: AtomicU64,
    pub fallbacks: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    pub relaunched: AtomicU64,
    pub healed: AtomicU64,
    /// Input objects sent inside a request instead of uploaded first.
    pub carried: AtomicU64,
    pub bytes_up: AtomicU64,
    pub bytes_down: AtomicU64,
    /// Outputs left in the bucket (`--remote-download=toplevel`).
    pub left_remote: AtomicU64,
    /// Billed function time in MB-milliseconds.
    pub mb_ms: AtomicU64,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The summary as written to `.ggninja_remote.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub function: String,
    pub bucket: String,
    pub invocations: u64,
    /// Edges finished from the S3 memo without running anything.
    pub memo_hits: u64,
    /// Edges run on this machine: local-only ones and fallbacks.
    pub local_runs: u64,
    /// Input objects sent inside an invocation's request, not to S3.
    pub carried: u64,
    /// Input bytes sent, to S3 or inside requests.
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// Outputs not downloaded (`--remote-download=toplevel`).
    pub left_remote: u64,
    /// Invocations and S3 requests sent again after a failure.
    pub retries: u64,
    pub throttled: u64,
    /// Stragglers launched a second time.
    pub relaunched: u64,
    /// Edges that fell back to local execution after remote trouble.
    pub fallbacks: u64,
    /// Input objects re-uploaded after the function found them missing.
    pub healed: u64,
    pub s3_requests: u64,
    pub gb_seconds: f64,
    pub cost_usd: f64,
    pub prices_as_of: &'static str,
}

impl Summary {
    pub fn new(
        stats: &Stats,
        s3: crate::objects::RequestCounts,
        function: &str,
        bucket: &str,
    ) -> Summary {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let gb_seconds = get(&stats.mb_ms) as f64 / 1024.0 / 1000.0;
        let invocations = get(&stats.invocations);
        let bytes_down = get(&stats.bytes_down);
        let p = &PRICES;
        let cost_usd = gb_seconds * p.lambda_gb_second
            + invocations as f64 * p.lambda_request
            + s3.puts as f64 * p.s3_put
            + (s3.gets + s3.heads) as f64 * p.s3_get
            + bytes_down as f64 / 1e9 * p.transfer_out_gb;
        Summary {
            function: function.to_string(),
            bucket: bucket.to_string(),
            invocations,
            memo_hits: get(&stats.memo_hits),
            local_runs: get(&stats.local_runs),
            carried: get(&stats.carried),
            bytes_up: get(&stats.bytes_up),
            bytes_down,
            left_remote: get(&stats.left_remote),
            retries: get(&stats.retries) + s3.retries,
            throttled: get(&stats.throttled),
            relaunched: get(&stats.relaunched),
            fallbacks: get(&stats.fallbacks),
            healed: get(&stats.healed),
            s3_requests: s3.puts + s3.gets + s3.heads,
            gb_seconds,
            cost_usd,
            prices_as_of: p.as_of,
        }
    }

    /// Whether the build ran or moved anything (a no-op prints nothing).
    pub fn did_anything(&self) -> bool {
        self.invocations + self.memo_hits + self.local_runs + self.bytes_down + self.bytes_up > 0
    }

    /// The line printed after the build.
    pub fn line(&self) -> String {
        format!(
            "remote: {} invocations, {} memo hits, {} local runs ({} fallbacks), {} up, {} down, \
             {} retries, {} relaunched, {:.1} GB-s, ~${:.4}",
            self.invocations,
            self.memo_hits,
            self.local_runs,
            self.fallbacks,
            human_bytes(self.bytes_up),
            human_bytes(self.bytes_down),
            self.retries,
            self.relaunched,
            self.gb_seconds,
            self.cost_usd,
        )
    }
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::RequestCounts;

    #[test]
    fn cost_adds_compute_requests_and_transfer() {
        let stats = Stats::default();
        Stats::add(&stats.invocations, 1_000_000);
        // 1,000,000 invocations of 1 s at 1 GiB: 1e6 GB-s.
        Stats::add(&stats.mb_ms, 1_000_000 * 1024 * 1000);
        let s3 = RequestCounts {
            puts: 1000,
            gets: 1000,
            heads: 0,
            retries: 2,
        };
        let s = Summary::new(&stats, s3, "f", "b");
        let expected = 1e6 * PRICES.lambda_gb_second + 0.20 + 0.005 + 0.0004;
        assert!((s.cost_usd - expected).abs() < 1e-6, "{}", s.cost_usd);
        assert_eq!(s.retries, 2);
        let json = serde_json::to_value(&s).unwrap();
        for key in [
            "invocations",
            "memo_hits",
            "local_runs",
            "bytes_up",
            "bytes_down",
            "retries",
            "relaunched",
            "fallbacks",
            "cost_usd",
        ] {
            assert!(json.get(key).is_some(), "{key} missing from {json}");
        }
    }

    #[test]
    fn bytes_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
    }
}
