//! Worker lanes for a trace: each interval on a lane, no two on one lane
//! overlapping, as few lanes as the widest moment needs. Owns the greedy
//! assignment (by start, to the lowest-numbered free lane); ignores which
//! worker really ran what (the log does not say).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The lane (0, 1, ...) of each (start, end) interval. An interval may
/// start on a lane the moment the one before it ends.
pub fn lanes(intervals: &[(u64, u64)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..intervals.len()).collect();
    order.sort_by_key(|&i| intervals[i]);
    let mut lane = vec![0; intervals.len()];
    let mut busy: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let mut free: BinaryHeap<Reverse<usize>> = BinaryHeap::new();
    let mut opened = 0;
    for i in order {
        let (start, end) = intervals[i];
        while let Some(&Reverse((until, l))) = busy.peek() {
            if until > start {
                break;
            }
            busy.pop();
            free.push(Reverse(l));
        }
        let l = free.pop().map(|Reverse(l)| l).unwrap_or_else(|| {
            opened += 1;
            opened - 1
        });
        lane[i] = l;
        busy.push(Reverse((end, l)));
    }
    lane
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_edges_get_lanes_of_their_own_and_free_lanes_are_reused() {
        let spans = [(0, 10), (0, 4), (4, 8), (5, 20), (10, 12), (8, 9)];
        let got = lanes(&spans);
        assert_eq!(got, [1, 0, 0, 2, 0, 0]);
        for a in 0..spans.len() {
            for b in a + 1..spans.len() {
                let overlap = spans[a].0 < spans[b].1 && spans[b].0 < spans[a].1;
                assert!(!(overlap && got[a] == got[b]), "{a} and {b}");
            }
        }
    }
}
