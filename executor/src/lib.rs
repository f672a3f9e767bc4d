//! Running a build graph, as ninja does: dirty checking (`scan`), the plan
//! (`plan`: which edges, in which order; no processes), the build loop
//! (`build`), execution backends (`backend`: local processes, the sandbox,
//! the memo in front of either; the remote executor plugs in there), the
//! status line, the logs that make the next build incremental, and GNU
//! make's jobserver (`jobserver`: a shared pool's slots bound what runs).

pub mod backend;
mod build;
pub mod build_log;
pub mod builtin;
mod deps_index;
pub mod deps_log;
mod dir_stat;
pub mod direct;
pub mod disk;
mod elide;
mod engine;
mod eta;
mod explanations;
mod hit_checks;
pub mod jobserver;
mod known_deps;
pub mod metrics;
pub mod noop;
mod plan;
#[cfg(test)]
mod plan_test;
mod prestat;
#[cfg(test)]
mod prestat_test;
pub mod priority;
pub mod process;
pub mod provenance;
mod scan;
#[cfg(test)]
mod scan_test;
pub mod status;
mod steps;
#[cfg(test)]
mod testing;
mod watched;

pub use build::{BuildError, Builder};
pub use engine::{Config, Engine, NodeState};
pub use plan::Plan;
