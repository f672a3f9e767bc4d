//! How far along a build is in time, as ninja 1.13 predicts it for
//! `NINJA_STATUS`'s `%P`, `%E` and `%W`: the time each planned edge took
//! last time (from `.ninja_log`), the time the finished ones took now, and
//! an average for the rest. Ignores parallelism: it predicts the fraction
//! of work done, and the wall time follows from the fraction.

/// The counts and times the prediction is made from.
#[derive(Debug, Default)]
pub struct Eta {
    /// Time the finished edges took, in ms.
    cpu_ms: i64,
    /// Planned edges the log knows the time of, and that time.
    known_total: i64,
    known_total_ms: i64,
    /// Of those, the ones not finished yet.
    known_left: i64,
    known_left_ms: i64,
    /// Unfinished edges the log does not know.
    unknown_left: i64,
    /// The fraction of the work done, 0 when it cannot be told.
    fraction: f64,
}

impl Eta {
    /// A command edge joined the plan; `prev_ms` is its time last build.
    pub fn added(&mut self, prev_ms: Option<i64>) {
        self.count(prev_ms, 1);
    }

    /// A command edge left the plan (a restat found it clean).
    pub fn removed(&mut self, prev_ms: Option<i64>) {
        self.count(prev_ms, -1);
    }

    fn count(&mut self, prev_ms: Option<i64>, n: i64) {
        match prev_ms {
            Some(ms) => {
                self.known_total += n;
                self.known_total_ms += n * ms;
                self.known_left += n;
                self.known_left_ms += n * ms;
            }
            None => self.unknown_left += n,
        }
    }

    /// An edge finished after `elapsed_ms`.
    pub fn finished(&mut self, elapsed_ms: i64, prev_ms: Option<i64>) {
        self.cpu_ms += elapsed_ms;
        match prev_ms {
            Some(ms) => {
                self.known_left -= 1;
                self.known_left_ms -= ms;
            }
            None => self.unknown_left -= 1,
        }
    }

    /// The fraction of the work done, as of the last `recalculate`.
    pub fn fraction(&self) -> f64 {
        self.fraction
    }

    /// Predicts the fraction done with `finished` of `total` edges done
    /// `now_ms` into the build.
    pub fn recalculate(&mut self, total: i64, finished: i64, now_ms: i64) {
        self.fraction = 0.0;
        let mut use_log = self.known_left > 0 && self.known_left_ms != 0;
        // Once this build has run long enough to judge (15 s and 5% of the
        // edges), last build's times are trusted only if this build's edges
        // take about as long on average (within 10x either way).
        if use_log
            && total > 0
            && finished > 0
            && now_ms >= 15_000
            && finished as f64 / total as f64 >= 0.05
        {
            let now_avg = self.cpu_ms as f64 / finished as f64;
            let log_avg = self.known_total_ms as f64 / self.known_total as f64;
            use_log = now_avg.max(log_avg) / now_avg.min(log_avg) < 10.0;
        }
        let (known, known_ms, unknown) = if use_log {
            (
                finished + self.known_left,
                self.cpu_ms + self.known_left_ms,
                self.unknown_left,
            )
        } else {
            (finished, self.cpu_ms, total - finished)
        };
        if known == 0 {
            return;
        }
        let average = known_ms as f64 / known as f64;
        let mut left = average * unknown as f64;
        if use_log {
            left += self.known_left_ms as f64;
        }
        let whole = self.cpu_ms as f64 + left;
        if whole == 0.0 {
            return;
        }
        self.fraction = self.cpu_ms as f64 / whole;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_log_the_finished_edges_set_the_average() {
        let mut eta = Eta::default();
        for _ in 0..4 {
            eta.added(None);
        }
        eta.recalculate(4, 0, 0);
        assert_eq!(eta.fraction(), 0.0);
        eta.finished(100, None);
        eta.recalculate(4, 1, 100);
        assert_eq!(eta.fraction(), 0.25);
    }

    #[test]
    fn the_log_predicts_what_is_left() {
        let mut eta = Eta::default();
        eta.added(Some(300));
        eta.added(Some(100));
        eta.finished(100, Some(100));
        eta.recalculate(2, 1, 100);
        assert_eq!(eta.fraction(), 0.25);
        // A removed edge no longer counts.
        eta.removed(Some(300));
        eta.recalculate(1, 1, 100);
        assert_eq!(eta.fraction(), 1.0);
    }

    #[test]
    fn a_log_ten_times_off_is_ignored_after_fifteen_seconds() {
        let mut eta = Eta::default();
        for _ in 0..10 {
            eta.added(Some(10));
        }
        eta.finished(20_000, Some(10));
        eta.recalculate(10, 1, 20_000);
        // Nine more edges of 20 s each: a tenth of the work is done.
        assert!((eta.fraction() - 0.1).abs() < 1e-9, "{}", eta.fraction());
    }
}
