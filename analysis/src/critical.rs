//! The critical path method on a DAG of timed edges, on unlimited
//! workers: earliest and latest starts, each edge's float, one critical
//! path, and each edge's drag. Owns the arithmetic only: edges are
//! indices in dependency order (`deps[i]` all below `i`), times in ms.
//!
//! Float: how much later an edge could finish without delaying the build
//! (latest start − earliest start). Drag: how much the build would shrink
//! if the edge took no time. Only an edge on every longest path has drag,
//! so only the edges of the one path found are candidates; each is
//! measured exactly by setting its time to 0 and finding the longest path
//! again (O(path × graph); the standard formula, min(duration, least float
//! of the edges parallel to it), asks "parallel" of a general DAG, which
//! this sidesteps).

/// The schedule of a DAG with every edge started as early as it can be.
#[derive(Debug)]
pub struct Cpm {
    pub earliest_start: Vec<u64>,
    pub latest_start: Vec<u64>,
    /// The longest path: the build's length with unlimited workers.
    pub length: u64,
    /// One longest path, first edge to last (zero-time edges included).
    pub path: Vec<usize>,
    pub drag: Vec<u64>,
}

impl Cpm {
    pub fn of(deps: &[Vec<usize>], ms: &[u64]) -> Cpm {
        let earliest_start = earliest_starts(deps, ms);
        let finish = |i: usize| earliest_start[i] + ms[i];
        let length = (0..ms.len()).map(finish).max().unwrap_or(0);
        let latest_start = latest_starts(deps, ms, length);
        let path = longest_path(deps, ms, &earliest_start, length);
        let drag = drags(deps, ms, &path, length);
        Cpm {
            earliest_start,
            latest_start,
            length,
            path,
            drag,
        }
    }

    pub fn float(&self, i: usize) -> u64 {
        self.latest_start[i] - self.earliest_start[i]
    }
}

fn earliest_starts(deps: &[Vec<usize>], ms: &[u64]) -> Vec<u64> {
    let mut start = vec![0u64; ms.len()];
    for (i, ds) in deps.iter().enumerate() {
        debug_assert!(ds.iter().all(|&d| d < i), "edges in dependency order");
        start[i] = ds.iter().map(|&d| start[d] + ms[d]).max().unwrap_or(0);
    }
    start
}

/// Latest starts: each edge finishes before the first of the edges that
/// read it must start, the last ones by `length`.
fn latest_starts(deps: &[Vec<usize>], ms: &[u64], length: u64) -> Vec<u64> {
    let mut latest_finish = vec![length; ms.len()];
    let mut latest_start = vec![0u64; ms.len()];
    for i in (0..ms.len()).rev() {
        latest_start[i] = latest_finish[i] - ms[i];
        for &d in &deps[i] {
            latest_finish[d] = latest_finish[d].min(latest_start[i]);
        }
    }
    latest_start
}

/// The edge finishing last, then back through the input each edge waited
/// for longest (the lowest index among ties, for a stable answer). None
/// when nothing takes time: no edge is more critical than another.
fn longest_path(deps: &[Vec<usize>], ms: &[u64], start: &[u64], length: u64) -> Vec<usize> {
    let finish = |i: usize| start[i] + ms[i];
    let Some(mut at) = (0..ms.len()).find(|&i| length > 0 && finish(i) == length) else {
        return Vec::new();
    };
    let mut path = vec![at];
    while let Some(&d) = deps[at].iter().find(|&&d| finish(d) == start[at]) {
        path.push(d);
        at = d;
    }
    path.reverse();
    path
}

fn drags(deps: &[Vec<usize>], ms: &[u64], path: &[usize], length: u64) -> Vec<u64> {
    let mut drag = vec![0u64; ms.len()];
    let mut trial = ms.to_vec();
    for &i in path.iter().filter(|&&i| ms[i] > 0) {
        trial[i] = 0;
        drag[i] = length - longest(deps, &trial);
        trial[i] = ms[i];
    }
    drag
}

