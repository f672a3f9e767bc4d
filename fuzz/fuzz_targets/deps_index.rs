#![no_main]
//! `.ggninja_deps_index`, read by `DepsLog::load` beside a deps log of at
//! least 64 KiB (the index module is crate-private: this is its only way
//! in). The log is a fixed valid one made here; the input is the index.
//! Flag byte: bit 0 clear puts the magic, the format and a header start
//! that matches this graph and log (its base and log prefix: the whole log,
//! or with bit 2 set its first half) before the rest, so the rest starts
//! at the header's counts; bit 1 clear appends the right XXH3-128, so the
//! input gets past the checksum. `FUZZ_DEPS_INDEX_SEED=<file>` writes a
//! seed made from the index the real code writes, then exits.
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[path = "common.rs"]
mod common;

use ggninja_executor::deps_log::DepsLog;
use ggninja_graph::Graph;
use xxhash_rust::xxh3::xxh3_128;

const MAGIC: &[u8] = b"ggninja deps index\n";
const FORMAT: u32 = 1;

struct Fixed {
    log_path: PathBuf,
    index_path: PathBuf,
    log: Vec<u8>,
    /// `header_start` of the whole log and of its first half.
    starts: [Vec<u8>; 2],
}

fn graph() -> Graph {
    let mut g = Graph::default();
    for p in ["a.c", "a.o", "b.h"] {
        g.file_id(p);
    }
    g
}

/// A valid v4 deps log past 64 KiB: path records, then deps records, all
/// but a few for one output (each replacing the last: the index keeps
/// only the last, so it stays small; fewer than 1000 records, so the log
/// is not due for recompaction, which would keep an index from being made).
fn make_log() -> (Vec<u8>, usize) {
    let mut log = b"# ninjadeps\n".to_vec();
    log.extend_from_slice(&4u32.to_le_bytes());
    let paths = 40u32;
    for id in 0..paths {
        let mut p = format!("include/dir{}/header_{id:05}.h", id % 7).into_bytes();
        while p.len() % 4 != 0 {
            p.push(0);
        }
        log.extend_from_slice(&((p.len() + 4) as u32).to_le_bytes());
        log.extend_from_slice(&p);
        log.extend_from_slice(&(!id).to_le_bytes());
    }
    let mut half = 0;
    for r in 0..900u32 {
        let out = if r % 100 == 0 { r / 100 + 1 } else { 0 };
        let deps: Vec<u32> = (0..18).map(|k| (r + k * 7) % paths).collect();
        let size = 12 + 4 * deps.len() as u32;
        log.extend_from_slice(&(size | 0x8000_0000).to_le_bytes());
        log.extend_from_slice(&out.to_le_bytes());
        log.extend_from_slice(&(1_700_000_000u32 + r).to_le_bytes());
        log.extend_from_slice(&0u32.to_le_bytes());
        for d in deps {
            log.extend_from_slice(&d.to_le_bytes());
        }
        if r == 450 {
            half = log.len();
        }
    }
    assert!(log.len() >= 64 << 10);
    (log, half)
}

/// Magic, format, base and log prefix as `deps_index.rs` writes them.
fn header_start(log: &[u8], prefix_len: usize) -> Vec<u8> {
    let g = graph();
    let (text, ends) = g.paths.text_and_ends();
    let mut based = text.as_bytes().to_vec();
    based.extend(ends.iter().flat_map(|e| e.to_le_bytes()));
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&FORMAT.to_le_bytes());
    common::varint(&mut out, ends.len() as u128);
    common::varint(&mut out, xxh3_128(&based));
    common::varint(&mut out, prefix_len as u128);
    common::varint(&mut out, xxh3_128(&log[..prefix_len]));
    out
}

fn fixed() -> &'static Fixed {
    static F: OnceLock<Fixed> = OnceLock::new();
    F.get_or_init(|| {
        let dir = common::scratch("deps_index");
        let (log, half) = make_log();
        let f = Fixed {
            log_path: dir.join(".ninja_deps"),
            index_path: dir.join(".ggninja_deps_index"),
            starts: [header_start(&log, log.len()), header_start(&log, half)],
            log,
        };
        if let Some(seed) = std::env::var_os("FUZZ_DEPS_INDEX_SEED") {
            write_seed(&f, Path::new(&seed));
            std::process::exit(0);
        }
        f
    })
}

/// Lets the real code write the index of the fixed log, checks that its
/// start is what `header_start` makes, and saves the rest as a seed.
fn write_seed(f: &Fixed, seed: &Path) {
    let _ = std::fs::remove_file(&f.index_path);
    common::put(&f.log_path, &f.log);
    let mut g = graph();
    DepsLog::load(&f.log_path, &mut g, true).expect("load");
    let index = std::fs::read(&f.index_path).expect("an index was written");
    let start = header_start(&f.log, f.log.len());
    assert!(index.starts_with(&start), "header encoding differs");
    let mut out = vec![0u8];
    out.extend_from_slice(&index[start.len()..index.len() - 16]);
    std::fs::write(seed, out).expect("seed");
    // And the check that the index is taken: a second load of the same
    // log with it gives the same deps.
    let mut g2 = graph();
    let (a, _) = DepsLog::load(&f.log_path, &mut g2, false).expect("load");
    assert_eq!(a.all().count(), 10);
}

fuzz_target!(|data: &[u8]| {
    let f = fixed();
    if std::fs::metadata(&f.log_path).map(|m| m.len()).ok() != Some(f.log.len() as u64) {
        common::put(&f.log_path, &f.log);
    }
    let (flag, rest) = common::split_flag(data);
    let mut bytes = Vec::new();
    if flag & 1 == 0 {
        bytes = f.starts[usize::from(flag & 4 != 0)].clone();
    }
    bytes.extend_from_slice(rest);
    if flag & 2 == 0 {
        let sum = xxh3_128(&bytes);
        bytes.extend_from_slice(&sum.to_le_bytes());
    }
    common::put(&f.index_path, &bytes);
    let mut g = graph();
    if let Ok((log, _)) = DepsLog::load(&f.log_path, &mut g, false) {
        for (out, deps) in log.all() {
            let _ = g.path(out);
            for &d in deps.nodes {
                let _ = g.path(d);
            }
        }
        for &file in g.file_nodes() {
            let _ = log.get(file);
            let _ = g.path(file);
        }
    }
});
