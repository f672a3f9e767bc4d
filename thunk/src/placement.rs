//! Where a thunk can run, as far as the thunk itself says: which of its
//! inputs travel with it (those inside the two roots; the rest comes from
//! the function's image) and which commands must stay on this machine.
//! The remote engine decides by these, and `-t simulate` predicts by them.
//! Ignores what the remote side holds and its limits.

use crate::roots::{BUILD_ROOT, SOURCE_ROOT};

/// Whether `path` (thunk-visible) lies inside the build or source root,
/// so the object travels with the thunk.
pub fn is_in_root(path: &str) -> bool {
    [BUILD_ROOT, SOURCE_ROOT].iter().any(|r| {
        path.strip_prefix(r)
            .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Why a thunk running `argv` must run here although it is hermetic. A link whose
/// `-rpath` names the build or source tree: ld looks there for the
/// libraries its libraries need, and the function lays the trees out
/// elsewhere, so the binary it links would differ (or not link).
pub fn stays_local(argv: &[String]) -> Option<&'static str> {
    let rpath_into_tree = argv
        .iter()
        .any(|a| a.contains("-rpath") && (a.contains(BUILD_ROOT) || a.contains(SOURCE_ROOT)));
    rpath_into_tree.then_some("it links with an -rpath into the build tree")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn links_with_an_rpath_into_the_tree_stay_local() {
        assert!(stays_local(&with_argv("cc -o a a.o -Wl,-rpath,/ggroot/build/lib")).is_some());
        assert!(stays_local(&with_argv("cc -o a a.o -Wl,-rpath,/opt/lib")).is_none());
        assert!(stays_local(&with_argv("cc -c a.c -o /ggroot/build/a.o")).is_none());
    }

    #[test]
    fn only_paths_inside_the_roots_travel() {
        assert!(is_in_root("/ggroot/build/a.o"));
        assert!(is_in_root("/ggroot/src/a.c"));
        assert!(!is_in_root("/ggroot/buildx/a"));
        assert!(!is_in_root("/usr/include/stdio.h"));
    }
}
