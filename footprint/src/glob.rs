//! File name patterns in a command list (`cc -c a.c b.c && ar rcs lib.a
//! *.o`), expanded as the shell will expand them when the step runs: the
//! names in the directory now, less those the list's earlier steps
//! removed, plus those they wrote. Then the step's footprint is that of its
//! expanded words, and every file a pattern matches is an input.
//!
//! The shell sorts the matches by its collation (`LC_COLLATE`; dash by
//! bytes, bash by the locale), which decides, say, the order of an
//! archive's members: the expansion is sorted by bytes and the footprint
//! names the collation in force (`collation`), so a thunk holds it.
//! Unaware of brackets (`[ab]`, refused by the splitter), of patterns in
//! a directory part (refused here), and of other edges that may write a
//! matching name meanwhile (the thunk builder checks the graph).

use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::paths::normal;
use crate::LocalOnly;

/// What the shell makes of the word `pattern` in `dir`, where `made` are
/// the files (lexically normal paths) earlier steps wrote and `gone` those
/// they removed: the matching paths as the word would spell them.
pub(crate) fn expand(
    pattern: &str,
    dir: &Path,
    made: &HashSet<PathBuf>,
    gone: &HashSet<PathBuf>,
) -> Result<Vec<String>, LocalOnly> {
    let (prefix, name) = match pattern.rfind('/') {
        Some(i) => pattern.split_at(i + 1),
        None => ("", pattern),
    };
    if is_pattern(prefix) {
        return Err(LocalOnly::new(format!(
            "the pattern `{pattern}` has one in a directory part"
        )));
    }
    let in_dir = normal(&dir.join(prefix));
    let listed = std::fs::read_dir(&in_dir).into_iter().flatten().flatten();
    let present = listed.map(|e| in_dir.join(e.file_name()));
    let written = made.iter().filter(|p| p.parent() == Some(&in_dir)).cloned();
    let mut names: Vec<Vec<u8>> = present
        .filter(|p| !gone.contains(p))
        .chain(written)
        .filter_map(|p| p.file_name().map(|n| n.as_bytes().to_vec()))
        .filter(|n| matches(name.as_bytes(), n))
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        // The shell would pass the word on as it is.
        return Err(LocalOnly::new(format!(
            "the pattern `{pattern}` matches no file"
        )));
    }
    let spelled = |n: Vec<u8>| format!("{prefix}{}", OsStr::from_bytes(&n).to_string_lossy());
    Ok(names.into_iter().map(spelled).collect())
}

/// Whether `word` holds a pattern character (`*`, `?`).
pub fn is_pattern(word: &str) -> bool {
    word.contains(['*', '?'])
}

/// Whether the file name `name` matches `pattern` as the shell's
/// expansion does: `*` any run of bytes, `?` any one; a leading `.` only
/// by a leading `.`.
pub fn matches(pattern: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pattern.first() != Some(&b'.') {
        return false;
    }
    // The classic two-pointer match, backtracking to the last `*`.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    star = Some((sp, sn + 1));
                    (p, n) = (sp + 1, sn + 1);
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// The collation the shell sorts matches by: `LC_ALL`, else `LC_COLLATE`,
/// else `LANG` (POSIX's order), else `C`.
pub(crate) fn collation() -> String {
    ["LC_ALL", "LC_COLLATE", "LANG"]
        .iter()
        .filter_map(std::env::var_os)
        .find(|v| !v.is_empty())
        .map_or_else(|| "C".into(), |v| v.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks_match_as_the_shell_does() {
        for (pattern, name) in [
            ("*.o", "a.o"),
            ("*.o", ".o.o.o"),
            ("a*b*c", "abxbc"),
            ("?.o", "x.o"),
            ("*", "x"),
            (".*", ".hidden"),
            ("lib*.a", "lib.a"),
        ] {
            let hidden = name.starts_with('.') && !pattern.starts_with('.');
            assert_eq!(
                matches(pattern.as_bytes(), name.as_bytes()),
                !hidden,
                "{pattern} {name}"
            );
        }
        for (pattern, name) in [
            ("*.o", "a.c"),
            ("?.o", "ab.o"),
            ("a*b", "ba"),
            ("*.o", "a.o.d"),
        ] {
            assert!(
                !matches(pattern.as_bytes(), name.as_bytes()),
                "{pattern} {name}"
            );
        }
    }

    #[test]
    fn a_pattern_expands_to_what_is_there_and_what_the_list_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["old.o", "gone.o", "b.c", ".hidden.o"] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let made: HashSet<PathBuf> = [d.join("new.o"), d.join("sub/x.o")].into();
        let gone: HashSet<PathBuf> = [d.join("gone.o")].into();
        let words = expand("*.o", d, &made, &gone).unwrap();
        assert_eq!(words, ["new.o", "old.o"]);
        std::fs::create_dir(d.join("sub")).unwrap();
        assert_eq!(expand("sub/*.o", d, &made, &gone).unwrap(), ["sub/x.o"]);
        assert!(expand("*.a", d, &made, &gone).is_err());
        assert!(expand("s*/x.o", d, &made, &gone).is_err());
    }
}
