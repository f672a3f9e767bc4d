//! The bounds every replay lies within, pools included. With W the total
//! work, T∞ the critical path and, for each pool p with a depth d_p, W_p
//! the work of its edges:
//!
//! - no schedule on N workers beats max(W/N, T∞, W_p/d_p for every p);
//! - a greedy one (the replay, as the scheduler) never exceeds
//!   W/N + T∞ + Σ W_p/d_p over the pools shallower than N. At any moment
//!   either every worker is busy (at most W/N in all), or some pool runs
//!   its depth (at most W_p/d_p for each), or every ready edge runs, and
//!   then so does an edge of the chain that finishes last (at most T∞).
//!   A pool as deep as N or deeper is full only when every worker is.
//!
//! Without pools these are Graham's bounds. Ignores how a replay chose.

use crate::simulate::Model;

/// W, T∞ and each limited pool's W_p and d_p, in ms, for one set of edge
/// times.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    pub work: u64,
    pub t_inf: u64,
    /// (W_p, d_p) for every pool with a depth that holds work.
    pools: Vec<(u64, usize)>,
}

impl Bounds {
    /// The bounds of `m`'s edges taking `took` (their `ms`, or what the
    /// remote model made of them), whose critical path is `t_inf`.
    pub fn of(m: &Model, took: &[u64], t_inf: u64) -> Bounds {
        let mut per_pool = vec![0u64; m.depths.len()];
        for (i, &ms) in took.iter().enumerate() {
            per_pool[m.pool[i]] += ms;
        }
        let pools = (per_pool.into_iter().zip(m.depths.iter().copied()))
            .filter(|&(w, depth)| depth != 0 && w != 0)
            .collect();
        Bounds {
            work: took.iter().sum(),
            t_inf,
            pools,
        }
    }

    /// No schedule on `n` workers is shorter, in ms.
    pub fn lower(&self, n: usize) -> f64 {
        let busiest_pool = (self.pools.iter()).map(|&(w, d)| w as f64 / d as f64);
        busiest_pool.fold(self.per_worker(n).max(self.t_inf as f64), f64::max)
    }

    /// No greedy schedule on `n` workers is longer, in ms.
    pub fn upper(&self, n: usize) -> f64 {
        let held = (self.pools.iter())
            .filter(|&&(_, d)| d < n)
            .map(|&(w, d)| w as f64 / d as f64);
        self.per_worker(n) + self.t_inf as f64 + held.sum::<f64>()
    }

    fn per_worker(&self, n: usize) -> f64 {
        self.work as f64 / n.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::simulate;
    use ggninja_executor::priority::Priority;

    fn model<'a>(pool: &'a [usize], depths: &'a [usize]) -> Model<'a> {
        Model {
            deps: &[],
            ms: &[],
            order: &[],
            pool,
            depths,
            remote: None,
            cores: 0,
        }
    }

    #[test]
    fn without_pools_they_are_grahams() {
        let b = Bounds::of(&model(&[0, 0, 0], &[0]), &[3, 4, 5], 6);
        assert_eq!((b.lower(2), b.upper(2)), (6.0, 12.0));
        assert_eq!((b.lower(1), b.upper(1)), (12.0, 18.0));
    }

    /// Four edges of 2 in the console pool (depth 1) beside one of 1
    /// take 8 on four workers, past Graham's W/N + T∞ = 4.25: the pool's
    /// 8 is a lower bound, and is added above while the pool is shallower
    /// than N.
    #[test]
    fn a_pool_bounds_below_and_widens_above() {
        let (pool, depths, ms) = ([1, 1, 1, 1, 0], [0, 1], [2, 2, 2, 2, 1]);
        let deps = vec![vec![]; 5];
        let m = Model {
            deps: &deps,
            ms: &ms,
            order: &[0, 1, 2, 3, 4],
            ..model(&pool, &depths)
        };
        let length = simulate(m, 4, Priority::default()).length;
        let b = Bounds::of(&m, &ms, 2);
        assert_eq!(length, 8);
        assert_eq!(b.lower(4), 8.0);
        assert_eq!(b.upper(4), 9.0 / 4.0 + 2.0 + 8.0);
        assert_eq!(b.upper(1), 9.0 + 2.0);
    }
}
