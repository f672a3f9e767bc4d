//! Path helpers that look at a name, or at what one `stat` says: unaware of
//! commands, include chains and toolchains.

use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use ggninja_syntax::spelling::plain;

/// Whether `p` is a regular file (following symlinks).
pub(crate) fn is_file(p: &Path) -> bool {
    std::fs::metadata(p).map(|m| m.is_file()).unwrap_or(false)
}

/// Whether `path` is under one of `dirs`: `Path::starts_with` (by
/// components), answered on bytes where the two agree: neither spelling
/// has an empty or `.` component, the path's checked once, not once a dir.
/// Every header of every kept walk is asked this against the built-in
/// dirs, and walking components costs more than the rest of its check.
pub(crate) fn under_any<D: AsRef<Path>>(path: &Path, dirs: &[D]) -> bool {
    let p = path.as_os_str().as_bytes();
    let plain_path = plain(p);
    dirs.iter().any(|dir| {
        let dir = dir.as_ref();
        let d = dir.as_os_str().as_bytes();
        if d.is_empty() || !plain_path || !plain(d) {
            return path.starts_with(dir);
        }
        let d = d.strip_suffix(b"/").filter(|d| !d.is_empty()).unwrap_or(d);
        p.starts_with(d) && (p.len() == d.len() || p[d.len()] == b'/' || d == b"/")
    })
}

/// `path.strip_prefix(cwd)`, or `path` when not under it; by bytes when
/// what follows `cwd/` is spelled plainly (no empty or `.` component, no
/// trailing `/`), where bytes and components agree. Every header the
/// scanner did not find is asked this (a memo hit makes a key per edge).
pub fn relative<'a>(path: &'a Path, cwd: &Path) -> &'a Path {
    let (p, c) = (path.as_os_str().as_bytes(), cwd.as_os_str().as_bytes());
    let rest = p.strip_prefix(c).and_then(|r| r.strip_prefix(b"/"));
    let spelled = |r: &[u8]| !r.is_empty() && r[0] != b'/' && !r.ends_with(b"/") && plain(r);
    match rest {
        Some(r) if !c.is_empty() && !c.ends_with(b"/") && spelled(r) => {
            Path::new(std::ffi::OsStr::from_bytes(r))
        }
        // Both spelled plainly, components are the bytes between slashes:
        // not under `cwd` by bytes, not under it at all (the include walk's
        // missing headers, mostly in the source tree).
        None if !p.starts_with(c) && tidy(p) && tidy(c) => path,
        _ => path.strip_prefix(cwd).unwrap_or(path),
    }
}

/// `plain`, and no trailing `/`.
fn tidy(b: &[u8]) -> bool {
    plain(b) && !b.ends_with(b"/")
}

/// Removes `.` components (keeps `..`: symlinks make it meaningful).
pub(crate) fn clean(p: PathBuf) -> PathBuf {
    if !p.components().any(|c| matches!(c, Component::CurDir)) {
        return p;
    }
    let c: PathBuf = p
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    if c.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        c
    }
}

