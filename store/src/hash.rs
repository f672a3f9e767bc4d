//! Content hashes (SHA-256) with printable names: what the store calls its
//! objects and a thunk calls its inputs. Unaware of files and caching (the
//! thunk crate's `HashCache` hashes files).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// What a hash names: a file's content (a value) or a thunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Value,
    Thunk,
}

/// A content hash. Printed as gg prints them: a type letter (`V` or `T`),
/// the SHA-256 digest in URL-safe base64, and the size as 8 hex digits, so
/// a scheduler knows sizes without fetching anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash {
    pub kind: Kind,
    pub digest: [u8; 32],
    pub size: u64,
}

impl ContentHash {
    pub fn of(kind: Kind, bytes: &[u8]) -> ContentHash {
        ContentHash {
            kind,
            digest: Sha256::digest(bytes).into(),
            size: bytes.len() as u64,
        }
    }

    /// Parses the printed form.
    pub fn parse(text: &str) -> Option<ContentHash> {
        let kind = match text.as_bytes().first()? {
            b'V' => Kind::Value,
            b'T' => Kind::Thunk,
            _ => return None,
        };
        let (b64, size) = text.get(1..44).zip(text.get(44..))?;
        let bytes = URL_SAFE_NO_PAD.decode(b64).ok()?;
        let digest: [u8; 32] = bytes.try_into().ok()?;
        let size = u64::from_str_radix(size, 16).ok()?;
        Some(ContentHash { kind, digest, size })
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Encoded in place, the size as at least 8 hex digits: every input
        // of every thunk is printed so (`write!` cost 2% of a warm rebuild).
        let mut name = [0u8; 44 + 16];
        name[0] = match self.kind {
            Kind::Value => b'V',
            Kind::Thunk => b'T',
        };
        URL_SAFE_NO_PAD
            .encode_slice(self.digest, &mut name[1..44])
            .expect("43 characters hold 32 bytes");
        let digits = (16 - self.size.leading_zeros() as usize / 4).max(8);
        for (i, c) in name[44..44 + digits].iter_mut().enumerate() {
            let nibble = (self.size >> (4 * (digits - 1 - i))) & 0xf;
            *c = b"0123456789abcdef"[nibble as usize];
        }
        let name = &name[..44 + digits];
        f.write_str(std::str::from_utf8(name).expect("base64 and hex are ASCII"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_is_at_least_eight_hex_digits() {
        for size in [0, 1, 0xffff_ffff, 0x1_0000_0000, 0xabc_def0_1234, u64::MAX] {
            let h = ContentHash {
                size,
                ..ContentHash::of(Kind::Thunk, b"x")
            };
            let text = h.to_string();
            assert_eq!(text[44..], format!("{size:08x}"), "{size}");
            assert_eq!(ContentHash::parse(&text), Some(h));
        }
    }

    #[test]
    fn printable_form_round_trips() {
        let h = ContentHash::of(Kind::Value, b"hello");
        let text = h.to_string();
        assert!(text.starts_with('V'));
        assert_eq!(text.len(), 1 + 43 + 8);
        assert!(text.ends_with("00000005"));
        assert_eq!(ContentHash::parse(&text), Some(h));
        let t = ContentHash::of(Kind::Thunk, b"hello");
        assert_ne!(t.to_string(), text);
        assert!(t.to_string().starts_with('T'));
    }
}
