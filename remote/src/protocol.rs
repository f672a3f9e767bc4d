//! What the engine sends the Lambda function and what it answers: one JSON
//! request per thunk (the thunk itself, its bundle's file list, where the
//! objects are, small input objects carried along, the real roots, the
//! depfile, limits) and one JSON response
//! (a status, the outputs by content hash, a bounded log, the run time).
//! Shared by `function` and the engine; owns the wire format and its
//! limits, ignores how either side does its work.

use ggninja_store::hash::ContentHash;
use serde::{Deserialize, Serialize};

pub use ggninja_thunk::BundleFile;

/// AWS Lambda's limit on a synchronous request (and response) payload.
pub const MAX_PAYLOAD_BYTES: usize = 6_000_000;

/// The log kept by default: stdout and stderr together, interleaved.
pub const DEFAULT_LOG_BYTES: usize = 64 << 10;

/// Outputs returned in the response by default: well under the payload
/// limit once base64 adds its third.
pub const DEFAULT_INLINE_BYTES: u64 = 1 << 20;

/// An input object at most this large may ride in the request instead of
/// going to the bucket first (`Request::carried`)...
pub const CARRY_OBJECT_BYTES: u64 = 64 << 10;

/// ...and at most this many bytes of them in one request (a third more in
/// base64), leaving the payload limit to the thunk.
pub const CARRY_BUDGET_BYTES: u64 = 1 << 20;

/// The note appended to a log cut at the limit.
pub const TRUNCATION_NOTE: &str = "\n[ggninja-lambda: output truncated]\n";

/// Run one thunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The thunk's canonical JSON (docs/thunks.md), exactly as hashed.
    pub thunk: String,
    /// Its printed hash (`T...`); the function recomputes and checks it.
    pub thunk_hash: String,
    /// The files of the thunk's `Source::Bundle` input, when it has one;
    /// the function checks they hash to the bundle's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<Vec<BundleFile>>,
    /// Where the objects are.
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
    /// Input objects sent with the request, so the function takes them
    /// from here instead of the bucket; each is checked against its hash
    /// (one that does not match is fetched as if it had not come).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carried: Vec<Carried>,
    /// The real roots, when outputs must name the real paths (`-g`,
    /// `__FILE__`): compiles get `-ffile-prefix-map` for each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roots: Option<RealRoots>,
    /// In-root inputs (thunk-visible paths) laid out executable; the rest
    /// are laid out read-only (`0444`). A thunk names content, not modes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executable: Vec<String>,
    /// The edge's depfile, as a thunk-visible path (`/ggroot/build/a.o.d`):
    /// returned like an output, its laid-out root prefixes rewritten to the
    /// thunk-visible roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depfile: Option<String>,
    #[serde(default)]
    pub limits: Limits,
    /// Once the outputs are up, record them in the memo table under this
    /// key (`T...`), saving the engine a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo_key: Option<String>,
}

/// One input object carried in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carried {
    /// Printed value hash (`V...`).
    pub hash: String,
    /// The bytes, base64.
    pub data: String,
}

