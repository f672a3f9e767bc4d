//! GNU make's jobserver: a pool of job slots shared by make, ninja and the
//! tools they run, one byte in a pipe or named fifo per slot, plus the one
//! slot every member holds implicitly. `makeflags` reads which pool
//! `MAKEFLAGS` names as ninja 1.13 does; `client` takes and returns slots;
//! `watch` wakes the build loop when the pool has a slot to take; `slots`
//! is the build's side (which running edge holds which slot); `pool`
//! creates a pool for the commands a build runs.
//!
//! Written on libc and std rather than the `jobserver` crate: that crate
//! reads `CARGO_MAKEFLAGS` before `MAKEFLAGS`, knows neither ninja's rules
//! (a first word holding `n`, `--jobserver-fds` errors) nor its messages,
//! opens a pool only from the environment, and creates pipes, never fifos.
//! Ignores Windows semaphores (named only to refuse them, as ninja does).

mod client;
mod makeflags;
mod pool;
mod slots;
mod watch;

pub use client::{Client, OpenError, Slot};
pub use makeflags::{parse, with_pool, Auth, ParseError};
pub use pool::{Pool, Style};
pub use slots::Slots;
pub use watch::Watcher;
