//! A path as the daemon names it (absolute, from the run's directory) and
//! as the graph spells it (ninja's canonical form: relative to the run's
//! directory, leading `..` only, or absolute). The run's directory is the
//! physical one (`getcwd`), so a leading `..` is the physical parent, as
//! the kernel resolves it. Ignores symlinks: the daemon stats what lies
//! under one on every run.

/// `path` made absolute from `cwd`; None for a path not in canonical form
/// (never vouched for: stat'ed on every run).
pub fn absolute(cwd: &str, path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix('/') {
        return plain(rest).then(|| path.to_string());
    }
    let (mut base, mut rest) = (cwd.to_string(), path);
    while rest == ".." || rest.starts_with("../") {
        base = parent(&base)?.to_string();
        rest = rest.get(3..).unwrap_or("");
    }
    if rest.is_empty() {
        return Some(base);
    }
    plain(rest).then(|| join(&base, rest))
}

/// Whether the graph's `path` is in the form `absolute` takes.
pub fn watchable(path: &str) -> bool {
    if let Some(rest) = path.strip_prefix('/') {
        return plain(rest);
    }
    let mut rest = path;
    while rest == ".." || rest.starts_with("../") {
        rest = rest.get(3..).unwrap_or("");
    }
    plain(rest)
}

/// Whether `path` or a directory on its way is in `set` (graph spellings).
pub fn some_ancestor(path: &str, set: &std::collections::HashSet<String>) -> bool {
    set.contains(path)
        || path
            .match_indices('/')
            .any(|(i, _)| i > 0 && set.contains(&path[..i]))
}

/// Whether every component of relative `p` is a name (not empty, `.`, `..`).
fn plain(p: &str) -> bool {
    p.is_empty() || p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

fn join(dir: &str, rest: &str) -> String {
    match dir {
        "/" => format!("/{rest}"),
        _ => format!("{dir}/{rest}"),
    }
}

/// The directory holding `path` (`/` holds itself); None for a relative
/// path of one component (it lies in the run's directory).
pub fn parent(path: &str) -> Option<&str> {
    match path.rfind('/')? {
        0 => Some("/"),
        i => Some(&path[..i]),
    }
}

/// How the graph may spell absolute `path`: itself, and relative to `cwd`.
pub fn spellings(cwd: &str, path: &str) -> [Option<String>; 2] {
    [Some(path.to_string()), relative(cwd, path)]
}

/// `path` relative to `cwd`, both absolute: `..` as many times as needed.
fn relative(cwd: &str, path: &str) -> Option<String> {
    let mut base = cwd;
    let mut ups = 0;
    loop {
        if base == path {
            return (ups > 0).then(|| vec![".."; ups].join("/"));
        }
        let under = match base {
            "/" => path.strip_prefix('/'),
            _ => path.strip_prefix(base).and_then(|r| r.strip_prefix('/')),
        };
        if let Some(rest) = under {
            let up = "../".repeat(ups);
            return Some(format!("{up}{rest}"));
        }
        base = parent(base).filter(|p| *p != base)?;
        ups += 1;
    }
}

/// Whether `dir` is `path` or one of its ancestors (both absolute).
pub fn contains(dir: &str, path: &str) -> bool {
    dir == "/"
        || path
            .strip_prefix(dir)
            .is_some_and(|r| r.is_empty() || r.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_paths_are_made_absolute_from_the_run_directory() {
        let cwd = "/w/build";
        assert_eq!(absolute(cwd, "a/b.o").as_deref(), Some("/w/build/a/b.o"));
        assert_eq!(absolute(cwd, "../src/a.c").as_deref(), Some("/w/src/a.c"));
        assert_eq!(absolute(cwd, "../..").as_deref(), Some("/"));
        assert_eq!(absolute(cwd, "../../../x").as_deref(), Some("/x"));
        assert_eq!(absolute(cwd, "/usr/x.h").as_deref(), Some("/usr/x.h"));
        for odd in ["a/../b", "./a", "a//b", "/u/../x", "a/."] {
            assert_eq!(absolute(cwd, odd), None, "{odd}");
        }
    }

    #[test]
    fn a_daemon_path_is_spelled_as_the_graph_would() {
        let cwd = "/w/build";
        let rel = |p| spellings(cwd, p)[1].clone();
        assert_eq!(rel("/w/build/a/b.o").as_deref(), Some("a/b.o"));
        assert_eq!(rel("/w/src/a.c").as_deref(), Some("../src/a.c"));
        assert_eq!(rel("/w").as_deref(), Some(".."));
        assert_eq!(rel("/w/build"), None);
        assert_eq!(rel("/x").as_deref(), Some("../../x"));
        assert_eq!(rel("/w/buildx/a").as_deref(), Some("../buildx/a"));
        assert!(watchable("../a/b") && watchable("/a") && watchable("a"));
        assert!(!watchable("/../a") && !watchable("a/../b") && !watchable("./a"));
        let set: std::collections::HashSet<String> = ["../src".to_string(), "a/b".into()].into();
        assert!(some_ancestor("../src/x.c", &set) && some_ancestor("a/b", &set));
        assert!(!some_ancestor("a/bc", &set) && !some_ancestor("../srcx/y", &set));
        assert!(contains("/w", "/w/build") && contains("/", "/a") && !contains("/w/b", "/w/bc"));
    }
}
