//! Shared by the state-file targets: a scratch directory for this process
//! (reused between runs, removed by nobody but the campaign's cleanup),
//! postcard's varints and the per-input flag byte.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `/tmp/fuzzstate-<pid>/<name>`, made once.
pub fn scratch(name: &str) -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = std::env::var_os("FUZZ_SCRATCH")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        let d = base.join(format!("fuzzstate-{}", std::process::id())).join(name);
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    })
}

/// The flag byte and the rest (flag 0 for an empty input).
pub fn split_flag(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((f, rest)) => (*f, rest),
        None => (0, data),
    }
}

/// postcard's unsigned varint (LEB128).
pub fn varint(out: &mut Vec<u8>, mut v: u128) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Writes `bytes` to `path`, replacing it.
pub fn put(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write scratch file");
}
