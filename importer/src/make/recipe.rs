//! A make recipe as one shell command, run the way make runs it.
//!
//! make runs each recipe line in a shell of its own (`$(SHELL)
//! $(.SHELLFLAGS) line`), stops at the first line that fails unless it
//! starts with `-`, and does not echo lines starting with `@`. An edge of
//! the graph runs one `/bin/sh -c` command, so the lines are joined with
//! `&&`; a line that could change the shell's state for the next (`cd`,
//! `export`, an assignment, ...) or that holds a comment runs in a
//! subshell, so that no line sees another's state, exactly as under make.
//! A `SHELL` other than `/bin/sh -c` runs each line through itself.
//! Echoing is the status line's business: `@` changes nothing.

use super::parse::ends_in_backslash;

/// One expanded recipe line, its prefixes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    /// `-`: a failure is ignored. (`@` and `+` change nothing here: the
    /// status line shows every command, and `-n` runs none.)
    pub ignore_error: bool,
}

/// Splits the prefixes off an expanded line (any mix of `@-+` and blanks).
pub fn line(expanded: &str) -> Line {
    let rest = expanded.trim_start_matches(['@', '-', '+', ' ', '\t']);
    let prefixes = &expanded[..expanded.len() - rest.len()];
    Line {
        text: rest.to_string(),
        ignore_error: prefixes.contains('-'),
    }
}

/// An expanded recipe line cut at its newlines, as make cuts it: a newline
/// after a backslash continues the line instead.
pub fn split_lines(expanded: &str) -> Vec<&str> {
    let bytes = expanded.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && !ends_in_backslash(&expanded[start..i]) {
            out.push(&expanded[start..i]);
            start = i + 1;
        }
    }
    out.push(&expanded[start..]);
    out
}

/// A raw recipe line with each backslash-newline inside a `$(...)` or
/// `${...}` reference, and the blanks around it, made one space, as make
/// does before expanding a line: functions must not see the continuations
/// (a backslash-newline outside references reaches the shell).
pub fn join_in_references(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        out.push(c);
        i += 1;
        if c != '$' || !matches!(chars.get(i), Some('(' | '{')) {
            continue;
        }
        let open = chars[i];
        let close = if open == '(' { ')' } else { '}' };
        out.push(open);
        i += 1;
        let inside = out.len();
        let mut depth = 0usize;
        while i < chars.len() && !(chars[i] == close && depth == 0) {
            let continuation = chars[i] == '\\' && chars.get(i + 1) == Some(&'\n');
            let escaped = chars[..i].iter().rev().take_while(|&&b| b == '\\').count() % 2 == 1;
            if continuation && !escaped {
                i += 2;
                while matches!(chars.get(i), Some(' ' | '\t')) {
                    i += 1;
                }
                while out.len() > inside && out.ends_with([' ', '\t']) {
                    out.pop();
                }
                out.push(' ');
                continue;
            }
            depth += usize::from(chars[i] == open);
            depth -= usize::from(chars[i] == close);
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// A line continued with backslash-newlines loses the recipe prefix that
/// starts each continuation, as POSIX asks (the backslash-newline stays:
/// the shell removes it, or keeps it inside single quotes).
pub fn continued(text: &str, prefix: char) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_newline = false;
    for c in text.chars() {
        if !(after_newline && c == prefix) {
            out.push(c);
        }
        after_newline = c == '\n';
    }
    out
}

/// make's shell for a recipe: `SHELL` and `.SHELLFLAGS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shell {
    pub program: String,
    pub flags: String,
}

impl Shell {
    fn is_default(&self) -> bool {
        self.program == "/bin/sh" && self.flags == "-c"
    }
}

