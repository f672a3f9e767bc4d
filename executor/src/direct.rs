//! A command line the shell would only split into words, run without the
//! shell. ninja runs every command as `/bin/sh -c LINE`; starting the shell
//! costs about as much again as starting a small command (a millisecond of
//! CPU here), and for a line like `cc -c a.c -o a.o` it does nothing but
//! split it at blanks and look the program up in `PATH`. GNU make has
//! skipped the shell for such lines for decades; this is a stricter test
//! than make's:
//!
//! - only letters, digits, blanks (space, tab) and `%+,-./:@_=` — plus
//!   bytes past ASCII: no quoting, expansion, globbing, operator, comment,
//!   tilde or brace; the one operator is `&&` and the one redirection `>`,
//!   each a word of its own (`>FILE` too), the redirection last in its
//!   command;
//! - programs whose first word is no assignment, shell keyword or builtin
//!   (dash's and bash's: `echo` or `test` run as builtins differ from
//!   `/bin/echo`), with nothing redirected, in an `&&` list run one after
//!   another until one fails, as the shell runs them; `:` and `true` among
//!   them do nothing and succeed (CMake writes every link as `: && cc ...
//!   && :`), so they are dropped; the list may start with `cd DIR` (CMake's
//!   custom commands), done here as dash does it (`cd`): the
//!   programs start in DIR with `PWD` and `OLDPWD` set;
//! - or only builtins that print or write a file (`builtin`), done in this
//!   process;
//! - an environment the shell would pass on unchanged but for `PWD`, which
//!   dash always exports (as inherited when it names the working directory,
//!   else the physical path); with `IFS`, `OPTIND` or `PPID` inherited, or no
//!   `PATH`, every command goes through the shell.
//!
//! A program that cannot be started directly (not found, not executable, a
//! script without `#!`), or a builtin line that fails, is then run by the
//! shell after all, so its message and exit status are the shell's.
//! Ignores everything else about commands.

use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::builtin;
use crate::steps::{steps, Step};

/// Shell keywords and builtins (dash's, bash's): a line starting with one
/// means what the shell makes of it.
const SHELL_WORDS: &[&str] = &[
    "!", ".", ":", "[", "[[", "]]", "{", "}", "alias", "bg", "break", "builtin", "case", "cd",
    "chdir", "command", "coproc", "continue", "declare", "do", "done", "echo", "elif", "else",
    "enable", "esac", "eval", "exec", "exit", "export", "false", "fc", "fg", "fi", "for",
    "function", "getopts", "hash", "if", "in", "jobs", "kill", "let", "local", "logout", "printf",
    "pwd", "read", "readonly", "return", "select", "set", "shift", "shopt", "source", "suspend",
    "test", "then", "time", "times", "trap", "true", "type", "typeset", "ulimit", "umask",
    "unalias", "unset", "until", "wait", "while",
];

/// Variables the shell would replace when it inherits them.
const SHELL_SETS: &[&str] = &["IFS", "OPTIND", "PPID"];

/// What a line runs as, without the shell.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Programs and their arguments, to run one after another while each
    /// succeeds.
    Programs(Programs<'a>),
    /// Builtins only, done here by `builtin::run`.
    Builtins(Vec<Step<'a>>),
}

/// The programs of an `&&` list, and where they run.
#[derive(Debug, PartialEq, Eq)]
pub struct Programs<'a> {
    /// A list starting with `cd DIR`: DIR as written, and the directory
    /// dash goes to (see `cd`).
    pub cd: Option<(&'a str, PathBuf)>,
    pub list: Vec<Vec<&'a str>>,
}

/// What `line` runs as without the shell, if it can.
pub fn line(line: &str) -> Option<Line<'_>> {
    pwd()?;
    let mut steps = steps(line)?;
    if steps.iter().all(builtin::is_builtin) {
        return Some(Line::Builtins(steps));
    }
    let cd = match steps[0].words[..] {
        ["cd", dir] if steps[0].to.is_none() && steps.len() > 1 => {
            steps.remove(0);
            Some((dir, cd(dir)?))
        }
        _ => None,
    };
    let programs = steps.into_iter().filter(|s| !builtin::does_nothing(s));
    let list = programs.map(program).collect::<Option<Vec<_>>>()?;
    (!list.is_empty()).then_some(Line::Programs(Programs { cd, list }))
}

