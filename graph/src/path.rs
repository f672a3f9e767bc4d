//! Path canonicalization, as ninja does it: purely lexical.

/// Collapses `.` and `x/..` components and repeated slashes.
/// `None` for an empty path.
pub fn canonicalize(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
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
    Some(match (absolute, joined.is_empty()) {
        // ninja turns "/" and "/foo/.." into "", a quirk kept for parity.
        (true, true) => String::new(),
        (true, false) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    })
}

#[cfg(test)]
mod tests {
    use super::canonicalize as c;

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
