//! Path canonicalization, as ninja does it: purely lexical.

/// Collapses `.` and `x/..` components and repeated slashes.
/// `None` for an empty path.
pub fn canonicalize(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    if is_canonical(path) {
        return Some(path.to_string());
    }
    Some(rewrite(path))
}

/// `canonicalize` for an owned string, reusing it when already canonical.
pub fn canonicalize_owned(path: String) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    if is_canonical(&path) {
        return Some(path);
    }
    Some(rewrite(&path))
}

/// Each of `paths` canonical, the empty ones dropped (a depfile's inputs).
pub fn canonicalize_all(paths: Vec<String>) -> Vec<String> {
    paths.into_iter().filter_map(canonicalize_owned).collect()
}

fn rewrite(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if absolute && parts.is_empty() => {}
                _ => parts.push(".."),
            },
            c => parts.push(c),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        // ninja turns "/" and "/foo/.." into "", a quirk kept for parity.
        (true, true) => String::new(),
        (true, false) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// True when no component is empty, `.` or `..` (the common case, which
/// then needs no rewriting).
fn is_canonical(path: &str) -> bool {
    let bytes = path.as_bytes();
    if plainly_canonical(bytes) {
        return true;
    }
    let absolute = bytes.first() == Some(&b'/');
    let rest = if absolute { &bytes[1..] } else { bytes };
    if rest.is_empty() {
        return false;
    }
    // Look at each component (after the start and after every slash, which
    // memchr finds): empty and "." are never canonical; ".." only while
    // everything before it in a relative path is ".." too.
    let mut only_dotdots = !absolute;
    let mut ok = |i: usize| match &rest[i..] {
        [] | [b'/', ..] | [b'.'] | [b'.', b'/', ..] => false,
        [b'.', b'.'] | [b'.', b'.', b'/', ..] => only_dotdots,
        _ => {
            only_dotdots = false;
            true
        }
    };
    ok(0) && memchr::memchr_iter(b'/', rest).all(|i| ok(i + 1))
}

/// True when no component starts with `.` or is empty (no `//`, no
/// trailing slash), so none is `.` or `..`: most paths (a depfile's
/// headers), told by one branch-free pass. False says nothing.
fn plainly_canonical(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.last() != Some(&b'/') && ggninja_syntax::spelling::plain(bytes)
}

#[cfg(test)]
mod tests {
    use super::canonicalize as c;

    /// The quick answer is only ever a sure one.
    #[test]
    fn plainly_canonical_paths_are_canonical() {
        let parts = ["", "/", ".", "..", "a", ".h", "b.c", "//", "/."];
        for x in parts {
            for y in parts {
                for z in parts {
                    let p = format!("{x}{y}{z}");
                    // Checked against the rewrite itself, which it skips.
                    if super::plainly_canonical(p.as_bytes()) {
                        assert_eq!(super::rewrite(&p), p);
                    }
                }
            }
        }
        assert!(super::plainly_canonical(b"/usr/include/stdio.h"));
        assert!(super::plainly_canonical(b"src/a.b/c.h"));
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(c("foo.h").unwrap(), "foo.h");
        assert_eq!(c("./foo.h").unwrap(), "foo.h");
        assert_eq!(c("./foo/./bar.h").unwrap(), "foo/bar.h");
        assert_eq!(c("./x/foo/../bar.h").unwrap(), "x/bar.h");
        assert_eq!(c("./x/foo/../../bar.h").unwrap(), "bar.h");
        assert_eq!(c("foo//bar").unwrap(), "foo/bar");
        assert_eq!(c("foo//.//..///bar").unwrap(), "bar");
        assert_eq!(c("../../foo/bar.h").unwrap(), "../../foo/bar.h");
        assert_eq!(c("../a/../b").unwrap(), "../b");
        assert_eq!(c("/../a").unwrap(), "/a");
        assert_eq!(c("..").unwrap(), "..");
        assert_eq!(c("test/../../foo/bar.h").unwrap(), "../foo/bar.h");
        assert_eq!(c("foo/./.").unwrap(), "foo");
        assert_eq!(c("foo/bar/..").unwrap(), "foo");
        assert_eq!(c("foo/.hidden_bar").unwrap(), "foo/.hidden_bar");
        assert_eq!(c("/foo").unwrap(), "/foo");
        assert_eq!(c("/foo/..").unwrap(), "");
        assert_eq!(c("./x/../foo/../../bar.h").unwrap(), "../bar.h");
        assert_eq!(c(".").unwrap(), ".");
        assert_eq!(c("./.").unwrap(), ".");
        assert_eq!(c("foo/..").unwrap(), ".");
        assert!(c("").is_none());
    }
}