/// Where dash's `cd DIR` goes: DIR from the logical working directory
/// (`PWD`), `.` and `..` taken as words of the path, not looked up (`-L`,
/// its default). None where dash would do more: an option, `-`, a search
/// of `CDPATH`, a path starting with `//` (kept as is).
fn cd(dir: &str) -> Option<PathBuf> {
    let (pwd, _) = pwd()?;
    let odd =
        dir.starts_with('-') || dir.starts_with("//") || pwd.as_encoded_bytes().starts_with(b"//");
    if odd || std::env::var_os("CDPATH").is_some() {
        return None;
    }
    let mut to = PathBuf::from("/");
    for part in Path::new(pwd).join(dir).components() {
        match part {
            Component::ParentDir => _ = to.pop(),
            Component::Normal(name) => to.push(name),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(to)
}

/// A step's words when they start a program.
fn program(step: Step<'_>) -> Option<Vec<&str>> {
    let first = step.words[0];
    let runs = step.to.is_none() && !first.contains('=') && !SHELL_WORDS.contains(&first);
    runs.then_some(step.words)
}

/// `PWD` as dash exports it here, when commands may skip the shell, and
/// whether this process's own differs (then each command is given it).
fn pwd() -> Option<&'static (OsString, bool)> {
    static PWD: OnceLock<Option<(OsString, bool)>> = OnceLock::new();
    PWD.get_or_init(|| {
        let shell_sets = SHELL_SETS.iter().any(|v| std::env::var_os(v).is_some());
        let path = std::env::var_os("PATH").filter(|p| !p.is_empty());
        if shell_sets || path.is_none() {
            return None;
        }
        let pwd = logical_cwd();
        let differs = std::env::var_os("PWD").as_ref() != Some(&pwd);
        Some((pwd, differs))
    })
    .as_ref()
}

/// Sets this process's `PWD` to what dash would export here, so that every
/// command inherits the environment the shell would give it unchanged:
/// starting a process with a changed environment copies the whole of it
/// (~5% of a large build's own CPU). Call after the last `chdir`, while
/// the process has one thread (the environment is not locked).
pub fn export_pwd() {
    let pwd = logical_cwd();
    if std::env::var_os("PWD").as_ref() != Some(&pwd) {
        std::env::set_var("PWD", pwd);
    }
}

/// The inherited `PWD` when it is absolute and names the working directory
/// (a path through a symlink stays as the user sees it), else the physical
/// working directory.
fn logical_cwd() -> OsString {
    use std::os::unix::fs::MetadataExt;
    let cwd = std::env::current_dir().unwrap_or_default();
    let same = |p: &Path| {
        let (a, b) = (std::fs::metadata(p), std::fs::metadata("."));
        matches!((a, b), (Ok(a), Ok(b)) if a.dev() == b.dev() && a.ino() == b.ino())
    };
    match std::env::var_os("PWD") {
        Some(p) if Path::new(&p).is_absolute() && same(Path::new(&p)) => p,
        _ => cwd.into_os_string(),
    }
}

/// A program's words (of `Line::Programs`) as a command, run in `dir`
/// when the list went there with `cd` (then with `PWD` and `OLDPWD` as
/// dash exports them after it).
pub fn command<S: AsRef<OsStr>>(words: &[S], dir: Option<&Path>) -> Option<Command> {
    let (pwd, differs) = pwd()?;
    let mut cmd = Command::new(words.first()?);
    cmd.args(&words[1..]);
    if let Some(dir) = dir {
        cmd.current_dir(dir).env("PWD", dir).env("OLDPWD", pwd);
    } else if *differs {
        cmd.env("PWD", pwd);
    }
    crate::process::add_command_env(&mut cmd);
    Some(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line's one program.
    fn program(text: &str) -> Option<Vec<&str>> {
        match line(text)? {
            Line::Programs(Programs { cd: None, mut list }) if list.len() == 1 => list.pop(),
            _ => None,
        }
    }

    #[test]
    fn plain_lines_are_their_words() {
        assert_eq!(
            program("cc  -DX=1 -Iinc\t-c a.c -o out/a.o"),
            Some(vec!["cc", "-DX=1", "-Iinc", "-c", "a.c", "-o", "out/a.o"])
        );
        assert_eq!(
            program("/usr/bin/ar qc lib@1.a x%y.o +z,w:v.o ünï.o"),
            Some(vec![
                "/usr/bin/ar",
                "qc",
                "lib@1.a",
                "x%y.o",
                "+z,w:v.o",
                "ünï.o"
            ])
        );
        for list in [
            ": && cc -o app a.o && :",
            "true && cc -o app a.o",
            "cc -o app a.o && :",
        ] {
            assert_eq!(
                program(list),
                Some(vec!["cc", "-o", "app", "a.o"]),
                "{list}"
            );
        }
    }

    #[test]
    fn a_list_may_start_in_another_directory() {
        let here = PathBuf::from(&pwd().unwrap().0);
        for (dir, to) in [
            ("sub/../x/./y/", here.join("x/y")),
            ("/usr//share/../lib", PathBuf::from("/usr/lib")),
            ("..", here.parent().unwrap_or(&here).to_path_buf()),
        ] {
            let text = format!("cd {dir} && cc -c a.c && :");
            let want = Programs {
                cd: Some((dir, to)),
                list: vec![vec!["cc", "-c", "a.c"]],
            };
            assert_eq!(line(&text), Some(Line::Programs(want)), "{text}");
        }
    }

    #[test]
    fn a_list_of_programs_runs_each() {
        assert_eq!(
            line(": && cmake -E rm -f l.a && ar qc l.a a.o && : && ranlib l.a && :"),
            Some(Line::Programs(Programs {
                cd: None,
                list: vec![
                    vec!["cmake", "-E", "rm", "-f", "l.a"],
                    vec!["ar", "qc", "l.a", "a.o"],
                    vec!["ranlib", "l.a"],
                ]
            }))
        );
    }

    #[test]
    fn builtins_that_write_files_are_steps() {
        let step = |words: Vec<&'static str>, to| Step { words, to };
        assert_eq!(
            line(": cc -c a.c && echo a.o: a.c > a.o.d && : >a.o"),
            Some(Line::Builtins(vec![
                step(vec![":", "cc", "-c", "a.c"], None),
                step(vec!["echo", "a.o:", "a.c"], Some("a.o.d")),
                step(vec![":"], Some("a.o")),
            ]))
        );
        assert_eq!(
            line("echo hi"),
            Some(Line::Builtins(vec![step(vec!["echo", "hi"], None)]))
        );
    }

    #[test]
    fn anything_the_shell_would_act_on_keeps_the_shell() {
        for text in [
            "",
            "  ",
            "cc -c 'a b.c'",
            "cc -c \"a.c\"",
            "cc -c a\\ b.c",
            "cc $CFLAGS -c a.c",
            "cc -c *.c",
            "cc -c a?.c",
            "cc -c [ab].c",
            "cc -c a.c > log",
            "cc -c a.c 2>&1",
            "cc -c a.c; true",
            ": && cc -c a.c > log",
            "cc -c a.c >",
            "&& cc",
            "cc &&",
            "cc && && cc",
            "echo -n hi",
            "echo a > f b",
            "echo a >> f",
            "echo a >&2",
            "echo a >| f",
            "echo a > f > g",
            "> f",
            "echo a\\tb",
            "X=1 :",
            "false && cc",
            "cc && cd sub && cc",
            "cd sub",
            "cd -P sub && cc",
            "cd - && cc",
            "cd //x && cc",
            "cd sub > f && cc",
            "cd a b && cc",
            "cd sub && :",
            "cd sub && echo x > f",
            "cc -c a.c | tee",
            "cc -c ~/a.c",
            "cc -c a.c # note",
            "cc -c {a,b}.c",
            "cc -c `x`",
            "cc -c a.c\ntrue",
            "cc -c a.c\r",
            "CC=gcc make",
            "test -f a",
            "cd sub",
            "exec cc",
            "! cc",
            "( cc )",
        ] {
            assert_eq!(line(text), None, "{text:?}");
        }
    }

    /// What the shell does with a plain line, the direct command does:
    /// same output, same exit status, same environment (`PWD` included).
    #[test]
    fn a_plain_line_runs_as_the_shell_runs_it() {
        if pwd().is_none() {
            return; // this environment needs the shell for everything
        }
        let out = |mut c: Command| {
            let o = c.output().unwrap();
            (o.status.code(), o.stdout, o.stderr)
        };
        for line in [
            "/usr/bin/printf %s-%s a b",
            "env",
            "ls -d / .",
            "/bin/false",
        ] {
            let direct = command(&program(line).expect("a plain line"), None).unwrap();
            let mut shell = Command::new("/bin/sh");
            shell.arg("-c").arg(line);
            let (mut a, mut b) = (out(direct), out(shell));
            if line == "env" {
                let sorted = |o: &[u8]| {
                    let mut v: Vec<String> = String::from_utf8_lossy(o)
                        .lines()
                        .map(String::from)
                        .collect();
                    v.sort();
                    v.join("\n").into_bytes()
                };
                (a.1, b.1) = (sorted(&a.1), sorted(&b.1));
            }
            assert_eq!(a, b, "{line}");
        }
    }
}
