//! POSIX shell word splitting (the subset a build command may use without
//! needing a real shell) and GCC-style response-file splitting.

use crate::{conditional, ignored};

/// One command of an `A && B && ...` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A command's words.
    Run(Vec<String>),
    /// A make recipe line whose failure is ignored, as `ggninja --make`
    /// writes it (see [`ignored`]): the commands it may run.
    Ignored(Vec<Vec<String>>),
    /// A make recipe line of several lines that is one `if` (see
    /// [`conditional`]).
    If(conditional::If),
    /// A command some of whose words the shell expands as file name
    /// patterns (`ar rcs lib.a *.o`): its words, a pattern as written
    /// (unquoted, `*` and `?` only), and which words are patterns.
    Globbed {
        words: Vec<String>,
        patterns: Vec<usize>,
    },
}

/// Splits `command` into words following POSIX `sh` quoting rules: single
/// quotes, double quotes and backslash escapes.
///
/// Anything that needs a real shell to mean what it says is refused with the
/// reason why: operators (`&&`, `||`, `;`, `|`, `&`), redirections (`<`, `>`),
/// subshells, parameter expansion (`$`), command substitution (`` ` ``, `$(`),
/// globs (`*`, `?`, `[`), tilde expansion, comments and newlines.
pub fn split_command(command: &str) -> Result<Vec<String>, String> {
    let mut list = split_list(command)?;
    if list.len() > 1 {
        return Err("shell operator (& or &&)".into());
    }
    let words = list.pop().unwrap_or_default();
    check_simple(&words)?;
    Ok(words)
}

/// The words of each command of an `A && B && ...` list, each as
/// [`split_command`] splits one command, but neither checked for builtins
/// nor for a leading assignment (see [`check_simple`]): a list may `cd`.
pub fn split_list(command: &str) -> Result<Vec<Vec<String>>, String> {
    let steps = split(command, false)?;
    let words = steps.into_iter().map(|s| match s {
        Step::Run(words) => words,
        Step::Ignored(_) | Step::If(_) | Step::Globbed { .. } => unreachable!("refused"),
    });
    Ok(words.collect())
}

/// The steps of an `A && B && ...` list as [`split_list`] splits them, but
/// where a step may also be an ignored make recipe line (`{ (\nLINE\n) ||
/// true; }`, nothing else in braces or parentheses) or hold file name
/// patterns ([`Step::Globbed`]).
pub fn split_steps(command: &str) -> Result<Vec<Step>, String> {
    split(command, true)
}

/// The words of one step as they are read.
#[derive(Default)]
struct Words {
    words: Vec<String>,
    cur: String,
    in_word: bool,
    /// The current word holds quoting (then no pattern), or a pattern.
    quoted: bool,
    glob: bool,
    patterns: Vec<usize>,
}

impl Words {
    fn end_word(&mut self) -> Result<(), String> {
        if self.in_word {
            if self.glob && self.quoted {
                return Err("glob pattern with quoting".into());
            }
            if self.glob {
                self.patterns.push(self.words.len());
            }
            self.words.push(std::mem::take(&mut self.cur));
        }
        (self.in_word, self.quoted, self.glob) = (false, false, false);
        Ok(())
    }

    /// The step read, if any words were.
    fn end_step(&mut self) -> Result<Option<Step>, String> {
        self.end_word()?;
        if self.words.is_empty() {
            return Ok(None);
        }
        let words = std::mem::take(&mut self.words);
        Ok(Some(match std::mem::take(&mut self.patterns) {
            p if p.is_empty() => Step::Run(words),
            patterns => Step::Globbed { words, patterns },
        }))
    }
}