/// The longest path alone (no float, no drag): the build's length on
/// unlimited workers.
pub fn longest(deps: &[Vec<usize>], ms: &[u64]) -> u64 {
    let start = earliest_starts(deps, ms);
    (0..ms.len()).map(|i| start[i] + ms[i]).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A diamond s → {x, y} → e: x is critical, y has 1 of float, so
    /// x's drag is 1 although it takes 4.
    #[test]
    fn diamond() {
        let deps = [vec![], vec![0], vec![0], vec![1, 2]];
        let cpm = Cpm::of(&deps, &[1, 4, 3, 2]);
        assert_eq!(cpm.length, 7);
        assert_eq!(cpm.path, [0, 1, 3]);
        assert_eq!(cpm.earliest_start, [0, 1, 1, 5]);
        assert_eq!(
            (0..4).map(|i| cpm.float(i)).collect::<Vec<_>>(),
            [0, 0, 1, 0]
        );
        assert_eq!(cpm.drag, [1, 1, 0, 2]);
    }

    /// A chain a → b beside a lone c: with c short, a and b drag their
    /// whole time until c becomes the longest path.
    #[test]
    fn chain_beside_a_lone_edge() {
        let deps = [vec![], vec![0], vec![]];
        let cpm = Cpm::of(&deps, &[3, 5, 2]);
        assert_eq!((cpm.length, cpm.path.clone()), (8, vec![0, 1]));
        assert_eq!(cpm.float(2), 6);
        assert_eq!(cpm.drag, [3, 5, 0]);
        let cpm = Cpm::of(&deps, &[3, 5, 7]);
        assert_eq!(cpm.drag, [1, 1, 0], "c at 7 caps both at 8 - 7");
    }

    /// The textbook drag example (Devaux): A(10) → B(20), C(5), D(10),
    /// E(20) in parallel from A's end → F(10) waits for all. B and E tie
    /// at 20: two critical paths, so neither has drag, while A and F
    /// drag their whole time.
    #[test]
    fn two_critical_paths_share_nothing_of_their_middle() {
        let deps = [vec![], vec![0], vec![0], vec![0], vec![0], vec![1, 2, 3, 4]];
        let cpm = Cpm::of(&deps, &[10, 20, 5, 10, 20, 10]);
        assert_eq!(cpm.length, 40);
        assert_eq!(cpm.drag, [10, 0, 0, 0, 0, 10]);
        let cpm = Cpm::of(&deps, &[10, 20, 5, 10, 15, 10]);
        assert_eq!(cpm.drag[1], 5, "B: the least float beside it, E's 5");
    }

    /// Removing a middle edge can let a path that bypasses it take over
    /// only part of the way: y skips b, so b drags only what y leaves.
    #[test]
    fn a_bypass_limits_drag() {
        // a(2) → b(6) → c(2); a → y(5) → c; z(1) alone.
        let deps = [vec![], vec![0], vec![0], vec![1, 2], vec![]];
        let cpm = Cpm::of(&deps, &[2, 6, 5, 2, 1]);
        assert_eq!((cpm.length, cpm.path.clone()), (10, vec![0, 1, 3]));
        assert_eq!(cpm.drag, [2, 1, 0, 2, 0]);
        assert_eq!(cpm.float(2), 1);
        assert_eq!(cpm.float(4), 9);
    }

    #[test]
    fn zero_time_edges_and_nothing_at_all() {
        let cpm = Cpm::of(&[], &[]);
        assert_eq!((cpm.length, cpm.path.len()), (0, 0));
        let cpm = Cpm::of(&[vec![], vec![0]], &[0, 0]);
        assert_eq!((cpm.length, cpm.drag.clone()), (0, vec![0, 0]));
        assert!(cpm.path.is_empty());
    }
}
