//! A fast checksum of an object's bytes (XXH3-128), kept in a memo entry
//! beside each output's SHA-256 name: a hit checks the object it restores
//! against it instead of hashing it with SHA-256 again, which was a sixth
//! of a warm rebuild's CPU (libarchive restores 35 MB).
//!
//! The entry's writer takes both from the same bytes, so an object that
//! still matches its checksum (and the size its name gives) holds the
//! bytes its name says: a flipped bit, a truncated, grown or rewritten
//! file fails, as ccache's XXH3 checksums catch. What it does not catch is
//! an object forged on purpose to collide; whoever can write the store
//! can write its entries too. An entry without checksums (an older
//! ggninja's) is checked by SHA-256. Unaware of files and entries.

use std::fmt;

use xxhash_rust::xxh3::xxh3_128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checksum(u128);

impl Checksum {
    pub fn of(bytes: &[u8]) -> Checksum {
        Checksum(xxh3_128(bytes))
    }

    /// The checksum an XXH3-128 hasher fed the bytes in parts gives.
    pub(crate) fn from_digest(digest: u128) -> Checksum {
        Checksum(digest)
    }

    /// Parses the printed form: 32 lowercase hex digits.
    pub fn parse(text: &str) -> Option<Checksum> {
        let hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
        if text.len() != 32 || !text.as_bytes().iter().all(hex) {
            return None;
        }
        u128::from_str_radix(text, 16).ok().map(Checksum)
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_form_round_trips_and_nothing_else_parses() {
        let c = Checksum::of(b"object file");
        let text = c.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(Checksum::parse(&text), Some(c));
        assert_ne!(Checksum::of(b"object fild"), c);
        let upper = text.to_uppercase();
        for bad in ["", "12", &text[1..], &format!("{text}0"), "+", &upper] {
            assert_eq!(Checksum::parse(bad), None, "{bad:?}");
        }
    }
}