impl Carried {
    pub fn new(hash: &ContentHash, bytes: &[u8]) -> Carried {
        use base64::Engine as _;
        Carried {
            hash: hash.to_string(),
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// The object's hash and bytes, when the bytes are what the hash names.
    pub fn verified(&self) -> Option<(ContentHash, Vec<u8>)> {
        let hash = ContentHash::parse(&self.hash)?;
        Some((hash, verified_bytes(&hash, &self.data)?))
    }
}

/// Base64 `text` decoded, when it is the content `hash` names (inline
/// outputs and carried inputs both travel this way).
pub fn verified_bytes(hash: &ContentHash, text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    (ContentHash::of(hash.kind, &bytes) == *hash).then_some(bytes)
}

/// The real locations of `/ggroot/build` and `/ggroot/src` on the machine
/// the outputs are for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealRoots {
    pub build: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Bytes of stdout+stderr returned (the rest is dropped, with a note).
    pub log_bytes: usize,
    /// Total bytes of outputs the function may upload; past it the run is
    /// an `Error` (nothing uploaded).
    pub output_bytes: u64,
    /// Outputs (the depfile included) totalling at most this many bytes
    /// also come back in the response, saving a GET each.
    #[serde(default)]
    pub inline_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            log_bytes: DEFAULT_LOG_BYTES,
            output_bytes: 4 << 30,
            inline_bytes: DEFAULT_INLINE_BYTES,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status")]
pub enum Status {
    /// The command ran: its exit code, or the signal that ended it. Only
    /// exit code 0 with every declared output written is a success (an
    /// output not written is `OutputsNotWritten`).
    Ran {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<i32>,
    },
    /// The command exited 0 but left declared outputs unwritten: a failure.
    OutputsNotWritten { paths: Vec<String> },
    /// These input objects are not in the bucket; nothing ran.
    MissingInputs { hashes: Vec<String> },
    /// A file taken from the image (a bundle file, a system header, the
    /// program) differs from the thunk's; nothing ran.
    ToolchainMismatch {
        path: String,
        expected: String,
        /// The file's hash, or why it has none (`missing`, `not a file`).
        found: String,
    },
    /// Anything else (a bad request, S3 unreachable, a full disk).
    Error { message: String },
}

/// One file the command wrote, uploaded under its content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// Thunk-visible (`/ggroot/build/a.o`).
    pub path: String,
    /// Printed value hash (`V...`).
    pub hash: String,
    pub size: u64,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    /// The output is a symbolic link to this (relative) target; `hash`
    /// and `size` are the target's text, and no object is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The content, base64, when the response carries it (see
    /// `Limits::inline_bytes`); checked against `hash` by the reader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    #[serde(flatten)]
    pub status: Status,
    /// The declared outputs, in the thunk's order (empty unless the run
    /// succeeded).
    #[serde(default)]
    pub outputs: Vec<Output>,
    /// The depfile, when one was asked for and written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depfile: Option<Output>,
    /// stdout and stderr as they came, cut at `Limits::log_bytes` (then
    /// ending with `TRUNCATION_NOTE`); lossy UTF-8.
    #[serde(default)]
    pub log: String,
    #[serde(default)]
    pub log_truncated: bool,
    /// Time spent running the command (not fetching or uploading).
    #[serde(default)]
    pub run_ms: u64,
    /// Wall time of the whole invocation inside the function.
    #[serde(default)]
    pub total_ms: u64,
    /// The memo entry asked for by `Request::memo_key` was written.
    #[serde(default)]
    pub memo_written: bool,
}

impl Response {
    pub fn with_status(status: Status) -> Response {
        Response {
            status,
            outputs: Vec::new(),
            depfile: None,
            log: String::new(),
            log_truncated: false,
            run_ms: 0,
            total_ms: 0,
            memo_written: false,
        }
    }

    pub fn error(message: impl Into<String>) -> Response {
        Response::with_status(Status::Error {
            message: message.into(),
        })
    }

    /// Exit code 0 and every declared output written and uploaded.
    pub fn succeeded(&self) -> bool {
        matches!(
            self.status,
            Status::Ran {
                exit_code: Some(0),
                ..
            }
        )
    }
}

impl Request {
    /// The payload as sent, or why it cannot be (over Lambda's limit).
    pub fn to_payload(&self) -> Result<Vec<u8>, String> {
        let bytes = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(format!(
                "request of {} bytes is over Lambda's {MAX_PAYLOAD_BYTES}",
                bytes.len()
            ));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_with_a_tag() {
        let mut r = Response::with_status(Status::Ran {
            exit_code: Some(1),
            signal: None,
        });
        r.log = "a.c:1: error".into();
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains(r#""status":"Ran","exit_code":1"#), "{text}");
        assert_eq!(serde_json::from_str::<Response>(&text).unwrap(), r);
        assert!(!r.succeeded());
        let m = Response::with_status(Status::MissingInputs {
            hashes: vec!["Vx".into()],
        });
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Response>(&text).unwrap(), m);
    }

    #[test]
    fn requests_default_what_they_omit() {
        let r: Request =
            serde_json::from_str(r#"{"thunk":"{}","thunk_hash":"T","bucket":"b"}"#).unwrap();
        assert_eq!(r.limits, Limits::default());
        assert!(r.roots.is_none() && r.bundle.is_none() && r.depfile.is_none());
        assert!(r.to_payload().is_ok());
        assert!(r.carried.is_empty());
    }

    #[test]
    fn a_carried_object_is_used_only_when_it_matches_its_hash() {
        use ggninja_store::hash::Kind;
        let hash = ContentHash::of(Kind::Value, b"int x;");
        let good = Carried::new(&hash, b"int x;");
        assert_eq!(good.verified(), Some((hash, b"int x;".to_vec())));
        assert_eq!(Carried::new(&hash, b"int y;").verified(), None);
        let garbled = Carried {
            data: "not base64!".into(),
            ..good.clone()
        };
        assert_eq!(garbled.verified(), None);
        let unnamed = Carried {
            hash: "nonsense".into(),
            ..good
        };
        assert_eq!(unnamed.verified(), None);
    }
}
