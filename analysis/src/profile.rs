//! How many edges run at once over a schedule: a step function of time,
//! and its widest point. Owns the sweep; ignores where the times come from
//! (the model's earliest starts, or a logged build). An edge is running
//! from its start up to, not including, its end, so back-to-back edges
//! never overlap and zero-time edges never count.

use serde::Serialize;

/// From `at_ms` on (until the next step), `running` edges run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Step {
    pub at_ms: u64,
    pub running: usize,
}

/// The steps of the running count for these (start, end) intervals,
/// one per moment it changes, starting from none.
pub fn profile(intervals: impl IntoIterator<Item = (u64, u64)>) -> Vec<Step> {
    let mut changes: Vec<(u64, i64)> = Vec::new();
    for (start, end) in intervals.into_iter().filter(|(s, e)| e > s) {
        changes.push((start, 1));
        changes.push((end, -1));
    }
    changes.sort_unstable();
    let mut steps: Vec<Step> = Vec::new();
    let mut running = 0i64;
    for (k, &(at, delta)) in changes.iter().enumerate() {
        running += delta;
        let last_at_this_time = changes.get(k + 1).is_none_or(|&(next, _)| next != at);
        if last_at_this_time {
            let running = usize::try_from(running).expect("ends follow starts");
            if steps.last().is_none_or(|s| s.running != running) {
                steps.push(Step { at_ms: at, running });
            }
        }
    }
    steps
}

/// The first moment the most edges run (None: nothing ever runs).
pub fn widest(steps: &[Step]) -> Option<Step> {
    let most = steps.iter().map(|s| s.running).max()?;
    steps.iter().find(|s| s.running == most).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(steps: &[Step]) -> Vec<(u64, usize)> {
        steps.iter().map(|s| (s.at_ms, s.running)).collect()
    }

    #[test]
    fn counts_overlaps_and_not_back_to_back_edges() {
        let steps = profile([(0, 10), (10, 20), (5, 15), (5, 5), (30, 40)]);
        assert_eq!(
            pairs(&steps),
            [(0, 1), (5, 2), (15, 1), (20, 0), (30, 1), (40, 0)]
        );
        assert_eq!(
            widest(&steps),
            Some(Step {
                at_ms: 5,
                running: 2
            })
        );
    }

    #[test]
    fn nothing_runs() {
        assert!(profile([(3, 3)]).is_empty());
        assert_eq!(widest(&[]), None);
    }
}
