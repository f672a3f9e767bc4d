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

impl Input {
    /// The input's canonical JSON, byte for byte what `serde_json` makes of
    /// it (`{"path":…` and then the source's fields), written directly:
    /// the derived serializer goes through a map for the flattened source,
    /// and a build makes one per input of every edge it starts.
    pub fn json(&self) -> String {
        let mut out = String::with_capacity(self.path.len() + 80);
        out.push_str("{\"path\":");
        json_str(&mut out, &self.path);
        let mut field = |name: &str, value: &str| {
            out.push_str(",\"");
            out.push_str(name);
            out.push_str("\":");
            json_str(&mut out, value);
        };
        match &self.source {
            Source::Value { hash } => field("hash", hash),
            Source::Output { thunk, output } => {
                field("thunk", thunk);
                field("output", output);
            }
            Source::Bundle { bundle } => field("bundle", bundle),
            Source::Directory { directory } => {
                out.push_str(",\"directory\":");
                out.push_str(if *directory { "true" } else { "false" });
            }
        }
        out.push('}');
        out
    }
}

impl BundleFile {
    /// Its canonical JSON, byte for byte what `serde_json` makes of it: a
    /// bundle's is its files' joined (`{"files":[…]}`), made of the few
    /// hundred a build's bundles share.
    pub fn json(&self) -> String {
        let mut out = String::with_capacity(self.path.len() + 80);
        out.push_str("{\"path\":");
        json_str(&mut out, &self.path);
        out.push_str(",\"hash\":");
        json_str(&mut out, &self.hash);
        out.push('}');
        out
    }
}

/// Appends a JSON array of `items`, each JSON already (as `serde_json`
/// writes a sequence: no spaces).
pub(crate) fn push_json_array<'a>(out: &mut String, items: impl IntoIterator<Item = &'a str>) {
    out.push('[');
    for (n, item) in items.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
}

/// `s` as a JSON string, escaped as `serde_json` escapes (only `"`, `\`
/// and control characters; everything else as it is).
fn json_str(out: &mut String, s: &str) {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(&serde_json::to_string(s).expect("strings serialize"));
        return;
    }
    out.push('"');
    out.push_str(s);
    out.push('"');
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind of input and a bundle's file, with paths JSON must escape
    /// and paths it must not, is written as `serde_json` writes it: the
    /// thunk's and the bundle's hashes cover these bytes.
    #[test]
    fn an_inputs_and_a_bundle_files_json_are_serde_jsons() {
        let paths = [
            "/ggroot/build/a.o",
            "/ggroot/src/dir with spaces/é.h",
            "/q\"uote\\back\tab\n\u{1}\u{7f}/x",
        ];
        for path in paths {
            let s = |v: &str| format!("{v}{path}");
            let sources = [
                Source::Value { hash: s("V") },
                Source::Output {
                    thunk: s("T"),
                    output: s("o"),
                },
                Source::Directory { directory: true },
                Source::Directory { directory: false },
                Source::Bundle { bundle: s("B") },
            ];
            for source in sources {
                let input = Input {
                    path: path.to_string(),
                    source,
                };
                assert_eq!(input.json(), serde_json::to_string(&input).unwrap());
            }
            let file = BundleFile {
                path: path.to_string(),
                hash: format!("V{path}"),
            };
            assert_eq!(file.json(), serde_json::to_string(&file).unwrap());
        }
    }
}
