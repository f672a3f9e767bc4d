//! The build graph of a ninja manifest, and the evaluation of its variables.

mod chunked;
pub mod command_hash;
pub mod eval;
mod graph;
pub mod path;
pub mod paths;
pub mod saved;

pub use command_hash::HashKind;
pub use eval::{EvalString, Part, Rule, RuleId, Scope, ScopeId, Scopes, ROOT_SCOPE};
pub use graph::{
    Build, BuildId, CycleError, Escape, File, FileId, Graph, Pool, PoolId, CONSOLE_POOL,
    DEFAULT_POOL,
};
