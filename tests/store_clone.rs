//! The store's clones, on an XFS image mounted for the test
//! (`common::cow`): an object made by cloning the file its bytes were read
//! from holds those bytes, whatever wrote the file since.

mod common;

use std::io::{Read, Write};

use common::cow::{shares_blocks, CowDir};
use ggninja_store::Store;

/// A big object put from the file it was read from is a clone of it; one
/// whose file was written after the read holds the bytes read, written
/// out, not what the file holds now.
#[test]
fn a_put_clones_only_a_file_unchanged_since_it_was_read() {
    let Some(cow) = CowDir::new() else {
        return;
    };
    let store = Store::open(&cow.path().join("store")).unwrap();
    let object =
        |h: &ggninja_store::ContentHash| cow.path().join("store/objects").join(h.to_string());
    for (name, edited) in [("kept", false), ("edited", true)] {
        let path = cow.path().join(name);
        let bytes: Vec<u8> = (0..600_000u32)
            .map(|i| (i % 253) as u8 ^ edited as u8)
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        let mut file = std::fs::File::open(&path).unwrap();
        let meta = file.metadata().unwrap();
        let mut read = Vec::new();
        file.read_to_end(&mut read).unwrap();
        if edited {
            // Past a coarse clock's tick, so the write moves the file's times.
            std::thread::sleep(std::time::Duration::from_millis(20));
            let mut writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            writer.write_all(b"written after the read").unwrap();
        }
        let h = store.put_read_from(&read, &file, &meta).unwrap();
        let stored = store.get(&h, None);
        assert!(
            stored.as_deref() == Some(&bytes[..]),
            "{name}: not the bytes read"
        );
        assert_eq!(shares_blocks(&object(&h)), !edited, "{name}");
    }
}
