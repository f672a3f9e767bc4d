//! `$(wildcard)` as make 4.3 gets it from glibc's `glob`: each word's
//! `/`-separated parts are matched one directory at a time and the names
//! found are spelled as the pattern spells the rest (`d*/.` gives `d/.`,
//! `d*/` only directories, with their slash); a name's leading dot is
//! matched only by a dot; each word's matches sorted, words in order.
//! Ignores backslash quoting in patterns and `~`.

use std::path::Path;

use glob::{MatchOptions, Pattern};

/// Each word of `text` globbed from `cwd` (absolute); what exists, as the
/// words spell it.
pub fn wildcard(cwd: &Path, text: &str) -> String {
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        let mut found = matches(cwd, word);
        found.sort();
        out.extend(found);
    }
    out.join(" ")
}

/// The paths `word` names that exist.
fn matches(cwd: &Path, word: &str) -> Vec<String> {
    let mut parts = word.split('/');
    let mut paths = vec![String::new()];
    if word.starts_with('/') {
        parts.next();
        paths = vec!["/".to_string()];
    }
    for part in parts {
        paths = match magic(part) {
            Some(pattern) => paths
                .iter()
                .flat_map(|dir| matching_names(cwd, dir, &pattern))
                .collect(),
            None => paths.iter().map(|dir| join(dir, part)).collect(),
        };
    }
    // A part without glob characters is taken as written: it must exist.
    paths.retain(|p| std::fs::symlink_metadata(cwd.join(p)).is_ok());
    paths
}

/// The part as a glob pattern, when it has glob characters.
fn magic(part: &str) -> Option<Pattern> {
    if !part.contains(['*', '?', '[']) {
        return None;
    }
    Pattern::new(part).ok()
}

/// `dir`'s entries `pattern` matches, each joined to `dir`.
fn matching_names(cwd: &Path, dir: &str, pattern: &Pattern) -> Vec<String> {
    let options = MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let Ok(entries) = std::fs::read_dir(cwd.join(if dir.is_empty() { "." } else { dir })) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| pattern.matches_with(name, options))
        .map(|name| join(dir, &name))
        .collect()
}

/// `dir/name`, spelled as written (`` and `/` are prefixes of their own).
fn join(dir: &str, name: &str) -> String {
    match dir {
        "" => name.to_string(),
        "/" => format!("/{name}"),
        _ => format!("{dir}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_spell_what_they_match_as_make_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["hellod/worldd/kend1", "__rdir"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for f in ["hellof", "hellod/worldf", "hellod/.hidden", "b.c", "a.c"] {
            std::fs::write(root.join(f), "").unwrap();
        }
        std::os::unix::fs::symlink("__rdir", root.join("__ldir")).unwrap();
        let w = |text: &str| wildcard(root, text);
        assert_eq!(w("hello*"), "hellod hellof");
        assert_eq!(w("hello*/"), "hellod/");
        assert_eq!(w("hellod/*"), "hellod/worldd hellod/worldf");
        assert_eq!(w("*/world?/ken*/"), "hellod/worldd/kend1/");
        assert_eq!(w("__ldir*/."), "__ldir/.");
        assert_eq!(w("*.c hellof nothere *.h"), "a.c b.c hellof");
        assert_eq!(w("/"), "/");
        let abs = root.join("hello*").to_string_lossy().into_owned();
        assert_eq!(w(&abs), format!("{0}/hellod {0}/hellof", root.display()));
    }
}
