#![no_main]
//! `.ggninja_graph` as the importer reads it (`saved::load`): the magic and
//! format, a postcard header (the key, the load's start, the manifest files
//! and their stamps, the warnings, the graph's length and CRC-32), then the
//! graph's bytes; and its pointer `.ggninja_graph_at` (`saved::location`).
//! The file is read from a scratch directory as `here/.ggninja_graph`,
//! with the key of a load of `build.ninja` by this binary.
//!
//! Flag byte (the input's first):
//! - bit 3 set: the rest is the pointer, not the file (bit 0 clear puts
//!   its magic first); `location` reads it. What it names is not read: a
//!   damaged pointer may name any file (a fifo, /dev/zero), which `load`
//!   would read whole, as the tool does.
//! - bit 0 clear: the harness puts the file's magic and format first;
//! - bit 1 clear: then this binary's key (the fuzzer could not guess it),
//!   so the rest starts at the load's start time;
//! - bit 2 clear: the rest is split as the header's next fields (the key
//!   too when bit 1 is set; start, files, warnings) and the graph, and the
//!   graph's length and CRC-32 put between them, so the input gets past
//!   the checksum (kept as is when the fields do not decode);
//! - bit 4 set (with bit 2 clear): the files are dropped, so a header
//!   whose stamps no file here has still reaches the graph.
//!
//! `FUZZ_GRAPH_FILE_SEEDS_FROM=<file> FUZZ_GRAPH_FILE_SEEDS_TO=<prefix>`
//! turns a file or pointer the real tool wrote into seeds (`<prefix>`,
//! `<prefix>_raw`, and for a file `<prefix>_nofiles`), checking that the
//! harness puts back the file it came from, then exits.
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[path = "common.rs"]
mod common;

use ggninja_importer::saved::{self, Key, ManifestFile};
use ggninja_importer::Options;

const MAGIC: &[u8] = b"ggninja loaded manifest\n";
const FORMAT: u32 = 2;
const POINTER_MAGIC: &[u8] = b"ggninja saved load at 1\n";
const MANIFEST: &str = "build.ninja";

/// The header's fields after the key and before the graph's length.
type Middle = (i64, Vec<ManifestFile>, Vec<String>);

struct Fixed {
    here: PathBuf,
    file: PathBuf,
    pointer: PathBuf,
    key: Key,
    key_bytes: Vec<u8>,
}

fn fixed() -> &'static Fixed {
    static F: OnceLock<Fixed> = OnceLock::new();
    F.get_or_init(|| {
        if let Some(from) = std::env::var_os("FUZZ_GRAPH_FILE_SEEDS_FROM") {
            let to = std::env::var_os("FUZZ_GRAPH_FILE_SEEDS_TO").expect("FUZZ_GRAPH_FILE_SEEDS_TO");
            write_seeds(Path::new(&from), Path::new(&to));
            std::process::exit(0);
        }
        let here = common::scratch("graph_file").to_path_buf();
        let key = Key::new(MANIFEST, &Options::default());
        let key_bytes = postcard::to_allocvec(&key).expect("a key serializes");
        Fixed {
            file: here.join(saved::FILE_NAME),
            pointer: here.join(saved::POINTER),
            here,
            key,
            key_bytes,
        }
    })
}

