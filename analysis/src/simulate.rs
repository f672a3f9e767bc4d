//! A discrete-event replay of a build on N workers: list scheduling of
//! timed edges, each started once every edge it waits for has finished,
//! the ready edge to start next chosen by a priority rule, within each
//! pool's depth. Owns the event loop and the two rules; ignores what the
//! edges are (indices in dependency order, `deps[i]` all below `i`, times
//! in ms) and everything a real build adds: command start-up, I/O
//! contention, the scheduler's own latency.
//!
//! An edge that takes no time (phony, or up to date in a replayed run)
//! finishes the moment it is ready, without a worker or a pool slot, so
//! it never delays anything. Under the remote model (`remote`) an edge's
//! time is only known when it starts (what is uploaded, whether an
//! instance is warm depend on what ran before): the schedule keeps the
//! time each edge took. The scheduler is greedy: a worker is never
//! idle while an edge it may start is ready, which is what gives Graham's
//! bound T_N ≤ W/N + T∞ when no pool holds edges back.
//!
//! On a machine with fewer cores than workers (`Model::cores`), the
//! running edges share the cores as a kernel shares them among busy
//! processes: k edges on C < k cores each progress at C/k of their speed
//! (every logged ms taken as CPU). The replay keeps a virtual clock of the
//! work each running edge has done, so their order of finishing is still
//! the order of their ends on it, and real time stretches by k/C while k
//! exceed C. With m = min(N, C) the bounds become max(W/m, T∞) ≤ T_N ≤
//! W/m + T∞: at most m ms of work are done per ms, and whenever fewer than
//! C edges run, every ready edge runs at full speed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

// Which ready edge starts first is the scheduler's own rule
// (`executor::priority`), weighed here over the replayed times: `Logged` by
// each edge's time plus the longest chain of times after it, `Chain` by 1
// per edge that takes time (ninja 1.12+), `NodeOrder` not at all.
use ggninja_executor::priority::Priority;

use crate::remote::{Bucket, Remote};

/// The edges to replay.
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    /// The edges each edge waits for, all of lower index.
    pub deps: &'a [Vec<usize>],
    pub ms: &'a [u64],
    /// Each edge's position in node order (ties of `Critical` too).
    pub order: &'a [usize],
    /// Each edge's pool, an index into `depths`.
    pub pool: &'a [usize],
    /// Each pool's depth; 0 is unlimited.
    pub depths: &'a [usize],
    /// The remote model, or None for every edge taking its time.
    pub remote: Option<Remote<'a>>,
    /// The cores the workers share; 0: each has its own. Ignored under
    /// the remote model (`Lambda::cores` is its own).
    pub cores: usize,
}

/// When each edge started and how long it took, and when the last
/// finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub start: Vec<u64>,
    /// Each edge's time: its `ms`, or what the remote model made of it.
    pub took: Vec<u64>,
    pub length: u64,
    /// Under the remote model: instances started, bytes uploaded.
    pub cold_starts: usize,
    pub bytes_up: u64,
}

/// Each edge's critical-path weight: its time plus the longest chain of
/// times through the edges that wait for it.
pub fn weights(deps: &[Vec<usize>], ms: &[u64]) -> Vec<u64> {
    let mut after = vec![0u64; ms.len()];
    let mut weight = vec![0u64; ms.len()];
    for i in (0..ms.len()).rev() {
        weight[i] = ms[i] + after[i];
        for &d in &deps[i] {
            after[d] = after[d].max(weight[i]);
        }
    }
    weight
}

/// Ready edges, the one to start next on top: the least (rule's key, node
/// order), then the edge.
type Queue = BinaryHeap<Reverse<((u64, usize), usize)>>;

/// What every replay of one model shares: who waits for each edge, and
/// each rule's keys (computed on first use). Replaying a model at many
/// worker counts builds these once, not per replay.
pub struct Replays<'a> {
    m: Model<'a>,
    /// The edges waiting for edge `i`: `waiting[first[i]..first[i + 1]]`.
    first: Vec<usize>,
    waiting: Vec<usize>,
    keys: [Option<Vec<(u64, usize)>>; Priority::ALL.len()],
}