/// The steps of `command`; ignored recipe lines and patterns only if
/// `groups`.
fn split(command: &str, groups: bool) -> Result<Vec<Step>, String> {
    // Bytes, not chars: every special character is ASCII, and runs of
    // ordinary ones are copied at once (this runs for every edge).
    let b = command.as_bytes();
    let mut list = Vec::new();
    let mut w = Words::default();
    // An ignored line just ended this step: only `&&` or the end may follow.
    let mut group_ended = false;
    let mut i = 0;
    // The char at byte `at` (a backslash may escape a multi-byte one).
    let char_at = |at: usize| command[at..].chars().next();
    while i < b.len() {
        let c = b[i];
        i += 1;
        if group_ended && !matches!(c, b' ' | b'\t' | b'&') {
            return Err("text after an ignored recipe line".into());
        }
        match c {
            b'{' if groups && !w.in_word && w.words.is_empty() => {
                let (commands, len) = ignored_line(&command[i - 1..])?;
                list.push(Step::Ignored(commands));
                group_ended = true;
                i += len - 1;
            }
            b'(' if groups && !w.in_word && w.words.is_empty() && b.get(i) == Some(&b'\n') => {
                let (line, len) = if_line(&command[i - 1..])?;
                list.push(Step::If(line));
                group_ended = true;
                i += len - 1;
            }
            b' ' | b'\t' => w.end_word()?,
            b'\n' => return Err("multiple commands (newline)".into()),
            b'\'' => {
                (w.in_word, w.quoted) = (true, true);
                let Some(len) = b[i..].iter().position(|&x| x == b'\'') else {
                    return Err("unterminated single quote".into());
                };
                w.cur.push_str(&command[i..i + len]);
                i += len + 1;
            }
            b'"' => {
                (w.in_word, w.quoted) = (true, true);
                loop {
                    let run = b[i..]
                        .iter()
                        .position(|x| matches!(x, b'"' | b'\\' | b'$' | b'`'))
                        .unwrap_or(b.len() - i);
                    w.cur.push_str(&command[i..i + run]);
                    i += run;
                    match b.get(i) {
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            i += 1;
                            match char_at(i) {
                                Some(ch @ ('"' | '\\' | '$' | '`')) => w.cur.push(ch),
                                Some('\n') => {}
                                Some(ch) => {
                                    w.cur.push('\\');
                                    w.cur.push(ch);
                                }
                                None => return Err("unterminated double quote".into()),
                            }
                            i += char_at(i).map_or(0, char::len_utf8);
                        }
                        Some(b'$') => return Err("shell expansion ($)".into()),
                        Some(b'`') => return Err("command substitution (`)".into()),
                        _ => return Err("unterminated double quote".into()),
                    }
                }
            }
            b'\\' => match char_at(i) {
                Some('\n') => i += 1,
                Some(ch) => {
                    (w.in_word, w.quoted) = (true, true);
                    w.cur.push(ch);
                    i += ch.len_utf8();
                }
                None => return Err("trailing backslash".into()),
            },
            b'|' => return Err("shell pipeline (|)".into()),
            b'&' if b.get(i) == Some(&b'&') => {
                i += 1;
                match w.end_step()? {
                    Some(step) => list.push(step),
                    None if !std::mem::take(&mut group_ended) => return Err("empty command".into()),
                    None => {}
                }
            }
            b'&' => return Err("background job (&)".into()),
            b';' => return Err("command list (;)".into()),
            b'<' | b'>' => return Err("redirection".into()),
            b'(' | b')' => return Err("subshell".into()),
            b'$' => {
                if b.get(i) == Some(&b'(') {
                    return Err("command substitution ($()".into());
                }
                return Err("shell expansion ($)".into());
            }
            b'`' => return Err("command substitution (`)".into()),
            b'*' | b'?' if groups => {
                (w.in_word, w.glob) = (true, true);
                w.cur.push(c as char);
            }
            b'*' | b'?' | b'[' => return Err("glob pattern".into()),
            b'#' if !w.in_word => return Err("shell comment".into()),
            b'~' if !w.in_word => return Err("tilde expansion".into()),
            _ => {
                // A run of ordinary bytes (`#` and `~` are ordinary inside
                // a word).
                w.in_word = true;
                let start = i - 1;
                while i < b.len() && !is_special(b[i]) {
                    i += 1;
                }
                w.cur.push_str(&command[start..i]);
            }
        }
    }
    match w.end_step()? {
        Some(step) => list.push(step),
        None if !group_ended => return Err("empty command".into()),
        None => {}
    }
    Ok(list)
}

/// The ignored recipe line `text` starts with, and its length; any other
/// use of braces is refused.
fn ignored_line(text: &str) -> Result<(Vec<Vec<String>>, usize), String> {
    let refused = || "shell group ({)".to_string();
    let inner = text.strip_prefix(ignored::OPEN).ok_or_else(refused)?;
    // The line holds no newline, so the first close is its own.
    let end = inner.find(ignored::CLOSE).ok_or_else(refused)?;
    let commands = (ignored::commands(&inner[..end])?.into_iter())
        .map(|text| match &mut split_list(text)?[..] {
            [words] => Ok(std::mem::take(words)),
            _ => Err("shell operator (&&) in an ignored line".to_string()),
        })
        .collect::<Result<_, String>>()?;
    Ok((commands, ignored::OPEN.len() + end + ignored::CLOSE.len()))
}

/// The `if` line `text` starts with, and its length: up to the first new
/// line not continued by a backslash that a `)` follows.
fn if_line(text: &str) -> Result<(conditional::If, usize), String> {
    let inner = &text[conditional::OPEN.len()..];
    let b = inner.as_bytes();
    let end = (0..b.len())
        .find(|&i| b[i] == b'\n' && b.get(i + 1) == Some(&b')') && (i == 0 || b[i - 1] != b'\\'))
        .ok_or_else(|| "subshell".to_string())?;
    let line = conditional::parse(&inner[..end])?;
    Ok((
        line,
        conditional::OPEN.len() + end + conditional::CLOSE.len(),
    ))
}

/// Refuses a command whose first word is not a program: an environment
/// assignment, or a shell keyword or builtin that changes how the rest runs.
pub fn check_simple(words: &[String]) -> Result<(), String> {
    let Some(w0) = words.first() else {
        return Err("empty command".into());
    };
    // A leading `NAME=value` is an environment assignment, not the program.
    if let Some(eq) = w0.find('=') {
        let name = &w0[..eq];
        if !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err("environment assignment before the command".into());
        }
    }
    // Shell keywords and builtins that change how the rest is run.
    if matches!(
        w0.as_str(),
        "cd" | "exec"
            | "eval"
            | "export"
            | "set"
            | "."
            | "source"
            | "if"
            | "for"
            | "while"
            | "case"
            | "{"
            | "!"
            | "time"
            | "exit"
    ) {
        return Err(format!("shell builtin `{w0}`"));
    }
    Ok(())
}