/// The lines as one command for `/bin/sh -c`; `oneshell` for `.ONESHELL`.
pub fn command(lines: &[Line], shell: &Shell, oneshell: bool) -> String {
    let lines: Vec<&Line> = lines.iter().filter(|l| !l.text.trim().is_empty()).collect();
    if oneshell {
        let script = lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        return through(shell, &script);
    }
    if !shell.is_default() {
        let parts: Vec<String> = lines
            .iter()
            .map(|l| with_error_rule(&through(shell, &l.text), l.ignore_error, false))
            .collect();
        return parts.join(" && ");
    }
    if let [only] = lines.as_slice() {
        if !only.ignore_error {
            return only.text.clone();
        }
    }
    let many = lines.len() > 1;
    lines
        .iter()
        .map(|l| with_error_rule(&l.text, l.ignore_error, many && needs_subshell(&l.text)))
        .collect::<Vec<_>>()
        .join(" && ")
}

/// make's double-colon rules of one target as one command: each rule runs
/// when the target is missing or one of its own prerequisites is newer
/// (or missing: just made), as decided before any of them runs; a rule
/// without prerequisites always runs. `rules`: each one's prerequisites
/// and command.
pub fn double_colon(target: &str, rules: &[(Vec<String>, String)]) -> String {
    let t = quote(target);
    let mut decide = String::new();
    let mut run = Vec::new();
    for (i, (prereqs, command)) in rules.iter().enumerate() {
        if prereqs.is_empty() {
            run.push(format!("{{ {command}\n}}"));
            continue;
        }
        let mut test = format!("[ ! -e {t} ]");
        for p in prereqs.iter().map(|p| quote(p)) {
            test.push_str(&format!(" || [ ! -e {p} ] || [ {p} -nt {t} ]"));
        }
        decide.push_str(&format!(
            "ggninja_rule{i}=; if {test}; then ggninja_rule{i}=1; fi\n"
        ));
        run.push(format!(
            "{{ [ -z \"$ggninja_rule{i}\" ] || {{ {command}\n}}; }}"
        ));
    }
    format!("(\n{decide}{}\n)", run.join(" && "))
}

/// A line ready to join: in a subshell when it must be, `|| true` when its
/// failure is ignored.
fn with_error_rule(text: &str, ignore_error: bool, subshell: bool) -> String {
    match (ignore_error, subshell || text.contains('#')) {
        (false, false) => text.to_string(),
        (false, true) => format!("(\n{text}\n)"),
        (true, _) => format!("{{ (\n{text}\n) || true; }}"),
    }
}

/// `SHELL FLAGS 'text'`, quoted for `/bin/sh`.
fn through(shell: &Shell, text: &str) -> String {
    if shell.is_default() {
        return text.to_string();
    }
    format!(
        "{} {} {}",
        program(&shell.program),
        shell.flags,
        quote(text)
    )
}

