//! `-d stats`: counts and times of the operations a build spends time in,
//! printed at exit in ninja's table format, tallies of what those
//! operations moved (a memo hit's bytes), and the CPU the process has used
//! (its threads, not the commands it ran): what a benchmark of the tool's
//! own cost reads, exact where a profiler's sampling is not.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// (name, count, total microseconds), in first-use order.
static METRICS: Mutex<Vec<(&'static str, u64, u128)>> = Mutex::new(Vec::new());
/// (name, count, total amount, the amount's unit), in first-use order.
static TALLIES: Mutex<Vec<(&'static str, u64, u64, &'static str)>> = Mutex::new(Vec::new());

pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Records the time until the guard drops, when stats are enabled.
pub struct Timer {
    name: &'static str,
    start: Instant,
}

pub fn time(name: &'static str) -> Option<Timer> {
    ENABLED.load(Ordering::Relaxed).then(|| Timer {
        name,
        start: Instant::now(),
    })
}

impl Drop for Timer {
    fn drop(&mut self) {
        let us = self.start.elapsed().as_micros();
        let Ok(mut m) = METRICS.lock() else { return };
        match m.iter_mut().find(|e| e.0 == self.name) {
            Some(e) => {
                e.1 += 1;
                e.2 += us;
            }
            None => m.push((self.name, 1, us)),
        }
    }
}

/// Counts one `name` that moved `amount` `unit`s, when stats are enabled:
/// a figure that time alone does not give (how many bytes the hits wrote,
/// to set their CPU against what writing those bytes costs at least).
pub fn tally(name: &'static str, amount: u64, unit: &'static str) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let Ok(mut t) = TALLIES.lock() else { return };
    match t.iter_mut().find(|e| e.0 == name) {
        Some(e) => {
            e.1 += 1;
            e.2 += amount;
        }
        None => t.push((name, 1, amount, unit)),
    }
}

/// The table, or None when stats are off.
pub fn report() -> Option<String> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    let m = METRICS.lock().ok()?;
    let width = m.iter().map(|e| e.0.len()).max().unwrap_or(0).max(6);
    let mut out = format!(
        "{:<width$}\t{:<6}\t{:<9}\t{}\n",
        "metric", "count", "avg (us)", "total (ms)"
    );
    for &(name, count, sum) in m.iter() {
        let avg = sum as f64 / count as f64;
        let total = sum as f64 / 1000.0;
        out.push_str(&format!(
            "{name:<width$}\t{count:<6}\t{avg:<8.1}\t{total:.1}\n"
        ));
    }
    drop(m);
    for &(name, count, amount, unit) in TALLIES.lock().ok()?.iter() {
        out.push_str(&format!("{name}: {count} ({amount} {unit})\n"));
    }
    if let Some([user, system]) = own_cpu_ms() {
        out.push_str(&format!(
            "own CPU (all threads, not the commands): user {user:.3} ms, system {system:.3} ms\n"
        ));
    }
    Some(out)
}

/// User and system CPU of this process so far, in milliseconds.
fn own_cpu_ms() -> Option<[f64; 2]> {
    // SAFETY: getrusage fills the struct it is given and reads nothing else.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        (libc::getrusage(libc::RUSAGE_SELF, &mut usage) == 0).then_some(usage)
    }?;
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    Some([ms(usage.ru_utime), ms(usage.ru_stime)])
}

#[cfg(test)]
mod tests {
    use super::own_cpu_ms;
    use std::time::{Duration, Instant};

    #[test]
    fn own_cpu_counts_what_this_process_spent() {
        let sum = || own_cpu_ms().map(|[u, s]| u + s).unwrap();
        let before = sum();
        let start = Instant::now();
        let mut x = 0u64;
        // Busy until 20 ms of CPU show, or 5 s have gone by (a machine
        // starving this thread that long, or a count that never grows).
        while sum() - before < 20.0 && start.elapsed() < Duration::from_secs(5) {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
        }
        let (spent, wall) = (sum() - before, start.elapsed().as_secs_f64() * 1e3);
        assert!(spent >= 20.0, "{spent} ms in {wall} ms");
        // Other tests may run beside it, but no process spends more CPU
        // than its time on every core (a tick of accounting aside).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(
            spent <= wall * cores as f64 + 10.0,
            "{spent} ms in {wall} ms"
        );
    }
}
