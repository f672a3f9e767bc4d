#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = ggninja_syntax::depfile::parse(data) {
        // Cheap sanity: no empty names come out.
        assert!(d.outs.iter().all(|s| !s.is_empty()));
        assert!(d.ins.iter().all(|s| !s.is_empty()));
    }
});
