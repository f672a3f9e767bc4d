//! Thunks: each build edge as a hermetic, content-addressed function — the
//! program and its argv and environment, every input named by content hash
//! (or by the thunk that produces it), and the outputs it writes.
//! See docs/thunks.md for the format and the path rules.
//!
//! Data flow: `scan` (an edge's footprint) -> `builder` (inputs hashed
//! through `hash_cache`, inputs named once by `known_inputs`,
//! toolchains as `bundles`, paths through `roots`)
//! -> `ir` (canonical JSON, hash); `kept` keeps each edge's key between
//! runs with what it rested on. `session` opens and saves the caches;
//! `predicted` stands in for outputs a build has not made yet;
//! `placement` says which inputs travel and what must run here;
//! `ordering` refuses a thunk whose footprint reads what an unordered edge
//! writes.
//! Unaware of running commands, logs and stores.

mod builder;
mod bundles;
mod hash_cache;
mod ir;
mod kept;
mod known_inputs;
mod ordering;
pub mod placement;
mod predicted;
mod roots;
mod scan;
mod session;

pub use builder::{EdgeThunk, Emit, Entry, Footprint, Scan, ThunkBuilder};
pub use bundles::{Bundles, NamedBundle};
pub use ggninja_footprint::Effect;
pub use hash_cache::HashCache;
pub use ir::{Bundle, BundleFile, Function, Input, Source, Thunk, ENV};
pub use predicted::Predicted;
pub use roots::{Roots, BUILD_ROOT, SOURCE_ROOT};
pub use scan::{edge_footprint, produced, scan_edge};
pub use session::Thunks;
