//! One replay as a row of `-t simulate`'s tables: its time, how busy its
//! workers were, its speed-up over one worker, and the bounds it lies
//! within. Shared by the plain replays (`speedup`) and the predicted ones
//! (`forecast`); ignores how the replay was made.

use ggninja_executor::priority::Priority;
use serde::Serialize;

use crate::bounds::Bounds;

#[derive(Debug, Serialize)]
pub struct Run {
    pub jobs: usize,
    pub rule: &'static str,
    pub seconds: f64,
    /// Work over (jobs × seconds): how busy the workers were.
    pub utilisation: f64,
    /// Over one worker (which takes the total work under either rule).
    pub speedup: f64,
    pub lower_bound: f64,
    pub upper_bound: f64,
}

impl Run {
    /// A replay of `length` ms on `jobs` workers under `rule`, `bounds`
    /// those of the times its edges took.
    pub fn of(jobs: usize, rule: Priority, length: u64, bounds: &Bounds) -> Run {
        let (w, t, n) = (bounds.work as f64, length as f64, jobs as f64);
        Run {
            jobs,
            rule: rule.name(),
            seconds: seconds(length),
            utilisation: if length == 0 { 0.0 } else { w / (n * t) },
            speedup: if length == 0 { 1.0 } else { w / t },
            lower_bound: bounds.lower(jobs) / 1000.0,
            upper_bound: bounds.upper(jobs) / 1000.0,
        }
    }
}

/// Milliseconds as the tables' seconds.
pub fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}
