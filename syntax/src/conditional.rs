//! A make recipe line of several lines that is one `if`, as `ggninja
//! --make` joins it into a recipe's one command: `(\nLINE\n)`
//! (importer/src/make/recipe.rs). Old Makefiles run ranlib where there is
//! one (bzip2's):
//!
//! ```sh
//! if ( test -f ranlib || test -f /usr/bin/ranlib || \
//!     test -f /bin/ranlib ) ; then \
//!     echo ranlib libbz2.a ; \
//!     ranlib libbz2.a ; \
//! fi
//! ```
//!
//! Read here: `if TESTS ; then COMMAND ; ... fi`, where TESTS is commands
//! joined by `||` (in a `( ... )` or not) and each COMMAND is plain words;
//! `;` or a new line between them. Ignores what the commands are; `else`,
//! `elif`, `&&`, pipelines, redirections and every other construct are
//! refused with the reason.

/// How the importer opens and closes a line of several lines.
pub const OPEN: &str = "(\n";
pub const CLOSE: &str = "\n)";

/// The `if` of one recipe line: it runs `then` when one of `tests`
/// succeeds (they run in order until one does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct If {
    pub tests: Vec<Vec<String>>,
    pub then: Vec<Vec<String>>,
}

/// The `if` that `line` (the text between [`OPEN`] and [`CLOSE`]) is.
pub fn parse(line: &str) -> Result<If, String> {
    // The shell drops a backslash and the newline after it.
    let line = line.replace("\\\n", " ");
    let tokens = tokens(&line)?;
    let mut at = Cursor { tokens, at: 0 };
    at.keyword("if")?;
    let tests = at.tests()?;
    at.separator()?;
    at.keyword("then")?;
    let mut then = Vec::new();
    at.skip_separators();
    while !at.peek_keyword("fi") {
        then.push(at.command()?);
        at.separator()?;
    }
    at.keyword("fi")?;
    match at.tokens.get(at.at) {
        None if !then.is_empty() => Ok(If { tests, then }),
        None => Err("an `if` with nothing to do".into()),
        Some(_) => Err("text after `fi`".into()),
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Or,
    /// `;` or a new line.
    Separator,
    Word(String),
}

/// The line cut into words and operators; a quote, a backslash, `&`, `|`
/// alone, `<`, `>`, `$`, a backquote, a pattern, `#` or a leading `~` is
/// refused, so each word is what the shell passes on.
fn tokens(line: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            '(' => Token::Open,
            ')' => Token::Close,
            ';' | '\n' => Token::Separator,
            '|' if chars.peek() == Some(&'|') => {
                chars.next();
                Token::Or
            }
            ' ' | '\t' => {
                flush(&mut word, &mut out);
                continue;
            }
            '\'' | '"' | '\\' | '&' | '|' | '<' | '>' | '$' | '`' | '*' | '?' | '[' | '#' => {
                return Err(format!("`{c}` in an `if` recipe line"))
            }
            '~' if word.is_empty() => return Err("`~` in an `if` recipe line".into()),
            _ => {
                word.push(c);
                continue;
            }
        };
        flush(&mut word, &mut out);
        out.push(token);
    }
    flush(&mut word, &mut out);
    Ok(out)
}

fn flush(word: &mut String, out: &mut Vec<Token>) {
    if !word.is_empty() {
        out.push(Token::Word(std::mem::take(word)));
    }
}

struct Cursor {
    tokens: Vec<Token>,
    at: usize,
}

impl Cursor {
    fn peek_keyword(&self, k: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w == k)
    }

    fn keyword(&mut self, k: &str) -> Result<(), String> {
        if !self.peek_keyword(k) {
            return Err(format!("no `{k}` where the `if` needs one"));
        }
        self.at += 1;
        Ok(())
    }

    fn skip_separators(&mut self) {
        while self.tokens.get(self.at) == Some(&Token::Separator) {
            self.at += 1;
        }
    }

    /// One or more `;` or new lines.
    fn separator(&mut self) -> Result<(), String> {
        let start = self.at;
        self.skip_separators();
        match self.at > start {
            true => Ok(()),
            false => Err("no `;` or new line where the `if` needs one".into()),
        }
    }

    /// `T || T ...`, or the same in `( ... )`.
    fn tests(&mut self) -> Result<Vec<Vec<String>>, String> {
        let grouped = self.tokens.get(self.at) == Some(&Token::Open);
        self.at += usize::from(grouped);
        let mut tests = vec![self.command()?];
        while self.tokens.get(self.at) == Some(&Token::Or) {
            self.at += 1;
            tests.push(self.command()?);
        }
        if grouped {
            if self.tokens.get(self.at) != Some(&Token::Close) {
                return Err("unbalanced subshell in an `if`".into());
            }
            self.at += 1;
        }
        Ok(tests)
    }

    /// The words up to the next operator, as one command.
    fn command(&mut self) -> Result<Vec<String>, String> {
        let mut words = Vec::new();
        while let Some(Token::Word(w)) = self.tokens.get(self.at) {
            words.push(w.clone());
            self.at += 1;
        }
        match words.first().map(String::as_str) {
            None | Some("if" | "then" | "else" | "elif" | "fi") => {
                Err("a command missing in an `if`".into())
            }
            Some(_) => Ok(words),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn bzip2s_ranlib_line() {
        let line = "if ( test -f ranlib || test -f /usr/bin/ranlib || \\\n\
                    \ttest -f /bin/ranlib || test -f /usr/ccs/bin/ranlib ) ; then \\\n\
                    \techo ranlib libbz2.a ; \\\n\tranlib libbz2.a ; \\\nfi";
        let got = parse(line).unwrap();
        let tests = [
            "ranlib",
            "/usr/bin/ranlib",
            "/bin/ranlib",
            "/usr/ccs/bin/ranlib",
        ];
        let tests: Vec<_> = tests
            .iter()
            .map(|p| words(&format!("test -f {p}")))
            .collect();
        assert_eq!(got.tests, tests);
        assert_eq!(
            got.then,
            [words("echo ranlib libbz2.a"), words("ranlib libbz2.a")]
        );
        let plain = parse("if test -d objs\nthen\n  rm -f x\nfi").unwrap();
        assert_eq!(plain.tests, [words("test -d objs")]);
        assert_eq!(plain.then, [words("rm -f x")]);
    }

    #[test]
    fn anything_else_is_refused() {
        for line in [
            "if test -f a; then rm b; else rm c; fi",
            "if test -f a && test -f b; then rm c; fi",
            "if test -f a; then rm b; fi; rm c",
            "if test -f a; then fi",
            "if test -f a then rm b; fi",
            "if ( test -f a; then rm b; fi",
            "if test -f \"a\"; then rm b; fi",
            "if test -f $A; then rm b; fi",
            "if test -f a; then rm b > c; fi",
            "if test -f a; then rm b | cat; fi",
            "if test -f a; then rm *.o; fi",
            "if test -f ~/a; then rm b; fi",
            "if test -f a; then rm b && rm c; fi",
            "if test -f a; then rm b",
            "rm b",
            "",
        ] {
            assert!(parse(line).is_err(), "{line:?} accepted");
        }
    }
}
