//! The thunk IR: a program with its argv and environment, every input named
//! by content hash (or by the thunk that produces it), and the outputs it
//! writes; its canonical JSON and the hash that names it. See
//! docs/thunks.md for the format. Unaware of build graphs and real paths.

use std::collections::BTreeMap;

use ggninja_store::hash::{ContentHash, Kind};
use serde::{Deserialize, Serialize};

/// The environment every thunk runs with; nothing else leaks in.
pub const ENV: &[(&str, &str)] = &[("LANG", "C"), ("PATH", "/usr/bin:/bin")];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thunk {
    pub function: Function,
    /// Sorted by path.
    pub inputs: Vec<Input>,
    /// Sorted.
    pub outputs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    /// The program, by its (thunk-visible) path and content hash.
    pub exe: String,
    pub exe_hash: String,
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// Path inside the thunk's view of the file system.
    pub path: String,
    #[serde(flatten)]
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Source {
    /// A file named by its content.
    Value { hash: String },
    /// An output of another thunk: linked thunks make a whole graph one
    /// self-contained description.
    Output { thunk: String, output: String },
    /// A directory the command expects to exist (CMake names object
    /// directories as inputs); it has no content to hash.
    Directory { directory: bool },
    /// Every file of a bundle, at its own (absolute) path.
    Bundle { bundle: String },
}

/// Files many thunks share (a compiler and everything it loads, ~50 files),
/// listed once and named by the hash of the listing, so a thunk names them
/// with one input instead of repeating them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// Sorted by path; absolute paths outside the build and source trees.
    pub files: Vec<BundleFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleFile {
    pub path: String,
    pub hash: String,
}

impl Thunk {
    /// The canonical serialization: JSON with fields in declaration order,
    /// inputs and outputs sorted, env sorted by key.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).expect("thunks always serialize")
    }

    pub fn hash(&self) -> ContentHash {
        ContentHash::of(Kind::Thunk, self.canonical().as_bytes())
    }
}
