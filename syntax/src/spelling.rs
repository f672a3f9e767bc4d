//! How a path is spelled, byte by byte: whether its slashes alone tell its
//! components. Ignores the file system and what the path names.

/// Whether no component of `path` is empty or starts with `.` (no `//`,
/// no `/.`, no leading `.`): then its bytes and its components agree, and
/// none is `.` or `..`. Every byte pair is looked at, folded with bitwise
/// operators so the loop vectorizes: stopping at the first `//` saves
/// nothing, as most spellings are plain. Inlined where called (a depfile's
/// every name, a manifest's every path), so the fold vectorizes there.
#[inline]
pub fn plain(path: &[u8]) -> bool {
    let starts_badly = |(&x, &y): (&u8, &u8)| u8::from((x == b'/') & ((y == b'/') | (y == b'.')));
    let pairs = path.iter().zip(path.get(1..).unwrap_or_default());
    path.first() != Some(&b'.') && pairs.fold(0, |bad, pair| bad | starts_badly(pair)) == 0
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn a_component_empty_or_starting_with_a_dot_is_not_plain() {
        for p in ["/usr/include/stdio.h", "src/a.b/c.h", "a", "/", "", "a/"] {
            assert!(plain(p.as_bytes()), "{p}");
        }
        for p in ["./a", ".h", "a//b", "a/./b", "a/../b", "a/.h", "/.", "//"] {
            assert!(!plain(p.as_bytes()), "{p}");
        }
    }
}
