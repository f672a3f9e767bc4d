//! The model of remote execution `-t simulate --remote lambda` replays: an
//! edge that runs on Lambda takes its uploads, the invocation's latency, a
//! cold start when no warm instance is free, its logged run time (k× for a
//! straggler) and the download of its outputs; on shared cores (the local
//! stack, `cores`) it first waits for a core to do its CPU work. Owns the
//! per-edge time and the state a replay shares between edges (which
//! objects are up, how many instances are warm, when each shared core is
//! free). Ignores where the numbers come from (plain
//! per-edge figures the thunk glue measured), contention between
//! transfers (each moves at the full bandwidth), S3 request latency apart
//! from the invocation's, retries, relaunches and the memo's own requests.

use crate::cores::Cores;

/// The remote model's parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Lambda {
    /// Per invocation, the round trip around the command.
    pub latency_ms: u64,
    /// Added when an invocation finds no warm instance free.
    pub startup_ms: u64,
    /// Upload and download rate, in MB (10^6 bytes) per second.
    pub bandwidth_mb_s: f64,
    /// The share of invocations, in percent, that straggle.
    pub stragglers_percent: f64,
    /// How many times longer a straggler's invocation takes.
    pub straggler_factor: u64,
    /// Cores the instances share (0: each its own, as on Lambda).
    pub cores: usize,
    /// CPU an invocation needs on those cores, in ms (a cold start's
    /// `startup_ms` counts as CPU too: on the local stack it is hashing).
    pub cpu_ms: u64,
}

/// The defaults, from the local stack's measurements (docs/analysis.md,
/// "Calibration"; bench/remote_calib.sh): a warm invocation's round trip
/// around a command 3–48 ms (medians 25–45), a fresh instance about 100 ms
/// more for a compile (hashing the compiler's files once; a shell's, 0–50
/// ms), 8 MiB moved at 32–112 MB/s up and 22–57 MB/s down (both ways 30–66
/// per session). Real AWS was not measured. The shared cores are off: Lambda's instances have their own.
impl Default for Lambda {
    fn default() -> Lambda {
        Lambda {
            latency_ms: 30,
            startup_ms: 100,
            bandwidth_mb_s: 40.0,
            stragglers_percent: 0.0,
            // The engine relaunches a run past 4× its rule's median.
            straggler_factor: 4,
            cores: 0,
            cpu_ms: 0,
        }
    }
}

impl Lambda {
    /// The time `bytes` take at the model's bandwidth, rounded up to ms.
    pub fn transfer_ms(&self, bytes: u64) -> u64 {
        if bytes == 0 {
            return 0;
        }
        let per_ms = self.bandwidth_mb_s * 1000.0;
        (bytes as f64 / per_ms).ceil() as u64
    }
}

/// What one edge moves when it runs remotely.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemoteEdge {
    /// The input objects it needs in the bucket, as (object id, bytes);
    /// the build's first edge needing one uploads it.
    pub uploads: Vec<(usize, u64)>,
    /// What comes back to the local tree.
    pub down_bytes: u64,
}

/// The remote part of a replay: per edge, None when it runs locally (no
/// thunk, a memo hit, a phony edge) or what it moves.
#[derive(Debug, Clone, Copy)]
pub struct Remote<'a> {
    pub lambda: &'a Lambda,
    pub edges: &'a [Option<RemoteEdge>],
    /// Per edge, whether it straggles (`stragglers`).
    pub straggles: &'a [bool],
    /// How many distinct objects the edges name (ids below this).
    pub objects: usize,
}

/// Which remote edges straggle: `percent` of them (rounded), chosen by a
/// fixed hash of their index, so a replay is the same every time and
/// the stragglers are spread over the graph, not its first edges.
pub fn stragglers(edges: &[Option<RemoteEdge>], percent: f64) -> Vec<bool> {
    let mut remote: Vec<usize> = (0..edges.len()).filter(|&i| edges[i].is_some()).collect();
    let count = ((remote.len() as f64) * percent.clamp(0.0, 100.0) / 100.0).round() as usize;
    remote.sort_by_key(|&i| (mix(i as u64), i));
    let mut straggles = vec![false; edges.len()];
    for &i in &remote[..count] {
        straggles[i] = true;
    }
    straggles
}

/// splitmix64's finaliser: a fixed, well-spread hash of an index.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// What a replay has done remotely so far.
#[derive(Debug)]
pub struct Bucket<'a> {
    r: Remote<'a>,
    /// When each object is up (None: nobody uploaded it yet).
    up_at: Vec<Option<u64>>,
    /// Instances that exist (each was cold once).
    instances: usize,
    running: usize,
    cores: Cores,
    pub cold_starts: usize,
    pub bytes_up: u64,
}

