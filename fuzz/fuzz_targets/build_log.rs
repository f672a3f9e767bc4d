#![no_main]
//! `.ninja_log`: `BuildLog::load` (and `read_in_order`) on the input as a
//! file; `.ggninja_edges` (`provenance::read`) on the same bytes. Flag
//! byte: bit 0 clear puts a known signature (v5, v6 or v7 by bits 1-2)
//! before the rest, so most inputs get past it.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use ggninja_executor::build_log::{read_in_order, BuildLog};

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch("build_log");
    let path = dir.join(".ninja_log");
    let (flag, rest) = common::split_flag(data);
    let mut bytes = Vec::new();
    if flag & 1 == 0 {
        let v = 5 + (flag >> 1) % 3;
        bytes.extend_from_slice(format!("# ninja log v{v}\n").as_bytes());
    }
    bytes.extend_from_slice(rest);
    common::put(&path, &bytes);
    if let Ok((log, _warning)) = BuildLog::load(&path) {
        let names: Vec<String> = log.entries().map(|(o, _)| o.to_string()).collect();
        for n in &names {
            let e = log.lookup(n).expect("a listed output is found");
            let _ = log.hash_command(n);
            let _ = e.mtime;
        }
        let _ = log.needs_recompaction();
    }
    let _ = read_in_order(&path);
    let _ = ggninja_executor::provenance::read(&path);
});