impl<'a> Replays<'a> {
    pub fn new(m: Model<'a>) -> Replays<'a> {
        let n = m.ms.len();
        let mut first = vec![0usize; n + 1];
        for (i, ds) in m.deps.iter().enumerate() {
            for &d in ds {
                debug_assert!(d < i, "edges in dependency order");
                first[d + 1] += 1;
            }
        }
        for i in 0..n {
            first[i + 1] += first[i];
        }
        let mut fill = first.clone();
        let mut waiting = vec![0usize; first[n]];
        for (i, ds) in m.deps.iter().enumerate() {
            for &d in ds {
                waiting[fill[d]] = i;
                fill[d] += 1;
            }
        }
        Replays {
            m,
            first,
            waiting,
            keys: [None, None, None],
        }
    }

    /// Replays the model on `workers` workers (at least 1) under `rule`.
    pub fn run(&mut self, workers: usize, rule: Priority) -> Schedule {
        let m = self.m;
        let slot = rule as usize;
        let key = self.keys[slot].get_or_insert_with(|| keys(m, rule));
        let mut r = Replay {
            m,
            key,
            first: &self.first,
            waiting: &self.waiting,
            waiting_on: m.deps.iter().map(Vec::len).collect(),
            ready: BinaryHeap::new(),
            held: vec![BinaryHeap::new(); m.depths.len()],
            in_pool: vec![0; m.depths.len()],
            start: vec![0; m.ms.len()],
            took: m.ms.to_vec(),
            bucket: m.remote.map(Bucket::new),
        };
        let roots: Vec<usize> = (0..m.ms.len()).filter(|&i| r.waiting_on[i] == 0).collect();
        r.became_ready(roots, 0);
        r.run(workers.max(1))
    }
}

/// Smaller starts first: (rule's key, node order) per edge.
fn keys(m: Model, rule: Priority) -> Vec<(u64, usize)> {
    let by_weight = |w: Vec<u64>| -> Vec<(u64, usize)> {
        (w.into_iter().zip(m.order))
            .map(|(w, &o)| (u64::MAX - w, o))
            .collect()
    };
    match rule {
        Priority::Logged => by_weight(weights(m.deps, m.ms)),
        Priority::Chain => {
            let unit: Vec<u64> = m.ms.iter().map(|&t| u64::from(t > 0)).collect();
            by_weight(weights(m.deps, &unit))
        }
        Priority::NodeOrder => m.order.iter().map(|&o| (0, o)).collect(),
    }
}

/// The state of one replay.
struct Replay<'a> {
    m: Model<'a>,
    key: &'a [(u64, usize)],
    first: &'a [usize],
    waiting: &'a [usize],
    waiting_on: Vec<usize>,
    ready: Queue,
    /// Ready edges whose pool was full, per pool.
    held: Vec<Queue>,
    in_pool: Vec<usize>,
    start: Vec<u64>,
    took: Vec<u64>,
    bucket: Option<Bucket<'a>>,
}

/// µs to ms, to the nearest (exact unless cores are shared).
fn ms(us: u64) -> u64 {
    (us + 500) / 1000
}

/// Replays `m` on `workers` workers (at least 1) under `rule`.
pub fn simulate(m: Model, workers: usize, rule: Priority) -> Schedule {
    Replays::new(m).run(workers, rule)
}