impl<'a> Bucket<'a> {
    pub fn new(r: Remote<'a>) -> Bucket<'a> {
        Bucket {
            r,
            up_at: vec![None; r.objects],
            instances: 0,
            running: 0,
            cores: Cores::new(r.lambda.cores),
            cold_starts: 0,
            bytes_up: 0,
        }
    }

    /// Edge `i`, logged `run_ms`, starting at `now`: how long it takes.
    /// A local edge takes its logged time.
    pub fn start(&mut self, i: usize, run_ms: u64, now: u64) -> u64 {
        let Some(edge) = &self.r.edges[i] else {
            return run_ms;
        };
        let lambda = self.r.lambda;
        // Its own uploads, one after another; objects another edge is
        // uploading are waited for.
        let mut own = 0;
        let mut waits_until = now;
        for &(object, bytes) in &edge.uploads {
            match self.up_at[object] {
                Some(t) => waits_until = waits_until.max(t),
                None => own += bytes,
            }
        }
        let uploaded = now + lambda.transfer_ms(own);
        for &(object, _) in &edge.uploads {
            self.up_at[object].get_or_insert(uploaded);
        }
        self.bytes_up += own;
        // Lambda reuses a free warm instance, else starts one.
        let cold = if self.running == self.instances {
            self.instances += 1;
            self.cold_starts += 1;
            lambda.startup_ms
        } else {
            0
        };
        self.running += 1;
        let factor = if self.r.straggles[i] {
            lambda.straggler_factor
        } else {
            1
        };
        let invocation = (lambda.latency_ms + run_ms) * factor;
        let ready = uploaded.max(waits_until);
        // Shared cores (the local stack): its CPU work waits for one.
        let queued = self.cores.wait(ready, lambda.cpu_ms + cold);
        let end = ready + queued + cold + invocation + lambda.transfer_ms(edge.down_bytes);
        end - now
    }

    /// Edge `i` finished: a remote one frees its instance.
    pub fn finish(&mut self, i: usize) {
        if self.r.edges[i].is_some() {
            self.running -= 1;
        }
    }

    /// Whether edge `i` takes time even when its logged time is 0.
    pub fn is_remote(&self, i: usize) -> bool {
        self.r.edges[i].is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::LAMBDA;

    fn edge(uploads: &[(usize, u64)], down: u64) -> Option<RemoteEdge> {
        Some(RemoteEdge {
            uploads: uploads.to_vec(),
            down_bytes: down,
        })
    }

    #[test]
    fn transfers_round_up_to_the_millisecond() {
        assert_eq!(LAMBDA.transfer_ms(0), 0);
        assert_eq!(LAMBDA.transfer_ms(1), 1);
        assert_eq!(LAMBDA.transfer_ms(1000), 1);
        assert_eq!(LAMBDA.transfer_ms(1001), 2);
        assert_eq!(Lambda::default().transfer_ms(40_000_000), 1000);
    }

    /// Two edges reading one 5000-byte object, a local edge, a third
    /// remote edge after the first finished: upload once (the second
    /// waits for it), a cold start per instance at once, the warm one
    /// reused.
    #[test]
    fn uploads_once_cold_starts_per_instance() {
        let edges = [
            edge(&[(0, 5000)], 2000),
            edge(&[(0, 5000), (1, 1000)], 0),
            None,
            edge(&[(0, 5000)], 0),
        ];
        let straggles = [false; 4];
        let mut b = Bucket::new(Remote {
            lambda: &LAMBDA,
            edges: &edges,
            straggles: &straggles,
            objects: 2,
        });
        // Up 5 ms, cold 100, latency 10 + run 20, down 2 ms.
        assert_eq!(b.start(0, 20, 0), 5 + 100 + 10 + 20 + 2);
        // At 1 ms: uploads object 1 (1 ms, up at 2), waits for 0 (up at
        // 5), a second instance is cold: 5 − 1 + 100 + 10 + 7.
        assert_eq!(b.start(1, 7, 1), 4 + 100 + 10 + 7);
        assert_eq!(b.start(2, 50, 1), 50, "local: its logged time");
        b.finish(0);
        b.finish(2);
        // Everything up, an instance warm: latency and run only.
        assert_eq!(b.start(3, 4, 200), 10 + 4);
        assert_eq!((b.cold_starts, b.bytes_up), (2, 6000));
    }

    #[test]
    fn a_straggler_takes_k_times_its_invocation() {
        let edges = [edge(&[], 0), edge(&[], 0)];
        let straggles = [false, true];
        let mut b = Bucket::new(Remote {
            lambda: &LAMBDA,
            edges: &edges,
            straggles: &straggles,
            objects: 0,
        });
        assert_eq!(b.start(0, 20, 0), 100 + 30);
        b.finish(0);
        assert_eq!(b.start(1, 20, 130), 3 * 30);
    }

    /// Three edges at once on one shared core, 5 ms of CPU each plus the
    /// cold start's 100: each waits for the ones before it on the core.
    #[test]
    fn on_shared_cores_invocations_queue_for_cpu() {
        let lambda = Lambda {
            cores: 1,
            cpu_ms: 5,
            ..LAMBDA
        };
        let edges = [edge(&[], 0), edge(&[], 0), edge(&[], 0)];
        let straggles = [false; 3];
        let mut b = Bucket::new(Remote {
            lambda: &lambda,
            edges: &edges,
            straggles: &straggles,
            objects: 0,
        });
        let alone = 100 + 10 + 20;
        assert_eq!(b.start(0, 20, 0), alone);
        assert_eq!(b.start(1, 20, 0), 105 + alone);
        assert_eq!(b.start(2, 20, 0), 210 + alone);
        // Warm and later than the core is busy: no wait.
        b.finish(0);
        assert_eq!(b.start(0, 20, 1000), 10 + 20);
    }

    #[test]
    fn stragglers_are_a_fixed_share_of_the_remote_edges() {
        let mut edges = vec![edge(&[], 0); 200];
        edges[7] = None;
        let s = stragglers(&edges, 10.0);
        assert_eq!(s.iter().filter(|&&x| x).count(), 20, "10% of 199, rounded");
        assert!(!s[7], "a local edge never straggles");
        assert_eq!(s, stragglers(&edges, 10.0), "the same every time");
        assert!(s[..100].iter().any(|&x| x) && s[100..].iter().any(|&x| x));
        assert!(!stragglers(&edges, 0.0).contains(&true));
        assert_eq!(
            stragglers(&edges, 100.0).iter().filter(|&&x| x).count(),
            199
        );
    }
}
