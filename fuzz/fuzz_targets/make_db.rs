#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(dbs) = ggninja_importer::make::parse::parse(&text) {
        // Cheap sanity: every file entry has a name.
        assert!(dbs.iter().all(|db| db.files.iter().all(|f| !f.name.is_empty())));
    }
});
