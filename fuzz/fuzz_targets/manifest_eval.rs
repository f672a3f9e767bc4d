#![no_main]
//! Parse, then evaluate every build's command (cycles must be `Err`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ggninja_importer::Options::default();
    if let Ok(loaded) = ggninja_importer::parse_str("build.ninja", data, &opts) {
        let g = &loaded.graph;
        for &b in &g.builds {
            let _ = g.command(b, true);
            let _ = g.command(b, false);
        }
        let _ = g.default_targets();
    }
});
