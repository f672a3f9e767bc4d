#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = ggninja_syntax::depfile::parse(data);
    if let Ok(d) = &parsed {
        // Cheap sanity: no empty names come out.
        assert!(d.outs.iter().all(|s| !s.is_empty()));
        assert!(d.ins.iter().all(|s| !s.is_empty()));
    }
    // `names_are` says yes only to what `parse` gives: asked with the words
    // after the first, as blanks split them (distinct and plain, as it
    // requires).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let words: Vec<&str> = text.split_ascii_whitespace().skip(1).collect();
    let mut seen = std::collections::HashSet::new();
    let plain = |w: &&str| ggninja_syntax::depfile::is_plain_name(w.as_bytes());
    if words.iter().all(|w| seen.insert(*w)) && words.iter().all(plain)
        && ggninja_syntax::depfile::names_are(data, &words, |w| {
            words.iter().position(|n| n.as_bytes() == w)
        })
    {
        assert_eq!(parsed.map(|d| d.ins), Ok(words.iter().map(|w| w.to_string()).collect()));
    }
});
