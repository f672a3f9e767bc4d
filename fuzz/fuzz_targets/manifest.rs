#![no_main]
//! The manifest parser must never panic: bad input is `Err(LoadError)`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ggninja_importer::Options::default();
    let _ = ggninja_importer::parse_str("build.ninja", data, &opts);
    // Also with the non-default warning option (phonycycle=err).
    let opts = ggninja_importer::Options {
        phonycycle_is_error: true,
    };
    let _ = ggninja_importer::parse_str("build.ninja", data, &opts);
});
