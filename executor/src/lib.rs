//! Running a build graph: dirty checking, the plan, local execution, and
//! the logs that make the next build incremental.

mod build;
pub mod build_log;
pub mod deps_log;
pub mod disk;
mod engine;
pub mod memo;
pub mod metrics;
pub mod process;
pub mod sandbox;
mod scan;
pub mod status;

pub use build::{BuildError, Builder};
pub use engine::{Config, Engine, NodeState};