/// Bytes with a meaning to the shell outside quotes.
fn is_special(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t'
            | b'\n'
            | b'\''
            | b'"'
            | b'\\'
            | b'|'
            | b'&'
            | b';'
            | b'<'
            | b'>'
            | b'('
            | b')'
            | b'$'
            | b'`'
            | b'*'
            | b'?'
            | b'['
    )
}

/// Splits the contents of a GCC `@response` file: words separated by
/// whitespace; single and double quotes group; a backslash escapes any
/// character.
pub fn split_response_file(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn ignored_recipe_lines_are_steps() {
        let zlib = "{ (\nmkdir objs 2>/dev/null || test -d objs\n) || true; } && \
                    cc -c -o objs/a.o a.c && { (\nmv objs/a.o a.lo\n) || true; }";
        let steps = split_steps(zlib).unwrap();
        assert_eq!(
            steps,
            [
                Step::Ignored(vec![words("mkdir objs"), words("test -d objs")]),
                Step::Run(words("cc -c -o objs/a.o a.c")),
                Step::Ignored(vec![words("mv objs/a.o a.lo")]),
            ]
        );
        // Only as steps of their own, and only where asked for.
        assert!(split_list(zlib).is_err());
        for bad in [
            "{ (\nrm x\n) || true; } cc",
            "{ (\nrm x\n) || true; }; cc",
            "{ (\nrm x\n) && true; }",
            "{ rm x; }",
            "{ (\nrm x\n) || true; } & cc",
            "cc && { (\nrm x\nrm y\n) || true; }",
            "{ (\n) || true; }",
            "&& { (\nrm x\n) || true; }",
        ] {
            assert!(split_steps(bad).is_err(), "{bad:?} accepted");
        }
        let plain = split_steps("echo '{' && rm {x}").unwrap();
        assert_eq!(
            plain,
            [Step::Run(words("echo {")), Step::Run(words("rm {x}"))]
        );
    }

    #[test]
    fn unquoted_stars_and_question_marks_are_patterns_of_a_step() {
        let lz4 = "cc -c a.c b.c && ar rcs lib.a *.o 'x*' \\? p?.o";
        assert_eq!(
            split_steps(lz4).unwrap(),
            [
                Step::Run(words("cc -c a.c b.c")),
                Step::Globbed {
                    words: words("ar rcs lib.a *.o x* ? p?.o"),
                    patterns: vec![3, 6],
                },
            ]
        );
        // Elsewhere a pattern still needs the shell; so do brackets and a
        // pattern with quoting in it.
        assert_eq!(split_list("ar rcs lib.a *.o").unwrap_err(), "glob pattern");
        assert_eq!(split_command("rm ?.o").unwrap_err(), "glob pattern");
        for bad in ["rm [ab].o", "rm a[b].o", "rm *'.o'", "rm \\a*"] {
            assert!(split_steps(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn an_if_line_is_a_step() {
        let bzip2 = "rm -f l.a && ar cq l.a a.o && (\nif ( test -f /usr/bin/ranlib ) ; then \\\n\
                     \tranlib l.a ; \\\nfi\n)";
        let steps = split_steps(bzip2).unwrap();
        let line = conditional::If {
            tests: vec![words("test -f /usr/bin/ranlib")],
            then: vec![words("ranlib l.a")],
        };
        assert_eq!(steps[2], Step::If(line));
        assert_eq!(steps.len(), 3);
        assert!(split_list(bzip2).is_err());
        for bad in [
            "(\nif test -f a; then rm b; fi\n) x",
            "(\nrm a; rm b\n)",
            "(\nif test -f a; then rm b; fi",
        ] {
            assert!(split_steps(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn braces_are_words_outside_an_ignored_line() {
        let plain = split_steps("echo '{' && rm {x}").unwrap();
        assert_eq!(
            plain,
            [Step::Run(words("echo {")), Step::Run(words("rm {x}"))]
        );
    }

    #[test]
    fn an_ignored_line_holds_only_what_the_splitter_takes() {
        for line in [
            "rm x; touch y",
            "cat a | gzip",
            "echo hi > out",
            "echo hi 2>err",
            "echo $HOME",
            "a && b",
            "cc -c a.c 2>/dev/nullx",
        ] {
            let list = format!("{}{line}{}", ignored::OPEN, ignored::CLOSE);
            assert!(split_steps(&list).is_err(), "{line:?} accepted");
        }
        let list = format!(
            "{}mkdir d 2>/dev/null || test -d d{}",
            ignored::OPEN,
            ignored::CLOSE
        );
        let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let step = Step::Ignored(vec![words("mkdir d"), words("test -d d")]);
        assert_eq!(split_steps(&list), Ok(vec![step]));
    }
}