/// The file the harness writes for `flag` and `rest`, with `key_bytes` as
/// the key it supplies.
fn assemble(flag: u8, rest: &[u8], key_bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rest.len() + 256);
    if flag & 1 == 0 {
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
    }
    if flag & 2 == 0 {
        out.extend_from_slice(key_bytes);
    }
    if flag & 4 != 0 {
        out.extend_from_slice(rest);
        return out;
    }
    let after_key = if flag & 2 == 0 {
        Some(rest)
    } else {
        postcard::take_from_bytes::<Key>(rest).ok().map(|(_, r)| r)
    };
    let split = after_key.and_then(|r| {
        let (middle, graph) = postcard::take_from_bytes::<Middle>(r).ok()?;
        Some((rest.len() - r.len(), middle, graph))
    });
    let Some((key_len, middle, graph)) = split else {
        out.extend_from_slice(rest);
        return out;
    };
    out.extend_from_slice(&rest[..key_len]);
    if flag & 0x10 != 0 {
        let (started, _, warnings) = middle;
        let none: Vec<ManifestFile> = Vec::new();
        out.extend(postcard::to_allocvec(&(started, none, warnings)).expect("serializes"));
    } else {
        let middle_len = rest.len() - key_len - graph.len();
        out.extend_from_slice(&rest[key_len..key_len + middle_len]);
    }
    common::varint(&mut out, graph.len() as u128);
    common::varint(&mut out, u128::from(crc32fast::hash(graph)));
    out.extend_from_slice(graph);
    out
}

/// Seeds from a file or pointer the real tool wrote.
fn write_seeds(from: &Path, to: &Path) {
    let bytes = std::fs::read(from).expect("read the tool's file");
    let with = |suffix: &str, flag: u8, body: &[u8]| {
        let mut name = to.as_os_str().to_owned();
        name.push(suffix);
        let mut seed = vec![flag];
        seed.extend_from_slice(body);
        std::fs::write(&name, seed).expect("write seed");
    };
    if let Some(body) = bytes.strip_prefix(POINTER_MAGIC) {
        with("", 0x08, body);
        with("_raw", 0x09, &bytes);
        return;
    }
    let body = bytes.strip_prefix(MAGIC).expect("the file's magic");
    let (format, body) = body.split_first_chunk::<4>().expect("format");
    assert_eq!(u32::from_le_bytes(*format), FORMAT, "format");
    let (_, after_key): (Key, _) = postcard::take_from_bytes(body).expect("key");
    let key_bytes = &body[..body.len() - after_key.len()];
    let (_, after_middle): (Middle, _) = postcard::take_from_bytes(after_key).expect("header");
    let middle = &after_key[..after_key.len() - after_middle.len()];
    let (_, graph): ((u64, u32), _) = postcard::take_from_bytes(after_middle).expect("len, crc");
    let seed = [middle, graph].concat();
    assert_eq!(assemble(0, &seed, key_bytes), bytes, "the harness puts the file back");
    with("", 0x00, &seed);
    with("_nofiles", 0x10, &seed);
    with("_raw", 0x07, &bytes);
}

fuzz_target!(|data: &[u8]| {
    let f = fixed();
    let (flag, rest) = common::split_flag(data);
    if flag & 8 != 0 {
        let mut bytes = Vec::new();
        if flag & 1 == 0 {
            bytes.extend_from_slice(POINTER_MAGIC);
        }
        bytes.extend_from_slice(rest);
        common::put(&f.pointer, &bytes);
        let at = saved::location(&f.here, MANIFEST);
        let _ = saved::location(&f.here, "other.ninja");
        let _ = at.to_string_lossy();
        return;
    }
    common::put(&f.file, &assemble(flag, rest, &f.key_bytes));
    let Some(loaded) = saved::load(&f.here, &f.file, &f.key) else {
        return;
    };
    // What a build does with a reused load: its warnings, its files'
    // stamps, the graph's builddir (its caches' place) and its nodes.
    for w in &loaded.warnings {
        let _ = w.len();
    }
    let _ = saved::unchanged(&loaded.files, loaded.started_ns);
    let g = &loaded.graph;
    assert_eq!(f.here.join(g.in_builddir(saved::FILE_NAME)), f.file);
    let _ = g.node_count();
    for &n in g.file_nodes() {
        let _ = g.lookup(g.path(n));
        let _ = g.consumers(n).count();
    }
    for &b in &g.builds {
        let _ = g.command(b, true);
        let _ = g.rule_name(b);
    }
    let _ = g.default_targets();
    let _ = g.roots();
});
