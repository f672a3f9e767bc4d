#![no_main]
//! `.ggninja_noop`: `ggninja_executor::noop::recall`, which reads the file
//! in the current directory (a scratch dir here). Flag byte: bit 0 clear
//! makes the rest the record of the request asked for (magic, the
//! request, the rest, each length first); set, the rest follows the magic
//! as it is. Bit 1 clear appends the right XXH3-64, so the input gets past
//! the checksum to the record's postcard.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use xxhash_rust::xxh3::xxh3_64;

const MAGIC: &[u8] = b"ggninja remembered no-ops 3\n";
const REQUEST: &str = "fuzz request";

fn part(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch("noop_record");
    if std::env::current_dir().ok().as_deref() != Some(dir) {
        std::env::set_current_dir(dir).expect("cd scratch");
    }
    let (flag, rest) = common::split_flag(data);
    let mut body = Vec::new();
    if flag & 1 == 0 {
        part(&mut body, REQUEST.as_bytes());
        part(&mut body, rest);
    } else {
        body.extend_from_slice(rest);
    }
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&body);
    if flag & 2 == 0 {
        bytes.extend_from_slice(&xxh3_64(&body).to_le_bytes());
    }
    common::put(&dir.join(".ggninja_noop"), &bytes);
    let _ = ggninja_executor::noop::recall(REQUEST);
});