impl Replay<'_> {
    /// The event loop. Times are µs: `now` of the replay, `done` of the
    /// work each running edge has done (equal unless cores are shared);
    /// `running` holds each running edge's end on the `done` clock.
    fn run(mut self, workers: usize) -> Schedule {
        let cores = match self.bucket {
            Some(_) => 0,
            None => self.m.cores as u64,
        };
        let mut running: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
        let mut began = vec![0u64; self.m.ms.len()];
        let (mut now, mut done, mut last_end) = (0u64, 0u64, 0u64);
        loop {
            while running.len() < workers {
                let Some(Reverse((_, i))) = self.ready.pop() else {
                    break;
                };
                let pool = self.m.pool[i];
                if self.m.depths[pool] != 0 && self.in_pool[pool] == self.m.depths[pool] {
                    self.held[pool].push(Reverse((self.key[i], i)));
                    continue;
                }
                self.in_pool[pool] += 1;
                (began[i], self.start[i]) = (now, ms(now));
                if let Some(b) = &mut self.bucket {
                    self.took[i] = b.start(i, self.m.ms[i], ms(now));
                }
                running.push(Reverse((done + self.took[i] * 1000, i)));
            }
            let Some(&Reverse((end, _))) = running.peek() else {
                break;
            };
            let k = running.len() as u64;
            now += match cores {
                c if c > 0 && k > c => (end - done) * k / c,
                _ => end - done,
            };
            done = end;
            while let Some(&Reverse((e, i))) = running.peek() {
                if e != done {
                    break;
                }
                running.pop();
                if cores > 0 {
                    self.took[i] = ms(now - began[i]);
                }
                last_end = last_end.max(now);
                if let Some(b) = &mut self.bucket {
                    b.finish(i);
                }
                let pool = self.m.pool[i];
                self.in_pool[pool] -= 1;
                // One slot: only the best held edge can take it, and it is
                // the best of its pool waiting (all of them ready by key
                // would be held again one by one: quadratic in a pool).
                if let Some(best) = self.held[pool].pop() {
                    self.ready.push(best);
                }
                self.finished(i, ms(now));
            }
        }
        let finish = |i: usize| self.start[i] + self.took[i];
        let length = match cores {
            0 => (0..self.m.ms.len()).map(finish).max().unwrap_or(0),
            _ => ms(last_end),
        };
        let (cold_starts, bytes_up) =
            (self.bucket.as_ref()).map_or((0, 0), |b| (b.cold_starts, b.bytes_up));
        Schedule {
            start: self.start,
            took: self.took,
            length,
            cold_starts,
            bytes_up,
        }
    }

    /// `i` finished at `now`: the edges it was the last wait of are ready.
    fn finished(&mut self, i: usize, now: u64) {
        let mut unblocked = Vec::new();
        for &d in &self.waiting[self.first[i]..self.first[i + 1]] {
            self.waiting_on[d] -= 1;
            if self.waiting_on[d] == 0 {
                unblocked.push(d);
            }
        }
        self.became_ready(unblocked, now);
    }

    /// Queues `edges`; those taking no time finish at once, and so on
    /// through what they unblock (a stack, not recursion: phony chains
    /// can be long).
    fn became_ready(&mut self, mut edges: Vec<usize>, now: u64) {
        while let Some(i) = edges.pop() {
            let remote = self.bucket.as_ref().is_some_and(|b| b.is_remote(i));
            if self.m.ms[i] > 0 || remote {
                self.ready.push(Reverse((self.key[i], i)));
                continue;
            }
            self.start[i] = now;
            for &d in &self.waiting[self.first[i]..self.first[i + 1]] {
                self.waiting_on[d] -= 1;
                if self.waiting_on[d] == 0 {
                    edges.push(d);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::Bounds;
    use crate::critical::Cpm;

    /// A model in the default (unlimited) pool, node order = index.
    fn run(deps: &[Vec<usize>], ms: &[u64], workers: usize, rule: Priority) -> Schedule {
        let order: Vec<usize> = (0..ms.len()).collect();
        let pool = vec![0; ms.len()];
        let m = Model {
            deps,
            ms,
            order: &order,
            pool: &pool,
            depths: &[0],
            remote: None,
            cores: 0,
        };
        simulate(m, workers, rule)
    }

    /// Ninja 1.12's unit weights put the longest chain in edges first,
    /// which here is not the longest in time: two x, a chain c1 → c2 → c3
    /// of 1 unit each, and a long L of 10 last in node order, at -j2.
    #[test]
    fn unit_weights_follow_edges_not_time() {
        let deps = vec![vec![], vec![], vec![], vec![2], vec![3], vec![]];
        let ms = [1, 1, 1, 1, 1, 10];
        let length = |rule| run(&deps, &ms, 2, rule).length;
        assert_eq!(length(Priority::Logged), 10);
        assert_eq!(length(Priority::NodeOrder), 11);
        assert_eq!(length(Priority::Chain), 12);
    }

    /// s(1) → {x(4), y(3)} → e(2): on 1 worker the sum, on 2 the
    /// critical path; on 2 both rules start x and y together.
    #[test]
    fn diamond() {
        let deps = [vec![], vec![0], vec![0], vec![1, 2]];
        let ms = [1, 4, 3, 2];
        for rule in Priority::ALL {
            let one = run(&deps, &ms, 1, rule);
            assert_eq!(one.length, 10);
            let two = run(&deps, &ms, 2, rule);
            assert_eq!((two.length, two.start.clone()), (7, vec![0, 1, 1, 5]));
        }
        // On one worker, critical starts x (weight 6) before y (5).
        assert_eq!(run(&deps, &ms, 1, Priority::Logged).start, [0, 1, 5, 8]);
        assert_eq!(weights(&deps, &ms), [7, 6, 5, 2]);
    }

    /// Four short edges (1 each) come first in node order, beside a chain
    /// a(3) → b(3). At -j2, ninja 1.11 runs the shorts first and the
    /// chain starts late: 1+1 on two workers, then a and b = 2 + 6 = 8.
    /// Critical starts a at once: a, b on one worker while the other takes
    /// the shorts: 6. The gain is 2 of 8.
    #[test]
    fn a_chain_beside_short_edges_is_where_critical_wins() {
        let deps = [vec![], vec![], vec![], vec![], vec![], vec![4]];
        let ms = [1, 1, 1, 1, 3, 3];
        let fifo = run(&deps, &ms, 2, Priority::NodeOrder);
        assert_eq!(
            (fifo.length, fifo.start.clone()),
            (8, vec![0, 0, 1, 1, 2, 5])
        );
        let critical = run(&deps, &ms, 2, Priority::Logged);
        assert_eq!(
            (critical.length, critical.start.clone()),
            (6, vec![0, 1, 2, 3, 0, 3])
        );
    }

    /// The console pool (depth 1) serialises its edges however many
    /// workers there are; phony (zero-time) edges need no worker.
    #[test]
    fn pools_hold_edges_back_and_zero_time_edges_are_free() {
        let deps = [vec![], vec![], vec![], vec![0, 1, 2], vec![3]];
        let ms = [2, 2, 2, 0, 1];
        let order = [0, 1, 2, 3, 4];
        let pool = [1, 1, 0, 0, 0];
        let m = Model {
            deps: &deps,
            ms: &ms,
            order: &order,
            pool: &pool,
            depths: &[0, 1],
            remote: None,
            cores: 0,
        };
        let s = simulate(m, 8, Priority::NodeOrder);
        assert_eq!((s.length, s.start), (5, vec![0, 2, 0, 4, 4]));
        // Only edge 4 ran at -j1 while the phony 3 needed no worker.
        let m = Model {
            depths: &[0, 0],
            ..m
        };
        assert_eq!(simulate(m, 1, Priority::NodeOrder).length, 7);
        assert_eq!(simulate(m, 3, Priority::NodeOrder).length, 3);
    }

    /// A seeded xorshift: random DAGs without a crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A random DAG: each edge waits for up to 3 earlier ones; some take
    /// no time; node order shuffled.
    fn random_dag(rng: &mut Rng) -> (Vec<Vec<usize>>, Vec<u64>, Vec<usize>) {
        let n = 1 + rng.below(60) as usize;
        let mut deps = Vec::new();
        let mut ms = Vec::new();
        for i in 0..n {
            let mut ds: Vec<usize> = (0..rng.below(4))
                .filter(|_| i > 0)
                .map(|_| rng.below(i as u64) as usize)
                .collect();
            ds.sort_unstable();
            ds.dedup();
            deps.push(ds);
            ms.push(if rng.below(5) == 0 { 0 } else { rng.below(100) });
        }
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        (deps, ms, order)
    }

    /// A random DAG's model in one unlimited pool, on `cores` shared cores.
    fn random_model<'a>(
        deps: &'a [Vec<usize>],
        ms: &'a [u64],
        order: &'a [usize],
        pool: &'a [usize],
        cores: usize,
    ) -> Model<'a> {
        Model {
            deps,
            ms,
            order,
            pool,
            depths: &[0],
            remote: None,
            cores,
        }
    }

    /// Every replay waits for its inputs, runs at most N at once, and
    /// lies within max(W/N, T∞) ≤ T_N ≤ W/N + T∞; N = 1 takes W and
    /// unlimited workers T∞.
    #[test]
    fn random_dags_respect_the_bounds() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..500 {
            let (deps, ms, order) = random_dag(&mut rng);
            let pool = vec![0; ms.len()];
            let m = random_model(&deps, &ms, &order, &pool, 0);
            let w: u64 = ms.iter().sum();
            let t_inf = Cpm::of(&deps, &ms).length;
            for rule in Priority::ALL {
                for workers in [1, 2, 3, 4, 7, 16, usize::MAX] {
                    let s = simulate(m, workers, rule);
                    check_feasible(&deps, &ms, &s, workers);
                    let n = workers as f64;
                    let t = s.length as f64;
                    assert!(t >= t_inf as f64 && t >= w as f64 / n - 1e-9, "{rule:?}");
                    assert!(t <= w as f64 / n + t_inf as f64 + 1e-9, "{rule:?}");
                }
                assert_eq!(simulate(m, 1, rule).length, w);
                assert_eq!(simulate(m, usize::MAX, rule).length, t_inf);
            }
        }
    }

    /// With pools, no pool runs more than its depth and every replay lies
    /// within the bounds that count the pools (`bounds`).
    #[test]
    fn random_dags_in_pools_keep_their_depths() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let depths = [0, 1, 2];
        for _ in 0..300 {
            let (deps, ms, order) = random_dag(&mut rng);
            let pool: Vec<usize> = ms.iter().map(|_| rng.below(3) as usize).collect();
            let m = Model {
                deps: &deps,
                ms: &ms,
                order: &order,
                pool: &pool,
                depths: &depths,
                remote: None,
                cores: 0,
            };
            let w: u64 = ms.iter().sum();
            let t_inf = Cpm::of(&deps, &ms).length;
            for rule in Priority::ALL {
                for workers in [1, 2, 5, usize::MAX] {
                    let s = simulate(m, workers, rule);
                    check_feasible(&deps, &ms, &s, workers);
                    let t = s.length as f64;
                    assert!(t >= t_inf as f64 && t >= w as f64 / workers as f64 - 1e-9);
                    let bounds = Bounds::of(&m, &ms, t_inf);
                    assert!(t >= bounds.lower(workers) - 1e-9, "{rule:?} at {workers}");
                    assert!(t <= bounds.upper(workers) + 1e-9, "{rule:?} at {workers}");
                    for (p, &depth) in depths.iter().enumerate().skip(1) {
                        let spans = (0..ms.len())
                            .filter(|&i| pool[i] == p)
                            .map(|i| (s.start[i], s.start[i] + ms[i]));
                        let most = crate::profile::widest(&crate::profile::profile(spans));
                        assert!(most.is_none_or(|step| step.running <= depth), "pool {p}");
                    }
                }
                assert_eq!(simulate(m, 1, rule).length, w);
            }
        }
    }

    /// Under the remote model, with W and T∞ over the times each edge
    /// took in that replay: max(W/N, T∞) ≤ T_N ≤ W/N + T∞, one worker
    /// takes W, unlimited ones T∞, and no edge is faster than its logged
    /// time plus (if remote) the latency.
    #[test]
    fn random_dags_under_the_remote_model_respect_the_bounds() {
        use crate::remote::{stragglers, Lambda, RemoteEdge};
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for round in 0..500 {
            let (deps, ms, order) = random_dag(&mut rng);
            let objects = 1 + rng.below(8) as usize;
            let edges: Vec<Option<RemoteEdge>> = (0..ms.len())
                .map(|_| {
                    (rng.below(4) != 0).then(|| RemoteEdge {
                        uploads: (0..rng.below(4))
                            .map(|_| (rng.below(objects as u64) as usize, rng.below(20_000)))
                            .collect(),
                        down_bytes: rng.below(10_000),
                    })
                })
                .collect();
            let lambda = Lambda {
                latency_ms: rng.below(50),
                startup_ms: rng.below(300),
                bandwidth_mb_s: 0.5 + rng.below(100) as f64,
                stragglers_percent: rng.below(30) as f64,
                straggler_factor: 1 + rng.below(5),
                cores: rng.below(4) as usize,
                cpu_ms: rng.below(40),
            };
            let straggles = stragglers(&edges, lambda.stragglers_percent);
            let pool = vec![0; ms.len()];
            let m = Model {
                deps: &deps,
                ms: &ms,
                order: &order,
                pool: &pool,
                depths: &[0],
                remote: Some(Remote {
                    lambda: &lambda,
                    edges: &edges,
                    straggles: &straggles,
                    objects,
                }),
                cores: 0,
            };
            for rule in Priority::ALL {
                for workers in [1, 2, 3, 5, 16, usize::MAX] {
                    let s = simulate(m, workers, rule);
                    check_feasible(&deps, &s.took, &s, workers);
                    for i in 0..ms.len() {
                        let least = ms[i] + edges[i].as_ref().map_or(0, |_| lambda.latency_ms);
                        assert!(s.took[i] >= least, "round {round}: edge {i}");
                    }
                    let w: u64 = s.took.iter().sum();
                    let t_inf = crate::critical::longest(&deps, &s.took);
                    let (n, t) = (workers as f64, s.length as f64);
                    assert!(t >= t_inf as f64 && t >= w as f64 / n - 1e-9, "{rule:?}");
                    assert!(t <= w as f64 / n + t_inf as f64 + 1e-9, "{rule:?}");
                    match workers {
                        1 => assert_eq!(s.length, w),
                        usize::MAX => assert_eq!(s.length, t_inf),
                        _ => {}
                    }
                }
            }
        }
    }

    /// Four edges of 10 ms, all ready at once: on 2 shared cores, four
    /// workers run them together at half speed, two workers two at a time
    /// at full speed; both take 20 ms, as 2 cores allow. A chain after
    /// them runs alone, at full speed.
    #[test]
    fn shared_cores_slow_the_edges_beyond_them() {
        let deps = vec![vec![], vec![], vec![], vec![], vec![0, 1, 2, 3]];
        let ms = [10, 10, 10, 10, 5];
        let pool = vec![0; ms.len()];
        let on = |cores: usize| Model {
            deps: &deps,
            ms: &ms,
            order: &[0, 1, 2, 3, 4],
            pool: &pool,
            depths: &[0],
            remote: None,
            cores,
        };
        let run = |cores, workers| simulate(on(cores), workers, Priority::Chain);
        let s = run(2, 4);
        assert_eq!((s.length, &s.took[..]), (25, &[20, 20, 20, 20, 5][..]));
        assert_eq!(run(2, 2).length, 25);
        assert_eq!(run(4, 4).length, 15);
        assert_eq!(run(0, 4), run(8, 4));
    }

    /// On shared cores every replay still waits for its inputs, runs at
    /// most N at once, and lies within the bounds of m = min(N, cores)
    /// workers (to the ms the stretched times are rounded to).
    #[test]
    fn random_dags_on_shared_cores_respect_the_bounds() {
        let mut rng = Rng(0x51_7cc1_b727_220a);
        for _ in 0..300 {
            let (deps, ms, order) = random_dag(&mut rng);
            let pool = vec![0; ms.len()];
            let cores = 1 + rng.below(4) as usize;
            let m = random_model(&deps, &ms, &order, &pool, cores);
            let w: u64 = ms.iter().sum();
            let t_inf = Cpm::of(&deps, &ms).length as f64;
            let slack = ms.len() as f64;
            for workers in [1, 2, 3, 5, 16] {
                let s = simulate(m, workers, Priority::Chain);
                for (i, ds) in deps.iter().enumerate() {
                    for &d in ds {
                        assert!(s.start[d] + s.took[d] <= s.start[i] + 1, "{i} before {d}");
                    }
                    assert!(s.took[i] + 1 >= ms[i], "{i} faster than alone");
                }
                let n = workers.min(cores) as f64;
                let t = s.length as f64;
                assert!(t + slack >= t_inf.max(w as f64 / n), "{t} {w} {n} {t_inf}");
                assert!(t <= w as f64 / n + t_inf + slack, "{t} {w} {n} {t_inf}");
            }
        }
    }

    fn check_feasible(deps: &[Vec<usize>], ms: &[u64], s: &Schedule, workers: usize) {
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                assert!(s.start[d] + ms[d] <= s.start[i], "{i} before {d} ends");
            }
        }
        let spans = (0..ms.len()).map(|i| (s.start[i], s.start[i] + ms[i]));
        let most = crate::profile::widest(&crate::profile::profile(spans));
        assert!(most.is_none_or(|step| step.running <= workers));
    }
}
