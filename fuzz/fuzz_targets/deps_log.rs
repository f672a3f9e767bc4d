#![no_main]
//! `.ninja_deps`: `DepsLog::load` on the input as a file, into a small
//! graph. Flag byte: bit 0 clear puts the v4 signature before the rest.
//! The load may cut the file (torn tail) or remove it (bad signature):
//! it is written anew each run.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use ggninja_executor::deps_log::DepsLog;
use ggninja_graph::Graph;

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch("deps_log");
    let path = dir.join(".ninja_deps");
    let (flag, rest) = common::split_flag(data);
    let mut bytes = Vec::new();
    if flag & 1 == 0 {
        bytes.extend_from_slice(b"# ninjadeps\n");
        bytes.extend_from_slice(&4u32.to_le_bytes());
    }
    bytes.extend_from_slice(rest);
    common::put(&path, &bytes);
    let mut g = Graph::default();
    for p in ["a.c", "a.o", "b.h", "out/x.o"] {
        g.file_id(p);
    }
    if let Ok((log, _warning)) = DepsLog::load(&path, &mut g, false) {
        let all: Vec<_> = log.all().map(|(f, d)| (f, d.mtime, d.nodes.to_vec())).collect();
        for (f, _, nodes) in all {
            let _ = g.path(f);
            for n in nodes {
                let _ = g.path(n);
            }
            let _ = log.get(f);
        }
        for &f in g.file_nodes() {
            let _ = log.get(f);
        }
        let _ = log.needs_recompaction();
    }
});