/// `p` with `.` and `name/..` removed, without looking at the disk: how a
/// list's commands name one file, to match a write with a later read.
pub fn normal(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// Sorts paths as bytes (cheaper than a set of paths, whose comparisons
/// walk components) and drops duplicates. A stable sort, which merges runs
/// already sorted in linear time: a kept walk's headers after a template's.
pub(crate) fn sort_paths(paths: &mut Vec<PathBuf>) {
    paths.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    paths.dedup_by(|a, b| a.as_os_str() == b.as_os_str());
}

/// `p` if it is a file, or the files directly in it if it is a directory
/// (as `p/name`), in name order.
pub(crate) fn file_or_dir_files(p: &Path, cwd: &Path) -> Vec<PathBuf> {
    let abs = cwd.join(p);
    if abs.is_file() {
        return vec![p.to_path_buf()];
    }
    let Ok(rd) = std::fs::read_dir(&abs) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| p.join(e.file_name()))
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_drops_dots_but_keeps_dot_dots() {
        assert_eq!(clean("./a/./b.h".into()), PathBuf::from("a/b.h"));
        assert_eq!(clean("a/../b.h".into()), PathBuf::from("a/../b.h"));
        assert_eq!(clean(".".into()), PathBuf::from("."));
    }

    #[test]
    fn normal_folds_dot_dots_after_names_only() {
        assert_eq!(normal(Path::new("a/./b/../c.o")), PathBuf::from("a/c.o"));
        assert_eq!(normal(Path::new("../x/../y")), PathBuf::from("../y"));
        assert_eq!(normal(Path::new("/a/../b")), PathBuf::from("/b"));
    }

    /// `under` answers as `Path::starts_with` for every spelling.
    #[test]
    fn under_is_starts_with() {
        let dirs = [
            "/",
            "/usr/include",
            "/usr/include/",
            "/usr/include//",
            "/usr/./include",
            "inc",
            "./inc",
            "",
            "/usr/lib/gcc/x86_64-linux-gnu/12/include",
        ];
        let paths = [
            "/usr/include/stdio.h",
            "/usr/include",
            "/usr/include/",
            "/usr/includes/x.h",
            "/usr/include/../x.h",
            "/usr//include/x.h",
            "/usr/./include/x.h",
            "/usr/incl",
            "inc/a.h",
            "include/a.h",
            "./inc/a.h",
            "inc",
            "/usr/include/.hidden/x.h",
            "x",
            "/usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h",
            "",
        ];
        for d in dirs {
            for p in paths {
                let (p, d) = (Path::new(p), Path::new(d));
                assert_eq!(under_any(p, &[d]), p.starts_with(d), "{p:?} under {d:?}");
            }
        }
        // Several dirs: any of them, whatever the spelling of the others.
        for (i, d) in dirs.iter().enumerate() {
            let set = [dirs[(i + 3) % dirs.len()], d, dirs[(i + 5) % dirs.len()]];
            for p in paths {
                let want = set.iter().any(|d| Path::new(p).starts_with(d));
                assert_eq!(under_any(Path::new(p), &set), want, "{p:?} under {set:?}");
            }
        }
    }

    /// `relative` answers as `Path::strip_prefix` for every spelling.
    #[test]
    fn relative_is_strip_prefix() {
        let cwds = [
            "/b", "/b/", "/b//", "/b/./c", "/b/c", "/", "", "b", "./b", "/b/.c",
        ];
        let paths = [
            "/b/x.h",
            "/b/c/x.h",
            "/b//x.h",
            "/b/./x.h",
            "/b/x/",
            "/b/x/.",
            "/b/x//y",
            "/b/.h",
            "/bc/x.h",
            "/b",
            "/b/",
            "/usr/x.h",
            "b/x.h",
            "./b/x.h",
            "x.h",
            "",
            "/b/c",
            "/b/cd/x.h",
            "/b/c/",
            "/b/.c/x.h",
            "b",
            "/b/c//x.h",
        ];
        for c in cwds {
            for p in paths {
                let (p, c) = (Path::new(p), Path::new(c));
                let want = p.strip_prefix(c).unwrap_or(p);
                assert_eq!(
                    relative(p, c).as_os_str(),
                    want.as_os_str(),
                    "{p:?} in {c:?}"
                );
            }
        }
    }

    #[test]
    fn sort_paths_orders_bytes_and_dedups() {
        let mut v: Vec<PathBuf> = ["b", "a/c", "a", "b"].map(PathBuf::from).to_vec();
        sort_paths(&mut v);
        assert_eq!(v, ["a", "a/c", "b"].map(PathBuf::from));
    }

    #[test]
    fn file_or_dir_files_lists_a_dir() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("x.gch")).unwrap();
        std::fs::write(d.path().join("x.gch/b"), "").unwrap();
        std::fs::write(d.path().join("x.gch/a"), "").unwrap();
        std::fs::create_dir(d.path().join("x.gch/sub")).unwrap();
        let got = file_or_dir_files(Path::new("x.gch"), d.path());
        assert_eq!(got, ["x.gch/a", "x.gch/b"].map(PathBuf::from));
        assert!(file_or_dir_files(Path::new("none"), d.path()).is_empty());
    }
}
