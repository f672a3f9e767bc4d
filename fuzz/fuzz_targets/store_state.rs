#![no_main]
//! The store's files. Flag byte bit 0 clear: a memo entry, the rest at
//! `memo/<key>` of a scratch store holding a few objects, read by
//! `Store::memo_get`, then `usage` and (bit 1 set) `evict_to(0)` walk the
//! store. Bit 0 set: `.ggninja_remote_files`, read by `RemoteFiles::load`
//! (bit 1 clear puts its header line first). Either way the rest's first
//! line, and every word of it, is also tried as a content hash.
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

#[path = "common.rs"]
mod common;

use ggninja_store::{ContentHash, Kind, RemoteFiles, Store};

const OBJECTS: [&[u8]; 3] = [b"", b"int main() { return 0; }\n", b"object bytes\n"];

fn store() -> &'static (Store, ContentHash) {
    static S: OnceLock<(Store, ContentHash)> = OnceLock::new();
    S.get_or_init(|| {
        let root = common::scratch("store_state").join("store");
        let store = Store::open(&root).expect("open store");
        let key = ContentHash::of(Kind::Thunk, b"fuzz thunk");
        (store, key)
    })
}

fuzz_target!(|data: &[u8]| {
    let (flag, rest) = common::split_flag(data);
    if let Ok(text) = std::str::from_utf8(rest) {
        for word in text.lines().next().unwrap_or("").split(' ') {
            if let Some(h) = ContentHash::parse(word) {
                assert_eq!(ContentHash::parse(&h.to_string()), Some(h));
            }
        }
    }
    if flag & 1 == 0 {
        let (store, key) = store();
        for o in OBJECTS {
            store.put(o).expect("put object");
        }
        let root = common::scratch("store_state").join("store");
        common::put(&root.join("memo").join(key.to_string()), rest);
        if let Some(memo) = store.memo_get(key) {
            for h in memo.objects() {
                let _ = store.contains(h);
                let _ = h.to_string();
            }
        }
        let _ = store.usage();
        if flag & 2 != 0 {
            let _ = store.evict_to(0);
        }
    } else {
        let path = common::scratch("store_state").join(".ggninja_remote_files");
        let mut bytes = Vec::new();
        if flag & 2 == 0 {
            bytes.extend_from_slice(b"# ggninja remote files v1\n");
        }
        bytes.extend_from_slice(rest);
        common::put(&path, &bytes);
        let files = RemoteFiles::load(&path);
        for (p, f) in files.absent() {
            let _ = files.get(&p);
            let _ = f.hash.to_string();
        }
    }
});
