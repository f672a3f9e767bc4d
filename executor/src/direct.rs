//! A command line the shell would only split into words, run without the
//! shell. ninja runs every command as `/bin/sh -c LINE`; starting the shell
//! costs about as much again as starting a small command (a millisecond of
//! CPU here), and for a line like `cc -c a.c -o a.o` it does nothing but
//! split it at blanks and look the program up in `PATH`. GNU make has
//! skipped the shell for such lines for decades; this is a stricter test
//! than make's:
//!
//! - only letters, digits, blanks (space, tab) and `%+,-./:@_` — plus `=`
//!   past the first word (the first would be an assignment) and bytes
//!   past ASCII: no quoting, expansion, globbing, redirection, operator,
//!   comment, tilde or brace;
//! - a first word that is no shell keyword or builtin (dash's and bash's:
//!   `echo` or `test` run as builtins differ from `/bin/echo`);
//! - an environment the shell would pass on unchanged but for `PWD`, which
//!   dash always exports (as inherited when it names the working directory,
//!   else the physical path); with `IFS`, `OPTIND` or `PPID` inherited, or no
//!   `PATH`, every command goes through the shell.
//!
//! A program that cannot be started directly (not found, not executable, a
//! script without `#!`) is then run by the shell after all, so its message
//! and exit status are the shell's. Ignores everything else about commands.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

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

/// The line's words, when the shell would do nothing else with it.
pub fn words(line: &str) -> Option<Vec<&str>> {
    let words: Vec<&str> = line.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
    let first = *words.first()?;
    let plain = |w: &str| {
        w.bytes()
            .all(|c| c >= 0x80 || c.is_ascii_alphanumeric() || b"%+,-./:@_=".contains(&c))
    };
    let ok =
        words.iter().all(|w| plain(w)) && !first.contains('=') && !SHELL_WORDS.contains(&first);
    ok.then_some(words)
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

/// The line as a command without the shell, if it can be one.
pub fn command(line: &str) -> Option<Command> {
    let (pwd, differs) = pwd()?;
    let words = words(line)?;
    let mut cmd = Command::new(words[0]);
    cmd.args(&words[1..]);
    if *differs {
        cmd.env("PWD", pwd);
    }
    crate::process::add_command_env(&mut cmd);
    Some(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_are_their_words() {
        assert_eq!(
            words("cc  -DX=1 -Iinc\t-c a.c -o out/a.o"),
            Some(vec!["cc", "-DX=1", "-Iinc", "-c", "a.c", "-o", "out/a.o"])
        );
        assert_eq!(
            words("/usr/bin/ar qc lib@1.a x%y.o +z,w:v.o ünï.o"),
            Some(vec![
                "/usr/bin/ar",
                "qc",
                "lib@1.a",
                "x%y.o",
                "+z,w:v.o",
                "ünï.o"
            ])
        );
    }

    #[test]
    fn anything_the_shell_would_act_on_keeps_the_shell() {
        for line in [
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
            "cc -c a.c && true",
            "cc -c a.c | tee",
            "cc -c ~/a.c",
            "cc -c a.c # note",
            "cc -c {a,b}.c",
            "cc -c `x`",
            "cc -c a.c\ntrue",
            "cc -c a.c\r",
            "CC=gcc make",
            "echo hi",
            "test -f a",
            "cd sub",
            "exec cc",
            "true",
            ": && cc -o app a.o && :",
            "! cc",
            "( cc )",
        ] {
            assert_eq!(words(line), None, "{line:?}");
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
            let direct = command(line).expect("a plain line");
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
