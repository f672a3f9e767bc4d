//! The file commands a command list may hold besides build steps, read
//! from their words: `mkdir [-p] DIR...`, `rmdir DIR...`, `mv [-f] FROM TO`,
//! `ln -s[f] TARGET LINK`, `test -d|-e|-f PATH` (and `[ ... ]`), `true`,
//! `echo WORDS` (the shell's, printing literal words: a list's words hold no
//! redirection or expansion).
//! Each says what it does to the tree (an [`Effect`]), so a memo hit can
//! do the same. Forms whose effect depends on the tree are refused: a
//! destination that is a directory (`mv a.o objs/` moves into it), any
//! other option. Unaware of what the list did before (see `list`).

use std::path::{Path, PathBuf};

use crate::classify::basename;
use crate::{Effect, LocalOnly};

/// A file command, as read from its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileStep {
    /// Changes nothing (`test`, `true`, `echo`).
    Nothing,
    /// Runs a program to do `Effect`s (`mkdir a b`: two).
    Effects(Vec<Effect>),
}

/// What `words`, run in `dir`, does, if it is a file command (None: it is
/// not one). Paths stay as written, relative to `dir`.
pub(crate) fn file_step(words: &[String], dir: &Path) -> Option<Result<FileStep, LocalOnly>> {
    let (program, args) = words.split_first()?;
    let refused = |what: &str| Some(Err(LocalOnly::new(format!("`{program}` {what}"))));
    let operands: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let options: Vec<&str> = args
        .iter()
        .filter(|a| a.starts_with('-'))
        .map(|a| a.as_str())
        .collect();
    let effects = match basename(program) {
        "true" | ":" if args.is_empty() => return Some(Ok(FileStep::Nothing)),
        // The shell's own `echo` (a bare name: `/bin/echo` is a program)
        // only prints its literal words, which a hit replays as it does a
        // compiler's warnings: make's `@echo "CC $@"` before a compile.
        "echo" if program == "echo" => return Some(Ok(FileStep::Nothing)),
        "test" | "[" => return Some(test(program, args).map(|_| FileStep::Nothing)),
        "mkdir" => {
            let parents = match options.as_slice() {
                [] => false,
                ["-p"] => true,
                _ => return refused("with options other than -p"),
            };
            if operands.is_empty() {
                return refused("without a directory");
            }
            let dir = |p: &&String| Effect::MakeDir {
                path: PathBuf::from(p.as_str()),
                parents,
            };
            operands.iter().map(dir).collect()
        }
        "rmdir" if options.is_empty() && !operands.is_empty() => operands
            .iter()
            .map(|p| Effect::RemoveDir(PathBuf::from(p.as_str())))
            .collect(),
        "mv" if matches!(options.as_slice(), [] | ["-f"]) => match operands.as_slice() {
            [from, to] if !into_dir(to, dir) => vec![Effect::Moved {
                from: PathBuf::from(from.as_str()),
                to: PathBuf::from(to.as_str()),
            }],
            _ => return refused("into a directory, or of several files"),
        },
        "ln" if matches!(
            options.as_slice(),
            ["-s"] | ["-sf"] | ["-fs"] | ["-s", "-f"]
        ) =>
        {
            match operands.as_slice() {
                [target, link] if !into_dir(link, dir) => vec![Effect::Symlink {
                    target: target.to_string(),
                    link: PathBuf::from(link.as_str()),
                }],
                _ => return refused("into a directory, or of several files"),
            }
        }
        "rmdir" | "mv" | "ln" => return refused("with these options"),
        _ => return None,
    };
    Some(Ok(FileStep::Effects(effects)))
}

/// `test -d|-e|-f PATH`, or `[ -d|-e|-f PATH ]`: it only asks; the
/// question (`d`, `e` or `f`) and the path.
pub(crate) fn test<'a>(program: &str, args: &'a [String]) -> Result<(char, &'a str), LocalOnly> {
    let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
    let (question, path) = match (basename(program), args.as_slice()) {
        ("test", [op, path]) => (*op, *path),
        ("[", [op, path, "]"]) => (*op, *path),
        _ => return Err(LocalOnly::new(format!("`{program} {}`", args.join(" ")))),
    };
    match question {
        "-d" | "-e" | "-f" => Ok((question.as_bytes()[1] as char, path)),
        _ => Err(LocalOnly::new(format!("`{program} {question}`"))),
    }
}

/// What `test -Q PATH` answers of the file `meta` says is there.
pub(crate) fn answer(question: char, meta: Option<&std::fs::Metadata>) -> bool {
    match (question, meta) {
        (_, None) => false,
        ('d', Some(m)) => m.is_dir(),
        ('f', Some(m)) => m.is_file(),
        _ => true,
    }
}

/// Whether `to` names a directory, so that `mv`/`ln` would put the file
/// inside it rather than at `to`.
fn into_dir(to: &str, dir: &Path) -> bool {
    to.ends_with('/') || to == "." || to == ".." || dir.join(to).is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(s: &str, dir: &Path) -> Option<Result<FileStep, LocalOnly>> {
        let words: Vec<String> = s.split_whitespace().map(String::from).collect();
        file_step(&words, dir)
    }

    fn effects(s: &str, dir: &Path) -> Vec<Effect> {
        match step(s, dir) {
            Some(Ok(FileStep::Effects(e))) => e,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn what_each_command_does() {
        let d = tempfile::tempdir().unwrap();
        let at = d.path();
        let made = effects("mkdir -p a b", at);
        assert_eq!(made.len(), 2);
        assert_eq!(
            made[0],
            Effect::MakeDir {
                path: "a".into(),
                parents: true
            }
        );
        assert_eq!(
            effects("mv objs/a.o a.lo", at),
            [Effect::Moved {
                from: "objs/a.o".into(),
                to: "a.lo".into()
            }]
        );
        assert_eq!(
            effects("ln -s libz.so.1.2 libz.so", at),
            [Effect::Symlink {
                target: "libz.so.1.2".into(),
                link: "libz.so".into()
            }]
        );
        assert_eq!(
            effects("rmdir objs", at),
            [Effect::RemoveDir("objs".into())]
        );
        for ask in ["test -d objs", "[ -e x ]", "true"] {
            assert_eq!(step(ask, at), Some(Ok(FileStep::Nothing)), "{ask}");
        }
        assert_eq!(step("cc -c a.c", at), None);
    }

    #[test]
    fn forms_that_depend_on_the_tree_are_refused() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("objs")).unwrap();
        for s in [
            "mv a.o objs",
            "mv a.o objs/",
            "mv a.o b.o c/",
            "mv -t objs a.o",
            "ln -s a objs",
            "ln a b",
            "ln -s a",
            "mkdir -m 700 x",
            "mkdir",
            "rmdir -p a/b",
            "test -n x",
            "test x",
            "[ -d x",
        ] {
            assert!(
                !matches!(step(s, d.path()), Some(Ok(_)) | None),
                "{s} accepted"
            );
        }
    }
}