/// make splits `SHELL` into words (`SHELL := echo hi`), as `/bin/sh` does
/// unquoted text; one holding what `/bin/sh` would read otherwise stays one
/// word.
fn program(shell: &str) -> String {
    if shell.contains([
        ';', '&', '|', '<', '>', '(', ')', '$', '`', '\\', '*', '?', '[', '#',
    ]) {
        quote(shell)
    } else {
        shell.to_string()
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Builtins and constructs whose effect outlives their line in one shell.
const STATEFUL: &[&str] = &[
    "cd", "pushd", "popd", "export", "unset", "set", "exec", "exit", "trap", "umask", "alias",
    "unalias", ".", "source", "shift", "readonly", "local", "eval", "ulimit", "return", "read",
    "getopts", "hash", "wait", "declare", "typeset",
];

/// Could running `text` in the joined shell change what a later line sees?
fn needs_subshell(text: &str) -> bool {
    let words = text.split(|c: char| c.is_whitespace() || ";&|(){}`".contains(c));
    let mut at_command = true;
    for w in words.filter(|w| !w.is_empty()) {
        if STATEFUL.contains(&w) || w.contains('$') && w.contains('=') {
            return true;
        }
        if at_command && is_assignment(w) {
            return true;
        }
        at_command = false;
    }
    text.contains('\n')
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh() -> Shell {
        Shell {
            program: "/bin/sh".into(),
            flags: "-c".into(),
        }
    }

    #[test]
    fn prefixes_and_joining() {
        let l = line("@-  echo hi");
        assert!(l.ignore_error && !line("@echo hi").ignore_error);
        assert_eq!(l.text, "echo hi");
        let lines = [line("gcc -c a.c"), line("@echo done")];
        assert_eq!(command(&lines, &sh(), false), "gcc -c a.c && echo done");
        let lines = [line("cd sub && ls"), line("pwd")];
        assert_eq!(command(&lines, &sh(), false), "(\ncd sub && ls\n) && pwd");
        let lines = [line("-rm x"), line("touch y # note")];
        assert_eq!(
            command(&lines, &sh(), false),
            "{ (\nrm x\n) || true; } && (\ntouch y # note\n)"
        );
    }

    #[test]
    fn ignored_lines_are_what_the_footprint_reads_as_such() {
        use ggninja_syntax::shell::{split_steps, Step};
        let lines = [
            line("-@mkdir objs 2>/dev/null || test -d objs"),
            line("cc -c a.c"),
        ];
        let steps = split_steps(&command(&lines, &sh(), false)).unwrap();
        let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let ignored = Step::Ignored(vec![words("mkdir objs"), words("test -d objs")]);
        assert_eq!(steps, [ignored, Step::Run(words("cc -c a.c"))]);
    }

    #[test]
    fn double_colon_rules_run_on_their_own_prerequisites() {
        let dir = tempfile::tempdir().unwrap();
        let at = |f: &str| dir.path().join(f);
        std::fs::write(at("t"), "").unwrap();
        std::fs::write(at("old"), "").unwrap();
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        let file = std::fs::File::options()
            .write(true)
            .open(at("old"))
            .unwrap();
        file.set_modified(past).unwrap();
        let rules = [
            (vec!["old".to_string()], "echo old >> log".to_string()),
            (
                vec!["missing".to_string()],
                "echo missing >> log # made".to_string(),
            ),
            (Vec::new(), "echo always >> log".to_string()),
        ];
        let command = format!(
            "cd {} && {}",
            dir.path().display(),
            double_colon("t", &rules)
        );
        assert_eq!(run(&command), 0, "{command}");
        let log = std::fs::read_to_string(at("log")).unwrap();
        assert_eq!(log, "missing\nalways\n");
    }

    #[test]
    fn continuations_inside_references_become_one_space() {
        let raw = "@$(call f,\"a \\\n            b\"); \\\n\techo ${x \\\\\ny}";
        let want = "@$(call f,\"a b\"); \\\n\techo ${x \\\\\ny}";
        assert_eq!(join_in_references(raw), want);
    }

    #[test]
    fn continuations_lose_one_recipe_prefix() {
        assert_eq!(continued("echo 'a\\\n\t\tb'", '\t'), "echo 'a\\\n\tb'");
        assert_eq!(continued("a\\\n>b", '>'), "a\\\nb");
    }

    #[test]
    fn joined_lines_keep_make_semantics() {
        // Each case runs under make's rules (one shell per line) and joined.
        let cases: &[&[&str]] = &[
            &["X=1", "test -z \"$X\""],
            &["cd /", "test \"$(pwd)\" != /"],
            &["-false", "true"],
            &["false; true", "true"],
            &["exit 3", "true"],
            &["echo a # c", "true"],
        ];
        for lines in cases {
            let parsed: Vec<Line> = lines.iter().map(|l| line(l)).collect();
            let joined = command(&parsed, &sh(), false);
            let mut expected = 0;
            for l in &parsed {
                let s = run(&l.text);
                if s != 0 && !l.ignore_error {
                    expected = s;
                    break;
                }
            }
            assert_eq!(run(&joined), expected, "{joined}");
        }
    }

    fn run(cmd: &str) -> i32 {
        std::process::Command::new("/bin/sh")
            .args(["-c", cmd])
            .status()
            .unwrap()
            .code()
            .unwrap()
    }
}
