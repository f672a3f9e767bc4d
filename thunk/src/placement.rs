//! Where a thunk can run, as far as the thunk itself says: which of its
//! inputs travel with it (those inside the two roots; the rest comes from
//! the function's image) and which commands must stay on this machine.
//! The remote engine decides by these, and `-t simulate` predicts by them.
//! Ignores what the remote side holds and its limits.

use crate::roots::{BUILD_ROOT, SOURCE_ROOT};
use ggninja_syntax::shell::{split_steps, Step};

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
/// A command list that makes directories, moves files or makes symlinks
/// (`mkdir objs`, `mv objs/a.o a.lo`, `ln -s libz.so.1.2 libz.so`): what it
/// does besides writing its outputs only a run or a memo hit here repeats.
/// A command that leaves files besides the edge's outputs (`side_outputs`:
/// make's `-MMD` depfile): the function returns the outputs alone.
/// A list with file name patterns (`ar rcs lib.a *.o`): the shell sorts
/// the matches by this machine's collation, which the function's image
/// may not have. An `if` that tests for files (`/usr/bin/ranlib`): the
/// image may have others.
pub fn stays_local(argv: &[String], side_outputs: &[String]) -> Option<&'static str> {
    if !side_outputs.is_empty() {
        return Some("it writes files besides its outputs, which the function does not return");
    }
    let rpath_into_tree = argv
        .iter()
        .any(|a| a.contains("-rpath") && (a.contains(BUILD_ROOT) || a.contains(SOURCE_ROOT)));
    if rpath_into_tree {
        return Some("it links with an -rpath into the build tree");
    }
    shell_steps(argv).and_then(|steps| {
        let why = |step: &Step| match step {
            Step::Ignored(_) => Some("it makes directories, moves files or makes symlinks"),
            Step::Globbed { .. } => {
                Some("the shell sorts its patterns' matches by this machine's locale")
            }
            Step::If(_) => Some("what it runs depends on which files this machine has"),
            Step::Run(words) => {
                let program = words[0].rsplit('/').next().unwrap_or_default();
                matches!(program, "mkdir" | "rmdir" | "mv" | "ln")
                    .then_some("it makes directories, moves files or makes symlinks")
            }
        };
        steps.iter().find_map(why)
    })
}

/// The steps of `argv` if it is `sh -c LIST`.
fn shell_steps(argv: &[String]) -> Option<Vec<Step>> {
    let [sh, c, list] = argv else {
        return None;
    };
    if !sh.ends_with("sh") || c != "-c" {
        return None;
    }
    split_steps(list).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn links_with_an_rpath_into_the_tree_stay_local() {
        assert!(stays_local(&with_argv("cc -o a a.o -Wl,-rpath,/ggroot/build/lib"), &[]).is_some());
        assert!(stays_local(&with_argv("cc -o a a.o -Wl,-rpath,/opt/lib"), &[]).is_none());
        assert!(stays_local(&with_argv("cc -c a.c -o /ggroot/build/a.o"), &[]).is_none());
        let side = ["a.d".to_string()];
        assert!(stays_local(&with_argv("cc -MMD -c a.c -o a.o"), &side).is_some());
    }

    #[test]
    fn lists_that_change_the_tree_stay_local() {
        let sh = |list: &str| vec!["/bin/sh".to_string(), "-c".into(), list.into()];
        let zlib = "{ (\nmkdir objs\n) || true; } && cc -c -o objs/a.o a.c && \
                    { (\nmv objs/a.o a.lo\n) || true; }";
        assert!(stays_local(&sh(zlib), &[]).is_some());
        assert!(stays_local(&sh("cc -shared -o l.so.1 a.o && ln -s l.so.1 l.so"), &[]).is_some());
        assert!(stays_local(&sh("rm -f l.a && ar qc l.a a.o"), &[]).is_none());
        assert!(stays_local(&sh("cd sub && export MAKELEVEL=2 && cc -c a.c"), &[]).is_none());
        assert!(stays_local(&sh("ar rcs l.a *.o"), &[]).is_some());
        let ranlib = "ar cq l.a a.o && (\nif test -f /usr/bin/ranlib; then ranlib l.a; fi\n)";
        assert!(stays_local(&sh(ranlib), &[]).is_some());
    }

    #[test]
    fn only_paths_inside_the_roots_travel() {
        assert!(is_in_root("/ggroot/build/a.o"));
        assert!(is_in_root("/ggroot/src/a.c"));
        assert!(!is_in_root("/ggroot/buildx/a"));
        assert!(!is_in_root("/usr/include/stdio.h"));
    }
}
