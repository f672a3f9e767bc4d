//! `-d stats`: counts and times of the operations a build spends time in,
//! printed at exit in ninja's table format.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// (name, count, total microseconds), in first-use order.
static METRICS: Mutex<Vec<(&'static str, u64, u128)>> = Mutex::new(Vec::new());

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
    Some(out)
}
