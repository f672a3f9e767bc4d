#![no_main]
//! thunk's and footprint's saved files, through `Thunks::open` (which
//! loads them all on a thread; `tree_changed` waits for it). The flag
//! byte's low 3 bits pick which file the rest becomes (the others are
//! absent): `.ggninja_hashes` (HashCache::load), `.ggninja_keys`
//! (kept.rs), `.ggninja_footprints` (recall/saved.rs), `.ggninja_scans`
//! (walk/saved_scans.rs), `.ggninja_toolchain` (toolchain/facts.rs).
//! Bit 3 clear puts the file's magic first; for the keys, bit 4 clear
//! puts the right XXH3-128 of the rest after the magic.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use xxhash_rust::xxh3::xxh3_128;

const FILES: [(&str, &[u8]); 5] = [
    (".ggninja_hashes", b"ggninja-hashes 2\n"),
    (".ggninja_keys", b"ggkeys02"),
    (".ggninja_footprints", b"ggninja-footprints 5\n"),
    (".ggninja_scans", b"ggninja scans 4\n"),
    (".ggninja_toolchain", b""),
];

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch("thunk_caches");
    let (flag, rest) = common::split_flag(data);
    let pick = (flag & 7) as usize % FILES.len();
    for (i, (name, _)) in FILES.iter().enumerate() {
        if i != pick {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }
    let (name, magic) = FILES[pick];
    let mut bytes = Vec::new();
    if flag & 8 == 0 {
        bytes.extend_from_slice(magic);
        if pick == 1 && flag & 16 == 0 {
            bytes.extend_from_slice(&xxh3_128(rest).to_le_bytes());
        }
    }
    bytes.extend_from_slice(rest);
    common::put(&dir.join(name), &bytes);
    let thunks = ggninja_thunk::Thunks::open(dir, dir);
    thunks.tree_changed();
    let _ = thunks.changed_file();
});
